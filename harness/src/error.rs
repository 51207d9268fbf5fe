//! `Error`: every way a harness command can fail before or around a run (not a case outcome).

use std::path::PathBuf;

/// A harness error; `main` turns it into a message and an exit code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A bad command line or selection (unknown app, node, layer, ...).
    #[error("{0}")]
    Usage(String),
    /// A malformed or inconsistent fleet file.
    #[error("failed to read fleet file {file}, line {line}: {message}")]
    Fleet {
        /// The file.
        file: PathBuf,
        /// 1-based line of the offending key.
        line: usize,
        /// What is wrong, naming the key and value.
        message: String,
    },
    /// A secret could not be read.
    #[error("failed to read secret {what}: {reason}")]
    Secret {
        /// Where it was looked for (file path or variable name, never the value).
        what: String,
        /// Why.
        reason: String,
    },
    /// The suites could not be loaded.
    #[error(transparent)]
    Suite(#[from] crate::suite::SuiteError),
    /// The matrix could not be regenerated.
    #[error(transparent)]
    Matrix(#[from] crate::matrix::MatrixError),
    /// The lab command failed.
    #[error(transparent)]
    Lab(#[from] crate::lab::LabError),
    /// Reports could not be written.
    #[error("failed to write {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl Error {
    /// The exit code this error maps to.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Usage(_) | Error::Fleet { .. } | Error::Suite(_) | Error::Secret { .. } => {
                crate::exit::USAGE
            }
            Error::Matrix(_) | Error::Lab(_) | Error::Io { .. } => crate::exit::INFRASTRUCTURE,
        }
    }
}
