//! A booted node: its supervisor, its systemd (the nspawn child), and commands run inside it.

use std::{
    fs,
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread::sleep,
    time::{Duration, Instant},
};

use super::{
    LabError,
    host::{children, find_processes, read_pid, run},
    layout::{LabNode, run_dir},
};

/// The supervisor's pid file.
pub fn supervisor_pid_file(node: &LabNode) -> PathBuf {
    run_dir().join(format!("{}.supervisor.pid", node.name))
}

/// The current nspawn's pid file.
pub fn nspawn_pid_file(node: &LabNode) -> PathBuf {
    run_dir().join(format!("{}.nspawn.pid", node.name))
}

/// The node's console and supervisor log.
pub fn log_file(node: &LabNode) -> PathBuf {
    run_dir().join(format!("{}.log", node.name))
}

/// The systemd-nspawn arguments that boot `node` from `root` (see LAB-NOTES.md).
pub fn nspawn_args(node: &LabNode, root: &Path) -> Vec<String> {
    vec![
        "-D".into(),
        root.display().to_string(),
        "-b".into(),
        "--register=no".into(),
        "--keep-unit".into(),
        "-M".into(),
        node.name.into(),
        "--capability=all".into(),
        format!("--network-namespace-path=/run/netns/{}", node.name),
        "--resolv-conf=off".into(),
        "--console=pipe".into(),
    ]
}

/// The live nspawn pid of `node`, from its pid file or by looking for it.
pub fn nspawn_pid(node: &LabNode) -> Option<u32> {
    read_pid(&nspawn_pid_file(node)).or_else(|| {
        find_processes(&["systemd-nspawn", "-M", node.name])
            .into_iter()
            .next()
    })
}

/// The node's PID 1 as seen from the host (the nspawn's child), if booted.
pub fn leader_pid(node: &LabNode) -> Option<u32> {
    children(nspawn_pid(node)?).into_iter().next()
}

/// Starts the supervisor of `node` (which boots it) unless one runs.
pub fn start_supervisor(node: &LabNode) -> Result<(), LabError> {
    if read_pid(&supervisor_pid_file(node)).is_some() {
        return Ok(());
    }
    fs::create_dir_all(run_dir()).ok();
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file(node))
        .map_err(|e| LabError::Io {
            path: log_file(node).display().to_string(),
            detail: e.to_string(),
        })?;
    let exe = std::env::current_exe().map_err(|e| LabError::Io {
        path: "current executable".into(),
        detail: e.to_string(),
    })?;
    let err = log.try_clone().map_err(|e| LabError::Io {
        path: log_file(node).display().to_string(),
        detail: e.to_string(),
    })?;
    let child = Command::new(exe)
        .args(["lab", "supervise", node.name])
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(err)
        // Its own process group: a Ctrl-C in the terminal that ran `lab up` must not stop nodes.
        .process_group(0)
        .spawn()
        .map_err(|e| LabError::Command {
            command: "harness lab supervise".into(),
            detail: e.to_string(),
        })?;
    fs::write(supervisor_pid_file(node), child.id().to_string()).map_err(|e| LabError::Io {
        path: supervisor_pid_file(node).display().to_string(),
        detail: e.to_string(),
    })?;
    Ok(())
}

/// A command run inside the node's namespaces as root.
pub fn command_in(leader: u32, args: &[&str]) -> Command {
    let mut cmd = Command::new("nsenter");
    cmd.args([
        "-t",
        &leader.to_string(),
        "-m",
        "-u",
        "-i",
        "-n",
        "-p",
        "--",
    ])
    .args(args);
    cmd
}

/// Runs a command inside the booted node.
pub fn exec_in(node: &LabNode, args: &[&str]) -> Result<String, LabError> {
    let leader = leader_pid(node).ok_or_else(|| LabError::NodeDown {
        node: node.name.into(),
    })?;
    run(&mut command_in(leader, args))
}

/// Waits until the node's systemd finished booting (`running` or `degraded`).
pub fn wait_booted(node: &LabNode, budget: Duration) -> Result<String, LabError> {
    wait_manager(node, &[], "boot", budget)
}

/// Waits until the app user's systemd finished its start-up transaction, the apps it starts
/// at boot included: `user@.service` is active before that, when the user manager is only at
/// `basic.target`, and an app still starting then makes the first lifecycle call wait on it.
pub fn wait_user_settled(node: &LabNode, budget: Duration) -> Result<String, LabError> {
    let machine = format!("{}@", super::layout::APP_USER);
    wait_manager(
        node,
        &["--user", "-M", &machine],
        "the app user's systemd start-up",
        budget,
    )
}

/// Polls `systemctl [manager] is-system-running` until it says `running` or `degraded`.
fn wait_manager(
    node: &LabNode,
    manager: &[&str],
    what: &str,
    budget: Duration,
) -> Result<String, LabError> {
    let start = Instant::now();
    let mut last = String::from("not started");
    let mut args = vec!["systemctl"];
    args.extend_from_slice(manager);
    args.push("is-system-running");
    while start.elapsed() < budget {
        if let Some(leader) = leader_pid(node) {
            let out = command_in(leader, &args).stdin(Stdio::null()).output();
            if let Ok(out) = out {
                last = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                if last == "running" || last == "degraded" {
                    return Ok(last);
                }
            }
        }
        sleep(Duration::from_millis(200));
    }
    Err(LabError::Timeout {
        node: node.name.into(),
        what: format!(
            "{what} (last state: {last}; see {})",
            log_file(node).display()
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nspawn_args_are_exact() {
        let node = super::super::layout::NODES[1];
        assert_eq!(
            nspawn_args(&node, Path::new("/var/lib/archy-lab/nodes/lab-198")).join(" "),
            "-D /var/lib/archy-lab/nodes/lab-198 -b --register=no --keep-unit -M lab-198 \
             --capability=all --network-namespace-path=/run/netns/lab-198 \
             --resolv-conf=off --console=pipe"
        );
    }
}
