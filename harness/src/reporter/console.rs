//! The console: indicatif bars on a terminal, plain line-per-case output in CI or a pipe.

use std::{collections::HashMap, io::Write};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use super::{EventKind, TestEvent};
use crate::{fleet::Redactor, model::Outcome};

struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    nodes: HashMap<String, ProgressBar>,
}

/// Prints a run's events for a person; every line passes through the redactor.
pub struct Console {
    out: Box<dyn Write + Send>,
    redactor: Redactor,
    bars: Option<Bars>,
}

impl Console {
    /// Bars when stdout is a terminal and `CI` is unset; plain lines otherwise.
    pub fn stdout(redactor: Redactor) -> Self {
        use std::io::IsTerminal;
        let tty = std::io::stdout().is_terminal() && std::env::var_os("CI").is_none();
        let bars = tty.then(|| Bars {
            multi: MultiProgress::new(),
            overall: ProgressBar::hidden(),
            nodes: HashMap::new(),
        });
        Self {
            out: Box::new(std::io::stdout()),
            redactor,
            bars,
        }
    }

    /// Plain lines into any writer (tests, CI).
    pub fn plain(out: Box<dyn Write + Send>, redactor: Redactor) -> Self {
        Self {
            out,
            redactor,
            bars: None,
        }
    }

    fn line(&mut self, text: &str) {
        let text = self.redactor.redact(text);
        match &self.bars {
            Some(b) => {
                let _ = b.multi.println(text);
            }
            None => {
                let _ = writeln!(self.out, "{text}");
            }
        }
    }

    /// Shows one event.
    pub fn event(&mut self, ev: &TestEvent) {
        match &ev.kind {
            EventKind::RunStarted {
                run_id,
                command,
                rerun_of,
                fleet,
                iterations,
                nodes,
                l0,
                cases,
                not_applicable: _,
                required_layers: _,
                apps: _,
            } => {
                let total = super::planned(nodes, *iterations, *l0, cases).len();
                let names: Vec<_> = nodes.iter().map(|n| n.0.as_str()).collect();
                if let Some(b) = &mut self.bars {
                    b.overall = b.multi.add(ProgressBar::new(total as u64));
                    b.overall.set_style(
                        ProgressStyle::with_template(
                            "{elapsed_precise} [{bar:40}] {pos}/{len} cases",
                        )
                        .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    for n in &names {
                        let pb = b.multi.add(ProgressBar::new_spinner());
                        pb.set_style(
                            ProgressStyle::with_template("  {spinner} {prefix:<10} {msg}")
                                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
                        );
                        pb.set_prefix(n.to_string());
                        pb.enable_steady_tick(std::time::Duration::from_millis(200));
                        b.nodes.insert(n.to_string(), pb);
                    }
                }
                self.line(&format!("harness {command} {run_id}: {total} cases, fleet {fleet}, nodes {}, {iterations} iteration(s)", names.join(", ")));
                if let Some(of) = rerun_of {
                    self.line(&format!(
                        "RERUN of {of}: only the cases that did not pass there; not a full gate"
                    ));
                }
            }
            EventKind::CaseStarted { case } => {
                if let Some(pb) = self.bars.as_ref().and_then(|b| b.nodes.get(&case.node.0)) {
                    pb.set_message(format!("#{} {}", case.iteration, case.name));
                }
            }
            EventKind::CaseSlow { case, after } => {
                self.line(&format!(
                    "SLOW  {} #{} {} running for {}s",
                    case.node,
                    case.iteration,
                    case.name,
                    after.as_secs()
                ));
            }
            EventKind::CaseFinished {
                case,
                outcome,
                duration,
                started_at: _,
                output: _,
            } => {
                let word = match outcome {
                    Outcome::Pass => "PASS ",
                    Outcome::Fail(_) => "FAIL ",
                    Outcome::Error(_) => "ERROR",
                    Outcome::Skipped(_) => "SKIP ",
                };
                let msg = outcome.message();
                let sep = if msg.is_empty() { "" } else { ": " };
                self.line(&format!(
                    "{word} {} #{} {} ({:.2}s){sep}{msg}",
                    case.node,
                    case.iteration,
                    case.name,
                    duration.as_secs_f64()
                ));
                if let Some(b) = &self.bars {
                    b.overall.inc(1);
                }
            }
            EventKind::NodeError {
                node,
                iteration,
                message,
            } => {
                self.line(&format!("NODE ERROR {node} #{iteration}: {message}"));
            }
            EventKind::RunCancelled { reason } => {
                self.line(&format!(
                    "CANCELLED ({reason}): no new case starts; running cases finish (Ctrl-C again to stop now)"
                ));
            }
            EventKind::RunFinished { duration } => {
                if let Some(b) = self.bars.take() {
                    for pb in b.nodes.values() {
                        pb.finish_and_clear();
                    }
                    b.overall.finish_and_clear();
                }
                self.line(&format!("finished in {:.1}s", duration.as_secs_f64()));
            }
        }
    }

    /// Prints text after the run (the table and the final count line).
    pub fn finish(&mut self, text: &str) {
        let _ = write!(self.out, "{}", self.redactor.redact(text));
        let _ = self.out.flush();
    }
}
