//! The open connections: how many there are, which are between requests, and which one to close
//! when a new one needs room. At the cap, a new connection closes the OLDEST IDLE one (no
//! request in flight: keep-alive, or a header still arriving), so idle and slow clients can
//! never lock the API out; only when every open connection is serving a request is the new one
//! refused (closed at once, so the accept loop never waits).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

use super::tracker::{Tracked, Tracker};

/// The open connections, at most `cap`.
pub struct Connections {
    cap: usize,
    open: Mutex<Open>,
    tracker: Tracker,
}

#[derive(Default)]
struct Open {
    next: u64,
    /// By age: the first is the oldest.
    slots: BTreeMap<u64, Arc<Slot>>,
}

#[derive(Default)]
struct Slot {
    requests: AtomicUsize,
    evict: Notify,
}

/// What [`Connections::admit`] decided.
pub enum Admission {
    /// Serve it; `evicted` says whether an idle connection was closed to make room.
    Admitted {
        /// The new connection's place.
        ticket: Ticket,
        /// Whether the oldest idle connection was closed for it.
        evicted: bool,
    },
    /// Every connection is serving a request: close this one.
    Refused,
}

/// One admitted connection's place; dropping it frees the place.
pub struct Ticket {
    id: u64,
    slot: Arc<Slot>,
    owner: Arc<Connections>,
    _tracked: Tracked,
}

/// A request in flight on a connection; while one lives, the connection is not idle.
pub struct Busy(Arc<Slot>);

impl Connections {
    /// Room for `cap` connections (at least one).
    pub fn new(cap: usize) -> Arc<Connections> {
        Arc::new(Connections {
            cap: cap.max(1),
            open: Mutex::default(),
            tracker: Tracker::default(),
        })
    }

    /// Finds room for a new connection, closing the oldest idle one if the cap is reached.
    pub fn admit(self: &Arc<Self>) -> Admission {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let mut evicted = false;
        if open.slots.len() >= self.cap {
            let oldest_idle = open
                .slots
                .iter()
                .find(|(_, s)| s.requests.load(Ordering::Acquire) == 0)
                .map(|(id, _)| *id);
            let Some(id) = oldest_idle else {
                return Admission::Refused;
            };
            if let Some(slot) = open.slots.remove(&id) {
                // A permit is stored if the connection is not waiting yet: it still sees it.
                slot.evict.notify_one();
                evicted = true;
            }
        }
        let id = open.next;
        open.next += 1;
        let slot = Arc::new(Slot::default());
        open.slots.insert(id, slot.clone());
        Admission::Admitted {
            ticket: Ticket {
                id,
                slot,
                owner: self.clone(),
                _tracked: self.tracker.track(),
            },
            evicted,
        }
    }

    /// Connections holding a place now.
    pub fn len(&self) -> usize {
        self.open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .slots
            .len()
    }

    /// Resolves once every admitted connection's task has ended.
    pub async fn closed(&self) {
        self.tracker.idle().await
    }
}

impl Ticket {
    /// Marks a request in flight until the returned guard drops.
    pub fn busy(&self) -> Busy {
        self.slot.requests.fetch_add(1, Ordering::AcqRel);
        Busy(self.slot.clone())
    }

    /// Resolves when the connection was chosen to make room for a newer one.
    pub async fn evicted(&self) {
        self.slot.evict.notified().await
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.requests.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut open = self.owner.open.lock().unwrap_or_else(|e| e.into_inner());
        open.slots.remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn admitted(c: &Arc<Connections>) -> (Ticket, bool) {
        match c.admit() {
            Admission::Admitted { ticket, evicted } => (ticket, evicted),
            Admission::Refused => panic!("refused"),
        }
    }

    #[tokio::test]
    async fn at_the_cap_the_oldest_idle_connection_makes_room() {
        let c = Connections::new(3);
        let (a, _) = admitted(&c);
        let (b, _) = admitted(&c);
        let (third, evicted) = admitted(&c);
        assert!(!evicted);
        let busy_a = a.busy();
        let (_d, evicted) = admitted(&c);
        assert!(evicted, "b, the oldest idle one, made room");
        assert_eq!(c.len(), 3);
        tokio::time::timeout(Duration::from_secs(1), b.evicted())
            .await
            .expect("b was told to close");
        let _busy_third = third.busy();
        let _busy_d = _d.busy();
        assert!(matches!(c.admit(), Admission::Refused), "all three busy");
        drop(busy_a);
        let (_e, evicted) = admitted(&c);
        assert!(evicted, "a is idle again and goes");
        drop(b);
        assert_eq!(
            c.len(),
            3,
            "a dropped ticket of an evicted one frees nothing twice"
        );
    }

    #[tokio::test]
    async fn closed_waits_for_every_ticket() {
        let c = Connections::new(8);
        let (a, _) = admitted(&c);
        let waiter = tokio::spawn({
            let c = c.clone();
            async move { c.closed().await }
        });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        drop(a);
        waiter.await.unwrap();
        assert_eq!(c.len(), 0);
    }
}
