//! Every operation over both real backends, with the exact effects it causes: command lines,
//! unit text and mode, files, volumes, state. The node is simulated at the command executor.

use orchestrator::Error;
use orchestrator::ops::{Installed, Op, Updated};
use orchestrator::state::{Desired, HealthState, State};
use orchestrator::status::AppState;

use crate::rig::{Kind, Rig, id, stack_catalog};

const BOTH: [Kind; 2] = [Kind::Quadlet, Kind::Legacy];

const WEB_V2: &str = "id = \"web\"\nimage = \"localhost/lab-app:v2\"\nvolumes = [\"web-data:/data\"]\n[health]\ncommand = [\"check\"]\nstart_budget_secs = 1\n";

/// web's unit for `image`, with `[Install]` iff `running`.
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

/// The legacy create line for web with `image`.
fn web_create(image: &str) -> String {
    format!(
        "podman --cgroup-manager=cgroupfs create --replace --name web --label orchestrator.app=web --restart on-failure -v web-data:/data localhost/lab-app:{image}"
    )
}

const INSPECT_WEB: &str = "podman container inspect --format {{json .Config.CreateCommand}} web";

fn desired(rig: &Rig, app: &str) -> Option<Desired> {
    State::load(&rig.dir.join("state.json"))
        .0
        .apps
        .get(&id(app))
        .map(|r| r.desired)
}

async fn install(rig: &Rig, apps: &[&str]) {
    for a in apps {
        rig.core.install(&id(a)).await.unwrap();
    }
    rig.take();
}

#[tokio::test]
async fn install_writes_and_starts_and_refuses_missing_requirements_without_a_command() {
    for kind in BOTH {
        let rig = Rig::new(kind, stack_catalog());
        let e = rig.core.install(&id("wallet")).await.unwrap_err();
        assert_eq!(
            (e.rpc_code(), e.to_string()),
            (
                -32003,
                "failed to install `wallet`: requirement `chain` is not installed".into()
            )
        );
        assert!(rig.take().is_empty(), "{kind:?}: a refusal runs nothing");
        assert!(rig.units().is_empty() && rig.state_file().is_empty());
        let r = rig.core.install(&id("web")).await.unwrap();
        let Installed::Fresh(st) = r else {
            panic!("{r:?}")
        };
        assert_eq!(
            (st.state, st.health),
            (AppState::Running, HealthState::Unknown)
        );
        match kind {
            Kind::Quadlet => {
                assert_eq!(
                    rig.take(),
                    [
                        "systemctl --user daemon-reload",
                        "systemctl --user start web.service"
                    ]
                );
                assert_eq!(rig.unit("web"), Some((web_unit("v1", true), 0o600)));
            }
            Kind::Legacy => {
                assert_eq!(
                    rig.take(),
                    [
                        web_create("v1"),
                        "podman --cgroup-manager=cgroupfs start web".into()
                    ]
                );
                assert!(rig.units().is_empty());
            }
        }
        assert!(rig.running("web"));
        assert_eq!(desired(&rig, "web"), Some(Desired::Running));
    }
}

#[tokio::test]
async fn stop_and_start_record_the_desired_state_in_the_unit_and_the_state_file() {
    for kind in BOTH {
        let rig = Rig::new(kind, stack_catalog());
        install(&rig, &["web"]).await;
        let r = rig.core.operate(Op::Stop, &id("web"), false).await.unwrap();
        assert_eq!(r.cascaded.as_deref(), Some(&[][..]));
        assert_eq!(r.status.state, AppState::Stopped);
        let (stop, start, restart) = match kind {
            Kind::Quadlet => (
                vec![
                    "systemctl --user daemon-reload",
                    "systemctl --user stop web.service",
                    "systemctl --user reset-failed web.service",
                ],
                vec![
                    "systemctl --user daemon-reload",
                    "systemctl --user start web.service",
                ],
                vec!["systemctl --user restart web.service"],
            ),
            Kind::Legacy => (
                vec!["podman --cgroup-manager=cgroupfs stop web"],
                vec!["podman --cgroup-manager=cgroupfs start web"],
                vec!["podman --cgroup-manager=cgroupfs restart web"],
            ),
        };
        assert_eq!(rig.take(), stop, "{kind:?} stop");
        assert!(!rig.running("web"));
        assert_eq!(desired(&rig, "web"), Some(Desired::Stopped));
        if kind == Kind::Quadlet {
            assert_eq!(rig.unit("web"), Some((web_unit("v1", false), 0o600)));
        }
        let r = rig
            .core
            .operate(Op::Start, &id("web"), false)
            .await
            .unwrap();
        assert_eq!((r.status.state, r.cascaded), (AppState::Running, None));
        assert_eq!(rig.take(), start, "{kind:?} start");
        assert_eq!(desired(&rig, "web"), Some(Desired::Running));
        rig.core
            .operate(Op::Restart, &id("web"), false)
            .await
            .unwrap();
        assert_eq!(rig.take(), restart, "{kind:?} restart");
        if kind == Kind::Quadlet {
            assert_eq!(rig.unit("web"), Some((web_unit("v1", true), 0o600)));
        }
        assert!(rig.running("web"));
    }
}

