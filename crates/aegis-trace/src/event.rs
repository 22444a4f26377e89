//! The structured trace event and its kinds.
//!
//! Owns [`TraceEvent`] (the seed's fields plus causal parent links and the stream/lane an
//! event ran on) and [`EventKind`]. It must not know how events are stored or exported.

use crate::ids::{EventId, ModelId, RequestId};
use crate::time::{Duration, Timestamp};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// What happened. Serialised as a snake_case string; unknown strings read back as `Custom`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum EventKind {
    /// A request (job) was released and submitted to the scheduler.
    Submitted,
    /// A model was admitted by admission control.
    Admitted,
    /// A model was refused by admission control.
    Rejected,
    /// A request entered the ready queue.
    Queued,
    /// The scheduler chose a request and handed it to a lane.
    Dispatched,
    /// The request began executing on its lane.
    Started,
    /// The request finished executing.
    Completed,
    /// A request finished (or can no longer finish) after its absolute deadline.
    DeadlineMiss,
    /// A request was dropped without running.
    Dropped,
    /// A request ran longer than its model's WCET or compute budget.
    Overrun,
    /// A fault was contained in a model's execution context.
    Fault,
    /// A faulted context was recovered.
    Recovered,
    /// A resource budget (memory, streams, compute) refused a request.
    BudgetExceeded,
    /// A static memory plan was computed.
    MemoryPlanned,
    /// Device memory was bound to a model.
    MemoryBound,
    /// A model's device memory was released.
    MemoryReleased,
    /// Memory pressure changed level or a pressure policy acted.
    MemoryPressure,
    /// A resource was still live when its owner was dropped.
    Leak,
    /// Anything else, named by the component that recorded it.
    Custom(String),
}

impl EventKind {
    /// The snake_case name used in every export format.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Submitted => "submitted",
            EventKind::Admitted => "admitted",
            EventKind::Rejected => "rejected",
            EventKind::Queued => "queued",
            EventKind::Dispatched => "dispatched",
            EventKind::Started => "started",
            EventKind::Completed => "completed",
            EventKind::DeadlineMiss => "deadline_miss",
            EventKind::Dropped => "dropped",
            EventKind::Overrun => "overrun",
            EventKind::Fault => "fault",
            EventKind::Recovered => "recovered",
            EventKind::BudgetExceeded => "budget_exceeded",
            EventKind::MemoryPlanned => "memory_planned",
            EventKind::MemoryBound => "memory_bound",
            EventKind::MemoryReleased => "memory_released",
            EventKind::MemoryPressure => "memory_pressure",
            EventKind::Leak => "leak",
            EventKind::Custom(s) => s,
        }
    }

    /// The kind named `s` (the inverse of [`EventKind::as_str`]).
    pub fn parse(s: &str) -> EventKind {
        match s {
            "submitted" => EventKind::Submitted,
            "admitted" => EventKind::Admitted,
            "rejected" => EventKind::Rejected,
            "queued" => EventKind::Queued,
            "dispatched" => EventKind::Dispatched,
            "started" => EventKind::Started,
            "completed" => EventKind::Completed,
            "deadline_miss" => EventKind::DeadlineMiss,
            "dropped" => EventKind::Dropped,
            "overrun" => EventKind::Overrun,
            "fault" => EventKind::Fault,
            "recovered" => EventKind::Recovered,
            "budget_exceeded" => EventKind::BudgetExceeded,
            "memory_planned" => EventKind::MemoryPlanned,
            "memory_bound" => EventKind::MemoryBound,
            "memory_released" => EventKind::MemoryReleased,
            "memory_pressure" => EventKind::MemoryPressure,
            "leak" => EventKind::Leak,
            other => EventKind::Custom(other.to_owned()),
        }
    }
}

impl From<String> for EventKind {
    fn from(s: String) -> Self {
        EventKind::parse(&s)
    }
}

