//! The `harness lab` subcommands and their entry point.

/// `harness lab ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum LabCommand {
    /// Build (or reuse) and boot the two lab nodes, install the orchestrator and fixture apps.
    Up,
    /// Stop the nodes and remove every namespace, link, mount and process the lab made.
    Down,
    /// Print each node's state.
    Status,
}

/// Why a lab command failed.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Placeholder until the lab lands.
    #[error("failed to run lab command: not built yet")]
    NotBuilt,
}

/// Runs a lab subcommand; returns the process exit code.
pub fn run(_cmd: &LabCommand) -> Result<i32, LabError> {
    Err(LabError::NotBuilt)
}
