//! What each cell of the coverage matrix says, computed from the cases of one app and check.

use crate::{
    model::{AppId, Check, Layer, NodeName, OutcomeKind},
    reporter::{CaseRecord, Results},
};

/// Every case of `layer` in the run, in run order.
pub fn layer_cases(r: &Results, layer: Layer) -> Vec<&CaseRecord> {
    r.cases
        .iter()
        .filter(|c| c.case.name.layer == layer)
        .collect()
}

/// One node's cell of a case's row (L4 journeys, L5 scenarios): ● every run of it there passed,
/// ◐ passed of ran, ○ none ran.
pub fn node_cell(of: &[&&CaseRecord], node: &NodeName) -> String {
    let on: Vec<_> = of.iter().filter(|c| &c.case.node == node).collect();
    let ran = on
        .iter()
        .filter(|c| c.outcome != OutcomeKind::Skipped)
        .count();
    let passed = on.iter().filter(|c| c.outcome == OutcomeKind::Pass).count();
    match () {
        _ if ran == 0 => "○".to_owned(),
        _ if passed == on.len() => "●".to_owned(),
        _ => format!("◐ {passed}/{}", on.len()),
    }
}

/// The layer table's status of a layer whose cases are not matrix cells (L5 scenarios, L6 KPI
/// cells): how many distinct cases, and green or how many of its `runs` passed; `None` when
/// none ran.
pub fn case_status(r: &Results, layer: Layer, runs: &str) -> Option<(usize, String)> {
    let cases = layer_cases(r, layer);
    if cases.is_empty() {
        return None;
    }
    let mut names: Vec<String> = cases.iter().map(|c| c.case.name.to_string()).collect();
    names.sort();
    names.dedup();
    let passed = cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Pass)
        .count();
    let status = if passed == cases.len() {
        "● green".to_owned()
    } else {
        format!("◐ {passed} of {} {runs}", cases.len())
    };
    Some((names.len(), status))
}

/// One cell of the matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    /// Every iteration on every node passed.
    Full,
    /// Covered but not all passed: passes out of iterations x nodes, and the nodes that ran it
    /// when not all of them did.
    Partial {
        /// Passing cases.
        passed: usize,
        /// Iterations x nodes.
        expected: usize,
        /// The nodes that ran it, when fewer than all; empty when all did.
        only: Vec<NodeName>,
    },
    /// No case ran.
    NotRun,
    /// Does not apply; the reason.
    NotApplicable(String),
}

/// The cell of `app` in `check`.
pub fn cell(results: &Results, app: &AppId, check: Check) -> Cell {
    if let Some(na) = results
        .not_applicable
        .iter()
        .find(|n| &n.app == app && n.check == check)
    {
        return Cell::NotApplicable(na.reason.clone());
    }
    let cases: Vec<_> = results
        .cases
        .iter()
        .filter(|c| {
            let n = &c.case.name;
            n.layer == check.layer() && n.app == app.as_str() && n.check == check.as_str()
        })
        .collect();
    let ran: Vec<_> = cases
        .iter()
        .filter(|c| c.outcome != OutcomeKind::Skipped)
        .collect();
    if ran.is_empty() {
        return Cell::NotRun;
    }
    let passed = ran
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Pass)
        .count();
    let expected = results.iterations as usize * results.nodes.len();
    let only: Vec<NodeName> = results
        .nodes
        .iter()
        .filter(|n| ran.iter().any(|c| &c.case.node == *n))
        .cloned()
        .collect();
    if passed >= expected && passed == cases.len() {
        return Cell::Full;
    }
    Cell::Partial {
        passed,
        expected,
        only: if only.len() < results.nodes.len() {
            only
        } else {
            Vec::new()
        },
    }
}
