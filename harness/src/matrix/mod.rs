//! The coverage matrix: TESTING.md regenerated from `results.json`.
//!
//! `results` reads the run (the reporter's `Results`, checked), `cells` decides each app x state cell, `render` is the pure
//! generator, `markers` keeps hand-written text apart from generated blocks, and `regenerate` is
//! the file-touching shell.

mod cells;
mod markers;
mod regenerate;
mod render;
mod results;

pub use regenerate::{MatrixError, regenerate};
pub use render::render;
