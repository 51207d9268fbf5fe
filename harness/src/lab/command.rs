//! The `harness lab` subcommands, their errors, and their entry point.

use std::path::PathBuf;

use super::{backend, down, failpoints, failpoints::FailSpec, layout, status, supervise, up};

/// `harness lab ...`
#[derive(Debug, Clone, clap::Subcommand)]
pub enum LabCommand {
    /// Build (or reuse) and boot the two lab nodes, install the orchestrator and fixture apps.
    Up(up::UpOptions),
    /// Stop the nodes and remove every namespace, link, mount and process the lab made.
    Down,
    /// Print each node's state: booted, SSH, orchestrator, apps installed.
    Status,
    /// Power one node off, leaving its network in place (`lab up` boots it again): a node
    /// that is down, as a release engineer would meet one.
    Stop {
        #[arg(help = node_help())]
        node: String,
    },
    /// Switch a node's orchestrator backend (uninstalls its apps, keeping their data).
    Backend {
        #[arg(help = node_help())]
        node: String,
        /// `quadlet` (the default) or `legacy` (the old `podman create` path).
        backend: BackendKind,
    },
    /// Switch fail points on in a node's orchestrator (a build with `--features failpoints`):
    /// writes a systemd drop-in setting FAILPOINTS, restarts it and waits for login.
    Failpoints {
        #[arg(help = node_help())]
        node: String,
        /// The FAILPOINTS value, `name=action[->action...][;name=...]` in the `fail` crate's
        /// syntax, e.g. `regression-update-not-applied=return`.
        #[arg(required_unless_present = "clear", conflicts_with = "clear")]
        spec: Option<FailSpec>,
        /// Remove the drop-in instead (restarts the orchestrator without fail points).
        #[arg(long)]
        clear: bool,
    },
    /// Internal: boot a node and boot it again when it reboots (started by `lab up`).
    #[command(hide = true)]
    Supervise {
        /// The node.
        node: String,
    },
}

/// The help of a `node` argument, naming the nodes of [`layout::NODES`].
fn node_help() -> String {
    format!("The node ({})", layout::node_names("`"))
}

/// The orchestrator backends a node can run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BackendKind {
    /// Apps as rootless Quadlet units under the user's systemd.
    Quadlet,
    /// Apps as containers parented under the orchestrator's own service.
    Legacy,
}

/// Why a lab command failed.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// Not root.
    #[error("failed to manage the lab: it needs root (network namespaces, nspawn); run as root")]
    NotRoot,
    /// Host tools missing.
    #[error("failed to find {missing} on this machine: apt-get install {packages}")]
    MissingTools {
        /// The missing programs.
        missing: String,
        /// The Debian packages that provide them.
        packages: String,
    },
    /// A command failed.
    #[error("failed to run `{command}`: {detail}")]
    Command {
        /// The command line.
        command: String,
        /// Its exit status and stderr.
        detail: String,
    },
    /// A file operation failed.
    #[error("failed to write or read {path}: {detail}")]
    Io {
        /// The path.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// An unknown node name.
    #[error("unknown lab node {name:?} (known: {known})", known = layout::node_names(""))]
    UnknownNode {
        /// The name given.
        name: String,
    },
    /// The node is not booted.
    #[error("lab node {node} is not running: run harness lab up")]
    NodeDown {
        /// The node.
        node: String,
    },
    /// Two nodes' systemd share a cgroup.
    #[error(
        "lab nodes {nodes} share the cgroup {cgroup}: each node's units would hold the other's \
         processes (README, \"A known fault of the lab\"); run harness lab down, then harness lab up"
    )]
    SharedCgroup {
        /// The two nodes.
        nodes: String,
        /// The cgroup v2 path of both nodes' PID 1.
        cgroup: String,
    },
    /// A wait ran out.
    #[error("lab node {node}: timed out waiting for {what}")]
    Timeout {
        /// The node.
        node: String,
        /// What was awaited.
        what: String,
    },
    /// The orchestrator refused or failed a call.
    #[error("lab node {node}: orchestrator call {method} failed: {detail}")]
    Orchestrator {
        /// The node.
        node: String,
        /// The JSON-RPC method.
        method: String,
        /// The error.
        detail: String,
    },
    /// A fixture image tag is missing after the build.
    #[error("lab node {node}: image {tag} is missing after the build")]
    MissingImage {
        /// The node.
        node: String,
        /// The image tag.
        tag: String,
    },
    /// Fail points did not end up as asked.
    #[error("lab node {node}: failed to switch fail points: {detail}")]
    Failpoints {
        /// The node.
        node: String,
        /// What the orchestrator runs with instead.
        detail: String,
    },
    /// The route guard refused to contact a node (its route does not use the lab bridge).
    #[error("lab node {node}: {detail}")]
    Route {
        /// The node.
        node: String,
        /// The guard's refusal.
        detail: String,
    },
    /// `lab down` found things it could not remove.
    #[error("failed to clear the lab: left behind {0}")]
    Leftovers(String),
    /// The workspace (fleet.toml) was not found.
    #[error("failed to find the workspace: no fleet.toml in {0} or above")]
    NoWorkspace(PathBuf),
}

/// Runs a lab subcommand; returns the process exit code.
pub fn run(cmd: &LabCommand) -> Result<i32, LabError> {
    if !super::host::is_root() {
        return Err(LabError::NotRoot);
    }
    let node =
        |name: &str| layout::node(name).ok_or_else(|| LabError::UnknownNode { name: name.into() });
    match cmd {
        LabCommand::Up(options) => up::up(options),
        LabCommand::Down => down::down(),
        LabCommand::Status => status::status(),
        LabCommand::Stop { node: name } => down::stop_node(&node(name)?),
        LabCommand::Backend {
            node: name,
            backend,
        } => backend::switch(&node(name)?, *backend == BackendKind::Quadlet),
        LabCommand::Failpoints {
            node: name, spec, ..
        } => failpoints::switch(&node(name)?, spec.as_ref()),
        LabCommand::Supervise { node: name } => supervise::supervise(&node(name)?),
    }
}
