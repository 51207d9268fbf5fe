//! The per-app state changes (L3): stop, start, restart, reinstall. Each runs alone on its node.
//! An operation's effect must hold the moment its call returns (judged by podman and the
//! orchestrator together), and still hold a reconcile tick later.

use std::collections::BTreeMap;

use serde_json::json;

use super::{
    CheckResult, NodeCtx,
    agree::{agreed, all, expect_state, expect_states},
    ctx::quote,
    probes::{all_rpc, check_data, record_data, rpc_probe},
    stack::{bring_up, cascade_order_holds, cascaded, dependents, installed},
};
use crate::{
    api::{AppState, AppStatus, Desired, Operated, Uninstalled},
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
pub async fn healthy_and_answering(ctx: &NodeCtx, suite: &Suite) -> CheckResult<AppStatus> {
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
    let op: Operated = ctx
        .rpc_as(
            "package.stop",
            json!({"id": suite.app.as_str(), "cascade": !deps.is_empty()}),
        )
        .await?;
    let (state, desired) = (op.status.state, op.status.desired);
    if (state, desired) != (AppState::Stopped, Some(Desired::Stopped)) {
        return Err(fail(format!(
            "package.stop answered state {:?}, desired {:?}: not stopped and meant to stay so",
            state.as_str(),
            desired.map_or("", Desired::as_str)
        )));
    }
    if !deps.is_empty() {
        let done = cascaded("package.stop", op.cascaded)?;
        cascade_order_holds(&done, &deps, suites).map_err(fail)?;
    }
    expect_states(
        ctx,
        std::iter::once(&suite.app).chain(&deps),
        AppState::Stopped,
        "right after package.stop returned",
    )
    .await?;
    for p in &suite.rpc {
        if rpc_probe(ctx, &suite.app, p).await?.is_ok() {
            return Err(fail(
                "a probe still answers while the app is stopped".into(),
            ));
        }
    }
    volumes_exist(ctx, suite).await?;
    ctx.reconcile_now().await?;
    expect_states(
        ctx,
        std::iter::once(&suite.app).chain(&deps),
        AppState::Stopped,
        "a reconcile tick after package.stop",
    )
    .await?;
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
    let op: Operated = ctx
        .rpc_as("package.start", json!({"id": suite.app.as_str()}))
        .await?;
    if op.status.desired != Some(Desired::Running) {
        return Err(fail(format!(
            "package.start answered desired {:?}, not running",
            op.status.desired.map_or("", Desired::as_str)
        )));
    }
    let first = expect_state(
        ctx,
        &suite.app,
        AppState::Running,
        "right after package.start returned",
    )
    .await?;
    healthy_and_answering(ctx, suite).await?;
    let starts = ctx.starts_since(&suite.app, &since, 1).await?;
    if starts != 1 {
        let what = format!(
            "podman started {} {starts} times for one package.start",
            suite.app
        );
        return Err(ctx.wrong_starts(&suite.app, &since, what).await);
    }
    let deps = installed_dependents(ctx, suite, suites).await?;
    let mut stopped = Vec::new();
    for (d, seen) in deps
        .iter()
        .zip(all(deps.iter().map(|d| agreed(ctx, d))).await)
    {
        if seen?.state == AppState::Stopped {
            stopped.push(d.clone());
        }
    }
    bring_up(ctx, &stopped, suites, false).await?;
    ctx.reconcile_now().await?;
    let later = expect_state(
        ctx,
        &suite.app,
        AppState::Running,
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
    let before = expect_state(ctx, &suite.app, AppState::Running, "before package.restart").await?;
    remember_data(ctx, suite).await?;
    let since = ctx.node_now().await?;
    ctx.rpc("package.restart", json!({"id": suite.app.as_str()}))
        .await?;
    let after = expect_state(
        ctx,
        &suite.app,
        AppState::Running,
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
        let what = format!(
            "podman started {} {starts} times for one package.restart",
            suite.app
        );
        return Err(ctx.wrong_starts(&suite.app, &since, what).await);
    }
    ctx.reconcile_now().await?;
    let later = expect_state(
        ctx,
        &suite.app,
        AppState::Running,
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
    let r: Uninstalled = ctx
        .rpc_as(
            "package.uninstall",
            json!({"id": suite.app.as_str(), "purge": false, "cascade": !deps.is_empty()}),
        )
        .await?;
    if !deps.is_empty() {
        let done = cascaded("package.uninstall", r.cascaded)?;
        cascade_order_holds(&done, &deps, suites).map_err(fail)?;
    }
    expect_states(
        ctx,
        std::iter::once(&suite.app).chain(&deps),
        AppState::NotInstalled,
        "after package.uninstall",
    )
    .await?;
    volumes_exist(ctx, suite).await?;
    let mut stack = vec![suite.app.clone()];
    stack.extend(deps);
    bring_up(ctx, &stack, suites, true).await?;
    healthy_and_answering(ctx, suite).await.map(drop)
}
