//! Per-app locks: operations on one app run one at a time; different apps run concurrently.
//! An operation on several apps (a required stack) takes all their locks in id order, so two
//! such operations can never each hold a lock the other waits for.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

use crate::manifest::AppId;

/// One async mutex per app id, created on first use.
#[derive(Default)]
pub struct AppLocks {
    map: Mutex<HashMap<AppId, Arc<AsyncMutex<()>>>>,
}

impl AppLocks {
    fn entry(&self, id: &AppId) -> Arc<AsyncMutex<()>> {
        let mut map = self.map.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(id.clone()).or_default().clone()
    }

    /// Waits for the app's lock.
    pub async fn lock(&self, id: &AppId) -> OwnedMutexGuard<()> {
        self.entry(id).lock_owned().await
    }

    /// Waits for every app's lock, taking them in id order (the set iterates sorted).
    pub async fn lock_all(&self, ids: &BTreeSet<AppId>) -> Vec<OwnedMutexGuard<()>> {
        let mut guards = Vec::with_capacity(ids.len());
        for id in ids {
            guards.push(self.lock(id).await);
        }
        guards
    }

    /// Takes the app's lock only if it is free (the reconciler never waits behind a user).
    pub fn try_lock(&self, id: &AppId) -> Option<OwnedMutexGuard<()>> {
        self.entry(id).try_lock_owned().ok()
    }
}
