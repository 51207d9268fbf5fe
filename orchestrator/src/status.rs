//! `AppStatus`: how one app is reported over the API, including `degraded` for an app whose
//! requirement is down.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::backend::{Observed, RunState};
use crate::manifest::AppId;
use crate::stack::Graph;
use crate::state::{AppRecord, Desired, HealthState};

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

/// One app in `container-list`, `package.status` and operation results (README "Lifecycle semantics").
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AppStatus {
    /// The app.
    pub id: AppId,
    /// Its state.
    pub state: AppState,
    /// Whether it is meant to run (`running`, `stopped`): what the reconciler and a reboot hold
    /// it to, which can differ from `state` until they act; null when not installed.
    pub desired: Option<Desired>,
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
    /// Why it is `degraded` (`requires lab-chain, which is not running`); null otherwise.
    pub reason: Option<String>,
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
            desired: rec.map(|r| r.desired).or(o.desired),
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
            reason: None,
        }
    }

    /// A catalog app that is not installed.
    pub fn not_installed(id: AppId, unit_path: String) -> AppStatus {
        AppStatus {
            id,
            state: AppState::NotInstalled,
            desired: None,
            container_id: None,
            started_at: None,
            health: HealthState::Unknown,
            unit_path,
            installed_at: None,
            error: None,
            reason: None,
        }
    }
}

/// Reports every running app whose requirement (in manifest order; the first one wins) is not
/// running or is unhealthy as `degraded`, with the reason. A requirement's own `degraded` does
/// not spread: each app names what is wrong with its direct requirements only.
pub fn mark_degraded(apps: &mut [AppStatus], graph: &Graph) {
    let seen: BTreeMap<AppId, (AppState, HealthState)> = apps
        .iter()
        .map(|a| (a.id.clone(), (a.state, a.health)))
        .collect();
    for app in apps.iter_mut().filter(|a| a.state == AppState::Running) {
        let problem = graph
            .get(&app.id)
            .into_iter()
            .flatten()
            .find_map(|r| match seen.get(r) {
                Some((AppState::Running, HealthState::Unhealthy)) => Some((r, "unhealthy")),
                Some((AppState::Running, _)) => None,
                _ => Some((r, "not running")),
            });
        if let Some((r, why)) = problem {
            app.health = HealthState::Degraded;
            app.reason = Some(format!("requires {r}, which is {why}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(id: &str, state: AppState, health: HealthState) -> AppStatus {
        AppStatus {
            state,
            health,
            ..AppStatus::not_installed(AppId::parse(id).unwrap(), String::new())
        }
    }

    #[test]
    fn a_running_app_with_a_requirement_down_or_unhealthy_is_degraded() {
        let id = |s| AppId::parse(s).unwrap();
        let graph: Graph = [
            (id("chain"), vec![]),
            (id("wallet"), vec![id("chain")]),
            (id("index"), vec![id("chain")]),
            (id("ui"), vec![id("index"), id("wallet")]),
            (id("explorer"), vec![id("gone")]),
            (id("parked"), vec![id("chain")]),
        ]
        .into();
        let mut apps = vec![
            status("chain", AppState::Stopped, HealthState::Unknown),
            status("wallet", AppState::Running, HealthState::Healthy),
            status("index", AppState::Running, HealthState::Unhealthy),
            status("ui", AppState::Running, HealthState::Healthy),
            status("explorer", AppState::Running, HealthState::Healthy),
            status("parked", AppState::Stopped, HealthState::Unknown),
        ];
        mark_degraded(&mut apps, &graph);
        let got: Vec<_> = apps
            .iter()
            .map(|a| (a.id.as_str(), a.health, a.reason.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("chain", HealthState::Unknown, None),
                (
                    "wallet",
                    HealthState::Degraded,
                    Some("requires chain, which is not running")
                ),
                (
                    "index",
                    HealthState::Degraded,
                    Some("requires chain, which is not running")
                ),
                (
                    "ui",
                    HealthState::Degraded,
                    Some("requires index, which is unhealthy")
                ),
                (
                    "explorer",
                    HealthState::Degraded,
                    Some("requires gone, which is not running")
                ),
                ("parked", HealthState::Unknown, None),
            ]
        );
    }

    #[test]
    fn desired_comes_from_the_record_then_the_unit_and_may_differ_from_the_state() {
        let observed = |desired| Observed {
            id: AppId::parse("chain").unwrap(),
            invalid: None,
            run: RunState::Running,
            container_id: Some("c0ffee".into()),
            started_at: None,
            installed_at: None,
            desired,
        };
        let rec = AppRecord {
            installed_at: None,
            desired: Desired::Stopped,
            health: HealthState::Healthy,
            restart_pending: false,
        };
        let got = |o: &Observed, r: Option<&AppRecord>| {
            let st = AppStatus::observed(o, r, String::new());
            (st.state, st.desired)
        };
        let from_unit = observed(Some(Desired::Running));
        assert_eq!(
            got(&from_unit, Some(&rec)),
            (AppState::Running, Some(Desired::Stopped))
        );
        assert_eq!(
            got(&from_unit, None),
            (AppState::Running, Some(Desired::Running))
        );
        assert_eq!(got(&observed(None), None), (AppState::Running, None));
    }
}
