//! Transports against real peers: OpenSSH sshd on loopback and an HTTP server on port 0.

mod support;

use std::{
    net::SocketAddr,
    os::fd::AsRawFd,
    path::PathBuf,
    sync::atomic::Ordering,
    time::{Duration, Instant},
};

use harness::{
    api::{AppList, AppState, AppStatus, CallError, ErrorCode, Health},
    fleet::Redactor,
    model::AppId,
    transport::{HttpClient, RouteGuard, RpcReply, SshConfig, SshPool, TransportError},
};
use support::{ClosedPort, FakeOrchestrator, PASSWORD, Sshd, TOKEN};

fn cfg(sshd: &Sshd, known_hosts: PathBuf) -> SshConfig {
    SshConfig {
        node: "loop".into(),
        addr: SocketAddr::from(([127, 0, 0, 1], sshd.port)),
        user: "root".into(),
        key: sshd.key.clone(),
        known_hosts,
        // Generous: a loaded machine is slow, and no test here waits for these to expire.
        connect_timeout: Duration::from_secs(30),
        command_timeout: Duration::from_secs(60),
        guard: RouteGuard::new(None),
    }
}

#[tokio::test]
async fn ssh_runs_commands_and_keeps_exit_status_apart_from_errors() {
    let sshd = Sshd::start();
    let pool = SshPool::new(cfg(&sshd, sshd.known_hosts.clone()), 1);
    let out = pool
        .exec("echo hello; echo oops >&2; exit 3")
        .await
        .unwrap();
    assert_eq!(
        (out.status, out.stdout.as_str(), out.stderr.as_str()),
        (3, "hello\n", "oops\n")
    );
    assert_eq!(pool.exec("true").await.unwrap().status, 0);
}

#[tokio::test]
async fn ssh_reconnects_after_the_session_dies() {
    let sshd = Sshd::start();
    let pool = SshPool::new(cfg(&sshd, sshd.known_hosts.clone()), 1);
    let first = pool.exec("echo $PPID").await.unwrap().stdout;
    // Kill this session's sshd process: the session drops, as in a reboot.
    let r = pool.exec(&format!("kill -9 {}", first.trim())).await;
    assert!(
        matches!(r, Err(TransportError::Disconnected { .. }) | Ok(_)),
        "{r:?}"
    );
    let second = pool.exec("echo $PPID").await.unwrap().stdout;
    assert_ne!(first, second);
    // Now kill the session while it sits idle in the pool (sshd runs on this machine): the
    // pool finds it dead before sending the command and opens a fresh one, with no error.
    let pid: i32 = second.trim().parse().unwrap();
    // SAFETY: kill(2) of the sshd session process this test's sshd started.
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0);
    while alive(second.trim()) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let third = pool.exec("echo $PPID").await.unwrap().stdout;
    assert_ne!(second, third);
}

#[tokio::test]
async fn unknown_and_changed_host_keys_are_refused() {
    let sshd = Sshd::start();
    let empty = sshd.dir.0.join("empty_known_hosts");
    std::fs::write(&empty, "").unwrap();
    let e = SshPool::new(cfg(&sshd, empty), 1)
        .exec("true")
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::HostKey { .. }), "{e:?}");
    assert!(e.to_string().contains("is not in"), "{e}");

    let other = sshd.dir.0.join("other_key");
    std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&other)
        .status()
        .unwrap();
    let changed = sshd.dir.0.join("changed_known_hosts");
    let pubkey = std::fs::read_to_string(other.with_extension("pub"))
        .unwrap_or_else(|_| std::fs::read_to_string(sshd.dir.0.join("other_key.pub")).unwrap());
    std::fs::write(
        &changed,
        format!("[127.0.0.1]:{} {}", sshd.port, pubkey.trim()),
    )
    .unwrap();
    let e = SshPool::new(cfg(&sshd, changed), 1)
        .exec("true")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("CHANGED"), "{e}");
}

