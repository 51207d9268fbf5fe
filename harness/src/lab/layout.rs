//! Where the lab lives: its names, addresses and paths. `fleet.toml`'s `lab` fleet mirrors it.

use std::path::PathBuf;

/// The host bridge every node's veth hangs off; the route guard checks routes use it.
pub const LAB_INTERFACE: &str = "archy-lab0";
/// The route guard every lab connection goes through: checked against the kernel's route and
/// bound to the lab bridge.
pub fn guard() -> crate::transport::RouteGuard {
    crate::transport::RouteGuard::new(Some(LAB_INTERFACE.to_owned()))
}

/// The host's address on the lab bridge.
pub const HOST_ADDRESS: &str = "10.77.0.1";
/// Prefix length of the lab network.
pub const PREFIX_LEN: u8 = 24;
/// The app user inside every node.
pub const APP_USER: &str = "archy";
/// The app user's uid inside every node.
pub const APP_UID: u32 = 1000;
/// Debian suite of the node image (Debian 12's podman has no Quadlet).
pub const SUITE: &str = "trixie";
/// Debian mirror used by debootstrap; a package registry, the only outside host the lab uses.
pub const MIRROR: &str = "http://deb.debian.org/debian";
/// Packages of the node image.
pub const PACKAGES: &str = "systemd,systemd-sysv,dbus,openssh-server,podman,iproute2,curl,\
ca-certificates,nftables,passt,uidmap,dbus-user-session";
/// The drop-in of `harness lab failpoints` (absent unless a regression is switched on).
pub const FAILPOINTS_DROP_IN: &str =
    "/etc/systemd/system/orchestrator.service.d/50-failpoints.conf";
/// The orchestrator's config file in every node (chaos `config-corrupt` breaks and restores it).
pub const ORCHESTRATOR_CONFIG: &str = "/etc/orchestrator/config.toml";
/// The orchestrator's state file in every node (chaos `state-file-lost`/`-corrupt`).
pub const STATE_FILE: &str = "/var/lib/orchestrator/state.json";
/// The orchestrator's catalog override folder in every node (root-owned 0755, empty at `up`).
pub const CATALOG_OVERRIDE_DIR: &str = "/etc/orchestrator/catalog.d";
/// The fixture image tags built in every node: version "1", and "2" built from it.
pub const IMAGE_TAGS: [&str; 2] = ["localhost/lab-app:latest", "localhost/lab-app:v2"];
/// Bumped when the base provisioning changes, so an old cached base is provisioned again.
pub const BASE_STAMP: &str = "archy-lab-base-v6";

/// One lab node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LabNode {
    /// Its name: machine name, network namespace and fleet node name.
    pub name: &'static str,
    /// Its address on the lab network.
    pub address: &'static str,
    /// Host-side veth name.
    pub veth: &'static str,
}

/// The two lab nodes, mirroring the release fleet's `.228` and `.198`.
pub const NODES: [LabNode; 2] = [
    LabNode {
        name: "lab-228",
        address: "10.77.0.228",
        veth: "vl-228",
    },
    LabNode {
        name: "lab-198",
        address: "10.77.0.198",
        veth: "vl-198",
    },
];

/// The nodes' names, each between `quote`s, joined with `, ` (for help and errors).
pub fn node_names(quote: &str) -> String {
    NODES
        .map(|n| format!("{quote}{}{quote}", n.name))
        .join(", ")
}

/// Looks a node up by name.
pub fn node(name: &str) -> Option<LabNode> {
    NODES.into_iter().find(|n| n.name == name)
}

/// Cache of the debootstrapped, provisioned base root filesystem (kept across `lab down`).
pub fn base_dir() -> PathBuf {
    PathBuf::from("/var/cache/archy-lab/base")
}

/// State of the lab: node copies, keys, secrets, supervisor pid files and logs.
pub fn state_dir() -> PathBuf {
    PathBuf::from("/var/lib/archy-lab")
}

/// A node's root filesystem.
pub fn node_dir(node: &LabNode) -> PathBuf {
    state_dir().join("nodes").join(node.name)
}

/// The harness's SSH key (generated per lab, never committed).
pub fn ssh_key() -> PathBuf {
    state_dir().join("ssh/id_ed25519")
}

/// The lab's known_hosts, written from the nodes' own host key files.
pub fn known_hosts() -> PathBuf {
    state_dir().join("ssh/known_hosts")
}

/// The orchestrator password of this lab (generated per lab, mode 0600).
pub fn password_file() -> PathBuf {
    state_dir().join("secrets/orchestrator-password")
}

/// Pid files and logs of supervisors.
pub fn run_dir() -> PathBuf {
    state_dir().join("run")
}
