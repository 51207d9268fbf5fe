//! SSH with ssh2: a pool of authenticated sessions per node, each command on a thread of its own
//! so libssh2 never runs on the async executor.
//!
//! Every command has one overall deadline (`SshConfig::command_timeout`). The session is
//! non-blocking while a command runs and one poll loop reads stdout and stderr together, so a
//! flood on one stream cannot stall the other, a command that prints a little at a time still
//! ends at its deadline, and the channel is closed then. Each stream keeps its first
//! [`OUTPUT_CAP`] bytes; the rest is read and dropped, and the text says how much. A session
//! whose command failed or ran out of time is dropped, never reused, and the pool never queues
//! behind it: the next command takes an idle session or opens a fresh one. Host keys must already
//! be in the fleet's known_hosts: an unknown or changed key is an error, never accepted.

use std::{
    io::{ErrorKind, Read, Write},
    net::SocketAddr,
    os::fd::{AsRawFd, RawFd},
    path::PathBuf,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use ssh2::{BlockDirections, CheckResult, KnownHostFileKind, Session};

use super::{RouteGuard, TransportError};

/// How much of each stream (stdout, stderr) a command keeps: 1 MiB.
pub const OUTPUT_CAP: usize = 1 << 20;

/// How long releasing a finished channel or dropping a session may block.
const CLOSE_BUDGET: Duration = Duration::from_secs(2);

/// How long the pool waits past a command's deadline for its thread before abandoning it (the
/// thread enforces the deadline itself; this only covers libssh2 stuck in a blocking call).
const ABANDON_AFTER: Duration = Duration::from_secs(5);

/// libssh2's "would block".
const EAGAIN: i32 = -37;

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
    /// Limit for the TCP connect and for each step of the handshake.
    pub connect_timeout: Duration,
    /// One command's whole budget, from taking a session to its exit status (a connect included);
    /// when it passes the channel is closed and the command is a `TransportError::Timeout`.
    pub command_timeout: Duration,
    /// Checked before every connect; binds the socket to the lab interface when there is one.
    pub guard: RouteGuard,
}

/// A command that ran: its exit status and output. A non-zero status is not an error here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdOutput {
    /// Exit status.
    pub status: i32,
    /// Standard output (at most [`OUTPUT_CAP`] bytes, then a `[... N of stdout cut]` line).
    pub stdout: String,
    /// Standard error (at most [`OUTPUT_CAP`] bytes, then a `[... N of stderr cut]` line).
    pub stderr: String,
}

/// An authenticated session and the socket it polls.
struct Conn {
    session: Session,
    fd: RawFd,
}

impl Conn {
    /// Ends the TCP connection under the session: libssh2 then stops waiting for anything from
    /// the other side, and sshd ends the session (its command's pipes close).
    fn shut(&self) {
        // SAFETY: shutdown(2) on the descriptor the session owns; it stays open until dropped.
        unsafe { libc::shutdown(self.fd, libc::SHUT_RDWR) };
    }
}

impl Drop for Conn {
    fn drop(&mut self) {
        // A session is dropped only when it is not to be used again: nothing to wait for.
        self.shut();
        self.session.set_timeout(CLOSE_BUDGET.as_millis() as u32);
        self.session.set_blocking(true);
    }
}

struct Shared {
    cfg: SshConfig,
    idle: Mutex<Vec<Conn>>,
    size: usize,
}

/// A pool of SSH sessions to one node: up to `size` commands run at once.
pub struct SshPool {
    shared: Arc<Shared>,
    permits: tokio::sync::Semaphore,
}

impl SshPool {
    /// A pool running up to `size` commands at once; sessions are opened on first use.
    pub fn new(cfg: SshConfig, size: usize) -> Self {
        let size = size.max(1);
        Self {
            shared: Arc::new(Shared {
                cfg,
                idle: Mutex::new(Vec::new()),
                size,
            }),
            permits: tokio::sync::Semaphore::new(size),
        }
    }

