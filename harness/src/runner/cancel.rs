//! `Cancel`: the run's stop signal. Once set (Ctrl-C), no new case starts; running ones finish.

use std::sync::Arc;

use tokio::sync::watch;

/// A cheap-to-clone flag that is set once, with its reason, and stays set.
#[derive(Debug, Clone)]
pub struct Cancel(Arc<watch::Sender<Option<String>>>);

impl Default for Cancel {
    fn default() -> Self {
        Self(Arc::new(watch::channel(None).0))
    }
}

impl Cancel {
    /// Sets the flag; the first reason is kept.
    pub fn cancel(&self, reason: &str) {
        self.0.send_if_modified(|r| {
            let first = r.is_none();
            if first {
                *r = Some(reason.to_owned());
            }
            first
        });
    }

    /// True once `cancel` was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.borrow().is_some()
    }

    /// Resolves once `cancel` was called, with its reason.
    pub async fn cancelled(&self) -> String {
        let mut rx = self.0.subscribe();
        // The sender is `self`, so it outlives the wait and `wait_for` cannot fail.
        match rx.wait_for(Option::is_some).await {
            Ok(r) => r.clone().unwrap_or_default(),
            Err(_) => String::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_clone_sees_the_cancel() {
        let c = Cancel::default();
        let seen = c.clone();
        assert!(!seen.is_cancelled());
        let waiter = tokio::spawn(async move { seen.cancelled().await });
        c.cancel("first");
        c.cancel("second");
        assert_eq!(waiter.await.unwrap(), "first");
        assert!(c.is_cancelled());
    }
}
