//! `update`: a new manifest (the catalog's with another image) is put in the orchestrator's
//! override folder and applied with `package.update`, then taken back. The container restarts
//! exactly once per change and never when nothing changed; the new version answers; data kept.

use serde_json::json;

use super::{
    CheckResult, NodeCtx,
    agree::{Seen, expect_state},
    ctx::quote,
    lifecycle::healthy_and_answering,
    probes::{record_data, rpc_probe},
};
use crate::{
    api::{AppState, Updated},
    model::{AppId, Outcome},
    suite::{Probe, Suite},
};

fn fail(msg: String) -> Outcome {
    Outcome::Fail(msg)
}

/// The override manifest's path on the node, when the fleet has an override folder.
fn override_path(ctx: &NodeCtx, app: &AppId) -> CheckResult<String> {
    let dir = ctx.fleet.catalog_override_dir.as_deref().ok_or_else(|| {
        Outcome::Error(format!(
            "fleet {} has no catalog_override_dir: update cannot put a new manifest",
            ctx.fleet.name
        ))
    })?;
    Ok(format!("{}/{app}.toml", dir.trim_end_matches('/')))
}

/// Writes the new manifest: the catalog's with `image` (renamed into place, so the orchestrator
/// never reads half of it).
async fn put_manifest(ctx: &NodeCtx, app: &AppId, image: &str) -> CheckResult<()> {
    let dir = ctx.fleet.catalog_dir.as_deref().ok_or_else(|| {
        Outcome::Error(format!(
            "fleet {} has no catalog_dir: update has no manifest to start from",
            ctx.fleet.name
        ))
    })?;
    let from = format!("{}/{app}.toml", dir.trim_end_matches('/'));
    let to = override_path(ctx, app)?;
    let tmp = format!("{to}.tmp");
    let line = format!("image = \"{image}\"");
    let cmd = format!(
        "set -e; mkdir -p \"$(dirname {to})\"; sed -E {sed} {from} > {tmp}; grep -qx {line} {tmp}; mv -f {tmp} {to}",
        to = quote(&to),
        tmp = quote(&tmp),
        from = quote(&from),
        sed = quote(&format!("s|^image[[:space:]]*=.*$|{line}|")),
        line = quote(&line),
    );
    let out = ctx.sh(&cmd).await?;
    if out.status != 0 {
        return Err(Outcome::Error(format!(
            "failed to write the new manifest {to}: {}",
            out.stderr.trim()
        )));
    }
    Ok(())
}

/// Removes the app's override manifest; true when there was one.
pub async fn remove_manifest(ctx: &NodeCtx, app: &AppId) -> CheckResult<bool> {
    let to = override_path(ctx, app)?;
    let out = ctx
        .sh(&format!("test -e {0} && rm -f {0}", quote(&to)))
        .await?;
    Ok(out.status == 0)
}

/// One `package.update` from `before` (the app as last seen, running): checks `changed`, and
/// that podman started the container exactly `changed as usize` times; returns the reply and
/// the app as seen right after.
async fn apply(
    ctx: &NodeCtx,
    app: &AppId,
    before: Seen,
    want_change: bool,
    what: &str,
) -> CheckResult<(Updated, Seen)> {
    let since = ctx.node_now().await?;
    let r: Updated = ctx
        .rpc_as("package.update", json!({"id": app.as_str()}))
        .await?;
    let (changed, restarted) = (r.changed, r.restarted);
    if changed != want_change || restarted != want_change {
        return Err(fail(format!(
            "{what}: package.update answered changed={changed} restarted={restarted}, expected {want_change}"
        )));
    }
    let after = expect_state(ctx, app, AppState::Running, &format!("right after {what}")).await?;
    let same = after.container == before.container;
    if same == want_change {
        return Err(fail(format!(
            "{what}: the container {} (changed={want_change})",
            if same {
                "was not restarted"
            } else {
                "was restarted"
            }
        )));
    }
    let starts = ctx
        .starts_since(app, &since, usize::from(want_change))
        .await?;
    if starts != usize::from(want_change) {
        let what = format!(
            "{what}: podman started {app} {starts} times, expected {}",
            usize::from(want_change)
        );
        return Err(ctx.wrong_starts(app, &since, what).await);
    }
    Ok((r, after))
}

async fn probes_pass(ctx: &NodeCtx, app: &AppId, probes: &[Probe], what: &str) -> CheckResult<()> {
    for p in probes {
        if let Err(e) = rpc_probe(ctx, app, p).await? {
            return Err(fail(format!("{what}: {e}")));
        }
    }
    Ok(())
}

/// v1 -> v2 -> v1 with a no-op update before and after.
pub async fn update(ctx: &NodeCtx, suite: &Suite) -> CheckResult<()> {
    let Some(spec) = &suite.update else {
        return Err(Outcome::Error("the suite declares no [update]".into()));
    };
    let app = &suite.app;
    record_data(ctx, suite)
        .await
        .map_err(|e| fail(format!("data not readable before the update: {e}")))?;
    let seen = expect_state(ctx, app, AppState::Running, "before the updates").await?;
    let (_, seen) = apply(ctx, app, seen, false, "an update with no new manifest").await?;
    put_manifest(ctx, app, &spec.image).await?;
    let (r, seen) = apply(ctx, app, seen, true, "the update to the new manifest").await?;
    if r.image != spec.image {
        return Err(fail(format!(
            "package.update reports image {:?}, not {:?}",
            r.image, spec.image
        )));
    }
    healthy_and_answering(ctx, suite).await?;
    probes_pass(ctx, app, &spec.after, "on the new version").await?;
    let (_, seen) = apply(ctx, app, seen, false, "the same update again").await?;
    remove_manifest(ctx, app).await?;
    let (r, _) = apply(
        ctx,
        app,
        seen,
        true,
        "the update back to the catalog's manifest",
    )
    .await?;
    if r.image == spec.image {
        return Err(fail(format!(
            "package.update back still reports image {}",
            spec.image
        )));
    }
    healthy_and_answering(ctx, suite).await?;
    probes_pass(ctx, app, &spec.before, "back on the old version").await
}
