//! Recovery from a crash at every step fail point (`failpoints::STEPS`): the unit folder, the state
//! file and the simulated node are put exactly as a `kill -9` at that step leaves them, then a NEW
//! orchestrator on the same folder runs one tick, and the commands it runs and the state it ends
//! in are checked exactly. A second tick must find nothing left to do.

use orchestrator::failpoints::STEPS;
use orchestrator::ops::Op;
use orchestrator::state::{Desired, State};

use crate::rig::{Rig, id, stack_catalog};

/// The text of web's unit: `image` tag, `[Install]` iff `running`.
fn web_unit(image: &str, running: bool) -> String {
    let install = if running {
        "\n[Install]\nWantedBy=default.target\n"
    } else {
        ""
    };
    format!(
        "[Unit]\nDescription=orchestrator app web\n\n[Container]\nContainerName=web\nImage=localhost/lab-app:{image}\nLabel=orchestrator.app=web\nVolume=web-data:/data\n\n[Service]\nRestart=on-failure\nTimeoutStartSec=900\n{install}"
    )
}

const WEB: &str = "web.service";

/// Changes the state file as the crash left it.
fn edit_state(rig: &Rig, f: impl FnOnce(&mut State)) {
    let path = rig.dir.join("state.json");
    let (mut state, _) = State::load(&path);
    f(&mut state);
    state.save(&path).unwrap();
}

/// A new orchestrator on the crashed one's folder and node; one tick; its commands.
async fn restart_and_tick(rig: &Rig) -> (Rig, Vec<String>) {
    let after = rig.restarted(stack_catalog());
    after.take();
    after.core.tick().await.unwrap();
    let calls = after.take();
    (after, calls)
}

/// A second tick changes nothing (health checks aside).
async fn converged(after: &Rig) {
    after.core.tick().await.unwrap();
    let calls = after.take();
    assert!(calls.iter().all(|c| c.contains(" exec ")), "{calls:?}");
}

fn record(rig: &Rig, app: &str) -> Option<(Desired, bool)> {
    State::load(&rig.dir.join("state.json"))
        .0
        .apps
        .get(&id(app))
        .map(|r| (r.desired, r.restart_pending))
}

fn loaded(rig: &Rig, unit: &str) -> Option<String> {
    rig.node.lock().unwrap().loaded.get(unit).cloned()
}

