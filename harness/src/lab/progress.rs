//! Progress for the long lab steps: a spinner on a terminal, plain lines in CI.

use std::{
    io::IsTerminal,
    time::{Duration, Instant},
};

use indicatif::{ProgressBar, ProgressStyle};

/// Reports lab steps as they start and end.
pub struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    step: String,
    step_started: Instant,
}

impl Progress {
    /// A spinner when stderr is a terminal and `CI` is unset; plain lines otherwise.
    pub fn new() -> Self {
        let fancy = std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let bar = fancy.then(|| {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} lab: {msg} [{elapsed}]")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self {
            bar,
            started: Instant::now(),
            step: String::new(),
            step_started: Instant::now(),
        }
    }

    /// Starts a step, ending the previous one.
    pub fn step(&mut self, what: &str) {
        self.end_step();
        self.step = what.to_owned();
        self.step_started = Instant::now();
        match &self.bar {
            Some(bar) => bar.set_message(what.to_owned()),
            None => eprintln!("lab: {what} ..."),
        }
    }

    fn end_step(&mut self) {
        if self.step.is_empty() {
            return;
        }
        let line = format!(
            "lab: {} done in {:.1} s",
            self.step,
            self.step_started.elapsed().as_secs_f64()
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
        self.step.clear();
    }

    /// Ends the last step and prints the total time.
    pub fn finish(mut self, what: &str) {
        self.end_step();
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        eprintln!(
            "lab: {what} in {:.1} s",
            self.started.elapsed().as_secs_f64()
        );
    }
}
