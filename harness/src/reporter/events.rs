//! The one event stream between the runner and every reporter.
//!
//! The runner sends, in order: `RunStarted` once; per case `CaseStarted`, maybe `CaseSlow`, then
//! `CaseFinished`; `NodeError` when a whole node cannot be reached in an iteration (its cases
//! still each get a `CaseFinished` with an error); `RunFinished` once, last.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{
    model::{CaseName, Iteration, NodeName, Outcome},
    plan::NotApplicable,
};

/// One event, stamped with wall time and time since the run started.
#[derive(Debug, Clone, PartialEq)]
pub struct TestEvent {
    /// Wall-clock time, RFC 3339 UTC.
    pub timestamp: String,
    /// Time since `RunStarted`.
    pub elapsed: Duration,
    /// What happened.
    pub kind: EventKind,
}

/// Which case on which node in which iteration.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct CaseId {
    /// The case name.
    pub name: CaseName,
    /// The node (`local` for L0).
    pub node: NodeName,
    /// The iteration.
    pub iteration: Iteration,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    /// The run begins.
    RunStarted {
        /// `20261129T093000Z-1a2b`.
        run_id: String,
        /// `run` or `gate`.
        command: String,
        /// The fleet's name.
        fleet: String,
        /// Iterations planned.
        iterations: u32,
        /// The nodes, in fleet order.
        nodes: Vec<NodeName>,
        /// Layers whose cases decide the verdict.
        required_layers: Vec<crate::model::Layer>,
        /// Apps selected.
        apps: Vec<String>,
        /// States not run, with their reasons.
        not_applicable: Vec<NotApplicable>,
        /// Cases that will finish in total (for progress).
        total_cases: usize,
    },
    /// A case began.
    CaseStarted {
        /// The case.
        case: CaseId,
    },
    /// A case has been running for a while.
    CaseSlow {
        /// The case.
        case: CaseId,
        /// How long so far.
        after: Duration,
    },
    /// A case ended.
    CaseFinished {
        /// The case.
        case: CaseId,
        /// What it did.
        outcome: Outcome,
        /// When it began, RFC 3339.
        started_at: String,
        /// How long it took.
        duration: Duration,
        /// Commands run and their output.
        output: String,
    },
    /// A node could not be reached for an iteration.
    NodeError {
        /// The node.
        node: NodeName,
        /// The iteration.
        iteration: Iteration,
        /// Why.
        message: String,
    },
    /// The run ended.
    RunFinished {
        /// Wall time of the whole run.
        duration: Duration,
    },
}

/// RFC 3339 UTC with seconds (`2026-11-29T09:30:00Z`).
pub fn rfc3339(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(1_795_858_200)),
            "2026-11-28T09:30:00Z"
        );
        assert_eq!(
            rfc3339(UNIX_EPOCH + Duration::from_secs(951_827_696)),
            "2000-02-29T12:34:56Z"
        );
    }
}
