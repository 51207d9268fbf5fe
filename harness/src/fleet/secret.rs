//! `Secret`: a reference to a password held in a file or an environment variable, read at run time.

use std::path::PathBuf;

use crate::error::Error;

/// Where a secret lives; the value itself is never stored in config.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// The first line of a file.
    File(PathBuf),
    /// An environment variable.
    Env(String),
}

impl Secret {
    /// Reads the value now (trailing newline removed).
    pub fn resolve(&self) -> Result<String, Error> {
        let value = match self {
            Secret::File(path) => std::fs::read_to_string(path).map_err(|e| Error::Secret {
                what: path.display().to_string(),
                reason: e.to_string(),
            })?,
            Secret::Env(var) => std::env::var(var).map_err(|e| Error::Secret {
                what: format!("${var}"),
                reason: e.to_string(),
            })?,
        };
        let value = value.trim_end_matches(['\n', '\r']).to_owned();
        if value.is_empty() {
            return Err(Error::Secret {
                what: self.describe(),
                reason: "it is empty".into(),
            });
        }
        Ok(value)
    }

    /// Where the secret is, for messages.
    pub fn describe(&self) -> String {
        match self {
            Secret::File(p) => p.display().to_string(),
            Secret::Env(v) => format!("${v}"),
        }
    }
}
