//! A whole run against real local peers: events, reports, JUnit validity, redaction, verdicts.

mod support;

use std::{collections::BTreeMap, time::Duration};

use harness::{
    fleet::{Fleet, Node, Redactor, Secret},
    model::{AppId, Layer, NodeName},
    plan::{Selection, plan},
    reporter::{Results, Verdict, write_reports},
    runner::{RunSpec, run},
    suite::{Probe, Suite, UiProbe, UiTarget},
};
use support::{ClosedPort, FakeOrchestrator, PASSWORD, Sshd, TOKEN, TempDir};

fn suite(port: u16) -> Suite {
    Suite {
        path: "suites/lab/lab-chain.toml".into(),
        catalog: "lab".into(),
        app: AppId::new("lab-chain").unwrap(),
        requires: vec![],
        rpc: vec![
            Probe::AppJsonRpc {
                port,
                path: "/".into(),
                method: "getinfo".into(),
                expect: Some(("/result/chain".into(), "lab".into())),
            },
            Probe::Ssh {
                command: "true".into(),
                expect: None,
            },
        ],
        ui: vec![
            UiProbe {
                target: UiTarget::Dashboard,
                contains: Some("Height".into()),
            },
            UiProbe {
                target: UiTarget::Direct {
                    port,
                    path: "/".into(),
                },
                contains: None,
            },
        ],
        data: vec![],
        not_applicable: BTreeMap::new(),
        start_budget: Duration::from_secs(5),
        reboot_budget: Duration::from_secs(5),
        volumes: vec![],
        update: None,
        fault: None,
    }
}

async fn run_on(nodes: Vec<Node>, sshd: &Sshd, srv: &FakeOrchestrator, leak: bool) -> Results {
    let mut s = suite(srv.addr.port());
    if leak {
        s.rpc.push(Probe::OrchestratorRpc {
            method: "leak".into(),
            params: serde_json::json!({}),
            expect: None,
        });
    }
    let fleet = Fleet {
        name: "loop".into(),
        catalog: "lab".into(),
        daemon_unit: "orchestrator.service".into(),
        app_user: "root".into(),
        ssh_user: "root".into(),
        ssh_key: sshd.key.clone(),
        known_hosts: sshd.known_hosts.clone(),
        orchestrator_port: srv.addr.port(),
        password: Secret::Env("UNUSED".into()),
        lab_interface: None,
        unit_dir: "/tmp".into(),
        catalog_dir: None,
        catalog_override_dir: None,
        nodes: nodes.clone(),
    };
    let sel = Selection {
        layers: vec![Layer::L1, Layer::L2],
        filter: libtest_mimic::Arguments {
            skip: vec!["present".into(), "valid".into()],
            ..Default::default()
        },
        ..Selection::default()
    };
    let p = plan(std::slice::from_ref(&s), &sel).unwrap();
    let redactor = Redactor::default();
    redactor.register(PASSWORD);
    let spec = RunSpec {
        run_id: "RUNID".into(),
        command: "run".into(),
        fleet,
        nodes,
        password: PASSWORD.into(),
        plan: p,
        suites: BTreeMap::from([(s.app.clone(), s)]),
        iterations: 2,
        required: vec![Layer::L1, Layer::L2],
        // Generous: a case that hits it is judged a failure, which would hide what went wrong on
        // a loaded machine.
        case_timeout: Duration::from_secs(120),
        workspace_root: ".".into(),
        ssh_sessions: 2,
        redactor: redactor.clone(),
    };
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(run(spec, tx));
    let mut results = Results::new();
    while let Some(ev) = rx.recv().await {
        results.record(&ev, &redactor);
    }
    task.await.unwrap();
    results
}

fn node(name: &str, port: u16) -> Node {
    Node {
        name: NodeName(name.into()),
        address: "127.0.0.1".parse().unwrap(),
        ssh_port: port,
    }
}

