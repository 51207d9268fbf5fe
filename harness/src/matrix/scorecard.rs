//! The owner's scorecard sections beside the matrix (pure): the "Done: N of M cells" headline,
//! the layer-by-layer status, the owner's release-gate checklist ticked only from evidence, and
//! the LoC budget.

use std::fmt::Write as _;

use super::{
    cells::{Cell, cell},
    loc::LocReport,
    render::{node_app, one_line},
};
use crate::{
    cli::GATE_ITERATIONS,
    model::{AppId, Check, Layer, NodeName, OutcomeKind},
    plan::l0_name,
    reporter::{Results, Verdict},
};

/// The fleet whose nodes the owner's 20× boxes are about.
pub const RELEASE_FLEET: &str = "release";

/// The budget file as TESTING.md names it.
const BUDGET_FILE: &str = "orchestrator/loc-budget.toml";

/// How many of a set of cells are ●, apply, and do not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    /// ● cells.
    pub full: usize,
    /// Cells that apply (● or not).
    pub applicable: usize,
    /// n/a cells.
    pub not_applicable: usize,
}

impl Tally {
    /// Counts one cell.
    fn add(&mut self, c: Cell) {
        match c {
            Cell::NotApplicable(_) => self.not_applicable += 1,
            Cell::Full => {
                self.full += 1;
                self.applicable += 1;
            }
            Cell::Partial { .. } | Cell::NotRun => self.applicable += 1,
        }
    }
}

/// Tallies the run's cells (every app x per-app check, and the node-level API contract) whose
/// check `pick` accepts.
pub fn tally(r: &Results, pick: impl Fn(Check) -> bool) -> Tally {
    let node = node_app();
    let cells = r
        .apps
        .iter()
        .flat_map(|app| Check::columns().map(move |s| (app, s)))
        .chain(std::iter::once((&node, Check::ApiContract)));
    let mut t = Tally::default();
    for (app, s) in cells.filter(|(_, s)| pick(*s)) {
        t.add(cell(r, app, s));
    }
    t
}

/// The owner's headline: "Done: N of M cells."
pub fn done_headline(out: &mut String, r: &Results) {
    let t = tally(r, |_| true);
    let _ = write!(
        out,
        "**Done: {} of {} cells.** Goal: {}/{} ●.",
        t.full, t.applicable, t.applicable, t.applicable
    );
    if t.not_applicable > 0 {
        let _ = write!(
            out,
            " {} {} n/a, not counted.",
            t.not_applicable,
            if t.not_applicable == 1 {
                "cell is"
            } else {
                "cells are"
            }
        );
    }
    out.push_str("\n\n");
}

/// The owner's layer-by-layer table: tests, suites and status per layer.
pub fn layer_status_section(out: &mut String, r: &Results, extra: &[Results]) {
    let _ = writeln!(out, "### Layer-by-layer status\n");
    let _ = writeln!(
        out,
        "| Layer | Tests | Suites | Status |\n|---|--:|---|---|"
    );
    for layer in Layer::ALL {
        let cases: Vec<_> = r
            .cases
            .iter()
            .filter(|c| c.case.name.layer == layer)
            .collect();
        let (tests, suites, status) = if layer == Layer::L0 {
            l0_status(r)
        } else if matches!(layer, Layer::L4 | Layer::L5 | Layer::L6) {
            let (status, folder) = if layer == Layer::L4 {
                (
                    super::cells::case_status(
                        super::render::source(r, extra, layer),
                        layer,
                        "runs passed",
                    ),
                    "`suites/<catalog>/<app>.toml` `[[journey]]`",
                )
            } else if layer == Layer::L5 {
                (
                    super::cells::case_status(
                        super::render::source(r, extra, layer),
                        layer,
                        "runs passed",
                    ),
                    "`suites/<catalog>/chaos/`",
                )
            } else {
                (
                    super::cells::case_status(
                        super::render::source(r, extra, layer),
                        layer,
                        "cells within budget",
                    ),
                    "`suites/<catalog>/perf/`",
                )
            };
            match status {
                Some((n, status)) => (n.to_string(), folder.to_owned(), status),
                None => ("0".into(), "none".into(), "○ not run".into()),
            }
        } else {
            let mut names: Vec<(&str, &str)> = Vec::new();
            let mut apps: Vec<&str> = Vec::new();
            for c in &cases {
                let n = &c.case.name;
                if !names.contains(&(n.app.as_str(), n.check.as_str())) {
                    names.push((n.app.as_str(), n.check.as_str()));
                }
                if !apps.contains(&n.app.as_str()) {
                    apps.push(n.app.as_str());
                }
            }
            let t = tally(r, |s| s.layer() == layer);
            let status = match () {
                _ if cases.is_empty() => "○ not run".to_owned(),
                _ if t.full == t.applicable => "● green".to_owned(),
                _ => format!("◐ {} of {} cells ●", t.full, t.applicable),
            };
            let suites = if apps.is_empty() {
                "none".to_owned()
            } else {
                apps.join(", ")
            };
            (names.len().to_string(), suites, status)
        };
        let _ = writeln!(
            out,
            "| {layer} {} | {tests} | {suites} | {status} |",
            layer.title()
        );
    }
    out.push('\n');
}

