//! `index` mode (mirrors electrumx): a TCP line protocol, one reply line per command line:
//! `version`, `height` (lab-chain's), `ping`, and the lab's `fault unhealthy|healthy|exit`.
//!
//! Its manifest's health check is a TCP connect, so `fault unhealthy` closes the listening
//! socket (new connections are refused) while open connections keep being served; `fault
//! healthy` on one of them listens again on the same address.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::client::{self, ChainUrl};
use crate::error::Error;
use crate::fault::{Fault, Faults};
use crate::http;

/// Serves the line protocol on `listener`, asking `chain` for `height`, until the `exit` fault.
pub async fn serve(
    listener: TcpListener,
    chain: ChainUrl,
    version: &'static str,
    faults: Faults,
) -> Result<(), Error> {
    let addr = listener
        .local_addr()
        .map_err(|e| Error::io("read the bound address", e))?;
    let chain = Arc::new(chain);
    let mut listening = Some(listener);
    loop {
        let Some(listener) = &listening else {
            tokio::select! {
                () = faults.health_is(false) => listening = Some(listen(addr).await?),
                () = faults.exit_requested() => return Ok(()),
            }
            continue;
        };
        tokio::select! {
            stream = http::accept(listener) => {
                let (chain, faults) = (chain.clone(), faults.clone());
                tokio::spawn(async move { session(stream, &chain, version, &faults).await });
            }
            // Dropping the listener closes it: the TCP health check is refused from now on.
            () = faults.health_is(true) => listening = None,
            () = faults.exit_requested() => return Ok(()),
        }
    }
}

/// Listens on `addr` again once healthy (the port may still hold closed connections).
async fn listen(addr: SocketAddr) -> Result<TcpListener, Error> {
    TcpListener::bind(addr)
        .await
        .map_err(|e| Error::io(format!("listen again on {addr}"), e))
}

async fn session(
    stream: TcpStream,
    chain: &ChainUrl,
    version: &str,
    faults: &Faults,
) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let line = line.trim();
        let fault = line.strip_prefix("fault ").map(Fault::parse);
        let reply = match &fault {
            // Exit only once the reply is out; the other faults before it.
            Some(Ok(fault)) => {
                if *fault != Fault::Exit {
                    faults.apply(*fault);
                }
                fault.reply().to_string()
            }
            Some(Err(refusal)) => format!("error {refusal}"),
            None => answer(line, chain, version).await,
        };
        write.write_all(format!("{reply}\n").as_bytes()).await?;
        if fault == Some(Ok(Fault::Exit)) {
            faults.apply(Fault::Exit);
        }
    }
    Ok(())
}

/// The reply line to one command other than `fault`.
async fn answer(command: &str, chain: &ChainUrl, version: &str) -> String {
    match command {
        "version" => format!("lab-index {version}"),
        "ping" => "pong".into(),
        "height" => match client::chain_height(chain).await {
            Ok(height) => height.to_string(),
            Err(e) => format!("error lab-chain unreachable: {e}"),
        },
        _ => "error unknown command".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{bind, scratch_dir, spawn_chain, unreachable_url, url};
    use std::time::Duration;
    use tokio::io::Lines;
    use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

    /// Sends `commands` on one connection and returns the reply lines.
    async fn talk(addr: std::net::SocketAddr, commands: &str) -> Vec<String> {
        let stream = TcpStream::connect(addr).await.unwrap();
        let (read, mut write) = stream.into_split();
        write.write_all(commands.as_bytes()).await.unwrap();
        write.shutdown().await.unwrap();
        let mut lines = BufReader::new(read).lines();
        let mut replies = Vec::new();
        while let Some(line) = lines.next_line().await.unwrap() {
            replies.push(line);
        }
        replies
    }

    #[tokio::test]
    async fn answers_each_command_line() {
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, unreachable_url().await, "1", Faults::new()));
        let replies = talk(addr, "version\nping\r\nbogus\n\nheight\n").await;
        assert_eq!(
            replies[..4],
            [
                "lab-index 1",
                "pong",
                "error unknown command",
                "error unknown command"
            ]
        );
        assert!(
            replies[4].starts_with("error lab-chain unreachable: failed to connect to"),
            "{}",
            replies[4]
        );
        assert_eq!(replies.len(), 5);
        task.abort();
    }

    #[tokio::test]
    async fn height_comes_from_chain() {
        let dir = scratch_dir("index");
        std::fs::write(dir.join("height"), "99").unwrap();
        let (chain_addr, chain) = spawn_chain(&dir).await;
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, url(chain_addr), "1", Faults::new()));
        let height: u64 = talk(addr, "height\n").await[0].parse().unwrap();
        assert!((99..=100).contains(&height), "{height}");
        task.abort();
        chain.abort();
        std::fs::remove_dir_all(dir).unwrap();
    }

    /// An open connection, one command and one reply line at a time.
    struct Conversation {
        lines: Lines<BufReader<OwnedReadHalf>>,
        write: OwnedWriteHalf,
    }

    impl Conversation {
        async fn open(addr: std::net::SocketAddr) -> Self {
            let (read, write) = TcpStream::connect(addr).await.unwrap().into_split();
            let lines = BufReader::new(read).lines();
            Self { lines, write }
        }

        async fn ask(&mut self, command: &str) -> String {
            self.write
                .write_all(format!("{command}\n").as_bytes())
                .await
                .unwrap();
            self.lines.next_line().await.unwrap().unwrap()
        }
    }

    /// Whether, within 1 s, new connections to `addr` come to be accepted (`accepting`) or
    /// refused (`!accepting`).
    async fn comes_to_accept(addr: std::net::SocketAddr, accepting: bool) -> bool {
        for _ in 0..100 {
            if TcpStream::connect(addr).await.is_ok() == accepting {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        false
    }

    #[tokio::test]
    async fn reports_its_version_and_obeys_faults() {
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, unreachable_url().await, "2", Faults::new()));
        let mut held = Conversation::open(addr).await;
        assert_eq!(held.ask("version").await, "lab-index 2");
        assert_eq!(held.ask("fault unhealthy").await, "unhealthy");
        // The manifest's health check is a TCP connect: it is refused now.
        assert!(comes_to_accept(addr, false).await);
        assert_eq!(held.ask("ping").await, "pong");
        assert_eq!(
            held.ask("fault restart").await,
            "error unknown fault \"restart\": expected unhealthy, healthy or exit"
        );
        assert_eq!(held.ask("fault").await, "error unknown command");
        assert_eq!(held.ask("fault healthy").await, "healthy");
        assert!(comes_to_accept(addr, true).await);
        let mut fresh = Conversation::open(addr).await;
        assert_eq!(fresh.ask("version").await, "lab-index 2");
        assert_eq!(fresh.ask("fault exit").await, "exiting");
        let result = tokio::time::timeout(Duration::from_secs(1), task)
            .await
            .expect("index still serves after the exit fault")
            .unwrap();
        assert!(result.is_ok(), "{result:?}");
    }
}
