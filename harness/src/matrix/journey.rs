//! The L4 section of TESTING.md: each app's browser journey x node, ● (every run passed), ◐
//! (passed of ran) or ○ (none ran), with the first failure's message, from the run that ran L4
//! (the gate's own, or a separate, shorter pass given as the extra results).

use std::fmt::Write as _;

use super::cells::{layer_cases, node_cell};
use crate::{
    model::{Layer, OutcomeKind},
    reporter::{CaseRecord, Results},
};

/// The section.
pub fn journey_section(out: &mut String, r: &Results) {
    let _ = writeln!(out, "### L4 browser journeys: apps x nodes\n");
    let cases = layer_cases(r, Layer::L4);
    if cases.is_empty() {
        let _ = writeln!(
            out,
            "○ Not run in `{}`: `harness gate --layer L4 --required L4` runs it.\n",
            r.run_id
        );
        return;
    }
    let _ = writeln!(
        out,
        "From run `{}` ({} iteration{} per node), in real Chromium: each app's `[[journey]]` \
         through the dashboard and its own page; every page free of console errors, failed \
         loads and assets from outside the app's prefix.\n",
        r.run_id,
        r.iterations,
        if r.iterations == 1 { "" } else { "s" }
    );
    let mut header = String::from("| app |");
    let mut rule = String::from("|---|");
    for n in &r.nodes {
        let _ = write!(header, " {n} |");
        rule.push_str(":-:|");
    }
    let _ = writeln!(out, "{header} first failure |\n{rule}---|");
    let mut apps: Vec<&str> = Vec::new();
    for c in &cases {
        if !apps.contains(&c.case.name.app.as_str()) {
            apps.push(&c.case.name.app);
        }
    }
    for app in apps {
        let of: Vec<&&CaseRecord> = cases.iter().filter(|c| c.case.name.app == app).collect();
        let mut row = format!("| {app} |");
        for n in &r.nodes {
            let _ = write!(row, " {} |", node_cell(&of, n));
        }
        let first = of
            .iter()
            .find(|c| !matches!(c.outcome, OutcomeKind::Pass | OutcomeKind::Skipped))
            .map(|c| {
                format!(
                    "{} it. {}: {}",
                    c.case.node,
                    c.case.iteration,
                    c.message.replace('|', "\\|")
                )
            })
            .unwrap_or_else(|| "—".to_owned());
        let _ = writeln!(row, " {first} |");
        out.push_str(&row);
    }
    out.push('\n');
}
