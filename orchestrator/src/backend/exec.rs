//! The edge where `systemctl` and `podman` are run; every call is counted, in total and per thread
//! (an operation runs on one blocking thread, so its own cost can be reported), and every call
//! has a time budget: a command still running when it is spent is killed and reported as an
//! error naming it, so a hung start job or health check cannot hold an app's lock or a tick.

use std::cell::Cell;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

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

/// The budget of a call when none is configured (`command_timeout_secs`): long, because a
/// start job may pull an image.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs a program to completion.
pub trait Executor: Send + Sync {
    /// Runs `program args...` and returns its output; `Err` if it could not be run at all or
    /// was killed because it was still running after `budget` (`ErrorKind::TimedOut`).
    fn run(
        &self,
        program: Program,
        args: &[String],
        budget: Duration,
    ) -> std::io::Result<CommandOutput>;
}

/// The real executor: spawns the process.
#[derive(Clone, Debug, Default)]
pub struct SystemExecutor {
    /// Hide the user's D-Bus from podman (the legacy backend; see [`SystemExecutor::legacy`]).
    hide_user_bus: bool,
    /// Where the programs are, instead of `$PATH`.
    program_dir: Option<PathBuf>,
}

impl SystemExecutor {
    /// An executor for the Quadlet backend: commands see the environment as it is.
    pub fn new() -> Self {
        Self::default()
    }

    /// An executor that reproduces the legacy product: podman cannot reach the user's systemd,
    /// so it cannot move conmon into a scope of the user's manager, and every container stays
    /// parented under the orchestrator's own service (and dies when that service restarts).
    pub fn legacy() -> Self {
        Self {
            hide_user_bus: true,
            program_dir: None,
        }
    }

    /// Runs `systemctl` and `podman` from `dir` instead of finding them on `$PATH`.
    pub fn with_program_dir(mut self, dir: PathBuf) -> Self {
        self.program_dir = Some(dir);
        self
    }
}

impl Executor for SystemExecutor {
    fn run(
        &self,
        program: Program,
        args: &[String],
        budget: Duration,
    ) -> std::io::Result<CommandOutput> {
        let mut cmd = match &self.program_dir {
            Some(dir) => Command::new(dir.join(program.as_str())),
            None => Command::new(program.as_str()),
        };
        cmd.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.hide_user_bus {
            cmd.env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent");
        }
        let mut child = cmd.spawn()?;
        // Both pipes are drained while the child runs, so a chatty command cannot block on a
        // full pipe and be mistaken for a hung one.
        let stdout = drain(child.stdout.take());
        let stderr = drain(child.stderr.take());
        let status = wait_within(&mut child, budget)?;
        Ok(CommandOutput {
            success: status.success(),
            stdout: stdout.join().unwrap_or_default(),
            stderr: stderr.join().unwrap_or_default(),
        })
    }
}

/// Reads a pipe to its end on a thread of its own.
fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

/// Waits for `child` to exit; kills (SIGKILL) and reaps it once `budget` is spent.
fn wait_within(child: &mut Child, budget: Duration) -> std::io::Result<std::process::ExitStatus> {
    let deadline = Instant::now() + budget;
    // Polls from 1 ms up to 10 ms apart: a fast command is not slowed by the poll, and a hung
    // one costs a hundred wake-ups a second at most.
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(status);
        }
        let now = Instant::now();
        if now >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!(
                    "still running after {}, killed",
                    crate::time::seconds(budget)
                ),
            ));
        }
        std::thread::sleep(pause.min(deadline - now));
        pause = (pause * 2).min(Duration::from_millis(10));
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

/// An executor plus its counters and budget; what backends hold.
pub struct Commands {
    exec: Arc<dyn Executor>,
    timeout: Duration,
    systemctl: AtomicU64,
    podman: AtomicU64,
}

impl Commands {
    /// Wraps `exec`; every call gets [`DEFAULT_TIMEOUT`].
    pub fn new(exec: Arc<dyn Executor>) -> Commands {
        Commands::with_timeout(exec, DEFAULT_TIMEOUT)
    }

    /// Wraps `exec`; every call gets `timeout` unless it asks for less.
    pub fn with_timeout(exec: Arc<dyn Executor>, timeout: Duration) -> Commands {
        Commands {
            exec,
            timeout,
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
        self.run_status_within(program, args, self.timeout)
    }

    /// [`Commands::run_status`] with a budget of `budget` (or the configured one if shorter).
    pub fn run_status_within(
        &self,
        program: Program,
        args: &[&str],
        budget: Duration,
    ) -> Result<CommandOutput> {
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
        self.exec
            .run(program, &owned, budget.min(self.timeout))
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
    impl Executor for Failing {
        fn run(&self, _: Program, _: &[String], _: Duration) -> std::io::Result<CommandOutput> {
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

    /// A folder whose `systemctl` and `podman` are the given shell scripts.
    fn programs(name: &str, systemctl: &str, podman: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("orch-exec-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for (p, body) in [("systemctl", systemctl), ("podman", podman)] {
            let path = dir.join(p);
            std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }

    #[test]
    fn a_hung_command_is_killed_after_its_budget_and_named() {
        let dir = programs("hung", "exec sleep 30", "exec sleep 30");
        let exec = SystemExecutor::new().with_program_dir(dir.clone());
        let c = Commands::with_timeout(Arc::new(exec), Duration::from_millis(300));
        let began = Instant::now();
        let err = c
            .run(Program::Systemctl, &["--user", "start", "web.service"])
            .unwrap_err();
        let took = began.elapsed();
        assert_eq!(
            err.to_string(),
            "failed to run `systemctl --user start web.service`: still running after 0.3 s, killed"
        );
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_secs(3),
            "{took:?}"
        );
        // A health check asks for less than the configured budget and gets it.
        let began = Instant::now();
        let err = c
            .run_status_within(
                Program::Podman,
                &["exec", "web", "check"],
                Duration::from_millis(100),
            )
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to run `podman exec web check`: still running after 0.1 s, killed"
        );
        assert!(
            began.elapsed() < Duration::from_millis(250),
            "{:?}",
            began.elapsed()
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_command_within_its_budget_is_answered_in_full() {
        let big = "head -c 200000 /dev/zero | tr '\\0' x; echo err >&2; exit 3";
        let dir = programs("quick", "echo active", big);
        let exec = SystemExecutor::new().with_program_dir(dir.clone());
        let c = Commands::with_timeout(Arc::new(exec), Duration::from_secs(10));
        assert_eq!(
            c.run(Program::Systemctl, &["is-active"]).unwrap(),
            "active\n"
        );
        let out = c.run_status(Program::Podman, &["ps"]).unwrap();
        assert_eq!(
            (out.success, out.stdout.len(), out.stderr.as_str()),
            (false, 200_000, "err\n")
        );
        std::fs::remove_dir_all(dir).unwrap();
    }
}
