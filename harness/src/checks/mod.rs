//! Checks: what each lifecycle state means for an app on a node, over SSH and HTTP.

mod ctx;
mod lifecycle;
mod node_actions;
mod probes;
mod read_only;
mod setup;

pub use ctx::{Check, NodeCtx, capture};
pub use lifecycle::{reinstall, restart, start, stop};
pub use node_actions::{daemon_restart, reboot};
pub use probes::data_rule_holds;
pub use read_only::{present, rpc, ui, valid};
pub use setup::setup;
