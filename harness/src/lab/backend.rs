//! `harness lab backend NODE quadlet|legacy`: switch a node's orchestrator backend, so the
//! lifecycle suite can show the legacy path losing its containers on a daemon restart.

use std::{
    fs,
    time::{Duration, Instant},
};

use serde_json::json;

use super::{
    LabError,
    layout::{LabNode, node_dir, password_file},
    node,
    provision::orchestrator_config,
    rpc::Session,
    up::{current_backend_is_quadlet, wait_orchestrator},
};

/// Uninstalls the node's apps (data kept), rewrites the config, restarts the orchestrator.
pub fn switch(n: &LabNode, quadlet: bool) -> Result<i32, LabError> {
    let name = if quadlet { "quadlet" } else { "legacy" };
    if current_backend_is_quadlet(n) == quadlet {
        println!("{}: backend already {name}", n.name);
        return Ok(0);
    }
    let session = Session::login(n)?;
    // One app at a time, listed afresh: an app others require goes with its dependents
    // (`cascade`, dependents first), so the next listing no longer holds them.
    for _ in 0..100 {
        let list = session.call("container-list", json!({}))?;
        let Some(id) = list["apps"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(|a| a["id"].as_str())
            .map(str::to_owned)
        else {
            break;
        };
        let start = Instant::now();
        let r = session.call(
            "package.uninstall",
            json!({ "id": id, "purge": false, "cascade": true }),
        )?;
        let cascaded: Vec<&str> = r["cascaded"]
            .as_array()
            .map(|c| c.iter().filter_map(|x| x.as_str()).collect())
            .unwrap_or_default();
        println!(
            "{}: uninstalled {id}{} (data kept) in {:.1} s",
            n.name,
            if cascaded.is_empty() {
                String::new()
            } else {
                format!(" and first {}", cascaded.join(", "))
            },
            start.elapsed().as_secs_f64()
        );
    }
    let hash_file = password_file().with_extension("hash");
    let hash = fs::read_to_string(&hash_file).map_err(|e| LabError::Io {
        path: hash_file.display().to_string(),
        detail: e.to_string(),
    })?;
    super::host::write_atomic(
        &node_dir(n).join("etc/orchestrator/config.toml"),
        orchestrator_config(hash.trim(), quadlet).as_bytes(),
        0o640,
    )?;
    node::exec_in(
        n,
        &["chown", "archy:archy", "/etc/orchestrator/config.toml"],
    )?;
    node::exec_in(n, &["systemctl", "restart", "orchestrator.service"])?;
    wait_orchestrator(n, Duration::from_secs(60))?;
    println!("{}: backend now {name}", n.name);
    Ok(0)
}
