//! The checked suite types: what the planner and the checks read.

use std::{collections::BTreeMap, path::PathBuf, time::Duration};

use crate::model::{AppId, Check};

/// One app's suite, parsed and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// The file it came from.
    pub path: PathBuf,
    /// The catalog it belongs to (`lab`, `release`): the folder under `suites/`.
    pub catalog: String,
    /// The app under test.
    pub app: AppId,
    /// Apps that must be installed (and are installed first).
    pub requires: Vec<AppId>,
    /// How to tell the app's RPC is reachable; all must pass.
    pub rpc: Vec<Probe>,
    /// UI URLs that must answer 200 with a non-empty body.
    pub ui: Vec<UiProbe>,
    /// Data that must survive stop, restart, reinstall and reboot.
    pub data: Vec<DataProbe>,
    /// States that do not apply to this app, with the reason.
    pub not_applicable: BTreeMap<Check, String>,
    /// How long the app may take to answer its probes after a start or install.
    pub start_budget: Duration,
    /// How long the app may take to be back after a node reboot.
    pub reboot_budget: Duration,
    /// Named volumes the app keeps its data in (checked to survive stop and reinstall).
    pub volumes: Vec<String>,
    /// How the `update` check moves the app to a new manifest and back.
    pub update: Option<UpdateSpec>,
    /// The app's lab-only fault control (to make it unhealthy on purpose).
    pub fault: Option<FaultControl>,
    /// The L4 journey's steps (none: no journey case).
    pub journey: Vec<super::journey::Step>,
}

/// The `[update]` table: a new manifest is the current one with another image.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateSpec {
    /// The image the new manifest names (checked to be shell-safe).
    pub image: String,
    /// Probes that pass on the current version (after moving back).
    pub before: Vec<Probe>,
    /// Probes that pass on the new version.
    pub after: Vec<Probe>,
}

/// Where the app takes fault commands (`unhealthy`, `healthy`, `exit`); lab fixtures only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultControl {
    /// `POST http://<node>:<port>/lab/fault` with the command as the body.
    Http(u16),
    /// A `fault <command>` line on the app's TCP port.
    Tcp(u16),
}

/// A check that the app answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Probe {
    /// A JSON-RPC 2.0 call on the app's own port (`POST http://<node>:<port><path>`); passes
    /// when the reply has a `result`, and, if `expect` is set, the value at the JSON pointer
    /// equals it.
    AppJsonRpc {
        /// The app's port on the node.
        port: u16,
        /// The HTTP path, `/` by default.
        path: String,
        /// The method called.
        method: String,
        /// Optional `(json pointer into the reply, expected value)`.
        expect: Option<(String, serde_json::Value)>,
    },
    /// A JSON-RPC call to the orchestrator (e.g. `package.status`), same pass rule.
    OrchestratorRpc {
        /// The method called.
        method: String,
        /// Its params.
        params: serde_json::Value,
        /// Optional `(json pointer into the reply, expected value)`.
        expect: Option<(String, serde_json::Value)>,
    },
    /// A TCP connection to the app's port; if `send` is set, the line is sent and the first line
    /// of the answer must contain `expect`.
    Tcp {
        /// The app's port on the node.
        port: u16,
        /// Line to send (a newline is added).
        send: Option<String>,
        /// Text the first answered line must contain.
        expect: Option<String>,
    },
    /// A command run over SSH on the node; passes on exit status 0 (and `expect` in stdout).
    Ssh {
        /// The shell command.
        command: String,
        /// Text stdout must contain.
        expect: Option<String>,
    },
}

/// A UI URL that must answer 200 with a non-empty body.
#[derive(Debug, Clone, PartialEq)]
pub struct UiProbe {
    /// Where the URL points.
    pub target: UiTarget,
    /// Text the body must contain, if set.
    pub contains: Option<String>,
    /// The app whose container answers the URL when it is not the suite's own (a UI companion
    /// serving another app's UI, as archy-bitcoin-ui serves bitcoin-knots's port 8334); it is
    /// installed with the app and its port is not counted as the app's.
    pub served_by: Option<AppId>,
}

impl UiProbe {
    /// The URL as a user would read it: `/` (dashboard), `/app/<prefix>/<path>`, `:<port><path>`.
    pub fn url(&self) -> String {
        match &self.target {
            UiTarget::Dashboard => "/".to_owned(),
            UiTarget::AppProxy { prefix, path } => format!("/app/{prefix}/{path}"),
            UiTarget::Direct { port, path } => format!(":{port}{path}"),
        }
    }
}

/// Where a UI probe points.
#[derive(Debug, Clone, PartialEq)]
pub enum UiTarget {
    /// The orchestrator's dashboard, `GET /` (after login).
    Dashboard,
    /// The orchestrator's proxy, `GET /app/<prefix>/<path>` (after login).
    AppProxy {
        /// The proxied path's first segment: the app's id unless the suite names another
        /// (`/app/btcpay/` serves btcpay-server).
        prefix: ProxyPrefix,
        /// Path below `/app/<prefix>/`, empty for the root.
        path: String,
    },
    /// The app's own port, `GET http://<node>:<port><path>`.
    Direct {
        /// The app's port on the node.
        port: u16,
        /// The path, starting with `/`.
        path: String,
    },
}

/// The first path segment of a proxied UI, `/app/<prefix>/`: shaped like an app id (the
/// orchestrator's proxy accepts nothing else there) but not always one (`btcpay`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProxyPrefix(String);

impl ProxyPrefix {
    /// Checks `value` with the app id rule and wraps it.
    pub fn new(value: &str) -> Result<Self, String> {
        AppId::new(value).map(Self::from).map_err(|_| {
            format!("invalid proxy prefix {value:?}: must match [a-z0-9][a-z0-9-]{{0,62}}")
        })
    }

    /// The prefix as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<AppId> for ProxyPrefix {
    fn from(app: AppId) -> Self {
        Self(app.as_str().to_owned())
    }
}

impl std::fmt::Display for ProxyPrefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A value read from the app that must obey a rule across lifecycle changes.
#[derive(Debug, Clone, PartialEq)]
pub struct DataProbe {
    /// A short name for messages (`height`).
    pub name: String,
    /// How to read it: a JSON-RPC probe whose `expect` pointer is ignored.
    pub port: u16,
    /// HTTP path of the JSON-RPC endpoint.
    pub path: String,
    /// Method called.
    pub method: String,
    /// JSON pointer to a number in the reply (`/result/height`).
    pub pointer: String,
    /// The rule.
    pub rule: DataRule,
}

/// What a data probe's value must do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataRule {
    /// The value never goes down (a chain height).
    NonDecreasing,
    /// The value never changes.
    Unchanged,
}
