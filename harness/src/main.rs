//! `harness`: the command line. Only here do errors become messages and exit codes.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use clap::Parser;
use harness::{
    chaos::load_scenarios,
    error::Error,
    exit,
    fleet::{FleetFile, Redactor, find_fleet_file},
    model::{AppId, Layer, OutcomeKind},
    perf::load_kpis,
    plan::{Rerun, Selection, plan, with_chaos_and_perf},
    reporter::{Console, Output, Reporter, Results, Timestamp, Verdict},
    runner::{Cancel, RunSpec, run},
    suite::load_catalog,
};

use harness::cli::{Cli, Command, MessageFormat, SelectArgs};

fn main() {
    let cli = Cli::parse();
    let code = match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("harness: {e}");
            e.exit_code()
        }
    };
    std::process::exit(code);
}

fn run_id() -> String {
    let now = SystemTime::now();
    let stamp = Timestamp::from(now).to_string().replace(['-', ':'], "");
    let nanos = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{stamp}-{:04x}", (nanos ^ std::process::id()) & 0xffff)
}

fn fleet_path(cli: &Cli) -> Result<PathBuf, Error> {
    match &cli.fleet_file {
        Some(p) => Ok(p.clone()),
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| Error::Usage(format!("failed to read the current directory: {e}")))?;
            find_fleet_file(&cwd).ok_or_else(|| {
                Error::Usage(
                    "no fleet.toml in this directory or any parent (use --fleet-file)".into(),
                )
            })
        }
    }
}

struct Job {
    command: &'static str,
    apps: Vec<String>,
    filter: Option<String>,
    iterations: u32,
    required: Option<Vec<Layer>>,
    select: SelectArgs,
    list_only: bool,
}