/// L0's tests (libtest's counts from its message), suite and status.
fn l0_status(r: &Results) -> (String, String, String) {
    let Some(c) = r.cases.iter().find(|c| c.case.name == l0_name()) else {
        return ("0".into(), "none".into(), "○ not run".into());
    };
    let tests = l0_counts(&c.message).map_or_else(|| "—".to_owned(), |(p, f)| (p + f).to_string());
    let status = match c.outcome {
        OutcomeKind::Pass => "● green".to_owned(),
        other => format!("◐ {other}: {}", one_line(&c.message)),
    };
    (tests, "`cargo test --workspace`".into(), status)
}

/// (passed, failed) from the L0 message `282 passed, 0 failed, 2 ignored`.
fn l0_counts(message: &str) -> Option<(u64, u64)> {
    let mut passed = None;
    let mut failed = None;
    for part in message.split(',') {
        let mut words = part.split_whitespace();
        let (Some(n), Some(word)) = (words.next(), words.next()) else {
            continue;
        };
        match word {
            "passed" => passed = n.parse().ok(),
            "failed" => failed = n.parse().ok(),
            _ => {}
        }
    }
    Some((passed?, failed?))
}

/// The owner's release-gate checklist: a box is ticked only from what the results (or the
/// counted code, for the LoC box) show; the rest says why not, and what no run can prove is
/// listed as manual.
pub fn checklist_section(out: &mut String, r: &Results, loc: &LocReport) {
    let _ = writeln!(out, "### Release-gate checklist\n");
    let tick = |ok: bool| if ok { "[x]" } else { "[ ]" };
    for node in &r.nodes {
        let (ok, why) = match node_gate(r, node) {
            Ok(s) => (true, s),
            Err(s) => (false, s),
        };
        let _ = writeln!(
            out,
            "- {} {GATE_ITERATIONS}× gate returns 0 against {node}: {why}",
            tick(ok)
        );
    }
    if r.nodes.is_empty() {
        let _ = writeln!(
            out,
            "- [ ] {GATE_ITERATIONS}× gate returns 0 on each node: no node in this run"
        );
    }

    let t = tally(r, |s| s == Check::DaemonRestart);
    let text = match t {
        Tally { applicable: 0, .. } => "no daemon-restart cell in this run".to_owned(),
        Tally {
            full, applicable, ..
        } if full == applicable => {
            format!("every daemon-restart cell ● ({full} of {applicable})")
        }
        Tally {
            full, applicable, ..
        } => format!("{full} of {applicable} daemon-restart cells ●"),
    };
    let _ = writeln!(
        out,
        "- {} the backend survives a daemon restart (the L3 backend-survives-restart cells): {text}",
        tick(t.applicable > 0 && t.full == t.applicable)
    );

    let l0 = r.cases.iter().find(|c| c.case.name == l0_name());
    let (ok, text) = match l0 {
        None => (false, "L0 is not in this run".to_owned()),
        Some(c) if c.outcome == OutcomeKind::Pass => (
            true,
            format!(
                "L0 `cargo test --workspace` passed ({})",
                one_line(&c.message)
            ),
        ),
        Some(c) => (false, format!("L0 {}: {}", c.outcome, one_line(&c.message))),
    };
    let _ = writeln!(out, "- {} all tests green: {text}", tick(ok));
    let _ = writeln!(
        out,
        "- [ ] 0 warnings, 0 unused (`cargo clippy --all-targets -- -D warnings`): not recorded in \
         results.json (`scripts/test.sh` and CI run it)"
    );
    let (ok, text) = loc_verdict(loc);
    let _ = writeln!(out, "- {} LoC within budget: {text}", tick(ok));

    let _ = writeln!(out, "\nManual (no run can prove these):\n");
    let knots = AppId::new("bitcoin-knots").expect("a valid app id");
    let row = if r.apps.contains(&knots) {
        let t = tally_app(r, &knots);
        format!(
            "bitcoin-knots's row here: {} of {} cells ●; that its node was fresh is not recorded",
            t.full, t.applicable
        )
    } else {
        "bitcoin-knots is not in this run".to_owned()
    };
    let _ = writeln!(
        out,
        "- [ ] the bitcoin-stops fix verified live on a fresh node ({row})"
    );
    let _ = writeln!(out, "- [ ] a layman-readable changelog");
    let _ = writeln!(
        out,
        "- [ ] the tag pushed to origin, gitea-local and gitea-vps2\n"
    );
}

