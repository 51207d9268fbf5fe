//! Running commands on this machine, and finding the lab's own processes.

use std::{
    fs,
    path::Path,
    process::{Command, Stdio},
};

use super::LabError;

/// Runs `cmd`, returning stdout; a non-zero exit is an error carrying its stderr.
pub fn run(cmd: &mut Command) -> Result<String, LabError> {
    let shown = describe(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| LabError::Command {
            command: shown.clone(),
            detail: e.to_string(),
        })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(LabError::Command {
            command: shown,
            detail: format!(
                "{}: {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}

/// Runs `cmd` and reports only whether it succeeded (for idempotent clean-up steps).
pub fn ok(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// A command for messages: program and arguments.
fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// True when this process runs as root.
pub fn is_root() -> bool {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .map(|l| l.split_whitespace().nth(2) == Some("0"))
        })
        .unwrap_or(false)
}

/// True when a program is on PATH.
pub fn has_program(name: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(name).is_file()))
        .unwrap_or(false)
}

/// True when process `pid` exists and is not a zombie.
pub fn alive(pid: u32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            // The state letter follows the parenthesised command name.
            s.rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .is_some_and(|state| state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// Pids whose command line contains every one of `needles` as separate arguments.
pub fn find_processes(needles: &[&str]) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    let me = std::process::id();
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|raw| {
                let args: Vec<&[u8]> = raw.split(|b| *b == 0).collect();
                needles.iter().all(|n| args.contains(&n.as_bytes()))
            })
        })
        .filter(|pid| alive(*pid))
        .collect()
}

/// The children of `pid`.
pub fn children(pid: u32) -> Vec<u32> {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .filter_map(|t| fs::read_to_string(t.ok()?.path().join("children")).ok())
        .flat_map(|s| {
            s.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u32>>()
        })
        .collect()
}

/// Sends `signal` (a name like `TERM` or `KILL`) to `pid`.
pub fn signal(pid: u32, signal: &str) -> bool {
    ok(Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string()))
}

/// Reads a pid file; `None` when absent or not a live process.
pub fn read_pid(path: &Path) -> Option<u32> {
    let pid = fs::read_to_string(path).ok()?.trim().parse().ok()?;
    alive(pid).then_some(pid)
}

/// `crate::fsutil::write_atomic` with the lab's error.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), LabError> {
    crate::fsutil::write_atomic(path, contents, mode).map_err(|e| LabError::Io {
        path: path.display().to_string(),
        detail: e.to_string(),
    })
}
