//! The end-of-run text: per layer and node counts, per-case pass counts, the final count line.

use std::collections::BTreeMap;

use super::{Results, Verdict};
use crate::model::{NodeName, OutcomeKind};

/// The table per layer and node, the `19/20` lines for cases not always passing, and the final
/// `N passed, N failed, N skipped` line (after an `errors: N` line when there were errors).
pub fn render_table(r: &Results) -> String {
    let mut by_layer_node: BTreeMap<(String, usize, &NodeName), [usize; 4]> = BTreeMap::new();
    let mut by_case: BTreeMap<(String, &NodeName), (usize, usize)> = BTreeMap::new();
    for c in &r.cases {
        let node = &c.case.node;
        let pos = r.nodes.iter().position(|n| n == node).unwrap_or(usize::MAX);
        let row = by_layer_node
            .entry((c.case.name.layer.to_string(), pos, node))
            .or_default();
        let e = by_case.entry((c.case.name.to_string(), node)).or_default();
        e.1 += 1;
        match c.outcome {
            OutcomeKind::Pass => {
                row[0] += 1;
                e.0 += 1;
            }
            OutcomeKind::Fail => row[1] += 1,
            OutcomeKind::Error => row[2] += 1,
            OutcomeKind::Skipped => row[3] += 1,
        }
    }
    let mut out = format!(
        "{:<6}{:<12}{:>8}{:>8}{:>8}{:>8}\n",
        "layer", "node", "passed", "failed", "errors", "skipped"
    );
    for ((layer, _, node), [p, f, e, s]) in &by_layer_node {
        let node = node.as_str();
        out.push_str(&format!("{layer:<6}{node:<12}{p:>8}{f:>8}{e:>8}{s:>8}\n"));
    }
    let partial: Vec<_> = by_case.iter().filter(|(_, (p, t))| p != t).collect();
    if !partial.is_empty() {
        out.push_str("\nnot always passing:\n");
        for ((name, node), (p, t)) in partial {
            out.push_str(&format!("  {p}/{t}  {name} on {node}\n"));
        }
    }
    let t = r.totals;
    if t.errors > 0 {
        out.push_str(&format!("\nerrors: {}\n", t.errors));
    } else {
        out.push('\n');
    }
    if r.verdict == Verdict::Cancelled {
        out.push_str("CANCELLED: the run was interrupted; cases not run are skipped\n");
    }
    if let Some(of) = &r.rerun_of {
        out.push_str(&format!("RERUN of {of}: not a full gate\n"));
    }
    out.push_str(&format!(
        "{} passed, {} failed, {} skipped\n",
        t.passed, t.failed, t.skipped
    ));
    out
}

/// summary.md: the run in a few lines a person reads first.
pub fn render_summary(r: &Results) -> String {
    let layers: Vec<_> = r.required_layers.iter().map(|l| l.to_string()).collect();
    let nodes: Vec<_> = r.nodes.iter().map(NodeName::as_str).collect();
    let apps: Vec<_> = r.apps.iter().map(|a| a.as_str()).collect();
    let finished = r
        .finished_at
        .map_or_else(|| "never (unfinished)".to_owned(), |t| t.to_string());
    let mut out = format!("# Harness {} {}\n\n", r.command, r.run_id);
    if let Some(of) = &r.rerun_of {
        out.push_str(&format!(
            "> **Rerun of {of}: not a full gate.** Only the cases that did not pass in {of} ran.\n\n"
        ));
    }
    if r.verdict == Verdict::Cancelled {
        out.push_str(
            "> **Cancelled.** The run was interrupted; cases it did not run are skipped, never passed.\n\n",
        );
    }
    out.push_str(&format!(
        "- Fleet: {}; nodes: {}; iterations: {}\n- Started {}, finished {finished}\n- Verdict: **{}** (required layers: {})\n- Apps: {}\n\n```\n{}```\n",
        r.fleet,
        nodes.join(", "),
        r.iterations,
        r.started_at,
        r.verdict,
        if layers.is_empty() {
            "none".to_owned()
        } else {
            layers.join(", ")
        },
        apps.join(", "),
        render_table(r),
    ));
    let bad: Vec<_> = r
        .cases
        .iter()
        .filter(|c| matches!(c.outcome, OutcomeKind::Fail | OutcomeKind::Error))
        .collect();
    if !bad.is_empty() {
        out.push_str("\n## Failures and errors\n\n");
        for c in bad.iter().take(50) {
            out.push_str(&format!(
                "- {} `{}` on {} iteration {}: {}\n",
                c.outcome, c.case.name, c.case.node, c.case.iteration, c.message
            ));
        }
        if bad.len() > 50 {
            out.push_str(&format!(
                "- ... and {} more in results.json\n",
                bad.len() - 50
            ));
        }
    }
    if !r.not_applicable.is_empty() {
        out.push_str("\n## Not applicable\n\n");
        for n in &r.not_applicable {
            out.push_str(&format!("- {} {}: {}\n", n.app, n.check, n.reason));
        }
    }
    out
}
