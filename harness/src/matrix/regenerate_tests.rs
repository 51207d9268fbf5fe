use std::path::{Path, PathBuf};

use super::*;
use crate::{matrix::render, reporter::Results};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/matrix")
        .join(name)
}

fn recorded() -> Results {
    let path = fixture("results.json");
    results::parse(&path, &fs::read_to_string(&path).unwrap()).unwrap()
}

/// The fixture orchestrator tree the LoC budget is counted from.
fn orchestrator() -> PathBuf {
    fixture("orchestrator")
}

fn loc() -> crate::matrix::LocReport {
    crate::matrix::count_loc(&orchestrator()).unwrap()
}

fn golden() -> String {
    fs::read_to_string(fixture("TESTING.golden.md")).unwrap()
}

/// A fresh scratch directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("harness-matrix-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn renders_the_recorded_run_as_the_golden_file() {
    let out = render(&recorded(), &loc(), "");
    if std::env::var_os("MATRIX_BLESS").is_some() {
        fs::write(fixture("TESTING.golden.md"), &out).unwrap();
    }
    assert_eq!(out, golden());
}

#[test]
fn keeps_hand_written_text_around_the_block_verbatim() {
    let previous = "# Testing\n\nHow to run things.  \n\n<!-- matrix:begin fleet=lab -->\nNo run recorded yet.\n<!-- matrix:end fleet=lab -->\n\n## Notes\n\nKept *as is*.\n";
    assert_eq!(
        render(&recorded(), &loc(), previous),
        format!(
            "# Testing\n\nHow to run things.  \n\n{}\n## Notes\n\nKept *as is*.\n",
            golden()
        )
    );
}

#[test]
fn keeps_other_fleets_blocks() {
    let other =
        "<!-- matrix:begin fleet=release -->\nrelease numbers\n<!-- matrix:end fleet=release -->\n";
    assert_eq!(
        render(&recorded(), &loc(), other),
        format!("{}\n{}", other, golden())
    );
}

#[test]
fn regenerating_twice_changes_nothing() {
    let dir = scratch("twice");
    let md = dir.join("TESTING.md");
    fs::write(&md, "# Testing\n\nintro\n").unwrap();
    assert!(regenerate(&fixture("results.json"), &[], &orchestrator(), &md).unwrap());
    let first = fs::read_to_string(&md).unwrap();
    assert_eq!(first, format!("# Testing\n\nintro\n\n{}", golden()));
    assert!(!regenerate(&fixture("results.json"), &[], &orchestrator(), &md).unwrap());
    assert_eq!(fs::read_to_string(&md).unwrap(), first);
    let leftovers: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("TESTING.md")]);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn creates_testing_md_when_absent() {
    let dir = scratch("absent");
    let md = dir.join("TESTING.md");
    assert!(regenerate(&fixture("results.json"), &[], &orchestrator(), &md).unwrap());
    assert_eq!(fs::read_to_string(&md).unwrap(), golden());
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn refuses_broken_markers_naming_the_file_and_line() {
    let dir = scratch("markers");
    let md = dir.join("TESTING.md");
    fs::write(&md, "# Testing\n<!-- matrix:begin fleet=lab -->\nold\n").unwrap();
    let err = regenerate(&fixture("results.json"), &[], &orchestrator(), &md).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "failed to regenerate {}:2: `<!-- matrix:begin fleet=lab -->` has no matching \
             `<!-- matrix:end fleet=lab -->`",
            md.display()
        )
    );
    assert_eq!(
        fs::read_to_string(&md).unwrap(),
        "# Testing\n<!-- matrix:begin fleet=lab -->\nold\n"
    );
    fs::remove_dir_all(&dir).unwrap();
}

/// Refusal of `text` as results, with the message after the file name.
fn refuse(text: &str) -> String {
    let err = results::parse(Path::new("reports/x/results.json"), text).unwrap_err();
    err.to_string()
        .strip_prefix("failed to parse results reports/x/results.json: ")
        .unwrap_or_else(|| panic!("{err}"))
        .to_owned()
}

/// The recorded results with `edit` applied to its JSON.
fn edited(edit: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut v: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(fixture("results.json")).unwrap()).unwrap();
    edit(&mut v);
    v.to_string()
}

