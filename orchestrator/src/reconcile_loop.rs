//! The reconcile loop: one tick every interval on a task of its own (the API never waits for it,
//! nor it for the API), until shutdown, which it looks at only between ticks: a tick in progress
//! always runs to its end.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::MissedTickBehavior;

use crate::log;
use crate::ops::Orchestrator;

/// Ticks `core` every `every` (the first at once) until `shutdown` completes.
pub async fn run(core: Arc<Orchestrator>, every: Duration, shutdown: impl Future<Output = ()>) {
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            // A shutdown that came during the last tick wins over the next one.
            biased;
            _ = &mut shutdown => return,
            _ = ticker.tick() => {}
        }
        if let Err(e) = core.tick().await {
            log::error(format_args!("reconcile: {e}"));
        }
    }
}
