//! The per-node supervisor: boots the node, and boots it again when it reboots.
//!
//! `systemctl reboot` inside a node makes systemd-nspawn exit with status 133; without someone
//! to start it again, a reboot test would kill the node for good. Any other exit ends it.

use std::{fs, process::Command};

use super::{
    LabError, cgroup,
    layout::{LabNode, node_dir},
    node::{nspawn_args, nspawn_pid_file, supervisor_pid_file},
};

/// The exit status of systemd-nspawn when the container rebooted.
const REBOOT_STATUS: i32 = 133;

/// Runs the supervisor loop in the foreground until the node powers off.
pub fn supervise(node: &LabNode) -> Result<i32, LabError> {
    fs::write(supervisor_pid_file(node), std::process::id().to_string()).ok();
    for problem in cgroup::enter(node) {
        eprintln!("supervisor {}: no cgroup of its own: {problem}", node.name);
    }
    let mut boots = 0u32;
    let code = loop {
        // A stale propagate dir from the previous boot makes nspawn refuse the machine name.
        fs::remove_dir_all(format!("/run/systemd/nspawn/propagate/{}", node.name)).ok();
        boots += 1;
        eprintln!("supervisor {}: boot {boots}", node.name);
        let mut child = Command::new("systemd-nspawn")
            .env("SYSTEMD_NSPAWN_API_VFS_WRITABLE", "1")
            .env("SYSTEMD_NSPAWN_UNIFIED_HIERARCHY", "1")
            .args(nspawn_args(node, &node_dir(node)))
            .spawn()
            .map_err(|e| LabError::Command {
                command: "systemd-nspawn".into(),
                detail: e.to_string(),
            })?;
        fs::write(nspawn_pid_file(node), child.id().to_string()).ok();
        let status = child.wait().map_err(|e| LabError::Command {
            command: "systemd-nspawn".into(),
            detail: e.to_string(),
        })?;
        eprintln!("supervisor {}: nspawn exited with {status}", node.name);
        if status.code() != Some(REBOOT_STATUS) {
            break status.code().unwrap_or(1);
        }
    };
    fs::remove_file(nspawn_pid_file(node)).ok();
    fs::remove_file(supervisor_pid_file(node)).ok();
    Ok(code)
}
