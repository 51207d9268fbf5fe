//! The one event stream between the runner and every reporter.
//!
//! The runner sends, in order: `RunStarted` once; per case `CaseStarted`, maybe `CaseSlow`, then
//! `CaseFinished`; `NodeError` when a whole node cannot be reached in an iteration (its cases
//! still each get a `CaseFinished` with an error); `RunCancelled` at most once, when the run is
//! interrupted (no step of a node starts after it); `RunFinished` once, last. Planned cases with no
//! `CaseFinished` by `RunFinished` are settled by the `Reporter`.
//!
//! The same types are the lines of `events.jsonl` and of `--message-format json`: one JSON object
//! per event, `event` naming the variant in kebab-case, durations in whole milliseconds.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::time::{Timestamp, millis};
use crate::{
    model::{AppId, CaseName, Iteration, Layer, NodeName, Outcome},
    plan::NotApplicable,
};

/// One event, stamped with wall time and time since the run started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TestEvent {
    /// Wall-clock time.
    pub timestamp: Timestamp,
    /// Time since `RunStarted`.
    #[serde(rename = "elapsed_ms", with = "millis")]
    pub elapsed: Duration,
    /// What happened.
    #[serde(flatten)]
    pub kind: EventKind,
}

/// Which case on which node in which iteration.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct CaseId {
    /// The case name.
    pub name: CaseName,
    /// The node (`local` for L0).
    pub node: NodeName,
    /// The iteration.
    pub iteration: Iteration,
}

impl CaseId {
    /// The L0 case: `cargo test --workspace`, once, on this machine.
    pub fn l0() -> Self {
        Self {
            name: crate::plan::l0_name(),
            node: NodeName("local".into()),
            iteration: Iteration(1),
        }
    }
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "kebab-case")]
pub enum EventKind {
    /// The run begins. The planned cases are `l0` (once) and every one of `cases` on every node
    /// in every iteration: see `planned`.
    RunStarted {
        /// `20261129T093000Z-1a2b`.
        run_id: String,
        /// `run` or `gate`.
        command: String,
        /// The run this one reruns the failed cases of (`--rerun-failed`); never a full gate.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        rerun_of: Option<String>,
        /// The fleet's name.
        fleet: String,
        /// Iterations planned.
        iterations: u32,
        /// The nodes, in fleet order.
        nodes: Vec<NodeName>,
        /// Layers whose cases decide the verdict.
        required_layers: Vec<Layer>,
        /// Apps selected.
        apps: Vec<AppId>,
        /// States not run, with their reasons.
        not_applicable: Vec<NotApplicable>,
        /// True when the L0 case runs.
        l0: bool,
        /// The cases each node runs in each iteration, in run order.
        cases: Vec<CaseName>,
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
        #[serde(rename = "after_ms", with = "millis")]
        after: Duration,
    },
    /// A case ended.
    CaseFinished {
        /// The case.
        case: CaseId,
        /// What it did (`outcome` and `message` in JSON).
        #[serde(flatten)]
        outcome: Outcome,
        /// When it began.
        started_at: Timestamp,
        /// How long it took.
        #[serde(rename = "duration_ms", with = "millis")]
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
    /// The run was interrupted: no new step starts on any node; the running cases finish.
    RunCancelled {
        /// Why (`interrupted (SIGINT)`).
        reason: String,
    },
    /// The run ended.
    RunFinished {
        /// Wall time of the whole run.
        #[serde(rename = "duration_ms", with = "millis")]
        duration: Duration,
    },
}

/// Every case a run plans, in run order: L0 once, then each node's cases per iteration.
pub fn planned(nodes: &[NodeName], iterations: u32, l0: bool, cases: &[CaseName]) -> Vec<CaseId> {
    let mut out = Vec::new();
    if l0 {
        out.push(CaseId::l0());
    }
    for node in nodes {
        for i in 1..=iterations {
            out.extend(cases.iter().map(|name| CaseId {
                name: name.clone(),
                node: node.clone(),
                iteration: Iteration(i),
            }));
        }
    }
    out
}
