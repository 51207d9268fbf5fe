//! Checks: what each lifecycle state means for an app on a node, over SSH and HTTP.

mod agree;
mod api_contract;
mod chaos;
mod clean;
mod ctx;
mod journey;
mod lifecycle;
mod node_actions;
mod perf;
mod probes;
mod read_only;
mod required;
mod setup;
mod stack;
mod update;

pub use api_contract::api_contract;
pub use chaos::{chaos, converge_line, converge_ms};
pub use clean::uninstalled_clean;
pub use ctx::{CheckResult, NodeCtx, capture, quote};
pub use journey::journey;
pub use lifecycle::{reinstall, restart, start, stop};
pub use node_actions::{daemon_restart, reboot, stopped_survives};
pub use perf::perf;
pub use probes::data_rule_holds;
pub use read_only::{present, rpc, ui, valid};
pub use required::required_stack;
pub use setup::{restore, setup};
pub use update::update;
