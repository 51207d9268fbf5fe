//! The coverage matrix: TESTING.md regenerated from `results.json`.
//!
//! `results` reads the run (the reporter's `Results`, checked), `cells` decides each app x check
//! cell, `chaos` and `journey` the L5 and L4 sections, `render` is the pure generator and `scorecard` its owner's-scorecard sections (layer
//! status, checklist, LoC budget), `loc` counts the orchestrator's lines of code (the one input
//! read from the source tree), `markers` keeps hand-written text apart from generated blocks,
//! and `regenerate` is the file-touching shell.

mod cells;
mod chaos;
mod journey;
mod loc;
mod markers;
mod perf;
mod regenerate;
mod render;
mod results;
mod scorecard;

pub use loc::{LocReport, ModuleLoc, count as count_loc};
pub use regenerate::{MatrixError, regenerate};
pub use render::{render, render_with};
