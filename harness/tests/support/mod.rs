//! Real peers for tests: an OpenSSH sshd on a loopback port and a small orchestrator-like HTTP
//! server on port 0. Both are stopped when dropped.
#![allow(dead_code)]

use std::{
    net::{SocketAddr, TcpListener as StdListener},
    path::PathBuf,
    process::{Child, Command},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use serde_json::{Value, json};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpListener,
};

pub const PASSWORD: &str = "pw-Sup3r-s3cret-lab";
pub const TOKEN: &str = "tok-9f8e7d6c5b4a";

/// How long a loaded machine may take to start sshd.
const SSHD_START: Duration = Duration::from_secs(30);
/// Ports tried before giving up: another process may take a port between our probe and sshd's
/// bind, which sshd reports by exiting.
const SSHD_ATTEMPTS: usize = 5;

/// A port that was free a moment ago. Anyone may take it before we bind it again, so its user
/// must notice a failed bind and retry (see `Sshd::start`).
fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A temp dir removed on drop.
pub struct TempDir(pub PathBuf);
impl TempDir {
    pub fn new(tag: &str) -> Self {
        // A counter, not a port: tests of one process run in parallel and must never share a dir.
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let p = std::env::temp_dir().join(format!(
            "harness-{tag}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        ));
        // A dead process with our pid may have left it behind.
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        Self(p)
    }
}
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A loopback port bound but never listening, held until dropped: connections to it are refused
/// and, unlike a port released after a probe, nobody else can take it meanwhile.
pub struct ClosedPort {
    _socket: tokio::net::TcpSocket,
    pub port: u16,
}
impl ClosedPort {
    pub fn new() -> Self {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(([127, 0, 0, 1], 0).into()).unwrap();
        let port = socket.local_addr().unwrap().port();
        Self {
            _socket: socket,
            port,
        }
    }
}

/// An sshd on 127.0.0.1 accepting one generated key; `known_hosts` holds its host key.
pub struct Sshd {
    child: Child,
    pub port: u16,
    pub dir: TempDir,
    pub key: PathBuf,
    pub known_hosts: PathBuf,
}

fn keygen(path: &PathBuf) {
    let ok = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "ssh-keygen failed");
}

impl Sshd {
    pub fn start() -> Self {
        let dir = TempDir::new("sshd");
        let d = dir.0.clone();
        let (host, key) = (d.join("host_key"), d.join("id_ed25519"));
        keygen(&host);
        keygen(&key);
        std::fs::copy(d.join("id_ed25519.pub"), d.join("authorized_keys")).unwrap();
        let hostpub = std::fs::read_to_string(d.join("host_key.pub")).unwrap();
        let known_hosts = d.join("known_hosts");
        let mut failures = Vec::new();
        for _ in 0..SSHD_ATTEMPTS {
            let port = free_port();
            match Self::spawn(&d, &host, port) {
                Ok(child) => {
                    std::fs::write(
                        &known_hosts,
                        format!("[127.0.0.1]:{port} {}", hostpub.trim()),
                    )
                    .unwrap();
                    return Self {
                        child,
                        port,
                        dir,
                        key,
                        known_hosts,
                    };
                }
                Err(why) => failures.push(format!("port {port}: {why}")),
            }
        }
        panic!("sshd did not start: {}", failures.join("; "));
    }

