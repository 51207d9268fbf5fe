//! Health checks the orchestrator runs itself: HTTP GET or TCP connect on loopback (1 s timeout),
//! or a command inside the container via `podman exec` (killed after [`COMMAND_TIMEOUT`]).

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::time::Duration;

use crate::backend::{Commands, Program};
use crate::manifest::{AppId, Health};
use crate::state::HealthState;

const TIMEOUT: Duration = Duration::from_secs(1);

/// The budget of a health command: a check that hangs is unhealthy, and a tick waits no longer.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `check` for app `id`.
pub fn probe(check: &Health, id: &AppId, cmd: &Commands) -> HealthState {
    let ok = match check {
        Health::Tcp { port } => connect(*port).is_some(),
        Health::Http { port, path } => http_ok(*port, path).unwrap_or(false),
        Health::Command(argv) => {
            let mut args = vec!["exec", id.as_str()];
            args.extend(argv.iter().map(String::as_str));
            cmd.run_status_within(Program::Podman, &args, COMMAND_TIMEOUT)
                .is_ok_and(|o| o.success)
        }
    };
    if ok {
        HealthState::Healthy
    } else {
        HealthState::Unhealthy
    }
}

fn connect(port: u16) -> Option<TcpStream> {
    let stream =
        TcpStream::connect_timeout(&SocketAddr::from((Ipv4Addr::LOCALHOST, port)), TIMEOUT).ok()?;
    stream.set_read_timeout(Some(TIMEOUT)).ok()?;
    stream.set_write_timeout(Some(TIMEOUT)).ok()?;
    Some(stream)
}

/// Whether `GET path` answers 2xx or 3xx.
fn http_ok(port: u16, path: &str) -> Option<bool> {
    let mut s = connect(port)?;
    let request =
        format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    s.write_all(request.as_bytes()).ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).ok()?;
    let status = std::str::from_utf8(&head).ok()?;
    Some(status.starts_with("HTTP/1.") && matches!(status.as_bytes()[9], b'2' | b'3'))
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::sync::Arc;

    use super::*;
    use crate::backend::SystemExecutor;

    fn serve_once(reply: &'static str) -> u16 {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        std::thread::spawn(move || {
            if let Ok((mut s, _)) = l.accept() {
                let mut seen = Vec::new();
                let mut buf = [0u8; 512];
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = s.write_all(reply.as_bytes());
            }
        });
        port
    }

    #[test]
    fn http_and_tcp_checks_on_loopback() {
        let cmd = Commands::new(Arc::new(SystemExecutor::new()));
        let id = AppId::parse("x").unwrap();
        let port = serve_once("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
        assert_eq!(
            probe(
                &Health::Http {
                    port,
                    path: "/healthz".into()
                },
                &id,
                &cmd
            ),
            HealthState::Healthy
        );
        let port = serve_once("HTTP/1.1 503 Service Unavailable\r\n\r\n");
        assert_eq!(
            probe(
                &Health::Http {
                    port,
                    path: "/healthz".into()
                },
                &id,
                &cmd
            ),
            HealthState::Unhealthy
        );
        let open = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = open.local_addr().unwrap().port();
        assert_eq!(
            probe(&Health::Tcp { port }, &id, &cmd),
            HealthState::Healthy
        );
        let closed = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        assert_eq!(
            probe(&Health::Tcp { port: closed }, &id, &cmd),
            HealthState::Unhealthy
        );
    }
}
