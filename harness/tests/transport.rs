//! Transports against real peers: OpenSSH sshd on loopback and an HTTP server on port 0.

mod support;

use std::{net::SocketAddr, path::PathBuf, sync::atomic::Ordering, time::Duration};

use harness::{
    fleet::Redactor,
    transport::{HttpNode, RouteGuard, RpcReply, SshConfig, SshPool, TransportError},
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
    let r = pool.exec("echo $PPID").await;
    let second = match r {
        Ok(o) => o.stdout,
        // The first use after the drop may still see the dead session; the next reconnects.
        Err(_) => pool.exec("echo $PPID").await.unwrap().stdout,
    };
    assert_ne!(first, second);
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

fn http(srv: &FakeOrchestrator, password: &str, redactor: Redactor) -> HttpNode {
    HttpNode::new(
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
            code: -32601,
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
async fn route_guard_blocks_ssh_and_http_when_the_lab_route_is_missing() {
    let sshd = Sshd::start();
    let routes = sshd.dir.0.join("route");
    std::fs::write(&routes, "Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\tMTU\tWindow\tIRTT\neth0\t00000000\t0100A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n").unwrap();
    let guard = RouteGuard {
        lab_interface: Some("archy-lab0".into()),
        route_file: routes,
    };
    let mut c = cfg(&sshd, sshd.known_hosts.clone());
    c.guard = guard.clone();
    let e = SshPool::new(c, 1).exec("true").await.unwrap_err();
    assert!(
        e.to_string().starts_with("lab is down: run harness lab up"),
        "{e}"
    );
    let srv = FakeOrchestrator::start().await;
    let h = HttpNode::new(
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
    let h = HttpNode::new(
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