#[tokio::test]
async fn update_unchanged_runs_nothing_and_install_of_an_installed_app_is_an_update() {
    for kind in BOTH {
        let rig = Rig::new(kind, stack_catalog());
        install(&rig, &["web"]).await;
        let unchanged = Updated {
            id: id("web"),
            changed: false,
            restarted: false,
            image: "localhost/lab-app:v1".into(),
        };
        assert_eq!(rig.core.update(&id("web")).await.unwrap(), unchanged);
        assert_eq!(
            rig.core.install(&id("web")).await.unwrap(),
            Installed::Update(unchanged)
        );
        let expect: Vec<&str> = match kind {
            Kind::Quadlet => vec![],
            // The legacy spec lives in podman: one read per update.
            Kind::Legacy => vec![INSPECT_WEB, INSPECT_WEB],
        };
        assert_eq!(rig.take(), expect, "{kind:?}");
    }
}

#[tokio::test]
async fn update_changed_writes_reloads_restarts_once_and_waits_for_health() {
    for kind in BOTH {
        let rig = Rig::new(kind, stack_catalog());
        install(&rig, &["web"]).await;
        rig.override_manifest("web", WEB_V2);
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
        match kind {
            Kind::Quadlet => {
                assert_eq!(
                    rig.take(),
                    [
                        "systemctl --user daemon-reload",
                        "systemctl --user restart web.service",
                        "podman exec web check"
                    ]
                );
                assert_eq!(rig.unit("web"), Some((web_unit("v2", true), 0o600)));
            }
            Kind::Legacy => assert_eq!(
                rig.take(),
                [
                    INSPECT_WEB.to_owned(),
                    web_create("v2"),
                    "podman --cgroup-manager=cgroupfs start web".into(),
                    "podman exec web check".into()
                ]
            ),
        }
        assert!(rig.running("web"));
        // Applied once: the same manifest again changes nothing and restarts nothing.
        assert!(!rig.core.update(&id("web")).await.unwrap().changed);
        let again = rig.take();
        assert!(
            again
                .iter()
                .all(|c| c.starts_with("podman container inspect")),
            "{again:?}"
        );
    }
}

#[tokio::test]
async fn update_of_a_stopped_app_writes_without_restarting_and_keeps_it_stopped() {
    for kind in BOTH {
        let rig = Rig::new(kind, stack_catalog());
        install(&rig, &["web"]).await;
        rig.core.operate(Op::Stop, &id("web"), false).await.unwrap();
        rig.take();
        rig.override_manifest("web", WEB_V2);
        let r = rig.core.update(&id("web")).await.unwrap();
        assert_eq!((r.changed, r.restarted), (true, false));
        match kind {
            Kind::Quadlet => {
                assert_eq!(rig.take(), ["systemctl --user daemon-reload"]);
                assert_eq!(rig.unit("web"), Some((web_unit("v2", false), 0o600)));
            }
            Kind::Legacy => assert_eq!(rig.take(), [INSPECT_WEB.to_owned(), web_create("v2")]),
        }
        assert!(!rig.running("web"));
        assert_eq!(desired(&rig, "web"), Some(Desired::Stopped));
    }
}

