//! `Orchestrator`: the operations behind every RPC method and the reconcile tick, serialized per
//! app, with backend work on blocking threads so its command count can be attributed.
//!
//! - **Desired state** is recorded before the backend acts (the operator's intent survives a
//!   failed or interrupted call; the reconciler finishes it), in the state file and, on the
//!   Quadlet backend, in the unit's `[Install]` section (see `backend::quadlet`).
//! - **Required stacks**: an operation that depends on other apps (install and update on their
//!   requirements, stop and uninstall on their dependents) locks all of them, in id order, and
//!   checks under those locks; a cascade takes dependents down first (see `stack`).
//! - **Update** re-reads the manifest, changes nothing if the spec is the same, else puts the
//!   new spec in place, restarts a running app and waits for its health check within the
//!   manifest's start budget; if it does not get healthy, the previous spec is put back.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::OwnedMutexGuard;

use crate::backend::{
    Backend, Calls, Commands, Observed, RunState, Then, reset_thread_calls, thread_calls,
};
use crate::error::{Error, Result};
use crate::failpoints::{Regression, step};
use crate::health::probe;
use crate::locks::AppLocks;
use crate::log;
use crate::manifest::{AppId, Catalog, Manifest};
use crate::quadlet::PodmanVersion;
use crate::reconcile::plan;
use crate::stack::{Graph, dependents, teardown_order};
use crate::state::{AppRecord, Desired, HealthState, State};
use crate::status::{AppState, AppStatus, mark_degraded};
use crate::time::rfc3339;

/// How often an update probes the app's health while it waits.
const PROBE_INTERVAL: Duration = Duration::from_millis(500);

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

impl Op {
    fn method(self) -> &'static str {
        match self {
            Op::Start => "package.start",
            Op::Stop => "package.stop",
            Op::Restart => "package.restart",
        }
    }
}

/// The result of `package.start`, `package.stop` and `package.restart`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Operated {
    /// The app's status right after the operation.
    #[serde(flatten)]
    pub status: AppStatus,
    /// For a stop: the dependents stopped before it, in that order (present, maybe empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cascaded: Option<Vec<AppId>>,
}

/// The result of `package.uninstall`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Uninstalled {
    /// The app asked for.
    pub id: AppId,
    /// Always true (a failure is an error instead).
    pub uninstalled: bool,
    /// Whether named volumes were removed (the cascaded apps' too).
    pub purged: bool,
    /// The dependents uninstalled before it, in that order.
    pub cascaded: Vec<AppId>,
}

/// The result of `package.update` (and of `package.install` of an installed app).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Updated {
    /// The app.
    pub id: AppId,
    /// Whether the spec (unit text) changed.
    pub changed: bool,
    /// Whether the app was restarted onto the new spec.
    pub restarted: bool,
    /// The image the spec names now.
    pub image: String,
}

/// The result of `package.install`: a fresh install's status, or an installed app's update.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Installed {
    /// The app was not installed: its status after the install.
    Fresh(AppStatus),
    /// The app was installed already: the install was an update.
    Update(Updated),
}

/// One repair a tick makes to an app.
#[derive(Clone, Copy, Debug)]
enum Repair {
    Start,
    /// Restart onto the spec in place (an update was cut before its restart).
    Restart,
    Stop,
    /// Rewrite the unit's record of the desired state.
    Mark(Desired),
}

impl Repair {
    /// The desired state the repair serves; it is skipped if the record says otherwise by now.
    fn desired(self) -> Desired {
        match self {
            Repair::Start | Repair::Restart => Desired::Running,
            Repair::Stop => Desired::Stopped,
            Repair::Mark(d) => d,
        }
    }

    fn done(self) -> &'static str {
        match self {
            Repair::Start => "started",
            Repair::Restart => "restarted onto its updated spec",
            Repair::Stop => "stopped",
            Repair::Mark(_) => "rewrote the desired state in the unit of",
        }
    }
}

/// Counters reported by `server.metrics`.
#[derive(Default)]
struct Metrics {
    startup_ms: u64,
    /// Ticks begun; with `ticks` (finished) a client can wait for one whole tick after a moment.
    started: u64,
    ticks: u64,
    last_ms: u64,
    max_ms: u64,
    last_operation: Option<Value>,
}

