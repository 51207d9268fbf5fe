//! Setup before a node's cases, and restore after a state-changing case failed: each app
//! installed, meant to run, running and healthy.

use std::collections::BTreeMap;

use serde_json::json;

use super::{CheckResult, NodeCtx};
use crate::{
    api::{AppState, AppStatus, Desired, ErrorCode, Health},
    model::{AppId, Outcome},
    suite::Suite,
    transport::RpcReply,
};

/// Installs each app of `order` when missing and starts it when it is not meant to run or not
/// running, then waits until healthy; returns why setup failed, per app (dependents included).
pub async fn setup(
    ctx: &NodeCtx,
    order: &[AppId],
    suites: &BTreeMap<AppId, Suite>,
) -> BTreeMap<AppId, String> {
    let mut failed: BTreeMap<AppId, String> = BTreeMap::new();
    // One `container-list` answers for every app already running, healthy and meant to run (the
    // usual case between iterations: two `package.status` calls saved per app and iteration);
    // the others take the install, start and wait path. The cases themselves judge afresh.
    let ready: Vec<AppId> = match ctx.list().await {
        Ok(list) => list.apps.into_iter().filter(ready).map(|a| a.id).collect(),
        Err(_) => Vec::new(),
    };
    for app in order {
        if ready.contains(app) {
            continue;
        }
        let suite = suites.get(app);
        if let Some(req) = suite.and_then(|s| s.requires.iter().find(|r| failed.contains_key(*r))) {
            failed.insert(app.clone(), format!("setup of required app {req} failed"));
            continue;
        }
        let r = async {
            ensure_up(ctx, app).await?;
            ctx.wait_healthy(app, budget(suites, app)).await.map(drop)
        }
        .await;
        if let Err(o) = r {
            failed.insert(
                app.clone(),
                format!("setup of {app} failed: {}", o.message()),
            );
        }
    }
    failed
}

/// Whether a `container-list` entry needs nothing from setup.
fn ready(a: &AppStatus) -> bool {
    a.state == AppState::Running
        && a.health == Health::Healthy
        && call_for(a.state, a.desired).is_none()
}

/// An app's start budget (60 s for an app without a suite).
fn budget(suites: &BTreeMap<AppId, Suite>, app: &AppId) -> std::time::Duration {
    suites
        .get(app)
        .map_or(std::time::Duration::from_secs(60), |s| s.start_budget)
}

/// What `package.status`'s state and desired state call for: `package.install` when not
/// installed, `package.start` when stopped, failed, or running while meant to be stopped (the
/// reconciler would stop it).
fn call_for(state: AppState, desired: Option<Desired>) -> Option<&'static str> {
    match (state, desired) {
        (AppState::NotInstalled, _) => Some("package.install"),
        (AppState::Stopped | AppState::Failed, _) | (_, Some(Desired::Stopped)) => {
            Some("package.start")
        }
        _ => None,
    }
}

/// Installs or starts `app` as its status calls for (see [`call_for`]).
async fn ensure_up(ctx: &NodeCtx, app: &AppId) -> CheckResult<()> {
    let (state, desired) = match ctx.http.status(app).await? {
        RpcReply::Ok(st) => (st.state, st.desired),
        RpcReply::Err {
            code: ErrorCode::NotInstalled,
            ..
        } => (AppState::NotInstalled, None),
        RpcReply::Err { code, message } => {
            return Err(Outcome::Error(format!(
                "package.status {app}: {code} {message}"
            )));
        }
    };
    if let Some(method) = call_for(state, desired) {
        ctx.rpc(method, json!({"id": app.as_str()})).await?;
    }
    Ok(())
}

/// Puts the node back after a state-changing case failed, so one defect shows as red where it
/// is and not as its dependents' failures later: every fault cleared, every new manifest
/// removed (and applied), every app of `order` installed, started and healthy. Returns what it
/// could not put back.
pub async fn restore(
    ctx: &NodeCtx,
    order: &[AppId],
    suites: &BTreeMap<AppId, Suite>,
) -> Result<(), String> {
    ctx.note("restore: putting the node back for the next case");
    let mut problems = Vec::new();
    for app in order {
        if let Some(f) = suites.get(app).and_then(|s| s.fault) {
            let _ = super::required::fault(ctx, f, "healthy").await;
        }
    }
    for app in order {
        let r = async {
            let had_manifest = if ctx.fleet.catalog_override_dir.is_some() {
                super::update::remove_manifest(ctx, app).await?
            } else {
                false
            };
            ensure_up(ctx, app).await?;
            if had_manifest {
                ctx.rpc("package.update", json!({"id": app.as_str()}))
                    .await?;
            }
            ctx.wait_healthy(app, budget(suites, app)).await.map(drop)
        }
        .await;
        if let Err(o) = r {
            problems.push(format!("{app}: {}", o.message()));
        }
    }
    if problems.is_empty() {
        ctx.note("restore: done");
        Ok(())
    } else {
        ctx.note(&format!("restore: FAILED {}", problems.join("; ")));
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_status_decides_install_start_or_nothing() {
        use AppState::*;
        let (run, stop) = (Some(Desired::Running), Some(Desired::Stopped));
        assert_eq!(call_for(NotInstalled, None), Some("package.install"));
        assert_eq!(call_for(Stopped, stop), Some("package.start"));
        assert_eq!(call_for(Failed, run), Some("package.start"));
        assert_eq!(call_for(Stopped, run), Some("package.start"));
        // Running but meant to be stopped: the reconciler would stop it behind the next case.
        assert_eq!(call_for(Running, stop), Some("package.start"));
        assert_eq!(call_for(Running, run), None);
        assert_eq!(call_for(Starting, run), None);
        // An orchestrator without `desired` (older): the observed state alone decides.
        assert_eq!(call_for(Running, None), None);
    }

    #[test]
    fn only_a_running_healthy_app_meant_to_run_skips_setup() {
        let app = |state, desired, health| AppStatus {
            id: AppId::new("lab-chain").unwrap(),
            state,
            desired,
            health,
            container_id: None,
            started_at: None,
            error: None,
            reason: None,
        };
        let run = Some(Desired::Running);
        assert!(ready(&app(AppState::Running, run, Health::Healthy)));
        assert!(!ready(&app(AppState::Running, run, Health::Unhealthy)));
        assert!(!ready(&app(AppState::Running, run, Health::Degraded)));
        assert!(!ready(&app(AppState::Starting, run, Health::Healthy)));
        assert!(!ready(&app(AppState::Stopped, run, Health::Healthy)));
        assert!(!ready(&app(
            AppState::Running,
            Some(Desired::Stopped),
            Health::Healthy
        )));
    }
}
