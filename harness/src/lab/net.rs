//! The lab network: host bridge `archy-lab0` (10.77.0.1/24, forwarding off, so nothing from a
//! node leaves the lab) and one network namespace + veth pair per node.

use std::{path::Path, process::Command};

use super::{
    LabError,
    host::{ok, run},
    layout::{HOST_ADDRESS, LAB_INTERFACE, LabNode, PREFIX_LEN},
};

fn ip(args: &[&str]) -> Result<String, LabError> {
    run(Command::new("ip").args(args))
}

fn netns_exec(node: &LabNode, args: &[&str]) -> Result<String, LabError> {
    run(Command::new("ip")
        .args(["netns", "exec", node.name])
        .args(args))
}

/// Creates the host bridge if it is missing.
pub fn bridge_up() -> Result<(), LabError> {
    if !Path::new("/sys/class/net").join(LAB_INTERFACE).exists() {
        ip(&["link", "add", LAB_INTERFACE, "type", "bridge"])?;
        ip(&[
            "addr",
            "add",
            &format!("{HOST_ADDRESS}/{PREFIX_LEN}"),
            "dev",
            LAB_INTERFACE,
        ])?;
    }
    // Packets from a node must never be routed beyond the lab.
    std::fs::write(
        format!("/proc/sys/net/ipv4/conf/{LAB_INTERFACE}/forwarding"),
        "0",
    )
    .map_err(|e| LabError::Io {
        path: format!("/proc/sys/net/ipv4/conf/{LAB_INTERFACE}/forwarding"),
        detail: e.to_string(),
    })?;
    ip(&["link", "set", LAB_INTERFACE, "up"])?;
    Ok(())
}

/// Creates the node's namespace and veth, addressed and routed, if missing.
pub fn node_up(node: &LabNode) -> Result<(), LabError> {
    let ns = Path::new("/run/netns").join(node.name);
    if !ns.exists() {
        ip(&["netns", "add", node.name])?;
    }
    if !Path::new("/sys/class/net").join(node.veth).exists() {
        let peer = format!("vn-{}", &node.veth[3..]);
        ip(&[
            "link", "add", node.veth, "type", "veth", "peer", "name", &peer,
        ])?;
        ip(&["link", "set", &peer, "netns", node.name])?;
        netns_exec(node, &["ip", "link", "set", &peer, "name", "eth0"])?;
        netns_exec(
            node,
            &[
                "ip",
                "addr",
                "add",
                &format!("{}/{PREFIX_LEN}", node.address),
                "dev",
                "eth0",
            ],
        )?;
        netns_exec(node, &["ip", "link", "set", "eth0", "up"])?;
        netns_exec(node, &["ip", "link", "set", "lo", "up"])?;
        netns_exec(
            node,
            &["ip", "route", "add", "default", "via", HOST_ADDRESS],
        )?;
    }
    ip(&["link", "set", node.veth, "master", LAB_INTERFACE, "up"])?;
    Ok(())
}

/// Removes the node's namespace and veth; absent ones are fine.
pub fn node_down(node: &LabNode) {
    ok(Command::new("ip").args(["link", "del", node.veth]));
    ok(Command::new("ip").args(["netns", "del", node.name]));
}

/// Removes the host bridge; absent is fine.
pub fn bridge_down() {
    ok(Command::new("ip").args(["link", "del", LAB_INTERFACE]));
}

/// What of the lab network still exists (for `lab down`'s final check and `lab status`).
pub fn leftovers(nodes: &[LabNode]) -> Vec<String> {
    let mut left = Vec::new();
    if Path::new("/sys/class/net").join(LAB_INTERFACE).exists() {
        left.push(format!("link {LAB_INTERFACE}"));
    }
    for n in nodes {
        if Path::new("/sys/class/net").join(n.veth).exists() {
            left.push(format!("link {}", n.veth));
        }
        if Path::new("/run/netns").join(n.name).exists() {
            left.push(format!("network namespace {}", n.name));
        }
    }
    left
}
