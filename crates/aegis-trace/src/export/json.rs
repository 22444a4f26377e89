//! The JSON trace file: AegisRT's own schema, `aegisrt.trace/1`.
//!
//! ```json
//! { "schema": "aegisrt.trace/1",
//!   "stats": { "capacity": 10000, "recorded": 7, "retained": 7, "overwritten": 0 },
//!   "events": [ { "id": 1, "kind": "admitted", "component": "admission", "ts_ns": 0,
//!                 "dur_ns": null, "model": "a", "request": null, "stream": null,
//!                 "rationale": "…", "attributes": { "test": "edf_demand" },
//!                 "parents": [] } ],
//!   "decisions": [ { "id": 1, "ts_ns": 0, "kind": "admission", "model": "a",
//!                    "request": null, "chosen": "admit", "alternatives":
//!                    [ { "option": "…", "rejected_because": "…" } ],
//!                    "rationale": "…", "event": 1 } ] }
//! ```
//! Times are integer nanoseconds on the runtime's monotonic clock; `parents` are event ids.
//! The full field reference is `docs/trace-format.md`.

use crate::audit::{AuditTrail, Decision};
use crate::chain::{self, DecisionChain, EventSource};
use crate::collector::TraceCollector;
use crate::error::TraceError;
use crate::event::TraceEvent;
use crate::ids::EventId;
use crate::ring::BufferStats;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// A whole trace: events, decisions and how many of each were lost to overflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceDocument {
    /// Always [`TraceDocument::SCHEMA`].
    pub schema: String,
    /// Trace buffer statistics at export time (overwritten events are lost from the file).
    pub stats: BufferStats,
    /// Audit-trail statistics at export time, when a trail was exported.
    #[serde(default)]
    pub decision_stats: Option<BufferStats>,
    /// Events, in id order.
    pub events: Vec<TraceEvent>,
    /// Decisions, in id order.
    #[serde(default)]
    pub decisions: Vec<Decision>,
}

impl TraceDocument {
    /// The schema this version writes and reads.
    pub const SCHEMA: &'static str = "aegisrt.trace/1";

    /// A snapshot of a collector and, optionally, an audit trail.
    pub fn capture(collector: &TraceCollector, audit: Option<&AuditTrail>) -> Self {
        TraceDocument {
            schema: Self::SCHEMA.to_owned(),
            stats: collector.stats(),
            decision_stats: audit.map(AuditTrail::stats),
            events: collector.events(),
            decisions: audit.map(AuditTrail::decisions).unwrap_or_default(),
        }
    }

    /// Writes the document as pretty JSON.
    ///
    /// # Errors
    /// [`TraceError::Write`] when the writer fails.
    pub fn write_json(&self, w: &mut dyn Write) -> Result<(), TraceError> {
        serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::from)?;
        w.write_all(b"\n")?;
        Ok(())
    }

    /// Parses a document from JSON text; `origin` names the source in errors.
    ///
    /// # Errors
    /// [`TraceError::Parse`] for malformed JSON, [`TraceError::Schema`] for another schema.
    pub fn from_json_str(text: &str, origin: &Path) -> Result<Self, TraceError> {
        let doc: TraceDocument = serde_json::from_str(text)
            .map_err(|source| TraceError::Parse { path: origin.to_path_buf(), source })?;
        if doc.schema != Self::SCHEMA {
            return Err(TraceError::Schema {
                path: origin.to_path_buf(),
                found: doc.schema,
                expected: Self::SCHEMA,
            });
        }
        Ok(doc)
    }

    /// Reads a document from a file.
    ///
    /// # Errors
    /// [`TraceError::Io`] when the file cannot be read; see [`Self::from_json_str`].
    pub fn read(path: &Path) -> Result<Self, TraceError> {
        let text = std::fs::read_to_string(path).map_err(|source| TraceError::Io {
            action: "reading",
            path: PathBuf::from(path),
            source,
        })?;
        Self::from_json_str(&text, path)
    }

    /// The decision chain of `id`, from this document alone.
    ///
    /// # Errors
    /// [`TraceError::UnknownEvent`] when `id` is not in the document.
    pub fn reconstruct_decision_chain(&self, id: EventId) -> Result<DecisionChain, TraceError> {
        chain::reconstruct_decision_chain(self, id)
    }
}

impl EventSource for TraceDocument {
    fn event(&self, id: EventId) -> Option<TraceEvent> {
        self.events.as_slice().event(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::DecisionKind;
    use crate::event::EventKind;
    use crate::ids::ModelId;
    use crate::time::Timestamp;

    #[test]
    fn documents_round_trip_and_explain_chains() {
        let c = TraceCollector::new();
        let a = c.record(TraceEvent::new(EventKind::Admitted, "admission", Timestamp::ZERO));
        let s = c.record(
            TraceEvent::new(EventKind::Submitted, "runtime", Timestamp::from_nanos(5))
                .model(ModelId::new("m"))
                .attr("k", "v")
                .attr("a", "b")
                .parent(a),
        );
        let trail = AuditTrail::new();
        trail.record(Decision::new(DecisionKind::Admission, Timestamp::ZERO, "admit", "ok"));
        let doc = TraceDocument::capture(&c, Some(&trail));
        let mut buf = Vec::new();
        doc.write_json(&mut buf).unwrap();
        let text = String::from_utf8(buf).unwrap();
        assert!(text.find("\"k\"").unwrap() < text.find("\"a\": \"b\"").unwrap(), "order kept");
        let back = TraceDocument::from_json_str(&text, Path::new("mem")).unwrap();
        assert_eq!(back, doc);
        assert_eq!(back.reconstruct_decision_chain(s).unwrap().events.len(), 2);
    }

    #[test]
    fn bad_files_get_typed_errors_naming_the_file() {
        let e = TraceDocument::from_json_str("{", Path::new("t.json")).unwrap_err();
        assert!(matches!(e, TraceError::Parse { .. }));
        assert!(e.to_string().contains("t.json"));
        let other = r#"{"schema":"x/9","stats":{"capacity":1,"recorded":0,"retained":0,"overwritten":0},"events":[]}"#;
        let e = TraceDocument::from_json_str(other, Path::new("t.json")).unwrap_err();
        assert!(e.to_string().contains("x/9"), "{e}");
        let e = TraceDocument::read(Path::new("/nonexistent/trace.json")).unwrap_err();
        assert!(matches!(e, TraceError::Io { action: "reading", .. }));
    }
}
