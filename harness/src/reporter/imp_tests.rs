use std::{
    path::PathBuf,
    sync::{Arc, Mutex},
};

use super::*;
use crate::model::{AppId, CaseName, Iteration, NodeName, OutcomeKind};

/// A writer whose bytes the test reads afterwards.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Shared {
    fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
    }
}

/// A scratch directory, removed on drop.
struct Scratch(PathBuf);
impl Scratch {
    fn new(name: &str) -> Self {
        let p =
            std::env::temp_dir().join(format!("harness-reporter-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}
impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const SECRET: &str = "s3cret-pass-word";

fn name(s: &str) -> CaseName {
    s.parse().unwrap()
}

fn id(case: &str, node: &str, iteration: u32) -> CaseId {
    CaseId {
        name: name(case),
        node: NodeName(node.into()),
        iteration: Iteration(iteration),
    }
}

fn ev(ms: u64, kind: EventKind) -> TestEvent {
    TestEvent {
        timestamp: Timestamp::from_unix_secs(1_795_858_200 + (ms / 1000) as i64),
        elapsed: Duration::from_millis(ms),
        kind,
    }
}

/// Two nodes, one iteration, two cases each: four planned cases.
fn run_started() -> TestEvent {
    ev(
        0,
        EventKind::RunStarted {
            run_id: "RUN".into(),
            command: "gate".into(),
            rerun_of: None,
            fleet: "lab".into(),
            iterations: 1,
            nodes: vec![NodeName("n1".into()), NodeName("n2".into())],
            required_layers: vec![Layer::L1],
            apps: vec![AppId::new("lab-chain").unwrap()],
            not_applicable: vec![],
            l0: false,
            cases: vec![name("L1::lab-chain::rpc"), name("L2::lab-chain::ui")],
        },
    )
}

fn started(ms: u64, case: &CaseId) -> TestEvent {
    ev(ms, EventKind::CaseStarted { case: case.clone() })
}

fn finished(ms: u64, case: &CaseId, outcome: Outcome) -> TestEvent {
    ev(
        ms,
        EventKind::CaseFinished {
            case: case.clone(),
            outcome,
            started_at: Timestamp::from_unix_secs(1_795_858_200),
            duration: Duration::from_millis(25),
            output: format!("$ curl -u archy:{SECRET}\n"),
        },
    )
}

fn passed(ms: u64, case: &CaseId) -> [TestEvent; 2] {
    [started(ms, case), finished(ms + 25, case, Outcome::Pass)]
}

fn run_finished(ms: u64) -> TestEvent {
    ev(
        ms,
        EventKind::RunFinished {
            duration: Duration::from_millis(ms),
        },
    )
}

fn reporter(out: &Shared) -> Reporter {
    let redactor = Redactor::default();
    redactor.register(SECRET);
    Reporter::new(
        Output::Human(Console::plain(Box::new(out.clone()), redactor.clone())),
        redactor,
    )
}

fn outcome_of<'a>(r: &'a Results, case: &CaseId) -> (OutcomeKind, &'a str) {
    let c = r.cases.iter().find(|c| &c.case == case).unwrap();
    (c.outcome, c.message.as_str())
}

#[test]
fn a_planned_case_without_a_result_is_an_error_and_the_run_cannot_pass() {
    let out = Shared::default();
    let mut rep = reporter(&out);
    rep.report_event(&run_started()).unwrap();
    let lost = id("L1::lab-chain::rpc", "n2", 1);
    for case in [
        id("L1::lab-chain::rpc", "n1", 1),
        id("L2::lab-chain::ui", "n1", 1),
        id("L2::lab-chain::ui", "n2", 1),
    ] {
        for e in passed(10, &case) {
            rep.report_event(&e).unwrap();
        }
    }
    rep.report_event(&started(20, &lost)).unwrap();
    rep.report_event(&run_finished(100)).unwrap();
    let done = rep.finish().unwrap();
    let r = &done.results;
    assert_eq!(r.cases.len(), 4);
    assert_eq!(outcome_of(r, &lost), (OutcomeKind::Error, LOST));
    assert_eq!(r.verdict, Verdict::InfrastructureError);
    assert_ne!(done.exit_code(), crate::exit::PASSED);
    assert!(
        out.text().contains(
            "ERROR n2 #1 L1::lab-chain::rpc (0.00s): no result recorded (case task lost)"
        ),
        "{}",
        out.text()
    );
}

#[test]
fn a_lost_case_outside_the_required_layers_still_fails_the_run() {
    let mut rep = reporter(&Shared::default());
    rep.report_event(&run_started()).unwrap();
    for node in ["n1", "n2"] {
        for e in passed(10, &id("L1::lab-chain::rpc", node, 1)) {
            rep.report_event(&e).unwrap();
        }
    }
    // L2 is not required; both L2 cases are lost, and the runner never sent RunFinished.
    let done = rep.finish().unwrap();
    assert_eq!(
        outcome_of(&done.results, &id("L2::lab-chain::ui", "n1", 1)),
        (OutcomeKind::Error, LOST)
    );
    assert_eq!(done.results.verdict, Verdict::InfrastructureError);
    assert_eq!(done.exit_code(), crate::exit::INFRASTRUCTURE);
    assert!(done.results.finished_at.is_some());
}

#[test]
fn a_cancelled_run_skips_what_it_never_started_and_never_exits_0() {
    let out = Shared::default();
    let mut rep = reporter(&out);
    rep.report_event(&run_started()).unwrap();
    let (ran, running) = (
        id("L1::lab-chain::rpc", "n1", 1),
        id("L1::lab-chain::rpc", "n2", 1),
    );
    for e in passed(10, &ran) {
        rep.report_event(&e).unwrap();
    }
    rep.report_event(&started(20, &running)).unwrap();
    rep.report_event(&ev(
        30,
        EventKind::RunCancelled {
            reason: "interrupted (Ctrl-C)".into(),
        },
    ))
    .unwrap();
    // A second Ctrl-C: the runner was dropped, so `running` never finished and no RunFinished came.
    let done = rep.finish().unwrap();
    let r = &done.results;
    assert_eq!(outcome_of(r, &ran), (OutcomeKind::Pass, ""));
    assert_eq!(
        outcome_of(r, &running),
        (OutcomeKind::Error, CANCELLED_RUNNING)
    );
    for node in ["n1", "n2"] {
        assert_eq!(
            outcome_of(r, &id("L2::lab-chain::ui", node, 1)),
            (OutcomeKind::Skipped, CANCELLED_NOT_RUN)
        );
    }
    assert_eq!(r.verdict, Verdict::Cancelled);
    assert_eq!(done.exit_code(), crate::exit::CANCELLED);
    assert_eq!(
        r.totals,
        Totals {
            passed: 1,
            failed: 0,
            errors: 1,
            skipped: 2
        }
    );
    assert!(
        out.text().contains("CANCELLED (interrupted (Ctrl-C))"),
        "{}",
        out.text()
    );
    assert!(
        out.text().contains("CANCELLED: the run was interrupted"),
        "{}",
        out.text()
    );
    let summary = super::super::render_summary(r);
    assert!(summary.contains("- Verdict: **cancelled**"), "{summary}");
    assert!(summary.contains("> **Cancelled.**"), "{summary}");
}

#[test]
fn events_jsonl_and_json_stdout_hold_every_event_line_by_line_redacted() {
    let dir = Scratch::new("events");
    let stdout = Shared::default();
    let redactor = Redactor::default();
    redactor.register(SECRET);
    let mut rep =
        Reporter::new(Output::Json(Box::new(stdout.clone())), redactor).with_reports(&dir.0);
    let a = id("L1::lab-chain::rpc", "n1", 1);
    let mut fed = vec![run_started()];
    fed.extend(passed(10, &a));
    fed.push(ev(
        40,
        EventKind::CaseSlow {
            case: a.clone(),
            after: Duration::from_secs(60),
        },
    ));
    fed.push(ev(
        50,
        EventKind::NodeError {
            node: NodeName("n2".into()),
            iteration: Iteration(1),
            message: format!("login refused for {SECRET}"),
        },
    ));
    fed.push(finished(
        60,
        &id("L2::lab-chain::ui", "n1", 1),
        Outcome::Fail("HTTP 500".into()),
    ));
    fed.push(run_finished(100));
    let path = dir.0.join("RUN/events.jsonl");
    for (i, e) in fed.iter().enumerate() {
        rep.report_event(e).unwrap();
        // Written as the run goes: every event so far is already in the file.
        let lines = std::fs::read_to_string(&path).unwrap().lines().count();
        assert!(lines > i, "event {i} not yet in events.jsonl");
    }
    let done = rep.finish().unwrap();
    assert_eq!(done.dir, Some(dir.0.join("RUN")));

    let file = std::fs::read_to_string(&path).unwrap();
    assert_eq!(file, stdout.text(), "stdout and events.jsonl differ");
    assert!(!file.contains(SECRET), "{file}");
    let events: Vec<TestEvent> = file
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    // What was fed (redacted), with the two n2 cases that never finished settled before the end.
    let kinds: Vec<String> = file
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["event"].to_string())
        .collect();
    assert_eq!(
        kinds,
        [
            "\"run-started\"",
            "\"case-started\"",
            "\"case-finished\"",
            "\"case-slow\"",
            "\"node-error\"",
            "\"case-finished\"",
            "\"case-finished\"",
            "\"case-finished\"",
            "\"run-finished\""
        ]
    );
    assert_eq!(events[0], fed[0]);
    assert_eq!(events[1], fed[1]);
    assert_eq!(events[3], fed[3]);
    let EventKind::CaseFinished {
        output, outcome, ..
    } = &events[2].kind
    else {
        panic!("{:?}", events[2]);
    };
    assert_eq!(output, "$ curl -u archy:[REDACTED]\n");
    assert_eq!(outcome, &Outcome::Pass);
    let EventKind::CaseFinished { case, outcome, .. } = &events[6].kind else {
        panic!("{:?}", events[6]);
    };
    assert_eq!(
        (case, outcome),
        (
            &id("L1::lab-chain::rpc", "n2", 1),
            &Outcome::Error(LOST.into())
        )
    );
    assert_eq!(events[8], fed[6]);
}

#[test]
fn an_event_line_has_this_shape() {
    let line = serde_json::to_string(&finished(
        1500,
        &id("L3::lab-chain::restart", "lab-228", 3),
        Outcome::Fail("not restarted".into()),
    ))
    .unwrap();
    assert_eq!(
        line,
        format!(
            "{{\"timestamp\":\"2026-11-28T09:30:01Z\",\"elapsed_ms\":1500,\"event\":\"case-finished\",\
             \"case\":{{\"name\":\"L3::lab-chain::restart\",\"node\":\"lab-228\",\"iteration\":3}},\
             \"outcome\":\"fail\",\"message\":\"not restarted\",\"started_at\":\"2026-11-28T09:30:00Z\",\
             \"duration_ms\":25,\"output\":\"$ curl -u archy:{SECRET}\\n\"}}"
        )
    );
    let back: TestEvent = serde_json::from_str(&line).unwrap();
    assert_eq!(
        serde_json::to_string(&back).unwrap(),
        line,
        "reads back into the same event"
    );
}

#[test]
fn a_passed_cases_long_output_keeps_its_head_and_tail_and_says_where_the_rest_is() {
    assert_eq!(kept("short", 8), "short");
    assert_eq!(
        kept("0123456789abcdef", 8),
        "0123\n[... 8 bytes of this passed case's output are only in events.jsonl ...]\ncdef"
    );
    // Never cut inside a character: "é" is two bytes.
    assert_eq!(
        kept("aééééb", 6),
        "aé\n[... 4 bytes of this passed case's output are only in events.jsonl ...]\néb"
    );
}
