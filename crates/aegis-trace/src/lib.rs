//! # aegis-trace — layer 0 of AegisRT
//!
//! Time, structured trace events, the audit trail of decisions, per-model metrics and the
//! exporters (JSON, CSV, Chrome trace JSON, Perfetto protobuf).
//!
//! Architecture invariant: this crate is the bottom layer. It knows nothing about CUDA,
//! models' execution, memory or scheduling policy; every other crate records into it.
//!
//! ```
//! use aegis_trace::{EventKind, ModelId, TraceCollector, TraceEvent, Timestamp};
//! let trace = TraceCollector::new();
//! let admitted = trace.record(
//!     TraceEvent::new(EventKind::Admitted, "admission", Timestamp::ZERO)
//!         .model(ModelId::new("detector"))
//!         .rationale("EDF demand test passed"),
//! );
//! let released = trace.record(
//!     TraceEvent::new(EventKind::Submitted, "runtime", Timestamp::from_nanos(1_000))
//!         .model(ModelId::new("detector"))
//!         .parent(admitted),
//! );
//! let chain = trace.reconstruct_decision_chain(released).unwrap();
//! assert_eq!(chain.events.len(), 2);
//! ```
#![deny(missing_docs)]

mod audit;
mod chain;
mod clock;
mod collector;
mod error;
mod event;
pub mod export;
mod ids;
mod metrics;
mod ring;
mod time;

pub use audit::{Alternative, AuditTrail, Decision, DecisionKind};
pub use chain::{DecisionChain, EventSource, reconstruct_decision_chain};
pub use clock::{Clock, ManualClock, MonotonicClock};
pub use collector::{TraceCollector, TraceQuery};
pub use error::TraceError;
pub use event::{EventKind, TraceEvent};
pub use ids::{DecisionId, EventId, ModelId, RequestId};
pub use metrics::{
    JobRecord, LatencySummary, MAX_TRACKED_LATENCY, MetricsAggregator, ModelSummary,
};
pub use ring::BufferStats;
pub use time::{Duration, Timestamp};
