//! `harness lab status`: each node's state (booted, SSH, orchestrator, the fail points its
//! orchestrator runs with, apps installed).

use std::{net::SocketAddr, time::Duration};

use serde_json::json;

use super::{
    LabError, failpoints,
    layout::{self, LAB_INTERFACE, NODES},
    node,
    rpc::Session,
};

/// Prints the lab's state; exit code 0 when every node is fully up, 3 otherwise.
pub fn status() -> Result<i32, LabError> {
    let bridge = std::path::Path::new("/sys/class/net")
        .join(LAB_INTERFACE)
        .exists();
    let mut all_ok = bridge;
    println!(
        "{:<8} {:<12} {:<10} {:<6} {:<13} {:<10} apps",
        "node", "address", "booted", "ssh", "orchestrator", "failpoints"
    );
    for n in NODES {
        // `is-system-running` exits non-zero for `degraded` too, so its output is what counts.
        let booted = node::leader_pid(&n)
            .and_then(|leader| {
                node::command_in(leader, &["systemctl", "is-system-running"])
                    .stdin(std::process::Stdio::null())
                    .output()
                    .ok()
            })
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
            .filter(|state| !state.is_empty())
            .unwrap_or_else(|| "no".into());
        let booted_ok = booted == "running" || booted == "degraded";
        // Only when the lab bridge exists: otherwise the address would route off this machine.
        let ssh = bridge && booted_ok && ssh_answers(n.name, n.address);
        let (orch, apps) = match (bridge && booted_ok).then(|| Session::login(&n)) {
            Some(Ok(s)) => match s.call("container-list", json!({})) {
                Ok(list) => {
                    let apps: Vec<String> = list["apps"]
                        .as_array()
                        .map(|a| {
                            a.iter()
                                .map(|app| {
                                    format!(
                                        "{}:{}",
                                        app["id"].as_str().unwrap_or("?"),
                                        app["state"].as_str().unwrap_or("?")
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    ("ok".to_owned(), apps.join(" "))
                }
                Err(e) => (format!("error: {e}"), String::new()),
            },
            Some(Err(_)) => ("no".to_owned(), String::new()),
            None => ("-".to_owned(), String::new()),
        };
        // What the running orchestrator process was started with, not what the drop-in says.
        let failpoints = match booted_ok.then(|| failpoints::active(&n)) {
            Some(Ok(Some(spec))) => spec,
            Some(Ok(None)) | None => "-".to_owned(),
            Some(Err(_)) => "?".to_owned(),
        };
        all_ok &= booted_ok && ssh && orch == "ok";
        println!(
            "{:<8} {:<12} {:<10} {:<6} {:<13} {:<10} {}",
            n.name,
            n.address,
            booted,
            if ssh { "ok" } else { "no" },
            orch,
            failpoints,
            if apps.is_empty() { "-" } else { &apps }
        );
    }
    if !bridge {
        println!("lab is down: run harness lab up");
    }
    Ok(if all_ok { 0 } else { 3 })
}

fn ssh_answers(name: &str, address: &str) -> bool {
    let Ok(addr) = format!("{address}:22").parse::<SocketAddr>() else {
        return false;
    };
    layout::guard()
        .connect(name, addr, Duration::from_secs(1))
        .is_ok()
}
