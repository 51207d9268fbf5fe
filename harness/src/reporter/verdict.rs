//! The verdict of a run: a cancelled run is never judged passed; otherwise required layers decide
//! it, and failures outrank infrastructure errors.

use crate::model::{Layer, OutcomeKind};

use super::CaseRecord;

/// A run's verdict (results.json `verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every required case passed (or was skipped for a reason other than a failure).
    Passed,
    /// A required case failed.
    Failed,
    /// No required case failed, but some could not run: the fleet could not be reached, or a
    /// planned case recorded no result.
    InfrastructureError,
    /// The run was interrupted (Ctrl-C) before every planned case ran.
    Cancelled,
}

impl Verdict {
    /// The word as written in results.json.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::InfrastructureError => "infrastructure-error",
            Verdict::Cancelled => "cancelled",
        }
    }

    /// The exit code for this verdict.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Passed => crate::exit::PASSED,
            Verdict::Failed => crate::exit::FAILED,
            Verdict::InfrastructureError => crate::exit::INFRASTRUCTURE,
            Verdict::Cancelled => crate::exit::CANCELLED,
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Judges the cases of the required layers. `cancelled` outranks everything; `lost` (a planned
/// case recorded no result, in any layer) makes a run that would pass an infrastructure error.
pub fn verdict(cases: &[CaseRecord], required: &[Layer], cancelled: bool, lost: bool) -> Verdict {
    if cancelled {
        return Verdict::Cancelled;
    }
    let req = cases
        .iter()
        .filter(|c| required.contains(&c.case.name.layer));
    let (mut fail, mut error) = (false, false);
    for c in req {
        match c.outcome {
            OutcomeKind::Fail => fail = true,
            OutcomeKind::Error => error = true,
            OutcomeKind::Pass | OutcomeKind::Skipped => {}
        }
    }
    match (fail, error || lost) {
        (true, _) => Verdict::Failed,
        (false, true) => Verdict::InfrastructureError,
        (false, false) => Verdict::Passed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        model::{CaseName, Iteration, NodeName},
        reporter::{CaseId, Timestamp},
    };

    fn case(layer: Layer, outcome: OutcomeKind) -> CaseRecord {
        CaseRecord {
            case: CaseId {
                name: CaseName {
                    layer,
                    app: "a".into(),
                    check: "c".into(),
                },
                node: NodeName("n".into()),
                iteration: Iteration(1),
            },
            outcome,
            message: String::new(),
            started_at: Timestamp::from_unix_secs(0),
            duration: std::time::Duration::ZERO,
            output: String::new(),
        }
    }

    #[test]
    fn failures_outrank_errors_and_only_required_layers_count() {
        use OutcomeKind::*;
        let req = [Layer::L1, Layer::L3];
        let v = |cases: &[CaseRecord]| verdict(cases, &req, false, false);
        assert_eq!(
            v(&[case(Layer::L1, Pass), case(Layer::L3, Skipped)]),
            Verdict::Passed
        );
        assert_eq!(
            v(&[case(Layer::L1, Pass), case(Layer::L2, Fail)]),
            Verdict::Passed
        );
        assert_eq!(
            v(&[case(Layer::L1, Error), case(Layer::L2, Fail)]),
            Verdict::InfrastructureError
        );
        assert_eq!(
            v(&[case(Layer::L1, Error), case(Layer::L3, Fail)]),
            Verdict::Failed
        );
        assert_eq!(Verdict::Failed.exit_code(), 1);
        assert_eq!(Verdict::InfrastructureError.exit_code(), 3);
        assert_eq!(Verdict::Passed.exit_code(), 0);
    }

    #[test]
    fn a_cancelled_run_is_never_passed() {
        let all_pass = [case(Layer::L1, OutcomeKind::Pass)];
        assert_eq!(
            verdict(&all_pass, &[Layer::L1], true, false),
            Verdict::Cancelled
        );
        assert_eq!(
            verdict(&all_pass, &[Layer::L1], false, true),
            Verdict::InfrastructureError,
            "a lost case outside the required layers still fails the run"
        );
        assert_ne!(Verdict::Cancelled.exit_code(), crate::exit::PASSED);
    }
}
