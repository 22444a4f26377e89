//! Decision chains: the causal history of one event, rebuilt from parent links alone.
//!
//! Owns the walk over `parents` links and the human-readable explanation. Works on anything
//! that can look an event up by id ([`EventSource`]): the live collector or a trace file read
//! back from disk. It must not know how events were recorded or stored.

use crate::error::TraceError;
use crate::event::TraceEvent;
use crate::ids::EventId;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;

/// Anything that can look a trace event up by id.
pub trait EventSource {
    /// The event with `id`, if known.
    fn event(&self, id: EventId) -> Option<TraceEvent>;
}

impl EventSource for HashMap<EventId, TraceEvent> {
    fn event(&self, id: EventId) -> Option<TraceEvent> {
        self.get(&id).cloned()
    }
}

impl EventSource for [TraceEvent] {
    fn event(&self, id: EventId) -> Option<TraceEvent> {
        // Events are usually stored in id order: try the binary search first.
        match self.binary_search_by_key(&id, |e| e.id) {
            Ok(i) => Some(self[i].clone()),
            Err(_) => self.iter().find(|e| e.id == id).cloned(),
        }
    }
}

/// The causal history of one event.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DecisionChain {
    /// The event whose history this is.
    pub target: EventId,
    /// The target and all its ancestors, ordered by time (then id).
    pub events: Vec<TraceEvent>,
    /// Ancestors that are referenced but no longer available (e.g. overwritten).
    pub missing: Vec<EventId>,
}

impl DecisionChain {
    /// True when every referenced ancestor was found.
    pub fn is_complete(&self) -> bool {
        self.missing.is_empty()
    }

    /// One line per event: time, id, kind, model/request, component and rationale.
    pub fn explain(&self) -> String {
        let mut out = String::new();
        for e in &self.events {
            let _ = write!(out, "{:>16}  {:<6} {:<15}", e.timestamp.to_string(), e.id, e.kind);
            if let Some(m) = &e.model {
                let _ = write!(out, " model={m}");
            }
            if let Some(r) = e.request {
                let _ = write!(out, " request={r}");
            }
            let _ = write!(out, " [{}]", e.component);
            if !e.rationale.is_empty() {
                let _ = write!(out, " — {}", e.rationale);
            }
            if !e.parents.is_empty() {
                let ps: Vec<String> = e.parents.iter().map(|p| p.to_string()).collect();
                let _ = write!(out, " (caused by {})", ps.join(", "));
            }
            out.push('\n');
        }
        for m in &self.missing {
            let _ = writeln!(out, "  missing ancestor {m}: no longer in the trace");
        }
        out
    }
}

/// Rebuilds the chain of events that caused `id`: the event itself and, transitively, every
/// parent (e.g. completed → dispatched → queued → submitted → the model's admission).
///
/// # Errors
/// [`TraceError::UnknownEvent`] when `id` itself is not in `source`.
pub fn reconstruct_decision_chain<S: EventSource + ?Sized>(
    source: &S,
    id: EventId,
) -> Result<DecisionChain, TraceError> {
    let target = source.event(id).ok_or(TraceError::UnknownEvent(id))?;
    let mut seen: BTreeSet<EventId> = BTreeSet::from([id]);
    let mut stack: Vec<EventId> = target.parents.clone();
    let mut events = vec![target];
    let mut missing = Vec::new();
    while let Some(p) = stack.pop() {
        if !seen.insert(p) {
            continue;
        }
        match source.event(p) {
            Some(e) => {
                stack.extend(e.parents.iter().copied());
                events.push(e);
            }
            None => missing.push(p),
        }
    }
    events.sort_by_key(|e| (e.timestamp, e.id));
    missing.sort();
    Ok(DecisionChain { target: id, events, missing })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TraceCollector;
    use crate::event::EventKind;
    use crate::ids::{ModelId, RequestId};
    use crate::time::Timestamp;

    fn at(kind: EventKind, t: u64) -> TraceEvent {
        TraceEvent::new(kind, "sched", Timestamp::from_nanos(t)).model(ModelId::new("m"))
    }

    #[test]
    fn full_lifecycle_chain_is_rebuilt_in_order() {
        let c = TraceCollector::new();
        let adm = c.record(at(EventKind::Admitted, 0).rationale("edf_demand passed"));
        let _noise = c.record(at(EventKind::Queued, 1));
        let sub = c.record(at(EventKind::Submitted, 10).request(RequestId(1)).parent(adm));
        let q = c.record(at(EventKind::Queued, 11).request(RequestId(1)).parent(sub));
        let d = c.record(at(EventKind::Dispatched, 12).request(RequestId(1)).parent(q));
        let done = c.record(at(EventKind::Completed, 20).request(RequestId(1)).parent(d));
        let chain = c.reconstruct_decision_chain(done).unwrap();
        let kinds: Vec<_> = chain.events.iter().map(|e| e.kind.clone()).collect();
        assert_eq!(
            kinds,
            vec![
                EventKind::Admitted,
                EventKind::Submitted,
                EventKind::Queued,
                EventKind::Dispatched,
                EventKind::Completed
            ]
        );
        assert!(chain.is_complete());
        let text = chain.explain();
        assert!(text.contains("edf_demand passed"), "{text}");
        assert!(text.contains("request=r1"));
        assert!(text.contains("caused by e5"));
    }

    #[test]
    fn diamond_ancestry_is_visited_once_and_gaps_are_reported() {
        let mut events = vec![
            at(EventKind::Admitted, 0),
            at(EventKind::Submitted, 1).parent(EventId(1)),
            at(EventKind::Queued, 2).parent(EventId(1)).parent(EventId(2)),
            at(EventKind::Completed, 3).parent(EventId(3)).parent(EventId(2)).parent(EventId(42)),
        ];
        for (i, e) in events.iter_mut().enumerate() {
            e.id = EventId(i as u64 + 1);
        }
        let chain = reconstruct_decision_chain(events.as_slice(), EventId(4)).unwrap();
        assert_eq!(chain.events.len(), 4);
        assert_eq!(chain.missing, vec![EventId(42)]);
        assert!(!chain.is_complete());
        assert!(chain.explain().contains("missing ancestor e42"));
        let map: HashMap<EventId, TraceEvent> = events.iter().map(|e| (e.id, e.clone())).collect();
        assert_eq!(reconstruct_decision_chain(&map, EventId(2)).unwrap().events.len(), 2);
        assert!(matches!(
            reconstruct_decision_chain(events.as_slice(), EventId(9)),
            Err(TraceError::UnknownEvent(EventId(9)))
        ));
    }

    #[test]
    fn unsorted_slices_are_still_searched() {
        let mut a = at(EventKind::Admitted, 0);
        a.id = EventId(5);
        let mut b = at(EventKind::Submitted, 1).parent(EventId(5));
        b.id = EventId(2);
        let v = vec![a, b];
        let chain = reconstruct_decision_chain(v.as_slice(), EventId(2)).unwrap();
        assert_eq!(chain.events.len(), 2);
    }
}