#[tokio::test]
async fn an_update_that_does_not_get_healthy_is_rolled_back() {
    for kind in BOTH {
        let rig = Rig::new(kind, stack_catalog());
        install(&rig, &["web"]).await;
        rig.override_manifest("web", WEB_V2);
        rig.node.lock().unwrap().unhealthy.insert("web".into());
        let e = rig.core.update(&id("web")).await.unwrap_err();
        assert!(matches!(e, Error::UpdateRolledBack { .. }), "{e:?}");
        assert_eq!(
            (e.rpc_code(), e.to_string()),
            (
                -32006,
                "failed to update `web`: not healthy within 1s; rolled back to the previous unit"
                    .into()
            )
        );
        let calls = rig.take();
        let probes = calls
            .iter()
            .filter(|c| *c == "podman exec web check")
            .count();
        assert!(
            (2..=4).contains(&probes),
            "probed for the 1 s budget: {calls:?}"
        );
        let acts: Vec<&String> = calls.iter().filter(|c| !c.contains(" exec ")).collect();
        match kind {
            Kind::Quadlet => {
                assert_eq!(
                    acts,
                    [
                        "systemctl --user daemon-reload",
                        "systemctl --user restart web.service",
                        "systemctl --user daemon-reload",
                        "systemctl --user restart web.service"
                    ]
                );
                assert_eq!(rig.unit("web"), Some((web_unit("v1", true), 0o600)));
            }
            Kind::Legacy => assert_eq!(
                acts,
                [
                    INSPECT_WEB,
                    &web_create("v2"),
                    "podman --cgroup-manager=cgroupfs start web",
                    &web_create("v1"),
                    "podman --cgroup-manager=cgroupfs start web"
                ]
            ),
        }
        assert!(rig.running("web"));
        assert_eq!(desired(&rig, "web"), Some(Desired::Running));
    }
}

#[tokio::test]
async fn a_bad_override_is_refused_naming_file_line_and_key_and_changes_nothing() {
    let rig = Rig::new(Kind::Quadlet, stack_catalog());
    install(&rig, &["web"]).await;
    rig.override_manifest("web", "id = \"web\"\nimage = \"-v=/:/host\"\n");
    let e = rig.core.update(&id("web")).await.unwrap_err();
    let file = rig.dir.join("override/web.toml");
    assert_eq!(
        e.to_string(),
        format!(
            "failed to load {}:2: image: \"-v=/:/host\" is not an image reference (letters, digits and . _ - / : @, starting with a letter or digit)",
            file.display()
        )
    );
    assert!(rig.take().is_empty());
    assert_eq!(rig.unit("web"), Some((web_unit("v1", true), 0o600)));
}

#[tokio::test]
async fn stop_with_dependents_is_refused_and_cascade_stops_them_first() {
    for kind in BOTH {
        let rig = Rig::new(kind, stack_catalog());
        install(&rig, &["chain", "wallet", "index", "explorer"]).await;
        let units = rig.units();
        let state = rig.state_file();
        let e = rig
            .core
            .operate(Op::Stop, &id("chain"), false)
            .await
            .unwrap_err();
        assert_eq!(
            (e.rpc_code(), e.to_string(), e.rpc_data()),
            (
                -32005,
                "failed to stop `chain`: required by explorer, index, wallet (stop them first or pass cascade: true)".into(),
                Some(serde_json::json!({ "dependents": ["explorer", "index", "wallet"] }))
            )
        );
        assert!(rig.take().is_empty(), "{kind:?}: a refusal runs nothing");
        assert_eq!((rig.units(), rig.state_file()), (units, state));
        // A dependent already stopped is not in the way.
        rig.core
            .operate(Op::Stop, &id("wallet"), false)
            .await
            .unwrap();
        rig.take();
        let e = rig
            .core
            .operate(Op::Stop, &id("chain"), false)
            .await
            .unwrap_err();
        assert_eq!(
            e.rpc_data(),
            Some(serde_json::json!({ "dependents": ["explorer", "index"] }))
        );
        let r = rig
            .core
            .operate(Op::Stop, &id("chain"), true)
            .await
            .unwrap();
        assert_eq!(
            r.cascaded,
            Some(vec![id("explorer"), id("index")]),
            "dependents first, each before what it requires"
        );
        let stops: Vec<String> = ["explorer", "index", "chain"]
            .iter()
            .flat_map(|a| match kind {
                Kind::Quadlet => vec![
                    "systemctl --user daemon-reload".to_owned(),
                    format!("systemctl --user stop {a}.service"),
                    format!("systemctl --user reset-failed {a}.service"),
                ],
                Kind::Legacy => vec![format!("podman --cgroup-manager=cgroupfs stop {a}")],
            })
            .collect();
        assert_eq!(rig.take(), stops, "{kind:?}");
        for a in ["chain", "wallet", "index", "explorer"] {
            assert!(!rig.running(a), "{a}");
            assert_eq!(desired(&rig, a), Some(Desired::Stopped), "{a}");
        }
    }
}

