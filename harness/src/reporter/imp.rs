//! `Reporter`: takes every event of a run, shows it (console, or JSON lines on stdout), appends it
//! to `events.jsonl`, collects the results, and at the end settles the run against its plan and
//! writes the reports.
//!
//! The run fails closed: a planned case with no `CaseFinished` by the end becomes an error (or,
//! in a cancelled run, a skip), never a silent gap, and a cancelled run's verdict is `cancelled`.

use std::{
    collections::HashSet,
    fs::File,
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use super::{
    CaseId, CaseRecord, Console, EventKind, Results, TestEvent, Timestamp, Totals, Verdict,
    planned, verdict, write_reports,
};
use crate::{
    error::Error,
    fleet::Redactor,
    model::{Layer, Outcome},
};

/// The message of a planned case that never finished in a run that was not cancelled.
pub const LOST: &str = "no result recorded (case task lost)";
/// The message of a planned case a cancelled run never started.
pub const CANCELLED_NOT_RUN: &str = "not run: the run was cancelled";
/// The message of a case that was running when a cancelled run stopped waiting for it.
pub const CANCELLED_RUNNING: &str =
    "no result recorded: the run was cancelled while this case was running";

/// Where the run is shown as it goes.
pub enum Output {
    /// For people: the console (bars on a terminal, plain lines otherwise).
    Human(Console),
    /// For tools: the events as JSON lines (`--message-format json`), same as `events.jsonl`.
    Json(Box<dyn Write + Send>),
}

/// Events in, reports out.
pub struct Reporter {
    output: Output,
    redactor: Redactor,
    reports: Option<PathBuf>,
    events_file: Option<(PathBuf, File)>,
    results: Results,
    planned: Vec<CaseId>,
    started: HashSet<CaseId>,
    finished: HashSet<CaseId>,
    cancelled: bool,
    lost: bool,
    run_finished: bool,
    last_elapsed: Duration,
}

/// What a finished run left behind.
#[derive(Debug)]
pub struct Finished {
    /// The results, as written.
    pub results: Results,
    /// `reports/<run-id>/`, when reports were written.
    pub dir: Option<PathBuf>,
}

impl Finished {
    /// The process exit code.
    pub fn exit_code(&self) -> i32 {
        self.results.verdict.exit_code()
    }
}

impl Reporter {
    /// A reporter showing the run on `output`; every text passes through `redactor`.
    pub fn new(output: Output, redactor: Redactor) -> Self {
        Self {
            output,
            redactor,
            reports: None,
            events_file: None,
            results: Results {
                run_id: String::new(),
                command: String::new(),
                rerun_of: None,
                fleet: String::new(),
                started_at: Timestamp::now(),
                finished_at: None,
                iterations: 0,
                nodes: Vec::new(),
                required_layers: Vec::new(),
                apps: Vec::new(),
                not_applicable: Vec::new(),
                cases: Vec::new(),
                totals: Totals::default(),
                verdict: Verdict::Passed,
            },
            planned: Vec::new(),
            started: HashSet::new(),
            finished: HashSet::new(),
            cancelled: false,
            lost: false,
            run_finished: false,
            last_elapsed: Duration::ZERO,
        }
    }

    /// Also writes `<reports>/<run-id>/events.jsonl` as the run goes, and the reports at the end.
    pub fn with_reports(mut self, reports: &Path) -> Self {
        self.reports = Some(reports.to_owned());
        self
    }

    /// Takes one event. Before `RunFinished`, every planned case still unfinished is settled.
    pub fn report_event(&mut self, ev: &TestEvent) -> Result<(), Error> {
        self.last_elapsed = ev.elapsed;
        if matches!(ev.kind, EventKind::RunFinished { .. }) {
            self.settle(ev.elapsed)?;
        }
        self.take(ev)
    }

    /// Ends the run (settling it and sending `RunFinished` itself if the runner never did), writes
    /// the reports, and shows the final table.
    pub fn finish(mut self) -> Result<Finished, Error> {
        if !self.run_finished {
            let elapsed = self.last_elapsed;
            self.report_event(&TestEvent {
                timestamp: Timestamp::now(),
                elapsed,
                kind: EventKind::RunFinished { duration: elapsed },
            })?;
        }
        let dir = match &self.reports {
            Some(reports) => Some(write_reports(reports, &self.results, &self.redactor)?),
            None => None,
        };
        if let Output::Human(console) = &mut self.output {
            let mut tail = String::new();
            if let Some(dir) = &dir {
                tail.push_str(&format!("\nreports: {}\n", dir.display()));
            }
            tail.push_str(&format!("harness peak memory: {}\n", peak_memory()));
            tail.push_str(&super::render_table(&self.results));
            console.finish(&tail);
        }
        Ok(Finished {
            results: self.results,
            dir,
        })
    }

    /// Every planned case without a `CaseFinished` gets one now.
    fn settle(&mut self, elapsed: Duration) -> Result<(), Error> {
        let missing: Vec<CaseId> = self
            .planned
            .iter()
            .filter(|id| !self.finished.contains(*id))
            .cloned()
            .collect();
        for case in missing {
            let outcome = match (self.cancelled, self.started.contains(&case)) {
                (false, _) => {
                    self.lost = true;
                    Outcome::Error(LOST.into())
                }
                (true, false) => Outcome::Skipped(CANCELLED_NOT_RUN.into()),
                (true, true) => Outcome::Error(CANCELLED_RUNNING.into()),
            };
            self.take(&TestEvent {
                timestamp: Timestamp::now(),
                elapsed,
                kind: EventKind::CaseFinished {
                    case,
                    outcome,
                    started_at: Timestamp::now(),
                    duration: Duration::ZERO,
                    output: String::new(),
                },
            })?;
        }
        Ok(())
    }

    fn take(&mut self, ev: &TestEvent) -> Result<(), Error> {
        let ev = self.redacted(ev);
        if let EventKind::RunStarted { run_id, .. } = &ev.kind {
            self.open_events_file(run_id)?;
        }
        self.record(&ev);
        let line = serde_json::to_string(&ev).map_err(|e| Error::Io {
            path: "events.jsonl".into(),
            source: e.into(),
        })?;
        if let Some((path, file)) = &mut self.events_file {
            writeln!(file, "{line}").map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
        }
        match &mut self.output {
            Output::Human(console) => console.event(&ev),
            Output::Json(out) => {
                writeln!(out, "{line}")
                    .and_then(|()| out.flush())
                    .map_err(|source| Error::Io {
                        path: "stdout".into(),
                        source,
                    })?;
            }
        }
        Ok(())
    }

    fn open_events_file(&mut self, run_id: &str) -> Result<(), Error> {
        let Some(reports) = &self.reports else {
            return Ok(());
        };
        let dir = reports.join(run_id);
        let path = dir.join("events.jsonl");
        let io = |source| Error::Io {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&dir).map_err(io)?;
        let file = File::create(&path).map_err(io)?;
        self.events_file = Some((path, file));
        Ok(())
    }

    /// The event with every free text masked.
    fn redacted(&self, ev: &TestEvent) -> TestEvent {
        let r = |s: &str| self.redactor.redact(s);
        let mut ev = ev.clone();
        match &mut ev.kind {
            EventKind::CaseFinished {
                outcome, output, ..
            } => {
                *output = r(output);
                match outcome {
                    Outcome::Pass => {}
                    Outcome::Fail(m) | Outcome::Error(m) | Outcome::Skipped(m) => *m = r(m),
                }
            }
            EventKind::NodeError { message, .. } => *message = r(message),
            EventKind::RunCancelled { reason } => *reason = r(reason),
            EventKind::RunStarted { .. }
            | EventKind::CaseStarted { .. }
            | EventKind::CaseSlow { .. }
            | EventKind::RunFinished { .. } => {}
        }
        ev
    }

    /// Folds one (redacted) event into the results.
    fn record(&mut self, ev: &TestEvent) {
        match &ev.kind {
            EventKind::RunStarted {
                run_id,
                command,
                rerun_of,
                fleet,
                iterations,
                nodes,
                required_layers,
                apps,
                not_applicable,
                l0,
                cases,
            } => {
                let r = &mut self.results;
                r.run_id = run_id.clone();
                r.command = command.clone();
                r.rerun_of = rerun_of.clone();
                r.fleet = fleet.clone();
                r.started_at = ev.timestamp;
                r.iterations = *iterations;
                r.nodes = nodes.clone();
                r.required_layers = required_layers.clone();
                r.apps = apps.clone();
                r.not_applicable = not_applicable.clone();
                self.planned = planned(nodes, *iterations, *l0, cases);
            }
            EventKind::CaseStarted { case } => {
                self.started.insert(case.clone());
            }
            EventKind::CaseSlow { .. } | EventKind::NodeError { .. } => {}
            EventKind::CaseFinished {
                case,
                outcome,
                started_at,
                duration,
                output,
            } => {
                self.finished.insert(case.clone());
                let message = match outcome {
                    // An L0 pass still carries its counts, an L5 pass its time to converge, an L6
                    // pass its measurement: the first output line.
                    Outcome::Pass
                        if matches!(case.name.layer, Layer::L0 | Layer::L5 | Layer::L6) =>
                    {
                        output.lines().next().unwrap_or("").to_owned()
                    }
                    other => other.message().to_owned(),
                };
                let output = match outcome {
                    Outcome::Pass => kept(output, PASSED_OUTPUT_KEPT),
                    _ => output.clone(),
                };
                self.results.cases.push(CaseRecord {
                    case: case.clone(),
                    outcome: outcome.kind(),
                    message,
                    started_at: *started_at,
                    duration: *duration,
                    output,
                });
            }
            EventKind::RunCancelled { .. } => self.cancelled = true,
            EventKind::RunFinished { .. } => {
                self.run_finished = true;
                let r = &mut self.results;
                r.finished_at = Some(ev.timestamp);
                r.totals = Totals::of(&r.cases);
                r.verdict = verdict(&r.cases, &r.required_layers, self.cancelled, self.lost);
            }
        }
    }
}

/// This process's peak resident memory (`VmHWM`), the figure the 100 MB budget is about.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown".into(),
            |kb| format!("{:.1} MB", kb as f64 / 1024.0),
        )
}

/// How much of a passed case's output results.json and the JUnit report keep (its first and last
/// half): a 20-iteration gate holds every case until the reports are written, and a pass's full
/// output is in events.jsonl. A case that did not pass keeps all of it.
pub const PASSED_OUTPUT_KEPT: usize = 8 << 10;

/// `output` if at most `limit` bytes, else its first and last `limit / 2` bytes (on character
/// boundaries) around a line saying how much was left out and where it is.
pub fn kept(output: &str, limit: usize) -> String {
    if output.len() <= limit {
        return output.to_owned();
    }
    let mut head = limit / 2;
    while !output.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = output.len() - limit / 2;
    while !output.is_char_boundary(tail) {
        tail += 1;
    }
    format!(
        "{}\n[... {} bytes of this passed case's output are only in events.jsonl ...]\n{}",
        &output[..head],
        tail - head,
        &output[tail..]
    )
}

#[cfg(test)]
#[path = "imp_tests.rs"]
mod tests;