#[test]
fn refuses_results_naming_the_file_and_the_fault() {
    assert_eq!(
        refuse("{\n  \"run_id\": 3\n}"),
        "invalid type: integer `3`, expected a string at line 2 column 13"
    );
    assert_eq!(refuse("{}"), "missing field `run_id` at line 1 column 2");
    assert_eq!(
        refuse(&edited(|v| v["cases"][1]["outcome"] = "passed".into()))
            .split(" at line")
            .next()
            .unwrap(),
        "unknown variant `passed`, expected one of `pass`, `fail`, `error`, `skipped`"
    );
    assert_eq!(
        refuse(&edited(|v| v["cases"][1]["iteration"] = 3.into())),
        "case L1::lab-chain::present has iteration 3 outside 1..=2"
    );
    assert_eq!(
        refuse(&edited(|v| v["cases"][1]["node"] = "lab-999".into())),
        "case L1::lab-chain::present ran on node \"lab-999\", which is not in nodes"
    );
    assert_eq!(
        refuse(&edited(|v| v["iterations"] = 0.into())),
        "iterations is 0"
    );
    assert_eq!(
        refuse(&edited(|v| v["fleet"] = "lab -->".into())),
        "fleet \"lab -->\" must be letters, digits, - and _ (it names a TESTING.md block)"
    );
    assert_eq!(
        refuse(&edited(
            |v| v["not_applicable"][0]["state"] = "reinstal".into()
        ))
        .split(" at line")
        .next()
        .unwrap(),
        "unknown variant `reinstal`, expected one of `present`, `valid`, `rpc`, `ui`, `stop`, `start`, `restart`, `reinstall`, `uninstalled-clean`, `update`, `required-stack`, `reboot`, `daemon-restart`, `stopped-survives`, `journey`, `api-contract`, `chaos`, `perf`"
    );
    let err = regenerate(
        &fixture("missing.json"),
        &[],
        &orchestrator(),
        Path::new("/nonexistent/TESTING.md"),
    )
    .unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "failed to read {}: ",
            fixture("missing.json").display()
        )),
        "{err}"
    );
}

/// A run of `nodes` x `iterations` over the five lab apps where every case has `outcome`,
/// except `(app, check, node)` triples in `odd`, which get `odd_outcome`.
fn synthetic(
    iterations: u32,
    nodes: &[&str],
    odd: &[(&str, &str, &str)],
    odd_outcome: &str,
) -> Results {
    let apps = [
        "lab-chain",
        "lab-wallet",
        "lab-index",
        "lab-explorer",
        "lab-chain-ui",
    ];
    let mut cases = vec![serde_json::json!({
        "name": "L0::workspace::cargo-test", "layer": "L0", "app": "workspace",
        "check": "cargo-test", "node": "local", "iteration": 1, "outcome": "pass",
        "message": "40 passed, 0 failed, 0 ignored", "duration_ms": 1000,
        "started_at": "2026-11-29T09:30:00Z"
    })];
    for it in 1..=iterations {
        for node in nodes {
            let node_case =
                std::iter::once((crate::plan::NODE_APP, crate::model::Check::ApiContract));
            let per_app = apps
                .into_iter()
                .flat_map(|app| crate::model::Check::columns().map(move |s| (app, s)));
            for (app, check) in per_app.chain(node_case) {
                {
                    let outcome = if odd.contains(&(app, check.as_str(), node)) {
                        odd_outcome
                    } else {
                        "pass"
                    };
                    cases.push(serde_json::json!({
                        "name": format!("{}::{app}::{check}", check.layer()), "layer": check.layer().to_string(),
                        "app": app, "check": check.as_str(), "node": node, "iteration": it,
                        "outcome": outcome, "message": "", "duration_ms": 10,
                        "started_at": "2026-11-29T09:31:00Z"
                    }));
                }
            }
        }
    }
    let verdict = if odd.is_empty() { "passed" } else { "failed" };
    let v = serde_json::json!({
        "run_id": "r1", "command": "gate", "fleet": "lab", "started_at": "2026-11-29T09:30:00Z",
        "finished_at": "2026-11-29T09:41:12Z",
        "iterations": iterations, "nodes": nodes, "required_layers": ["L0", "L1", "L2", "L3"],
        "apps": apps, "not_applicable": [], "cases": cases,
        "totals": {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}, "verdict": verdict
    });
    results::parse(Path::new("r.json"), &v.to_string()).unwrap()
}

