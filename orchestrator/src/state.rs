//! The state file: what the orchestrator knows beyond the unit files (install time, whether the
//! user wants the app running, last health). Losing it is never fatal; it is rebuilt from units.
//!
//! Desired state is kept in two places on the Quadlet backend: here, and in the unit file's
//! `[Install]` section (see `quadlet::unit_file`), which is what makes a stopped app stay stopped
//! across a node reboot without the orchestrator. This file wins while it exists; the units are
//! read when it is lost. The legacy backend has no unit file, so this file is its only record:
//! after a reboot its containers exist but none runs until the orchestrator's reconciler starts
//! the ones this file says should run.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::fsutil::{PRIVATE, write_atomic};
use crate::manifest::AppId;

/// Whether the user wants an app running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Desired {
    /// Keep it running (the reconciler starts it if it is down).
    Running,
    /// Leave it stopped.
    Stopped,
}

/// The outcome of the last health check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    /// The check passed.
    Healthy,
    /// The check failed.
    Unhealthy,
    /// Not checked yet, not running, or no check defined.
    Unknown,
    /// Running, but a requirement is not running or unhealthy (reported, never recorded).
    Degraded,
}

/// What is recorded about one installed app.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AppRecord {
    /// When it was installed (RFC 3339).
    pub installed_at: Option<String>,
    /// Whether the user wants it running.
    pub desired: Desired,
    /// The last health check's outcome.
    pub health: HealthState,
    /// An update put a new spec in place and had not restarted the app onto it yet; if the
    /// orchestrator died there, the reconciler restarts the app (when it is meant to run).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restart_pending: bool,
}

/// The whole state file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Installed apps by id.
    pub apps: BTreeMap<AppId, AppRecord>,
}

impl State {
    /// Reads the state file; a missing or corrupt one yields an empty state and the reason,
    /// so the caller can log it and let the reconciler rebuild from the units.
    pub fn load(path: &Path) -> (State, Option<String>) {
        match std::fs::read(path) {
            Ok(bytes) => match serde_json::from_slice(&bytes) {
                Ok(state) => (state, None),
                Err(e) => (
                    State::default(),
                    Some(format!(
                        "state file {} is corrupt ({e}); rebuilding from unit files",
                        path.display()
                    )),
                ),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => (
                State::default(),
                Some(format!(
                    "state file {} is missing; rebuilding from unit files",
                    path.display()
                )),
            ),
            Err(e) => (
                State::default(),
                Some(format!(
                    "state file {} is unreadable ({e}); rebuilding from unit files",
                    path.display()
                )),
            ),
        }
    }

    /// Writes the state file atomically.
    pub fn save(&self, path: &Path) -> Result<()> {
        let json =
            serde_json::to_vec_pretty(self).map_err(|e| crate::Error::Internal(e.to_string()))?;
        write_atomic(path, &json, PRIVATE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_survives_missing_or_corrupt_files() {
        let dir = std::env::temp_dir().join(format!("orch-state-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("state.json");
        let _ = std::fs::remove_file(&path);
        let (empty, why) = State::load(&path);
        assert_eq!(empty, State::default());
        assert!(why.unwrap().contains("missing"));
        let mut s = State::default();
        let rec = AppRecord {
            installed_at: Some("2026-11-29T09:30:00Z".into()),
            desired: Desired::Stopped,
            health: HealthState::Healthy,
            restart_pending: false,
        };
        s.apps.insert(AppId::parse("web").unwrap(), rec);
        s.save(&path).unwrap();
        assert_eq!(State::load(&path), (s, None));
        std::fs::write(&path, "{\"apps\": {\"web\": ").unwrap();
        let (empty, why) = State::load(&path);
        assert_eq!(empty, State::default());
        assert!(why.unwrap().contains("corrupt"));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
