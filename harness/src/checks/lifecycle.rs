//! The per-app state changes (L3): stop, start, restart, reinstall. Each runs alone on its node.
//! An operation's effect must hold the moment its call returns (judged by podman and the
//! orchestrator together), and still hold a reconcile tick later.

use std::collections::BTreeMap;

use serde_json::json;

use super::{
    CheckResult, NodeCtx,
    agree::{agreed, expect_state},
    ctx::{field, quote},
    probes::{all_rpc, check_data, record_data, rpc_probe},
    stack::{bring_up, cascade_order_holds, dependents, ids, installed},
};
use crate::{
    model::{AppId, Outcome},
    suite::Suite,
};

fn fail(msg: String) -> Outcome {
    Outcome::Fail(msg)
}

/// Every named volume of the suite still exists.
pub async fn volumes_exist(ctx: &NodeCtx, suite: &Suite) -> CheckResult<()> {
    for v in &suite.volumes {
        if ctx
            .podman(&format!("volume exists {}", quote(v)))
            .await?
            .status
            != 0
        {
            return Err(fail(format!("volume {v} is gone")));
        }
    }
    Ok(())
}

/// Running and healthy within the start budget, probes pass, data rules hold.
pub async fn healthy_and_answering(ctx: &NodeCtx, suite: &Suite) -> CheckResult<serde_json::Value> {
    let st = ctx.wait_healthy(&suite.app, suite.start_budget).await?;
    all_rpc(ctx, suite).await?.map_err(fail)?;
    check_data(ctx, suite).await.map_err(fail)?;
    Ok(st)
}

/// The data values now, remembered for the rules; an app that does not answer before an
/// operation fails the case (there would be nothing to compare with).
async fn remember_data(ctx: &NodeCtx, suite: &Suite) -> CheckResult<()> {
    record_data(ctx, suite)
        .await
        .map(drop)
        .map_err(|e| fail(format!("data not readable before the operation: {e}")))
}

/// The installed apps that require `suite`'s app.
async fn installed_dependents(
    ctx: &NodeCtx,
    suite: &Suite,
    suites: &BTreeMap<AppId, Suite>,
) -> CheckResult<Vec<AppId>> {
    Ok(dependents(&suite.app, suites, &installed(ctx).await?))
}

/// `package.stop` (with `cascade` when installed apps require it): stopped the moment the call
/// returns, dependents too, every probe fails, volumes kept, and all still stopped a reconcile
/// tick later.
pub async fn stop(
    ctx: &NodeCtx,
    suite: &Suite,
    suites: &BTreeMap<AppId, Suite>,
) -> CheckResult<()> {
    remember_data(ctx, suite).await?;
    let deps = installed_dependents(ctx, suite, suites).await?;
    let st = ctx
        .rpc(
            "package.stop",
            json!({"id": suite.app.as_str(), "cascade": !deps.is_empty()}),
        )
        .await?;
    if (field(&st, "state"), field(&st, "desired")) != ("stopped".into(), "stopped".into()) {
        return Err(fail(format!(
            "package.stop answered state {:?}, desired {:?}: not stopped and meant to stay so",
            field(&st, "state"),
            field(&st, "desired")
        )));
    }
    if !deps.is_empty() {
        cascade_order_holds(&ids(&st, "cascaded")?, &deps, suites).map_err(fail)?;
    }
    for a in std::iter::once(&suite.app).chain(&deps) {
        expect_state(ctx, a, "stopped", "right after package.stop returned").await?;
    }
    for p in &suite.rpc {
        if rpc_probe(ctx, &suite.app, p).await?.is_ok() {
            return Err(fail(
                "a probe still answers while the app is stopped".into(),
            ));
        }
    }
    volumes_exist(ctx, suite).await?;
    ctx.reconcile_now().await?;
    for a in std::iter::once(&suite.app).chain(&deps) {
        expect_state(ctx, a, "stopped", "a reconcile tick after package.stop").await?;
    }
    Ok(())
}