#[tokio::test]
async fn uninstall_with_dependents_is_refused_and_cascade_removes_everything_in_order() {
    for kind in BOTH {
        let rig = Rig::new(kind, stack_catalog());
        install(&rig, &["chain", "wallet", "index", "explorer", "web"]).await;
        rig.core
            .operate(Op::Stop, &id("wallet"), false)
            .await
            .unwrap();
        rig.take();
        let units = rig.units();
        let state = rig.state_file();
        let e = rig
            .core
            .uninstall(&id("chain"), true, false)
            .await
            .unwrap_err();
        assert_eq!(
            (e.rpc_code(), e.to_string()),
            (
                -32005,
                "failed to uninstall `chain`: required by explorer, index, wallet (uninstall them first or pass cascade: true)".into()
            ),
            "a stopped dependent still needs its requirement installed"
        );
        assert!(rig.take().is_empty());
        assert_eq!((rig.units(), rig.state_file()), (units, state));
        let r = rig.core.uninstall(&id("chain"), true, true).await.unwrap();
        assert_eq!(
            serde_json::to_value(&r).unwrap(),
            serde_json::json!({
                "id": "chain", "uninstalled": true, "purged": true,
                "cascaded": ["explorer", "index", "wallet"]
            })
        );
        let removes: Vec<String> = ["explorer", "index", "wallet", "chain"]
            .iter()
            .flat_map(|a| {
                let mut calls = match kind {
                    Kind::Quadlet => vec![
                        format!("systemctl --user stop {a}.service"),
                        format!("podman rm -f -i {a}"),
                        "systemctl --user daemon-reload".to_owned(),
                        format!("systemctl --user reset-failed {a}.service"),
                    ],
                    Kind::Legacy => vec![format!("podman --cgroup-manager=cgroupfs rm -f -i {a}")],
                };
                if *a == "chain" {
                    calls.push("podman volume rm chain-data".to_owned());
                }
                calls
            })
            .collect();
        assert_eq!(rig.take(), removes, "{kind:?}");
        let left: Vec<String> = rig.units().into_keys().collect();
        assert_eq!(
            left,
            if kind == Kind::Quadlet {
                vec!["web".to_owned()]
            } else {
                vec![]
            }
        );
        for a in ["chain", "wallet", "index", "explorer"] {
            assert!(!rig.running(a) && desired(&rig, a).is_none(), "{a}");
        }
        assert!(rig.running("web"));
        // Without purge, volumes stay.
        rig.core.uninstall(&id("web"), false, false).await.unwrap();
        assert!(!rig.take().iter().any(|c| c.contains("volume")));
    }
}

#[tokio::test]
async fn a_running_app_whose_requirement_is_down_or_unhealthy_is_degraded() {
    let rig = Rig::new(Kind::Quadlet, stack_catalog());
    install(&rig, &["chain", "wallet"]).await;
    rig.node.lock().unwrap().active.remove("chain.service");
    let list = rig.core.list().await.unwrap();
    let got: Vec<_> = list
        .iter()
        .map(|a| (a.id.as_str(), a.state, a.health, a.reason.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            ("chain", AppState::Stopped, HealthState::Unknown, None),
            (
                "wallet",
                AppState::Running,
                HealthState::Degraded,
                Some("requires chain, which is not running")
            )
        ]
    );
    rig.node
        .lock()
        .unwrap()
        .active
        .insert("chain.service".into());
    rig.node.lock().unwrap().unhealthy.insert("chain".into());
    rig.take();
    let st = rig.core.status(&id("wallet")).await.unwrap();
    assert_eq!(
        (st.health, st.reason.as_deref()),
        (
            HealthState::Degraded,
            Some("requires chain, which is unhealthy")
        )
    );
    let mut probes = rig.take();
    probes.sort();
    assert_eq!(
        probes,
        ["podman exec chain check", "podman exec wallet check"]
    );
    rig.node.lock().unwrap().unhealthy.clear();
    let st = rig.core.status(&id("wallet")).await.unwrap();
    assert_eq!((st.health, st.reason), (HealthState::Healthy, None));
}

#[tokio::test]
async fn the_reconciler_stops_what_should_be_stopped_and_fixes_units_that_disagree() {
    let rig = Rig::new(Kind::Quadlet, stack_catalog());
    install(&rig, &["web", "chain"]).await;
    rig.core.operate(Op::Stop, &id("web"), false).await.unwrap();
    // Something started it behind the orchestrator's back (an operator, a boot).
    rig.node.lock().unwrap().active.insert("web.service".into());
    // chain's unit lost its [Install] (a crash between two steps), though it should run.
    std::fs::write(rig.dir.join("units/chain.container"), {
        let (text, _) = rig.unit("chain").unwrap();
        orchestrator::quadlet::with_desired(&text, Desired::Stopped)
    })
    .unwrap();
    rig.take();
    rig.core.tick().await.unwrap();
    let mut calls = rig.take();
    calls.retain(|c| !c.contains(" exec "));
    assert_eq!(
        calls,
        [
            "systemctl --user is-system-running --wait",
            "systemctl --user daemon-reload",
            "systemctl --user stop web.service",
            "systemctl --user reset-failed web.service",
            "systemctl --user daemon-reload"
        ],
        "the first tick of a process reloads the units first, once the manager is up"
    );
    assert!(!rig.running("web") && rig.running("chain"));
    assert_eq!(rig.unit("web").unwrap().0, web_unit("v1", false));
    assert!(
        rig.unit("chain")
            .unwrap()
            .0
            .ends_with("[Install]\nWantedBy=default.target\n")
    );
    assert_eq!(rig.unit("chain").unwrap().1, 0o600);
    // A tick later nothing is left to do.
    rig.core.tick().await.unwrap();
    assert!(rig.take().iter().all(|c| c.contains(" exec ")));
}

