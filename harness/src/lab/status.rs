//! `harness lab status`: each node's state (booted, SSH, orchestrator, apps installed).

use std::{net::SocketAddr, time::Duration};

use serde_json::json;

use super::{
    LabError,
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
        "{:<8} {:<12} {:<10} {:<6} {:<13} apps",
        "node", "address", "booted", "ssh", "orchestrator"
    );
    for n in NODES {
        let booted = node::leader_pid(&n)
            .and_then(|_| node::exec_in(&n, &["systemctl", "is-system-running"]).ok())
            .map(|s| s.trim().to_owned())
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
        all_ok &= booted_ok && ssh && orch == "ok";
        println!(
            "{:<8} {:<12} {:<10} {:<6} {:<13} {}",
            n.name,
            n.address,
            booted,
            if ssh { "ok" } else { "no" },
            orch,
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
