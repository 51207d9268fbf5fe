//! A tiny HTTP client for lab-chain's JSON-RPC: plain TCP, one request per connection,
//! one second for the whole call.

use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::error::Error;

/// Time allowed for connect, request and reply together.
pub const CALL_TIMEOUT: Duration = Duration::from_secs(1);
/// Largest reply read.
const MAX_REPLY: u64 = 1024 * 1024;

/// Where lab-chain's JSON-RPC answers: `http://host:port/path`.
#[derive(Debug, Clone, PartialEq)]
pub struct ChainUrl {
    host: String,
    port: u16,
    path: String,
}

impl ChainUrl {
    /// Parses an `http://` URL; the port defaults to 80 and the path to `/`.
    pub fn parse(url: &str) -> Result<Self, Error> {
        let bad = |why: &str| Error::Usage(format!("bad chain url {url:?}: {why}"));
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("only http:// is supported"))?;
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| rest.split_at(i));
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) if !port.contains(']') => {
                (host, port.parse().map_err(|_| bad("bad port"))?)
            }
            _ => (authority, 80),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        Ok(Self {
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }
}

impl fmt::Display for ChainUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.host.contains(':') {
            true => write!(f, "http://[{}]:{}{}", self.host, self.port, self.path),
            false => write!(f, "http://{}:{}{}", self.host, self.port, self.path),
        }
    }
}

/// Asks lab-chain for its height with `getinfo`.
pub async fn chain_height(url: &ChainUrl) -> Result<u64, Error> {
    let call = json!({"jsonrpc": "2.0", "id": 1, "method": "getinfo"}).to_string();
    let (status, body) = request(&url.host, url.port, "POST", &url.path, call.as_bytes()).await?;
    if status != 200 {
        return Err(Error::Chain(format!("{url} answered HTTP {status}")));
    }
    let reply: Value = serde_json::from_slice(&body)
        .map_err(|_| Error::Chain(format!("{url} answered invalid JSON")))?;
    reply
        .pointer("/result/height")
        .and_then(Value::as_u64)
        .ok_or_else(|| Error::Chain(format!("{url} answered without a height")))
}

/// Sends one HTTP request and returns the status and body of the reply.
pub async fn request(
    host: &str,
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), Error> {
    tokio::time::timeout(CALL_TIMEOUT, exchange(host, port, method, path, body))
        .await
        .map_err(|_| {
            Error::Chain(format!(
                "no answer from {host}:{port} within {CALL_TIMEOUT:?}"
            ))
        })?
}

async fn exchange(
    host: &str,
    port: u16,
    method: &str,
    path: &str,
    body: &[u8],
) -> Result<(u16, Vec<u8>), Error> {
    let failed =
        |what: &str, e: io::Error| Error::Chain(format!("failed to {what} {host}:{port}: {e}"));
    let mut stream = connect(host, port)
        .await
        .map_err(|e| failed("connect to", e))?;
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let mut request = head.into_bytes();
    request.extend_from_slice(body);
    stream
        .write_all(&request)
        .await
        .map_err(|e| failed("send to", e))?;
    let mut reply = Vec::new();
    stream
        .take(MAX_REPLY)
        .read_to_end(&mut reply)
        .await
        .map_err(|e| failed("read from", e))?;
    parse_reply(&reply).map_err(|why| Error::Chain(format!("bad reply from {host}:{port}: {why}")))
}

async fn connect(host: &str, port: u16) -> io::Result<TcpStream> {
    // A static binary in a scratch image has no NSS, so the usual hosts skip getaddrinfo.
    if host == "localhost" {
        return TcpStream::connect((Ipv4Addr::LOCALHOST, port)).await;
    }
    match host.parse::<IpAddr>() {
        Ok(ip) => TcpStream::connect((ip, port)).await,
        Err(_) => TcpStream::connect((host, port)).await,
    }
}

/// Splits a whole reply (the server closed the connection) into status and body.
fn parse_reply(reply: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let end = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of head")?;
    let head = String::from_utf8_lossy(&reply[..end]);
    let status_line = head.lines().next().unwrap_or_default();
    let status = match status_line.split(' ').collect::<Vec<_>>()[..] {
        [version, code, ..] if version.starts_with("HTTP/1.") => code.parse().ok(),
        _ => None,
    };
    let status = status.ok_or_else(|| format!("bad status line {status_line:?}"))?;
    Ok((status, reply[end + 4..].to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chain_urls() {
        let url = ChainUrl::parse("http://127.0.0.1:18443/").unwrap();
        assert_eq!(
            url,
            ChainUrl {
                host: "127.0.0.1".into(),
                port: 18443,
                path: "/".into()
            }
        );
        assert_eq!(
            ChainUrl::parse("http://localhost").unwrap().to_string(),
            "http://localhost:80/"
        );
        assert_eq!(
            ChainUrl::parse("http://[::1]:9/rpc").unwrap().to_string(),
            "http://[::1]:9/rpc"
        );
        assert_eq!(
            ChainUrl::parse("https://x/").unwrap_err().to_string(),
            "bad chain url \"https://x/\": only http:// is supported"
        );
        assert_eq!(
            ChainUrl::parse("http://x:y/").unwrap_err().to_string(),
            "bad chain url \"http://x:y/\": bad port"
        );
    }

    #[test]
    fn parses_replies() {
        let reply = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi";
        assert_eq!(parse_reply(reply), Ok((200, b"hi".to_vec())));
        assert_eq!(
            parse_reply(b"SSH-2.0\r\n\r\n"),
            Err("bad status line \"SSH-2.0\"".into())
        );
        assert_eq!(
            parse_reply(b"HTTP/1.1 200 OK"),
            Err("no end of head".into())
        );
    }
}
