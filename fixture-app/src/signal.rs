//! Shutdown on SIGTERM and SIGINT: the app is PID 1 in its container, where the kernel
//! ignores signals that have no handler, so the handlers must be installed explicitly.

use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::error::Error;

/// Installed SIGTERM and SIGINT handlers.
pub struct Shutdown {
    term: Signal,
    int: Signal,
}

impl Shutdown {
    /// Installs both handlers; call before serving so no signal is lost.
    pub fn install() -> Result<Self, Error> {
        let term =
            signal(SignalKind::terminate()).map_err(|e| Error::io("install SIGTERM handler", e))?;
        let int =
            signal(SignalKind::interrupt()).map_err(|e| Error::io("install SIGINT handler", e))?;
        Ok(Self { term, int })
    }

    /// Resolves when either signal arrives.
    pub async fn recv(&mut self) {
        tokio::select! {
            _ = self.term.recv() => {}
            _ = self.int.recv() => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn sigterm_to_self_resolves_recv() {
        let mut shutdown = Shutdown::install().unwrap();
        let status = std::process::Command::new("kill")
            .args(["-TERM", &std::process::id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        tokio::time::timeout(Duration::from_secs(2), shutdown.recv())
            .await
            .expect("SIGTERM was not delivered to the handler");
    }
}
