//! The crate's one error type: every failure a caller can see, with a JSON-RPC code for each.

use std::path::PathBuf;

/// Everything that can go wrong in the orchestrator.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file or folder could not be read or written.
    #[error("failed to access {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// A manifest or config file is wrong; names the file, line, key and problem.
    #[error("failed to load {}{}: {key}: {what}", file.display(), line.map(|l| format!(":{l}")).unwrap_or_default())]
    Invalid {
        /// The file holding the bad value.
        file: PathBuf,
        /// The 1-based line, when known.
        line: Option<usize>,
        /// The key (dotted path) that is wrong.
        key: String,
        /// What is wrong with it.
        what: String,
    },
    /// A string is not a valid app id.
    #[error("failed to parse app id {0:?}: must match [a-z0-9][a-z0-9-]{{0,62}}")]
    InvalidAppId(String),
    /// The output of `podman --version` could not be understood.
    #[error("failed to parse podman version {0:?}")]
    PodmanVersion(String),
    /// An external command could not be run or exited non-zero.
    #[error("failed to run `{command}`: {stderr}")]
    Command {
        /// The command line (program and arguments, never secrets).
        command: String,
        /// What it printed on stderr (trimmed).
        stderr: String,
    },
    /// The app is not in the catalog and not installed.
    #[error("failed to find app `{0}`: unknown app")]
    UnknownApp(String),
    /// An app named in `requires` is not installed.
    #[error("failed to install `{app}`: requirement `{missing}` is not installed")]
    RequirementMissing {
        /// The app being installed.
        app: String,
        /// The first missing requirement.
        missing: String,
    },
    /// Installed apps require the app (directly or through others), so it cannot be stopped or
    /// uninstalled alone.
    #[error("failed to {verb} `{app}`: required by {} ({verb} them first or pass cascade: true)", dependents.join(", "))]
    RequiredBy {
        /// `stop` or `uninstall`.
        verb: &'static str,
        /// The app asked for.
        app: String,
        /// The installed dependents in the way, sorted.
        dependents: Vec<String>,
    },
    /// An update did not get healthy (or did not start); the previous unit was put back.
    #[error("failed to update `{app}`: {why}; rolled back to the previous unit")]
    UpdateRolledBack {
        /// The app updated.
        app: String,
        /// What went wrong, e.g. `not healthy within 60s`.
        why: String,
    },
    /// The app is known but not installed.
    #[error("failed to operate on `{0}`: not installed")]
    NotInstalled(String),
    /// The unit file on disk is corrupt; the app is left alone.
    #[error("failed to operate on `{0}`: its unit file is invalid")]
    InvalidUnit(String),
    /// No, an unknown or an expired session, or a wrong password.
    #[error("failed to authorize: no valid session or wrong password")]
    Unauthorized,
    /// Too many login attempts from the client or from everyone; nothing was checked.
    #[error("failed to log in: too many login attempts; retry in {retry_after_secs} s")]
    TooManyLogins {
        /// When the client may try again.
        retry_after_secs: u64,
    },
    /// The configured password hash is malformed.
    #[error("failed to parse password hash: {0}")]
    PasswordHash(String),
    /// A JSON-RPC request's params are missing or of the wrong type.
    #[error("failed to read params: {0}")]
    InvalidParams(String),
    /// A bug or an unexpected condition.
    #[error("failed internally: {0}")]
    Internal(String),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an I/O error with the path it concerns.
    pub fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    /// The JSON-RPC 2.0 error code this error is answered with (README "Lifecycle semantics").
    pub fn rpc_code(&self) -> i64 {
        match self {
            Error::InvalidParams(_) | Error::InvalidAppId(_) => -32602,
            Error::Unauthorized => -32001,
            Error::UnknownApp(_) => -32002,
            Error::RequirementMissing { .. } => -32003,
            Error::NotInstalled(_) | Error::InvalidUnit(_) => -32004,
            Error::RequiredBy { .. } => -32005,
            Error::UpdateRolledBack { .. } => -32006,
            Error::TooManyLogins { .. } => -32007,
            Error::Command { .. } => -32010,
            Error::Io { .. }
            | Error::Invalid { .. }
            | Error::PodmanVersion(_)
            | Error::PasswordHash(_)
            | Error::Internal(_) => -32603,
        }
    }

    /// The JSON-RPC `error.data` this error carries, if any.
    pub fn rpc_data(&self) -> Option<serde_json::Value> {
        match self {
            Error::RequiredBy { dependents, .. } => {
                Some(serde_json::json!({ "dependents": dependents }))
            }
            Error::TooManyLogins { retry_after_secs } => {
                Some(serde_json::json!({ "retry_after_secs": retry_after_secs }))
            }
            _ => None,
        }
    }
}