#[tokio::test]
async fn a_lost_state_file_is_rebuilt_with_the_desired_state_the_units_record() {
    let rig = Rig::new(Kind::Quadlet, stack_catalog());
    install(&rig, &["web", "chain"]).await;
    rig.core.operate(Op::Stop, &id("web"), false).await.unwrap();
    std::fs::remove_file(rig.dir.join("state.json")).unwrap();
    // A node reboot: the user's systemd starts only the units with [Install].
    {
        let mut node = rig.node.lock().unwrap();
        node.active.clear();
        node.active.insert("chain.service".into());
    }
    let after = rig.restarted(stack_catalog());
    after.take();
    after.core.tick().await.unwrap();
    let mut calls = after.take();
    calls.retain(|c| !c.contains(" exec "));
    assert_eq!(
        calls,
        [
            "systemctl --user is-system-running --wait",
            "systemctl --user daemon-reload"
        ],
        "nothing started or stopped; the first tick reloads once the manager is up"
    );
    assert_eq!(desired(&after, "web"), Some(Desired::Stopped));
    assert_eq!(desired(&after, "chain"), Some(Desired::Running));
    assert!(!after.running("web") && after.running("chain"));
}

#[tokio::test]
async fn the_session_free_core_reports_unknown_and_not_installed_apps() {
    let rig = Rig::new(Kind::Quadlet, stack_catalog());
    for e in [
        rig.core.update(&id("web")).await.unwrap_err(),
        rig.core
            .operate(Op::Stop, &id("web"), true)
            .await
            .unwrap_err(),
        rig.core
            .uninstall(&id("web"), false, true)
            .await
            .unwrap_err(),
    ] {
        assert_eq!(e.rpc_code(), -32004, "{e}");
    }
    for e in [
        rig.core.update(&id("nope")).await.unwrap_err(),
        rig.core.install(&id("nope")).await.unwrap_err(),
    ] {
        assert_eq!(e.rpc_code(), -32002, "{e}");
    }
    assert!(rig.take().is_empty());
}

/// Status calls at the same time share the runtime's reads: six `container-list` calls during a
/// slow `podman ps` cost two reads (the one in flight is older than they are; the next serves
/// them all), not six.
#[tokio::test]
async fn concurrent_status_calls_share_the_runtime_reads() {
    let rig = Rig::new(Kind::Legacy, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    rig.node.lock().unwrap().ps_delay = Some(std::time::Duration::from_millis(300));
    rig.exec.clear();
    let first = {
        let core = rig.core.clone();
        tokio::spawn(async move { core.list().await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let later: Vec<_> = (0..5)
        .map(|_| {
            let core = rig.core.clone();
            tokio::spawn(async move { core.list().await })
        })
        .collect();
    assert_eq!(first.await.unwrap().unwrap().len(), 1);
    for l in later {
        assert_eq!(l.await.unwrap().unwrap().len(), 1);
    }
    let reads = rig.exec.calls();
    assert_eq!(
        reads.iter().filter(|c| c.starts_with("podman ps")).count(),
        2,
        "{reads:?}"
    );
}

/// A shared read is never older than the call: a container stopped while a read is in flight
/// is seen stopped by a call that arrived after the stop.
#[tokio::test]
async fn a_status_call_never_gets_a_read_that_began_before_it() {
    let rig = Rig::new(Kind::Legacy, stack_catalog());
    rig.core.install(&id("web")).await.unwrap();
    rig.node.lock().unwrap().ps_delay = Some(std::time::Duration::from_millis(300));
    let first = {
        let core = rig.core.clone();
        tokio::spawn(async move { core.list().await })
    };
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    rig.node
        .lock()
        .unwrap()
        .containers
        .get_mut("web")
        .unwrap()
        .1 = false;
    let after = rig.core.list().await.unwrap();
    assert_eq!(first.await.unwrap().unwrap()[0].state, AppState::Running);
    assert_eq!(after[0].state, AppState::Stopped, "{after:?}");
}