    /// Closes every idle session: the node is going away (a reboot), and a session kept from
    /// before would cost a command its whole budget to find out.
    pub fn drop_idle(&self) {
        self.shared
            .idle
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    /// Runs a shell command on the node within `command_timeout`.
    pub async fn exec(&self, command: &str) -> Result<CmdOutput, TransportError> {
        self.exec_within(command, self.shared.cfg.command_timeout)
            .await
    }

    /// Runs a shell command on the node within `budget` (a connect included): for polling a
    /// node that may be gone, where one long connect would sit out TCP's SYN retries (1, 3,
    /// 7 s) after the node is back.
    pub async fn exec_within(
        &self,
        command: &str,
        budget: Duration,
    ) -> Result<CmdOutput, TransportError> {
        self.job(Job::Exec(command.to_owned()), budget).await
    }

    /// Writes `request` to the unix socket `path` on the node through the SSH connection (a
    /// direct-streamlocal channel: no process on the node) and reads its answer until the socket
    /// closes, within `command_timeout`. `Ok(Err(why))` is the node's sshd refusing the channel
    /// (nothing listens on `path`); the session stays good.
    pub async fn forward(
        &self,
        path: &str,
        request: &[u8],
    ) -> Result<Result<String, String>, TransportError> {
        let job = Job::Socket {
            path: path.to_owned(),
            request: request.to_vec(),
        };
        let out = self.job(job, self.shared.cfg.command_timeout).await?;
        Ok(if out.status == 0 {
            Ok(out.stdout)
        } else {
            Err(out.stderr)
        })
    }

    async fn job(&self, job: Job, budget: Duration) -> Result<CmdOutput, TransportError> {
        let cfg = &self.shared.cfg;
        let command = job.describe();
        let gone = |reason: String| TransportError::Disconnected {
            node: cfg.node.clone(),
            reason,
        };
        // Held by this call, not by the thread: a thread abandoned past its deadline frees its
        // place at once and the next command opens a fresh session instead of waiting for it.
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| gone("the ssh pool is closed".into()))?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let shared = self.shared.clone();
        std::thread::Builder::new()
            .name(format!("ssh-{}", cfg.node))
            .spawn(move || {
                let _ = tx.send(shared.run(&job, budget));
            })
            .map_err(|e| gone(format!("failed to start an ssh thread: {e}")))?;
        match tokio::time::timeout(budget + ABANDON_AFTER, rx).await {
            Ok(Ok(result)) => result,
            Ok(Err(_)) => Err(gone("the ssh thread stopped".into())),
            Err(_) => Err(timeout(cfg, budget, &command, "its session was abandoned")),
        }
    }
}

/// What one session is asked to do.
enum Job {
    /// A shell command.
    Exec(String),
    /// Bytes written to a unix socket on the node, and all it answers until it closes.
    Socket { path: String, request: Vec<u8> },
}

impl Job {
    /// The job for messages.
    fn describe(&self) -> String {
        match self {
            Job::Exec(c) => c.clone(),
            Job::Socket { path, request } => {
                let line = request.split(|b| *b == b'\r').next().unwrap_or_default();
                format!("{} on {path}", String::from_utf8_lossy(line))
            }
        }
    }
}

/// libssh2's "channel open failure": the server answered, and refused the channel.
const CHANNEL_FAILURE: i32 = -21;

fn timeout(cfg: &SshConfig, budget: Duration, command: &str, then: &str) -> TransportError {
    let shown: String = command.chars().take(200).collect();
    let more = if shown.len() < command.len() {
        "…"
    } else {
        ""
    };
    TransportError::Timeout {
        node: cfg.node.clone(),
        secs: budget.as_secs(),
        what: format!("ssh command {shown:?}{more} ({then})"),
    }
}

/// Why a step of a command stopped.
enum Stop {
    Deadline,
    Failed(String),
    /// The session was dead before the command was sent: safe to try a fresh one.
    Stale(String),
    /// The server refused to open a socket channel (nothing listens there); the session is fine.
    Refused(String),
}

impl Shared {
    fn run(&self, job: &Job, budget: Duration) -> Result<CmdOutput, TransportError> {
        let cfg = &self.cfg;
        let deadline = Instant::now() + budget;
        let pooled = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let reused = pooled.is_some();
        let conn = match pooled {
            Some(c) => c,
            None => connect(cfg, deadline)?,
        };
        let result = match run_on(&conn, job, deadline) {
            Err(Stop::Stale(_)) if reused => {
                // A session kept from before (e.g. across a reboot) died unseen; nothing ran.
                drop(conn);
                let fresh = connect(cfg, deadline)?;
                let r = run_on(&fresh, job, deadline);
                (r, fresh)
            }
            r => (r, conn),
        };
        let result = match result {
            (Err(Stop::Refused(why)), conn) => (
                Ok(CmdOutput {
                    status: 1,
                    stdout: String::new(),
                    stderr: why,
                }),
                conn,
            ),
            r => r,
        };
        match result {
            (Ok(out), conn) => {
                let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
                if idle.len() < self.size {
                    idle.push(conn);
                }
                Ok(out)
            }
            (Err(Stop::Deadline), _) => Err(timeout(
                cfg,
                budget,
                &job.describe(),
                "the channel was closed",
            )),
            (Err(Stop::Failed(reason) | Stop::Stale(reason) | Stop::Refused(reason)), _) => {
                Err(TransportError::Disconnected {
                    node: cfg.node.clone(),
                    reason,
                })
            }
        }
    }
}

