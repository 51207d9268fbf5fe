//! `Outcome`: what one case did on one node in one iteration.

/// The outcome of a case. Fail and error stay apart all the way to the exit code and JUnit:
/// the release bar allows errors only from hardware or the network, never failures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "outcome", content = "message", rename_all = "kebab-case")]
pub enum Outcome {
    /// The product behaved.
    Pass,
    /// The product misbehaved; the message says how.
    Fail(String),
    /// The fleet could not be reached or a precondition could not be set up.
    Error(String),
    /// Not run; the reason says why (a failed dependency, a missing capability).
    Skipped(String),
}

impl Outcome {
    /// Short lowercase word: `pass`, `fail`, `error`, `skipped`.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Pass => "pass",
            Outcome::Fail(_) => "fail",
            Outcome::Error(_) => "error",
            Outcome::Skipped(_) => "skipped",
        }
    }

    /// The message or reason, empty for a pass.
    pub fn message(&self) -> &str {
        match self {
            Outcome::Pass => "",
            Outcome::Fail(m) | Outcome::Error(m) | Outcome::Skipped(m) => m,
        }
    }
}
