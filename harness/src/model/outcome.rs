//! `Outcome`: what one case did on one node in one iteration; `OutcomeKind`: its word.

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

/// An outcome without its message: what results.json's `outcome` holds and what reporters count.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum OutcomeKind {
    /// Passed.
    Pass,
    /// The product misbehaved.
    Fail,
    /// The fleet could not be reached or set up, or no result was recorded.
    Error,
    /// Not run.
    Skipped,
}

impl OutcomeKind {
    /// Short lowercase word: `pass`, `fail`, `error`, `skipped`.
    pub fn word(self) -> &'static str {
        match self {
            OutcomeKind::Pass => "pass",
            OutcomeKind::Fail => "fail",
            OutcomeKind::Error => "error",
            OutcomeKind::Skipped => "skipped",
        }
    }
}

impl std::fmt::Display for OutcomeKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.word())
    }
}

impl Outcome {
    /// The outcome's kind.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Pass => OutcomeKind::Pass,
            Outcome::Fail(_) => OutcomeKind::Fail,
            Outcome::Error(_) => OutcomeKind::Error,
            Outcome::Skipped(_) => OutcomeKind::Skipped,
        }
    }

    /// Short lowercase word: `pass`, `fail`, `error`, `skipped`.
    pub fn word(&self) -> &'static str {
        self.kind().word()
    }

    /// The message or reason, empty for a pass.
    pub fn message(&self) -> &str {
        match self {
            Outcome::Pass => "",
            Outcome::Fail(m) | Outcome::Error(m) | Outcome::Skipped(m) => m,
        }
    }
}
