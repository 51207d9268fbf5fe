//! What the accept loop does when `accept` fails (EMFILE, ENFILE, ENOBUFS...): wait, longer each
//! time up to a ceiling, instead of spinning, and say so in the log once per period with how
//! many failures it did not log.

use std::time::{Duration, Instant};

/// The first wait after a failure.
pub const FIRST: Duration = Duration::from_millis(10);
/// The longest wait, and the period at most one failure is logged in.
pub const CEILING: Duration = Duration::from_secs(1);

/// Backoff state of one accept loop.
#[derive(Debug, Default)]
pub struct AcceptBackoff {
    next: Option<Duration>,
    logged_at: Option<Instant>,
    unlogged: u64,
}

/// What to do about one failure.
#[derive(Debug, PartialEq, Eq)]
pub struct Failure {
    /// How long to wait before accepting again.
    pub wait: Duration,
    /// The line to log, if this failure is the one logged in its period.
    pub log: Option<String>,
}

impl AcceptBackoff {
    /// A failure `error` at `now`.
    pub fn failed(&mut self, now: Instant, error: &str) -> Failure {
        let wait = self.next.unwrap_or(FIRST);
        self.next = Some((wait * 2).min(CEILING));
        let due = self
            .logged_at
            .is_none_or(|t| now.duration_since(t) >= CEILING);
        let log = if due {
            let also = match self.unlogged {
                0 => String::new(),
                n => format!(" ({n} more since the last report)"),
            };
            self.logged_at = Some(now);
            self.unlogged = 0;
            Some(format!(
                "accept failed: {error}{also}; accepting again in {} ms",
                wait.as_millis()
            ))
        } else {
            self.unlogged += 1;
            None
        };
        Failure { wait, log }
    }

    /// An accept succeeded: the next failure waits [`FIRST`] again.
    pub fn succeeded(&mut self) {
        self.next = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_to_the_ceiling_and_log_once_a_period() {
        let mut b = AcceptBackoff::default();
        let t0 = Instant::now();
        let ms = Duration::from_millis;
        let first = b.failed(t0, "Too many open files (os error 24)");
        assert_eq!(
            first,
            Failure {
                wait: ms(10),
                log: Some(
                    "accept failed: Too many open files (os error 24); accepting again in 10 ms"
                        .into()
                )
            }
        );
        let waits: Vec<_> = (1..=8)
            .map(|i| b.failed(t0 + ms(i * 100), "EMFILE"))
            .map(|f| (f.wait.as_millis(), f.log.is_some()))
            .collect();
        assert_eq!(
            waits,
            [
                (20, false),
                (40, false),
                (80, false),
                (160, false),
                (320, false),
                (640, false),
                (1000, false),
                (1000, false)
            ]
        );
        let later = b.failed(t0 + ms(1000), "EMFILE");
        assert_eq!(
            later.log.as_deref(),
            Some(
                "accept failed: EMFILE (8 more since the last report); accepting again in 1000 ms"
            )
        );
        b.succeeded();
        assert_eq!(b.failed(t0 + ms(1100), "EMFILE").wait, ms(10));
    }
}
