//! One node's run: every iteration's stages in plan order, cases timed out and judged.

use std::{
    collections::{BTreeMap, HashMap},
    fmt::Display,
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::task::{Id, JoinError, JoinSet};

use super::{Emitter, RunSpec};
use crate::{
    checks::{self, NodeCtx, capture},
    fleet::Node,
    model::{AppId, CaseName, Check, Iteration, Outcome},
    plan::{Case, Stage},
    reporter::{CaseId, EventKind, Timestamp},
    transport::{HttpClient, RouteGuard, SshConfig, SshPool},
};

/// When a case reports itself slow.
const SLOW_AFTER: Duration = Duration::from_secs(60);

/// Why a case cannot run: its app's setup failed or a dependency did not pass.
pub fn blocked(
    case: &Case,
    done: &HashMap<CaseName, Outcome>,
    setup_failed: &BTreeMap<AppId, String>,
) -> Option<Outcome> {
    if let Some(why) = setup_failed.get(&case.app) {
        return Some(Outcome::Error(why.clone()));
    }
    case.depends_on.iter().find_map(|d| match done.get(d) {
        None | Some(Outcome::Pass) => None,
        Some(Outcome::Fail(_)) => Some(Outcome::Skipped(format!("depends on {d}, which failed"))),
        Some(Outcome::Error(m)) => Some(Outcome::Error(format!(
            "depends on {d}, which errored: {m}"
        ))),
        Some(Outcome::Skipped(_)) => Some(Outcome::Skipped(format!(
            "depends on {d}, which was skipped"
        ))),
    })
}

/// Judges one case: its outcome and, for a passed chaos scenario, the headline its output
/// starts with (the time to converge, see `checks::converge_line`; a KPI's measurement).
async fn check(
    ctx: &NodeCtx,
    spec: &RunSpec,
    case: &Case,
    iteration: Iteration,
) -> (Outcome, Option<String>) {
    if case.check == Check::Journey {
        let Some(suite) = spec.suites.get(&case.app) else {
            return (Outcome::Error(format!("no suite for {}", case.app)), None);
        };
        let evidence = spec
            .artifacts
            .join(case.name.to_string())
            .join(format!("{}-{}", ctx.node.name, iteration.0));
        let r = checks::journey(ctx, suite, &spec.password, &evidence).await;
        return (r.err().unwrap_or(Outcome::Pass), None);
    }
    if case.check == Check::Chaos {
        let Some(s) = spec.chaos.get(&case.name.check) else {
            return (
                Outcome::Error(format!("no chaos scenario {}", case.name.check)),
                None,
            );
        };
        return match checks::chaos(ctx, s, &spec.suites).await {
            Ok(took) => (Outcome::Pass, Some(checks::converge_line(took))),
            Err(o) => (o, None),
        };
    }
    if case.check == Check::Perf {
        let Some(k) = spec.kpis.get(&case.name.check) else {
            return (
                Outcome::Error(format!("no KPI cell {}", case.name.check)),
                None,
            );
        };
        return match checks::perf(ctx, k, &spec.suites).await {
            Ok(m) if m.pass => (Outcome::Pass, Some(m.message())),
            Ok(m) => (Outcome::Fail(m.message()), None),
            Err(o) => (o, None),
        };
    }
    (judge(ctx, spec, case).await, None)
}

async fn judge(ctx: &NodeCtx, spec: &RunSpec, case: &Case) -> Outcome {
    if case.check == Check::ApiContract {
        return checks::api_contract(ctx)
            .await
            .err()
            .unwrap_or(Outcome::Pass);
    }
    let Some(suite) = spec.suites.get(&case.app) else {
        return Outcome::Error(format!("no suite for {}", case.app));
    };
    let all = &spec.suites;
    let r = match case.check {
        Check::Present => checks::present(ctx, suite).await,
        Check::Valid => checks::valid(ctx, suite).await,
        Check::Rpc => checks::rpc(ctx, suite).await,
        Check::Ui => checks::ui(ctx, suite).await,
        Check::Stop => checks::stop(ctx, suite, all).await,
        Check::Start => checks::start(ctx, suite, all).await,
        Check::Restart => checks::restart(ctx, suite).await,
        Check::Reinstall => checks::reinstall(ctx, suite, all).await,
        Check::UninstalledClean => checks::uninstalled_clean(ctx, suite, all).await,
        Check::Update => checks::update(ctx, suite).await,
        Check::RequiredStack => checks::required_stack(ctx, suite, all).await,
        Check::ApiContract | Check::Chaos | Check::Perf | Check::Journey => {
            unreachable!("judged above")
        }
        // Node-level actions are judged together in their stage.
        Check::DaemonRestart | Check::Reboot | Check::StoppedSurvives => Err(Outcome::Error(
            "node-level check run as a single case".into(),
        )),
    };
    r.err().unwrap_or(Outcome::Pass)
}

/// After a state-changing case that did not pass: put the node back (see `checks::restore`),
/// recording it in the case's output; a node that cannot be put back is noted in the outcome.
async fn restore_after(ctx: &NodeCtx, spec: &RunSpec, outcome: Outcome) -> Outcome {
    let order: Vec<AppId> = spec
        .plan
        .stages
        .iter()
        .find_map(|s| match s {
            Stage::Setup(order) => Some(order.clone()),
            _ => None,
        })
        .unwrap_or_default();
    match checks::restore(ctx, &order, &spec.suites).await {
        Ok(()) => outcome,
        Err(why) => match outcome {
            Outcome::Fail(m) => Outcome::Fail(format!("{m}; restore failed: {why}")),
            Outcome::Error(m) => Outcome::Error(format!("{m}; restore failed: {why}")),
            other => other,
        },
    }
}

/// The node-level actions, each judged per app.
#[derive(Clone, Copy)]
enum NodeAction {
    DaemonRestart,
    Reboot,
    StoppedSurvives,
}

struct NodeRun {
    spec: Arc<RunSpec>,
    ctx: Arc<NodeCtx>,
    em: Emitter,
    iteration: Iteration,
}

impl NodeRun {
    fn id(&self, case: &Case) -> CaseId {
        CaseId {
            name: case.name.clone(),
            node: self.ctx.node.name.clone(),
            iteration: self.iteration,
        }
    }

    fn finish(
        &self,
        case: &Case,
        outcome: Outcome,
        started: (Timestamp, Instant),
        output: String,
    ) -> Outcome {
        self.em.emit(EventKind::CaseFinished {
            case: self.id(case),
            outcome: outcome.clone(),
            started_at: started.0,
            duration: started.1.elapsed(),
            output,
        });
        outcome
    }

    fn begin(&self, case: &Case) -> (Timestamp, Instant) {
        self.em.emit(EventKind::CaseStarted {
            case: self.id(case),
        });
        (Timestamp::now(), Instant::now())
    }

    async fn run_case(
        self: Arc<Self>,
        case: Case,
        blocked: Option<Outcome>,
    ) -> (CaseName, Outcome) {
        let started = self.begin(&case);
        if let Some(o) = blocked {
            return (
                case.name.clone(),
                self.finish(&case, o, started, String::new()),
            );
        }
        let em = self.em.clone();
        let id = self.id(&case);
        let slow = tokio::spawn(async move {
            tokio::time::sleep(SLOW_AFTER).await;
            em.emit(EventKind::CaseSlow {
                case: id,
                after: SLOW_AFTER,
            });
        });
        let limit = self.spec.case_timeout;
        let ((outcome, headline), log) = capture(async {
            let (outcome, headline) =
                tokio::time::timeout(limit, check(&self.ctx, &self.spec, &case, self.iteration))
                    .await
                    .unwrap_or_else(|_| {
                        let why = format!("timed out after {}s", limit.as_secs());
                        (Outcome::Fail(why), None)
                    });
            if case.check.changes_node() && matches!(outcome, Outcome::Fail(_) | Outcome::Error(_))
            {
                (restore_after(&self.ctx, &self.spec, outcome).await, None)
            } else {
                (outcome, headline)
            }
        })
        .await;
        slow.abort();
        let log = match headline {
            Some(h) => format!("{h}\n{log}"),
            None => log,
        };
        (case.name.clone(), self.finish(&case, outcome, started, log))
    }

    async fn node_action(
        self: &Arc<Self>,
        cases: &[Case],
        done: &mut HashMap<CaseName, Outcome>,
        setup_failed: &BTreeMap<AppId, String>,
        action: NodeAction,
    ) {
        let mut runnable = Vec::new();
        for c in cases {
            match blocked(c, done, setup_failed) {
                Some(o) => {
                    let s = self.begin(c);
                    done.insert(c.name.clone(), self.finish(c, o, s, String::new()));
                }
                None => runnable.push(c),
            }
        }
        if runnable.is_empty() {
            return;
        }
        let starts: Vec<_> = runnable.iter().map(|c| self.begin(c)).collect();
        let suites: Vec<_> = runnable
            .iter()
            .filter_map(|c| self.spec.suites.get(&c.app))
            .collect();
        let extra = match action {
            NodeAction::DaemonRestart => 60,
            NodeAction::Reboot => 180,
            NodeAction::StoppedSurvives => 300,
        };
        let limit = self.spec.case_timeout + Duration::from_secs(extra);
        let fut = async {
            match action {
                NodeAction::Reboot => checks::reboot(&self.ctx, &suites).await,
                NodeAction::DaemonRestart => checks::daemon_restart(&self.ctx, &suites).await,
                NodeAction::StoppedSurvives => {
                    checks::stopped_survives(&self.ctx, &suites, &self.spec.suites).await
                }
            }
        };
        let (outcomes, log) = capture(async {
            let outcomes = tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| {
                vec![Outcome::Fail(format!("timed out after {}s", limit.as_secs())); runnable.len()]
            });
            match outcomes.iter().find(|o| !matches!(o, Outcome::Pass)) {
                Some(o) => {
                    let restored = restore_after(&self.ctx, &self.spec, o.clone()).await;
                    if &restored == o {
                        outcomes
                    } else {
                        outcomes
                            .into_iter()
                            .map(|x| {
                                if x == Outcome::Pass {
                                    x
                                } else {
                                    restored.clone()
                                }
                            })
                            .collect()
                    }
                }
                None => outcomes,
            }
        })
        .await;
        for ((c, s), o) in runnable.iter().zip(starts).zip(outcomes) {
            done.insert(c.name.clone(), self.finish(c, o, s, log.clone()));
        }
    }
}

