//! The built binary as a plain process: every mode exits 0 promptly on SIGTERM and SIGINT,
//! and a bad command line exits 2.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_fixture-app");
const MODES: [&str; 5] = ["chain", "wallet", "index", "explorer", "chain-ui"];

/// Starts `mode` on loopback, sends `signal` once it listens, and returns how long it took to exit.
fn time_to_stop(mode: &str, signal: &str) -> Duration {
    let data = std::env::temp_dir().join(format!(
        "fixture-app-process-{}-{mode}{signal}",
        std::process::id()
    ));
    let mut child = Command::new(BIN)
        .args([
            mode,
            "--bind",
            "127.0.0.1",
            "--port",
            "0",
            "--data",
            data.to_str().unwrap(),
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stderr.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("listening on 127.0.0.1:"), "{mode}: {line}");
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if sent.elapsed() > Duration::from_secs(2) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("{mode} still running 2 s after {signal}");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let _ = std::fs::remove_dir_all(&data);
    assert_eq!(status.code(), Some(0), "{mode} after {signal}");
    sent.elapsed()
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
fn bad_command_line_exits_two() {
    let output = Command::new(BIN).arg("miner").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("fixture-app: unknown mode \"miner\"\nusage: fixture-app <chain|"),
        "{stderr}"
    );
}