    /// Starts sshd on `port`; returns once it listens there. Being able to connect proves
    /// nothing (the port may have gone to someone else), so this waits for the pid file, which
    /// sshd writes only after binding, and treats an early exit as the port being taken.
    fn spawn(d: &std::path::Path, host: &std::path::Path, port: u16) -> Result<Child, String> {
        let (cfg, pidfile) = (d.join("sshd_config"), d.join("sshd.pid"));
        let _ = std::fs::remove_file(&pidfile);
        std::fs::write(
            &cfg,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {}\nAuthorizedKeysFile {}\nStrictModes no\nPermitRootLogin yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\nPidFile {}\nMaxSessions 64\nMaxStartups 64\n",
                host.display(),
                d.join("authorized_keys").display(),
                pidfile.display()
            ),
        )
        .unwrap();
        let _ = std::fs::create_dir_all("/run/sshd");
        let mut child = Command::new("/usr/sbin/sshd")
            .arg("-D")
            .arg("-f")
            .arg(&cfg)
            .arg("-e")
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return Err(format!(
                    "sshd exited ({status}), the port is probably taken"
                ));
            }
            let written = std::fs::read_to_string(&pidfile).unwrap_or_default();
            if written.trim() == child.id().to_string() {
                return Ok(child);
            }
            if start.elapsed() > SSHD_START {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no pid file after {}s", SSHD_START.as_secs()));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An orchestrator-like server: `/rpc` with login and sessions, `POST /` as an app's JSON-RPC,
/// `GET /` and `/healthz`.
pub struct FakeOrchestrator {
    pub addr: SocketAddr,
    pub logins: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeOrchestrator {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn rpc_answer(body: &str, auth: Option<&str>, logins: &AtomicUsize) -> Value {
    let req: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let id = req.get("id").cloned().unwrap_or(Value::Null);
    let method = req.get("method").and_then(Value::as_str).unwrap_or("");
    let err = |code: i64, msg: String| json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": msg}});
    let ok = |v: Value| json!({"jsonrpc": "2.0", "id": id, "result": v});
    if method == "auth.login" {
        return if req.pointer("/params/password").and_then(Value::as_str) == Some(PASSWORD) {
            logins.fetch_add(1, Ordering::SeqCst);
            ok(json!({"token": TOKEN, "expires_in_secs": 3600}))
        } else {
            err(-32001, "unauthorized".into())
        };
    }
    if auth != Some(&format!("Bearer {TOKEN}")) {
        return err(-32001, "unauthorized".into());
    }
    match method {
        "package.status" => ok(
            json!({"id": req.pointer("/params/id"), "state": "running", "health": "healthy", "container_id": "c0ffee"}),
        ),
        // A backend error that (wrongly) echoes secrets: reports must still never show them.
        "leak" => err(
            -32010,
            format!("backend failed: password {PASSWORD} token {TOKEN}"),
        ),
        _ => err(-32601, "method not found".into()),
    }
}

impl FakeOrchestrator {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let logins = Arc::new(AtomicUsize::new(0));
        let l2 = logins.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    break;
                };
                let logins = l2.clone();
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    loop {
                        // Read one request (headers + content-length body), answer, keep alive.
                        let head_end = loop {
                            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break p + 4;
                            }
                            let mut chunk = [0u8; 4096];
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
                        let header = |name: &str| {
                            head.lines().find_map(|l| {
                                l.split_once(':')
                                    .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                                    .map(|(_, v)| v.trim().to_owned())
                            })
                        };
                        let len: usize = header("content-length")
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0);
                        while buf.len() < head_end + len {
                            let mut chunk = [0u8; 4096];
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        let body =
                            String::from_utf8_lossy(&buf[head_end..head_end + len]).to_string();
                        buf.drain(..head_end + len);
                        let mut first = head.lines().next().unwrap_or("").split_whitespace();
                        let (method, path) =
                            (first.next().unwrap_or(""), first.next().unwrap_or(""));
                        let (status, ctype, text) = match (method, path) {
                            ("POST", "/rpc") => (200, "application/json", rpc_answer(&body, header("authorization").as_deref(), &logins).to_string()),
                            ("POST", "/") => (200, "application/json", json!({"jsonrpc": "2.0", "id": 1, "result": {"height": 7, "chain": "lab"}}).to_string()),
                            ("GET", "/healthz") => (200, "text/plain", "ok".to_owned()),
                            ("GET", "/") => (200, "text/html", "<html><body>Height: 7</body></html>".to_owned()),
                            ("GET", "/empty") => (200, "text/html", String::new()),
                            _ => (404, "text/plain", "not found".to_owned()),
                        };
                        let resp = format!(
                            "HTTP/1.1 {status} X\r\ncontent-type: {ctype}\r\ncontent-length: {}\r\n\r\n{text}",
                            text.len()
                        );
                        if sock.write_all(resp.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { addr, logins, task }
    }
}