#[tokio::test]
async fn ssh_connect_failure_is_a_transport_error() {
    let sshd = Sshd::start();
    let mut c = cfg(&sshd, sshd.known_hosts.clone());
    let closed = ClosedPort::new();
    c.addr = SocketAddr::from(([127, 0, 0, 1], closed.port));
    let e = SshPool::new(c, 1).exec("true").await.unwrap_err();
    assert!(matches!(e, TransportError::Connect { .. }), "{e:?}");
}

fn http(srv: &FakeOrchestrator, password: &str, redactor: Redactor) -> HttpClient {
    HttpClient::new(
        "loop",
        srv.addr.ip(),
        srv.addr.port(),
        password.into(),
        Duration::from_secs(5),
        RouteGuard::new(None),
        redactor,
    )
}

#[tokio::test]
async fn http_logs_in_once_and_calls_typed_methods() {
    let srv = FakeOrchestrator::start().await;
    let h = http(&srv, PASSWORD, Redactor::default());
    for _ in 0..3 {
        match h
            .call("package.status", serde_json::json!({"id": "lab-chain"}))
            .await
            .unwrap()
        {
            RpcReply::Ok(v) => assert_eq!(v["state"], "running"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(srv.logins.load(Ordering::SeqCst), 1);
    assert_eq!(
        h.call("nope", serde_json::json!({})).await.unwrap(),
        RpcReply::Err {
            code: ErrorCode::MethodNotFound,
            message: "method not found".into()
        }
    );
    assert_eq!(
        h.get(None, "/", true).await.unwrap(),
        (200, "<html><body>Height: 7</body></html>".into())
    );
    assert_eq!(h.get(None, "/missing", false).await.unwrap().0, 404);
    h.reset_session().await;
    h.call("package.status", serde_json::json!({"id": "x"}))
        .await
        .unwrap();
    assert_eq!(srv.logins.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn typed_calls_tell_a_refusal_a_broken_contract_and_an_unreachable_node_apart() {
    let srv = FakeOrchestrator::start().await;
    let h = http(&srv, PASSWORD, Redactor::default());
    let chain = AppId::new("lab-chain").unwrap();
    assert_eq!(
        h.status(&chain).await.unwrap(),
        RpcReply::Ok(AppStatus {
            id: chain.clone(),
            state: AppState::Running,
            desired: None,
            health: Health::Healthy,
            container_id: Some("c0ffee".into()),
            started_at: None,
            error: None,
            reason: None,
        })
    );
    // The fake knows no container-list: a refusal, with its code, is an answer.
    assert_eq!(
        h.list().await.unwrap(),
        RpcReply::Err {
            code: ErrorCode::MethodNotFound,
            message: "method not found".into()
        }
    );
    // A status read as a list breaks the contract: the reply's fault, not the transport's.
    let broken = h
        .call_as::<AppList>("package.status", serde_json::json!({"id": "lab-chain"}))
        .await
        .unwrap_err();
    assert!(matches!(broken, CallError::Reply(_)), "{broken:?}");
    assert_eq!(
        broken.to_string(),
        "package.status answered no apps, expected a list"
    );
    let closed = ClosedPort::new();
    let down = HttpClient::new(
        "loop",
        srv.addr.ip(),
        closed.port,
        PASSWORD.into(),
        Duration::from_secs(5),
        RouteGuard::new(None),
        Redactor::default(),
    );
    let e = down.status(&chain).await.unwrap_err();
    assert!(matches!(e, CallError::Transport(_)), "{e:?}");
}

#[tokio::test]
async fn wrong_password_is_a_login_error_and_secrets_are_redacted() {
    let srv = FakeOrchestrator::start().await;
    let e = http(&srv, "wrong-password", Redactor::default())
        .login()
        .await
        .unwrap_err();
    assert!(matches!(e, TransportError::Login { .. }), "{e:?}");
    let r = Redactor::default();
    let h = http(&srv, PASSWORD, r.clone());
    match h.call("leak", serde_json::json!({})).await.unwrap() {
        RpcReply::Err { message, .. } => {
            assert!(
                !message.contains(PASSWORD) && !message.contains(TOKEN),
                "{message}"
            );
            assert_eq!(
                message,
                "backend failed: password [REDACTED] token [REDACTED]"
            );
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn route_guard_blocks_ssh_and_http_when_the_lab_interface_is_missing() {
    let sshd = Sshd::start();
    let guard = RouteGuard::new(Some("htest-none0".into()));
    let mut c = cfg(&sshd, sshd.known_hosts.clone());
    c.guard = guard.clone();
    let e = SshPool::new(c, 1).exec("true").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        "lab is down: run harness lab up (there is no interface htest-none0)"
    );
    let srv = FakeOrchestrator::start().await;
    let h = HttpClient::new(
        "loop",
        srv.addr.ip(),
        srv.addr.port(),
        PASSWORD.into(),
        Duration::from_secs(5),
        guard,
        Redactor::default(),
    );
    let e = h.login().await.unwrap_err();
    assert!(
        e.to_string().starts_with("lab is down: run harness lab up"),
        "{e}"
    );
    assert_eq!(srv.logins.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn lab_sockets_are_bound_to_the_lab_interface_without_nagle() {
    // Loopback's interface stands in for the lab bridge: the guard passes and every socket
    // (SSH, HTTP, a probe's TCP) is bound to `lo` with SO_BINDTODEVICE. The guard's own
    // sockets (SSH's, a probe's) send small writes at once (TCP_NODELAY); reqwest's do by
    // default.
    let sshd = Sshd::start();
    let lo = RouteGuard::new(Some("lo".into()));
    let mut c = cfg(&sshd, sshd.known_hosts.clone());
    c.guard = lo.clone();
    assert_eq!(
        SshPool::new(c, 1).exec("echo ok").await.unwrap().stdout,
        "ok\n"
    );
    let srv = FakeOrchestrator::start().await;
    let h = HttpClient::new(
        "loop",
        srv.addr.ip(),
        srv.addr.port(),
        PASSWORD.into(),
        Duration::from_secs(5),
        lo.clone(),
        Redactor::default(),
    );
    h.login().await.unwrap();
    let s = lo
        .connect_async("loop", srv.addr, Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(bound_device(s.as_raw_fd()), "lo");
    assert!(s.nodelay().unwrap());
    let s = lo
        .connect("loop", srv.addr, Duration::from_secs(5))
        .unwrap();
    assert_eq!(bound_device(s.as_raw_fd()), "lo");
    assert!(s.nodelay().unwrap());
    let s = RouteGuard::new(None)
        .connect("loop", srv.addr, Duration::from_secs(5))
        .unwrap();
    assert_eq!(bound_device(s.as_raw_fd()), "");
    assert!(s.nodelay().unwrap());
}

/// The interface a socket is bound to (SO_BINDTODEVICE), empty when none.
fn bound_device(fd: std::os::fd::RawFd) -> String {
    let mut name = [0u8; 16];
    let mut len = name.len() as libc::socklen_t;
    // SAFETY: `name` and `len` are valid for the sizes given.
    let rc = unsafe {
        libc::getsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            name.as_mut_ptr().cast(),
            &mut len,
        )
    };
    assert_eq!(rc, 0, "{}", std::io::Error::last_os_error());
    String::from_utf8_lossy(&name[..len as usize])
        .trim_end_matches('\0')
        .to_owned()
}

#[tokio::test]
async fn a_silent_orchestrator_is_a_timeout_naming_its_budget() {
    // Accepts the connection and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = silent.accept().await {
            held.push(s);
        }
    });
    let h = HttpClient::new(
        "loop",
        addr.ip(),
        addr.port(),
        PASSWORD.into(),
        Duration::from_secs(1),
        RouteGuard::new(None),
        Redactor::default(),
    );
    let e = h.login().await.unwrap_err();
    assert!(
        matches!(e, TransportError::Timeout { secs: 1, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string().starts_with("timed out on loop after 1s: "),
        "{e}"
    );
    hold.abort();
}

fn alive(pid: &str) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .map(|s| {
            !s.rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z')
        })
        .unwrap_or(false)
}

#[tokio::test]
async fn a_command_that_trickles_past_its_deadline_times_out_and_the_pool_moves_on() {
    let sshd = Sshd::start();
    let mut c = cfg(&sshd, sshd.known_hosts.clone());
    c.command_timeout = Duration::from_secs(3);
    let pool = std::sync::Arc::new(SshPool::new(c, 1));
    // Warm the pool's one session so the deadline below is all command.
    pool.exec("true").await.unwrap();
    let pid_file = sshd.dir.0.join("trickle.pid");
    let command = format!(
        "echo $$ > {}; while :; do echo tick; sleep 0.2; done",
        pid_file.display()
    );
    let start = Instant::now();
    let trickle = tokio::spawn({
        let (pool, command) = (pool.clone(), command.clone());
        async move { pool.exec(&command).await }
    });
    // Queued behind the trickle on a pool of one: it must run as soon as the deadline passes.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let next = pool.exec("echo next").await.unwrap();
    let next_done = start.elapsed();
    let e = trickle.await.unwrap().unwrap_err();
    assert_eq!(next.stdout, "next\n");
    assert!(
        matches!(&e, TransportError::Timeout { node, secs: 3, what } if node == "loop" && what.contains("while :; do echo tick")),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .starts_with("timed out on loop after 3s: ssh command \"echo $$ > "),
        "{e}"
    );
    assert!(e.to_string().ends_with("(the channel was closed)"), "{e}");
    assert!(
        next_done < Duration::from_secs(3 + 4),
        "the next command waited {next_done:?}"
    );
    // The channel is closed: the remote shell dies at its next write.
    let pid = std::fs::read_to_string(&pid_file).unwrap();
    let pid = pid.trim();
    let gone_by = Instant::now() + Duration::from_secs(10);
    while alive(pid) && Instant::now() < gone_by {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!alive(pid), "the trickling shell {pid} still runs");
    assert_eq!(pool.exec("echo again").await.unwrap().stdout, "again\n");
}

#[tokio::test]
async fn a_silent_command_times_out_at_its_deadline() {
    let sshd = Sshd::start();
    let mut c = cfg(&sshd, sshd.known_hosts.clone());
    c.command_timeout = Duration::from_secs(2);
    let pool = SshPool::new(c, 1);
    let start = Instant::now();
    let e = pool.exec("sleep 30").await.unwrap_err();
    let took = start.elapsed();
    assert!(
        matches!(e, TransportError::Timeout { secs: 2, .. }),
        "{e:?}"
    );
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(2 + 4),
        "{took:?}"
    );
    assert_eq!(pool.exec("echo ok").await.unwrap().stdout, "ok\n");
}

#[tokio::test]
async fn a_command_with_its_own_budget_times_out_at_it_and_dropped_sessions_are_not_reused() {
    let sshd = Sshd::start();
    let pool = SshPool::new(cfg(&sshd, sshd.known_hosts.clone()), 1);
    let start = Instant::now();
    let e = pool
        .exec_within("sleep 30", Duration::from_secs(1))
        .await
        .unwrap_err();
    assert!(
        matches!(e, TransportError::Timeout { secs: 1, .. }),
        "{e:?}"
    );
    assert!(
        start.elapsed() < Duration::from_secs(1 + 4),
        "{:?}",
        start.elapsed()
    );
    let first = pool.exec("echo $PPID").await.unwrap().stdout;
    assert_eq!(
        pool.exec("echo $PPID").await.unwrap().stdout,
        first,
        "pooled"
    );
    pool.drop_idle();
    let fresh = pool.exec("echo $PPID").await.unwrap().stdout;
    assert_ne!(fresh, first, "a dropped session was used again");
}

#[tokio::test]
async fn ten_mib_of_stderr_completes_capped_with_a_note() {
    let sshd = Sshd::start();
    let pool = SshPool::new(cfg(&sshd, sshd.known_hosts.clone()), 1);
    // stderr first and huge, stdout after it: reading one stream to its end before the other
    // would stall here.
    let out = pool
        .exec("head -c 10485760 /dev/zero | tr '\\0' e >&2; echo done; head -c 3000 /dev/zero | tr '\\0' o; exit 4")
        .await
        .unwrap();
    assert_eq!(out.status, 4);
    assert_eq!(out.stdout, format!("done\n{}", "o".repeat(3000)));
    let note = "\n[... 9.0 MiB of stderr cut]";
    assert!(
        out.stderr.ends_with(note),
        "{}",
        &out.stderr[out.stderr.len().saturating_sub(60)..]
    );
    assert_eq!(
        out.stderr.len(),
        harness::transport::OUTPUT_CAP + note.len()
    );
    assert!(
        out.stderr[..harness::transport::OUTPUT_CAP]
            .bytes()
            .all(|b| b == b'e')
    );
}

#[tokio::test]
async fn credentials_in_an_ssh_probes_output_are_masked_by_shape() {
    // What `curl -v` prints when a probe runs it on a node: none of it was ever registered.
    let sshd = Sshd::start();
    let pool = SshPool::new(cfg(&sshd, sshd.known_hosts.clone()), 1);
    let out = pool
        .exec(r#"printf '> Authorization: Bearer abc.def-1\n< Set-Cookie: orchestrator_session=s3ss10n; Path=/\n{"token":"t0k3n","n":1}\n{"token": "t0k3n2"}\n'"#)
        .await
        .unwrap();
    assert_eq!(
        Redactor::default().redact(&out.stdout),
        "> Authorization: Bearer [REDACTED]\n< Set-Cookie: orchestrator_session=[REDACTED]; Path=/\n{\"token\":\"[REDACTED]\",\"n\":1}\n{\"token\": \"[REDACTED]\"}\n"
    );
}

/// A network namespace of this test's own, deleted when dropped (a panic included).
struct Netns(String);

impl Netns {
    fn create() -> Self {
        let name = format!("harness-test-{}", std::process::id());
        // A crashed run with the same pid may have left it.
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(std::process::Stdio::null())
            .status();
        let ns = Self(name);
        ns.ip(&["netns", "add", &ns.0]);
        ns
    }

    fn ip(&self, args: &[&str]) {
        let out = std::process::Command::new("ip")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "ip {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// `ip -n <ns> ...`: only ever inside the namespace.
    fn inside(&self, args: &str) {
        let mut all = vec!["-n", self.0.as_str()];
        all.extend(args.split_whitespace());
        self.ip(&all);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = std::process::Command::new("ip")
            .args(["netns", "del", &self.0])
            .status();
    }
}

/// Why a test that needs root and `ip` cannot run here, if it cannot.
fn netns_unavailable() -> Option<String> {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        return Some("it needs root to create a network namespace".into());
    }
    match std::process::Command::new("ip").arg("-V").output() {
        Ok(o) if o.status.success() => None,
        _ => Some("`ip` (iproute2) is not installed".into()),
    }
}

/// Says loudly that a test did not run (straight to stderr, past libtest's capture), and fails
/// instead when HARNESS_REQUIRE_NETNS=1 says it must run.
fn skip(test: &str, why: &str) {
    if std::env::var_os("HARNESS_REQUIRE_NETNS").is_some_and(|v| v == "1") {
        panic!("{test} could not run and HARNESS_REQUIRE_NETNS=1: {why}");
    }
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "SKIPPED {test}: {why}");
}

const LAB_IF: &str = "htest-lab0";
const OTHER_IF: &str = "htest-other0";

/// Run by `the_guard_asks_the_kernel_inside_a_namespace` under `ip netns exec`; prints what the
/// guard decides for each address. Ignored in a normal run (it means nothing outside the
/// namespace).
#[test]
#[ignore = "helper: run inside a test network namespace"]
fn netns_guard_helper() {
    if std::env::var_os("HARNESS_NETNS_HELPER").is_none() {
        return;
    }
    let ask = |iface: &str, ip: &str| {
        let r = RouteGuard::new(Some(iface.into())).check(ip.parse().unwrap());
        println!(
            "GUARD {iface} {ip} => {}",
            r.map_or_else(|e| e.to_string(), |()| "ok".into())
        );
    };
    ask(LAB_IF, "10.77.0.5");
    ask(LAB_IF, "10.77.0.228");
    ask(LAB_IF, "10.77.0.198");
    ask(LAB_IF, "192.0.2.1");
    ask("htest-none0", "10.77.0.5");
}

#[test]
fn the_guard_asks_the_kernel_inside_a_namespace() {
    let test = "the_guard_asks_the_kernel_inside_a_namespace";
    if let Some(why) = netns_unavailable() {
        skip(test, &why);
        return;
    }
    let ns = Netns::create();
    for cmd in [
        "link set lo up",
        "link add htest-lab0 type veth peer name htest-lab0p",
        "link add htest-other0 type veth peer name htest-other0p",
        "link set htest-lab0 up",
        "link set htest-lab0p up",
        "link set htest-other0 up",
        "link set htest-other0p up",
        "addr add 10.77.0.1/24 dev htest-lab0",
        "addr add 10.99.0.1/24 dev htest-other0",
        // Policy routing: the main table says the lab link, a rule sends .228 elsewhere.
        "route add 10.77.0.228/32 dev htest-other0 table 100",
        "rule add to 10.77.0.228/32 table 100 pref 100",
        // Metrics: two routes for .198, the cheaper one elsewhere.
        "route add 10.77.0.198/32 dev htest-lab0 metric 200",
        "route add 10.77.0.198/32 dev htest-other0 metric 100",
    ] {
        ns.inside(cmd);
    }
    let exe = std::env::current_exe().unwrap();
    let out = std::process::Command::new("ip")
        .args(["netns", "exec", &ns.0])
        .arg(&exe)
        .args([
            "netns_guard_helper",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("HARNESS_NETNS_HELPER", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // libtest prints "test netns_guard_helper ... " before the helper's first line.
    let lines: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.find("GUARD ").map(|at| &l[at..]))
        .collect();
    let off = |ip: &str, found: &str| {
        format!(
            "GUARD {LAB_IF} {ip} => refused to contact {ip}: the kernel routes it through {found}, not the lab interface {LAB_IF}"
        )
    };
    assert_eq!(
        lines,
        [
            format!("GUARD {LAB_IF} 10.77.0.5 => ok"),
            off("10.77.0.228", OTHER_IF),
            off("10.77.0.198", OTHER_IF),
            off("192.0.2.1", "no interface (Network is unreachable (os error 101))"),
            "GUARD htest-none0 10.77.0.5 => lab is down: run harness lab up (there is no interface htest-none0)".into(),
        ]
    );
    drop(ns);
    let list = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    let name = format!("harness-test-{}", std::process::id());
    assert!(
        !String::from_utf8_lossy(&list.stdout)
            .lines()
            .any(|l| l.split_whitespace().next() == Some(name.as_str())),
        "the test namespace {name} was left behind"
    );
}

/// A unix socket on the node, reached through the SSH connection (how podman's API is asked):
/// the request arrives as sent, the whole answer comes back (100 KB, more than one SSH window
/// packet); a path nothing listens on is a refusal, and the session stays good for what follows.
#[tokio::test]
async fn a_socket_channel_carries_one_request_and_its_whole_answer() {
    use std::io::{Read, Write};

    use harness::transport::socket_http;
    let sshd = Sshd::start();
    let pool = SshPool::new(cfg(&sshd, sshd.known_hosts.clone()), 1);
    let path = std::env::temp_dir().join(format!("harness-socket-{}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let listener = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let body = "x".repeat(100_000);
    let answer = format!(
        "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let server = std::thread::spawn(move || {
        let (mut s, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        // The client never half-closes: the request ends at its blank line.
        while !request.ends_with(b"\r\n\r\n") {
            s.read_exact(&mut byte).unwrap();
            request.push(byte[0]);
        }
        s.write_all(answer.as_bytes()).unwrap();
        request
    });
    let request = socket_http::get("/v4.0.0/libpod/containers/lab-chain/json");
    let got = pool
        .forward(path.to_str().unwrap(), &request)
        .await
        .unwrap()
        .expect("the socket listens");
    assert_eq!(server.join().unwrap(), request);
    assert_eq!(socket_http::parse(&got), Ok((200, body)));
    let refused = pool
        .forward(&format!("{}.absent", path.display()), &request)
        .await
        .unwrap();
    assert!(
        refused
            .as_ref()
            .is_err_and(|why| why.contains("Channel open failure")),
        "{refused:?}"
    );
    assert_eq!(pool.exec("echo still").await.unwrap().stdout, "still\n");
    std::fs::remove_file(&path).unwrap();
}
