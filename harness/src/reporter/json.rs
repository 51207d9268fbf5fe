//! `Results`: the results.json document (CONTRACT 5), built from the event stream.

use serde::{Deserialize, Serialize};

use super::{EventKind, TestEvent, Verdict, verdict};
use crate::{fleet::Redactor, model::Layer, plan::NotApplicable};

/// results.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Results {
    /// `20261129T093000Z-1a2b`.
    pub run_id: String,
    /// `run` or `gate`.
    pub command: String,
    /// Fleet name.
    pub fleet: String,
    /// RFC 3339.
    pub started_at: String,
    /// RFC 3339.
    pub finished_at: String,
    /// Iterations planned.
    pub iterations: u32,
    /// Node names.
    pub nodes: Vec<String>,
    /// Layers deciding the verdict.
    pub required_layers: Vec<Layer>,
    /// Apps selected.
    pub apps: Vec<String>,
    /// States not run and why.
    pub not_applicable: Vec<NotApplicable>,
    /// Every case on every node in every iteration.
    pub cases: Vec<CaseRecord>,
    /// Counts by outcome.
    pub totals: Totals,
    /// The verdict.
    pub verdict: Verdict,
}

/// One case result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseRecord {
    /// `L3::lab-chain::restart`.
    pub name: String,
    /// The layer.
    pub layer: Layer,
    /// The app (`workspace` for L0).
    pub app: String,
    /// The state or `cargo-test`.
    pub check: String,
    /// The node (`local` for L0).
    pub node: String,
    /// From 1.
    pub iteration: u32,
    /// `pass | fail | error | skipped`.
    pub outcome: String,
    /// Why, empty for a pass.
    pub message: String,
    /// Duration.
    pub duration_ms: u64,
    /// RFC 3339.
    pub started_at: String,
    /// Captured output.
    pub output: String,
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
    /// Skips.
    pub skipped: usize,
}

impl Results {
    /// An empty document, filled by `record`.
    pub fn new() -> Self {
        Self {
            run_id: String::new(),
            command: String::new(),
            fleet: String::new(),
            started_at: String::new(),
            finished_at: String::new(),
            iterations: 0,
            nodes: Vec::new(),
            required_layers: Vec::new(),
            apps: Vec::new(),
            not_applicable: Vec::new(),
            cases: Vec::new(),
            totals: Totals::default(),
            verdict: Verdict::Passed,
        }
    }

    /// Folds one event in; every text passes through the redactor.
    pub fn record(&mut self, ev: &TestEvent, redactor: &Redactor) {
        match &ev.kind {
            EventKind::RunStarted {
                run_id,
                command,
                fleet,
                iterations,
                nodes,
                required_layers,
                apps,
                not_applicable,
                total_cases: _,
            } => {
                self.run_id = run_id.clone();
                self.command = command.clone();
                self.fleet = fleet.clone();
                self.started_at = ev.timestamp.clone();
                self.iterations = *iterations;
                self.nodes = nodes.iter().map(|n| n.0.clone()).collect();
                self.required_layers = required_layers.clone();
                self.apps = apps.clone();
                self.not_applicable = not_applicable.clone();
            }
            EventKind::CaseStarted { .. }
            | EventKind::CaseSlow { .. }
            | EventKind::NodeError { .. } => {}
            EventKind::CaseFinished {
                case,
                outcome,
                started_at,
                duration,
                output,
            } => {
                let t = &mut self.totals;
                match outcome.word() {
                    "pass" => t.passed += 1,
                    "fail" => t.failed += 1,
                    "error" => t.errors += 1,
                    _ => t.skipped += 1,
                }
                self.cases.push(CaseRecord {
                    name: case.name.to_string(),
                    layer: case.name.layer,
                    app: case.name.app.clone(),
                    check: case.name.check.clone(),
                    node: case.node.0.clone(),
                    iteration: case.iteration.0,
                    outcome: outcome.word().to_owned(),
                    message: redactor.redact(match outcome {
                        // L0 passes still carry their counts (CONTRACT 5), the first output line.
                        crate::model::Outcome::Pass if case.name.layer == Layer::L0 => {
                            output.lines().next().unwrap_or("")
                        }
                        other => other.message(),
                    }),
                    duration_ms: duration.as_millis() as u64,
                    started_at: started_at.clone(),
                    output: redactor.redact(output),
                });
            }
            EventKind::RunFinished { .. } => {
                self.finished_at = ev.timestamp.clone();
                self.verdict = verdict(&self.cases, &self.required_layers);
            }
        }
    }

    /// The JSON text (pretty, newline-terminated).
    pub fn to_json(&self) -> String {
        let mut s = serde_json::to_string_pretty(self).unwrap_or_default();
        s.push('\n');
        s
    }
}

impl Default for Results {
    fn default() -> Self {
        Self::new()
    }
}
