//! The shutdown signal, as mini-redis passes it: one [`Trigger`] pulled once (SIGTERM, SIGINT or
//! a test), any number of [`Signal`]s awaited by the server and the reconcile loop.

use tokio::sync::watch;

/// Pulls the signal.
pub struct Trigger(watch::Sender<bool>);

/// Resolves once the trigger is pulled (or dropped).
#[derive(Clone)]
pub struct Signal(watch::Receiver<bool>);

/// A new trigger and its signal.
pub fn channel() -> (Trigger, Signal) {
    let (tx, rx) = watch::channel(false);
    (Trigger(tx), Signal(rx))
}

impl Trigger {
    /// Tells every signal to resolve.
    pub fn pull(&self) {
        let _ = self.0.send(true);
    }
}

impl Signal {
    /// Waits for the trigger; at once if it was pulled already.
    pub async fn wait(mut self) {
        let _ = self.0.wait_for(|pulled| *pulled).await;
    }

    /// Whether it was pulled.
    pub fn is_pulled(&self) -> bool {
        *self.0.borrow()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_signal_sees_one_pull() {
        let (t, s) = channel();
        let early = tokio::spawn(s.clone().wait());
        assert!(!s.is_pulled());
        t.pull();
        early.await.unwrap();
        s.clone().wait().await;
        assert!(s.is_pulled());
    }
}