/// `package.start`: running the moment the call returns (podman's container is the one the
/// orchestrator reports), started exactly once, healthy within budget, probes and data rules
/// pass, and the same container a reconcile tick later. Dependents a cascade stopped are
/// started again afterwards.
pub async fn start(
    ctx: &NodeCtx,
    suite: &Suite,
    suites: &BTreeMap<AppId, Suite>,
) -> CheckResult<()> {
    let since = ctx.node_now().await?;
    let st = ctx
        .rpc("package.start", json!({"id": suite.app.as_str()}))
        .await?;
    if field(&st, "desired") != "running" {
        return Err(fail(format!(
            "package.start answered desired {:?}, not running",
            field(&st, "desired")
        )));
    }
    let first = expect_state(
        ctx,
        &suite.app,
        "running",
        "right after package.start returned",
    )
    .await?;
    healthy_and_answering(ctx, suite).await?;
    let starts = ctx.starts_since(&suite.app, &since, 1).await?;
    if starts != 1 {
        return Err(fail(format!(
            "podman started {} {starts} times for one package.start",
            suite.app
        )));
    }
    let mut stopped = Vec::new();
    for d in installed_dependents(ctx, suite, suites).await? {
        if agreed(ctx, &d).await?.state == "stopped" {
            stopped.push(d);
        }
    }
    bring_up(ctx, &stopped, suites, false).await?;
    ctx.reconcile_now().await?;
    let later = expect_state(
        ctx,
        &suite.app,
        "running",
        "a reconcile tick after package.start",
    )
    .await?;
    if later.container != first.container {
        return Err(fail(format!(
            "{} was restarted within a reconcile tick of package.start",
            suite.app
        )));
    }
    Ok(())
}

/// `package.restart`: a new container (or a later start) running the moment the call returns,
/// started exactly once, healthy, probes and data rules pass, and not restarted again a
/// reconcile tick later.
pub async fn restart(ctx: &NodeCtx, suite: &Suite) -> CheckResult<()> {
    let before = expect_state(ctx, &suite.app, "running", "before package.restart").await?;
    remember_data(ctx, suite).await?;
    let since = ctx.node_now().await?;
    ctx.rpc("package.restart", json!({"id": suite.app.as_str()}))
        .await?;
    let after = expect_state(
        ctx,
        &suite.app,
        "running",
        "right after package.restart returned",
    )
    .await?;
    if let (Some(b), Some(a)) = (&before.container, &after.container)
        && a.id == b.id
        && a.started_at == b.started_at
    {
        return Err(fail(format!(
            "container {} was not restarted: same id and start time {}",
            a.id, a.started_at
        )));
    }
    healthy_and_answering(ctx, suite).await?;
    let starts = ctx.starts_since(&suite.app, &since, 1).await?;
    if starts != 1 {
        return Err(fail(format!(
            "podman started {} {starts} times for one package.restart",
            suite.app
        )));
    }
    ctx.reconcile_now().await?;
    let later = expect_state(
        ctx,
        &suite.app,
        "running",
        "a reconcile tick after package.restart",
    )
    .await?;
    if later.container != after.container {
        return Err(fail(format!(
            "{} was restarted again within a reconcile tick of package.restart",
            suite.app
        )));
    }
    Ok(())
}

/// Uninstall without purge (with `cascade` when installed apps require it), install again
/// (dependents too): healthy, probes pass, data kept.
pub async fn reinstall(
    ctx: &NodeCtx,
    suite: &Suite,
    suites: &BTreeMap<AppId, Suite>,
) -> CheckResult<()> {
    remember_data(ctx, suite).await?;
    let deps = installed_dependents(ctx, suite, suites).await?;
    let r = ctx
        .rpc(
            "package.uninstall",
            json!({"id": suite.app.as_str(), "purge": false, "cascade": !deps.is_empty()}),
        )
        .await?;
    if !deps.is_empty() {
        cascade_order_holds(&ids(&r, "cascaded")?, &deps, suites).map_err(fail)?;
    }
    for a in std::iter::once(&suite.app).chain(&deps) {
        expect_state(ctx, a, "not-installed", "after package.uninstall").await?;
    }
    volumes_exist(ctx, suite).await?;
    let mut stack = vec![suite.app.clone()];
    stack.extend(deps);
    bring_up(ctx, &stack, suites, true).await?;
    healthy_and_answering(ctx, suite).await.map(drop)
}
