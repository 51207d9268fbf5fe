//! JUnit XML: one `testsuite` per node and iteration, `classname` = `<layer>.<app>`.
//!
//! Fail becomes `failure`, error becomes `error` (kept apart for CI), skipped keeps its reason;
//! captured output goes to each case's `system-out`. Validates against Jenkins' junit-10.xsd.

use std::collections::BTreeMap;

use junit_report::{Duration, OffsetDateTime, ReportBuilder, TestCase, TestSuite};

use super::Results;

/// Seconds since the epoch of an RFC 3339 UTC stamp as this crate writes them.
fn epoch_secs(stamp: &str) -> i64 {
    let n = |r: std::ops::Range<usize>| {
        stamp
            .get(r)
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0)
    };
    let (y, m, d) = (n(0..4), n(5..7), n(8..10));
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    days * 86_400 + n(11..13) * 3600 + n(14..16) * 60 + n(17..19)
}

/// The junit.xml text for a run's results.
pub fn render_junit(results: &Results) -> String {
    let mut groups: BTreeMap<(usize, u32), Vec<&super::CaseRecord>> = BTreeMap::new();
    for c in &results.cases {
        // Suites follow the fleet's node order; `local` (L0) comes first.
        let node_pos = results
            .nodes
            .iter()
            .position(|n| *n == c.node)
            .map_or(0, |p| p + 1);
        groups.entry((node_pos, c.iteration)).or_default().push(c);
    }
    let mut report = ReportBuilder::new();
    for cases in groups.values() {
        let first = cases[0];
        let mut suite = TestSuite::new(&format!("{}/iteration-{}", first.node, first.iteration));
        suite.hostname = first.node.clone();
        suite.package = format!("harness.{}", results.fleet);
        suite.set_timestamp(
            OffsetDateTime::from_unix_timestamp(epoch_secs(&first.started_at))
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        );
        for c in cases {
            let time = Duration::milliseconds(c.duration_ms as i64);
            let mut tc = match c.outcome.as_str() {
                "pass" => TestCase::success(&c.check, time),
                "fail" => TestCase::failure(&c.check, time, "fail", &c.message),
                "error" => TestCase::error(&c.check, time, "error", &c.message),
                _ => TestCase::skipped_with_cause(&c.check, "skipped", &c.message),
            };
            tc.set_classname(&format!("{}.{}", c.layer, c.app));
            if !c.output.is_empty() {
                tc.set_system_out(&c.output);
            }
            suite.add_testcase(tc);
        }
        report.add_testsuite(suite);
    }
    let mut out = Vec::new();
    // Writing to a Vec cannot fail.
    let _ = report.build().write_xml(&mut out);
    let mut s = String::from_utf8_lossy(&out).into_owned();
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_secs_inverts_rfc3339() {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_795_858_200);
        assert_eq!(epoch_secs(&super::super::rfc3339(t)), 1_795_858_200);
        assert_eq!(epoch_secs("2000-02-29T12:34:56Z"), 951_827_696);
    }
}
