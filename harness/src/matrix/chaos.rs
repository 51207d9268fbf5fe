//! The L5 section of TESTING.md: scenario x node, each cell ● (every run of it passed), ◐ (some
//! did: passed of ran) or ○ (none ran), with the median and slowest time to converge of the
//! passed runs (read back from their messages, see `checks::converge_ms`).

use std::fmt::Write as _;

use super::cells::{layer_cases, node_cell};
use crate::{
    checks::converge_ms,
    model::{Layer, OutcomeKind},
    reporter::{CaseRecord, Results},
};

/// The section, from the run that ran L5 (the gate's own, or a separate chaos pass).
pub fn chaos_section(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### L5 chaos: scenarios x nodes\n");
    let cases = layer_cases(r, Layer::L5);
    if cases.is_empty() {
        let _ = writeln!(
            out,
            "○ Not run in `{}`: `harness gate --layer L5 --required L5` runs it.\n",
            r.run_id
        );
        return;
    }
    let _ = writeln!(
        out,
        "From run `{}` ({} iteration{} per node). Time to converge: from the heal to the node's \
         invariant holding again, over the passed runs.\n",
        r.run_id,
        r.iterations,
        if r.iterations == 1 { "" } else { "s" }
    );
    let mut header = String::from("| scenario |");
    let mut rule = String::from("|---|");
    for n in &r.nodes {
        let _ = write!(header, " {n} |");
        rule.push_str(":-:|");
    }
    let _ = writeln!(out, "{header} median | max |\n{rule}--:|--:|");
    let mut names: Vec<String> = Vec::new();
    for c in &cases {
        let n = c.case.name.to_string();
        if !names.contains(&n) {
            names.push(n);
        }
    }
    for name in &names {
        let of: Vec<&&CaseRecord> = cases
            .iter()
            .filter(|c| c.case.name.to_string() == *name)
            .collect();
        let mut row = format!("| `{name}` |");
        for n in &r.nodes {
            let _ = write!(row, " {} |", node_cell(&of, n));
        }
        let mut ms: Vec<u64> = of
            .iter()
            .filter(|c| c.outcome == OutcomeKind::Pass)
            .filter_map(|c| converge_ms(&c.message))
            .collect();
        ms.sort_unstable();
        let secs = |v: Option<&u64>| {
            v.map_or("—".to_owned(), |m| format!("{:.2} s", *m as f64 / 1000.0))
        };
        let _ = writeln!(
            row,
            " {} | {} |",
            secs(ms.get(ms.len() / 2)),
            secs(ms.last())
        );
        out.push_str(&row);
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "n/a in the lab: OOM (its nodes have no memory cgroup, so limits are not enforced) and \
         clock faults (no `CAP_SYS_TIME`).\n"
    );
}
