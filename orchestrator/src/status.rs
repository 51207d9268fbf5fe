//! `AppStatus`: how one app is reported over the API.

use serde::Serialize;

use crate::backend::{Observed, RunState};
use crate::manifest::AppId;
use crate::state::{AppRecord, HealthState};

/// An app's state as the API reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppState {
    /// Up.
    Running,
    /// Being started.
    Starting,
    /// Not running.
    Stopped,
    /// Exited with an error.
    Failed,
    /// Its unit file is corrupt.
    Invalid,
    /// Known to the catalog, not installed.
    NotInstalled,
}

impl From<RunState> for AppState {
    fn from(r: RunState) -> Self {
        match r {
            RunState::Running => AppState::Running,
            RunState::Starting => AppState::Starting,
            RunState::Stopped => AppState::Stopped,
            RunState::Failed => AppState::Failed,
        }
    }
}

impl AppState {
    /// The state's name as in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            AppState::Running => "running",
            AppState::Starting => "starting",
            AppState::Stopped => "stopped",
            AppState::Failed => "failed",
            AppState::Invalid => "invalid",
            AppState::NotInstalled => "not-installed",
        }
    }
}

/// One app in `container-list`, `package.status` and operation results (CONTRACT.md section 2).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AppStatus {
    /// The app.
    pub id: AppId,
    /// Its state.
    pub state: AppState,
    /// The running container's id.
    pub container_id: Option<String>,
    /// When it last became active.
    pub started_at: Option<String>,
    /// The last health check's outcome.
    pub health: HealthState,
    /// Its unit file (empty for the legacy backend, which has none).
    pub unit_path: String,
    /// When it was installed.
    pub installed_at: Option<String>,
    /// Why it is invalid or failed, if known.
    pub error: Option<String>,
}

impl AppStatus {
    /// The status of an observed app with its record (if any).
    pub fn observed(o: &Observed, rec: Option<&AppRecord>, unit_path: String) -> AppStatus {
        let running = o.invalid.is_none() && o.run == RunState::Running;
        AppStatus {
            id: o.id.clone(),
            state: if o.invalid.is_some() {
                AppState::Invalid
            } else {
                o.run.into()
            },
            container_id: o.container_id.clone(),
            started_at: o.started_at.clone(),
            health: rec
                .filter(|_| running)
                .map_or(HealthState::Unknown, |r| r.health),
            unit_path,
            installed_at: rec
                .and_then(|r| r.installed_at.clone())
                .or_else(|| o.installed_at.clone()),
            error: o.invalid.clone(),
        }
    }
}
