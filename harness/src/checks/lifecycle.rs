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

/// `package.stop`: stopped, unit inactive, every rpc probe fails, volumes kept.
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
    let unit = ctx.unit_state(&suite.app).await?;
    if unit == "active" {
        return Err(fail(format!("{}.service is still active", suite.app)));
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

/// `package.restart`: a new container, healthy, probes pass, data rule holds.
pub async fn restart(ctx: &NodeCtx, suite: &Suite) -> Check<()> {
    let before = field(&ctx.status(&suite.app).await?, "container_id");
    let _ = record_data(ctx, suite).await;
    ctx.rpc("package.restart", json!({"id": suite.app.as_str()}))
        .await?;
    let st = healthy_and_answering(ctx, suite).await?;
    let after = field(&st, "container_id");
    if after.is_empty() || after == before {
        return Err(fail(format!(
            "container id {after:?} did not change from {before:?}"
        )));
    }
    Ok(())
}

/// Uninstall without purge, install again: healthy, data kept.
pub async fn reinstall(ctx: &NodeCtx, suite: &Suite) -> Check<()> {
    let cid = field(&ctx.status(&suite.app).await?, "container_id");
    let _ = record_data(ctx, suite).await;
    ctx.rpc(
        "package.uninstall",
        json!({"id": suite.app.as_str(), "purge": false}),
    )
    .await?;
    if ctx.unit_state(&suite.app).await? == "active" {
        return Err(fail(format!(
            "{}.service still active after uninstall",
            suite.app
        )));
    }
    if !cid.is_empty() && ctx.podman(&format!("container exists {cid}")).await?.status == 0 {
        return Err(fail(format!(
            "container {cid} still exists after uninstall"
        )));
    }
    volumes_exist(ctx, suite).await?;
    ctx.rpc("package.install", json!({"id": suite.app.as_str()}))
        .await?;
    healthy_and_answering(ctx, suite).await.map(drop)
}
