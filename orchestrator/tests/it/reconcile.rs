//! The reconcile tick: rebuilding lost state, restarting what should run, reporting corrupt units.

use std::sync::Arc;

use orchestrator::backend::RunState;
use orchestrator::state::{Desired, State};
use orchestrator::status::AppState;

use crate::api::{catalog, core, data_dir};
use crate::fake::FakeBackend;

#[tokio::test]
async fn rebuilds_a_deleted_or_corrupt_state_file_from_the_units() {
    for damage in [None, Some("{\"apps\": [garbage")] {
        let dir = data_dir();
        if let Some(text) = damage {
            std::fs::write(dir.join("state.json"), text).unwrap();
        }
        let fake = Arc::new(FakeBackend::default());
        fake.seed("web", RunState::Running, None);
        fake.seed("db", RunState::Stopped, None);
        fake.seed("wallet", RunState::Failed, None);
        let core = core(fake.clone(), catalog(1), dir.clone());
        core.tick().await.unwrap();
        let (state, why) = State::load(&dir.join("state.json"));
        assert_eq!(why, None, "the state file was rewritten");
        let desired: Vec<_> = state
            .apps
            .iter()
            .map(|(id, r)| (id.as_str(), r.desired, r.installed_at.as_deref()))
            .collect();
        let at = Some("2026-11-29T09:00:00Z");
        assert_eq!(
            desired,
            [
                ("db", Desired::Stopped, at),
                ("wallet", Desired::Running, at),
                ("web", Desired::Running, at)
            ]
        );
        assert_eq!(
            fake.run_state("wallet"),
            Some(RunState::Running),
            "a failed app meant to run is started"
        );
        assert_eq!(
            fake.run_state("db"),
            Some(RunState::Stopped),
            "a stopped app stays stopped"
        );
    }
}

#[tokio::test]
async fn a_stopped_app_stays_stopped_and_a_crashed_one_is_restarted() {
    let fake = Arc::new(FakeBackend::default());
    let core = core(fake.clone(), catalog(1), data_dir());
    let id = |s| orchestrator::manifest::AppId::parse(s).unwrap();
    core.install(&id("db")).await.unwrap();
    core.install(&id("web")).await.unwrap();
    core.operate(orchestrator::ops::Op::Stop, &id("db"), false)
        .await
        .unwrap();
    fake.seed("web", RunState::Failed, None);
    core.tick().await.unwrap();
    assert_eq!(fake.run_state("web"), Some(RunState::Running));
    assert_eq!(fake.run_state("db"), Some(RunState::Stopped));
    assert_eq!(core.metrics()["reconcile"]["ticks"], 1);
    assert_eq!(core.metrics()["reconcile"]["started"], 1);
}

#[tokio::test]
async fn a_corrupt_unit_is_listed_as_invalid_and_left_alone() {
    let fake = Arc::new(FakeBackend::default());
    fake.seed("web", RunState::Running, None);
    fake.seed(
        "db",
        RunState::Stopped,
        Some("line 1: not a [Section] or Key=value line"),
    );
    let core = core(fake.clone(), catalog(1), data_dir());
    core.tick().await.unwrap();
    assert!(
        fake.calls.lock().unwrap().is_empty(),
        "nothing was started or touched"
    );
    let list = core.list().await.unwrap();
    let summary: Vec<_> = list
        .iter()
        .map(|a| (a.id.as_str(), a.state, a.error.as_deref()))
        .collect();
    assert_eq!(
        summary,
        [
            (
                "db",
                AppState::Invalid,
                Some("line 1: not a [Section] or Key=value line")
            ),
            ("web", AppState::Running, None)
        ]
    );
}
