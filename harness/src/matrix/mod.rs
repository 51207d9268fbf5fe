//! The coverage matrix: TESTING.md regenerated from `results.json`.

mod regenerate;

pub use regenerate::{MatrixError, regenerate};
