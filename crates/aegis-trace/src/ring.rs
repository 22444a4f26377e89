//! A bounded, thread-safe ring of records with sequential ids, shared by the trace collector
//! and the audit trail.
//!
//! Owns the storage discipline only: a record gets id `n` (1, 2, 3, …) from one atomic counter
//! and lives in slot `(n - 1) % capacity` behind its own lock, so writers on different slots
//! never contend and a lookup by id is O(1). When the ring is full the oldest record is
//! overwritten and counted. It must not know what a record means.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

type Slot<T> = Mutex<Option<(u64, T)>>;

pub(crate) struct Ring<T> {
    slots: Box<[Slot<T>]>,
    next: AtomicU64,
    overwritten: AtomicU64,
}

/// Counts that describe a ring's state.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct BufferStats {
    /// Slots in the buffer.
    pub capacity: usize,
    /// Records ever written.
    pub recorded: u64,
    /// Records currently held (`min(recorded - overwritten, capacity)`).
    pub retained: u64,
    /// Records lost because the buffer was full (the oldest is overwritten).
    pub overwritten: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a slot lock cannot leave a half-written slot (the store is one
    // move), so a poisoned lock is still consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl<T: Clone> Ring<T> {
    /// A ring of `capacity` slots; `capacity` must be positive (checked by callers).
    pub(crate) fn new(capacity: usize) -> Self {
        debug_assert!(capacity > 0);
        let slots = (0..capacity).map(|_| Mutex::new(None)).collect();
        Ring { slots, next: AtomicU64::new(1), overwritten: AtomicU64::new(0) }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.slots.len()
    }

    fn slot(&self, id: u64) -> &Slot<T> {
        &self.slots[((id - 1) % self.slots.len() as u64) as usize]
    }

    /// Stores the record that `make` builds for its new id, and returns the id.
    pub(crate) fn push(&self, make: impl FnOnce(u64) -> T) -> u64 {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let record = make(id);
        let lost = {
            let mut slot = lock(self.slot(id));
            match &*slot {
                // A writer that lapped us already stored a newer record: ours is the one lost.
                Some((held, _)) if *held > id => Some(record),
                _ => slot.replace((id, record)).map(|(_, old)| old),
            }
        };
        if lost.is_some() {
            self.overwritten.fetch_add(1, Ordering::Relaxed);
        }
        drop(lost); // outside the lock
        id
    }

    /// The record with `id`, if it is still held.
    pub(crate) fn get(&self, id: u64) -> Option<T> {
        if id == 0 {
            return None;
        }
        match &*lock(self.slot(id)) {
            Some((held, record)) if *held == id => Some(record.clone()),
            _ => None,
        }
    }

    /// Every held record, oldest first, passing `keep`.
    pub(crate) fn collect(&self, mut keep: impl FnMut(&T) -> bool) -> Vec<T> {
        let mut out: Vec<(u64, T)> = Vec::new();
        for slot in self.slots.iter() {
            if let Some((id, record)) = &*lock(slot)
                && keep(record)
            {
                out.push((*id, record.clone()));
            }
        }
        out.sort_unstable_by_key(|(id, _)| *id);
        out.into_iter().map(|(_, r)| r).collect()
    }

    pub(crate) fn stats(&self) -> BufferStats {
        let recorded = self.next.load(Ordering::Relaxed) - 1;
        let overwritten = self.overwritten.load(Ordering::Relaxed);
        BufferStats {
            capacity: self.capacity(),
            recorded,
            retained: recorded.saturating_sub(overwritten).min(self.capacity() as u64),
            overwritten,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn ids_are_sequential_and_lookups_exact() {
        let r = Ring::new(4);
        assert_eq!(r.push(|id| id * 10), 1);
        assert_eq!(r.push(|id| id * 10), 2);
        assert_eq!(r.get(1), Some(10));
        assert_eq!(r.get(2), Some(20));
        assert_eq!(r.get(3), None);
        assert_eq!(r.get(0), None);
    }

    #[test]
    fn overflow_keeps_the_newest_and_counts_the_rest() {
        let r = Ring::new(3);
        for _ in 0..10 {
            r.push(|id| id);
        }
        assert_eq!(r.collect(|_| true), vec![8, 9, 10]);
        assert_eq!(r.get(7), None, "overwritten record must not be returned for its id");
        let s = r.stats();
        assert_eq!((s.recorded, s.retained, s.overwritten, s.capacity), (10, 3, 7, 3));
    }

    #[test]
    fn concurrent_writers_lose_nothing_uncounted() {
        let r = Arc::new(Ring::new(1000));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let r = r.clone();
                std::thread::spawn(move || {
                    for _ in 0..5000 {
                        r.push(|id| id);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let s = r.stats();
        assert_eq!(s.recorded, 20_000);
        assert_eq!(s.retained + s.overwritten, 20_000);
        let held = r.collect(|_| true);
        assert_eq!(held.len() as u64, s.retained);
        assert!(held.windows(2).all(|w| w[0] < w[1]));
    }
}
