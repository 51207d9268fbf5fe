//! Suites: one declarative TOML file per app under `suites/<catalog>/`, saying how to probe it.
//!
//! `wire` is the raw file shape; `model` holds the checked types the planner uses; `load` parses
//! files into them, with file, line and key in every refusal.

mod data_file;
pub mod journey;
mod load;
mod model;
mod wire;

pub use data_file::DataFile;
pub use load::{SuiteError, load_catalog, load_folder};
pub use model::{
    DataProbe, DataRule, FaultControl, Probe, ProxyPrefix, Suite, UiProbe, UiTarget, UpdateSpec,
};

#[cfg(test)]
#[path = "conformance_tests.rs"]
mod conformance_tests;
