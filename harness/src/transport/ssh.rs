//! SSH with ssh2: a small pool of authenticated sessions per node, each on its own thread so
//! libssh2's blocking calls never run on the async executor. A session that fails is dropped and
//! the next command reconnects (a reboot kills it on purpose). Host keys must already be in the
//! fleet's known_hosts: an unknown or changed key is an error, never accepted.

use std::{
    io::Read,
    net::{SocketAddr, TcpStream},
    path::PathBuf,
    sync::{
        atomic::{AtomicUsize, Ordering},
        mpsc,
    },
    time::Duration,
};

use ssh2::{CheckResult, KnownHostFileKind, Session};

use super::{RouteGuard, TransportError};

/// How to reach one node over SSH.
#[derive(Debug, Clone)]
pub struct SshConfig {
    /// Node name, for messages.
    pub node: String,
    /// Address and port.
    pub addr: SocketAddr,
    /// Login user.
    pub user: String,
    /// Private key file.
    pub key: PathBuf,
    /// known_hosts file.
    pub known_hosts: PathBuf,
    /// TCP connect + handshake limit.
    pub connect_timeout: Duration,
    /// Limit for any single blocking read or write of a command.
    pub command_timeout: Duration,
    /// Checked before every connect.
    pub guard: RouteGuard,
}

/// A command that ran: its exit status and output. A non-zero status is not an error here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdOutput {
    /// Exit status.
    pub status: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

type Reply = tokio::sync::oneshot::Sender<Result<CmdOutput, TransportError>>;

/// A pool of SSH sessions to one node; commands go round-robin so several can run at once.
pub struct SshPool {
    workers: Vec<mpsc::Sender<(String, Reply)>>,
    next: AtomicUsize,
    node: String,
}

impl SshPool {
    /// Starts `size` session threads (they connect lazily, on the first command).
    pub fn new(cfg: SshConfig, size: usize) -> Self {
        let workers = (0..size.max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel::<(String, Reply)>();
                let cfg = cfg.clone();
                std::thread::spawn(move || worker(cfg, rx));
                tx
            })
            .collect();
        Self {
            workers,
            next: AtomicUsize::new(0),
            node: cfg.node,
        }
    }

    /// Runs a shell command on the node.
    pub async fn exec(&self, command: &str) -> Result<CmdOutput, TransportError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.workers.len();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let gone = || TransportError::Disconnected {
            node: self.node.clone(),
            reason: "ssh worker stopped".into(),
        };
        self.workers[i]
            .send((command.to_owned(), tx))
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

fn worker(cfg: SshConfig, rx: mpsc::Receiver<(String, Reply)>) {
    let mut session: Option<Session> = None;
    for (command, reply) in rx {
        let result = match session.take().map_or_else(|| connect(&cfg), Ok) {
            Ok(s) => {
                let r = run(&cfg, &s, &command);
                if r.is_ok() {
                    session = Some(s);
                }
                r
            }
            Err(e) => Err(e),
        };
        let _ = reply.send(result);
    }
}

/// Opens, verifies and authenticates one session.
pub fn connect(cfg: &SshConfig) -> Result<Session, TransportError> {
    cfg.guard.check(cfg.addr.ip())?;
    let node = || cfg.node.clone();
    let conn_err = |reason: String| TransportError::Connect {
        node: node(),
        addr: cfg.addr.to_string(),
        reason,
    };
    let tcp = TcpStream::connect_timeout(&cfg.addr, cfg.connect_timeout)
        .map_err(|e| conn_err(e.to_string()))?;
    let mut s = Session::new().map_err(|e| conn_err(e.to_string()))?;
    s.set_tcp_stream(tcp);
    s.set_timeout(cfg.connect_timeout.as_millis() as u32);
    s.handshake()
        .map_err(|e| conn_err(format!("ssh handshake: {e}")))?;
    let hk = |reason: String| TransportError::HostKey {
        node: node(),
        reason,
    };
    let (key, _) = s
        .host_key()
        .ok_or_else(|| hk("the server sent no host key".into()))?;
    let mut kh = s.known_hosts().map_err(|e| hk(e.to_string()))?;
    kh.read_file(&cfg.known_hosts, KnownHostFileKind::OpenSSH)
        .map_err(|e| hk(format!("cannot read {}: {e}", cfg.known_hosts.display())))?;
    let host = cfg.addr.ip().to_string();
    match kh.check_port(&host, cfg.addr.port(), key) {
        CheckResult::Match => {}
        CheckResult::Mismatch => {
            return Err(hk(format!(
                "the key of {host} CHANGED (not the one in {})",
                cfg.known_hosts.display()
            )));
        }
        CheckResult::NotFound => {
            return Err(hk(format!(
                "{host} is not in {}",
                cfg.known_hosts.display()
            )));
        }
        CheckResult::Failure => return Err(hk("known_hosts check failed".into())),
    }
    s.userauth_pubkey_file(&cfg.user, None, &cfg.key, None)
        .map_err(|e| TransportError::Auth {
            node: node(),
            reason: format!("user {} key {}: {e}", cfg.user, cfg.key.display()),
        })?;
    if !s.authenticated() {
        return Err(TransportError::Auth {
            node: node(),
            reason: "not authenticated".into(),
        });
    }
    s.set_timeout(cfg.command_timeout.as_millis() as u32);
    Ok(s)
}

fn run(cfg: &SshConfig, s: &Session, command: &str) -> Result<CmdOutput, TransportError> {
    let lost = |e: &dyn std::fmt::Display, timeout: bool| {
        if timeout {
            TransportError::Timeout {
                node: cfg.node.clone(),
                secs: cfg.command_timeout.as_secs(),
                what: format!("ssh command {command:?}"),
            }
        } else {
            TransportError::Disconnected {
                node: cfg.node.clone(),
                reason: e.to_string(),
            }
        }
    };
    let is_timeout = |e: &ssh2::Error| e.code() == ssh2::ErrorCode::Session(-9);
    let mut ch = s.channel_session().map_err(|e| lost(&e, is_timeout(&e)))?;
    ch.exec(command).map_err(|e| lost(&e, is_timeout(&e)))?;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let io_lost = |e: std::io::Error| lost(&e, e.kind() == std::io::ErrorKind::TimedOut);
    ch.read_to_end(&mut out).map_err(io_lost)?;
    ch.stderr().read_to_end(&mut err).map_err(io_lost)?;
    ch.wait_close().map_err(|e| lost(&e, is_timeout(&e)))?;
    let status = ch.exit_status().map_err(|e| lost(&e, is_timeout(&e)))?;
    Ok(CmdOutput {
        status,
        stdout: String::from_utf8_lossy(&out).into_owned(),
        stderr: String::from_utf8_lossy(&err).into_owned(),
    })
}
