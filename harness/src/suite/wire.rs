//! The raw shape of a suite file, as serde reads it: every value that can be refused keeps its
//! span so the checker can name the line.

use std::collections::BTreeMap;

use toml::Spanned;

/// A suite file before checking.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireSuite {
    /// The app under test; must equal the file stem.
    pub app: Spanned<String>,
    /// Apps installed first.
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    /// Named volumes holding the app's data.
    #[serde(default)]
    pub volumes: Vec<Spanned<String>>,
    /// Seconds the app may take to answer after a start or install.
    pub start_budget_secs: Spanned<i64>,
    /// Seconds the app may take to be back after a node reboot.
    pub reboot_budget_secs: Spanned<i64>,
    /// RPC probes.
    #[serde(default)]
    pub rpc: Vec<Spanned<WireProbe>>,
    /// UI probes.
    #[serde(default)]
    pub ui: Vec<Spanned<WireUi>>,
    /// Data probes.
    #[serde(default)]
    pub data: Vec<Spanned<WireData>>,
    /// States that do not apply, with the reason.
    #[serde(default)]
    pub not_applicable: BTreeMap<Spanned<String>, Spanned<String>>,
    /// How the `update` state moves the app to a new manifest and back.
    pub update: Option<Spanned<WireUpdate>>,
    /// The app's lab-only fault control.
    pub fault: Option<Spanned<WireFault>>,
    /// The L4 journey's steps, in order.
    #[serde(default)]
    pub journey: Vec<Spanned<super::journey::WireStep>>,
}

/// The `[update]` table.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireUpdate {
    /// The image a new manifest moves the app to.
    pub image: Spanned<String>,
    /// Probes that pass on the current manifest's version (checked after moving back).
    #[serde(default)]
    pub before: Vec<Spanned<WireProbe>>,
    /// Probes that pass on the new version.
    #[serde(default)]
    pub after: Vec<Spanned<WireProbe>>,
}

/// The `[fault]` table.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireFault {
    /// The app's HTTP port taking `POST /lab/fault`.
    pub http_port: Option<Spanned<i64>>,
    /// The app's TCP line-protocol port taking `fault <what>` lines.
    pub tcp_port: Option<Spanned<i64>>,
}

/// One `[[rpc]]` entry: a flat table whose meaningful keys depend on `kind`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireProbe {
    /// `app-json-rpc`, `orchestrator-rpc`, `tcp` or `ssh`.
    pub kind: Spanned<String>,
    /// Port on the node (`app-json-rpc`, `tcp`).
    pub port: Option<Spanned<i64>>,
    /// HTTP path (`app-json-rpc`).
    pub path: Option<Spanned<String>>,
    /// JSON-RPC method (`app-json-rpc`, `orchestrator-rpc`).
    pub method: Option<Spanned<String>>,
    /// JSON-RPC params (`orchestrator-rpc`).
    pub params: Option<Spanned<toml::Table>>,
    /// Line sent (`tcp`).
    pub send: Option<Spanned<String>>,
    /// Shell command (`ssh`).
    pub command: Option<Spanned<String>>,
    /// `{ pointer, value }` for JSON-RPC kinds, a string for `tcp` and `ssh`.
    pub expect: Option<Spanned<toml::Value>>,
}

/// One `[[ui]]` entry.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireUi {
    /// `dashboard`, `app-proxy` or `direct`.
    pub kind: Spanned<String>,
    /// Port on the node (`direct`).
    pub port: Option<Spanned<i64>>,
    /// Path (`app-proxy`: below `/app/<prefix>/`; `direct`: from `/`).
    pub path: Option<Spanned<String>>,
    /// The proxied path's first segment when it is not the app's id (`app-proxy`).
    pub prefix: Option<Spanned<String>>,
    /// The app serving the URL when it is not this one (`app-proxy`, `direct`).
    pub served_by: Option<Spanned<String>>,
    /// Text the body must contain.
    pub contains: Option<Spanned<String>>,
}

/// One `[[data]]` entry.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireData {
    /// Short name for messages.
    pub name: Spanned<String>,
    /// JSON-RPC port on the node.
    pub port: Spanned<i64>,
    /// HTTP path, `/` by default.
    pub path: Option<Spanned<String>>,
    /// Method called.
    pub method: Spanned<String>,
    /// JSON pointer to the number.
    pub pointer: Spanned<String>,
    /// `non-decreasing` or `unchanged`.
    pub rule: Spanned<String>,
}
