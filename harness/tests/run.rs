//! A whole run against real local peers: events, reports, JUnit validity, redaction, verdicts.

mod support;

use std::{collections::BTreeMap, time::Duration};

use harness::{
    fleet::{Fleet, Node, Redactor, Secret},
    model::{AppId, Layer, NodeName, OutcomeKind},
    plan::{Rerun, Selection, plan},
    reporter::{
        CANCELLED_NOT_RUN, Console, EventKind, Output, Reporter, Results, Timestamp, Verdict,
        write_reports,
    },
    runner::{Cancel, RunSpec, run},
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
                served_by: None,
            },
            UiProbe {
                target: UiTarget::Direct {
                    port,
                    path: "/".into(),
                },
                contains: None,
                served_by: None,
            },
        ],
        data: vec![],
        not_applicable: BTreeMap::new(),
        start_budget: Duration::from_secs(5),
        reboot_budget: Duration::from_secs(5),
        volumes: vec![],
        update: None,
        fault: None,
        journey: Vec::new(),
    }
}

/// A run of lab-chain's rpc and ui cases, two iterations, over the local peers.
fn spec(nodes: Vec<Node>, sshd: &Sshd, srv: &FakeOrchestrator, leak: bool) -> RunSpec {
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
            // The loopback orchestrator is a stub: the API contract is checked on the lab.
            skip: vec!["present".into(), "valid".into(), "api-contract".into()],
            ..Default::default()
        },
        ..Selection::default()
    };
    let suites = [s];
    let p = plan(&suites, &sel).unwrap();
    let redactor = Redactor::default();
    redactor.register(PASSWORD);
    let [s] = suites;
    RunSpec {
        run_id: "RUNID".into(),
        command: "run".into(),
        rerun_of: None,
        fleet,
        nodes,
        password: PASSWORD.into(),
        plan: p,
        suites: BTreeMap::from([(s.app.clone(), s)]),
        chaos: BTreeMap::new(),
        kpis: BTreeMap::new(),
        iterations: 2,
        required: vec![Layer::L1, Layer::L2],
        // Generous: a case that hits it is judged a failure, which would hide what went wrong on
        // a loaded machine.
        case_timeout: Duration::from_secs(120),
        // No L4 case is planned here: nothing is written.
        artifacts: "reports/RUNID/artifacts".into(),
        workspace_root: ".".into(),
        ssh_sessions: 2,
        redactor,
        cancel: Cancel::default(),
    }
}

/// Runs `spec` through the same `Reporter` as `harness run`, its console into a buffer; calls
/// `on_event` with each event first. Returns the results and the events in order.
async fn execute(spec: RunSpec, mut on_event: impl FnMut(&EventKind)) -> (Results, Vec<EventKind>) {
    let redactor = spec.redactor.clone();
    let console = Console::plain(Box::new(std::io::sink()), redactor.clone());
    let mut reporter = Reporter::new(Output::Human(console), redactor);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(run(spec, tx));
    let mut seen = Vec::new();
    while let Some(ev) = rx.recv().await {
        on_event(&ev.kind);
        reporter.report_event(&ev).unwrap();
        seen.push(ev.kind);
    }
    task.await.unwrap();
    (reporter.finish().unwrap().results, seen)
}

