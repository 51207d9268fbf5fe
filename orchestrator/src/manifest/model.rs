//! The checked manifest the rest of the program uses.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;

use super::AppId;

/// The start budget when a manifest names none.
pub const DEFAULT_START_BUDGET_SECS: u64 = 60;

/// The largest start budget a manifest may ask for (an update holds the app's lock that long).
pub const MAX_START_BUDGET_SECS: u64 = 3600;

/// One app, fully checked.
#[derive(Clone, Debug, PartialEq)]
pub struct Manifest {
    /// The app's id (equals the file stem).
    pub id: AppId,
    /// The container image reference.
    pub image: String,
    /// The container command (Quadlet `Exec=`); empty keeps the image's own.
    pub command: Vec<String>,
    /// Published ports.
    pub ports: Vec<Port>,
    /// Named volumes.
    pub volumes: Vec<Volume>,
    /// The network mode, when not podman's default.
    pub network: Option<Network>,
    /// The memory limit in MiB.
    pub memory_mib: Option<u64>,
    /// What systemd does when the container exits.
    pub restart: RestartPolicy,
    /// Apps that must be installed first.
    pub requires: Vec<AppId>,
    /// Environment variables for the container.
    pub environment: BTreeMap<String, String>,
    /// How the orchestrator checks the app is healthy.
    pub health: Option<Health>,
    /// How long an updated app may take to pass its health check before the update is rolled
    /// back (`[health] start_budget_secs`, default [`DEFAULT_START_BUDGET_SECS`]).
    pub start_budget_secs: u64,
    /// The app's web UI, if any.
    pub ui: Option<Ui>,
}

impl Manifest {
    /// The first path segment the orchestrator proxies to this app's UI (`/app/<it>/`): the
    /// UI's prefix, or the app's id; `None` when the UI is not proxied.
    pub fn proxy_prefix(&self) -> Option<&AppId> {
        let ui = self.ui.as_ref().filter(|u| u.proxied)?;
        Some(ui.prefix.as_ref().unwrap_or(&self.id))
    }
}

/// A published port `host:container[/udp]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Port {
    /// The port on the node.
    pub host: u16,
    /// The port inside the container.
    pub container: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

/// A port's transport protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// TCP (the default, written without a suffix).
    Tcp,
    /// UDP (written with `/udp`).
    Udp,
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.container)?;
        if self.protocol == Protocol::Udp {
            f.write_str("/udp")?;
        }
        Ok(())
    }
}

/// A named volume mounted at an absolute path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    /// The podman volume name.
    pub name: String,
    /// The absolute path inside the container.
    pub path: String,
}

impl fmt::Display for Volume {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.name, self.path)
    }
}

/// A network mode other than podman's default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network {
    /// Share the node's network namespace.
    Host,
}

/// The systemd restart policy.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestartPolicy {
    /// Never restart.
    No,
    /// Restart when the container fails.
    #[default]
    OnFailure,
    /// Always restart.
    Always,
}

impl RestartPolicy {
    /// The value as systemd and podman spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::OnFailure => "on-failure",
            RestartPolicy::Always => "always",
        }
    }
}

/// A health check the orchestrator runs itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Health {
    /// `GET http://127.0.0.1:<port><path>` answers 2xx or 3xx.
    Http {
        /// The port on the node.
        port: u16,
        /// The absolute request path.
        path: String,
    },
    /// A TCP connect to `127.0.0.1:<port>` succeeds.
    Tcp {
        /// The port on the node.
        port: u16,
    },
    /// `podman exec <id> <command...>` exits 0.
    Command(Vec<String>),
}

/// The app's web UI.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ui {
    /// The UI's port on the node.
    pub port: u16,
    /// Whether the orchestrator serves it at `/app/<prefix>/`.
    pub proxied: bool,
    /// The proxied path's first segment when it is not the app's id: a UI companion serving
    /// another app's UI at that app's path (`/app/lnd/` by archy-lnd-ui), or a short name.
    pub prefix: Option<AppId>,
}
