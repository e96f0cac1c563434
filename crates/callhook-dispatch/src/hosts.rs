//! Per-host concurrency: one semaphore per `host:port`, in a map that stays small.
//!
//! A delivery registers with its host's entry before it waits for a permit and
//! leaves it when done; the last one out removes the entry. The map thus holds
//! only hosts with deliveries waiting or in flight, at most one per global
//! in-flight permit, however many distinct hosts hostile input names.
//!
//! A host holds up to `per_host + max_queued` deliveries freely. Past that, a new
//! delivery is admitted only on evidence that the host is alive:
//! - if a delivery to it finished within `stall_after`, it joins the queue;
//! - if the host is already known to be stalled, it is refused at once;
//! - otherwise it is on probation: it waits up to `stall_after` for any delivery to
//!   the host to finish, then joins the queue, or marks the host stalled and is
//!   refused.
//!
//! So a busy but healthy host never has its queue cut (a burst waits a few
//! milliseconds for the first answer), while a black-holed host ties up only its own
//! share of the worker's capacity instead of a queue that grows with the traffic
//! sent to it. A stalled host's entry outlives its last delivery, so the knowledge
//! is not lost each time its stuck deliveries time out together; such idle entries
//! are pruned once the map holds more than [`IDLE_STALLED_KEPT`] entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::futures::OwnedNotified;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// How many entries the map may hold before idle stalled ones are pruned.
pub(crate) const IDLE_STALLED_KEPT: usize = 1024;

struct Entry {
    /// The map's key, shared with the slots so registering allocates nothing.
    key: Arc<str>,
    semaphore: Arc<Semaphore>,
    /// Deliveries registered with this entry (waiting or holding a permit).
    users: usize,
    /// When the host last answered a delivery, if it has.
    last_progress: Option<Instant>,
    /// Set when a delivery on probation saw no progress; cleared by progress.
    stalled: bool,
    /// Woken whenever the host answers a delivery.
    progress: Arc<Notify>,
}

/// The per-host semaphores.
pub(crate) struct HostSlots {
    per_host: usize,
    max_users: usize,
    stall_after: Duration,
    map: Mutex<HashMap<Arc<str>, Entry>>,
}

/// Why a delivery was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Saturated;