/// Runs every iteration of the plan on one node.
pub async fn run_node(spec: Arc<RunSpec>, node: Node, em: Emitter) {
    let fleet = spec.fleet.clone();
    let guard = RouteGuard::new(fleet.lab_interface.clone());
    let ssh = SshPool::new(
        SshConfig {
            node: node.name.0.clone(),
            addr: SocketAddr::new(node.address, node.ssh_port),
            user: fleet.ssh_user.clone(),
            key: fleet.ssh_key.clone(),
            known_hosts: fleet.known_hosts.clone(),
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(120),
            guard: guard.clone(),
        },
        spec.ssh_sessions,
    );
    let http = HttpClient::new(
        &node.name.0,
        node.address,
        fleet.orchestrator_port,
        spec.password.clone(),
        Duration::from_secs(30),
        guard,
        spec.redactor.clone(),
    );
    let ctx = Arc::new(NodeCtx::new(fleet, node, ssh, http));
    'iterations: for i in 1..=spec.iterations {
        if spec.cancel.is_cancelled() {
            break;
        }
        let run = Arc::new(NodeRun {
            spec: spec.clone(),
            ctx: ctx.clone(),
            em: em.clone(),
            iteration: Iteration(i),
        });
        ctx.data.lock().await.clear();
        // The session is kept across iterations (one expired by a restart or reboot is renewed
        // by the first call that is refused, and waits for a restarted orchestrator log in
        // afresh): logging in is judged by the API contract case, not paid by every iteration.
        let reach = tokio::try_join!(ctx.ssh.exec("true"), ctx.http.session_token()).map(drop);
        if let Err(e) = reach {
            let msg = e.to_string();
            em.emit(EventKind::NodeError {
                node: ctx.node.name.clone(),
                iteration: Iteration(i),
                message: msg.clone(),
            });
            for c in spec.plan.cases() {
                let s = run.begin(c);
                run.finish(
                    c,
                    Outcome::Error(format!("node {} unreachable: {msg}", ctx.node.name)),
                    s,
                    String::new(),
                );
            }
            continue;
        }
        let mut done: HashMap<CaseName, Outcome> = HashMap::new();
        let mut setup_failed = BTreeMap::new();
        for stage in &spec.plan.stages {
            if spec.cancel.is_cancelled() {
                break 'iterations;
            }
            match stage {
                Stage::Setup(order) => {
                    let (failed, _log) = capture(checks::setup(&ctx, order, &spec.suites)).await;
                    setup_failed = failed;
                }
                Stage::Concurrent(cases) => {
                    let mut set = JoinSet::new();
                    let mut by_task = HashMap::new();
                    for c in cases {
                        let task = set.spawn(
                            run.clone()
                                .run_case(c.clone(), blocked(c, &done, &setup_failed)),
                        );
                        by_task.insert(task.id(), c);
                    }
                    for joined in join_cases(set, &by_task).await {
                        let (name, o) = joined.unwrap_or_else(|(c, e)| {
                            let now = (Timestamp::now(), Instant::now());
                            let lost = task_lost(&c.name, e);
                            (c.name.clone(), run.finish(c, lost, now, String::new()))
                        });
                        done.insert(name, o);
                    }
                }
                Stage::Alone(c) => {
                    let (name, o) = run
                        .clone()
                        .run_case(c.clone(), blocked(c, &done, &setup_failed))
                        .await;
                    done.insert(name, o);
                }
                Stage::DaemonRestart(cases) => {
                    run.node_action(cases, &mut done, &setup_failed, NodeAction::DaemonRestart)
                        .await
                }
                Stage::Reboot(cases) => {
                    run.node_action(cases, &mut done, &setup_failed, NodeAction::Reboot)
                        .await
                }
                Stage::StoppedSurvives(cases) => {
                    run.node_action(cases, &mut done, &setup_failed, NodeAction::StoppedSurvives)
                        .await
                }
            }
        }
    }
    ctx.close_browser().await;
}

