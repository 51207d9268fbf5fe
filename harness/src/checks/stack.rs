//! Required stacks as the harness sees them: an app's installed dependents (from the suites'
//! `requires` and the orchestrator's list), the order a cascade must keep, and bringing a stack
//! back (requirements first).

use std::collections::BTreeMap;

use serde_json::json;

use super::{CheckResult, NodeCtx};
use crate::{api::ReplyError, model::AppId, suite::Suite};

/// Every app installed on the node per `container-list`, in the list's order.
pub async fn installed(ctx: &NodeCtx) -> CheckResult<Vec<AppId>> {
    Ok(ctx.list().await?.apps.into_iter().map(|a| a.id).collect())
}

/// True when `app` requires `target`, directly or through other apps.
fn requires(app: &AppId, target: &AppId, suites: &BTreeMap<AppId, Suite>) -> bool {
    let mut todo = vec![app.clone()];
    let mut seen = Vec::new();
    while let Some(a) = todo.pop() {
        for r in suites.get(&a).map(|s| s.requires.as_slice()).unwrap_or(&[]) {
            if r == target {
                return true;
            }
            if !seen.contains(r) {
                seen.push(r.clone());
                todo.push(r.clone());
            }
        }
    }
    false
}

/// The installed apps that require `app`, directly or not, sorted by id.
pub fn dependents(app: &AppId, suites: &BTreeMap<AppId, Suite>, installed: &[AppId]) -> Vec<AppId> {
    let mut out: Vec<AppId> = installed
        .iter()
        .filter(|a| *a != app && requires(a, app, suites))
        .cloned()
        .collect();
    out.sort();
    out
}

/// `apps` with requirements first (the order to install or start them).
pub fn requirements_first(apps: &[AppId], suites: &BTreeMap<AppId, Suite>) -> Vec<AppId> {
    let mut out: Vec<AppId> = Vec::new();
    let mut left: Vec<AppId> = apps.to_vec();
    left.sort();
    while !left.is_empty() {
        let pos = left
            .iter()
            .position(|a| !left.iter().any(|b| b != a && requires(a, b, suites)))
            .unwrap_or(0);
        out.push(left.remove(pos));
    }
    out
}

/// Checks that a cascade acted on exactly `expected` and never on an app before one that
/// requires it (dependents first).
pub fn cascade_order_holds(
    done: &[AppId],
    expected: &[AppId],
    suites: &BTreeMap<AppId, Suite>,
) -> Result<(), String> {
    let mut got = done.to_vec();
    got.sort();
    if got != expected {
        return Err(format!(
            "cascade acted on [{}], expected the installed dependents [{}]",
            join(done),
            join(expected)
        ));
    }
    for (i, a) in done.iter().enumerate() {
        if let Some(later) = done[i + 1..].iter().find(|b| requires(b, a, suites)) {
            return Err(format!(
                "cascade order [{}] handles {a} before {later}, which requires it",
                join(done)
            ));
        }
    }
    Ok(())
}

/// The dependents a cascade acted on, which the reply of `method` must list (`cascaded`).
pub fn cascaded(method: &str, list: Option<Vec<AppId>>) -> CheckResult<Vec<AppId>> {
    list.ok_or_else(|| {
        ReplyError::Missing {
            method: method.to_owned(),
            field: "cascaded".into(),
            expected: "a list of app ids".into(),
        }
        .into()
    })
}

