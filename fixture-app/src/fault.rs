//! The lab's fault control, shared by a mode's connections: `unhealthy` fails the mode's health
//! check while everything else keeps serving, `healthy` clears that, `exit` ends the process
//! cleanly (status 0). HTTP modes take it as `POST /lab/fault`, index as `fault <name>` lines.

use std::sync::Arc;

use tokio::sync::watch;

/// Accepted fault names, for the refusal message.
const EXPECTED: &str = "expected unhealthy, healthy or exit";

/// One fault command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Fail the health check until `Healthy`.
    Unhealthy,
    /// Pass the health check again.
    Healthy,
    /// Exit with status 0 (after the reply is sent).
    Exit,
}

impl Fault {
    /// Parses a fault name (surrounding whitespace ignored); `Err` is the refusal text.
    pub fn parse(text: &str) -> Result<Self, String> {
        match text.trim() {
            "unhealthy" => Ok(Self::Unhealthy),
            "healthy" => Ok(Self::Healthy),
            "exit" => Ok(Self::Exit),
            other => Err(format!("unknown fault {other:?}: {EXPECTED}")),
        }
    }

    /// The reply confirming the fault: the state it puts the mode in.
    pub fn reply(self) -> &'static str {
        match self {
            Self::Unhealthy => "unhealthy",
            Self::Healthy => "healthy",
            Self::Exit => "exiting",
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct State {
    unhealthy: bool,
    exiting: bool,
}

/// A mode's fault state; clones share it.
#[derive(Debug, Clone)]
pub struct Faults {
    state: Arc<watch::Sender<State>>,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

impl Faults {
    /// Healthy and not exiting.
    pub fn new() -> Self {
        Self {
            state: Arc::new(watch::Sender::new(State::default())),
        }
    }

    /// Applies `fault`; send its reply first when it is `Exit`, since serving stops at once.
    pub fn apply(&self, fault: Fault) {
        self.state.send_modify(|state| match fault {
            Fault::Unhealthy => state.unhealthy = true,
            Fault::Healthy => state.unhealthy = false,
            Fault::Exit => state.exiting = true,
        });
    }

    /// Whether the health check must fail.
    pub fn is_unhealthy(&self) -> bool {
        self.state.borrow().unhealthy
    }

    /// Resolves once `Exit` was applied.
    pub async fn exit_requested(&self) {
        let mut state = self.state.subscribe();
        // The sender lives in `self`, so waiting cannot fail.
        let _ = state.wait_for(|s| s.exiting).await;
    }

    /// Resolves once the mode is unhealthy if `unhealthy`, healthy otherwise (or exiting).
    pub async fn health_is(&self, unhealthy: bool) {
        let mut state = self.state.subscribe();
        let _ = state
            .wait_for(|s| s.unhealthy == unhealthy || s.exiting)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn parses_the_three_faults_and_refuses_others() {
        assert_eq!(Fault::parse("unhealthy"), Ok(Fault::Unhealthy));
        assert_eq!(Fault::parse(" healthy\n"), Ok(Fault::Healthy));
        assert_eq!(Fault::parse("exit"), Ok(Fault::Exit));
        assert_eq!(
            Fault::parse("crash"),
            Err("unknown fault \"crash\": expected unhealthy, healthy or exit".into())
        );
        assert_eq!(
            [Fault::Unhealthy, Fault::Healthy, Fault::Exit].map(Fault::reply),
            ["unhealthy", "healthy", "exiting"]
        );
    }

    #[tokio::test]
    async fn state_is_shared_and_exit_wakes_waiters() {
        let faults = Faults::new();
        let other = faults.clone();
        assert!(!other.is_unhealthy());
        faults.apply(Fault::Unhealthy);
        assert!(other.is_unhealthy());
        tokio::time::timeout(Duration::from_secs(1), other.health_is(true))
            .await
            .unwrap();
        let waiter = tokio::spawn(async move { other.exit_requested().await });
        faults.apply(Fault::Healthy);
        assert!(!faults.is_unhealthy());
        faults.apply(Fault::Exit);
        tokio::time::timeout(Duration::from_secs(1), waiter)
            .await
            .unwrap()
            .unwrap();
    }
}
