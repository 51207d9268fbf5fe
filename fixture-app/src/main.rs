//! `fixture-app`: one static binary playing the lab catalog's apps (chain, wallet, index,
//! explorer, chain-ui); `main` parses the command line, waits for SIGTERM/SIGINT and turns
//! errors into messages and exit codes.

mod args;
mod chain;
mod chain_ui;
mod client;
mod error;
mod explorer;
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

use crate::args::{Args, Mode, USAGE};
use crate::error::Error;
use crate::signal::Shutdown;

/// Clean exit, including on SIGTERM and SIGINT.
const EXIT_OK: u8 = 0;
/// The app failed while running.
const EXIT_FAILURE: u8 = 1;
/// The command line was not understood.
const EXIT_USAGE: u8 = 2;

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(&argv, std::env::var("CHAIN_URL").ok().as_deref()) {
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

/// Serves `args.mode` until a signal arrives (`Ok`) or the mode fails.
async fn run(args: Args) -> Result<(), Error> {
    let mut shutdown = Shutdown::install()?;
    let listener = TcpListener::bind((args.bind, args.port))
        .await
        .map_err(|e| Error::io(format!("bind {}:{}", args.bind, args.port), e))?;
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("read the bound address", e))?;
    eprintln!("fixture-app: {} listening on {addr}", args.mode.name());
    let app = async move {
        match args.mode {
            Mode::Chain => {
                return chain::serve(listener, chain::HeightFile::open(&args.data)?).await;
            }
            Mode::Wallet => wallet::serve(listener, args.chain_url).await,
            Mode::Index => index::serve(listener, args.chain_url).await,
            Mode::Explorer => explorer::serve(listener, args.chain_url).await,
            Mode::ChainUi => chain_ui::serve(listener, args.chain_url).await,
        }
        Ok(())
    };
    tokio::select! {
        result = app => result,
        () = shutdown.recv() => Ok(()),
    }
}