/// The box lines of one `### <title>` section of a rendered block.
fn boxes(md: &str, title: &str) -> Vec<String> {
    md.split("\n### ")
        .find(|s| s.starts_with(&format!("{title}\n")))
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("- ["))
        .map(str::to_owned)
        .collect()
}

/// The coverage section of a rendered block (the matrix and its node-level row).
fn coverage(md: &str) -> &str {
    md.split("\n### ")
        .find(|s| s.starts_with("Coverage: apps x checks\n"))
        .unwrap_or_default()
}

/// The release-gate lines of a rendered block.
fn gate_lines(md: &str) -> Vec<String> {
    boxes(md, "Release gate")
}

#[test]
fn a_green_gate_over_both_nodes_ticks_every_box_and_fills_every_cell() {
    let md = render(
        &synthetic(20, &["lab-228", "lab-198"], &[], "pass"),
        &loc(),
        "",
    );
    assert_eq!(
        gate_lines(&md),
        [
            "- [x] 20 iterations: this run had 20",
            "- [x] both nodes: results from lab-228, lab-198",
            "- [x] required layers green: L0, L1, L2, L3 all passed",
            "- [x] no failures: 0 failed",
            "- [x] no errors: 0 errors (allowed only from hardware or the network, each explained)",
            "- [x] every applicable cell ●: 71 of 71",
            "- [x] verdict passed: passed",
        ]
    );
    assert_eq!(coverage(&md).matches(" ● |").count(), 71);
    assert!(
        md.contains("| L3 | lifecycle survival | yes | 2000 | 2000 | 0 | 0 | 0 | passed |  |"),
        "{md}"
    );
}

#[test]
fn a_legacy_node_fails_exactly_its_daemon_restart_cells() {
    let odd: Vec<(&str, &str, &str)> = [
        "lab-chain",
        "lab-wallet",
        "lab-index",
        "lab-explorer",
        "lab-chain-ui",
    ]
    .into_iter()
    .map(|app| (app, "daemon-restart", "lab-198"))
    .collect();
    let md = render(
        &synthetic(20, &["lab-228", "lab-198"], &odd, "fail"),
        &loc(),
        "",
    );
    assert_eq!(coverage(&md).matches(" ● |").count(), 66);
    assert_eq!(coverage(&md).matches(" ◐ 20/40 |").count(), 5);
    assert!(
        md.contains("| `L3::lab-index::daemon-restart` | lab-198 | fail | 20 of 20: 1-20 |  |"),
        "{md}"
    );
    assert_eq!(
        gate_lines(&md)[2],
        "- [ ] required layers green: L3 100 failed"
    );
    assert_eq!(gate_lines(&md)[3], "- [ ] no failures: 100 failed");
}

#[test]
fn a_one_node_run_shows_the_node_and_leaves_both_nodes_unticked() {
    let mut r = synthetic(20, &["lab-228"], &[], "pass");
    r.nodes.push(crate::model::NodeName("lab-198".into()));
    let md = render(&r, &loc(), "");
    assert_eq!(coverage(&md).matches(" ◐ lab-228 only |").count(), 71);
    assert_eq!(gate_lines(&md)[1], "- [ ] both nodes: results from lab-228");
    assert_eq!(gate_lines(&md)[5], "- [ ] every applicable cell ●: 0 of 71");
}

#[test]
fn the_committed_testing_md_has_one_lab_block_and_keeps_its_intro() {
    let path = crate::workspace::source_root().join("TESTING.md");
    let text = fs::read_to_string(path).unwrap();
    assert_eq!(markers::check(&text, "lab"), Ok(()));
    assert!(text.contains("<!-- matrix:begin fleet=lab -->"));
    let intro = &text[..text.find("<!-- matrix:begin fleet=lab -->").unwrap()];
    assert_eq!(
        render(&recorded(), &loc(), &text),
        format!("{intro}{}", golden())
    );
}