/// Opens, verifies and authenticates one session, within the command's deadline.
fn connect(cfg: &SshConfig, deadline: Instant) -> Result<Conn, TransportError> {
    let left = deadline.saturating_duration_since(Instant::now());
    let budget = cfg.connect_timeout.min(left).max(Duration::from_millis(1));
    let tcp = cfg.guard.connect(&cfg.node, cfg.addr, budget)?;
    let node = || cfg.node.clone();
    let conn_err = |reason: String| TransportError::Connect {
        node: node(),
        addr: cfg.addr.to_string(),
        reason,
    };
    let fd = tcp.as_raw_fd();
    let mut s = Session::new().map_err(|e| conn_err(e.to_string()))?;
    s.set_tcp_stream(tcp);
    s.set_timeout(budget.as_millis() as u32);
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
    Ok(Conn { session: s, fd })
}

/// Runs one job on a session, non-blocking, until its end (a command's exit status, a socket's
/// close) or the deadline.
fn run_on(conn: &Conn, job: &Job, deadline: Instant) -> Result<CmdOutput, Stop> {
    let s = &conn.session;
    s.set_blocking(false);
    let open = || match job {
        Job::Exec(_) => s.channel_session(),
        Job::Socket { path, .. } => s.channel_direct_streamlocal(path, None),
    };
    let mut ch = match again(conn, deadline, open) {
        Ok(ch) => ch,
        Err(Stop::Refused(reason)) if matches!(job, Job::Socket { .. }) => {
            return Err(Stop::Refused(reason));
        }
        Err(Stop::Failed(reason) | Stop::Refused(reason)) => return Err(Stop::Stale(reason)),
        Err(other) => return Err(other),
    };
    let result = match job {
        Job::Exec(command) => drive(conn, &mut ch, command, deadline),
        Job::Socket { request, .. } => exchange(conn, &mut ch, request, deadline),
    };
    if result.is_err() {
        close_now(conn, &mut ch);
    }
    // Blocking again, briefly, so a finished channel's release is really sent.
    s.set_timeout(CLOSE_BUDGET.as_millis() as u32);
    s.set_blocking(true);
    drop(ch);
    result
}

/// Closes the channel of a command that ran out of time (or broke) without waiting for the other
/// side's answer: sends CHANNEL_CLOSE, then ends the connection; the session is not reused.
fn close_now(conn: &Conn, ch: &mut ssh2::Channel) {
    let until = Instant::now() + Duration::from_millis(500);
    // Non-blocking: EAGAIN while the close waits to be written is worth a short wait; after it
    // is written, EAGAIN only means the other side has not answered, which nobody waits for.
    while ch
        .close()
        .is_err_and(|e| e.code() == ssh2::ErrorCode::Session(EAGAIN))
        && matches!(conn.session.block_directions(), BlockDirections::Outbound)
        && Instant::now() < until
    {
        let _ = wait_socket(conn, until);
    }
    conn.shut();
}

fn drive(
    conn: &Conn,
    ch: &mut ssh2::Channel,
    command: &str,
    deadline: Instant,
) -> Result<CmdOutput, Stop> {
    again(conn, deadline, || ch.exec(command))?;
    let [out, err] = read_both(conn, ch, deadline)?;
    again(conn, deadline, || ch.wait_close())?;
    let status = ch.exit_status().map_err(|e| Stop::Failed(e.to_string()))?;
    Ok(CmdOutput {
        status,
        stdout: out.finish("stdout"),
        stderr: err.finish("stderr"),
    })
}

/// Writes the request to a socket channel and reads the answer until the socket closes. The
/// write side stays open: a server may take a half-close for the client going away.
fn exchange(
    conn: &Conn,
    ch: &mut ssh2::Channel,
    request: &[u8],
    deadline: Instant,
) -> Result<CmdOutput, Stop> {
    let mut sent = 0;
    while sent < request.len() {
        match ch.write(&request[sent..]) {
            Ok(n) => sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => wait_socket(conn, deadline)?,
            Err(e) => return Err(Stop::Failed(e.to_string())),
        }
    }
    let [out, _] = read_both(conn, ch, deadline)?;
    again(conn, deadline, || ch.close())?;
    Ok(CmdOutput {
        status: 0,
        stdout: out.finish("answer"),
        stderr: String::new(),
    })
}

