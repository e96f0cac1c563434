//! Per-host concurrency: one semaphore per `host:port`, in a map that stays small.
//!
//! A delivery registers with its host's entry before it waits for a permit and
//! leaves it when done; the last one out removes the entry. The map thus holds
//! only hosts with deliveries waiting or in flight, at most one per global
//! in-flight permit, however many distinct hosts hostile input names.
//!
//! A host admits at most `per_host + max_queued` registered deliveries: past that,
//! [`HostSlots::register`] refuses at once, so a black-holed host can tie up only
//! its own share of the worker's capacity instead of a queue that grows with the
//! traffic sent to it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

struct Entry {
    /// The map's key, shared with the slots so registering allocates nothing.
    key: Arc<str>,
    semaphore: Arc<Semaphore>,
    /// Deliveries registered with this entry (waiting or holding a permit).
    users: usize,
}

/// The per-host semaphores.
pub(crate) struct HostSlots {
    per_host: usize,
    max_users: usize,
    map: Mutex<HashMap<Arc<str>, Entry>>,
}

impl HostSlots {
    /// Slots allowing `per_host` deliveries at once to each host, and `max_queued`
    /// more waiting for one.
    pub(crate) fn new(per_host: usize, max_queued: usize) -> HostSlots {
        HostSlots {
            per_host,
            max_users: per_host.saturating_add(max_queued),
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Registers a delivery to `key`; wait on [`HostSlot::acquire`] for its turn.
    /// `None` when the host already has as many deliveries as it may hold.
    pub(crate) fn register(self: &Arc<Self>, key: &str) -> Option<HostSlot> {
        let mut map = self.map.lock().unwrap_or_else(PoisonError::into_inner);
        let (key, semaphore) = match map.get_mut(key) {
            Some(entry) if entry.users >= self.max_users => return None,
            Some(entry) => {
                entry.users += 1;
                (entry.key.clone(), entry.semaphore.clone())
            }
            None => {
                let key: Arc<str> = Arc::from(key);
                let semaphore = Arc::new(Semaphore::new(self.per_host));
                let entry = Entry {
                    key: key.clone(),
                    semaphore: semaphore.clone(),
                    users: 1,
                };
                map.insert(key.clone(), entry);
                (key, semaphore)
            }
        };
        drop(map);
        Some(HostSlot {
            slots: self.clone(),
            key,
            semaphore,
            permit: None,
        })
    }

    /// How many hosts have an entry (for tests and metrics).
    pub(crate) fn len(&self) -> usize {
        self.map
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }
}

/// One delivery's place with its host: registered, then holding a permit.
pub(crate) struct HostSlot {
    slots: Arc<HostSlots>,
    key: Arc<str>,
    semaphore: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
}

impl HostSlot {
    /// Waits for a permit. Cancel-safe: dropping the future gives up the wait.
    pub(crate) async fn acquire(&mut self) {
        // The semaphore is never closed, so this only fails in theory; without a
        // permit the delivery still goes ahead rather than hanging.
        if let Ok(permit) = self.semaphore.clone().acquire_owned().await {
            self.permit = Some(permit);
        }
    }

    /// Deliveries to this host holding a permit right now.
    #[cfg(test)]
    pub(crate) fn busy(&self) -> usize {
        self.slots.per_host - self.semaphore.available_permits()
    }
}

impl Drop for HostSlot {
    fn drop(&mut self) {
        // Release the permit before leaving, so that a new entry for this host is
        // only ever created once no permit of the old one is held.
        drop(self.permit.take());
        let mut map = self
            .slots
            .map
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(entry) = map.get_mut(&*self.key) {
            entry.users = entry.users.saturating_sub(1);
            if entry.users == 0 {
                map.remove(&*self.key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn entries_go_away_with_their_last_user() {
        let slots = Arc::new(HostSlots::new(1, 8));
        let mut a = slots.register("a:80").unwrap();
        a.acquire().await;
        let b = slots.register("a:80").unwrap();
        let c = slots.register("b:443").unwrap();
        assert_eq!(slots.len(), 2);
        assert_eq!(a.busy(), 1);
        drop(a);
        assert_eq!(slots.len(), 2);
        drop(b);
        assert_eq!(slots.len(), 1);
        drop(c);
        assert_eq!(slots.len(), 0);
    }

    #[tokio::test]
    async fn a_host_admits_only_its_share() {
        let slots = Arc::new(HostSlots::new(2, 8));
        let mut first = slots.register("h:80").unwrap();
        let mut second = slots.register("h:80").unwrap();
        first.acquire().await;
        second.acquire().await;
        let mut third = slots.register("h:80").unwrap();
        let waited =
            tokio::time::timeout(std::time::Duration::from_millis(20), third.acquire()).await;
        assert!(waited.is_err(), "a third permit was granted");
        // Another host is not affected.
        let mut other = slots.register("o:80").unwrap();
        other.acquire().await;
        drop(first);
        third.acquire().await;
        assert_eq!(third.busy(), 2);
    }

    #[tokio::test]
    async fn a_timed_out_waiter_leaves_no_entry_behind() {
        let slots = Arc::new(HostSlots::new(1, 8));
        let mut holder = slots.register("h:80").unwrap();
        holder.acquire().await;
        {
            let mut waiter = slots.register("h:80").unwrap();
            let _ =
                tokio::time::timeout(std::time::Duration::from_millis(5), waiter.acquire()).await;
        }
        drop(holder);
        assert_eq!(slots.len(), 0);
    }

    #[tokio::test]
    async fn a_full_host_refuses_more_waiters_and_others_still_register() {
        let slots = Arc::new(HostSlots::new(1, 2));
        let held: Vec<HostSlot> = (0..3).map(|_| slots.register("h:80").unwrap()).collect();
        assert!(slots.register("h:80").is_none(), "a fourth delivery was admitted");
        assert!(slots.register("o:80").is_some());
        drop(held);
        assert!(slots.register("h:80").is_some());
    }
}