#[test]
fn a_rerun_says_in_its_block_that_it_is_not_a_full_gate() {
    let mut r = synthetic(20, &["lab-228", "lab-198"], &[], "pass");
    r.rerun_of = Some("20261129T093000Z-1a2b".into());
    let md = render(&r, &loc(), "");
    assert!(
        md.contains(
            "> **rerun of 20261129T093000Z-1a2b: not a full gate.** Only the cases that did not pass in `20261129T093000Z-1a2b` ran; it can never stand in for a gate.\n"
        ),
        "{md}"
    );
    assert!(
        md.contains("| rerun | rerun of 20261129T093000Z-1a2b: not a full gate |"),
        "{md}"
    );
    assert_eq!(
        gate_lines(&md)[0],
        "- [ ] full gate: rerun of 20261129T093000Z-1a2b: not a full gate"
    );
    // Regenerating from the same rerun changes nothing.
    assert_eq!(render(&r, &loc(), &md), md);
}

#[test]
fn a_cancelled_run_never_ticks_the_verdict() {
    let mut r = synthetic(20, &["lab-228", "lab-198"], &[], "pass");
    r.verdict = crate::reporter::Verdict::Cancelled;
    let md = render(&r, &loc(), "");
    assert!(md.contains("| verdict | cancelled |"), "{md}");
    assert_eq!(gate_lines(&md)[6], "- [ ] verdict passed: cancelled");
}

#[test]
fn a_green_release_gate_ticks_every_box_a_run_can_prove() {
    let mut r = synthetic(20, &["node-228", "node-198"], &[], "pass");
    r.fleet = "release".into();
    let md = render(&r, &loc(), "");
    assert_eq!(
        boxes(&md, "Release-gate checklist"),
        [
            "- [x] 20× gate returns 0 against node-228: 1420 cases passed over 20 iterations",
            "- [x] 20× gate returns 0 against node-198: 1420 cases passed over 20 iterations",
            "- [x] the backend survives a daemon restart (the L3 backend-survives-restart cells): \
             every daemon-restart cell ● (5 of 5)",
            "- [x] all tests green: L0 `cargo test --workspace` passed (40 passed, 0 failed, 0 \
             ignored)",
            "- [ ] 0 warnings, 0 unused (`cargo clippy --all-targets -- -D warnings`): not recorded \
             in results.json (`scripts/test.sh` and CI run it)",
            "- [ ] LoC within budget: `orchestrator/src/api/` over by 5; `orchestrator/src/lib.rs` \
             has no target",
            "- [ ] the bitcoin-stops fix verified live on a fresh node (bitcoin-knots is not in \
             this run)",
            "- [ ] a layman-readable changelog",
            "- [ ] the tag pushed to origin, gitea-local and gitea-vps2",
        ]
    );
    assert!(
        md.contains("**Done: 71 of 71 cells.** Goal: 71/71 ●.\n"),
        "{md}"
    );
    assert!(
        md.contains("| L3 lifecycle survival | 50 | lab-chain, lab-wallet, lab-index, lab-explorer, lab-chain-ui | ● green |"),
        "{md}"
    );
}

#[test]
fn a_release_node_with_a_failure_or_a_short_run_is_not_ticked() {
    let odd = [("lab-index", "daemon-restart", "node-198")];
    let mut r = synthetic(20, &["node-228", "node-198"], &odd, "fail");
    r.fleet = "release".into();
    let md = render(&r, &loc(), "");
    let lines = boxes(&md, "Release-gate checklist");
    assert_eq!(
        lines[0],
        "- [ ] 20× gate returns 0 against node-228: the run's verdict is failed"
    );
    assert_eq!(
        lines[1],
        "- [ ] 20× gate returns 0 against node-198: 20 of 1420 cases did not pass"
    );
    assert_eq!(
        lines[2],
        "- [ ] the backend survives a daemon restart (the L3 backend-survives-restart cells): 4 of \
         5 daemon-restart cells ●"
    );
    let mut short = synthetic(2, &["node-228"], &[], "pass");
    short.fleet = "release".into();
    assert_eq!(
        boxes(&render(&short, &loc(), ""), "Release-gate checklist")[0],
        "- [ ] 20× gate returns 0 against node-228: 2 iterations, not 20"
    );
}

