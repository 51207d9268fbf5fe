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
