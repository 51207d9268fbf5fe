//! A recording `Executor` answered from memory, for tests and benches (never used in production).

use std::sync::Mutex;
use std::time::Duration;

use super::{CommandOutput, Executor, Program};

type Answer = Box<dyn Fn(Program, &[String]) -> CommandOutput + Send + Sync>;

/// Records every command line and answers with a fixed function.
pub struct RecordingExecutor {
    calls: Mutex<Vec<String>>,
    answer: Answer,
}

impl RecordingExecutor {
    /// Answers every command with success and empty output.
    pub fn ok() -> Self {
        Self::answering(|_, _| CommandOutput {
            success: true,
            ..CommandOutput::default()
        })
    }

    /// Answers with `f`.
    pub fn answering(
        f: impl Fn(Program, &[String]) -> CommandOutput + Send + Sync + 'static,
    ) -> Self {
        RecordingExecutor {
            calls: Mutex::new(Vec::new()),
            answer: Box::new(f),
        }
    }

    /// The command lines seen so far, as `program arg arg...`.
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Forgets the calls seen so far.
    pub fn clear(&self) {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Executor for RecordingExecutor {
    fn run(
        &self,
        program: Program,
        args: &[String],
        _budget: Duration,
    ) -> std::io::Result<CommandOutput> {
        let line = std::iter::once(program.as_str())
            .chain(args.iter().map(String::as_str))
            .collect::<Vec<_>>()
            .join(" ");
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
        Ok((self.answer)(program, args))
    }
}
