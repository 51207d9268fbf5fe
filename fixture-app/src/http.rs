//! A tiny HTTP/1.1 server: one request per connection (`Connection: close`), a request line,
//! headers and a `Content-Length` body; enough for health checks, pages and JSON-RPC.
//! It also answers the lab's fault control for every mode: `POST /lab/fault` and, while the
//! mode is unhealthy, `GET /healthz` with 503.

use std::future::Future;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::fault::{Fault, Faults};

/// Largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;
/// Largest request body accepted.
const MAX_BODY: usize = 1024 * 1024;
/// How long a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed request; the query string is dropped from `path`.
#[derive(Debug, PartialEq)]
pub struct Request {
    /// The method, as sent ("GET", "POST").
    pub method: String,
    /// The path without its query string.
    pub path: String,
    /// The body, `Content-Length` bytes long.
    pub body: Vec<u8>,
}

/// A response; always sent with `Content-Length` and `Connection: close`.
#[derive(Debug)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A plain-text response.
    pub fn text(status: u16, body: &str) -> Self {
        Self {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
        }
    }

    /// A 200 HTML page.
    pub fn html(body: String) -> Self {
        Self {
            status: 200,
            content_type: "text/html; charset=utf-8",
            body: body.into_bytes(),
        }
    }

    /// A 200 JSON document.
    pub fn json(value: &serde_json::Value) -> Self {
        Self {
            status: 200,
            content_type: "application/json",
            body: value.to_string().into_bytes(),
        }
    }

    /// The `GET /healthz` answer shared by every mode.
    pub fn ok() -> Self {
        Self::text(200, "ok")
    }

    /// 404 for anything a mode does not route.
    pub fn not_found() -> Self {
        Self::text(404, "not found")
    }

    fn to_bytes(&self) -> Vec<u8> {
        let reason = match self.status {
            200 => "OK",
            400 => "Bad Request",
            404 => "Not Found",
            413 => "Payload Too Large",
            503 => "Service Unavailable",
            _ => "Unknown",
        };
        let mut out = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.status,
            self.content_type,
            self.body.len()
        )
        .into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// Accepts connections until `faults` asks to exit, answering each request with `handler`
/// (fault control and an unhealthy `/healthz` are answered here, before it).
pub async fn serve<H, F>(listener: TcpListener, faults: Faults, handler: H)
where
    H: Fn(Request) -> F + Clone + Send + 'static,
    F: Future<Output = Response> + Send + 'static,
{
    loop {
        let stream = tokio::select! {
            stream = accept(&listener) => stream,
            () = faults.exit_requested() => return,
        };
        tokio::spawn(answer(stream, faults.clone(), handler.clone()));
    }
}

/// Waits for the next connection, riding out transient accept errors.
pub async fn accept(listener: &TcpListener) -> TcpStream {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => return stream,
            // Running out of descriptors is transient; back off instead of exiting.
            Err(e) => {
                eprintln!("fixture-app: failed to accept: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

async fn answer<H, F>(mut stream: TcpStream, faults: Faults, handler: H)
where
    H: Fn(Request) -> F,
    F: Future<Output = Response>,
{
    let mut exit = false;
    let response = match tokio::time::timeout(READ_TIMEOUT, read_request(&mut stream)).await {
        Err(_) => return,
        Ok(Err(refusal)) => refusal,
        Ok(Ok(request)) => match (request.method.as_str(), request.path.as_str()) {
            ("POST", "/lab/fault") => match std::str::from_utf8(&request.body)
                .map_err(|_| "fault body is not utf-8".to_string())
                .and_then(Fault::parse)
            {
                // Exit only once the reply is out; the other faults before it, so the client
                // sees them in force as soon as it has the reply.
                Ok(Fault::Exit) => {
                    exit = true;
                    Response::text(200, Fault::Exit.reply())
                }
                Ok(fault) => {
                    faults.apply(fault);
                    Response::text(200, fault.reply())
                }
                Err(refusal) => Response::text(400, &refusal),
            },
            ("GET", "/healthz") if faults.is_unhealthy() => Response::text(503, "unhealthy"),
            _ => handler(request).await,
        },
    };
    // The client may already be gone; there is nobody left to tell.
    let _ = stream.write_all(&response.to_bytes()).await;
    let _ = stream.shutdown().await;
    if exit {
        faults.apply(Fault::Exit);
    }
}

/// Reads one request; `Err` carries the refusal to send instead.
async fn read_request(stream: &mut TcpStream) -> Result<Request, Response> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > MAX_HEAD {
            return Err(Response::text(400, "request head too large"));
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Err(Response::text(400, "truncated request")),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let (method, path, length) =
        parse_head(&buf[..head_end]).map_err(|e| Response::text(400, &e))?;
    if length > MAX_BODY {
        return Err(Response::text(413, "request body too large"));
    }
    let mut body = buf.split_off(head_end + 4);
    while body.len() < length {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Err(Response::text(400, "truncated body")),
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    body.truncate(length);
    Ok(Request { method, path, body })
}

/// Parses a request head (without the blank line) into method, path and body length.
fn parse_head(head: &[u8]) -> Result<(String, String, usize), String> {
    let head = std::str::from_utf8(head).map_err(|_| "request head is not utf-8".to_string())?;
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(format!("bad request line: {request_line:?}"));
    };
    if !version.starts_with("HTTP/1.") || !target.starts_with('/') {
        return Err(format!("bad request line: {request_line:?}"));
    }
    let mut length = 0;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| format!("bad header: {line:?}"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value
                .parse()
                .map_err(|_| format!("bad content-length: {value:?}"))?;
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err("chunked bodies are not supported".into());
        }
    }
    let path = target.split('?').next().unwrap_or(target);
    Ok((method.to_string(), path.to_string(), length))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_head_reads_method_path_and_length() {
        let head = b"POST /rpc?x=1 HTTP/1.1\r\nHost: a\r\ncontent-length: 12";
        assert_eq!(parse_head(head), Ok(("POST".into(), "/rpc".into(), 12)));
    }

    #[test]
    fn parse_head_refuses_garbage() {
        assert_eq!(
            parse_head(b"hello"),
            Err("bad request line: \"hello\"".into())
        );
        assert_eq!(
            parse_head(b"GET / HTTP/1.1\r\nContent-Length: x"),
            Err("bad content-length: \"x\"".into())
        );
        assert_eq!(
            parse_head(b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked"),
            Err("chunked bodies are not supported".into())
        );
    }

    #[test]
    fn response_bytes_are_exact() {
        assert_eq!(
            String::from_utf8(Response::ok().to_bytes()).unwrap(),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
        );
    }
}
