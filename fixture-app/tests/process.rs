//! The built binary as a plain process: every mode exits 0 promptly on SIGTERM, SIGINT and
//! the lab's `exit` fault, reports `LAB_APP_VERSION`, and a bad command line exits 2.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fixture-app");
const MODES: [&str; 5] = ["chain", "wallet", "index", "explorer", "chain-ui"];

/// A started mode: the process, its data folder and the port it listens on.
struct Started {
    child: Child,
    data: std::path::PathBuf,
    port: u16,
}

impl Drop for Started {
    /// A failed assertion must not leave the process running.
    fn drop(&mut self) {
        if self.child.try_wait().is_ok_and(|status| status.is_none()) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `mode` on loopback port 0 with `LAB_APP_VERSION=version` (unset for `None`) and
/// waits until it listens.
fn start(mode: &str, tag: &str, version: Option<&str>) -> Started {
    let data = std::env::temp_dir().join(format!(
        "fixture-app-process-{}-{mode}{tag}",
        std::process::id()
    ));
    let mut command = Command::new(BIN);
    command.args([
        mode,
        "--bind",
        "127.0.0.1",
        "--port",
        "0",
        "--data",
        data.to_str().unwrap(),
    ]);
    match version {
        Some(version) => command.env("LAB_APP_VERSION", version),
        None => command.env_remove("LAB_APP_VERSION"),
    };
    let mut child = command.stderr(Stdio::piped()).spawn().unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let expected = format!(
        "fixture-app: {mode} version {} listening on 127.0.0.1:",
        version.unwrap_or("1")
    );
    let port = line
        .trim()
        .strip_prefix(&expected)
        .unwrap_or_else(|| panic!("{mode}: {line}"))
        .parse()
        .unwrap();
    Started { child, data, port }
}

/// Waits up to 2 s for `started` to exit after `what`; returns how long it took.
fn time_to_exit(mut started: Started, mode: &str, what: &str, sent: Instant) -> Duration {
    let status = loop {
        if let Some(status) = started.child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(2) {
            started.child.kill().unwrap();
            started.child.wait().unwrap();
            panic!("{mode} still running 2 s after {what}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = std::fs::remove_dir_all(&started.data);
    assert_eq!(status.code(), Some(0), "{mode} after {what}");
    sent.elapsed()
}

/// Starts `mode` on loopback, sends `signal` once it listens, and returns how long it took to exit.
fn time_to_stop(mode: &str, signal: &str) -> Duration {
    let started = start(mode, signal, None);
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args([signal, &started.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    time_to_exit(started, mode, signal, sent)
}

/// Sends `request` on a new connection to `port`, ends the sending side, and returns
/// everything the server sent back.
fn exchange(port: u16, request: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    stream.write_all(request.as_bytes()).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
    let mut reply = String::new();
    stream.read_to_string(&mut reply).unwrap();
    reply
}

/// An HTTP/1.1 request with a body, as the harness sends it.
fn http(method: &str, path: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// The exact reply of the fixture's server with a plain-text `body`.
fn text_reply(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[test]
fn every_mode_exits_zero_within_a_second_on_sigterm_and_sigint() {
    for mode in MODES {
        for signal in ["-TERM", "-INT"] {
            let took = time_to_stop(mode, signal);
            assert!(
                took < Duration::from_secs(1),
                "{mode} took {took:?} after {signal}"
            );
        }
    }
}

#[test]
fn every_mode_exits_zero_on_the_exit_fault() {
    for mode in MODES {
        let started = start(mode, "-fault", None);
        let sent = Instant::now();
        let reply = match mode {
            "index" => exchange(started.port, "fault exit\n"),
            _ => exchange(started.port, &http("POST", "/lab/fault", "exit")),
        };
        let expected = match mode {
            "index" => "exiting\n".to_string(),
            _ => text_reply("exiting"),
        };
        assert_eq!(reply, expected, "{mode}");
        let took = time_to_exit(started, mode, "the exit fault", sent);
        assert!(took < Duration::from_secs(1), "{mode} took {took:?}");
    }
}

#[test]
fn lab_app_version_is_reported() {
    let started = start("chain-ui", "-version", Some("2"));
    assert_eq!(
        exchange(started.port, &http("GET", "/version", "")),
        text_reply("2")
    );
    let sent = Instant::now();
    exchange(started.port, &http("POST", "/lab/fault", "exit"));
    time_to_exit(started, "chain-ui", "the exit fault", sent);

    let started = start("index", "-version", None);
    assert_eq!(exchange(started.port, "version\n"), "lab-index 1\n");
    let sent = Instant::now();
    exchange(started.port, "fault exit\n");
    time_to_exit(started, "index", "the exit fault", sent);
}

#[test]
fn bad_command_line_exits_two() {
    let output = Command::new(BIN).arg("miner").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("fixture-app: unknown mode \"miner\"\nusage: fixture-app <chain|"),
        "{stderr}"
    );
}