/// install.after-unit-write: the unit is written, never loaded, not started, not recorded.
#[tokio::test]
async fn install_cut_after_the_unit_write_is_reloaded_started_and_recorded() {
    let rig = Rig::new(crate::rig::Kind::Quadlet, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    {
        let mut n = rig.node.lock().unwrap();
        n.active.remove(WEB);
        n.loaded.remove(WEB);
        n.started_from.remove(WEB);
    }
    edit_state(&rig, |s| s.apps.clear());
    let (after, calls) = restart_and_tick(&rig).await;
    assert_eq!(
        calls,
        [
            "systemctl --user is-system-running --wait",
            "systemctl --user daemon-reload",
            "systemctl --user start web.service"
        ]
    );
    assert!(after.running("web"));
    assert_eq!(record(&after, "web"), Some((Desired::Running, false)));
    assert_eq!(loaded(&after, WEB), Some(web_unit("v1", true)));
    converged(&after).await;
}

/// install.after-start: the app runs from a loaded unit, but the state file has no record.
#[tokio::test]
async fn install_cut_before_its_record_is_adopted() {
    let rig = Rig::new(crate::rig::Kind::Quadlet, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    edit_state(&rig, |s| s.apps.clear());
    let (after, calls) = restart_and_tick(&rig).await;
    assert_eq!(
        calls,
        [
            "systemctl --user is-system-running --wait",
            "systemctl --user daemon-reload",
            "podman exec web check"
        ]
    );
    assert!(after.running("web"));
    assert_eq!(record(&after, "web"), Some((Desired::Running, false)));
    converged(&after).await;
}

/// update.after-unit-write: the new unit is written (journaled as restart pending), never loaded;
/// the old container runs on.
#[tokio::test]
async fn update_cut_after_the_unit_write_is_restarted_onto_the_new_unit() {
    let rig = Rig::new(crate::rig::Kind::Quadlet, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    rig.override_manifest(
        "web",
        "id = \"web\"\nimage = \"localhost/lab-app:v2\"\nvolumes = [\"web-data:/data\"]\n",
    );
    rig.core.update(&id("web")).await.unwrap();
    assert_eq!(rig.unit("web").unwrap().0, web_unit("v2", true));
    {
        let mut n = rig.node.lock().unwrap();
        n.loaded.insert(WEB.into(), web_unit("v1", true));
        n.started_from.insert(WEB.into(), web_unit("v1", true));
    }
    edit_state(&rig, |s| {
        s.apps.get_mut(&id("web")).unwrap().restart_pending = true;
    });
    let (after, calls) = restart_and_tick(&rig).await;
    assert_eq!(
        calls,
        [
            "systemctl --user is-system-running --wait",
            "systemctl --user daemon-reload",
            "systemctl --user restart web.service",
            "podman exec web check"
        ]
    );
    assert_eq!(
        after.node.lock().unwrap().started_from.get(WEB),
        Some(&web_unit("v2", true)),
        "the app runs the new unit"
    );
    assert_eq!(record(&after, "web"), Some((Desired::Running, false)));
    converged(&after).await;
}

/// desired.after-unit-write, in a stop: the record says stopped, the unit lost `[Install]` but
/// was never loaded, and the app still runs.
#[tokio::test]
async fn stop_cut_after_the_unit_write_is_reloaded_and_stopped() {
    let rig = Rig::new(crate::rig::Kind::Quadlet, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    rig.core.operate(Op::Stop, &id("web"), false).await.unwrap();
    {
        let mut n = rig.node.lock().unwrap();
        n.active.insert(WEB.into());
        n.loaded.insert(WEB.into(), web_unit("v1", true));
    }
    assert_eq!(record(&rig, "web"), Some((Desired::Stopped, false)));
    let (after, calls) = restart_and_tick(&rig).await;
    assert_eq!(
        calls,
        [
            "systemctl --user is-system-running --wait",
            "systemctl --user daemon-reload",
            "systemctl --user stop web.service",
            "systemctl --user reset-failed web.service"
        ]
    );
    assert!(!after.running("web"));
    assert_eq!(loaded(&after, WEB), Some(web_unit("v1", false)));
    converged(&after).await;
}

/// desired.after-unit-write, in a start: the record says running, the unit got `[Install]` back
/// but was never loaded, and the app is stopped.
#[tokio::test]
async fn start_cut_after_the_unit_write_is_reloaded_and_started() {
    let rig = Rig::new(crate::rig::Kind::Quadlet, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    rig.core.operate(Op::Stop, &id("web"), false).await.unwrap();
    rig.core
        .operate(Op::Start, &id("web"), false)
        .await
        .unwrap();
    {
        let mut n = rig.node.lock().unwrap();
        n.active.remove(WEB);
        n.loaded.insert(WEB.into(), web_unit("v1", false));
    }
    let (after, calls) = restart_and_tick(&rig).await;
    assert_eq!(
        calls,
        [
            "systemctl --user is-system-running --wait",
            "systemctl --user daemon-reload",
            "systemctl --user start web.service"
        ]
    );
    assert!(after.running("web"));
    assert_eq!(loaded(&after, WEB), Some(web_unit("v1", true)));
    assert_eq!(record(&after, "web"), Some((Desired::Running, false)));
    converged(&after).await;
}

/// uninstall.after-unit-remove: stopped, container and unit file gone, systemd not reloaded,
/// and the record still there.
#[tokio::test]
async fn uninstall_cut_after_the_unit_remove_is_reloaded_and_forgotten() {
    let rig = Rig::new(crate::rig::Kind::Quadlet, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    let record_before = State::load(&rig.dir.join("state.json")).0;
    rig.core.uninstall(&id("web"), false, false).await.unwrap();
    rig.node
        .lock()
        .unwrap()
        .loaded
        .insert(WEB.into(), web_unit("v1", true));
    record_before.save(&rig.dir.join("state.json")).unwrap();
    let (after, calls) = restart_and_tick(&rig).await;
    assert_eq!(
        calls,
        [
            "systemctl --user is-system-running --wait",
            "systemctl --user daemon-reload"
        ]
    );
    assert_eq!(record(&after, "web"), None);
    assert_eq!(loaded(&after, WEB), None);
    assert!(after.units().is_empty() && !after.running("web"));
    converged(&after).await;
}

#[test]
fn every_step_fail_point_has_its_crash_test() {
    // The tests above, by the step each cuts at.
    let covered = [
        "install.after-unit-write",
        "install.after-start",
        "update.after-unit-write",
        "desired.after-unit-write",
        "uninstall.after-unit-remove",
    ];
    let mut steps = STEPS.to_vec();
    steps.sort();
    let mut covered = covered.to_vec();
    covered.sort();
    assert_eq!(steps, covered);
}

/// A tick reads the runtime (here a slow `podman ps`) while an uninstall finishes: the runtime's
/// answer still shows the app, the record is already gone. The tick must not adopt it back (found
/// by the lab's legacy gate: the reinstall then took the update path, with the app meant to be
/// stopped, and never started it).
#[tokio::test]
async fn a_tick_reading_the_runtime_during_an_uninstall_does_not_bring_the_app_back() {
    let rig = Rig::new(crate::rig::Kind::Legacy, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    rig.core.tick().await.unwrap();
    rig.node.lock().unwrap().ps_delay = Some(std::time::Duration::from_millis(400));
    let core = rig.core.clone();
    let tick = tokio::spawn(async move { core.tick().await });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    rig.node.lock().unwrap().ps_delay = None;
    rig.core.uninstall(&id("web"), false, false).await.unwrap();
    tick.await.unwrap().unwrap();
    let state: State = serde_json::from_str(&rig.state_file()).unwrap();
    assert!(
        !state.apps.contains_key(&id("web")),
        "the tick adopted the uninstalled app back: {state:?}"
    );
    rig.take();
    match rig.core.install(&id("web")).await.unwrap() {
        orchestrator::ops::Installed::Fresh(st) => assert_eq!(st.state.as_str(), "running"),
        other => panic!("a fresh install went the update path: {other:?}"),
    }
}

/// The other way round: an install finishes while a tick reads the runtime (which does not show
/// it yet). The tick must not forget the new record.
#[tokio::test]
async fn a_tick_reading_the_runtime_during_an_install_does_not_forget_the_app() {
    let rig = Rig::new(crate::rig::Kind::Legacy, stack_catalog());
    rig.core.tick().await.unwrap();
    rig.node.lock().unwrap().ps_delay = Some(std::time::Duration::from_millis(400));
    let core = rig.core.clone();
    let tick = tokio::spawn(async move { core.tick().await });
    tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    rig.node.lock().unwrap().ps_delay = None;
    rig.core.install(&id("web")).await.unwrap();
    tick.await.unwrap().unwrap();
    let state: State = serde_json::from_str(&rig.state_file()).unwrap();
    assert!(
        state.apps.contains_key(&id("web")),
        "the tick forgot the app installed while it read the runtime: {state:?}"
    );
}
