//! `Check`: what is checked of an app (present, valid, stop, reboot, ...): the columns of the coverage
//! matrix and the last part of a case name. Not the app's state (running, stopped): that is what
//! the orchestrator reports and a check reads.

use std::{fmt, str::FromStr};

use super::Layer;

/// One thing checked of an app, each a case per app (a matrix column).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Check {
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
    /// An L4 browser journey in real Chromium: the app's `[[journey]]` steps through the
    /// dashboard and the app's own page, with no console error, failed load or stray asset.
    Journey,
    /// The orchestrator's own API contract on the node (one case per node, not per app):
    /// sessions, malformed requests and their exact errors, nothing half-done.
    ApiContract,
    /// An L5 chaos scenario (one case per scenario and node, named after the scenario, not this
    /// word): a fault injected, healed, and the node back to its invariant within a deadline.
    /// Not a matrix column and not a suite key, so not in [`Check::ALL`].
    Chaos,
    /// An L6 KPI cell (one case per cell and node, named after the cell): measured and judged
    /// against its budget. Not in [`Check::ALL`] either.
    Perf,
}

impl Check {
    /// Every check, in matrix column order.
    pub const ALL: [Check; 16] = [
        Check::Present,
        Check::Valid,
        Check::Rpc,
        Check::Ui,
        Check::Stop,
        Check::Start,
        Check::Restart,
        Check::Reinstall,
        Check::UninstalledClean,
        Check::Update,
        Check::RequiredStack,
        Check::Reboot,
        Check::DaemonRestart,
        Check::StoppedSurvives,
        Check::Journey,
        Check::ApiContract,
    ];

    /// The per-app checks (the matrix's columns); `ApiContract` is one case per node.
    pub fn per_app() -> impl Iterator<Item = Check> {
        Check::ALL.into_iter().filter(|s| !s.node_level())
    }

    /// The coverage matrix's columns: the per-app checks of L1 to L3. The L4 journey has its own
    /// section of TESTING.md (it may come from a separate, shorter pass).
    pub fn columns() -> impl Iterator<Item = Check> {
        Check::per_app().filter(|c| c.layer() != Layer::L4)
    }

    /// True for a check checked once per node rather than per app.
    pub fn node_level(self) -> bool {
        matches!(self, Check::ApiContract | Check::Chaos | Check::Perf)
    }

    /// The layer whose suite holds this check's case.
    pub fn layer(self) -> Layer {
        match self {
            Check::Present | Check::Valid | Check::Rpc | Check::ApiContract => Layer::L1,
            Check::Ui => Layer::L2,
            Check::Stop
            | Check::Start
            | Check::Restart
            | Check::Reinstall
            | Check::UninstalledClean
            | Check::Update
            | Check::RequiredStack
            | Check::Reboot
            | Check::DaemonRestart
            | Check::StoppedSurvives => Layer::L3,
            Check::Journey => Layer::L4,
            Check::Chaos => Layer::L5,
            Check::Perf => Layer::L6,
        }
    }

    /// True when checking this check changes the node, so nothing else may run on it meanwhile.
    pub fn changes_node(self) -> bool {
        matches!(self.layer(), Layer::L3 | Layer::L4 | Layer::L5 | Layer::L6)
            || self == Check::ApiContract
    }

    /// The kebab-case name used in case names and suite files.
    pub fn as_str(self) -> &'static str {
        match self {
            Check::Present => "present",
            Check::Valid => "valid",
            Check::Rpc => "rpc",
            Check::Ui => "ui",
            Check::Stop => "stop",
            Check::Start => "start",
            Check::Restart => "restart",
            Check::Reinstall => "reinstall",
            Check::UninstalledClean => "uninstalled-clean",
            Check::Update => "update",
            Check::RequiredStack => "required-stack",
            Check::Reboot => "reboot",
            Check::DaemonRestart => "daemon-restart",
            Check::StoppedSurvives => "stopped-survives",
            Check::Journey => "journey",
            Check::ApiContract => "api-contract",
            Check::Chaos => "chaos",
            Check::Perf => "perf",
        }
    }

    /// The column heading in TESTING.md.
    pub fn title(self) -> &'static str {
        match self {
            Check::Present => "container present",
            Check::Valid => "valid state",
            Check::Rpc => "RPC reachable",
            Check::Ui => "UI URL 200",
            Check::Stop => "stop",
            Check::Start => "start",
            Check::Restart => "restart",
            Check::Reinstall => "reinstall",
            Check::UninstalledClean => "uninstalled clean",
            Check::Update => "update",
            Check::RequiredStack => "required stack",
            Check::Reboot => "reboot survives",
            Check::DaemonRestart => "daemon-restart survives",
            Check::StoppedSurvives => "stopped survives",
            Check::Journey => "browser journey",
            Check::ApiContract => "API contract",
            Check::Chaos => "chaos scenario",
            Check::Perf => "KPI cell",
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Check {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Check::ALL
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<_> = Check::ALL.iter().map(|s| s.as_str()).collect();
                format!("unknown check {s:?} (known: {})", known.join(", "))
            })
    }
}
