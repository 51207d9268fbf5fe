//! L0: `cargo test --workspace --no-fail-fast` once on this machine, recorded as one case with
//! the counts summed over every test binary.

use std::{path::Path, time::Instant};

use super::Emitter;
use crate::{
    model::Outcome,
    reporter::{CaseId, EventKind, Timestamp},
};

/// The L0 command's arguments: `--no-fail-fast` so a failing test binary does not stop the
/// others, and the recorded counts cover every binary of the workspace.
const CARGO_TEST_ARGS: [&str; 3] = ["test", "--workspace", "--no-fail-fast"];

/// Sums libtest's `test result:` lines: (passed, failed, ignored).
pub fn parse_libtest_counts(output: &str) -> (u64, u64, u64) {
    let mut t = (0, 0, 0);
    for line in output
        .lines()
        .filter_map(|l| l.trim().strip_prefix("test result: "))
    {
        for part in line.split(';') {
            let mut w = part.split_whitespace().rev();
            let (Some(word), Some(n)) = (w.next(), w.next()) else {
                continue;
            };
            let n: u64 = n.parse().unwrap_or(0);
            match word {
                "passed" => t.0 += n,
                "failed" => t.1 += n,
                "ignored" => t.2 += n,
                _ => {}
            }
        }
    }
    t
}

/// Runs the workspace's tests and emits the L0 case.
pub async fn run_l0(root: &Path, em: &Emitter) {
    let case = CaseId::l0();
    em.emit(EventKind::CaseStarted { case: case.clone() });
    let started_at = Timestamp::now();
    let t0 = Instant::now();
    let out = tokio::process::Command::new("cargo")
        .args(CARGO_TEST_ARGS)
        .current_dir(root)
        .output()
        .await;
    let (outcome, output) = match out {
        Err(e) => (
            Outcome::Error(format!("failed to start cargo test: {e}")),
            String::new(),
        ),
        Ok(o) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            let (p, f, i) = parse_libtest_counts(&text);
            let msg = format!("{p} passed, {f} failed, {i} ignored");
            let outcome = if o.status.success() && f == 0 {
                Outcome::Pass
            } else {
                Outcome::Fail(format!("{msg} (exit {})", o.status.code().unwrap_or(-1)))
            };
            let tail: String = text
                .lines()
                .rev()
                .take(200)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n");
            // The first output line is the counts: results.json shows it as the L0 message.
            (outcome, format!("{msg}\n{tail}"))
        }
    };
    em.emit(EventKind::CaseFinished {
        case,
        outcome,
        started_at,
        duration: t0.elapsed(),
        output,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_every_test_result_line() {
        let text = "running 3 tests\ntest result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s\n\
                    test result: FAILED. 10 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out\n";
        assert_eq!(parse_libtest_counts(text), (13, 2, 1));
        assert_eq!(parse_libtest_counts("no tests here"), (0, 0, 0));
    }

    #[test]
    fn sums_two_binaries_of_a_no_fail_fast_run() {
        // Cargo's output when the first binary fails and `--no-fail-fast` runs the second anyway.
        let text = "\
     Running unittests src/lib.rs (target/debug/deps/harness-0123)

running 3 tests
test a ... ok
test b ... FAILED
test c ... ignored

failures:

---- b stdout ----
assertion failed

failures:
    b

test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s

     Running tests/run.rs (target/debug/deps/run-4567)

running 2 tests
test x ... ok
test y ... ok

test result: ok. 2 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.20s

error: 1 target failed:
    `-p harness --lib`
";
        assert_eq!(parse_libtest_counts(text), (3, 1, 1));
    }

    #[test]
    fn l0_runs_every_test_binary_even_after_a_failure() {
        assert_eq!(CARGO_TEST_ARGS, ["test", "--workspace", "--no-fail-fast"]);
    }
}
