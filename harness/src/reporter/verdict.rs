//! The verdict of a run: required layers decide it; failures outrank infrastructure errors.

use crate::model::Layer;

use super::CaseRecord;

/// A run's verdict (results.json `verdict`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every required case passed (or was skipped for a reason other than a failure).
    Passed,
    /// A required case failed.
    Failed,
    /// No required case failed, but some could not run: the fleet could not be reached.
    InfrastructureError,
}

impl Verdict {
    /// The word as written in results.json.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::InfrastructureError => "infrastructure-error",
        }
    }

    /// The exit code for this verdict.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Passed => crate::exit::PASSED,
            Verdict::Failed => crate::exit::FAILED,
            Verdict::InfrastructureError => crate::exit::INFRASTRUCTURE,
        }
    }
}

/// Judges the cases of the required layers.
pub fn verdict(cases: &[CaseRecord], required: &[Layer]) -> Verdict {
    let req = cases.iter().filter(|c| required.contains(&c.layer));
    let (mut fail, mut error) = (false, false);
    for c in req {
        match c.outcome.as_str() {
            "fail" => fail = true,
            "error" => error = true,
            _ => {}
        }
    }
    match (fail, error) {
        (true, _) => Verdict::Failed,
        (false, true) => Verdict::InfrastructureError,
        (false, false) => Verdict::Passed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(layer: Layer, outcome: &str) -> CaseRecord {
        CaseRecord {
            name: String::new(),
            layer,
            app: String::new(),
            check: String::new(),
            node: String::new(),
            iteration: 1,
            outcome: outcome.into(),
            message: String::new(),
            duration_ms: 0,
            started_at: String::new(),
            output: String::new(),
        }
    }

    #[test]
    fn failures_outrank_errors_and_only_required_layers_count() {
        let req = [Layer::L1, Layer::L3];
        assert_eq!(
            verdict(&[case(Layer::L1, "pass"), case(Layer::L3, "skipped")], &req),
            Verdict::Passed
        );
        assert_eq!(
            verdict(&[case(Layer::L1, "pass"), case(Layer::L2, "fail")], &req),
            Verdict::Passed
        );
        assert_eq!(
            verdict(&[case(Layer::L1, "error"), case(Layer::L2, "fail")], &req),
            Verdict::InfrastructureError
        );
        assert_eq!(
            verdict(&[case(Layer::L1, "error"), case(Layer::L3, "fail")], &req),
            Verdict::Failed
        );
        assert_eq!(Verdict::Failed.exit_code(), 1);
        assert_eq!(Verdict::InfrastructureError.exit_code(), 3);
        assert_eq!(Verdict::Passed.exit_code(), 0);
    }
}