async fn run_on(nodes: Vec<Node>, sshd: &Sshd, srv: &FakeOrchestrator, leak: bool) -> Results {
    execute(spec(nodes, sshd, srv, leak), |_| {}).await.0
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
    r.not_passed()
        .map(|c| {
            format!(
                "{} #{} {}: {} {}",
                c.case.node, c.case.iteration, c.case.name, c.outcome, c.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The results with times, durations and output (which holds ports) fixed.
fn normalized(r: &Results) -> String {
    let epoch = Timestamp::from_unix_secs(0);
    let mut r = r.clone();
    r.started_at = epoch;
    r.finished_at = Some(epoch);
    r.cases.sort_by(|a, b| {
        let key = |c: &harness::reporter::CaseRecord| {
            (c.case.node.clone(), c.case.iteration, c.case.name.clone())
        };
        key(a).cmp(&key(b))
    });
    for c in &mut r.cases {
        c.started_at = epoch;
        c.duration = Duration::ZERO;
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
    let down: Vec<_> = r
        .cases
        .iter()
        .filter(|c| c.case.node.as_str() == "down")
        .collect();
    assert_eq!(down.len(), 4);
    assert!(
        down.iter().all(|c| c.outcome == OutcomeKind::Error
            && c.message
                .starts_with("node down unreachable: failed to connect to down")),
        "{down:?}"
    );
    let n1_rpc: Vec<_> = r
        .cases
        .iter()
        .filter(|c| c.case.node.as_str() == "n1" && c.case.name.check == "rpc")
        .collect();
    assert!(
        n1_rpc.iter().all(|c| c.outcome == OutcomeKind::Fail),
        "{n1_rpc:?}"
    );
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

#[tokio::test]
async fn ctrl_c_stops_starting_cases_and_the_run_ends_cancelled() {
    let sshd = Sshd::start();
    let srv = FakeOrchestrator::start().await;
    let mut spec = spec(vec![node("n1", sshd.port)], &sshd, &srv, false);
    spec.iterations = 5;
    let cancel = spec.cancel.clone();
    // Ctrl-C as soon as the first case finishes.
    let (r, events) = execute(spec, |kind| {
        if matches!(kind, EventKind::CaseFinished { .. }) {
            cancel.cancel("interrupted (Ctrl-C)");
        }
    })
    .await;
    assert_eq!(r.verdict, Verdict::Cancelled, "{}", not_passed(&r));
    assert_eq!(r.verdict.exit_code(), harness::exit::CANCELLED);
    assert_eq!(r.cases.len(), 10, "every planned case is reported");
    let cancelled_at = events
        .iter()
        .position(|e| matches!(e, EventKind::RunCancelled { .. }))
        .expect("a RunCancelled event");
    assert!(
        !events[cancelled_at..]
            .iter()
            .any(|e| matches!(e, EventKind::CaseStarted { .. })),
        "a case started after the cancel: {events:#?}"
    );
    let skipped = r
        .cases
        .iter()
        .filter(|c| c.outcome == OutcomeKind::Skipped)
        .count();
    assert!(
        skipped >= 6,
        "iterations 3-5 never start: {}",
        not_passed(&r)
    );
    for c in r.not_passed() {
        assert_eq!(
            (c.outcome, c.message.as_str()),
            (OutcomeKind::Skipped, CANCELLED_NOT_RUN),
            "{}",
            c.case.name
        );
    }
    let dir = TempDir::new("reports-cancelled");
    let out = write_reports(&dir.0, &r, &Redactor::default()).unwrap();
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(summary.contains("- Verdict: **cancelled**"), "{summary}");
    let results = std::fs::read_to_string(out.join("results.json")).unwrap();
    assert!(results.contains("\"verdict\": \"cancelled\""), "{results}");
}

#[tokio::test]
async fn rerun_failed_runs_exactly_the_cases_that_did_not_pass_and_says_so() {
    let sshd = Sshd::start();
    let srv = FakeOrchestrator::start().await;
    // The leak probe fails rpc on n1 in both iterations; ui passes.
    let first = run_on(vec![node("n1", sshd.port)], &sshd, &srv, true).await;
    assert_eq!(first.verdict, Verdict::Failed, "{}", not_passed(&first));
    let dir = TempDir::new("reports-rerun");
    write_reports(&dir.0, &first, &Redactor::default()).unwrap();
    let latest =
        Results::from_json(&std::fs::read_to_string(dir.0.join("latest/results.json")).unwrap())
            .unwrap();
    let rerun = Rerun::of(&latest).unwrap();
    assert_eq!((rerun.nodes.len(), rerun.iterations), (1, 2));

    let mut again = spec(vec![node("n1", sshd.port)], &sshd, &srv, true);
    let suites: Vec<Suite> = again.suites.values().cloned().collect();
    again.plan = plan(&suites, &rerun.selection).unwrap();
    again.rerun_of = Some(rerun.of.clone());
    again.run_id = "RERUNID".into();
    let (r, _) = execute(again, |_| {}).await;
    let ran: Vec<String> = r
        .cases
        .iter()
        .map(|c| format!("{} #{} {}", c.case.node, c.case.iteration, c.case.name))
        .collect();
    assert_eq!(
        ran,
        ["n1 #1 L1::lab-chain::rpc", "n1 #2 L1::lab-chain::rpc"],
        "only the failed case, on the same node, in the same iterations"
    );
    assert_eq!(r.rerun_of.as_deref(), Some("RUNID"));
    let out = write_reports(&dir.0, &r, &Redactor::default()).unwrap();
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains("> **Rerun of RUNID: not a full gate.**"),
        "{summary}"
    );
    let results = std::fs::read_to_string(out.join("results.json")).unwrap();
    assert!(results.contains("\"rerun_of\": \"RUNID\""), "{results}");
}

#[test]
fn list_rerun_failed_lists_exactly_the_cases_that_did_not_pass_in_latest() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let reports = TempDir::new("reports-list-rerun");
    let run = reports.0.join("20261129T093000Z-1a2b");
    std::fs::create_dir_all(&run).unwrap();
    std::fs::copy(
        root.join("harness/tests/fixtures/matrix/results.json"),
        run.join("results.json"),
    )
    .unwrap();
    std::os::unix::fs::symlink("20261129T093000Z-1a2b", reports.0.join("latest")).unwrap();
    // `list` plans only: it reads fleet.toml and the suites and contacts no node.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("--fleet-file")
        .arg(root.join("fleet.toml"))
        .args(["list", "--rerun-failed", "--reports"])
        .arg(&reports.0)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "L2::lab-wallet::ui: test\nL3::lab-wallet::reinstall: test\nL3::lab-chain::daemon-restart: test\n"
    );
}

/// `harness run --message-format json` interrupted by SIGINT: stdout carries the events as JSON
/// lines (the same as events.jsonl), the run ends cancelled with exit 130, and the reports are
/// written. The node is 127.0.0.1 on port 22, which the fleet file cannot change: whatever answers
/// there, each iteration ends quickly in an error, so the run is long only by its iterations.
#[test]
fn sigint_cancels_a_json_run_and_still_writes_the_reports() {
    signal_cancels_a_json_run("INT", "interrupted (Ctrl-C)");
}

/// The same for SIGTERM (what `timeout`, CI and systemd send): a run ended that way still
/// writes its reports and closes its browsers, instead of dying with the cases in flight.
#[test]
fn sigterm_cancels_a_json_run_and_still_writes_the_reports() {
    signal_cancels_a_json_run("TERM", "terminated (SIGTERM)");
}

fn signal_cancels_a_json_run(signal: &str, reason: &str) {
    use std::io::BufRead;

    let dir = TempDir::new(&format!("sig{signal}"));
    let fleet = dir.0.join("fleet.toml");
    std::fs::write(
        &fleet,
        format!(
            "default = \"loop\"\n\n[fleet.loop]\ncatalog = \"lab\"\ndaemon_unit = \"orchestrator.service\"\n\
             app_user = \"root\"\nssh_user = \"root\"\nssh_key = \"{0}/key\"\nknown_hosts = \"{0}/known_hosts\"\n\
             orchestrator_port = 1\nunit_dir = \"/tmp\"\npassword = {{ env = \"HARNESS_TEST_SIGINT_PASSWORD\" }}\n\n\
             [[fleet.loop.node]]\nname = \"n1\"\naddress = \"127.0.0.1\"\n",
            dir.0.display()
        ),
    )
    .unwrap();
    let suites = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../suites");
    let reports = dir.0.join("reports");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_harness"))
        .arg("--fleet-file")
        .arg(&fleet)
        .arg("--suites")
        .arg(&suites)
        .args([
            "run",
            "lab-chain",
            "--layer",
            "L1",
            "--filter",
            "L1::lab-chain::rpc",
            "--exact",
            "--iterations",
            "20000",
            "--message-format",
            "json",
            "--reports",
        ])
        .arg(&reports)
        .env("HARNESS_TEST_SIGINT_PASSWORD", PASSWORD)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = Vec::new();
    for line in lines.by_ref() {
        let line = line.unwrap();
        let first_finished = line.contains("\"event\":\"case-finished\"");
        stdout.push(line);
        if first_finished {
            break;
        }
    }
    let killed = std::process::Command::new("kill")
        .args([&format!("-{signal}"), &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    stdout.extend(lines.map(Result::unwrap));
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(harness::exit::CANCELLED));

    let events: Vec<harness::reporter::TestEvent> = stdout
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(matches!(events[0].kind, EventKind::RunStarted { .. }));
    assert!(
        events
            .iter()
            .any(|e| matches!(&e.kind, EventKind::RunCancelled { reason: r } if r == reason)),
        "no run-cancelled event saying {reason:?}"
    );
    assert!(matches!(
        events.last().unwrap().kind,
        EventKind::RunFinished { .. }
    ));
    let latest = reports.join("latest");
    let file = std::fs::read_to_string(latest.join("events.jsonl")).unwrap();
    assert_eq!(
        file,
        stdout.join("\n") + "\n",
        "stdout and events.jsonl differ"
    );
    let r =
        Results::from_json(&std::fs::read_to_string(latest.join("results.json")).unwrap()).unwrap();
    assert_eq!(r.verdict, Verdict::Cancelled);
    assert_eq!(r.cases.len(), 20_000, "every planned case is reported");
    assert!(r.totals.skipped > 0 && r.totals.passed == 0);
    let summary = std::fs::read_to_string(latest.join("summary.md")).unwrap();
    assert!(summary.contains("- Verdict: **cancelled**"), "{summary}");
}