/// Repeats a libssh2 step that would block, waiting on the socket in between.
fn again<T>(
    conn: &Conn,
    deadline: Instant,
    mut step: impl FnMut() -> Result<T, ssh2::Error>,
) -> Result<T, Stop> {
    loop {
        match step() {
            Ok(v) => return Ok(v),
            Err(e) if e.code() == ssh2::ErrorCode::Session(EAGAIN) => wait_socket(conn, deadline)?,
            Err(e) if e.code() == ssh2::ErrorCode::Session(CHANNEL_FAILURE) => {
                return Err(Stop::Refused(e.to_string()));
            }
            Err(e) => return Err(Stop::Failed(e.to_string())),
        }
    }
}

/// Waits until the socket is ready the way libssh2 last wanted it, or a short while.
fn wait_socket(conn: &Conn, deadline: Instant) -> Result<(), Stop> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(Stop::Deadline);
    }
    let events = match conn.session.block_directions() {
        BlockDirections::Outbound => libc::POLLOUT,
        BlockDirections::Both => libc::POLLIN | libc::POLLOUT,
        BlockDirections::Inbound | BlockDirections::None => libc::POLLIN,
    };
    let mut pfd = libc::pollfd {
        fd: conn.fd,
        events,
        revents: 0,
    };
    // Short waits: libssh2 may have buffered what it needs without the socket showing it.
    let ms = left.min(Duration::from_millis(100)).as_millis().max(1) as libc::c_int;
    // SAFETY: `pfd` is one valid pollfd; the session owns the descriptor for its lifetime.
    unsafe { libc::poll(&mut pfd, 1, ms) };
    Ok(())
}

/// Reads stdout and stderr as they come until the remote end's EOF.
fn read_both(conn: &Conn, ch: &mut ssh2::Channel, deadline: Instant) -> Result<[Capture; 2], Stop> {
    let mut streams = [Capture::default(), Capture::default()];
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let mut progressed = false;
        for (id, capture) in streams.iter_mut().enumerate() {
            let mut stream = ch.stream(id as i32);
            // Bounded, so a flood on one stream still lets the other and the deadline be seen.
            for _ in 0..64 {
                match stream.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => {
                        capture.push(&buf[..n]);
                        progressed = true;
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                    Err(e) => return Err(Stop::Failed(e.to_string())),
                }
            }
        }
        if ch.eof() {
            return Ok(streams);
        }
        if Instant::now() >= deadline {
            return Err(Stop::Deadline);
        }
        if !progressed {
            wait_socket(conn, deadline)?;
        }
    }
}

/// One stream's output: the first [`OUTPUT_CAP`] bytes and how many more were dropped.
#[derive(Default)]
struct Capture {
    kept: Vec<u8>,
    cut: u64,
}

impl Capture {
    fn push(&mut self, data: &[u8]) {
        let take = data.len().min(OUTPUT_CAP - self.kept.len());
        self.kept.extend_from_slice(&data[..take]);
        self.cut += (data.len() - take) as u64;
    }

    fn finish(self, name: &str) -> String {
        let mut text = String::from_utf8_lossy(&self.kept).into_owned();
        if self.cut > 0 {
            if !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&format!("[... {} of {name} cut]", size_text(self.cut)));
        }
        text
    }
}

/// A byte count for people: `512 bytes`, `3.5 KiB`, `9.0 MiB`.
fn size_text(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_people_write_them() {
        assert_eq!(size_text(512), "512 bytes");
        assert_eq!(size_text(3584), "3.5 KiB");
        assert_eq!(size_text(9 << 20), "9.0 MiB");
    }

    #[test]
    fn a_capture_keeps_the_cap_and_notes_the_rest() {
        let mut c = Capture::default();
        c.push(b"hello\n");
        assert_eq!(c.finish("stdout"), "hello\n");
        let mut c = Capture::default();
        c.push(&vec![b'x'; OUTPUT_CAP - 1]);
        c.push(b"yz");
        c.push(&vec![b'w'; 2047]);
        let text = c.finish("stderr");
        assert_eq!(
            text.len(),
            OUTPUT_CAP + 1 + "[... 2.0 KiB of stderr cut]".len()
        );
        assert!(
            text.ends_with("xy\n[... 2.0 KiB of stderr cut]"),
            "{}",
            &text[text.len() - 40..]
        );
    }
}
