//! `Orchestrator`: the operations behind every RPC method and the reconcile tick, serialized per
//! app, with backend work on blocking threads so its command count can be attributed.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Instant, SystemTime};

use serde_json::{Value, json};

use crate::backend::{
    Backend, Calls, Commands, Observed, RunState, reset_thread_calls, thread_calls,
};
use crate::error::{Error, Result};
use crate::health::probe;
use crate::locks::AppLocks;
use crate::log;
use crate::manifest::{AppId, Catalog, Manifest};
use crate::quadlet::PodmanVersion;
use crate::reconcile::plan;
use crate::state::{AppRecord, Desired, HealthState, State};
use crate::status::{AppState, AppStatus};
use crate::time::rfc3339;

/// An operation on one installed app.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `package.start`.
    Start,
    /// `package.stop`.
    Stop,
    /// `package.restart`.
    Restart,
}

/// Counters reported by `server.metrics`.
#[derive(Default)]
struct Metrics {
    startup_ms: u64,
    ticks: u64,
    last_ms: u64,
    max_ms: u64,
    last_operation: Option<Value>,
}

/// The orchestrator's core, shared by the API and the reconcile loop.
pub struct Orchestrator {
    backend: Arc<dyn Backend>,
    commands: Arc<Commands>,
    catalog: Catalog,
    state: Mutex<State>,
    state_path: PathBuf,
    locks: AppLocks,
    metrics: Mutex<Metrics>,
    podman: PodmanVersion,
    started_at: SystemTime,
}