fn real_main(cli: Cli) -> Result<i32, Error> {
    let job = match &cli.command {
        Command::Lab(cmd) => return Ok(harness::lab::run(cmd)?),
        Command::Matrix(m) => {
            let root = harness::workspace::root_of(&fleet_path(&cli)?);
            let results = m
                .results
                .clone()
                .unwrap_or_else(|| root.join("reports/latest/results.json"));
            let output = m.output.clone().unwrap_or_else(|| root.join("TESTING.md"));
            let changed = harness::matrix::regenerate(
                &results,
                &m.extra_results,
                &root.join("orchestrator"),
                &output,
            )?;
            println!(
                "{} {}",
                output.display(),
                if changed { "regenerated" } else { "unchanged" }
            );
            return Ok(exit::PASSED);
        }
        Command::Run(a) => {
            if a.apps.is_empty() && !a.select.rerun_failed {
                return Err(Error::Usage(
                    "harness run needs at least one app (harness list shows them)".into(),
                ));
            }
            Job {
                command: "run",
                apps: a.apps.clone(),
                filter: a.filter.clone(),
                iterations: a.iterations,
                required: None,
                select: a.select.clone(),
                list_only: a.select.list,
            }
        }
        Command::List(l) => Job {
            command: "list",
            apps: l.run.apps.clone(),
            filter: l.run.filter.clone(),
            iterations: l.run.iterations,
            required: None,
            select: l.run.select.clone(),
            list_only: true,
        },
        Command::Gate(g) => Job {
            command: "gate",
            apps: Vec::new(),
            filter: g.filter.clone(),
            iterations: g.iterations,
            required: Some(g.required.clone()),
            select: g.select.clone(),
            list_only: g.select.list,
        },
    };
    let fleet_file = FleetFile::load(&fleet_path(&cli)?)?;
    let root = harness::workspace::root_of(&fleet_file.path);
    let reports = job
        .select
        .reports
        .clone()
        .unwrap_or_else(|| root.join("reports"));
    let rerun = if job.select.rerun_failed {
        Some(Rerun::of(&previous_results(&reports)?)?)
    } else {
        None
    };
    let fleet_name = match (&rerun, job.select.fleet.as_deref()) {
        (Some(r), Some(named)) if named != r.fleet => {
            return Err(Error::Usage(format!(
                "--rerun-failed reruns run {} of fleet {}, not fleet {named}",
                r.of, r.fleet
            )));
        }
        (Some(r), _) => Some(r.fleet.as_str()),
        (None, named) => named,
    };
    let fleet = fleet_file.select(fleet_name)?.clone();
    let node_names = match &rerun {
        Some(r) => r.nodes.iter().map(|n| n.0.clone()).collect(),
        None => job.select.node.clone(),
    };
    let nodes = fleet.select_nodes(&node_names)?;
    let suites_dir = cli.suites.clone().unwrap_or_else(|| root.join("suites"));
    let suites = load_catalog(&suites_dir, &fleet.catalog)?;
    let selection = match &rerun {
        Some(r) => r.selection.clone(),
        None => {
            let apps = job
                .apps
                .iter()
                .map(|a| AppId::new(a).map_err(|e| Error::Usage(e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let mut layers = job.select.layer.clone();
            if job.command != "gate" && layers.is_empty() {
                // L0 is the workspace's unit tests: a gate runs them, a one-app run does not.
                layers = vec![Layer::L1, Layer::L2, Layer::L3];
            }
            Selection {
                apps,
                layers,
                filter: libtest_mimic::Arguments {
                    filter: job.filter.clone(),
                    exact: job.select.exact,
                    skip: job.select.skip.clone(),
                    list: job.list_only,
                    ..Default::default()
                },
                only: None,
            }
        }
    };
    let apps: Vec<AppId> = suites.iter().map(|s| s.app.clone()).collect();
    let scenarios = load_scenarios(&suites_dir, &fleet.catalog, &apps)?;
    let kpis = load_kpis(&suites_dir, &fleet.catalog, &apps)?;
    let plan = with_chaos_and_perf(
        plan(&suites, &selection)?,
        &suites,
        &scenarios,
        &kpis,
        &selection,
    )?;
    if job.list_only {
        print!("{}", plan.list());
        if matches!(&cli.command, Command::List(l) if l.urls) {
            print!("{}", plan.ui_urls(&suites));
        }
        return Ok(exit::PASSED);
    }
    let redactor = Redactor::default();
    let password = fleet.password.resolve()?;
    redactor.register(&password);
    let (iterations, required) = match &rerun {
        Some(r) => (r.iterations, r.required_layers.clone()),
        None => (
            job.iterations.max(1),
            job.required.unwrap_or_else(|| selection.layers()),
        ),
    };
    let run_id = run_id();
    let regress_pct: BTreeMap<String, u32> = kpis
        .iter()
        .map(|k| (k.name.clone(), k.regress_pct))
        .collect();
    let spec = RunSpec {
        run_id: run_id.clone(),
        command: job.command.to_owned(),
        rerun_of: rerun.map(|r| r.of),
        fleet,
        nodes,
        password,
        plan,
        suites: suites
            .into_iter()
            .map(|s| (s.app.clone(), s))
            .collect::<BTreeMap<_, _>>(),
        chaos: scenarios.into_iter().map(|s| (s.name.clone(), s)).collect(),
        kpis: kpis.into_iter().map(|k| (k.name.clone(), k)).collect(),
        iterations,
        required,
        case_timeout: Duration::from_secs(job.select.timeout),
        artifacts: reports.join(&run_id).join("artifacts"),
        workspace_root: root.clone(),
        ssh_sessions: 4,
        redactor: redactor.clone(),
        cancel: Cancel::default(),
    };
    let output = match job.select.message_format {
        MessageFormat::Human => Output::Human(Console::stdout(redactor.clone())),
        MessageFormat::Json => Output::Json(Box::new(std::io::stdout())),
    };
    let code = execute(
        spec,
        Reporter::new(output, redactor.clone()).with_reports(&reports),
        &redactor,
    )?;
    if !regress_pct.is_empty() {
        record_perf(&reports, &run_id, &root, &regress_pct)?;
    }
    Ok(code)
}

/// Appends this run's L6 cells to `reports/perf-history.jsonl`, each compared with its last
/// green run, and prints each cell's trend; a regressed cell is printed as such (it does not
/// change the exit code: pass/fail is the budget's).
fn record_perf(
    reports: &Path,
    run_id: &str,
    root: &Path,
    regress_pct: &BTreeMap<String, u32>,
) -> Result<(), Error> {
    let path = reports.join(run_id).join("results.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(());
    };
    let results = Results::from_json(&text)
        .map_err(|e| Error::Usage(format!("failed to parse {}: {e}", path.display())))?;
    let history = reports.join(harness::perf::HISTORY_FILE);
    let earlier = harness::perf::read(&history).map_err(Error::Usage)?;
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map_or_else(
            || "unknown".to_owned(),
            |o| String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        );
    let mut records = Vec::new();
    for c in results
        .cases
        .iter()
        .filter(|c| c.case.name.layer == Layer::L6)
    {
        let Some(m) = harness::perf::Measured::from_message(&c.message) else {
            continue;
        };
        let pct = regress_pct.get(&c.case.name.check).copied().unwrap_or(25);
        let r = harness::perf::Record::new(
            run_id,
            &commit,
            &c.case.node.0,
            &c.case.name.to_string(),
            m,
            pct,
            &earlier,
        );
        println!("perf: {} on {}: {}", r.case, r.node, r.trend());
        records.push(r);
    }
    let regressed: Vec<_> = records.iter().filter(|r| r.regressed).collect();
    if !regressed.is_empty() {
        println!(
            "perf: {} regressed cell(s) (not a failure; see {})",
            regressed.len(),
            history.display()
        );
    }
    harness::perf::append(&history, &records).map_err(Error::Usage)
}

/// `reports/latest/results.json`, which `--rerun-failed` reruns the failures of.
fn previous_results(reports: &Path) -> Result<Results, Error> {
    let path = reports.join("latest/results.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::Usage(format!(
            "--rerun-failed needs a previous run: failed to read {}: {e}",
            path.display()
        ))
    })?;
    Results::from_json(&text).map_err(|e| {
        Error::Usage(format!(
            "--rerun-failed: failed to parse {}: {e}",
            path.display()
        ))
    })
}

