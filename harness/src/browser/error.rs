//! `BrowserError`: the browser could not be started or driven, apart from a page that loaded
//! and misbehaved (a `Finding`) or a step whose expectation was not met.

/// Why the browser could not do what a step asked.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    /// Chromium or chromedriver is not installed where Debian puts them.
    #[error(
        "failed to find {path}: install Debian's chromium and chromium-driver (scripts/setup.sh does)"
    )]
    NotInstalled {
        /// The missing program.
        path: &'static str,
    },
    /// chromedriver did not start, or never answered on its port.
    #[error("failed to start chromedriver: {0}")]
    Driver(String),
    /// A WebDriver command failed (no such element, session gone, ...).
    #[error("failed to {what}: {reason}")]
    WebDriver {
        /// The step, in words (`click #app-lab-chain button.stop`).
        what: String,
        /// The driver's answer.
        reason: String,
    },
    /// A wait ran out.
    #[error("{what}: not within {secs} s (last seen: {last})")]
    Timeout {
        /// What was waited for.
        what: String,
        /// The deadline.
        secs: u64,
        /// What the page showed at the deadline.
        last: String,
    },
    /// Writing the evidence of a failed step.
    #[error("failed to write {path}: {source}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
}
