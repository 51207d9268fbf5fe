//! The lab fleet: two systemd-nspawn nodes on this machine (`harness lab up|down|status|stop|
//! backend|failpoints`).
//!
//! Each node is a copy of one cached Debian 13 root filesystem, booted with systemd-nspawn in a
//! network namespace of its own and wired to the host bridge `archy-lab0`. A supervisor process
//! per node boots it again when it reboots (nspawn exits 133). Nothing here sends a packet
//! outside 10.77.0.0/24 or loopback.

mod backend;
mod cgroup;
mod command;
mod down;
mod failpoints;
mod host;
pub mod layout;
mod net;
mod node;
mod progress;
mod provision;
mod rootfs;
mod rpc;
mod status;
mod supervise;
mod up;

pub use command::{LabCommand, LabError, run};
pub use layout::{LAB_INTERFACE, LabNode, NODES};
