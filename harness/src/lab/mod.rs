//! The lab fleet: two systemd-nspawn nodes on this machine (`harness lab up|down|status`).

mod command;

pub use command::{LabCommand, LabError, run};
