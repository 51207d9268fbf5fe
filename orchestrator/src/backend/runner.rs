//! The edge where `systemctl` and `podman` are run; every call is counted, in total and per thread
//! (an operation runs on one blocking thread, so its own cost can be reported).

use std::cell::Cell;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

use crate::error::{Error, Result};

/// A program the orchestrator runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    /// `systemctl`.
    Systemctl,
    /// `podman`.
    Podman,
}

impl Program {
    /// The executable name.
    pub fn as_str(self) -> &'static str {
        match self {
            Program::Systemctl => "systemctl",
            Program::Podman => "podman",
        }
    }
}

/// What a finished command left behind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CommandOutput {
    /// Whether it exited 0.
    pub success: bool,
    /// Its stdout.
    pub stdout: String,
    /// Its stderr.
    pub stderr: String,
}

/// Runs a program to completion.
pub trait CommandRunner: Send + Sync {
    /// Runs `program args...` and returns its output; `Err` only if it could not be run at all.
    fn run(&self, program: Program, args: &[String]) -> std::io::Result<CommandOutput>;
}

/// The real runner: spawns the process.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemRunner {
    /// Hide the user's D-Bus from podman (the legacy backend; see [`SystemRunner::legacy`]).
    hide_user_bus: bool,
}

impl SystemRunner {
    /// A runner for the Quadlet backend: commands see the environment as it is.
    pub fn new() -> Self {
        Self::default()
    }

    /// A runner that reproduces the legacy product: podman cannot reach the user's systemd,
    /// so it cannot move conmon into a scope of the user's manager, and every container stays
    /// parented under the orchestrator's own service (and dies when that service restarts).
    pub fn legacy() -> Self {
        Self {
            hide_user_bus: true,
        }
    }
}

impl CommandRunner for SystemRunner {
    fn run(&self, program: Program, args: &[String]) -> std::io::Result<CommandOutput> {
        let mut cmd = Command::new(program.as_str());
        cmd.args(args).stdin(Stdio::null());
        if self.hide_user_bus {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
        }
        let out = cmd.output()?;
        Ok(CommandOutput {
            success: out.status.success(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

/// Invocation counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Calls {
    /// `systemctl` invocations.
    pub systemctl: u64,
    /// `podman` invocations.
    pub podman: u64,
}

impl std::ops::Add for Calls {
    type Output = Calls;

    fn add(self, other: Calls) -> Calls {
        Calls {
            systemctl: self.systemctl + other.systemctl,
            podman: self.podman + other.podman,
        }
    }
}

thread_local! {
    static THREAD_CALLS: Cell<Calls> = const { Cell::new(Calls { systemctl: 0, podman: 0 }) };
}

/// A runner plus its counters; what backends hold.
pub struct Commands {
    runner: Arc<dyn CommandRunner>,
    systemctl: AtomicU64,
    podman: AtomicU64,
}

impl Commands {
    /// Wraps `runner`.
    pub fn new(runner: Arc<dyn CommandRunner>) -> Commands {
        Commands {
            runner,
            systemctl: AtomicU64::new(0),
            podman: AtomicU64::new(0),
        }
    }

    /// Runs the command and returns its stdout, or an error naming the command and its stderr.
    pub fn run(&self, program: Program, args: &[&str]) -> Result<String> {
        let out = self.run_status(program, args)?;
        if out.success {
            Ok(out.stdout)
        } else {
            Err(command_error(program, args, out.stderr.trim()))
        }
    }

    /// Runs the command and returns its output whatever its exit status.
    pub fn run_status(&self, program: Program, args: &[&str]) -> Result<CommandOutput> {
        let counter = match program {
            Program::Systemctl => &self.systemctl,
            Program::Podman => &self.podman,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        THREAD_CALLS.with(|c| {
            let mut calls = c.get();
            match program {
                Program::Systemctl => calls.systemctl += 1,
                Program::Podman => calls.podman += 1,
            }
            c.set(calls);
        });
        let owned: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
        self.runner
            .run(program, &owned)
            .map_err(|e| command_error(program, args, &e.to_string()))
    }

    /// Calls made so far by everyone.
    pub fn totals(&self) -> Calls {
        Calls {
            systemctl: self.systemctl.load(Ordering::Relaxed),
            podman: self.podman.load(Ordering::Relaxed),
        }
    }
}

/// Zeroes this thread's counts (at the start of an operation).
pub fn reset_thread_calls() {
    THREAD_CALLS.with(|c| c.set(Calls::default()));
}

/// This thread's counts since the last reset.
pub fn thread_calls() -> Calls {
    THREAD_CALLS.with(Cell::get)
}

/// The error for a failed command; environment values are masked because they may hold secrets.
fn command_error(program: Program, args: &[&str], stderr: &str) -> Error {
    let mut shown = vec![program.as_str().to_owned()];
    let mut mask_next = false;
    for a in args {
        shown.push(if mask_next {
            format!("{}=***", a.split('=').next().unwrap_or(""))
        } else {
            (*a).to_owned()
        });
        mask_next = *a == "-e" || *a == "--env";
    }
    Error::Command {
        command: shown.join(" "),
        stderr: stderr.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Failing;
    impl CommandRunner for Failing {
        fn run(&self, _: Program, _: &[String]) -> std::io::Result<CommandOutput> {
            Ok(CommandOutput {
                success: false,
                stdout: String::new(),
                stderr: "boom\n".into(),
            })
        }
    }

    #[test]
    fn counts_calls_and_masks_environment_in_errors() {
        let c = Commands::new(Arc::new(Failing));
        reset_thread_calls();
        let err = c
            .run(Program::Podman, &["create", "-e", "TOKEN=hunter2", "img"])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to run `podman create -e TOKEN=*** img`: boom"
        );
        c.run(Program::Systemctl, &["--user", "daemon-reload"])
            .unwrap_err();
        assert_eq!(
            c.totals(),
            Calls {
                systemctl: 1,
                podman: 1
            }
        );
        assert_eq!(
            thread_calls(),
            Calls {
                systemctl: 1,
                podman: 1
            }
        );
    }
}
