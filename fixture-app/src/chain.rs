//! `chain` mode (mirrors bitcoin-knots): a height that grows by one per second, persisted
//! atomically in the data directory so it never goes backwards, served by JSON-RPC `getinfo`.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::json;
use tokio::net::TcpListener;
use tokio::time::{Instant, MissedTickBehavior};

use crate::error::Error;
use crate::fault::Faults;
use crate::html;
use crate::http::{self, Request, Response};
use crate::rpc::Call;

/// Time between two blocks.
const BLOCK_INTERVAL: Duration = Duration::from_secs(1);

/// The `height` file in the data directory.
pub struct HeightFile {
    dir: PathBuf,
    path: PathBuf,
    tmp: PathBuf,
}

impl HeightFile {
    /// Uses `<dir>/height`, creating `dir` if needed.
    pub fn open(dir: &Path) -> Result<Self, Error> {
        fs::create_dir_all(dir).map_err(|e| Error::io(format!("create {}", dir.display()), e))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            path: dir.join("height"),
            tmp: dir.join(".height.tmp"),
        })
    }

    /// The persisted height; 0 only when none was ever written.
    pub fn load(&self) -> Result<u64, Error> {
        match fs::read_to_string(&self.path) {
            Ok(text) => text.trim().parse().map_err(|_| Error::CorruptHeight {
                path: self.path.display().to_string(),
                value: text,
            }),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(Error::io(format!("read {}", self.path.display()), e)),
        }
    }

    /// Persists `height`: temp file, write, fsync, rename, fsync the directory.
    pub fn store(&self, height: u64) -> Result<(), Error> {
        let write = || -> io::Result<()> {
            let mut tmp = File::create(&self.tmp)?;
            tmp.write_all(format!("{height}\n").as_bytes())?;
            tmp.sync_all()?;
            fs::rename(&self.tmp, &self.path)?;
            File::open(&self.dir)?.sync_all()
        };
        write().map_err(|e| Error::io(format!("write {}", self.path.display()), e))
    }
}

/// Serves the chain on `listener`, growing the height persisted in `file`, until the `exit`
/// fault.
pub async fn serve(
    listener: TcpListener,
    file: HeightFile,
    version: &'static str,
    faults: Faults,
) -> Result<(), Error> {
    let height = Arc::new(AtomicU64::new(file.load()?));
    let shared = height.clone();
    let web = http::serve(listener, faults, move |request| {
        std::future::ready(route(&request, &shared, version))
    });
    tokio::select! {
        () = web => Ok(()),
        result = grow(file, height) => result,
    }
}

/// Adds a block every interval; returns only when the height can no longer be persisted.
async fn grow(file: HeightFile, height: Arc<AtomicU64>) -> Result<(), Error> {
    let mut ticks = tokio::time::interval_at(Instant::now() + BLOCK_INTERVAL, BLOCK_INTERVAL);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        // Persist before publishing, so no client ever sees a height that a crash could lose.
        let next = height.load(Ordering::SeqCst) + 1;
        file.store(next)?;
        height.store(next, Ordering::SeqCst);
    }
}

fn route(request: &Request, height: &AtomicU64, version: &str) -> Response {
    let height = height.load(Ordering::SeqCst);
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/healthz") => Response::ok(),
        ("GET", "/") => Response::html(html::page(
            "lab-chain",
            &format!("<p>Height: {height}</p>\n<p>Chain: lab</p>"),
        )),
        ("POST", "/") => Response::json(&match Call::parse(&request.body) {
            Ok(call) if call.method == "getinfo" => {
                call.reply(json!({"height": height, "chain": "lab", "version": version}))
            }
            Ok(call) => call.unknown(),
            Err(refusal) => refusal,
        }),
        _ => Response::not_found(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{bind, check_http_faults, get, rpc, scratch_dir, spawn_chain};

    #[test]
    fn height_file_round_trips_atomically() {
        let dir = scratch_dir("round-trip");
        let file = HeightFile::open(&dir.join("data")).unwrap();
        assert_eq!(file.load().unwrap(), 0);
        file.store(41).unwrap();
        assert_eq!(file.load().unwrap(), 41);
        assert_eq!(fs::read_to_string(dir.join("data/height")).unwrap(), "41\n");
        assert!(!dir.join("data/.height.tmp").exists());
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn corrupt_height_is_refused_not_reset() {
        let dir = scratch_dir("corrupt");
        fs::write(dir.join("height"), "x").unwrap();
        let err = HeightFile::open(&dir).unwrap().load().unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "failed to read height from {}/height: not a number: \"x\"",
                dir.display()
            )
        );
        fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn serves_health_page_and_getinfo() {
        let dir = scratch_dir("serves");
        let (addr, task) = spawn_chain(&dir).await;
        assert_eq!(get(addr, "/healthz").await, (200, "ok".into()));
        let (status, page) = get(addr, "/").await;
        assert_eq!(status, 200);
        assert!(page.contains("<p>Height: 0</p>"), "{page}");
        assert_eq!(get(addr, "/nope").await, (404, "not found".into()));
        assert_eq!(
            rpc(addr, "getinfo").await["result"],
            json!({"height": 0, "chain": "lab", "version": "1"})
        );
        assert_eq!(rpc(addr, "stop").await["error"]["code"], -32601);
        task.abort();
        fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn height_grows_and_survives_restart() {
        let dir = scratch_dir("restart");
        fs::write(dir.join("height"), "41\n").unwrap();
        let (addr, task) = spawn_chain(&dir).await;
        let first = rpc(addr, "getinfo").await["result"]["height"]
            .as_u64()
            .unwrap();
        assert!((41..=42).contains(&first), "started at {first}");
        let mut grown = first;
        for _ in 0..30 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            grown = rpc(addr, "getinfo").await["result"]["height"]
                .as_u64()
                .unwrap();
            if grown > first {
                break;
            }
        }
        assert!(grown > first, "height did not grow from {first}");
        task.abort();
        let (addr, task) = spawn_chain(&dir).await;
        let restarted = rpc(addr, "getinfo").await["result"]["height"]
            .as_u64()
            .unwrap();
        assert!(restarted >= grown, "went back from {grown} to {restarted}");
        task.abort();
        fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn reports_its_version_and_obeys_faults() {
        let dir = scratch_dir("faults");
        let (listener, addr) = bind().await;
        let file = HeightFile::open(&dir).unwrap();
        let task = tokio::spawn(serve(listener, file, "2", Faults::new()));
        assert_eq!(
            rpc(addr, "getinfo").await["result"],
            json!({"height": 0, "chain": "lab", "version": "2"})
        );
        check_http_faults(addr, "/", task).await;
        fs::remove_dir_all(dir).unwrap();
    }
}
