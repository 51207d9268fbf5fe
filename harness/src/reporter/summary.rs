//! The end-of-run text: per layer and node counts, per-case pass counts, the final count line.

use std::collections::BTreeMap;

use super::Results;

/// The table per layer and node, the `19/20` lines for cases not always passing, and the final
/// `N passed, N failed, N skipped` line (after an `errors: N` line when there were errors).
pub fn render_table(r: &Results) -> String {
    let mut by_layer_node: BTreeMap<(String, usize, String), [usize; 4]> = BTreeMap::new();
    let mut by_case: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
    for c in &r.cases {
        let pos = r
            .nodes
            .iter()
            .position(|n| *n == c.node)
            .unwrap_or(usize::MAX);
        let row = by_layer_node
            .entry((c.layer.to_string(), pos, c.node.clone()))
            .or_default();
        let e = by_case.entry((c.name.clone(), c.node.clone())).or_default();
        e.1 += 1;
        match c.outcome.as_str() {
            "pass" => {
                row[0] += 1;
                e.0 += 1;
            }
            "fail" => row[1] += 1,
            "error" => row[2] += 1,
            _ => row[3] += 1,
        }
    }
    let mut out = format!(
        "{:<6}{:<12}{:>8}{:>8}{:>8}{:>8}\n",
        "layer", "node", "passed", "failed", "errors", "skipped"
    );
    for ((layer, _, node), [p, f, e, s]) in &by_layer_node {
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
    out.push_str(&format!(
        "{} passed, {} failed, {} skipped\n",
        t.passed, t.failed, t.skipped
    ));
    out
}

/// summary.md: the run in a few lines a person reads first.
pub fn render_summary(r: &Results) -> String {
    let verdict = serde_json::to_value(r.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let layers: Vec<_> = r.required_layers.iter().map(|l| l.to_string()).collect();
    let mut out = format!(
        "# Harness {} {}\n\n- Fleet: {}; nodes: {}; iterations: {}\n- Started {}, finished {}\n- Verdict: **{verdict}** (required layers: {})\n- Apps: {}\n\n```\n{}```\n",
        r.command,
        r.run_id,
        r.fleet,
        r.nodes.join(", "),
        r.iterations,
        r.started_at,
        r.finished_at,
        if layers.is_empty() {
            "none".to_owned()
        } else {
            layers.join(", ")
        },
        r.apps.join(", "),
        render_table(r),
    );
    let bad: Vec<_> = r
        .cases
        .iter()
        .filter(|c| c.outcome == "fail" || c.outcome == "error")
        .collect();
    if !bad.is_empty() {
        out.push_str("\n## Failures and errors\n\n");
        for c in bad.iter().take(50) {
            out.push_str(&format!(
                "- {} `{}` on {} iteration {}: {}\n",
                c.outcome, c.name, c.node, c.iteration, c.message
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
            out.push_str(&format!("- {} {}: {}\n", n.app, n.state, n.reason));
        }
    }
    out
}
