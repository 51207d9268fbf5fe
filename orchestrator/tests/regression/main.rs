//! The regression switches (`--features failpoints`): each brings back exactly its old defect.
//! Fail points are global to the process, so these tests live in their own binary and run one
//! at a time (`FailScenario` holds a process-wide lock and clears every fail point on drop).

#[path = "../it/rig.rs"]
mod rig;

use orchestrator::failpoints::Regression;
use orchestrator::ops::{Op, Updated};

use rig::{Kind, Rig, id, stack_catalog};

/// Takes the process-wide fail point lock for one test; every fail point is cleared on drop.
fn alone() -> fail::FailScenario<'static> {
    fail::FailScenario::setup()
}

/// Switches `r` on, as `FAILPOINTS=<name>=return` does on a node.
fn switch_on(r: Regression) {
    fail::cfg(r.name(), "return").unwrap();
    assert!(r.active());
}

#[tokio::test]
async fn stopped_resurrects_keeps_install_and_the_reconciler_never_stops() {
    let _alone = alone();
    let rig = Rig::new(Kind::Quadlet, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    switch_on(Regression::StoppedResurrects);
    rig.take();
    rig.core.operate(Op::Stop, &id("web"), false).await.unwrap();
    assert_eq!(
        rig.take(),
        [
            "systemctl --user stop web.service",
            "systemctl --user reset-failed web.service"
        ]
    );
    let (unit, _) = rig.unit("web").unwrap();
    assert!(
        unit.ends_with("[Install]\nWantedBy=default.target\n"),
        "the next boot starts it again: {unit}"
    );
    // The boot did start it; the reconciler leaves it running although it should be stopped.
    rig.node.lock().unwrap().active.insert("web.service".into());
    rig.core.tick().await.unwrap();
    let mut calls = rig.take();
    calls.retain(|c| !c.contains(" exec "));
    assert_eq!(
        calls,
        [
            "systemctl --user is-system-running --wait",
            "systemctl --user daemon-reload"
        ],
        "the first tick only reloads, once the manager is up"
    );
    assert!(rig.running("web"));
    fail::remove(Regression::StoppedResurrects.name());
    rig.core.tick().await.unwrap();
    assert!(!rig.running("web"), "switched off, the tick stops it again");
    assert!(
        rig.unit("web")
            .unwrap()
            .0
            .ends_with("TimeoutStartSec=900\n")
    );
}

#[tokio::test]
async fn uninstall_ignores_dependents_lets_a_required_app_go() {
    let _alone = alone();
    let rig = Rig::new(Kind::Quadlet, stack_catalog());
    for a in ["chain", "wallet"] {
        rig.core.install(&id(a)).await.unwrap();
    }
    switch_on(Regression::UninstallIgnoresDependents);
    rig.take();
    let r = rig
        .core
        .operate(Op::Stop, &id("chain"), false)
        .await
        .unwrap();
    assert_eq!(r.cascaded, Some(vec![]));
    assert!(rig.running("wallet") && !rig.running("chain"));
    let r = rig
        .core
        .uninstall(&id("chain"), false, false)
        .await
        .unwrap();
    assert!(r.cascaded.is_empty());
    assert_eq!(
        rig.take(),
        [
            "systemctl --user daemon-reload",
            "systemctl --user stop chain.service",
            "systemctl --user reset-failed chain.service",
            "systemctl --user stop chain.service",
            "podman rm -f -i chain",
            "systemctl --user daemon-reload",
            "systemctl --user reset-failed chain.service"
        ]
    );
    assert!(rig.unit("chain").is_none() && rig.unit("wallet").is_some());
}

#[tokio::test]
async fn update_not_applied_starts_instead_of_restarting_and_reports_success() {
    let _alone = alone();
    let rig = Rig::new(Kind::Quadlet, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    switch_on(Regression::UpdateNotApplied);
    rig.take();
    rig.override_manifest(
        "web",
        "id = \"web\"\nimage = \"localhost/lab-app:v2\"\nvolumes = [\"web-data:/data\"]\n",
    );
    let r = rig.core.update(&id("web")).await.unwrap();
    assert_eq!(
        r,
        Updated {
            id: id("web"),
            changed: true,
            restarted: true,
            image: "localhost/lab-app:v2".into()
        }
    );
    assert_eq!(
        rig.take(),
        [
            "systemctl --user daemon-reload",
            "systemctl --user start web.service"
        ],
        "start does nothing to an active unit: the old container keeps running"
    );
}

#[tokio::test]
async fn a_step_fail_point_stops_an_install_between_its_steps() {
    let _alone = alone();
    let rig = Rig::new(Kind::Quadlet, stack_catalog());
    fail::cfg("install.after-unit-write", "panic(cut here)").unwrap();
    let e = rig.core.install(&id("web")).await.unwrap_err();
    assert!(e.to_string().contains("backend task failed"), "{e}");
    assert!(
        rig.take().is_empty(),
        "cut after the write, before daemon-reload"
    );
    assert!(rig.unit("web").is_some());
    fail::remove("install.after-unit-write");
    // The reconciler adopts the half-done install from its unit and starts it.
    rig.core.tick().await.unwrap();
    assert!(rig.running("web"));
}
