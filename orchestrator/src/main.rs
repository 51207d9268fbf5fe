//! The `orchestrator` binary: reads the config, picks the backend, serves the API and runs the
//! reconcile loop until SIGTERM or SIGINT. Only this file turns errors into messages and exit codes.

use std::io::Read;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use orchestrator::api::{Api, serve};
use orchestrator::auth::{DEFAULT_ITERATIONS, PasswordHash, Sessions};
use orchestrator::backend::{
    Backend, Commands, LegacyBackend, Program, QuadletBackend, SystemExecutor,
};
use orchestrator::config::{Config, DEFAULT_PATH};
use orchestrator::manifest::Catalog;
use orchestrator::ops::Orchestrator;
use orchestrator::quadlet::PodmanVersion;
use orchestrator::{Error, Result};
use orchestrator::{failpoints, log, reconcile_loop, shutdown};

/// Clean exit.
const EXIT_OK: i32 = 0;
/// A runtime failure (cannot listen, podman missing, ...).
const EXIT_FAILURE: i32 = 1;
/// The config file is missing or wrong (sysexits EX_CONFIG).
const EXIT_CONFIG: i32 = 78;

/// Small container orchestrator: renders app manifests into rootless podman Quadlet units and
/// serves a JSON-RPC 2.0 API (POST /rpc), a dashboard (/) and app UIs (/app/<id>/).
#[derive(Parser)]
#[command(name = "orchestrator", version)]
struct Cli {
    /// The config file (TOML: listen, catalog_dir, catalog_override_dir, unit_dir, data_dir,
    /// use_quadlet_backends, password_hash, session_ttl_secs, reconcile_interval_secs, and the
    /// hardening keys in config.example.toml).
    #[arg(long, default_value = DEFAULT_PATH)]
    config: PathBuf,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Reads a password on stdin and prints the `password_hash` value for the config.
    HashPassword,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Some(Command::HashPassword) => hash_password(),
        None => run(cli.config).await,
    };
    std::process::exit(code);
}

fn hash_password() -> i32 {
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        log::error(format_args!("failed to read the password from stdin: {e}"));
        return EXIT_FAILURE;
    }
    let password = input
        .strip_suffix('\n')
        .map(|p| p.strip_suffix('\r').unwrap_or(p))
        .unwrap_or(&input);
    if password.is_empty() {
        log::error("failed to hash: the password on stdin is empty");
        return EXIT_FAILURE;
    }
    match PasswordHash::create(password, DEFAULT_ITERATIONS) {
        Ok(h) => {
            println!("{}", h.encode());
            EXIT_OK
        }
        Err(e) => {
            log::error(e);
            EXIT_FAILURE
        }
    }
}

async fn run(config_path: PathBuf) -> i32 {
    let started = Instant::now();
    // Held for the process lifetime: the fail points `FAILPOINTS` sets stay set while it lives.
    let _failpoints = match failpoints::setup() {
        Ok(s) => s,
        Err(e) => {
            log::error(format_args!("failed to read FAILPOINTS: {e}"));
            return EXIT_CONFIG;
        }
    };
    let config = match Config::load(&config_path) {
        Ok(c) => c,
        Err(e) => {
            log::error(e);
            return EXIT_CONFIG;
        }
    };
    match start(config, started).await {
        Ok(()) => EXIT_OK,
        Err(e) => {
            log::error(e);
            EXIT_FAILURE
        }
    }
}

async fn start(config: Config, started: Instant) -> Result<()> {
    let (catalog, errors) =
        Catalog::load_with_overrides(&config.catalog_dir, config.catalog_override_dir.as_deref())?;
    errors.iter().for_each(log::warn);
    let exec = if config.use_quadlet_backends {
        SystemExecutor::new()
    } else {
        SystemExecutor::legacy()
    };
    let commands = Arc::new(Commands::with_timeout(
        Arc::new(exec),
        config.command_timeout,
    ));
    let podman = match config.podman_version {
        Some(v) => v,
        None => PodmanVersion::parse(&commands.run(Program::Podman, &["--version"])?)?,
    };
    let runtime_dir = config
        .runtime_dir
        .clone()
        .or_else(|| std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from))
        .unwrap_or_else(|| {
            log::warn("XDG_RUNTIME_DIR is not set; container ids will not be shown");
            config.data_dir.clone()
        });
    let backend: Arc<dyn Backend> = if config.use_quadlet_backends {
        Arc::new(QuadletBackend::new(
            config.unit_dir.clone(),
            runtime_dir,
            podman,
            commands.clone(),
        ))
    } else {
        Arc::new(LegacyBackend::new(commands.clone()))
    };
    std::fs::create_dir_all(&config.data_dir).map_err(Error::io(&config.data_dir))?;
    let core = Arc::new(Orchestrator::new(
        backend,
        commands,
        catalog,
        config.data_dir.clone(),
        podman,
    ));
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(Error::io(config.listen.to_string()))?;
    core.set_startup_ms(started.elapsed().as_millis() as u64);
    log::info(format_args!(
        "listening on {} (backend {}, podman {podman}, {} apps in catalog) after {} ms",
        config.listen,
        if config.use_quadlet_backends {
            "quadlet"
        } else {
            "legacy"
        },
        core.catalog().iter().count(),
        started.elapsed().as_millis()
    ));
    let (trigger, stop) = shutdown::channel();
    tokio::spawn(async move {
        shutdown_signal().await;
        trigger.pull();
    });
    let reconciler = tokio::spawn(reconcile_loop::run(
        core.clone(),
        Duration::from_secs(config.reconcile_interval_secs),
        stop.clone().wait(),
    ));
    let api = Arc::new(
        Api::new(
            core,
            config.password_hash,
            Sessions::new(Duration::from_secs(config.session_ttl_secs)),
        )
        .with_http(config.http)
        .with_login(config.login),
    );
    serve(listener, api, stop.wait()).await;
    // The reconciler saw the same signal; a tick in progress is let finish, within the grace.
    if tokio::time::timeout(config.http.shutdown_grace, reconciler)
        .await
        .is_err()
    {
        log::warn("shutdown: a reconcile tick is still running after the grace; leaving it");
    }
    log::info("stopping: apps keep running under their own units");
    Ok(())
}

async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let ctrl_c = tokio::signal::ctrl_c();
    match term {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => log::info("SIGTERM received"),
                _ = ctrl_c => log::info("SIGINT received"),
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
}