/// One app's row.
fn tally_app(r: &Results, app: &AppId) -> Tally {
    let mut t = Tally::default();
    for s in Check::columns() {
        t.add(cell(r, app, s));
    }
    t
}

/// Whether this run is a passing 20× gate of the release fleet on `node`, and why (not).
fn node_gate(r: &Results, node: &NodeName) -> Result<String, String> {
    if r.fleet != RELEASE_FLEET {
        return Err(format!(
            "this run is of fleet `{}`, not `{RELEASE_FLEET}`",
            r.fleet
        ));
    }
    if let Some(of) = &r.rerun_of {
        return Err(format!("a rerun of {of}, not a full gate"));
    }
    if r.command != "gate" {
        return Err(format!("`harness {}` is not a gate", r.command));
    }
    if r.iterations < GATE_ITERATIONS {
        return Err(format!(
            "{} iterations, not {GATE_ITERATIONS}",
            r.iterations
        ));
    }
    let cases: Vec<_> = r
        .cases
        .iter()
        .filter(|c| c.case.name.layer != Layer::L0 && &c.case.node == node)
        .collect();
    let bad = cases
        .iter()
        .filter(|c| c.outcome != OutcomeKind::Pass)
        .count();
    if cases.is_empty() {
        return Err("no results from it".to_owned());
    }
    if bad > 0 {
        return Err(format!("{bad} of {} cases did not pass", cases.len()));
    }
    if r.verdict != Verdict::Passed {
        return Err(format!("the run's verdict is {}", r.verdict.as_str()));
    }
    Ok(format!(
        "{} cases passed over {} iterations",
        cases.len(),
        r.iterations
    ))
}

/// Whether every module is within its target (and the total within its own), and why (not).
fn loc_verdict(loc: &LocReport) -> (bool, String) {
    let mut faults = Vec::new();
    for m in &loc.modules {
        match m.target {
            None => faults.push(format!("`{}` has no target", m.path)),
            Some(t) if m.code > t => faults.push(format!("`{}` over by {}", m.path, m.code - t)),
            Some(_) => {}
        }
    }
    let total = loc.total();
    if let Some(t) = loc.total_target.filter(|t| total > *t) {
        faults.push(format!("the total over by {}", total - t));
    }
    let total_text = match loc.total_target {
        Some(t) => format!("total {total} of {t}"),
        None => format!("total {total}"),
    };
    if loc.modules.is_empty() {
        (false, "no module counted".to_owned())
    } else if faults.is_empty() {
        (
            true,
            format!("every module at or under its target; {total_text}"),
        )
    } else {
        (false, faults.join("; "))
    }
}

