//! `results.json` as the matrix reads it (CONTRACT section 5), parsed and checked.

use std::path::Path;

pub use crate::reporter::Verdict;

use super::MatrixError;
use crate::model::{AppId, Iteration, Layer, NodeName, State};

/// One run's results.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct Results {
    /// The run id (`20261129T093000Z-1a2b`).
    pub run_id: String,
    /// The harness command that ran (`gate`, `run`).
    pub command: String,
    /// The fleet the run targeted.
    pub fleet: String,
    /// When the run started (RFC 3339 UTC).
    pub started_at: String,
    /// When the run finished (RFC 3339 UTC).
    #[serde(default)]
    pub finished_at: String,
    /// Iterations asked for.
    pub iterations: u32,
    /// The fleet's nodes the run targeted.
    pub nodes: Vec<NodeName>,
    /// Layers that must be green for the gate.
    pub required_layers: Vec<Layer>,
    /// Apps in the run, in matrix row order.
    pub apps: Vec<AppId>,
    /// States that do not apply, with the reason.
    #[serde(default)]
    pub not_applicable: Vec<NotApplicable>,
    /// Every case run (or skipped).
    pub cases: Vec<CaseRecord>,
    /// The run's verdict.
    pub verdict: Verdict,
}

/// A state that does not apply to an app.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct NotApplicable {
    /// The app.
    pub app: AppId,
    /// The state.
    pub state: State,
    /// Why it does not apply.
    pub reason: String,
}

/// One case on one node in one iteration.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
pub struct CaseRecord {
    /// `L3::lab-chain::restart`.
    pub name: String,
    /// The layer.
    pub layer: Layer,
    /// The app (`workspace` for L0).
    pub app: String,
    /// The check: a state name, or for L0 `cargo-test`.
    pub check: String,
    /// The node (`local` for L0).
    pub node: NodeName,
    /// The iteration, from 1.
    pub iteration: Iteration,
    /// What happened.
    pub outcome: CaseOutcome,
    /// The failure, error or skip reason; for L0 the test counts.
    #[serde(default)]
    pub message: String,
}

/// A case's outcome word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CaseOutcome {
    /// Passed.
    Pass,
    /// The product misbehaved.
    Fail,
    /// The fleet could not be reached or set up.
    Error,
    /// Not run.
    Skipped,
}

/// Parses and checks the text of `path`.
pub fn parse(path: &Path, text: &str) -> Result<Results, MatrixError> {
    let results: Results = serde_json::from_str(text).map_err(|e| MatrixError::Results {
        path: path.to_owned(),
        message: e.to_string(),
    })?;
    check(&results).map_err(|message| MatrixError::Results {
        path: path.to_owned(),
        message,
    })?;
    Ok(results)
}

/// Refuses results the matrix would misreport.
fn check(r: &Results) -> Result<(), String> {
    let fleet_ok = !r.fleet.is_empty()
        && r.fleet
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !fleet_ok {
        return Err(format!(
            "fleet {:?} must be letters, digits, - and _ (it names a TESTING.md block)",
            r.fleet
        ));
    }
    if r.iterations == 0 {
        return Err("iterations is 0".into());
    }
    for c in &r.cases {
        if c.iteration.0 == 0 || c.iteration.0 > r.iterations {
            return Err(format!(
                "case {} has iteration {} outside 1..={}",
                c.name, c.iteration, r.iterations
            ));
        }
        if c.layer != Layer::L0 && !r.nodes.contains(&c.node) {
            return Err(format!(
                "case {} ran on node {:?}, which is not in nodes",
                c.name,
                c.node.as_str()
            ));
        }
    }
    Ok(())
}
