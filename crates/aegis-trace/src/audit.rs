//! The audit trail: every scheduling and admission decision, with the alternatives that were
//! considered and why the chosen one won.
//!
//! Owns [`Decision`], [`Alternative`] and the bounded [`AuditTrail`]. It must not know how a
//! decision was made; components describe their own choices.

use crate::error::TraceError;
use crate::ids::{DecisionId, EventId, ModelId, RequestId};
use crate::ring::{BufferStats, Ring};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The sort of decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// Admit or refuse a model.
    Admission,
    /// Which ready request runs next, and on which lane.
    Dispatch,
    /// Drop a request.
    Drop,
    /// Leave a lane idle although work is ready.
    Defer,
    /// Handle a budget or WCET overrun.
    Overrun,
    /// Act on memory pressure.
    Pressure,
    /// Recover a faulted context.
    Recovery,
}

/// An option that was considered and not chosen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alternative {
    /// The option (e.g. `"model=b request=r7"` or `"test=rms_ll_bound"`).
    pub option: String,
    /// Why it lost (e.g. `"deadline 3.2 ms later"`).
    pub rejected_because: String,
}

impl Alternative {
    /// An alternative and why it was not chosen.
    pub fn new(option: impl Into<String>, rejected_because: impl Into<String>) -> Self {
        Alternative { option: option.into(), rejected_because: rejected_because.into() }
    }
}

/// One recorded decision.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Assigned by [`AuditTrail::record`].
    pub id: DecisionId,
    /// When it was made.
    #[serde(rename = "ts_ns")]
    pub timestamp: Timestamp,
    /// What sort of decision.
    pub kind: DecisionKind,
    /// The model it concerns.
    pub model: Option<ModelId>,
    /// The request it concerns.
    pub request: Option<RequestId>,
    /// What was chosen.
    pub chosen: String,
    /// What else was considered, and why it lost.
    pub alternatives: Vec<Alternative>,
    /// Why the chosen option won.
    pub rationale: String,
    /// The trace event that carries this decision, if one was recorded.
    pub event: Option<EventId>,
}

impl Decision {
    /// A decision of `kind` at `timestamp` choosing `chosen` because of `rationale`.
    pub fn new(
        kind: DecisionKind,
        timestamp: Timestamp,
        chosen: impl Into<String>,
        rationale: impl Into<String>,
    ) -> Self {
        Decision {
            id: DecisionId(0),
            timestamp,
            kind,
            model: None,
            request: None,
            chosen: chosen.into(),
            alternatives: Vec::new(),
            rationale: rationale.into(),
            event: None,
        }
    }
    /// Sets the model.
    pub fn model(mut self, m: ModelId) -> Self {
        self.model = Some(m);
        self
    }
    /// Sets the request.
    pub fn request(mut self, r: RequestId) -> Self {
        self.request = Some(r);
        self
    }
    /// Adds a rejected alternative.
    pub fn alternative(mut self, a: Alternative) -> Self {
        self.alternatives.push(a);
        self
    }
    /// Links the trace event that carries this decision.
    pub fn event(mut self, e: EventId) -> Self {
        self.event = Some(e);
        self
    }
}

/// A bounded, thread-safe log of [`Decision`]s (oldest overwritten first, and counted).
pub struct AuditTrail {
    ring: Ring<Decision>,
}

impl AuditTrail {
    /// The default number of decisions held.
    pub const DEFAULT_CAPACITY: usize = 100_000;

    /// A trail holding the last [`Self::DEFAULT_CAPACITY`] decisions.
    pub fn new() -> Self {
        AuditTrail { ring: Ring::new(Self::DEFAULT_CAPACITY) }
    }

    /// A trail holding the last `capacity` decisions.
    ///
    /// # Errors
    /// [`TraceError::InvalidCapacity`] when `capacity` is zero.
    pub fn with_capacity(capacity: usize) -> Result<Self, TraceError> {
        if capacity == 0 {
            return Err(TraceError::InvalidCapacity { what: "audit trail" });
        }
        Ok(AuditTrail { ring: Ring::new(capacity) })
    }

    /// Records a decision and returns its id.
    pub fn record(&self, mut decision: Decision) -> DecisionId {
        DecisionId(self.ring.push(move |id| {
            decision.id = DecisionId(id);
            decision
        }))
    }

    /// The decision with `id`, if still held.
    pub fn get(&self, id: DecisionId) -> Option<Decision> {
        self.ring.get(id.0)
    }

    /// Every held decision, oldest first.
    pub fn decisions(&self) -> Vec<Decision> {
        self.ring.collect(|_| true)
    }

    /// The held decisions about `model`, oldest first.
    pub fn for_model(&self, model: &ModelId) -> Vec<Decision> {
        self.ring.collect(|d| d.model.as_ref() == Some(model))
    }

    /// The held decisions of one kind, oldest first.
    pub fn of_kind(&self, kind: DecisionKind) -> Vec<Decision> {
        self.ring.collect(|d| d.kind == kind)
    }

    /// Capacity, decisions recorded, held and overwritten.
    pub fn stats(&self) -> BufferStats {
        self.ring.stats()
    }
}

impl Default for AuditTrail {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTrail").field("stats", &self.stats()).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_keep_their_alternatives_and_links() {
        let trail = AuditTrail::new();
        let id = trail.record(
            Decision::new(
                DecisionKind::Dispatch,
                Timestamp::from_nanos(5),
                "a/r1 on lane 0",
                "earliest deadline",
            )
            .model(ModelId::new("a"))
            .request(RequestId(1))
            .alternative(Alternative::new("b/r2", "deadline 2 ms later"))
            .event(EventId(9)),
        );
        trail.record(Decision::new(DecisionKind::Admission, Timestamp::ZERO, "admit b", "U=0.5"));
        let d = trail.get(id).unwrap();
        assert_eq!(d.id, id);
        assert_eq!(d.alternatives[0].rejected_because, "deadline 2 ms later");
        assert_eq!(d.event, Some(EventId(9)));
        assert_eq!(trail.for_model(&ModelId::new("a")).len(), 1);
        assert_eq!(trail.of_kind(DecisionKind::Admission).len(), 1);
        assert_eq!(trail.decisions().len(), 2);
        assert_eq!(trail.stats().recorded, 2);
        assert!(format!("{trail:?}").contains("AuditTrail"));
        assert!(AuditTrail::default().decisions().is_empty());
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("\"kind\":\"dispatch\""));
    }

    #[test]
    fn bounded_trail_counts_what_it_drops() {
        assert!(AuditTrail::with_capacity(0).is_err());
        let trail = AuditTrail::with_capacity(2).unwrap();
        for i in 0..3 {
            trail.record(Decision::new(
                DecisionKind::Drop,
                Timestamp::from_nanos(i),
                "drop",
                "late",
            ));
        }
        assert_eq!(trail.stats().overwritten, 1);
        assert!(trail.get(DecisionId(1)).is_none());
    }
}
