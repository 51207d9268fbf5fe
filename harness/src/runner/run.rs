//! `run`: L0 once locally, then one task per node; every result becomes an event.

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::Arc,
    time::{Duration, Instant},
};

use tokio::sync::mpsc::UnboundedSender;

use super::{Cancel, l0::run_l0, node::run_node};
use crate::{
    chaos::Scenario,
    fleet::{Fleet, Node, Redactor},
    model::{AppId, Layer},
    perf::Kpi,
    plan::Plan,
    reporter::{EventKind, TestEvent, Timestamp},
    suite::Suite,
};

/// Everything one run needs.
pub struct RunSpec {
    /// `20261129T093000Z-1a2b`.
    pub run_id: String,
    /// `run` or `gate`.
    pub command: String,
    /// The run whose not-passed cases this run reruns (`--rerun-failed`).
    pub rerun_of: Option<String>,
    /// The fleet.
    pub fleet: Fleet,
    /// The selected nodes.
    pub nodes: Vec<Node>,
    /// The orchestrator password (already resolved).
    pub password: String,
    /// The plan.
    pub plan: Plan,
    /// Suites by app.
    pub suites: BTreeMap<AppId, Suite>,
    /// L5 chaos scenarios by name.
    pub chaos: BTreeMap<String, Scenario>,
    /// L6 KPI cells by name.
    pub kpis: BTreeMap<String, Kpi>,
    /// Iterations.
    pub iterations: u32,
    /// Required layers.
    pub required: Vec<Layer>,
    /// Per-case timeout.
    pub case_timeout: Duration,
    /// Where a red L4 step leaves its evidence: `reports/<run-id>/artifacts`.
    pub artifacts: PathBuf,
    /// Where `cargo test --workspace` runs for L0.
    pub workspace_root: PathBuf,
    /// SSH sessions per node.
    pub ssh_sessions: usize,
    /// Masks secrets.
    pub redactor: Redactor,
    /// Set to stop starting cases (Ctrl-C); the run then ends `cancelled`.
    pub cancel: Cancel,
}

/// Stamps and sends events.
#[derive(Clone)]
pub struct Emitter {
    tx: UnboundedSender<TestEvent>,
    start: Instant,
}

impl Emitter {
    /// An emitter whose `elapsed` counts from now.
    pub fn new(tx: UnboundedSender<TestEvent>) -> Self {
        Self {
            tx,
            start: Instant::now(),
        }
    }

    /// Sends one event (a closed receiver is ignored: the run still finishes).
    pub fn emit(&self, kind: EventKind) {
        let _ = self.tx.send(TestEvent {
            timestamp: Timestamp::now(),
            elapsed: self.start.elapsed(),
            kind,
        });
    }
}

/// Runs the whole plan; returns when `RunFinished` has been sent.
pub async fn run(spec: RunSpec, tx: UnboundedSender<TestEvent>) {
    let em = Emitter::new(tx);
    em.emit(EventKind::RunStarted {
        run_id: spec.run_id.clone(),
        command: spec.command.clone(),
        rerun_of: spec.rerun_of.clone(),
        fleet: spec.fleet.name.clone(),
        iterations: spec.iterations,
        nodes: spec.nodes.iter().map(|n| n.name.clone()).collect(),
        required_layers: spec.required.clone(),
        apps: spec.plan.apps.clone(),
        not_applicable: spec.plan.not_applicable.clone(),
        l0: spec.plan.l0,
        cases: spec.plan.cases().iter().map(|c| c.name.clone()).collect(),
    });
    let mut told = false;
    if spec.plan.l0 && !spec.cancel.is_cancelled() {
        let l0 = run_l0(&spec.workspace_root, &em);
        watching(l0, &spec.cancel, &em, &mut told).await;
    }
    let spec = Arc::new(spec);
    let mut tasks = tokio::task::JoinSet::new();
    for node in spec.nodes.clone() {
        tasks.spawn(run_node(spec.clone(), node, em.clone()));
    }
    // A node task that panicked leaves its cases unfinished: the reporter counts them against
    // the plan and records each as an error.
    let nodes = async { while tasks.join_next().await.is_some() {} };
    watching(nodes, &spec.cancel, &em, &mut told).await;
    if spec.cancel.is_cancelled() && !told {
        // Cancelled while nothing was watching (between L0 and the nodes, or as they ended).
        em.emit(EventKind::RunCancelled {
            reason: spec.cancel.cancelled().await,
        });
    }
    em.emit(EventKind::RunFinished {
        duration: em.start.elapsed(),
    });
}

/// Awaits `work`; when the run is cancelled meanwhile, sends `RunCancelled` at once (once per run,
/// `told` remembers) and keeps awaiting: running cases finish, the runner starts no new ones.
async fn watching(
    work: impl std::future::Future<Output = ()>,
    cancel: &Cancel,
    em: &Emitter,
    told: &mut bool,
) {
    tokio::pin!(work);
    loop {
        tokio::select! {
            () = &mut work => return,
            reason = cancel.cancelled(), if !*told => {
                *told = true;
                em.emit(EventKind::RunCancelled { reason });
            }
        }
    }
}
