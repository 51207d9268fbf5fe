//! Entry point: read a results file, rewrite TESTING.md.

use std::path::Path;

/// Why the matrix could not be regenerated.
#[derive(Debug, thiserror::Error)]
pub enum MatrixError {
    /// Placeholder until the matrix lands.
    #[error("failed to regenerate the matrix: not built yet")]
    NotBuilt,
}

/// Regenerates `testing_md` from `results_json`; returns true when the file changed.
pub fn regenerate(_results_json: &Path, _testing_md: &Path) -> Result<bool, MatrixError> {
    Err(MatrixError::NotBuilt)
}
