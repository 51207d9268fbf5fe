//! The crate's one error type; only `main` turns it into a message and an exit code.

use std::fmt;
use std::io;

/// Everything that can go wrong in the fixture app.
#[derive(Debug)]
pub enum Error {
    /// The command line could not be understood.
    Usage(String),
    /// A system call failed; `action` says what was being done.
    Io { action: String, source: io::Error },
    /// The height file holds something that is not a height.
    CorruptHeight { path: String, value: String },
    /// A call to lab-chain failed (connect, timeout, bad reply).
    Chain(String),
}

impl Error {
    /// Wraps an I/O error with what was being attempted ("bind 0.0.0.0:18443").
    pub fn io(action: impl Into<String>, source: io::Error) -> Self {
        Self::Io {
            action: action.into(),
            source,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Usage(msg) => write!(f, "{msg}"),
            Self::Io { action, source } => write!(f, "failed to {action}: {source}"),
            Self::CorruptHeight { path, value } => {
                write!(
                    f,
                    "failed to read height from {path}: not a number: {value:?}"
                )
            }
            Self::Chain(msg) => write!(f, "{msg}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}
