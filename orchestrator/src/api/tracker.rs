//! Counts work in flight (open connections, running operations) so shutdown can wait for it.

use std::sync::Arc;

use tokio::sync::watch;

/// A counter of live [`Tracked`] guards that can be waited on until it reaches zero.
#[derive(Clone)]
pub struct Tracker {
    count: Arc<watch::Sender<usize>>,
}

impl Default for Tracker {
    fn default() -> Self {
        Tracker {
            count: Arc::new(watch::channel(0).0),
        }
    }
}

/// One piece of work in flight; dropping it ends it.
pub struct Tracked {
    count: Arc<watch::Sender<usize>>,
}

impl Tracker {
    /// Starts tracking one piece of work.
    pub fn track(&self) -> Tracked {
        self.count.send_modify(|n| *n += 1);
        Tracked {
            count: self.count.clone(),
        }
    }

    /// How many are in flight now.
    pub fn count(&self) -> usize {
        *self.count.borrow()
    }

    /// Resolves once nothing is in flight.
    pub async fn idle(&self) {
        let mut rx = self.count.subscribe();
        let _ = rx.wait_for(|n| *n == 0).await;
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.count.send_modify(|n| *n -= 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn idle_waits_for_the_last_guard() {
        let t = Tracker::default();
        t.idle().await;
        let (a, b) = (t.track(), t.track());
        assert_eq!(t.count(), 2);
        let waiter = tokio::spawn({
            let t = t.clone();
            async move { t.idle().await }
        });
        drop(a);
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(b);
        waiter.await.unwrap();
        assert_eq!(t.count(), 0);
    }
}
