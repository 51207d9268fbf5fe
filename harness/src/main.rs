//! `harness`: the command line. Only here do errors become messages and exit codes.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use clap::Parser;
use harness::{
    error::Error,
    exit,
    fleet::{FleetFile, Redactor, find_fleet_file},
    model::{AppId, Layer},
    plan::{Selection, plan},
    reporter::{Console, Results, render_table, write_reports},
    runner::{RunSpec, run},
    suite::load_catalog,
};

use harness::cli::{Cli, Command, SelectArgs};

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
    let stamp = harness::reporter::rfc3339(now).replace(['-', ':'], "");
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
            let root = fleet_path(&cli)?
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_default();
            let results = m
                .results
                .clone()
                .unwrap_or_else(|| root.join("reports/latest/results.json"));
            let output = m.output.clone().unwrap_or_else(|| root.join("TESTING.md"));
            let changed = harness::matrix::regenerate(&results, &output)?;
            println!(
                "{} {}",
                output.display(),
                if changed { "regenerated" } else { "unchanged" }
            );
            return Ok(exit::PASSED);
        }
        Command::Run(a) => {
            if a.apps.is_empty() {
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
        Command::List(a) => Job {
            command: "list",
            apps: a.apps.clone(),
            filter: a.filter.clone(),
            iterations: a.iterations,
            required: None,
            select: a.select.clone(),
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
    let root = fleet_file
        .path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let fleet = fleet_file.select(job.select.fleet.as_deref())?.clone();
    let nodes = fleet.select_nodes(&job.select.node)?;
    let suites_dir = cli.suites.clone().unwrap_or_else(|| root.join("suites"));
    let suites = load_catalog(&suites_dir, &fleet.catalog)?;
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
    let selection = Selection {
        apps,
        layers,
        filter: libtest_mimic::Arguments {
            filter: job.filter.clone(),
            exact: job.select.exact,
            skip: job.select.skip.clone(),
            list: job.list_only,
            ..Default::default()
        },
    };
    let plan = plan(&suites, &selection)?;
    if job.list_only {
        print!("{}", plan.list());
        return Ok(exit::PASSED);
    }
    let redactor = Redactor::default();
    let password = fleet.password.resolve()?;
    redactor.register(&password);
    let required = job.required.unwrap_or_else(|| selection.layers());
    let spec = RunSpec {
        run_id: run_id(),
        command: job.command.to_owned(),
        fleet,
        nodes,
        password,
        plan,
        suites: suites
            .into_iter()
            .map(|s| (s.app.clone(), s))
            .collect::<BTreeMap<_, _>>(),
        iterations: job.iterations.max(1),
        required,
        case_timeout: Duration::from_secs(job.select.timeout),
        workspace_root: root.clone(),
        ssh_sessions: 4,
        redactor: redactor.clone(),
    };
    let reports = job
        .select
        .reports
        .clone()
        .unwrap_or_else(|| root.join("reports"));
    execute(spec, &reports, redactor)
}

/// Runs the plan, feeding the console and results, then writes the reports.
fn execute(spec: RunSpec, reports: &Path, redactor: Redactor) -> Result<i32, Error> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| Error::Io {
        path: "tokio runtime".into(),
        source: e,
    })?;
    let (results, console) = rt.block_on(async {
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut console = Console::stdout(redactor.clone());
        let mut results = Results::new();
        let runner = tokio::spawn(run(spec, tx));
        while let Some(ev) = rx.recv().await {
            console.event(&ev);
            results.record(&ev, &redactor);
        }
        let _ = runner.await;
        (results, console)
    });
    let mut console = console;
    let dir = write_reports(reports, &results, &redactor)?;
    let mut tail = render_table(&results);
    tail.insert_str(
        0,
        &format!(
            "\nreports: {}\nharness peak memory: {}\n",
            dir.display(),
            peak_memory()
        ),
    );
    let errors: Vec<_> = results
        .cases
        .iter()
        .filter(|c| c.outcome == "error")
        .collect();
    if !errors.is_empty() && results.verdict == harness::reporter::Verdict::InfrastructureError {
        let mut by_node: BTreeMap<&str, &str> = BTreeMap::new();
        for c in &errors {
            by_node.entry(&c.node).or_insert(&c.message);
        }
        for (node, why) in by_node {
            eprintln!(
                "harness: infrastructure error on {node}: {}",
                redactor.redact(why)
            );
        }
    }
    console.finish(&tail);
    Ok(results.verdict.exit_code())
}

/// This process's peak resident memory (`VmHWM`), the figure the 100 MB budget is about.
fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(
            || "unknown".into(),
            |kb| format!("{:.1} MB", kb as f64 / 1024.0),
        )
}
