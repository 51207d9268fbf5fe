//! The manifest exactly as written in TOML, before any checking.

use std::collections::BTreeMap;

use serde::Deserialize;
use toml::Spanned;

use super::RestartPolicy;

/// A manifest file as deserialized; unknown keys are refused.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireManifest {
    pub id: Spanned<String>,
    pub image: Spanned<String>,
    pub command: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub ports: Vec<Spanned<String>>,
    #[serde(default)]
    pub volumes: Vec<Spanned<String>>,
    pub network: Option<Spanned<String>>,
    pub memory: Option<Spanned<String>>,
    #[serde(default)]
    pub restart: RestartPolicy,
    #[serde(default)]
    pub requires: Vec<Spanned<String>>,
    pub environment: Option<Spanned<BTreeMap<String, Spanned<String>>>>,
    pub health: Option<Spanned<WireHealth>>,
    pub ui: Option<WireUi>,
}

/// `[health]`: exactly one of the three checks must be set; the budget is optional.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireHealth {
    pub http: Option<WireHttp>,
    pub tcp: Option<WireTcp>,
    pub command: Option<Vec<String>>,
    pub start_budget_secs: Option<Spanned<u64>>,
}

/// `health.http`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireHttp {
    pub port: u16,
    pub path: String,
}

/// `health.tcp`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireTcp {
    pub port: u16,
}

/// `[ui]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireUi {
    pub port: u16,
    #[serde(default = "yes")]
    pub proxied: bool,
    pub prefix: Option<Spanned<String>>,
}

fn yes() -> bool {
    true
}