#[test]
fn the_orchestrators_own_budget_gives_every_module_a_target() {
    let dir = crate::workspace::source_root().join("orchestrator");
    let loc = crate::matrix::count_loc(&dir).unwrap();
    let untargeted: Vec<&str> = loc
        .modules
        .iter()
        .filter(|m| m.target.is_none())
        .map(|m| m.path.as_str())
        .collect();
    assert_eq!(
        untargeted,
        Vec::<&str>::new(),
        "add them to orchestrator/loc-budget.toml"
    );
    assert!(loc.total_target.is_some());
    assert!(loc.total() > 1000, "{loc:?}");
}

/// An L4 pass: one journey per app on each node, each outcome as given per (app, node).
fn journeys(iterations: u32, outcomes: &[(&str, &str, &str, &str)]) -> Results {
    let mut cases = Vec::new();
    for it in 1..=iterations {
        for (app, node, outcome, message) in outcomes {
            cases.push(serde_json::json!({
                "name": format!("L4::{app}::journey"), "layer": "L4", "app": app,
                "check": "journey", "node": node, "iteration": it,
                "outcome": if it == 1 { *outcome } else { "pass" },
                "message": if it == 1 { *message } else { "" }, "duration_ms": 10,
                "started_at": "2026-11-29T10:31:00Z"
            }));
        }
    }
    let v = serde_json::json!({
        "run_id": "l4", "command": "gate", "fleet": "lab", "started_at": "2026-11-29T10:30:00Z",
        "finished_at": "2026-11-29T10:33:00Z", "iterations": iterations,
        "nodes": ["lab-228", "lab-198"], "required_layers": ["L4"], "apps": ["lab-chain"],
        "not_applicable": [], "cases": cases,
        "totals": {"passed": 0, "failed": 0, "errors": 0, "skipped": 0}, "verdict": "failed"
    });
    results::parse(Path::new("l4.json"), &v.to_string()).unwrap()
}

/// The text of one `### <title>` section of a rendered block.
fn section<'a>(md: &'a str, title: &str) -> &'a str {
    md.split("\n### ")
        .find(|s| s.starts_with(&format!("{title}\n")))
        .unwrap_or_default()
}

#[test]
fn the_journey_section_comes_from_the_pass_that_ran_l4() {
    let gate = synthetic(2, &["lab-228", "lab-198"], &[], "pass");
    let l4 = journeys(
        3,
        &[
            ("lab-chain", "lab-228", "pass", ""),
            ("lab-chain", "lab-198", "pass", ""),
            ("lab-wallet", "lab-228", "pass", ""),
            (
                "lab-wallet",
                "lab-198",
                "fail",
                "step 7 (stop from the dashboard): a | b",
            ),
        ],
    );
    let md = crate::matrix::render_with(&gate, &[l4], &[], &loc(), "");
    assert_eq!(
        section(&md, "L4 browser journeys: apps x nodes"),
        "L4 browser journeys: apps x nodes\n\n\
         From run `l4` (3 iterations per node), in real Chromium: each app's `[[journey]]` through \
         the dashboard and its own page; every page free of console errors, failed loads and \
         assets from outside the app's prefix.\n\n\
         | app | lab-228 | lab-198 | first failure |\n\
         |---|:-:|:-:|---|\n\
         | lab-chain | ● | ● | — |\n\
         | lab-wallet | ● | ◐ 2/3 | lab-198 it. 1: step 7 (stop from the dashboard): a \\| b |\n"
    );
    assert!(
        section(&md, "Layer-by-layer status").contains("| L4 browser journeys | 2 | `suites/<catalog>/<app>.toml` `[[journey]]` | ◐ 11 of 12 runs passed |"),
        "{md}"
    );
    // The gate alone ran no journey: the section says how to run them.
    let md = render(&gate, &loc(), "");
    assert!(
        section(&md, "L4 browser journeys: apps x nodes")
            .contains("○ Not run in `r1`: `harness gate --layer L4 --required L4` runs it."),
        "{md}"
    );
}
