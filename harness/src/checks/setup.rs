//! Setup before a node's cases: install each selected app (and what it requires) when missing.

use std::collections::BTreeMap;

use serde_json::json;

use super::{NodeCtx, ctx::field};
use crate::{
    model::{AppId, Outcome},
    suite::Suite,
};

/// Installs missing apps in `order`; returns why setup failed, per app (dependents included).
pub async fn setup(
    ctx: &NodeCtx,
    order: &[AppId],
    suites: &BTreeMap<AppId, Suite>,
) -> BTreeMap<AppId, String> {
    let mut failed: BTreeMap<AppId, String> = BTreeMap::new();
    for app in order {
        let suite = suites.get(app);
        if let Some(req) = suite.and_then(|s| s.requires.iter().find(|r| failed.contains_key(*r))) {
            failed.insert(app.clone(), format!("setup of required app {req} failed"));
            continue;
        }
        let r = async {
            let installed = match ctx
                .http
                .call("package.status", json!({"id": app.as_str()}))
                .await?
            {
                crate::transport::RpcReply::Ok(st) => field(&st, "state") != "not-installed",
                crate::transport::RpcReply::Err { code: -32004, .. } => false,
                crate::transport::RpcReply::Err { code, message } => {
                    return Err(Outcome::Error(format!(
                        "package.status {app}: {code} {message}"
                    )));
                }
            };
            if !installed {
                ctx.rpc("package.install", json!({"id": app.as_str()}))
                    .await?;
            }
            let budget = suite.map_or(std::time::Duration::from_secs(60), |s| s.start_budget);
            ctx.wait_healthy(app, budget).await.map(drop)
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
            let state = match ctx
                .http
                .call("package.status", json!({"id": app.as_str()}))
                .await?
            {
                crate::transport::RpcReply::Ok(st) => field(&st, "state"),
                crate::transport::RpcReply::Err { code, message } => {
                    return Err(Outcome::Error(format!("{code} {message}")));
                }
            };
            match state.as_str() {
                "not-installed" => {
                    ctx.rpc("package.install", json!({"id": app.as_str()}))
                        .await?;
                }
                "stopped" | "failed" => {
                    ctx.rpc("package.start", json!({"id": app.as_str()}))
                        .await?;
                }
                _ => {}
            }
            if had_manifest {
                ctx.rpc("package.update", json!({"id": app.as_str()}))
                    .await?;
            }
            let budget = suites
                .get(app)
                .map_or(std::time::Duration::from_secs(60), |s| s.start_budget);
            ctx.wait_healthy(app, budget).await.map(drop)
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
