//! Timed benchmark: 100 read-only checks (50 HTTP probes + 50 SSH `true`) against real local
//! peers (sshd on loopback, an HTTP server on port 0). Target: under 5 s.

#[path = "../tests/support/mod.rs"]
mod support;

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use harness::{
    fleet::Redactor,
    transport::{HttpClient, RouteGuard, SshConfig, SshPool},
};

fn main() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let sshd = support::Sshd::start();
        let srv = support::FakeOrchestrator::start().await;
        let sessions = 8;
        let ssh = Arc::new(SshPool::new(
            SshConfig {
                node: "bench".into(),
                addr: SocketAddr::from(([127, 0, 0, 1], sshd.port)),
                user: "root".into(),
                key: sshd.key.clone(),
                known_hosts: sshd.known_hosts.clone(),
                connect_timeout: Duration::from_secs(5),
                command_timeout: Duration::from_secs(10),
                guard: RouteGuard::new(None),
            },
            sessions,
        ));
        let http = Arc::new(HttpClient::new("bench", srv.addr.ip(), srv.addr.port(), support::PASSWORD.into(), Duration::from_secs(5), RouteGuard::new(None), Redactor::default()));
        let t0 = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for i in 0..50 {
            let (ssh, http) = (ssh.clone(), http.clone());
            set.spawn(async move {
                let h = if i % 2 == 0 { http.get(None, "/healthz", false).await.map(|r| r.0 == 200) } else { http.call("package.status", serde_json::json!({"id": "lab-chain"})).await.map(|_| true) };
                let s = ssh.exec("true").await.map(|o| o.status == 0);
                h.unwrap() && s.unwrap()
            });
        }
        let mut ok = 0;
        while let Some(r) = set.join_next().await {
            ok += usize::from(r.unwrap()) * 2;
        }
        let took = t0.elapsed();
        println!("overhead: {ok}/100 read-only checks (50 HTTP incl. login + 50 SSH `true`, {sessions} sessions, connects included) in {:.2}s (target < 5s)", took.as_secs_f64());
        assert_eq!(ok, 100);
        assert!(took < Duration::from_secs(5), "too slow: {took:?}");
    });
}