/// Every case that did not pass, one per line with its node, iteration and message: what an
/// unexpected verdict needs to be understood.
fn not_passed(r: &Results) -> String {
    r.cases
        .iter()
        .filter(|c| c.outcome != "pass")
        .map(|c| {
            format!(
                "{} #{} {}: {} {}",
                c.node, c.iteration, c.name, c.outcome, c.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The results with times, durations and output (which holds ports) fixed.
fn normalized(r: &Results) -> String {
    let mut r = r.clone();
    r.started_at = "T".into();
    r.finished_at = "T".into();
    r.cases
        .sort_by(|a, b| (&a.node, a.iteration, &a.name).cmp(&(&b.node, b.iteration, &b.name)));
    for c in &mut r.cases {
        c.started_at = "T".into();
        c.duration_ms = 0;
        c.output = String::new();
        c.message = c
            .message
            .split(" (127.0.0.1")
            .next()
            .unwrap_or("")
            .to_owned();
    }
    r.to_json()
}

/// Compares with `tests/golden/<name>`; `HARNESS_BLESS=1` rewrites the file instead.
fn check_golden(name: &str, text: &str) {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("HARNESS_BLESS").is_some() {
        std::fs::write(&path, text).unwrap();
    }
    assert_eq!(text, std::fs::read_to_string(&path).unwrap());
}

#[tokio::test]
async fn a_passing_run_writes_valid_reports_without_secrets() {
    let sshd = Sshd::start();
    let srv = FakeOrchestrator::start().await;
    let r = run_on(vec![node("n1", sshd.port)], &sshd, &srv, false).await;
    assert_eq!(
        r.verdict,
        Verdict::Passed,
        "{}\n{}",
        not_passed(&r),
        r.to_json()
    );
    assert_eq!((r.totals.passed, r.totals.failed), (4, 0));
    check_golden("pass.results.json", &normalized(&r));

    let dir = TempDir::new("reports");
    let out = write_reports(&dir.0, &r, &Redactor::default()).unwrap();
    assert_eq!(
        std::fs::read_link(dir.0.join("latest")).unwrap(),
        std::path::PathBuf::from("RUNID")
    );
    // Jenkins' schema (xunit-plugin, MIT), kept beside the tests so they need nothing outside.
    let xsd = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit-10.xsd");
    let st = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(&xsd)
        .arg(out.join("junit.xml"))
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

#[tokio::test]
async fn failures_errors_and_secrets() {
    let sshd = Sshd::start();
    let srv = FakeOrchestrator::start().await;
    let closed = ClosedPort::new();
    // The leak probe fails rpc (a product failure); node "down" cannot be reached (errors only).
    let r = run_on(
        vec![node("n1", sshd.port), node("down", closed.port)],
        &sshd,
        &srv,
        true,
    )
    .await;
    assert_eq!(r.verdict, Verdict::Failed, "{}", not_passed(&r));
    let down: Vec<_> = r.cases.iter().filter(|c| c.node == "down").collect();
    assert_eq!(down.len(), 4);
    assert!(
        down.iter().all(|c| c.outcome == "error"
            && c.message
                .starts_with("node down unreachable: failed to connect to down")),
        "{down:?}"
    );
    let n1_rpc: Vec<_> = r
        .cases
        .iter()
        .filter(|c| c.node == "n1" && c.check == "rpc")
        .collect();
    assert!(n1_rpc.iter().all(|c| c.outcome == "fail"), "{n1_rpc:?}");
    check_golden("fail.results.json", &normalized(&r));

    let dir = TempDir::new("reports-leak");
    let redactor = Redactor::default();
    redactor.register(PASSWORD);
    redactor.register(TOKEN);
    let out = write_reports(&dir.0, &r, &redactor).unwrap();
    for f in ["results.json", "junit.xml", "summary.md"] {
        let text = std::fs::read_to_string(out.join(f)).unwrap();
        assert!(
            !text.contains(PASSWORD) && !text.contains(TOKEN),
            "{f} leaks a secret"
        );
        assert!(
            text.contains("[REDACTED]"),
            "{f} shows no redaction, so the test proves nothing"
        );
    }
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<failure type=\"fail\"") && junit.contains("<error type=\"error\""),
        "{junit}"
    );
    assert!(junit.contains("classname=\"L1.lab-chain\""));

    // Only errors in the required layers: infrastructure error.
    let only_down = run_on(vec![node("down", closed.port)], &sshd, &srv, false).await;
    assert_eq!(only_down.verdict, Verdict::InfrastructureError);
    assert_eq!(only_down.verdict.exit_code(), 3);
}
