//! The command line (clap): run, gate, list, matrix, lab.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::{lab::LabCommand, model::Layer};

/// The iterations of a full release gate: `harness gate`'s default, and what the matrix's
/// gate checklist asks a run to have had (`.ci/run` keeps its own shell default).
pub const GATE_ITERATIONS: u32 = 20;

/// Lifecycle test runner for the node OS's containers.
#[derive(Debug, Parser)]
#[command(name = "harness", version)]
pub struct Cli {
    /// The fleet file (default: fleet.toml in the current directory or the nearest parent).
    #[arg(long, global = true)]
    pub fleet_file: Option<PathBuf>,
    /// The suites directory (default: suites/ next to the fleet file).
    #[arg(long, global = true)]
    pub suites: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one or more apps' suites.
    Run(RunArgs),
    /// The release gate: every app, N iterations, required layers must pass everywhere.
    Gate(GateArgs),
    /// List the cases a run would execute.
    List(ListArgs),
    /// Regenerate TESTING.md from results.json.
    Matrix(MatrixArgs),
    /// Manage the lab fleet.
    #[command(subcommand)]
    Lab(LabCommand),
}

/// Selection shared by run, gate and list.
#[derive(Debug, Clone, Args)]
pub struct SelectArgs {
    /// Layers to run, e.g. `L1,L3` (default L0-L3; L0 only runs in `gate`).
    #[arg(long, value_delimiter = ',')]
    pub layer: Vec<Layer>,
    /// Nodes to run on (default: every node of the fleet).
    #[arg(long, value_delimiter = ',')]
    pub node: Vec<String>,
    /// The fleet (default: the file's default, `lab`; `release` only when named).
    #[arg(long)]
    pub fleet: Option<String>,
    /// Match the filter exactly (as `cargo test -- --exact`).
    #[arg(long)]
    pub exact: bool,
    /// Skip cases whose name contains this (repeatable; exact with --exact).
    #[arg(long)]
    pub skip: Vec<String>,
    /// Only list the cases.
    #[arg(long)]
    pub list: bool,
    /// Per-case timeout in seconds.
    #[arg(long, default_value_t = 600)]
    pub timeout: u64,
    /// Where reports go (default: reports/ next to the fleet file).
    #[arg(long)]
    pub reports: Option<PathBuf>,
    /// Run only the cases that did not pass in reports/latest, on its fleet and nodes, for its
    /// iterations; the run is marked a rerun, never a full gate.
    #[arg(long, conflicts_with_all = ["layer", "node", "exact", "skip"])]
    pub rerun_failed: bool,
    /// How the run is shown on stdout: `human` (console) or `json` (the events.jsonl lines).
    #[arg(long, value_enum, default_value_t = MessageFormat::Human)]
    pub message_format: MessageFormat,
}

/// `--message-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MessageFormat {
    /// The console: progress bars on a terminal, a line per case otherwise.
    Human,
    /// One JSON object per event and line, as in `reports/<run-id>/events.jsonl`.
    Json,
}

/// `harness run` / `harness list`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Apps whose suites run (`list`: default all).
    #[arg(conflicts_with = "rerun_failed")]
    pub apps: Vec<String>,
    /// Case-name filter (substring, or exact with --exact).
    #[arg(long, conflicts_with = "rerun_failed")]
    pub filter: Option<String>,
    /// Iterations.
    #[arg(long, default_value_t = 1, conflicts_with = "rerun_failed")]
    pub iterations: u32,
    /// The selection.
    #[command(flatten)]
    pub select: SelectArgs,
}

/// `harness list`.
#[derive(Debug, Clone, Args)]
pub struct ListArgs {
    /// Also list each UI case's URLs (the ones its probes open), after the cases.
    #[arg(long)]
    pub urls: bool,
    /// What a run of these arguments would execute.
    #[command(flatten)]
    pub run: RunArgs,
}

/// `harness gate`.
#[derive(Debug, Clone, Args)]
pub struct GateArgs {
    /// Case-name filter (substring, or exact with --exact).
    #[arg(conflicts_with = "rerun_failed")]
    pub filter: Option<String>,
    /// Iterations.
    #[arg(long, default_value_t = GATE_ITERATIONS, conflicts_with = "rerun_failed")]
    pub iterations: u32,
    /// Layers that must pass on every node in every iteration.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "L0,L1,L2,L3",
        conflicts_with = "rerun_failed"
    )]
    pub required: Vec<Layer>,
    /// The selection.
    #[command(flatten)]
    pub select: SelectArgs,
}

/// `harness matrix`.
#[derive(Debug, Clone, Args)]
pub struct MatrixArgs {
    /// results.json to read (default: reports/latest/results.json).
    #[arg(long)]
    pub results: Option<PathBuf>,
    /// results.json of a separate pass (`gate --layer L4`, `gate --layer L5,L6`), repeatable:
    /// each of the L4, L5 and L6 sections comes from the first that ran its layer, else from
    /// `--results`.
    #[arg(long)]
    pub extra_results: Vec<PathBuf>,
    /// TESTING.md to write (default: TESTING.md next to the fleet file).
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("harness").chain(args.iter().copied()))
    }

    #[test]
    fn rerun_failed_and_message_format_parse_on_run_and_gate() {
        let Command::Gate(g) = parse(&["gate", "--rerun-failed", "--message-format", "json"])
            .unwrap()
            .command
        else {
            panic!("not gate");
        };
        assert!(g.select.rerun_failed);
        assert_eq!(g.select.message_format, MessageFormat::Json);
        let Command::Run(r) = parse(&["run", "--rerun-failed"]).unwrap().command else {
            panic!("not run");
        };
        assert!(r.select.rerun_failed && r.apps.is_empty());
        assert_eq!(r.select.message_format, MessageFormat::Human);
    }

    #[test]
    fn rerun_failed_refuses_what_it_takes_from_the_previous_run() {
        for args in [
            &["gate", "--rerun-failed", "--iterations", "3"][..],
            &["gate", "--rerun-failed", "restart"],
            &["gate", "--rerun-failed", "--required", "L1"],
            &["gate", "--rerun-failed", "--node", "lab-228"],
            &["gate", "--rerun-failed", "--layer", "L3"],
            &["run", "--rerun-failed", "lab-chain"],
            &["run", "--rerun-failed", "--filter", "stop"],
        ] {
            let err = parse(args).unwrap_err();
            assert_eq!(
                err.kind(),
                clap::error::ErrorKind::ArgumentConflict,
                "{args:?}"
            );
        }
    }

    #[test]
    fn gate_defaults_to_the_gate_iterations_and_lab_help_and_errors_name_the_nodes() {
        let Command::Gate(g) = parse(&["gate"]).unwrap().command else {
            panic!("not gate");
        };
        assert_eq!(g.iterations, GATE_ITERATIONS);
        let mut cmd = <Cli as clap::CommandFactory>::command();
        let lab = cmd.find_subcommand_mut("lab").unwrap();
        for sub in ["stop", "backend", "failpoints"] {
            let node = lab
                .find_subcommand_mut(sub)
                .unwrap()
                .get_arguments()
                .find(|a| a.get_id() == "node")
                .unwrap();
            assert_eq!(
                node.get_help().unwrap().to_string(),
                "The node (`lab-228`, `lab-198`)",
                "{sub}"
            );
        }
        let e = crate::lab::LabError::UnknownNode { name: "x".into() };
        assert_eq!(
            e.to_string(),
            "unknown lab node \"x\" (known: lab-228, lab-198)"
        );
    }
}
