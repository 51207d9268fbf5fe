//! `required-stack`: `requires` honoured both ways. A required app cannot be stopped or
//! uninstalled under its dependents (refused, naming them, nothing changed) unless `cascade`,
//! which acts on dependents first; a dependent cannot be installed without its requirement; a
//! dependent reports `degraded`, naming the requirement, while that requirement is unhealthy.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use serde_json::{Value, json};

use super::{
    CheckResult, NodeCtx,
    agree::{expect_state, expect_states},
    ctx::quote,
    probes::{check_data, record_data},
    stack::{bring_up, cascade_order_holds, cascaded, dependents, installed, join},
};
use crate::{
    api::{AppState, ErrorCode, Health, Operated, Uninstalled},
    model::{AppId, Outcome},
    suite::{FaultControl, Suite},
    transport::RpcReply,
};

fn fail(msg: String) -> Outcome {
    Outcome::Fail(msg)
}

/// Sends a fault command (`unhealthy`, `healthy`) to an app's lab-only fault control.
pub async fn fault(ctx: &NodeCtx, f: FaultControl, command: &str) -> CheckResult<()> {
    let cmd = match f {
        FaultControl::Http(port) => format!(
            "curl -fsS -m 5 -X POST --data {} http://127.0.0.1:{port}/lab/fault",
            quote(command)
        ),
        FaultControl::Tcp(port) => format!(
            "exec 3<>/dev/tcp/127.0.0.1/{port} && printf 'fault %s\\n' {} >&3 && timeout 5 head -n1 <&3",
            quote(command)
        ),
    };
    let out = ctx.sh(&format!("bash -c {}", quote(&cmd))).await?;
    if out.status != 0 {
        return Err(Outcome::Error(format!(
            "fault control refused {command:?}: exit {} {}",
            out.status,
            out.stderr.trim()
        )));
    }
    Ok(())
}

/// A call that must be refused with `code`, its message naming every app of `named`.
async fn refused(
    ctx: &NodeCtx,
    method: &str,
    params: Value,
    code: ErrorCode,
    named: &[AppId],
) -> CheckResult<()> {
    match ctx.http.call(method, params.clone()).await? {
        RpcReply::Err { code: c, message } if c == code => {
            ctx.note(&format!("rpc {method} {params} -> refused {c} {message}"));
            match named.iter().find(|a| !message.contains(a.as_str())) {
                Some(a) => Err(fail(format!(
                    "{method} was refused but the message does not name {a}: {message}"
                ))),
                None => Ok(()),
            }
        }
        RpcReply::Err { code: c, message } => Err(fail(format!(
            "{method} {params} answered {c} {message}, expected {code}"
        ))),
        RpcReply::Ok(v) => Err(fail(format!(
            "{method} {params} was allowed ({v}); expected refusal {code} naming {}",
            join(named)
        ))),
    }
}

/// The containers of `apps` (ids and start times), to prove a refusal changed nothing.
async fn snapshot(ctx: &NodeCtx, apps: &[AppId], when: &str) -> CheckResult<Vec<String>> {
    let seen = expect_states(ctx, apps, AppState::Running, when).await?;
    Ok(apps
        .iter()
        .zip(seen)
        .map(|(a, s)| {
            s.container
                .map(|c| format!("{a} {} {}", c.id, c.started_at))
                .unwrap_or_default()
        })
        .collect())
}

