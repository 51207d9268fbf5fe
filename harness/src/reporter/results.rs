//! `Results`: the results.json document, one definition both written (by the `Reporter`) and read
//! (by `harness matrix` and `--rerun-failed`).
//!
//! Outcomes, nodes, case names and times are typed here and become text only when the document is
//! serialized. Files written before `rerun_of` existed read the same.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    CaseId, Verdict,
    time::{Timestamp, millis},
};
use crate::{
    model::{AppId, CaseName, Iteration, Layer, NodeName, OutcomeKind},
    plan::NotApplicable,
};

/// results.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// `20261129T093000Z-1a2b`.
    pub run_id: String,
    /// `run` or `gate`.
    pub command: String,
    /// Set when this run reran only the cases that did not pass in that run: never a full gate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rerun_of: Option<String>,
    /// Fleet name.
    pub fleet: String,
    /// When the run started.
    pub started_at: Timestamp,
    /// When the run finished; absent for a run that never finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<Timestamp>,
    /// Iterations planned.
    pub iterations: u32,
    /// The nodes the run targeted, in fleet order.
    pub nodes: Vec<NodeName>,
    /// Layers deciding the verdict.
    pub required_layers: Vec<Layer>,
    /// Apps selected, in matrix row order.
    pub apps: Vec<AppId>,
    /// States not run and why.
    #[serde(default)]
    pub not_applicable: Vec<NotApplicable>,
    /// Every case on every node in every iteration.
    pub cases: Vec<CaseRecord>,
    /// Counts by outcome.
    #[serde(default)]
    pub totals: Totals,
    /// The verdict.
    pub verdict: Verdict,
}

/// One case on one node in one iteration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(into = "CaseRecordWire", try_from = "CaseRecordWire")]
pub struct CaseRecord {
    /// Which case, where, in which iteration.
    pub case: CaseId,
    /// What happened.
    pub outcome: OutcomeKind,
    /// The failure, error or skip reason; for an L0 pass the test counts; else empty.
    pub message: String,
    /// When it began.
    pub started_at: Timestamp,
    /// How long it took (written in whole milliseconds).
    pub duration: Duration,
    /// Captured output (commands run and what they printed).
    pub output: String,
}

/// A case as written: its name, and its layer, app and check again for readers such as `jq`.
#[derive(Serialize, Deserialize)]
struct CaseRecordWire {
    name: CaseName,
    layer: Layer,
    app: String,
    check: String,
    node: NodeName,
    iteration: Iteration,
    outcome: OutcomeKind,
    #[serde(default)]
    message: String,
    #[serde(with = "millis")]
    duration_ms: Duration,
    started_at: Timestamp,
    #[serde(default)]
    output: String,
}

impl From<CaseRecord> for CaseRecordWire {
    fn from(c: CaseRecord) -> Self {
        let CaseId {
            name,
            node,
            iteration,
        } = c.case;
        Self {
            layer: name.layer,
            app: name.app.clone(),
            check: name.check.clone(),
            name,
            node,
            iteration,
            outcome: c.outcome,
            message: c.message,
            duration_ms: c.duration,
            started_at: c.started_at,
            output: c.output,
        }
    }
}

impl TryFrom<CaseRecordWire> for CaseRecord {
    type Error = String;
    fn try_from(w: CaseRecordWire) -> Result<Self, Self::Error> {
        if (w.layer, w.app.as_str(), w.check.as_str())
            != (w.name.layer, w.name.app.as_str(), w.name.check.as_str())
        {
            return Err(format!(
                "case {}: layer {}, app {:?} and check {:?} do not match its name",
                w.name, w.layer, w.app, w.check
            ));
        }
        Ok(Self {
            case: CaseId {
                name: w.name,
                node: w.node,
                iteration: w.iteration,
            },
            outcome: w.outcome,
            message: w.message,
            started_at: w.started_at,
            duration: w.duration_ms,
            output: w.output,
        })
    }
}

/// Counts by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Passes.
    pub passed: usize,
    /// Failures.
    pub failed: usize,
    /// Errors.
    pub errors: usize,
    /// Skips (including cases a cancelled run never started).
    pub skipped: usize,
}

impl Totals {
    /// The counts of `cases`.
    pub fn of(cases: &[CaseRecord]) -> Self {
        let mut t = Self::default();
        for c in cases {
            match c.outcome {
                OutcomeKind::Pass => t.passed += 1,
                OutcomeKind::Fail => t.failed += 1,
                OutcomeKind::Error => t.errors += 1,
                OutcomeKind::Skipped => t.skipped += 1,
            }
        }
        t
    }
}

impl Results {
    /// Reads results.json text.
    pub fn from_json(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// The JSON text (pretty, newline-terminated).
    pub fn to_json(&self) -> String {
        // Every field is a string, number, list or map with string keys: this cannot fail.
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }

    /// The cases that did not pass (failed, errored or skipped).
    pub fn not_passed(&self) -> impl Iterator<Item = &CaseRecord> {
        self.cases.iter().filter(|c| c.outcome != OutcomeKind::Pass)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn read(rel: &str) -> String {
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)).unwrap()
    }

    #[test]
    fn a_real_gates_file_round_trips() {
        // Written by an earlier writer (indented by one space): every field reads back and is
        // written again with the same value.
        let text = read("tests/fixtures/matrix/results.json");
        let r = Results::from_json(&text).unwrap();
        let value = |t: &str| serde_json::from_str::<serde_json::Value>(t).unwrap();
        // Except one intended difference: its n/a entries' `state` key (the word this check
        // column had before) is read and written as `check`.
        let mut old = value(&text);
        for na in old["not_applicable"].as_array_mut().unwrap() {
            let na = na.as_object_mut().unwrap();
            let check = na.remove("state").expect("the old key");
            na.insert("check".into(), check);
        }
        assert_eq!(value(&r.to_json()), old);
        assert_eq!(Results::from_json(&r.to_json()).unwrap(), r);
        // Written by this writer: byte for byte.
        for rel in [
            "tests/golden/pass.results.json",
            "tests/golden/fail.results.json",
        ] {
            let text = read(rel);
            let r = Results::from_json(&text).unwrap_or_else(|e| panic!("{rel}: {e}"));
            assert_eq!(r.to_json(), text, "{rel}");
        }
    }

    #[test]
    fn reads_typed_fields() {
        let r = Results::from_json(&read("tests/fixtures/matrix/results.json")).unwrap();
        let c = &r.cases[1];
        assert_eq!(c.case.name.to_string(), "L1::lab-chain::present");
        assert_eq!(c.case.node, NodeName("lab-228".into()));
        assert_eq!(c.outcome, OutcomeKind::Pass);
        assert_eq!(r.started_at.to_string(), "2026-11-29T09:30:00Z");
        assert_eq!(r.rerun_of, None);
    }

    #[test]
    fn refuses_a_record_whose_fields_contradict_its_name() {
        let mut v: serde_json::Value =
            serde_json::from_str(&read("tests/fixtures/matrix/results.json")).unwrap();
        v["cases"][1]["check"] = "rpc".into();
        let err = Results::from_json(&v.to_string()).unwrap_err().to_string();
        assert!(
            err.starts_with(
                "case L1::lab-chain::present: layer L1, app \"lab-chain\" and check \"rpc\" do not match its name"
            ),
            "{err}"
        );
    }
}