/// The orchestrator's core, shared by the API and the reconcile loop.
pub struct Orchestrator {
    backend: Arc<dyn Backend>,
    commands: Arc<Commands>,
    catalog: Mutex<Arc<Catalog>>,
    state: Mutex<State>,
    state_path: PathBuf,
    locks: AppLocks,
    metrics: Mutex<Metrics>,
    podman: PodmanVersion,
    started_at: SystemTime,
    /// Whether the runtime has read the specs on disk since this process started.
    resynced: AtomicBool,
    /// State snapshots taken for saving so far.
    snapshots: AtomicU64,
    /// The number of the last snapshot saved; held while one is written.
    written: Arc<Mutex<u64>>,
    /// Held by the tick in progress: the loop's and `server.reconcile`'s ticks never overlap.
    ticking: tokio::sync::Mutex<()>,
    /// Tick and operation durations, for `GET /metrics`.
    histograms: crate::prometheus::Histograms,
    /// Runtime reads begun so far, and the last one finished (its number and answer); the lock
    /// is held while a read runs (see `observe`).
    reads_begun: AtomicU64,
    last_read: tokio::sync::Mutex<Option<(u64, Vec<Observed>)>>,
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
            catalog: Mutex::new(Arc::new(catalog)),
            state: Mutex::new(state),
            state_path,
            locks: AppLocks::default(),
            metrics: Mutex::default(),
            podman,
            started_at: SystemTime::now(),
            resynced: AtomicBool::new(false),
            snapshots: AtomicU64::new(0),
            written: Arc::default(),
            ticking: tokio::sync::Mutex::new(()),
            histograms: Default::default(),
            reads_begun: AtomicU64::new(0),
            last_read: tokio::sync::Mutex::new(None),
        }
    }

    /// The catalog as it is now (an update replaces the app's manifest in it).
    pub fn catalog(&self) -> Arc<Catalog> {
        guard(&self.catalog).clone()
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
        error: Option<&Error>,
    ) {
        let ms = started.elapsed().as_millis() as u64;
        self.histograms
            .operation(method, started.elapsed().as_secs_f64());
        match error {
            None => log::info(format_args!(
                "{method} {id}: ok in {ms} ms ({} systemctl, {} podman)",
                calls.systemctl, calls.podman
            )),
            Some(e) => log::error(format_args!("{method} {id}: {e}")),
        }
        guard(&self.metrics).last_operation = Some(json!({
            "method": method, "app": id, "systemctl": calls.systemctl, "podman": calls.podman, "duration_ms": ms,
        }));
    }

    /// Saves the state as it is now. The write (and its fsync) runs on a blocking thread and
    /// never under the state's lock, so no reader waits for the disk; snapshots are numbered as
    /// they are taken, and an older one never overwrites a newer one.
    async fn persist(&self) {
        let (snapshot, n) = {
            let state = guard(&self.state);
            (
                state.clone(),
                self.snapshots.fetch_add(1, Ordering::AcqRel) + 1,
            )
        };
        let (path, written) = (self.state_path.clone(), self.written.clone());
        let saved = tokio::task::spawn_blocking(move || {
            let mut last = guard(&written);
            if *last >= n {
                return Ok(());
            }
            snapshot.save(&path)?;
            *last = n;
            Ok(())
        })
        .await
        .unwrap_or_else(|e| Err(Error::Internal(format!("state file task failed: {e}"))));
        if let Err(e) = saved {
            log::error(format_args!("state file not saved: {e}"));
        }
    }

    /// Changes the app's record (if it has one) and saves the state file.
    async fn update_record(&self, id: &AppId, f: impl FnOnce(&mut AppRecord)) {
        let changed = match guard(&self.state).apps.get_mut(id) {
            Some(rec) => {
                f(rec);
                true
            }
            None => false,
        };
        if changed {
            self.persist().await;
        }
    }

    fn installed(&self, id: &AppId) -> Option<AppRecord> {
        guard(&self.state).apps.get(id).cloned()
    }

    fn require_installed(&self, id: &AppId) -> Result<AppRecord> {
        match self.installed(id) {
            Some(r) => Ok(r),
            None if self.catalog().get(id).is_some() => Err(Error::NotInstalled(id.to_string())),
            None => Err(Error::UnknownApp(id.to_string())),
        }
    }

    /// The app's manifest as it is on disk now (the override folder wins).
    fn fresh_manifest(&self, id: &AppId) -> Result<Manifest> {
        self.catalog()
            .reread(id)?
            .ok_or_else(|| Error::UnknownApp(id.to_string()))
    }

    /// `ids` and the apps each one's manifest requires.
    fn graph_of<'a>(&self, ids: impl Iterator<Item = &'a AppId>) -> Graph {
        let catalog = self.catalog();
        ids.map(|id| {
            let requires = catalog
                .get(id)
                .map(|m| m.requires.clone())
                .unwrap_or_default();
            (id.clone(), requires)
        })
        .collect()
    }

    /// The requirement graph of the installed apps.
    fn installed_graph(&self) -> Graph {
        let ids: Vec<AppId> = guard(&self.state).apps.keys().cloned().collect();
        self.graph_of(ids.iter())
    }

    /// The installed apps that require `id` (transitively). REGRESSION SWITCH (issue 8): with
    /// `regression-uninstall-ignores-dependents`, none, as before required stacks existed.
    fn dependents_of(&self, id: &AppId) -> BTreeSet<AppId> {
        if Regression::UninstallIgnoresDependents.active() {
            return BTreeSet::new();
        }
        dependents(&self.installed_graph(), id)
    }

    /// Locks `id` and the apps `related` names, in id order, then asks `related` again under the
    /// locks: if an app became related while we waited (a dependent was installed), lock again.
    /// Returns the locks and the related apps as they are under them.
    async fn lock_with(
        &self,
        id: &AppId,
        related: impl Fn(&Self) -> BTreeSet<AppId>,
    ) -> (Vec<OwnedMutexGuard<()>>, BTreeSet<AppId>) {
        let mut want = related(self);
        loop {
            let mut all = want.clone();
            all.insert(id.clone());
            let guards = self.locks.lock_all(&all).await;
            let now = related(self);
            if now.is_subset(&want) {
                return (guards, now);
            }
            drop(guards);
            want = now;
        }
    }

    /// The first requirement of `m` that is not installed, as an error.
    fn check_requirements(&self, m: &Manifest) -> Result<()> {
        let state = guard(&self.state);
        match m.requires.iter().find(|r| !state.apps.contains_key(*r)) {
            Some(missing) => Err(Error::RequirementMissing {
                app: m.id.to_string(),
                missing: missing.to_string(),
            }),
            None => Ok(()),
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
            state: if running {
                AppState::Running
            } else {
                AppState::Stopped
            },
            desired: Some(rec.desired),
            container_id: if running {
                self.backend.container_id(id)
            } else {
                None
            },
            started_at: running.then(|| rfc3339(SystemTime::now())),
            installed_at: rec.installed_at.clone(),
            ..AppStatus::not_installed(id.clone(), self.unit_path(id))
        }
    }

    /// `package.install`: writes and starts the app once its requirements are installed (checked
    /// under their locks). Installing an installed app is `package.update`.
    pub async fn install(&self, id: &AppId) -> Result<Installed> {
        let m = self.fresh_manifest(id)?;
        let requires: BTreeSet<AppId> = m.requires.iter().cloned().collect();
        let _locks = self.lock_with(id, |_| requires.clone()).await;
        if let Some(rec) = self.installed(id) {
            return self.update_locked(m, rec).await.map(Installed::Update);
        }
        self.check_requirements(&m)?;
        let started = Instant::now();
        let target = m.clone();
        let (r, calls) = self
            .blocking(move |b| {
                b.install(&target)?;
                step("install.after-start");
                Ok(())
            })
            .await;
        self.record_op("package.install", id, calls, started, r.as_ref().err());
        r?;
        let rec = AppRecord {
            installed_at: Some(rfc3339(SystemTime::now())),
            desired: Desired::Running,
            health: HealthState::Unknown,
            restart_pending: false,
        };
        guard(&self.state).apps.insert(id.clone(), rec.clone());
        self.persist().await;
        self.remember(m);
        Ok(Installed::Fresh(self.status_after(id, true, &rec)))
    }

    /// Keeps `m` as the app's manifest (health checks, UI port, requirements read it).
    fn remember(&self, m: Manifest) {
        let mut catalog = guard(&self.catalog);
        let next = catalog.with(m);
        *catalog = Arc::new(next);
    }

    /// `package.update`: re-reads the manifest and applies it if the spec changed (see module doc).
    pub async fn update(&self, id: &AppId) -> Result<Updated> {
        self.require_installed(id)?;
        let m = self.fresh_manifest(id)?;
        let requires: BTreeSet<AppId> = m.requires.iter().cloned().collect();
        let _locks = self.lock_with(id, |_| requires.clone()).await;
        let rec = self.require_installed(id)?;
        self.update_locked(m, rec).await
    }

    /// The update itself, with the app and its requirements locked.
    async fn update_locked(&self, m: Manifest, rec: AppRecord) -> Result<Updated> {
        self.check_requirements(&m)?;
        let id = m.id.clone();
        let started = Instant::now();
        let desired = rec.desired;
        let (target, manifest) = (id.clone(), m.clone());
        let (specs, mut calls) = self
            .blocking(move |b| Ok((b.spec(&target)?, b.render(&manifest, desired))))
            .await;
        let (previous, next) = match specs {
            Ok(s) => s,
            Err(e) => {
                self.record_op("package.update", &id, calls, started, Some(&e));
                return Err(e);
            }
        };
        let unchanged = Updated {
            id: id.clone(),
            changed: false,
            restarted: false,
            image: m.image.clone(),
        };
        if previous.as_deref() == Some(next.as_str()) {
            self.record_op("package.update", &id, calls, started, None);
            self.remember(m);
            return Ok(unchanged);
        }
        let running = desired == Desired::Running;
        let then = match desired {
            // REGRESSION SWITCH (issue 8): the old update ran `start`, which does nothing to an
            // active unit, so the app kept running the old spec while success was reported.
            Desired::Running if Regression::UpdateNotApplied.active() => Then::Start,
            Desired::Running => Then::Restart,
            Desired::Stopped => Then::Nothing,
        };
        if running {
            // Journaled first: if the process dies between the new spec and the restart, the
            // reconciler restarts the app onto it (a retried update would see no change).
            self.update_record(&id, |r| r.restart_pending = true).await;
        }
        let target = id.clone();
        let (applied, more) = self.blocking(move |b| b.apply(&target, &next, then)).await;
        calls = calls + more;
        let failure = match applied {
            Err(e) => Some(e.to_string()),
            Ok(()) if running && !self.wait_healthy(&m).await => {
                Some(format!("not healthy within {}s", m.start_budget_secs))
            }
            Ok(()) => None,
        };
        let Some(why) = failure else {
            self.record_op("package.update", &id, calls, started, None);
            self.update_record(&id, |r| {
                r.health = HealthState::Unknown;
                r.restart_pending = false;
            })
            .await;
            let image = m.image.clone();
            self.remember(m);
            return Ok(Updated {
                changed: true,
                restarted: running,
                image,
                ..unchanged
            });
        };
        let e = self
            .roll_back(&id, previous, running, why, &mut calls)
            .await;
        self.update_record(&id, |r| r.restart_pending = false).await;
        self.record_op("package.update", &id, calls, started, Some(&e));
        Err(e)
    }

    /// Puts the previous spec back after a failed update; the error to answer with.
    async fn roll_back(
        &self,
        id: &AppId,
        previous: Option<String>,
        running: bool,
        why: String,
        calls: &mut Calls,
    ) -> Error {
        let Some(previous) = previous else {
            return Error::Internal(format!(
                "failed to update `{id}`: {why}; there was no previous unit to roll back to"
            ));
        };
        let then = if running {
            Then::Restart
        } else {
            Then::Nothing
        };
        let target = id.clone();
        let (r, more) = self
            .blocking(move |b| b.apply(&target, &previous, then))
            .await;
        *calls = *calls + more;
        match r {
            Ok(()) => Error::UpdateRolledBack {
                app: id.to_string(),
                why,
            },
            Err(e) => Error::Internal(format!(
                "failed to update `{id}`: {why}; putting the previous unit back failed too: {e}"
            )),
        }
    }

    /// Probes `m`'s health check until it passes or its start budget is spent; an app without a
    /// check counts as healthy once its (re)start succeeded.
    async fn wait_healthy(&self, m: &Manifest) -> bool {
        let Some(check) = m.health.clone() else {
            return true;
        };
        let deadline = Instant::now() + Duration::from_secs(m.start_budget_secs);
        loop {
            let (c, id, cmd) = (check.clone(), m.id.clone(), self.commands.clone());
            let h = tokio::task::spawn_blocking(move || probe(&c, &id, &cmd))
                .await
                .unwrap_or(HealthState::Unhealthy);
            if h == HealthState::Healthy {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            tokio::time::sleep(PROBE_INTERVAL.min(deadline - now)).await;
        }
    }

    /// `package.start`, `package.stop`, `package.restart`. A stop of an app that installed apps
    /// meant to run require is refused unless `cascade`, which stops those first.
    pub async fn operate(&self, op: Op, id: &AppId, cascade: bool) -> Result<Operated> {
        self.require_installed(id)?;
        if op != Op::Stop {
            let _lock = self.locks.lock(id).await;
            self.require_installed(id)?;
            let started = Instant::now();
            let (r, calls) = self.act(op, id).await;
            self.record_op(op.method(), id, calls, started, r.as_ref().err());
            r?;
            let rec = self.require_installed(id)?;
            return Ok(Operated {
                status: self.status_after(id, true, &rec),
                cascaded: None,
            });
        }
        let started = Instant::now();
        let (_locks, deps) = self.lock_with(id, |s| s.dependents_of(id)).await;
        self.require_installed(id)?;
        let running: BTreeSet<AppId> = {
            let state = guard(&self.state);
            deps.into_iter()
                .filter(|d| {
                    state
                        .apps
                        .get(d)
                        .is_some_and(|r| r.desired == Desired::Running)
                })
                .collect()
        };
        if !running.is_empty() && !cascade {
            return Err(Error::RequiredBy {
                verb: "stop",
                app: id.to_string(),
                dependents: running.iter().map(AppId::to_string).collect(),
            });
        }
        let order = teardown_order(&self.installed_graph(), &running);
        let mut calls = Calls::default();
        for app in order.iter().chain(std::iter::once(id)) {
            let (r, more) = self.act(Op::Stop, app).await;
            calls = calls + more;
            if let Err(e) = r {
                self.record_op(op.method(), id, calls, started, Some(&e));
                return Err(e);
            }
        }
        self.record_op(op.method(), id, calls, started, None);
        let rec = self.require_installed(id)?;
        Ok(Operated {
            status: self.status_after(id, false, &rec),
            cascaded: Some(order),
        })
    }

    /// Records the desired state `op` implies, then has the backend act (the app is locked).
    async fn act(&self, op: Op, id: &AppId) -> (Result<()>, Calls) {
        let desired = if op == Op::Stop {
            Desired::Stopped
        } else {
            Desired::Running
        };
        self.update_record(id, |r| {
            r.desired = desired;
            r.health = HealthState::Unknown;
        })
        .await;
        let target = id.clone();
        self.blocking(move |b| match op {
            Op::Start => b.start(&target),
            Op::Stop => b.stop(&target),
            Op::Restart => b.restart(&target),
        })
        .await
    }

    /// `package.uninstall`: removes the app; its named volumes too when `purge`. Refused while
    /// installed apps require it, unless `cascade`, which uninstalls those first.
    pub async fn uninstall(&self, id: &AppId, purge: bool, cascade: bool) -> Result<Uninstalled> {
        self.require_installed(id)?;
        let started = Instant::now();
        let (_locks, deps) = self.lock_with(id, |s| s.dependents_of(id)).await;
        self.require_installed(id)?;
        if !deps.is_empty() && !cascade {
            return Err(Error::RequiredBy {
                verb: "uninstall",
                app: id.to_string(),
                dependents: deps.iter().map(AppId::to_string).collect(),
            });
        }
        let order = teardown_order(&self.installed_graph(), &deps);
        let mut calls = Calls::default();
        for app in order.iter().chain(std::iter::once(id)) {
            let volumes: Vec<String> = match (purge, self.catalog().get(app)) {
                (true, Some(m)) => m.volumes.iter().map(|v| v.name.clone()).collect(),
                _ => Vec::new(),
            };
            let target = app.clone();
            let (r, more) = self.blocking(move |b| b.uninstall(&target, &volumes)).await;
            calls = calls + more;
            if let Err(e) = r {
                self.record_op("package.uninstall", id, calls, started, Some(&e));
                return Err(e);
            }
            guard(&self.state).apps.remove(app);
            self.persist().await;
        }
        self.record_op("package.uninstall", id, calls, started, None);
        Ok(Uninstalled {
            id: id.clone(),
            uninstalled: true,
            purged: purge,
            cascaded: order,
        })
    }

    /// The runtime's view of every installed app. Callers at the same time share reads: each
    /// waits for the read in flight and takes the first one to finish that began after it
    /// arrived, so nothing older than the call comes back, and N status calls at once cost at
    /// most two `systemctl show` (or `podman ps`) processes, not N. A failed read is not shared.
    async fn observe(&self) -> Result<Vec<Observed>> {
        let arrived = self.reads_begun.load(Ordering::Acquire);
        let mut last = self.last_read.lock().await;
        if let Some((n, seen)) = &*last
            && *n > arrived
        {
            return Ok(seen.clone());
        }
        let n = self.reads_begun.fetch_add(1, Ordering::AcqRel) + 1;
        let seen = self.blocking(|b| b.observe()).await.0?;
        *last = Some((n, seen.clone()));
        Ok(seen)
    }

    /// Every observed app's status, `degraded` included.
    fn statuses(&self, observed: &[Observed]) -> Vec<AppStatus> {
        let mut list: Vec<AppStatus> = {
            let state = guard(&self.state);
            observed
                .iter()
                .map(|o| AppStatus::observed(o, state.apps.get(&o.id), self.unit_path(&o.id)))
                .collect()
        };
        mark_degraded(&mut list, &self.graph_of(observed.iter().map(|o| &o.id)));
        list
    }

    /// `container-list`: every installed app, corrupt ones included.
    pub async fn list(&self) -> Result<Vec<AppStatus>> {
        let observed = self.observe().await?;
        Ok(self.statuses(&observed))
    }

    /// `package.status`: one app, with a fresh health check of it and its requirements when it
    /// is running.
    pub async fn status(&self, id: &AppId) -> Result<AppStatus> {
        let observed = self.observe().await?;
        let Some(o) = observed.iter().find(|o| &o.id == id) else {
            // An app added to the override folder since startup is known too.
            self.fresh_manifest(id)?;
            return Ok(AppStatus::not_installed(id.clone(), self.unit_path(id)));
        };
        if o.run == RunState::Running && o.invalid.is_none() {
            let requires = self
                .catalog()
                .get(id)
                .map(|m| m.requires.clone())
                .unwrap_or_default();
            let probe: Vec<AppId> = std::iter::once(id.clone())
                .chain(requires.into_iter().filter(|r| {
                    observed
                        .iter()
                        .any(|x| &x.id == r && x.run == RunState::Running && x.invalid.is_none())
                }))
                .collect();
            self.check_health(&probe).await;
        }
        self.statuses(&observed)
            .into_iter()
            .find(|s| &s.id == id)
            .ok_or_else(|| Error::Internal(format!("{id} vanished from its own status")))
    }

    /// Probes the given apps' health concurrently and records the outcomes.
    async fn check_health(&self, ids: &[AppId]) {
        let catalog = self.catalog();
        let mut tasks = Vec::new();
        for id in ids {
            let Some(check) = catalog.get(id).and_then(|m| m.health.clone()) else {
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

    /// One reconcile tick (the first of a process has the runtime reload every spec first): adopt
    /// unrecorded units, forget removed ones, restart apps an update left half-applied, start what
    /// should run, stop what should not, rewrite units whose desired state disagrees with the record, check
    /// health. Apps busy with a user operation are skipped until the next tick. Ticks never overlap;
    /// returns the number of ticks finished by this process, this one included.
    pub async fn tick(&self) -> Result<u64> {
        let _one = self.ticking.lock().await;
        let started = Instant::now();
        guard(&self.metrics).started += 1;
        if !self.resynced.load(Ordering::Acquire) {
            // Once per process: a spec written just before a crash, never loaded, is loaded now.
            self.blocking(|b| b.resync()).await.0?;
            self.resynced.store(true, Ordering::Release);
        }
        let recorded: BTreeSet<AppId> = guard(&self.state).apps.keys().cloned().collect();
        let observed = self.observe().await?;
        let before = guard(&self.state).clone();
        let mut p = plan(&before, &observed);
        // An install or uninstall that finished while the runtime was being read changed the
        // record after the runtime's answer: adopt and forget only apps whose record was the same
        // before and after (the next tick sees the rest as it is).
        p.adopt.retain(|(id, _)| !recorded.contains(id));
        p.forget.retain(|id| recorded.contains(id));
        // REGRESSION SWITCH (issue 8): the old reconciler only ever started apps, and never
        // brought a unit's [Install] in line with a stop.
        if Regression::StoppedResurrects.active() {
            p.stop.clear();
            p.mark.clear();
        }
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
        let repairs = (p.start.iter().map(|id| (id, Repair::Start)))
            .chain(p.restart.iter().map(|id| (id, Repair::Restart)))
            .chain(p.stop.iter().map(|id| (id, Repair::Stop)))
            .chain(p.mark.iter().map(|(id, d)| (id, Repair::Mark(*d))));
        for (id, repair) in repairs {
            let Some(_lock) = self.locks.try_lock(id) else {
                continue;
            };
            // An operation may have changed the record since the runtime was observed.
            if guard(&self.state)
                .apps
                .get(id)
                .is_none_or(|r| r.desired != repair.desired())
            {
                continue;
            }
            let target = id.clone();
            let r = self
                .blocking(move |b| match repair {
                    Repair::Start => b.start(&target),
                    Repair::Restart => b.restart(&target),
                    Repair::Stop => b.stop(&target),
                    Repair::Mark(d) => b.record_desired(&target, d),
                })
                .await
                .0;
            if let (Ok(()), Repair::Restart) = (&r, repair) {
                self.update_record(id, |r| r.restart_pending = false).await;
            }
            match r {
                Ok(()) => log::info(format_args!("reconcile: {} {id}", repair.done())),
                Err(e) => log::error(format_args!("reconcile: {e}")),
            }
        }
        // An app this tick stopped is not probed (it would be recorded unhealthy, not unknown).
        let running: Vec<AppId> = observed
            .iter()
            .filter(|o| o.run == RunState::Running && o.invalid.is_none())
            .filter(|o| !p.stop.contains(&o.id))
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
        let changed = *guard(&self.state) != before;
        if changed {
            self.persist().await;
        }
        let ms = started.elapsed().as_millis() as u64;
        self.histograms.tick(started.elapsed().as_secs_f64());
        let mut m = guard(&self.metrics);
        m.ticks += 1;
        m.last_ms = ms;
        m.max_ms = m.max_ms.max(ms);
        Ok(m.ticks)
    }

    /// `server.reconcile`: one whole tick that begins after the call (waiting for a tick in
    /// progress to end first), answered when it has finished, with its number and duration.
    pub async fn reconcile_now(&self) -> Result<Value> {
        let started = Instant::now();
        let tick = self.tick().await?;
        Ok(json!({ "tick": tick, "duration_ms": started.elapsed().as_millis() as u64 }))
    }

    /// `GET /metrics`: the metrics in Prometheus' text format, with the apps counted by state.
    pub async fn prometheus(&self) -> Result<String> {
        let mut apps = BTreeMap::new();
        for a in self.list().await? {
            *apps.entry(a.state.as_str().to_owned()).or_insert(0) += 1;
        }
        let snapshot = {
            let m = guard(&self.metrics);
            crate::prometheus::Snapshot {
                startup_ms: m.startup_ms,
                ticks: m.ticks,
                calls: self.commands.totals(),
                apps,
            }
        };
        Ok(crate::prometheus::render(&self.histograms, &snapshot))
    }

    /// `server.metrics`: startup, reconcile and command counters, and the last operation.
    pub fn metrics(&self) -> Value {
        let m = guard(&self.metrics);
        json!({
            "started_at": rfc3339(self.started_at),
            "startup_ms": m.startup_ms,
            "backend": self.backend.kind().as_str(),
            "podman_version": self.podman.to_string(),
            "reconcile": { "started": m.started, "ticks": m.ticks, "last_ms": m.last_ms, "max_ms": m.max_ms },
            "calls": self.commands.totals(),
            "last_operation": m.last_operation,
        })
    }
}
