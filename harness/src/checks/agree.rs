//! Agreement: what the orchestrator reports about an app (`package.status` and its
//! `container-list` entry) against what podman says, both ways. Every state transition is
//! judged through here, so the orchestrator can never claim a state the runtime does not have.

use std::task::Poll;

use super::{CheckResult, NodeCtx, ctx::Inspected};
use crate::{
    api::{AppState, Health},
    model::{AppId, Outcome},
};

/// One app as seen by the orchestrator and podman, which agreed.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    /// The orchestrator's state.
    pub state: AppState,
    /// The orchestrator's health.
    pub health: Health,
    /// The orchestrator's reason for a degraded health.
    pub reason: Option<String>,
    /// Podman's container, when there is one.
    pub container: Option<Inspected>,
}

impl Seen {
    /// Running per both.
    pub fn running(&self) -> bool {
        self.state == AppState::Running && self.container.as_ref().is_some_and(|c| c.running)
    }
}

/// Why the orchestrator's `state` (with the container id it reports) and podman's container
/// contradict each other, if they do.
pub fn contradiction(
    state: AppState,
    reported_id: Option<&str>,
    c: Option<&Inspected>,
) -> Option<String> {
    let reported_id = reported_id.unwrap_or("");
    match (state, c) {
        (AppState::Running, None) => {
            Some("the orchestrator says running; podman has no container".into())
        }
        (AppState::Running, Some(c)) if !c.running => Some(format!(
            "the orchestrator says running; podman's container {} is not running",
            short(&c.id)
        )),
        (AppState::Running, Some(c)) if reported_id != c.id => Some(format!(
            "the orchestrator reports container {:?}; podman runs {}",
            short(reported_id),
            short(&c.id)
        )),
        (AppState::Stopped | AppState::Failed, Some(c)) if c.running => Some(format!(
            "the orchestrator says {state}; podman's container {} runs",
            short(&c.id)
        )),
        (AppState::NotInstalled, Some(c)) => Some(format!(
            "the orchestrator says not-installed; podman still has container {}",
            short(&c.id)
        )),
        _ => None,
    }
}

fn short(id: &str) -> &str {
    &id[..id.len().min(12)]
}

/// Reads `package.status`, `container-list` and podman, all three at once (each is a round
/// trip; read in turn, they cost a gate iteration several seconds more); fails naming the
/// contradiction.
pub async fn agreed(ctx: &NodeCtx, app: &AppId) -> CheckResult<Seen> {
    let (st, list, container) = tokio::join!(ctx.status(app), ctx.list(), ctx.container(app));
    let (st, list, container) = (st?, list?, container?);
    let state = st.state;
    let listed = list.get(app).map(|e| e.state);
    let disagree = |why: String| Err(Outcome::Fail(format!("{app}: {why}")));
    match (listed, state) {
        (None, AppState::NotInstalled) => {}
        (None, s) => {
            return disagree(format!(
                "package.status says {s} but container-list does not list it"
            ));
        }
        (Some(l), AppState::NotInstalled) => {
            return disagree(format!(
                "package.status says not-installed but container-list lists it ({l})"
            ));
        }
        // The two are read at once: a start in between is not a contradiction.
        (Some(l), s) if l != s && l != AppState::Starting && s != AppState::Starting => {
            return disagree(format!("package.status says {s}, container-list says {l}"));
        }
        _ => {}
    }
    if let Some(why) = contradiction(state, st.container_id.as_deref(), container.as_ref()) {
        return disagree(why);
    }
    Ok(Seen {
        state,
        health: st.health,
        reason: st.reason,
        container,
    })
}

/// Fails unless the app agrees and is in `want` (`running` also needs podman's container up).
pub async fn expect_state(
    ctx: &NodeCtx,
    app: &AppId,
    want: AppState,
    when: &str,
) -> CheckResult<Seen> {
    let seen = agreed(ctx, app).await?;
    let ok = if want == AppState::Running {
        seen.running()
    } else {
        seen.state == want && !seen.container.as_ref().is_some_and(|c| c.running)
    };
    if ok {
        Ok(seen)
    } else {
        Err(Outcome::Fail(format!(
            "{app} is {} {when}, not {want}{}",
            seen.state,
            seen.container
                .as_ref()
                .map(|c| format!(
                    " (podman: container {} running={})",
                    short(&c.id),
                    c.running
                ))
                .unwrap_or_default()
        )))
    }
}