fn guard<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Orchestrator {
    /// Builds the core; a missing or corrupt state file is logged and rebuilt by the first tick.
    pub fn new(
        backend: Arc<dyn Backend>,
        commands: Arc<Commands>,
        catalog: Catalog,
        data_dir: PathBuf,
        podman: PodmanVersion,
    ) -> Self {
        let state_path = data_dir.join("state.json");
        let (state, why) = State::load(&state_path);
        if let Some(why) = why {
            log::warn(why);
        }
        Orchestrator {
            backend,
            commands,
            catalog,
            state: Mutex::new(state),
            state_path,
            locks: AppLocks::default(),
            metrics: Mutex::default(),
            podman,
            started_at: SystemTime::now(),
        }
    }

    /// The catalog the orchestrator serves.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// Records how long startup took (until the API was listening).
    pub fn set_startup_ms(&self, ms: u64) {
        guard(&self.metrics).startup_ms = ms;
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&dyn Backend) -> Result<T> + Send + 'static,
    ) -> (Result<T>, Calls) {
        let backend = self.backend.clone();
        let task = tokio::task::spawn_blocking(move || {
            reset_thread_calls();
            let r = f(&*backend);
            (r, thread_calls())
        });
        task.await.unwrap_or_else(|e| {
            (
                Err(Error::Internal(format!("backend task failed: {e}"))),
                Calls::default(),
            )
        })
    }

    fn record_op(
        &self,
        method: &str,
        id: &AppId,
        calls: Calls,
        started: Instant,
        result: &Result<()>,
    ) {
        let ms = started.elapsed().as_millis() as u64;
        match result {
            Ok(()) => log::info(format_args!(
                "{method} {id}: ok in {ms} ms ({} systemctl, {} podman)",
                calls.systemctl, calls.podman
            )),
            Err(e) => log::error(format_args!("{method} {id}: {e}")),
        }
        guard(&self.metrics).last_operation = Some(json!({
            "method": method, "app": id, "systemctl": calls.systemctl, "podman": calls.podman, "duration_ms": ms,
        }));
    }

    fn save(&self, state: &State) {
        if let Err(e) = state.save(&self.state_path) {
            log::error(format_args!("state file not saved: {e}"));
        }
    }

    fn manifest(&self, id: &AppId) -> Result<&Manifest> {
        self.catalog
            .get(id)
            .ok_or_else(|| Error::UnknownApp(id.to_string()))
    }

    fn require_installed(&self, id: &AppId) -> Result<AppRecord> {
        match guard(&self.state).apps.get(id) {
            Some(r) => Ok(r.clone()),
            None if self.catalog.get(id).is_some() => Err(Error::NotInstalled(id.to_string())),
            None => Err(Error::UnknownApp(id.to_string())),
        }
    }

    fn unit_path(&self, id: &AppId) -> String {
        self.backend
            .unit_path(id)
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }

    /// The status right after an operation, built without asking the runtime again.
    fn status_after(&self, id: &AppId, running: bool, rec: &AppRecord) -> AppStatus {
        AppStatus {
            id: id.clone(),
            state: if running {
                AppState::Running
            } else {
                AppState::Stopped
            },
            container_id: if running {
                self.backend.container_id(id)
            } else {
                None
            },
            started_at: running.then(|| rfc3339(SystemTime::now())),
            health: HealthState::Unknown,
            unit_path: self.unit_path(id),
            installed_at: rec.installed_at.clone(),
            error: None,
        }
    }

    /// `package.install`: writes and starts the app once its requirements are installed.
    pub async fn install(&self, id: &AppId) -> Result<AppStatus> {
        let m = self.manifest(id)?.clone();
        if let Some(missing) = m
            .requires
            .iter()
            .find(|r| !guard(&self.state).apps.contains_key(*r))
        {
            return Err(Error::RequirementMissing {
                app: id.to_string(),
                missing: missing.to_string(),
            });
        }
        let _lock = self.locks.lock(id).await;
        let started = Instant::now();
        let (r, calls) = self.blocking(move |b| b.install(&m)).await;
        self.record_op("package.install", id, calls, started, &r);
        r?;
        let rec = AppRecord {
            installed_at: Some(rfc3339(SystemTime::now())),
            desired: Desired::Running,
            health: HealthState::Unknown,
        };
        let mut state = guard(&self.state);
        state.apps.insert(id.clone(), rec.clone());
        self.save(&state);
        Ok(self.status_after(id, true, &rec))
    }

    /// `package.start`, `package.stop`, `package.restart`.
    pub async fn operate(&self, op: Op, id: &AppId) -> Result<AppStatus> {
        self.require_installed(id)?;
        let _lock = self.locks.lock(id).await;
        let started = Instant::now();
        let target = id.clone();
        let (r, calls) = self
            .blocking(move |b| match op {
                Op::Start => b.start(&target),
                Op::Stop => b.stop(&target),
                Op::Restart => b.restart(&target),
            })
            .await;
        let method = match op {
            Op::Start => "package.start",
            Op::Stop => "package.stop",
            Op::Restart => "package.restart",
        };
        self.record_op(method, id, calls, started, &r);
        r?;
        let mut state = guard(&self.state);
        let rec = state
            .apps
            .get_mut(id)
            .ok_or_else(|| Error::NotInstalled(id.to_string()))?;
        rec.desired = if op == Op::Stop {
            Desired::Stopped
        } else {
            Desired::Running
        };
        rec.health = HealthState::Unknown;
        let rec = rec.clone();
        self.save(&state);
        Ok(self.status_after(id, op != Op::Stop, &rec))
    }

    /// `package.uninstall`: removes the app; its named volumes too when `purge`.
    pub async fn uninstall(&self, id: &AppId, purge: bool) -> Result<Value> {
        self.require_installed(id)?;
        let volumes: Vec<String> = match (purge, self.catalog.get(id)) {
            (true, Some(m)) => m.volumes.iter().map(|v| v.name.clone()).collect(),
            _ => Vec::new(),
        };
        let _lock = self.locks.lock(id).await;
        let started = Instant::now();
        let target = id.clone();
        let (r, calls) = self.blocking(move |b| b.uninstall(&target, &volumes)).await;
        self.record_op("package.uninstall", id, calls, started, &r);
        r?;
        let mut state = guard(&self.state);
        state.apps.remove(id);
        self.save(&state);
        Ok(json!({ "id": id, "uninstalled": true, "purged": purge }))
    }

    async fn observe(&self) -> Result<Vec<Observed>> {
        self.blocking(|b| b.observe()).await.0
    }

    /// `container-list`: every installed app, corrupt ones included.
    pub async fn list(&self) -> Result<Vec<AppStatus>> {
        let observed = self.observe().await?;
        let state = guard(&self.state);
        Ok(observed
            .iter()
            .map(|o| AppStatus::observed(o, state.apps.get(&o.id), self.unit_path(&o.id)))
            .collect())
    }

    /// `package.status`: one app, with a fresh health check when it is running.
    pub async fn status(&self, id: &AppId) -> Result<AppStatus> {
        let observed = self.observe().await?;
        let Some(o) = observed.into_iter().find(|o| &o.id == id) else {
            self.manifest(id)?;
            return Ok(AppStatus {
                id: id.clone(),
                state: AppState::NotInstalled,
                container_id: None,
                started_at: None,
                health: HealthState::Unknown,
                unit_path: self.unit_path(id),
                installed_at: None,
                error: None,
            });
        };
        if o.run == RunState::Running && o.invalid.is_none() {
            self.check_health(std::slice::from_ref(&o.id)).await;
        }
        let state = guard(&self.state);
        Ok(AppStatus::observed(
            &o,
            state.apps.get(id),
            self.unit_path(id),
        ))
    }

    /// Probes the given apps' health concurrently and records the outcomes.
    async fn check_health(&self, ids: &[AppId]) {
        let mut tasks = Vec::new();
        for id in ids {
            let Some(check) = self.catalog.get(id).and_then(|m| m.health.clone()) else {
                continue;
            };
            let (id, cmd) = (id.clone(), self.commands.clone());
            tasks.push(tokio::task::spawn_blocking(move || {
                let h = probe(&check, &id, &cmd);
                (id, h)
            }));
        }
        for t in tasks {
            if let Ok((id, h)) = t.await
                && let Some(rec) = guard(&self.state).apps.get_mut(&id)
            {
                rec.health = h;
            }
        }
    }

    /// One reconcile tick: adopt unrecorded units, forget removed ones, start what should run,
    /// check health. Apps busy with a user operation are skipped until the next tick.
    pub async fn tick(&self) -> Result<()> {
        let started = Instant::now();
        let observed = self.observe().await?;
        let before = guard(&self.state).clone();
        let p = plan(&before, &observed);
        {
            let mut state = guard(&self.state);
            for (id, rec) in &p.adopt {
                log::info(format_args!(
                    "reconcile: recorded {id} from its unit file (desired {:?})",
                    rec.desired
                ));
                state.apps.insert(id.clone(), rec.clone());
            }
            for id in &p.forget {
                log::info(format_args!("reconcile: forgot {id}, its unit is gone"));
                state.apps.remove(id);
            }
        }
        for id in &p.start {
            let Some(_lock) = self.locks.try_lock(id) else {
                continue;
            };
            if guard(&self.state)
                .apps
                .get(id)
                .is_none_or(|r| r.desired != Desired::Running)
            {
                continue;
            }
            let target = id.clone();
            match self.blocking(move |b| b.start(&target)).await.0 {
                Ok(()) => log::info(format_args!("reconcile: started {id}")),
                Err(e) => log::error(format_args!("reconcile: {e}")),
            }
        }
        let running: Vec<AppId> = observed
            .iter()
            .filter(|o| o.run == RunState::Running && o.invalid.is_none())
            .map(|o| o.id.clone())
            .collect();
        for rec in guard(&self.state)
            .apps
            .iter_mut()
            .filter(|(id, _)| !running.contains(id))
            .map(|(_, r)| r)
        {
            rec.health = HealthState::Unknown;
        }
        self.check_health(&running).await;
        let state = guard(&self.state).clone();
        if state != before {
            self.save(&state);
        }
        let ms = started.elapsed().as_millis() as u64;
        let mut m = guard(&self.metrics);
        m.ticks += 1;
        m.last_ms = ms;
        m.max_ms = m.max_ms.max(ms);
        Ok(())
    }

    /// `server.metrics`.
    pub fn metrics(&self) -> Value {
        let m = guard(&self.metrics);
        json!({
            "started_at": rfc3339(self.started_at),
            "startup_ms": m.startup_ms,
            "backend": self.backend.kind().as_str(),
            "podman_version": self.podman.to_string(),
            "reconcile": { "ticks": m.ticks, "last_ms": m.last_ms, "max_ms": m.max_ms },
            "calls": self.commands.totals(),
            "last_operation": m.last_operation,
        })
    }
}