/// Comma-separated ids.
pub fn join(apps: &[AppId]) -> String {
    apps.iter()
        .map(AppId::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `apps` in waves to install or start them: each app in the wave after the last of its
/// requirements among `apps` (directly or not), so no app comes before one it requires and the
/// apps of one wave require none of each other. Each wave sorted by id.
pub fn waves(apps: &[AppId], suites: &BTreeMap<AppId, Suite>) -> Vec<Vec<AppId>> {
    let mut out: Vec<Vec<AppId>> = Vec::new();
    for a in requirements_first(apps, suites) {
        // Requirements come first, so each of `a`'s is already in a wave.
        let after = out
            .iter()
            .rposition(|w| w.iter().any(|r| requires(&a, r, suites)))
            .map_or(0, |i| i + 1);
        match out.get_mut(after) {
            Some(w) => w.push(a),
            None => out.push(vec![a]),
        }
    }
    for w in &mut out {
        w.sort();
    }
    out
}

/// Starts (or installs, when `install`) the apps wave by wave ([`waves`]): the apps of a wave
/// at once, each waited for until running and healthy within its suite's start budget before
/// the next wave begins. The first error, in id order, is the result.
pub async fn bring_up(
    ctx: &NodeCtx,
    apps: &[AppId],
    suites: &BTreeMap<AppId, Suite>,
    install: bool,
) -> CheckResult<()> {
    let method = if install {
        "package.install"
    } else {
        "package.start"
    };
    for wave in waves(apps, suites) {
        let up = super::agree::all(wave.iter().map(|a| async move {
            ctx.rpc(method, json!({"id": a.as_str()})).await?;
            let budget = suites
                .get(a)
                .map_or(std::time::Duration::from_secs(60), |s| s.start_budget);
            ctx.wait_healthy(a, budget).await.map(drop)
        }))
        .await;
        up.into_iter().collect::<CheckResult<()>>()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::test_suite as suite;

    fn id(s: &str) -> AppId {
        AppId::new(s).unwrap()
    }

    fn lab() -> BTreeMap<AppId, Suite> {
        [
            suite("chain", &[], &[]),
            suite("index", &["chain"], &[]),
            suite("explorer", &["index"], &[]),
            suite("wallet", &["chain"], &[]),
            suite("other", &[], &[]),
        ]
        .into_iter()
        .map(|s| (s.app.clone(), s))
        .collect()
    }

    #[test]
    fn dependents_are_transitive_and_only_installed_ones() {
        let s = lab();
        let all: Vec<AppId> = s.keys().cloned().collect();
        assert_eq!(
            dependents(&id("chain"), &s, &all),
            [id("explorer"), id("index"), id("wallet")]
        );
        assert_eq!(
            dependents(&id("chain"), &s, &[id("chain"), id("wallet")]),
            [id("wallet")]
        );
        assert!(dependents(&id("other"), &s, &all).is_empty());
    }

    #[test]
    fn waves_put_each_app_after_all_it_requires_and_siblings_together() {
        let s = lab();
        let all: Vec<AppId> = s.keys().cloned().collect();
        assert_eq!(
            waves(&all, &s),
            [
                vec![id("chain"), id("other")],
                vec![id("index"), id("wallet")],
                vec![id("explorer")]
            ]
        );
        // Only the requirements among the apps given count: explorer needs no wave of its own.
        assert_eq!(
            waves(&[id("explorer"), id("wallet")], &s),
            [vec![id("explorer"), id("wallet")]]
        );
        assert!(waves(&[], &s).is_empty());
    }

    #[test]
    fn requirements_come_first() {
        let s = lab();
        assert_eq!(
            requirements_first(
                &[id("explorer"), id("wallet"), id("index"), id("chain")],
                &s
            ),
            [id("chain"), id("index"), id("explorer"), id("wallet")]
        );
    }

    #[test]
    fn cascade_order_is_dependents_first_and_complete() {
        let s = lab();
        let expected = [id("explorer"), id("index"), id("wallet")];
        assert_eq!(
            cascade_order_holds(&[id("wallet"), id("explorer"), id("index")], &expected, &s),
            Ok(())
        );
        assert_eq!(
            cascade_order_holds(&[id("index"), id("explorer"), id("wallet")], &expected, &s),
            Err("cascade order [index, explorer, wallet] handles index before explorer, which requires it".into())
        );
        assert_eq!(
            cascade_order_holds(&[id("wallet")], &expected, &s),
            Err("cascade acted on [wallet], expected the installed dependents [explorer, index, wallet]".into())
        );
    }
}
