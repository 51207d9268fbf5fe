//! Suites: one declarative TOML file per app under `suites/<catalog>/`, saying how to probe it.
//!
//! `model` holds the checked types the planner uses; parsing (with file, line and key in every
//! refusal) lives beside it.

mod model;

pub use model::{DataProbe, DataRule, Probe, Suite, UiProbe, UiTarget};
