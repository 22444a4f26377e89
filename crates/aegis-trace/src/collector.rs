//! The trace collector: a bounded event buffer that many threads record into.
//!
//! Owns recording (id assignment, overflow accounting) and queries by time, kind and model.
//! Recording takes one atomic increment and one uncontended slot lock; it never allocates
//! beyond the event the caller built. When the buffer is full the oldest event is overwritten
//! and counted in [`TraceCollector::stats`] and in every export. It must not know about
//! export formats (see [`crate::export`]).

use crate::chain::{self, DecisionChain, EventSource};
use crate::error::TraceError;
use crate::event::{EventKind, TraceEvent};
use crate::ids::{EventId, ModelId};
use crate::ring::{BufferStats, Ring};
use crate::time::Timestamp;

/// A filter for [`TraceCollector::query`]; every field left `None` matches everything.
#[derive(Clone, Debug, Default)]
pub struct TraceQuery {
    /// Events at or after this time.
    pub start: Option<Timestamp>,
    /// Events strictly before this time.
    pub end: Option<Timestamp>,
    /// Events of this kind.
    pub kind: Option<EventKind>,
    /// Events of this model.
    pub model: Option<ModelId>,
}

impl TraceQuery {
    /// Matches everything.
    pub fn all() -> Self {
        Self::default()
    }
    /// Restricts to `[start, end)`.
    pub fn between(mut self, start: Timestamp, end: Timestamp) -> Self {
        self.start = Some(start);
        self.end = Some(end);
        self
    }
    /// Restricts to one kind.
    pub fn kind(mut self, kind: EventKind) -> Self {
        self.kind = Some(kind);
        self
    }
    /// Restricts to one model.
    pub fn model(mut self, model: ModelId) -> Self {
        self.model = Some(model);
        self
    }
    /// True when `e` passes every set filter.
    pub fn matches(&self, e: &TraceEvent) -> bool {
        self.start.is_none_or(|s| e.timestamp >= s)
            && self.end.is_none_or(|end| e.timestamp < end)
            && self.kind.as_ref().is_none_or(|k| &e.kind == k)
            && self.model.as_ref().is_none_or(|m| e.model.as_ref() == Some(m))
    }
}

/// A bounded, thread-safe buffer of [`TraceEvent`]s.
pub struct TraceCollector {
    ring: Ring<TraceEvent>,
}

impl TraceCollector {
    /// The default number of events held.
    pub const DEFAULT_CAPACITY: usize = 10_000;

    /// A collector holding the last [`Self::DEFAULT_CAPACITY`] events.
    pub fn new() -> Self {
        TraceCollector { ring: Ring::new(Self::DEFAULT_CAPACITY) }
    }

    /// A collector holding the last `capacity` events.
    ///
    /// # Errors
    /// [`TraceError::InvalidCapacity`] when `capacity` is zero.
    pub fn with_capacity(capacity: usize) -> Result<Self, TraceError> {
        if capacity == 0 {
            return Err(TraceError::InvalidCapacity { what: "trace buffer" });
        }
        Ok(TraceCollector { ring: Ring::new(capacity) })
    }

    /// Records `event`, assigning and returning its id.
    pub fn record(&self, mut event: TraceEvent) -> EventId {
        EventId(self.ring.push(move |id| {
            event.id = EventId(id);
            event
        }))
    }

    /// The event with `id`, if it is still held.
    pub fn get(&self, id: EventId) -> Option<TraceEvent> {
        self.ring.get(id.0)
    }

    /// Every held event, in recording order.
    pub fn events(&self) -> Vec<TraceEvent> {
        self.ring.collect(|_| true)
    }

    /// The held events that match `query`, in recording order.
    pub fn query(&self, query: &TraceQuery) -> Vec<TraceEvent> {
        self.ring.collect(|e| query.matches(e))
    }

    /// Capacity, events recorded, held and overwritten.
    pub fn stats(&self) -> BufferStats {
        self.ring.stats()
    }

