//! `index` mode (mirrors electrumx): a TCP line protocol, one reply line per command line:
//! `version`, `height` (lab-chain's) and `ping`.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::client::{self, ChainUrl};
use crate::http;

/// Serves the line protocol on `listener`, asking `chain` for `height`.
pub async fn serve(listener: TcpListener, chain: ChainUrl) {
    let chain = Arc::new(chain);
    loop {
        let stream = http::accept(&listener).await;
        let chain = chain.clone();
        tokio::spawn(async move { session(stream, &chain).await });
    }
}

async fn session(stream: TcpStream, chain: &ChainUrl) -> io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let reply = answer(line.trim(), chain).await;
        write.write_all(format!("{reply}\n").as_bytes()).await?;
    }
    Ok(())
}

/// The reply line to one command.
async fn answer(command: &str, chain: &ChainUrl) -> String {
    match command {
        "version" => "lab-index 1".into(),
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
        let task = tokio::spawn(serve(listener, unreachable_url().await));
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
        let task = tokio::spawn(serve(listener, url(chain_addr)));
        let height: u64 = talk(addr, "height\n").await[0].parse().unwrap();
        assert!((99..=100).contains(&height), "{height}");
        task.abort();
        chain.abort();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
