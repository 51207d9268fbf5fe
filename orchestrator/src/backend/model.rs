//! The backend trait and what it reports about each installed app.

use std::path::PathBuf;

use crate::error::Result;
use crate::manifest::{AppId, Manifest};

/// Which backend runs the apps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackendKind {
    /// Quadlet units under the user's systemd.
    Quadlet,
    /// `podman create` + `podman start` under the orchestrator's own service.
    Legacy,
}

impl BackendKind {
    /// The name used in `server.metrics`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Quadlet => "quadlet",
            BackendKind::Legacy => "legacy",
        }
    }
}

/// What the runtime says an app is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunState {
    /// Up.
    Running,
    /// Being started.
    Starting,
    /// Not running, by request or cleanly exited.
    Stopped,
    /// Exited with an error or could not start.
    Failed,
}

/// One installed app as the runtime sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// The app.
    pub id: AppId,
    /// Why its unit file is unusable, if it is.
    pub invalid: Option<String>,
    /// Its run state (`Stopped` when `invalid`).
    pub run: RunState,
    /// The container id while running.
    pub container_id: Option<String>,
    /// When it last became active (RFC 3339).
    pub started_at: Option<String>,
    /// When it was installed, as far as the runtime knows (RFC 3339).
    pub installed_at: Option<String>,
}

/// Runs apps. Nothing outside `backend/` knows which implementation is in use.
pub trait Backend: Send + Sync {
    /// Which implementation this is.
    fn kind(&self) -> BackendKind;
    /// Installs (or replaces) `m` and starts it.
    fn install(&self, m: &Manifest) -> Result<()>;
    /// Stops and removes the app; removes `purge_volumes` too (empty keeps every volume).
    fn uninstall(&self, id: &AppId, purge_volumes: &[String]) -> Result<()>;
    /// Starts the app.
    fn start(&self, id: &AppId) -> Result<()>;
    /// Stops the app.
    fn stop(&self, id: &AppId) -> Result<()>;
    /// Restarts the app.
    fn restart(&self, id: &AppId) -> Result<()>;
    /// Every installed app and its state, in as few runtime calls as possible.
    fn observe(&self) -> Result<Vec<Observed>>;
    /// Where the app's unit file lives, if this backend has one.
    fn unit_path(&self, id: &AppId) -> Option<PathBuf>;
    /// The running container's id, if it can be known without a runtime call.
    fn container_id(&self, id: &AppId) -> Option<String>;
}