/// The required side: refusals, cascade stop and start, cascade uninstall, install refused
/// without the requirement, the stack installed again with its data.
async fn required_side(
    ctx: &NodeCtx,
    suite: &Suite,
    suites: &BTreeMap<AppId, Suite>,
    deps: &[AppId],
) -> CheckResult<()> {
    let app = &suite.app;
    let mut stack = vec![app.clone()];
    stack.extend(deps.iter().cloned());
    record_data(ctx, suite)
        .await
        .map_err(|e| fail(format!("data not readable before the checks: {e}")))?;
    let before = snapshot(ctx, &stack, "before the refusals").await?;
    let id = json!(app.as_str());
    refused(
        ctx,
        "package.stop",
        json!({"id": id}),
        ErrorCode::RequiredBy,
        deps,
    )
    .await?;
    refused(
        ctx,
        "package.uninstall",
        json!({"id": id}),
        ErrorCode::RequiredBy,
        deps,
    )
    .await?;
    if snapshot(ctx, &stack, "after the refusals").await? != before {
        return Err(fail(
            "a refused stop or uninstall changed a container of the stack".into(),
        ));
    }
    let r: Operated = ctx
        .rpc_as("package.stop", json!({"id": id, "cascade": true}))
        .await?;
    let done = cascaded("package.stop", r.cascaded)?;
    cascade_order_holds(&done, deps, suites).map_err(fail)?;
    expect_states(
        ctx,
        &stack,
        AppState::Stopped,
        "after a cascading package.stop",
    )
    .await?;
    bring_up(ctx, &stack, suites, false).await?;
    let r: Uninstalled = ctx
        .rpc_as("package.uninstall", json!({"id": id, "cascade": true}))
        .await?;
    let done = cascaded("package.uninstall", r.cascaded)?;
    cascade_order_holds(&done, deps, suites).map_err(fail)?;
    expect_states(
        ctx,
        &stack,
        AppState::NotInstalled,
        "after a cascading package.uninstall",
    )
    .await?;
    let direct = deps
        .iter()
        .find(|d| suites.get(*d).is_some_and(|s| s.requires.contains(app)))
        .unwrap_or(&deps[0]);
    refused(
        ctx,
        "package.install",
        json!({"id": direct.as_str()}),
        ErrorCode::RequirementMissing,
        std::slice::from_ref(app),
    )
    .await?;
    expect_state(
        ctx,
        direct,
        AppState::NotInstalled,
        "after its install was refused",
    )
    .await?;
    bring_up(ctx, &stack, suites, true).await?;
    check_data(ctx, suite).await.map_err(fail)
}

/// Polls `package.status` of `app` until `pred` holds for (health, reason), or fails.
async fn wait_health(
    ctx: &NodeCtx,
    app: &AppId,
    what: &str,
    pred: impl Fn(Health, &str) -> bool,
) -> CheckResult<()> {
    let start = Instant::now();
    loop {
        let st = ctx.status(app).await?;
        let (health, reason) = (st.health, st.reason.as_deref().unwrap_or(""));
        if pred(health, reason) {
            return Ok(());
        }
        if start.elapsed() > Duration::from_secs(30) {
            return Err(fail(format!(
                "{app} not {what} within 30s: health {:?}, reason {reason:?}",
                health.as_str()
            )));
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// The dependent side: while each requirement with a fault control is unhealthy, the app runs
/// and reports `degraded` naming it; healthy again once the requirement is.
async fn dependent_side(
    ctx: &NodeCtx,
    suite: &Suite,
    suites: &BTreeMap<AppId, Suite>,
) -> CheckResult<()> {
    for req in &suite.requires {
        let Some(f) = suites.get(req).and_then(|s| s.fault) else {
            continue;
        };
        fault(ctx, f, "unhealthy").await?;
        let judged = async {
            wait_health(ctx, req, "unhealthy", |h, _| h == Health::Unhealthy).await?;
            wait_health(
                ctx,
                &suite.app,
                "degraded naming its requirement",
                |h, r| h == Health::Degraded && r.contains(req.as_str()),
            )
            .await?;
            expect_state(ctx, &suite.app, AppState::Running, "while degraded").await?;
            Ok::<(), Outcome>(())
        }
        .await;
        fault(ctx, f, "healthy").await?;
        judged?;
        wait_health(ctx, req, "healthy again", |h, _| h == Health::Healthy).await?;
        wait_health(ctx, &suite.app, "healthy again", |h, r| {
            h == Health::Healthy && r.is_empty()
        })
        .await?;
    }
    Ok(())
}

/// Both sides that apply to the app.
pub async fn required_stack(
    ctx: &NodeCtx,
    suite: &Suite,
    suites: &BTreeMap<AppId, Suite>,
) -> CheckResult<()> {
    let deps = dependents(&suite.app, suites, &installed(ctx).await?);
    let can_degrade = suite
        .requires
        .iter()
        .any(|r| suites.get(r).is_some_and(|s| s.fault.is_some()));
    if deps.is_empty() && !can_degrade {
        return Err(Outcome::Error(format!(
            "{} has no installed dependent and no requirement with a fault control",
            suite.app
        )));
    }
    if !deps.is_empty() {
        required_side(ctx, suite, suites, &deps).await?;
    }
    dependent_side(ctx, suite, suites).await
}