impl From<EventKind> for String {
    fn from(k: EventKind) -> Self {
        match k {
            EventKind::Custom(s) => s,
            other => other.as_str().to_owned(),
        }
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One structured trace event.
///
/// `id` is assigned by [`crate::TraceCollector::record`]; `parents` are the events that caused
/// this one, so a decision chain can be rebuilt from the trace alone.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceEvent {
    /// Assigned at record time ([`EventId::UNASSIGNED`] before).
    pub id: EventId,
    /// What happened.
    pub kind: EventKind,
    /// The component that recorded it (`"scheduler"`, `"admission"`, `"cuda.pool"`, …).
    pub component: Cow<'static, str>,
    /// When it happened (start of the span for events with a duration).
    #[serde(rename = "ts_ns")]
    pub timestamp: Timestamp,
    /// Length of the span, for events that cover one.
    #[serde(rename = "dur_ns")]
    pub duration: Option<Duration>,
    /// The model it concerns.
    pub model: Option<ModelId>,
    /// The request (job) it concerns.
    pub request: Option<RequestId>,
    /// The lane / CUDA stream it ran on.
    pub stream: Option<u32>,
    /// Why it happened, in words.
    pub rationale: Cow<'static, str>,
    /// Further key/value details, in insertion order (a JSON object in exports).
    #[serde(with = "attrs_map")]
    pub attributes: Vec<(Cow<'static, str>, String)>,
    /// The events that caused this one.
    pub parents: Vec<EventId>,
}

impl TraceEvent {
    /// A new event of `kind` from `component` at `timestamp`, with every optional field empty.
    pub fn new(
        kind: EventKind,
        component: impl Into<Cow<'static, str>>,
        timestamp: Timestamp,
    ) -> Self {
        TraceEvent {
            id: EventId::UNASSIGNED,
            kind,
            component: component.into(),
            timestamp,
            duration: None,
            model: None,
            request: None,
            stream: None,
            rationale: Cow::Borrowed(""),
            attributes: Vec::new(),
            parents: Vec::new(),
        }
    }

    /// Sets the model.
    pub fn model(mut self, model: ModelId) -> Self {
        self.model = Some(model);
        self
    }
    /// Sets the request.
    pub fn request(mut self, request: RequestId) -> Self {
        self.request = Some(request);
        self
    }
    /// Sets the span length.
    pub fn duration(mut self, d: Duration) -> Self {
        self.duration = Some(d);
        self
    }
    /// Sets the lane / stream.
    pub fn stream(mut self, stream: u32) -> Self {
        self.stream = Some(stream);
        self
    }
    /// Sets the rationale.
    pub fn rationale(mut self, why: impl Into<Cow<'static, str>>) -> Self {
        self.rationale = why.into();
        self
    }
    /// Adds an attribute.
    pub fn attr(mut self, key: impl Into<Cow<'static, str>>, value: impl ToString) -> Self {
        self.attributes.push((key.into(), value.to_string()));
        self
    }
    /// Adds a causal parent (ignored when `parent` is unassigned).
    pub fn parent(mut self, parent: EventId) -> Self {
        if parent != EventId::UNASSIGNED {
            self.parents.push(parent);
        }
        self
    }
    /// The value of attribute `key`, if present.
    pub fn attribute(&self, key: &str) -> Option<&str> {
        self.attributes.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
    /// End of the span (`timestamp + duration`), or the timestamp for an instant.
    pub fn end(&self) -> Timestamp {
        self.timestamp + self.duration.unwrap_or(Duration::ZERO)
    }
}

/// Serialises attributes as a JSON object while keeping their order.
mod attrs_map {
    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};
    use std::borrow::Cow;
    use std::fmt;

    type Attrs = Vec<(Cow<'static, str>, String)>;

    pub(super) fn serialize<S: Serializer>(attrs: &Attrs, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(attrs.len()))?;
        for (k, v) in attrs {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Attrs, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Attrs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of string attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attrs, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    out.push((Cow::Owned(k), v));
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_round_trips_through_its_name() {
        let kinds = [
            EventKind::Submitted,
            EventKind::Admitted,
            EventKind::Rejected,
            EventKind::Queued,
            EventKind::Dispatched,
            EventKind::Started,
            EventKind::Completed,
            EventKind::DeadlineMiss,
            EventKind::Dropped,
            EventKind::Overrun,
            EventKind::Fault,
            EventKind::Recovered,
            EventKind::BudgetExceeded,
            EventKind::MemoryPlanned,
            EventKind::MemoryBound,
            EventKind::MemoryReleased,
            EventKind::MemoryPressure,
            EventKind::Leak,
            EventKind::Custom("gpu.kernel".into()),
        ];
        for k in kinds {
            let name = String::from(k.clone());
            assert_eq!(EventKind::parse(&name), k);
            assert_eq!(k.to_string(), name);
        }
    }

    #[test]
    fn builder_sets_fields_and_skips_unassigned_parents() {
        let e = TraceEvent::new(EventKind::Completed, "runtime", Timestamp::from_nanos(10))
            .model(ModelId::new("m"))
            .request(RequestId(3))
            .duration(Duration::from_nanos(5))
            .stream(1)
            .rationale("done")
            .attr("lane", 1)
            .parent(EventId(2))
            .parent(EventId::UNASSIGNED);
        assert_eq!(e.parents, vec![EventId(2)]);
        assert_eq!(e.attribute("lane"), Some("1"));
        assert_eq!(e.attribute("missing"), None);
        assert_eq!(e.end(), Timestamp::from_nanos(15));
        let json = serde_json::to_string(&e).unwrap();
        let back: TraceEvent = serde_json::from_str(&json).unwrap();
        assert_eq!(back, e);
    }
}
