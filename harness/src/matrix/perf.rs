//! The L6 section of TESTING.md: each KPI cell on each node with its budget, median, p95 and
//! spread (read back from the cases' messages, see `perf::Measured`), its verdict, and its trend
//! against the last green run (from `reports/perf-history.jsonl`).

use std::fmt::Write as _;

use super::cells::layer_cases;
use crate::{
    model::{Layer, NodeName, OutcomeKind},
    perf::{Measured, Record},
    reporter::Results,
};

/// The section, from the run that ran L6 and the history records of that run.
pub fn perf_section(out: &mut String, r: &Results, history: &[Record]) {
    let _ = writeln!(out, "### L6 performance: KPI cells x nodes\n");
    let cases = layer_cases(r, Layer::L6);
    if cases.is_empty() {
        let _ = writeln!(
            out,
            "○ Not run in `{}`: `harness gate --layer L6 --required L6` runs it.\n",
            r.run_id
        );
        return;
    }
    let _ = writeln!(
        out,
        "From run `{}` ({} iteration{} per node; the numbers are the last iteration's). Timings \
         in ms over the samples kept (warm-up dropped), with the node's CPU pressure (some avg10) \
         before and after; calls are `systemctl + podman` and must be exact.\n",
        r.run_id,
        r.iterations,
        if r.iterations == 1 { "" } else { "s" }
    );
    let _ = writeln!(
        out,
        "| KPI | node | budget | median | p95 | spread | CPU pressure | cell | trend |\n\
         |---|---|--:|--:|--:|--:|--:|:-:|---|"
    );
    let mut rows: Vec<(String, &NodeName)> = Vec::new();
    for c in &cases {
        let key = (c.case.name.to_string(), &c.case.node);
        if !rows.contains(&key) {
            rows.push(key);
        }
    }
    rows.sort();
    for (name, node) in rows {
        let of: Vec<_> = cases
            .iter()
            .filter(|c| c.case.name.to_string() == name && &c.case.node == node)
            .collect();
        let passed = of.iter().filter(|c| c.outcome == OutcomeKind::Pass).count();
        let cell = match () {
            _ if passed == of.len() => "●".to_owned(),
            _ if of.iter().all(|c| c.outcome == OutcomeKind::Skipped) => "○".to_owned(),
            _ => format!("◐ {passed}/{}", of.len()),
        };
        let last = of.last().expect("a row has a case");
        let trend = history
            .iter()
            .rev()
            .find(|h| h.run_id == r.run_id && h.node == node.0 && h.case == name)
            .map_or_else(|| "—".to_owned(), Record::trend);
        let n = |v: Option<&f64>| v.map_or("?".to_owned(), |x| format!("{x:.0}"));
        match Measured::from_message(&last.message) {
            Some(m) if m.unit == "calls" => {
                let _ = writeln!(
                    out,
                    "| `{name}` | {node} | {} + {} | {} + {} | | | | {cell} | {trend} |",
                    n(m.expected.first()),
                    n(m.expected.get(1)),
                    n(m.samples.first()),
                    n(m.samples.get(1)),
                );
            }
            Some(m) => {
                let pressure = match m.cpu_pressure.as_slice() {
                    [a, b] => format!("{a:.1}% → {b:.1}%"),
                    _ => "—".to_owned(),
                };
                let _ = writeln!(
                    out,
                    "| `{name}` | {node} | {} ≤ {:.0} | {:.1} | {:.1} | {:.1}-{:.1} (n {}) | {pressure} | {cell} | {trend} |",
                    m.statistic,
                    m.budget,
                    m.median,
                    m.p95,
                    m.min,
                    m.max,
                    m.samples.len()
                );
            }
            None => {
                let why: String = last.message.chars().take(120).collect();
                let _ = writeln!(out, "| `{name}` | {node} | | | | | | {cell} | {why} |");
            }
        }
    }
    out.push('\n');
}
