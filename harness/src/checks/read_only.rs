//! The read-only states (L1, L2): present, valid, rpc, ui. Safe to run at the same time.

use super::{
    CheckResult, NodeCtx,
    agree::agreed,
    probes::{all_rpc, record_data, ui_probe},
};
use crate::{api::Health, model::Outcome, suite::Suite};

/// The orchestrator knows a container id and podman has that container.
pub async fn present(ctx: &NodeCtx, suite: &Suite) -> CheckResult<()> {
    let st = ctx.status(&suite.app).await?;
    let cid = st.container_id.unwrap_or_default();
    if cid.is_empty() {
        return Err(Outcome::Fail(format!(
            "package.status of {} has no container_id (state {})",
            suite.app, st.state
        )));
    }
    // The id comes from the node (a file the app user can write): only hex reaches a shell.
    if !(12..=64).contains(&cid.len()) || !cid.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(Outcome::Fail(format!(
            "package.status of {} reports container_id {cid:?}, which is not a container id",
            suite.app
        )));
    }
    if !ctx.container_exists(&cid).await? {
        return Err(Outcome::Fail(format!("podman has no container {cid}")));
    }
    Ok(())
}

/// Running and healthy per the orchestrator (within the start budget) and running per podman.
/// One agreed read (whose `package.status` checks health afresh) settles an app that is already
/// healthy; any other is waited for until healthy, then read again.
pub async fn valid(ctx: &NodeCtx, suite: &Suite) -> CheckResult<()> {
    let mut seen = agreed(ctx, &suite.app).await?;
    if !(seen.running() && seen.health == Health::Healthy) {
        ctx.wait_healthy(&suite.app, suite.start_budget).await?;
        seen = agreed(ctx, &suite.app).await?;
    }
    if !seen.running() {
        return Err(Outcome::Fail(format!(
            "{} is {} per the orchestrator and podman, not running",
            suite.app, seen.state
        )));
    }
    // Remember the data now so later states in this iteration compare against it.
    record_data(ctx, suite).await.map_err(Outcome::Fail)?;
    Ok(())
}

/// Every rpc probe passes.
pub async fn rpc(ctx: &NodeCtx, suite: &Suite) -> CheckResult<()> {
    if suite.rpc.is_empty() {
        return Err(Outcome::Skipped("the suite declares no rpc probe".into()));
    }
    all_rpc(ctx, suite).await?.map_err(Outcome::Fail)
}

/// Every UI probe answers 200 with a non-empty body.
pub async fn ui(ctx: &NodeCtx, suite: &Suite) -> CheckResult<()> {
    if suite.ui.is_empty() {
        return Err(Outcome::Skipped("the suite declares no ui probe".into()));
    }
    let mut bad = Vec::new();
    for p in &suite.ui {
        if let Err(e) = ui_probe(ctx, &suite.app, p).await? {
            bad.push(e);
        }
    }
    if bad.is_empty() {
        Ok(())
    } else {
        Err(Outcome::Fail(bad.join("; ")))
    }
}
