//! `harness lab down`: power the nodes off and remove every process, namespace, link and
//! mount the lab made; works on a half-dead lab too, and checks nothing is left.

use std::{
    fs,
    thread::sleep,
    time::{Duration, Instant},
};

use super::{
    LabError, cgroup,
    host::{alive, find_processes, read_pid, signal},
    layout::{LabNode, NODES},
    net, node,
    progress::Progress,
};

/// Brings the lab down.
pub fn down() -> Result<i32, LabError> {
    let mut progress = Progress::new();
    progress.step("power off the nodes");
    for n in NODES {
        if let Some(leader) = node::leader_pid(&n) {
            // Asynchronous: both nodes shut down at once; we wait below.
            let _ = node::command_in(leader, &["systemctl", "--no-block", "poweroff"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
    for n in NODES {
        wait_nspawn_gone(&n, Duration::from_secs(30));
        // A poweroff ends the supervisor by itself; one left (a node that was dead) is ended here.
        stop_supervisor(&n);
        fs::remove_dir_all(format!("/run/systemd/nspawn/propagate/{}", n.name)).ok();
        fs::remove_file(node::nspawn_pid_file(&n)).ok();
        fs::remove_file(node::supervisor_pid_file(&n)).ok();
    }
    cgroup::remove(&NODES);
    progress.step("remove namespaces and links");
    for n in NODES {
        net::node_down(&n);
    }
    net::bridge_down();
    let left = leftovers();
    progress.finish("down");
    if left.is_empty() {
        println!("lab is down: no process, namespace, link or mount left");
        Ok(0)
    } else {
        Err(LabError::Leftovers(left.join(", ")))
    }
}

/// Powers one node off and ends its supervisor; its namespace and links stay.
pub fn stop_node(n: &LabNode) -> Result<i32, LabError> {
    if let Some(leader) = node::leader_pid(n) {
        let _ = node::command_in(leader, &["systemctl", "--no-block", "poweroff"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
    wait_nspawn_gone(n, Duration::from_secs(30));
    stop_supervisor(n);
    fs::remove_file(node::nspawn_pid_file(n)).ok();
    fs::remove_file(node::supervisor_pid_file(n)).ok();
    println!("{} is powered off (harness lab up boots it again)", n.name);
    Ok(0)
}

fn stop_supervisor(n: &LabNode) {
    let mut pids = find_processes(&["lab", "supervise", n.name]);
    pids.extend(read_pid(&node::supervisor_pid_file(n)));
    for pid in pids {
        signal(pid, "KILL");
    }
}

fn wait_nspawn_gone(n: &LabNode, budget: Duration) {
    let start = Instant::now();
    while start.elapsed() < budget {
        if node::nspawn_pid(n).is_none() {
            return;
        }
        sleep(Duration::from_millis(200));
    }
    // It did not power off in time: end the node's PID 1 (ending its PID namespace) and nspawn.
    if let Some(leader) = node::leader_pid(n) {
        signal(leader, "KILL");
    }
    if let Some(pid) = node::nspawn_pid(n) {
        signal(pid, "KILL");
        let start = Instant::now();
        while alive(pid) && start.elapsed() < Duration::from_secs(5) {
            sleep(Duration::from_millis(100));
        }
    }
}

/// Everything of the lab still on this machine: processes, network, mounts.
pub fn leftovers() -> Vec<String> {
    let mut left = net::leftovers(&NODES);
    for n in NODES {
        for pid in find_processes(&["systemd-nspawn", "-M", n.name]) {
            left.push(format!("process {pid} (systemd-nspawn {})", n.name));
        }
        for pid in find_processes(&["lab", "supervise", n.name]) {
            left.push(format!("process {pid} (supervisor {})", n.name));
        }
    }
    if let Ok(mounts) = fs::read_to_string("/proc/self/mounts") {
        for line in mounts.lines() {
            let point = line.split_whitespace().nth(1).unwrap_or("");
            let ours = point.starts_with("/var/lib/archy-lab/")
                || NODES
                    .iter()
                    .any(|n| point == format!("/run/netns/{}", n.name));
            if ours {
                left.push(format!("mount {point}"));
            }
        }
    }
    left
}