    /// The causal chain that led to `id` (see [`crate::reconstruct_decision_chain`]).
    ///
    /// # Errors
    /// [`TraceError::UnknownEvent`] when `id` is not held.
    pub fn reconstruct_decision_chain(&self, id: EventId) -> Result<DecisionChain, TraceError> {
        chain::reconstruct_decision_chain(self, id)
    }
}

impl Default for TraceCollector {
    fn default() -> Self {
        Self::new()
    }
}

impl EventSource for TraceCollector {
    fn event(&self, id: EventId) -> Option<TraceEvent> {
        self.get(id)
    }
}

impl std::fmt::Debug for TraceCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceCollector").field("stats", &self.stats()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(kind: EventKind, t: u64, model: &str) -> TraceEvent {
        TraceEvent::new(kind, "test", Timestamp::from_nanos(t)).model(ModelId::new(model))
    }

    #[test]
    fn record_assigns_ids_and_get_finds_them() {
        let c = TraceCollector::new();
        let a = c.record(ev(EventKind::Submitted, 1, "a"));
        let b = c.record(ev(EventKind::Queued, 2, "a"));
        assert_eq!((a, b), (EventId(1), EventId(2)));
        assert_eq!(c.get(b).unwrap().kind, EventKind::Queued);
        assert_eq!(c.get(b).unwrap().id, b);
        assert!(c.get(EventId(99)).is_none());
        assert_eq!(c.stats().capacity, TraceCollector::DEFAULT_CAPACITY);
        assert!(format!("{c:?}").contains("recorded: 2"));
    }

    #[test]
    fn zero_capacity_is_refused() {
        assert!(matches!(
            TraceCollector::with_capacity(0),
            Err(TraceError::InvalidCapacity { .. })
        ));
    }

    #[test]
    fn queries_filter_by_time_kind_and_model() {
        let c = TraceCollector::default();
        c.record(ev(EventKind::Submitted, 10, "a"));
        c.record(ev(EventKind::Submitted, 20, "b"));
        c.record(ev(EventKind::Completed, 30, "a"));
        c.record(TraceEvent::new(
            EventKind::Custom("tick".into()),
            "rt",
            Timestamp::from_nanos(40),
        ));
        let t = |n| Timestamp::from_nanos(n);
        assert_eq!(c.query(&TraceQuery::all()).len(), 4);
        assert_eq!(c.query(&TraceQuery::all().between(t(10), t(30))).len(), 2);
        assert_eq!(c.query(&TraceQuery::all().kind(EventKind::Submitted)).len(), 2);
        let a = c.query(&TraceQuery::all().model(ModelId::new("a")));
        assert_eq!(a.iter().map(|e| e.timestamp.as_nanos()).collect::<Vec<_>>(), vec![10, 30]);
        let a_done = TraceQuery::all().model(ModelId::new("a")).kind(EventKind::Completed);
        assert_eq!(c.query(&a_done).len(), 1);
    }

    #[test]
    fn overflow_is_counted_not_silent() {
        let c = TraceCollector::with_capacity(2).unwrap();
        for i in 0..5 {
            c.record(ev(EventKind::Queued, i, "a"));
        }
        let s = c.stats();
        assert_eq!((s.recorded, s.retained, s.overwritten), (5, 2, 3));
        assert_eq!(c.events().iter().map(|e| e.id.0).collect::<Vec<_>>(), vec![4, 5]);
    }

    #[test]
    fn many_threads_record_without_loss() {
        let c = std::sync::Arc::new(TraceCollector::with_capacity(50_000).unwrap());
        let hs: Vec<_> = (0..4)
            .map(|t| {
                let c = c.clone();
                std::thread::spawn(move || {
                    for i in 0..10_000 {
                        c.record(ev(EventKind::Queued, i, if t % 2 == 0 { "a" } else { "b" }));
                    }
                })
            })
            .collect();
        for h in hs {
            h.join().unwrap();
        }
        assert_eq!(c.stats().retained, 40_000);
        assert_eq!(c.stats().overwritten, 0);
        assert_eq!(c.query(&TraceQuery::all().model(ModelId::new("a"))).len(), 20_000);
    }
}
