//! JUnit XML: one `testsuite` per node and iteration, `classname` = `<layer>.<app>`.
//!
//! Fail becomes `failure`, error becomes `error` (kept apart for CI), skipped keeps its reason;
//! captured output goes to each case's `system-out`. Validates against Jenkins' junit-10.xsd.

use std::collections::BTreeMap;

use junit_report::{Duration, OffsetDateTime, ReportBuilder, TestCase, TestSuite};

use super::{CaseRecord, Results};
use crate::model::OutcomeKind;

/// The junit.xml text for a run's results.
pub fn render_junit(results: &Results) -> String {
    let mut groups: BTreeMap<(usize, u32), Vec<&CaseRecord>> = BTreeMap::new();
    for c in &results.cases {
        // Suites follow the fleet's node order; `local` (L0) comes first.
        let node_pos = results
            .nodes
            .iter()
            .position(|n| *n == c.case.node)
            .map_or(0, |p| p + 1);
        groups
            .entry((node_pos, c.case.iteration.0))
            .or_default()
            .push(c);
    }
    let mut report = ReportBuilder::new();
    for cases in groups.values() {
        let first = cases[0];
        let (node, iteration) = (&first.case.node, first.case.iteration);
        let mut suite = TestSuite::new(&format!("{node}/iteration-{iteration}"));
        suite.hostname = node.to_string();
        suite.package = format!("harness.{}", results.fleet);
        suite.set_timestamp(
            OffsetDateTime::from_unix_timestamp(first.started_at.unix_secs())
                .unwrap_or(OffsetDateTime::UNIX_EPOCH),
        );
        for c in cases {
            let time =
                Duration::milliseconds(i64::try_from(c.duration.as_millis()).unwrap_or(i64::MAX));
            let check = &c.case.name.check;
            let mut tc = match c.outcome {
                OutcomeKind::Pass => TestCase::success(check, time),
                OutcomeKind::Fail => TestCase::failure(check, time, c.outcome.word(), &c.message),
                OutcomeKind::Error => TestCase::error(check, time, c.outcome.word(), &c.message),
                OutcomeKind::Skipped => {
                    TestCase::skipped_with_cause(check, c.outcome.word(), &c.message)
                }
            };
            tc.set_classname(&format!("{}.{}", c.case.name.layer, c.case.name.app));
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