impl HostSlots {
    /// Slots allowing `per_host` deliveries at once to each host and `max_queued`
    /// more waiting freely; beyond that, see the module docs.
    pub(crate) fn new(per_host: usize, max_queued: usize, stall_after: Duration) -> HostSlots {
        HostSlots {
            per_host,
            max_users: per_host.saturating_add(max_queued),
            stall_after,
            map: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Arc<str>, Entry>> {
        self.map.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a delivery to `key`; wait on [`HostSlot::admitted`], then
    /// [`HostSlot::acquire`], for its turn. `Err` when the host is known stalled.
    pub(crate) fn register(self: &Arc<Self>, key: &str) -> Result<HostSlot, Saturated> {
        let mut map = self.lock();
        let (key, semaphore, probation) = match map.get_mut(key) {
            Some(entry) => {
                let mut probation = None;
                if entry.users >= self.max_users {
                    let recent = entry
                        .last_progress
                        .is_some_and(|t| t.elapsed() < self.stall_after);
                    if !recent {
                        if entry.stalled {
                            return Err(Saturated);
                        }
                        probation = Some(entry.progress.clone().notified_owned());
                    }
                }
                entry.users += 1;
                (entry.key.clone(), entry.semaphore.clone(), probation)
            }
            None => {
                if map.len() >= IDLE_STALLED_KEPT {
                    map.retain(|_, e| e.users > 0);
                }
                let key: Arc<str> = Arc::from(key);
                let semaphore = Arc::new(Semaphore::new(self.per_host));
                let entry = Entry {
                    key: key.clone(),
                    semaphore: semaphore.clone(),
                    users: 1,
                    last_progress: None,
                    stalled: false,
                    progress: Arc::new(Notify::new()),
                };
                map.insert(key.clone(), entry);
                (key, semaphore, None)
            }
        };
        drop(map);
        Ok(HostSlot {
            slots: self.clone(),
            key,
            semaphore,
            permit: None,
            probation,
            answered: false,
        })
    }

    /// How many hosts have deliveries waiting or in flight (for tests and metrics).
    pub(crate) fn len(&self) -> usize {
        self.lock().values().filter(|e| e.users > 0).count()
    }
}

/// One delivery's place with its host: registered, then holding a permit.
pub(crate) struct HostSlot {
    slots: Arc<HostSlots>,
    key: Arc<str>,
    semaphore: Arc<Semaphore>,
    permit: Option<OwnedSemaphorePermit>,
    probation: Option<OwnedNotified>,
    /// Whether the host answered this delivery (any HTTP response): only that
    /// counts as progress, not a timeout or a broken connection.
    answered: bool,
}

impl HostSlot {
    /// For a delivery on probation, waits up to the stall window for the host to
    /// finish any delivery. `Err` (and the host marked stalled) when none did.
    /// Immediate for everyone else. Cancel-safe.
    pub(crate) async fn admitted(&mut self) -> Result<(), Saturated> {
        let Some(progress) = self.probation.take() else {
            return Ok(());
        };
        if tokio::time::timeout(self.slots.stall_after, progress)
            .await
            .is_ok()
        {
            return Ok(());
        }
        if let Some(entry) = self.slots.lock().get_mut(&*self.key)
            && entry
                .last_progress
                .is_none_or(|t| t.elapsed() >= self.slots.stall_after)
        {
            entry.stalled = true;
        }
        Err(Saturated)
    }

    /// Notes that the host answered this delivery: evidence that it is alive.
    pub(crate) fn answered(&mut self) {
        self.answered = true;
    }

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
        let finished = self.permit.take().is_some() && self.answered;
        let mut map = self.slots.lock();
        if let Some(entry) = map.get_mut(&*self.key) {
            if finished {
                entry.last_progress = Some(Instant::now());
                entry.stalled = false;
                entry.progress.notify_waiters();
            }
            entry.users = entry.users.saturating_sub(1);
            if entry.users == 0 && !entry.stalled {
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
        let slots = Arc::new(HostSlots::new(1, 8, Duration::ZERO));
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
        let slots = Arc::new(HostSlots::new(2, 8, Duration::ZERO));
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
        let slots = Arc::new(HostSlots::new(1, 8, Duration::ZERO));
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

    #[tokio::test(start_paused = true)]
    async fn a_full_host_admits_more_only_on_evidence_of_life() {
        let slots = Arc::new(HostSlots::new(1, 2, Duration::from_secs(1)));
        let mut held: Vec<HostSlot> = (0..3).map(|_| slots.register("h:80").unwrap()).collect();
        held[0].acquire().await;
        // Full and nothing finished yet: on probation; a finish admits it.
        let mut waiting = slots.register("h:80").unwrap();
        held[0].answered();
        held.remove(0);
        assert_eq!(waiting.admitted().await, Ok(()));
        // Progress was just seen: admitted without probation.
        let mut fresh = slots.register("h:80").unwrap();
        assert_eq!(fresh.admitted().await, Ok(()));
        drop((waiting, fresh));
        // A second without any finish: probation ends in refusal and a stalled host.
        tokio::time::advance(Duration::from_millis(1001)).await;
        held.push(slots.register("h:80").unwrap());
        let mut probation = slots.register("h:80").unwrap();
        assert_eq!(probation.admitted().await, Err(Saturated));
        drop(probation);
        assert!(
            slots.register("h:80").is_err(),
            "a stalled host admitted more"
        );
        assert!(slots.register("o:80").is_ok(), "another host was affected");
        // The stall outlives the host's deliveries: when all of them leave at once
        // (their timeouts), a new burst is not given a fresh probation.
        drop(held);
        assert_eq!(slots.len(), 0);
        let mut refill: Vec<HostSlot> = (0..3).map(|_| slots.register("h:80").unwrap()).collect();
        assert!(slots.register("h:80").is_err(), "the stall was forgotten");
        // A timeout is no sign of life...
        refill[0].acquire().await;
        refill.remove(0);
        refill.push(slots.register("h:80").unwrap());
        assert!(
            slots.register("h:80").is_err(),
            "a timeout cleared the stall"
        );
        // ...an answer is, and clears it.
        refill[0].acquire().await;
        refill[0].answered();
        refill.remove(0);
        assert!(slots.register("h:80").is_ok());
        drop(refill);
    }
}