/// The orchestrator's lines of code per module against the budget.
pub fn loc_section(out: &mut String, loc: &LocReport) {
    let _ = writeln!(out, "### LoC budget\n");
    let _ = writeln!(
        out,
        "The orchestrator's lines of code per module (tokei: non-blank, non-comment; \
         `#[cfg(test)]` modules left out), counted when this block was generated, against \
         `{BUDGET_FILE}`.\n"
    );
    let _ = writeln!(
        out,
        "| Module | LoC today | Target | Δ | Status |\n|---|--:|--:|--:|---|"
    );
    for m in &loc.modules {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            m.path,
            m.code,
            budget_cells(m.code, m.target)
        );
    }
    let _ = writeln!(
        out,
        "| total | {} | {} |\n",
        loc.total(),
        budget_cells(loc.total(), loc.total_target)
    );
}

/// `target | Δ | status` of a count.
fn budget_cells(code: usize, target: Option<usize>) -> String {
    match target {
        None => "— | — | ○ no target".to_owned(),
        Some(t) => {
            let delta =
                i128::try_from(code).unwrap_or(i128::MAX) - i128::try_from(t).unwrap_or(i128::MAX);
            let status = if code <= t {
                "● within".to_owned()
            } else {
                format!("◐ over by {}", code - t)
            };
            format!("{t} | {delta:+} | {status}")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matrix::loc::ModuleLoc;

    fn loc(modules: &[(&str, usize, Option<usize>)], total: Option<usize>) -> LocReport {
        LocReport {
            modules: modules
                .iter()
                .map(|(p, c, t)| ModuleLoc {
                    path: (*p).to_owned(),
                    code: *c,
                    target: *t,
                })
                .collect(),
            total_target: total,
        }
    }

    #[test]
    fn the_loc_table_shows_delta_and_status_per_module() {
        let mut out = String::new();
        loc_section(
            &mut out,
            &loc(
                &[
                    ("orchestrator/src/api/", 120, Some(100)),
                    ("orchestrator/src/ops.rs", 80, Some(90)),
                    ("orchestrator/src/new.rs", 5, None),
                ],
                Some(300),
            ),
        );
        assert!(
            out.ends_with(
                "| Module | LoC today | Target | Δ | Status |\n|---|--:|--:|--:|---|\n\
                 | `orchestrator/src/api/` | 120 | 100 | +20 | ◐ over by 20 |\n\
                 | `orchestrator/src/ops.rs` | 80 | 90 | -10 | ● within |\n\
                 | `orchestrator/src/new.rs` | 5 | — | — | ○ no target |\n\
                 | total | 205 | 300 | -95 | ● within |\n\n"
            ),
            "{out}"
        );
        assert_eq!(
            loc_verdict(&loc(
                &[
                    ("orchestrator/src/api/", 120, Some(100)),
                    ("orchestrator/src/new.rs", 5, None)
                ],
                Some(100)
            )),
            (
                false,
                "`orchestrator/src/api/` over by 20; `orchestrator/src/new.rs` has no target; the \
                 total over by 25"
                    .to_owned()
            )
        );
        assert_eq!(
            loc_verdict(&loc(&[("orchestrator/src/ops.rs", 80, Some(90))], None)),
            (
                true,
                "every module at or under its target; total 80".to_owned()
            )
        );
    }

    #[test]
    fn reads_the_l0_counts() {
        assert_eq!(l0_counts("282 passed, 1 failed, 2 ignored"), Some((282, 1)));
        assert_eq!(l0_counts("failed to start cargo test"), None);
    }
}