/// Waits for every case task. One that panicked or was aborted sent no `CaseFinished`: it comes
/// back as `Err` with its case, for the caller to finish (see `task_lost`).
async fn join_cases<T: 'static, K: Copy>(
    mut set: JoinSet<T>,
    by_task: &HashMap<Id, K>,
) -> Vec<Result<T, (K, JoinError)>> {
    let mut out = Vec::new();
    while let Some(r) = set.join_next_with_id().await {
        match r {
            Ok((_, t)) => out.push(Ok(t)),
            Err(e) => {
                // Every task was registered at spawn; an unknown one is left to the reporter,
                // which records any planned case without a result as an error.
                if let Some(case) = by_task.get(&e.id()) {
                    out.push(Err((*case, e)));
                }
            }
        }
    }
    out
}

/// The outcome of a case whose task ended without a result.
fn task_lost(case: &impl Display, e: JoinError) -> Outcome {
    if !e.is_panic() {
        return Outcome::Error(format!("case task for {case} was cancelled"));
    }
    let payload = e.into_panic();
    let why = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".into());
    Outcome::Error(format!("case task for {case} panicked: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(deps: &[&str]) -> Case {
        let app = AppId::new("lab-wallet").unwrap();
        Case {
            name: CaseName::of(&app, Check::Restart),
            app,
            check: Check::Restart,
            depends_on: deps
                .iter()
                .map(|d| CaseName {
                    layer: crate::model::Layer::L1,
                    app: d.to_string(),
                    check: "present".into(),
                })
                .collect(),
        }
    }

    #[test]
    fn a_failed_dependency_skips_naming_it() {
        let c = case(&["lab-wallet", "lab-chain"]);
        let mut done = HashMap::new();
        assert_eq!(blocked(&c, &done, &BTreeMap::new()), None);
        done.insert(c.depends_on[0].clone(), Outcome::Pass);
        done.insert(
            c.depends_on[1].clone(),
            Outcome::Fail("no container".into()),
        );
        assert_eq!(
            blocked(&c, &done, &BTreeMap::new()),
            Some(Outcome::Skipped(
                "depends on L1::lab-chain::present, which failed".into()
            ))
        );
        done.insert(c.depends_on[1].clone(), Outcome::Error("ssh down".into()));
        assert_eq!(
            blocked(&c, &done, &BTreeMap::new()),
            Some(Outcome::Error(
                "depends on L1::lab-chain::present, which errored: ssh down".into()
            ))
        );
    }

    #[test]
    fn a_failed_setup_makes_the_case_an_error() {
        let c = case(&[]);
        let failed = BTreeMap::from([(
            c.app.clone(),
            "setup of lab-wallet failed: -32003".to_owned(),
        )]);
        assert_eq!(
            blocked(&c, &HashMap::new(), &failed),
            Some(Outcome::Error("setup of lab-wallet failed: -32003".into()))
        );
    }

    #[tokio::test]
    async fn a_panicked_case_task_becomes_an_error_naming_the_case() {
        let mut set = JoinSet::new();
        let mut by_task = HashMap::new();
        for (name, panics) in [("L1::a::rpc", false), ("L1::b::rpc", true)] {
            let task = set.spawn(async move {
                assert!(!panics, "probe exploded");
                (name, Outcome::Pass)
            });
            by_task.insert(task.id(), name);
        }
        let mut joined: Vec<_> = join_cases(set, &by_task)
            .await
            .into_iter()
            .map(|j| j.map_err(|(name, e)| (name, task_lost(&name, e))))
            .collect();
        joined.sort_by_key(|j| j.is_err());
        assert_eq!(
            joined,
            vec![
                Ok(("L1::a::rpc", Outcome::Pass)),
                Err((
                    "L1::b::rpc",
                    Outcome::Error("case task for L1::b::rpc panicked: probe exploded".into())
                )),
            ]
        );
    }
}
