//! `State`: the lifecycle states an app is checked in; the columns of the coverage matrix.

use std::{fmt, str::FromStr};

use super::Layer;

/// A lifecycle state, each a case per app.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// The app's container exists.
    Present,
    /// The app is running and healthy, as the orchestrator and systemd both say.
    Valid,
    /// The app's RPC answers.
    Rpc,
    /// The app's UI URLs answer 200 with a non-empty body.
    Ui,
    /// Stopped: not running, probes fail, data kept.
    Stop,
    /// Started again: running, probes pass.
    Start,
    /// Restarted: a new container, probes pass, data kept.
    Restart,
    /// Uninstalled without purge and installed again: data intact.
    Reinstall,
    /// Between uninstall and install nothing of the app is left: no container, unit file,
    /// loaded unit or open port, and the orchestrator agrees; volumes kept.
    UninstalledClean,
    /// A new manifest (another image) applied and taken back: the container restarted exactly
    /// once per change and never when nothing changed, the new version answers, data intact.
    Update,
    /// `requires` honoured both ways: a required app cannot be stopped or uninstalled under its
    /// dependents (unless `cascade`, which goes in reverse order), a dependent is not installed
    /// without its requirement, and reports `degraded` while a requirement is down.
    RequiredStack,
    /// The node rebooted: the app is back within its budget with its data.
    Reboot,
    /// The fleet's daemon unit restarted: the app's container was never restarted.
    DaemonRestart,
    /// Stopped, then the daemon restarted and the node rebooted: still stopped, per podman and
    /// the orchestrator, a reconcile tick later too; a start brings it back with its data.
    StoppedSurvives,
    /// The orchestrator's own API contract on the node (one case per node, not per app):
    /// sessions, malformed requests and their exact errors, nothing half-done.
    ApiContract,
    /// An L5 chaos scenario (one case per scenario and node, named after the scenario, not this
    /// word): a fault injected, healed, and the node back to its invariant within a deadline.
    /// Not a matrix column and not a suite key, so not in [`State::ALL`].
    Chaos,
    /// An L6 KPI cell (one case per cell and node, named after the cell): measured and judged
    /// against its budget. Not in [`State::ALL`] either.
    Perf,
}

impl State {
    /// Every state, in matrix column order.
    pub const ALL: [State; 15] = [
        State::Present,
        State::Valid,
        State::Rpc,
        State::Ui,
        State::Stop,
        State::Start,
        State::Restart,
        State::Reinstall,
        State::UninstalledClean,
        State::Update,
        State::RequiredStack,
        State::Reboot,
        State::DaemonRestart,
        State::StoppedSurvives,
        State::ApiContract,
    ];

    /// The per-app states (the matrix's columns); `ApiContract` is one case per node.
    pub fn per_app() -> impl Iterator<Item = State> {
        State::ALL.into_iter().filter(|s| !s.node_level())
    }

    /// True for a state checked once per node rather than per app.
    pub fn node_level(self) -> bool {
        matches!(self, State::ApiContract | State::Chaos | State::Perf)
    }

    /// The layer whose suite holds this state's case.
    pub fn layer(self) -> Layer {
        match self {
            State::Present | State::Valid | State::Rpc | State::ApiContract => Layer::L1,
            State::Ui => Layer::L2,
            State::Stop
            | State::Start
            | State::Restart
            | State::Reinstall
            | State::UninstalledClean
            | State::Update
            | State::RequiredStack
            | State::Reboot
            | State::DaemonRestart
            | State::StoppedSurvives => Layer::L3,
            State::Chaos => Layer::L5,
            State::Perf => Layer::L6,
        }
    }

    /// True when checking this state changes the node, so nothing else may run on it meanwhile.
    pub fn changes_node(self) -> bool {
        matches!(self.layer(), Layer::L3 | Layer::L5 | Layer::L6) || self == State::ApiContract
    }

    /// The kebab-case name used in case names and suite files.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Present => "present",
            State::Valid => "valid",
            State::Rpc => "rpc",
            State::Ui => "ui",
            State::Stop => "stop",
            State::Start => "start",
            State::Restart => "restart",
            State::Reinstall => "reinstall",
            State::UninstalledClean => "uninstalled-clean",
            State::Update => "update",
            State::RequiredStack => "required-stack",
            State::Reboot => "reboot",
            State::DaemonRestart => "daemon-restart",
            State::StoppedSurvives => "stopped-survives",
            State::ApiContract => "api-contract",
            State::Chaos => "chaos",
            State::Perf => "perf",
        }
    }

    /// The column heading in TESTING.md.
    pub fn title(self) -> &'static str {
        match self {
            State::Present => "container present",
            State::Valid => "valid state",
            State::Rpc => "RPC reachable",
            State::Ui => "UI URL 200",
            State::Stop => "stop",
            State::Start => "start",
            State::Restart => "restart",
            State::Reinstall => "reinstall",
            State::UninstalledClean => "uninstalled clean",
            State::Update => "update",
            State::RequiredStack => "required stack",
            State::Reboot => "reboot survives",
            State::DaemonRestart => "daemon-restart survives",
            State::StoppedSurvives => "stopped survives",
            State::ApiContract => "API contract",
            State::Chaos => "chaos scenario",
            State::Perf => "KPI cell",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for State {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        State::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = State::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown state {s:?} (known: {})", known.join(", "))
            })
    }
}
