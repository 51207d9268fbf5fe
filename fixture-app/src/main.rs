//! `fixture-app`: one static binary playing the lab catalog's apps (chain, wallet, index,
//! explorer, chain-ui); `main` parses the command line, waits for SIGTERM/SIGINT (or the lab's
//! `exit` fault) and turns errors into messages and exit codes.

mod args;
mod chain;
mod chain_ui;
mod client;
mod error;
mod explorer;
mod fault;
mod html;
mod http;
mod index;
mod rpc;
mod signal;
#[cfg(test)]
mod testutil;
mod wallet;

use std::process::ExitCode;

use tokio::net::TcpListener;

use crate::args::{Args, Env, Mode, USAGE};
use crate::error::Error;
use crate::fault::Faults;
use crate::signal::Shutdown;

/// Clean exit, including on SIGTERM, SIGINT and the lab's `exit` fault.
const EXIT_OK: u8 = 0;
/// The app failed while running.
const EXIT_FAILURE: u8 = 1;
/// The command line was not understood.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let chain_url = std::env::var("CHAIN_URL").ok();
    let version = std::env::var("LAB_APP_VERSION").ok();
    let env = Env {
        chain_url: chain_url.as_deref(),
        version: version.as_deref(),
    };
    let args = match args::parse(&argv, &env) {
        Ok(args) => args,
        Err(e) => {
            eprintln!("fixture-app: {e}\n{USAGE}");
            return ExitCode::from(EXIT_USAGE);
        }
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run(args)),
        Err(e) => Err(Error::io("start the runtime", e)),
    };
    match result {
        Ok(()) => ExitCode::from(EXIT_OK),
        Err(e) => {
            eprintln!("fixture-app: {e}");
            ExitCode::from(EXIT_FAILURE)
        }
    }
}

/// Serves `args.mode` until a signal or the `exit` fault arrives (`Ok`) or the mode fails.
async fn run(args: Args) -> Result<(), Error> {
    let mut shutdown = Shutdown::install()?;
    let listener = TcpListener::bind((args.bind, args.port))
        .await
        .map_err(|e| Error::io(format!("bind {}:{}", args.bind, args.port), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("read the bound address", e))?;
    eprintln!(
        "fixture-app: {} version {} listening on {addr}",
        args.mode.name(),
        args.version
    );
    // Read by every connection for the life of the process.
    let version: &'static str = args.version.leak();
    let faults = Faults::new();
    let app = async move {
        match args.mode {
            Mode::Chain => {
                let file = chain::HeightFile::open(&args.data)?;
                return chain::serve(listener, file, version, faults).await;
            }
            Mode::Index => return index::serve(listener, args.chain_url, version, faults).await,
            Mode::Wallet => wallet::serve(listener, args.chain_url, version, faults).await,
            Mode::Explorer => explorer::serve(listener, args.chain_url, version, faults).await,
            Mode::ChainUi => chain_ui::serve(listener, args.chain_url, version, faults).await,
        }
        Ok(())
    };
    tokio::select! {
        result = app => result,
        () = shutdown.recv() => Ok(()),
    }
}
