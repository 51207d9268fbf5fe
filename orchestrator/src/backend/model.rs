//! The backend trait and what it reports about each installed app.

use std::path::PathBuf;

use crate::error::Result;
use crate::manifest::{AppId, Manifest};
use crate::state::Desired;

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
    /// The desired state its unit records (`[Install]` or not); `None` where there is no unit
    /// (the legacy backend) or it is invalid.
    pub desired: Option<Desired>,
}

/// What follows putting a new spec in place.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// Nothing: the app is meant to be stopped.
    Nothing,
    /// `start` (does nothing to a unit that is already active).
    Start,
    /// `restart`: the app runs from the new spec.
    Restart,
}

/// Runs apps. Nothing outside `backend/` knows which implementation is in use.
///
/// A *spec* is the text an app runs from, as the backend keeps it: the Quadlet unit file, or the
/// legacy backend's `podman create` arguments. Specs are compared to decide whether an update
/// changes anything, and the previous one is put back when an update is rolled back.
pub trait Backend: Send + Sync {
    /// Which implementation this is.
    fn kind(&self) -> BackendKind;
    /// Installs `m`, meant to run, and starts it.
    fn install(&self, m: &Manifest) -> Result<()>;
    /// Stops and removes the app so nothing of it is left (container, unit, loaded unit);
    /// removes `purge_volumes` too (empty keeps every volume).
    fn uninstall(&self, id: &AppId, purge_volumes: &[String]) -> Result<()>;
    /// Records the app as meant to run (where the backend keeps that) and starts it.
    fn start(&self, id: &AppId) -> Result<()>;
    /// Records the app as meant to be stopped (where the backend keeps that) and stops it.
    fn stop(&self, id: &AppId) -> Result<()>;
    /// Records the app as meant to run and restarts it.
    fn restart(&self, id: &AppId) -> Result<()>;
    /// Records `desired` where the node reads it at boot, without starting or stopping anything.
    fn record_desired(&self, id: &AppId, desired: Desired) -> Result<()>;
    /// The spec the app runs from now, `None` if it has none.
    fn spec(&self, id: &AppId) -> Result<Option<String>>;
    /// The spec `m` gives for an app whose desired state is `desired`.
    fn render(&self, m: &Manifest, desired: Desired) -> String;
    /// Puts `spec` in place for `id`, then does what `then` says.
    fn apply(&self, id: &AppId, spec: &str, then: Then) -> Result<()>;
    /// Makes the runtime read every spec on disk again (`daemon-reload`; nothing for the legacy
    /// backend). Run once before the first tick, so a spec written just before a crash, never
    /// loaded, is what the tick starts from.
    fn resync(&self) -> Result<()>;
    /// Every installed app and its state, in as few runtime calls as possible.
    fn observe(&self) -> Result<Vec<Observed>>;
    /// Where the app's unit file lives, if this backend has one.
    fn unit_path(&self, id: &AppId) -> Option<PathBuf>;
    /// The running container's id, if it can be known without a runtime call.
    fn container_id(&self, id: &AppId) -> Option<String>;
}
