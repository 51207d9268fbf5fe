//! The per-app state changes (L3): stop, start, restart, reinstall. Each runs alone on its node.

use serde_json::json;

use super::{
    Check, NodeCtx,
    ctx::field,
    probes::{all_rpc, check_data, record_data, rpc_probe},
};
use crate::{model::Outcome, suite::Suite};

fn fail(msg: String) -> Outcome {
    Outcome::Fail(msg)
}

async fn volumes_exist(ctx: &NodeCtx, suite: &Suite) -> Check<()> {
    for v in &suite.volumes {
        if ctx.podman(&format!("volume exists {v}")).await?.status != 0 {
            return Err(fail(format!("volume {v} is gone")));
        }
    }
    Ok(())
}

async fn healthy_and_answering(ctx: &NodeCtx, suite: &Suite) -> Check<serde_json::Value> {
    let st = ctx.wait_healthy(&suite.app, suite.start_budget).await?;
    all_rpc(ctx, suite).await?.map_err(fail)?;
    check_data(ctx, suite).await.map_err(fail)?;
    Ok(st)
}

/// `package.stop`: stopped, container not running, every rpc probe fails, volumes kept.
pub async fn stop(ctx: &NodeCtx, suite: &Suite) -> Check<()> {
    let _ = record_data(ctx, suite).await;
    let st = ctx
        .rpc("package.stop", json!({"id": suite.app.as_str()}))
        .await?;
    let st = if field(&st, "state") == "stopped" {
        st
    } else {
        ctx.status(&suite.app).await?
    };
    if field(&st, "state") != "stopped" {
        return Err(fail(format!(
            "state is {:?} after package.stop, not stopped",
            field(&st, "state")
        )));
    }
    if let Some(c) = ctx.container(&suite.app).await?.filter(|c| c.running) {
        return Err(fail(format!("container {} still runs", c.id)));
    }
    for p in &suite.rpc {
        if rpc_probe(ctx, &suite.app, p).await?.is_ok() {
            return Err(fail(
                "a probe still answers while the app is stopped".into(),
            ));
        }
    }
    volumes_exist(ctx, suite).await
}

/// `package.start`: running and healthy within budget, probes pass, data rule holds.
pub async fn start(ctx: &NodeCtx, suite: &Suite) -> Check<()> {
    ctx.rpc("package.start", json!({"id": suite.app.as_str()}))
        .await?;
    healthy_and_answering(ctx, suite).await.map(drop)
}

/// `package.restart`: the container started again (a new one, or the same one later), healthy,
/// probes pass, data rule holds.
pub async fn restart(ctx: &NodeCtx, suite: &Suite) -> Check<()> {
    let before = ctx.container(&suite.app).await?;
    let _ = record_data(ctx, suite).await;
    ctx.rpc("package.restart", json!({"id": suite.app.as_str()}))
        .await?;
    healthy_and_answering(ctx, suite).await?;
    let after = ctx.container(&suite.app).await?;
    match (&before, &after) {
        (Some(b), Some(a)) if a.id == b.id && a.started_at == b.started_at => Err(fail(format!(
            "container {} was not restarted: same id and start time {}",
            a.id, a.started_at
        ))),
        (_, None) => Err(fail("no container after package.restart".into())),
        _ => Ok(()),
    }
}

/// Uninstall without purge, install again: healthy, data kept.
pub async fn reinstall(ctx: &NodeCtx, suite: &Suite) -> Check<()> {
    let _ = record_data(ctx, suite).await;
    ctx.rpc(
        "package.uninstall",
        json!({"id": suite.app.as_str(), "purge": false}),
    )
    .await?;
    if let Some(c) = ctx.container(&suite.app).await? {
        return Err(fail(format!(
            "container {} still exists after uninstall",
            c.id
        )));
    }
    volumes_exist(ctx, suite).await?;
    ctx.rpc("package.install", json!({"id": suite.app.as_str()}))
        .await?;
    healthy_and_answering(ctx, suite).await.map(drop)
}
