//! `harness`: the command line (temporary: lab only, until the engine lands).

use clap::Parser;

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(clap::Subcommand)]
enum Cmd {
    #[command(subcommand)]
    Lab(harness::lab::LabCommand),
}

fn main() {
    let cli = Cli::parse();
    let Cmd::Lab(cmd) = cli.cmd;
    match harness::lab::run(&cmd) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2)
        }
    }
}