/// The next stop signal's reason; pending forever when neither could be installed.
async fn stop_signal(
    interrupt: &mut Option<tokio::signal::unix::Signal>,
    terminate: &mut Option<tokio::signal::unix::Signal>,
) -> &'static str {
    async fn next(s: &mut Option<tokio::signal::unix::Signal>) -> Option<()> {
        match s {
            Some(s) => s.recv().await,
            None => std::future::pending().await,
        }
    }
    tokio::select! {
        Some(()) = next(interrupt) => "interrupted (Ctrl-C)",
        Some(()) = next(terminate) => "terminated (SIGTERM)",
        else => std::future::pending().await,
    }
}

/// Runs the plan through the reporter, then writes the reports. The first Ctrl-C or SIGTERM stops
/// starting cases (the running ones finish, and the node's browser is closed); a second stops
/// waiting for them.
fn execute(spec: RunSpec, mut reporter: Reporter, redactor: &Redactor) -> Result<i32, Error> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| Error::Io {
        path: "tokio runtime".into(),
        source: e,
    })?;
    let cancel = spec.cancel.clone();
    let mut report_error: Option<Error> = None;
    rt.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).ok();
        let mut terminate = signal(SignalKind::terminate()).ok();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let runner = tokio::spawn(run(spec, tx));
        let mut take = |ev: &_| {
            if let Err(e) = reporter.report_event(ev)
                && report_error.is_none()
            {
                eprintln!("harness: {e}");
                report_error = Some(e);
            }
        };
        loop {
            tokio::select! {
                ev = rx.recv() => match ev {
                    Some(ev) => take(&ev),
                    None => break,
                },
                why = stop_signal(&mut interrupt, &mut terminate) => {
                    if cancel.is_cancelled() {
                        eprintln!("harness: interrupted again: not waiting for the running cases");
                        runner.abort();
                        while let Ok(ev) = rx.try_recv() {
                            take(&ev);
                        }
                        return;
                    }
                    cancel.cancel(why);
                }
            }
        }
        let _ = runner.await;
    });
    // A case abandoned by a second Ctrl-C may hold a blocking SSH thread: do not wait for it.
    rt.shutdown_background();
    let finished = reporter.finish()?;
    let results = &finished.results;
    if results.verdict == Verdict::InfrastructureError {
        let mut by_node: BTreeMap<&str, &str> = BTreeMap::new();
        for c in results
            .cases
            .iter()
            .filter(|c| c.outcome == OutcomeKind::Error)
        {
            by_node.entry(c.case.node.as_str()).or_insert(&c.message);
        }
        for (node, why) in by_node {
            eprintln!(
                "harness: infrastructure error on {node}: {}",
                redactor.redact(why)
            );
        }
    }
    match report_error {
        Some(e) if results.verdict == Verdict::Passed => Err(e),
        _ => Ok(finished.exit_code()),
    }
}
