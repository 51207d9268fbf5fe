//! Helpers for the in-crate tests: loopback listeners on port 0, calls to a served mode,
//! scratch directories.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::chain::{self, HeightFile};
use crate::client::{self, ChainUrl};
use crate::fault::Faults;

/// A listener on 127.0.0.1 port 0 and its address.
pub async fn bind() -> (TcpListener, SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// The chain URL of a server at `addr`.
pub fn url(addr: SocketAddr) -> ChainUrl {
    ChainUrl::parse(&format!("http://{addr}/")).unwrap()
}

/// A loopback URL where nothing listens (the port was bound, then released).
pub async fn unreachable_url() -> ChainUrl {
    let (listener, addr) = bind().await;
    drop(listener);
    url(addr)
}

/// `GET path` from `addr`: status and body text.
pub async fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let (status, body) = client::request("127.0.0.1", addr.port(), "GET", path, b"")
        .await
        .unwrap();
    (status, String::from_utf8(body).unwrap())
}

/// `POST path` with `body` to `addr`: status and body text.
pub async fn post(addr: SocketAddr, path: &str, body: &str) -> (u16, String) {
    let (status, body) = client::request("127.0.0.1", addr.port(), "POST", path, body.as_bytes())
        .await
        .unwrap();
    (status, String::from_utf8(body).unwrap())
}

/// Walks an HTTP mode served at `addr` by `task` through the fault control: unhealthy (only
/// `/healthz` fails; `other_path` keeps answering 200), a refused fault, healthy, then exit
/// (the task ends).
pub async fn check_http_faults<T: std::fmt::Debug>(
    addr: SocketAddr,
    other_path: &str,
    task: JoinHandle<T>,
) {
    let fault = |body| post(addr, "/lab/fault", body);
    assert_eq!(fault("unhealthy").await, (200, "unhealthy".into()));
    assert_eq!(get(addr, "/healthz").await, (503, "unhealthy".into()));
    assert_eq!(get(addr, other_path).await.0, 200);
    assert_eq!(
        fault("restart").await,
        (
            400,
            "unknown fault \"restart\": expected unhealthy, healthy or exit".into()
        )
    );
    assert_eq!(get(addr, "/healthz").await, (503, "unhealthy".into()));
    assert_eq!(fault("healthy\n").await, (200, "healthy".into()));
    assert_eq!(get(addr, "/healthz").await, (200, "ok".into()));
    assert_eq!(get(addr, "/lab/fault").await, (404, "not found".into()));
    assert_eq!(fault("exit").await, (200, "exiting".into()));
    tokio::time::timeout(std::time::Duration::from_secs(1), task)
        .await
        .expect("the mode still serves after the exit fault")
        .unwrap();
}

/// Calls JSON-RPC `method` at `addr` and returns the whole reply.
pub async fn rpc(addr: SocketAddr, method: &str) -> Value {
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": method}).to_string();
    let (status, body) = client::request("127.0.0.1", addr.port(), "POST", "/", call.as_bytes())
        .await
        .unwrap();
    assert_eq!(status, 200);
    serde_json::from_slice(&body).unwrap()
}

/// Starts a chain (version "1") on loopback with its data in `dir`.
pub async fn spawn_chain(dir: &std::path::Path) -> (SocketAddr, JoinHandle<()>) {
    let (listener, addr) = bind().await;
    let file = HeightFile::open(dir).unwrap();
    let task = tokio::spawn(async move {
        chain::serve(listener, file, "1", Faults::new())
            .await
            .unwrap()
    });
    (addr, task)
}

/// A fresh, empty scratch directory unique to this process and call.
pub fn scratch_dir(name: &str) -> PathBuf {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!("fixture-app-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
