//! `uninstalled-clean`: between an uninstall and the next install nothing of the app is left on
//! the node (no container, unit file, loaded unit or open port) and the orchestrator agrees;
//! its volumes are kept.

use std::{collections::BTreeMap, time::Duration};

use serde_json::json;

use super::{
    CheckResult, NodeCtx,
    agree::{all, expect_state},
    ctx::quote,
    lifecycle::volumes_exist,
    stack::{bring_up, cascade_order_holds, cascaded, dependents, installed},
};
use crate::{
    api::{AppState, Uninstalled},
    model::{AppId, Outcome},
    suite::{Probe, Suite, UiTarget},
    transport::TransportError,
};

/// The ports an app's suite reaches it on (they must be closed once it is uninstalled); a UI
/// port served by a companion is the companion's.
pub fn ports(suite: &Suite) -> Vec<u16> {
    let mut out: Vec<u16> = suite
        .rpc
        .iter()
        .filter_map(|p| match p {
            Probe::AppJsonRpc { port, .. } | Probe::Tcp { port, .. } => Some(*port),
            _ => None,
        })
        .chain(suite.ui.iter().filter_map(|u| match u.target {
            UiTarget::Direct { port, .. } if u.served_by.is_none() => Some(port),
            _ => None,
        }))
        .chain(suite.data.iter().map(|d| d.port))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Fails naming whatever of `app` is left on the node.
pub async fn nothing_left(ctx: &NodeCtx, app: &AppId, suite: Option<&Suite>) -> CheckResult<()> {
    let mut left = Vec::new();
    expect_state(ctx, app, AppState::NotInstalled, "after package.uninstall").await?;
    let ps = ctx
        .podman(&format!(
            "ps -a -q --filter {}",
            quote(&format!("label=orchestrator.app={app}"))
        ))
        .await?;
    if !ps.stdout.trim().is_empty() {
        left.push(format!(
            "containers {}",
            ps.stdout.split_whitespace().collect::<Vec<_>>().join(" ")
        ));
    }
    let unit_file = format!(
        "{}/{app}.container",
        ctx.fleet.unit_dir.trim_end_matches('/')
    );
    if ctx
        .sh(&format!("test -e {}", quote(&unit_file)))
        .await?
        .status
        == 0
    {
        left.push(format!("unit file {unit_file}"));
    }
    let load = ctx
        .user_systemctl(&format!(
            "show -p LoadState --value {}",
            quote(&format!("{app}.service"))
        ))
        .await?;
    let load = load.stdout.trim();
    if load != "not-found" {
        left.push(format!(
            "unit {app}.service still loaded (LoadState={load})"
        ));
    }
    if let Some(s) = suite {
        for port in ports(s) {
            match ctx.tcp_connect(port, Duration::from_secs(3)).await {
                Ok(_) => left.push(format!("port {port} still open")),
                Err(e @ (TransportError::LabDown { .. } | TransportError::OffLab { .. })) => {
                    return Err(e.into());
                }
                Err(_) => {}
            }
        }
    }
    if left.is_empty() {
        Ok(())
    } else {
        Err(Outcome::Fail(format!(
            "{app} uninstalled but left: {}",
            left.join("; ")
        )))
    }
}

/// Uninstalls the app (with its dependents, by cascade), checks nothing of any of them is left
/// and the app's volumes are kept, then installs them all again.
pub async fn uninstalled_clean(
    ctx: &NodeCtx,
    suite: &Suite,
    suites: &BTreeMap<AppId, Suite>,
) -> CheckResult<()> {
    let deps = dependents(&suite.app, suites, &installed(ctx).await?);
    let r: Uninstalled = ctx
        .rpc_as(
            "package.uninstall",
            json!({"id": suite.app.as_str(), "purge": false, "cascade": !deps.is_empty()}),
        )
        .await?;
    if !deps.is_empty() {
        let done = cascaded("package.uninstall", r.cascaded)?;
        cascade_order_holds(&done, &deps, suites).map_err(Outcome::Fail)?;
    }
    all(std::iter::once(&suite.app)
        .chain(&deps)
        .map(|a| nothing_left(ctx, a, suites.get(a))))
    .await
    .into_iter()
    .collect::<CheckResult<Vec<()>>>()?;
    volumes_exist(ctx, suite).await?;
    let mut stack = vec![suite.app.clone()];
    stack.extend(deps);
    bring_up(ctx, &stack, suites, true).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_suite as suite;
    use crate::suite::{DataProbe, DataRule, UiProbe};

    #[test]
    fn ports_come_from_every_probe_that_names_one() {
        let mut s = suite("lab-chain", &[], &[]);
        s.rpc = vec![
            Probe::AppJsonRpc {
                port: 18443,
                path: "/".into(),
                method: "getinfo".into(),
                expect: None,
            },
            Probe::Ssh {
                command: "true".into(),
                expect: None,
            },
        ];
        s.ui = vec![
            UiProbe {
                target: UiTarget::Direct {
                    port: 18091,
                    path: "/".into(),
                },
                contains: None,
                served_by: None,
            },
            UiProbe {
                target: UiTarget::Direct {
                    port: 18092,
                    path: "/".into(),
                },
                contains: None,
                served_by: Some(AppId::new("lab-chain-ui").unwrap()),
            },
        ];
        s.data = vec![DataProbe {
            name: "height".into(),
            port: 18443,
            path: "/".into(),
            method: "getinfo".into(),
            pointer: "/result/height".into(),
            rule: DataRule::NonDecreasing,
        }];
        assert_eq!(ports(&s), [18091, 18443]);
    }
}