/// [`expect_state`] for several apps at once (their reads are independent round trips, so a
/// five-app stack is judged in about the time of one): each app's [`Seen`] in the given order,
/// or, when any failed, the failure of the first failed app in that order (not the first to
/// finish), so the message does not depend on timing.
pub async fn expect_states<'a>(
    ctx: &NodeCtx,
    apps: impl IntoIterator<Item = &'a AppId>,
    want: AppState,
    when: &str,
) -> CheckResult<Vec<Seen>> {
    let judged: Vec<_> = apps
        .into_iter()
        .map(|a| expect_state(ctx, a, want, when))
        .collect();
    all(judged).await.into_iter().collect()
}

/// Runs the futures at once on the awaiting task and yields their outputs in the given order (a
/// `join_all`; the futures borrow the case's context, so they cannot be spawned).
pub fn all<F: Future>(
    futures: impl IntoIterator<Item = F>,
) -> impl Future<Output = Vec<F::Output>> {
    let mut running: Vec<_> = futures.into_iter().map(|f| Some(Box::pin(f))).collect();
    let mut done: Vec<Option<F::Output>> = running.iter().map(|_| None).collect();
    std::future::poll_fn(move |cx| {
        let mut pending = false;
        for (slot, out) in running.iter_mut().zip(done.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            Poll::Pending
        } else {
            Poll::Ready(done.drain(..).flatten().collect())
        }
    })
}

/// Whether each of `apps` is stopped, per the orchestrator's `container-list` and podman, read
/// once for all of them: `None` when it is, or why it is not. For judging many apps at a time.
pub async fn stopped_all(
    ctx: &NodeCtx,
    apps: &[AppId],
    when: &str,
) -> CheckResult<Vec<Option<String>>> {
    let (list, ps) = tokio::join!(ctx.list(), ctx.labelled_containers());
    let (list, ps) = (list?, ps?);
    Ok(apps
        .iter()
        .map(|app| {
            let running = ps
                .iter()
                .any(|(name, state)| name == app.as_str() && state == "running");
            match (list.get(app).map(|a| a.state), running) {
                (Some(AppState::Stopped), false) => None,
                (Some(s), running) => Some(format!(
                    "{app} is {s} {when}, not stopped (podman: {})",
                    if running { "running" } else { "not running" }
                )),
                (None, _) => Some(format!("{app} is not listed {when}")),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(id: &str, running: bool) -> Inspected {
        Inspected {
            id: id.into(),
            running,
            started_at: "t".into(),
        }
    }

    #[tokio::test]
    async fn all_runs_the_futures_at_once_and_keeps_their_order() {
        // Each waits for the next one's turn: run one after another, the first would never end.
        let (tx, rx) = tokio::sync::watch::channel(2usize);
        let tx = std::sync::Arc::new(tx);
        let wait = |me: usize| {
            let (tx, mut rx) = (tx.clone(), rx.clone());
            async move {
                rx.wait_for(|t| *t == me).await.unwrap();
                tx.send(me.wrapping_sub(1)).unwrap();
                me * 10
            }
        };
        let got = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            all([wait(0), wait(1), wait(2)]),
        )
        .await
        .expect("the futures ran one after another");
        assert_eq!(got, [0, 10, 20]);
        assert!(all(Vec::<std::future::Ready<u8>>::new()).await.is_empty());
    }

    #[test]
    fn contradictions_both_ways() {
        use AppState::*;
        let up = c("abc", true);
        let down = c("abc", false);
        assert_eq!(contradiction(Running, Some("abc"), Some(&up)), None);
        assert_eq!(contradiction(Stopped, None, None), None);
        assert_eq!(contradiction(Stopped, None, Some(&down)), None);
        assert_eq!(contradiction(NotInstalled, None, None), None);
        assert_eq!(
            contradiction(Running, Some("abc"), None).unwrap(),
            "the orchestrator says running; podman has no container"
        );
        assert_eq!(
            contradiction(Running, Some("abc"), Some(&down)).unwrap(),
            "the orchestrator says running; podman's container abc is not running"
        );
        assert_eq!(
            contradiction(Running, Some("old"), Some(&up)).unwrap(),
            "the orchestrator reports container \"old\"; podman runs abc"
        );
        assert_eq!(
            contradiction(Stopped, None, Some(&up)).unwrap(),
            "the orchestrator says stopped; podman's container abc runs"
        );
        assert_eq!(
            contradiction(NotInstalled, None, Some(&down)).unwrap(),
            "the orchestrator says not-installed; podman still has container abc"
        );
    }
}
