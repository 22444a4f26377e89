//! Identifiers shared by every layer: models, requests (jobs), trace events and decisions.
//!
//! Owns only naming and formatting; it must not know what a model or a request is.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

/// The name of a model (a deployment's unique key for it). Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ModelId(Arc<str>);

impl ModelId {
    /// A model id from its name.
    pub fn new(name: impl AsRef<str>) -> Self {
        ModelId(Arc::from(name.as_ref()))
    }
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl From<&str> for ModelId {
    fn from(s: &str) -> Self {
        ModelId::new(s)
    }
}

impl From<String> for ModelId {
    fn from(s: String) -> Self {
        ModelId(Arc::from(s))
    }
}

impl fmt::Display for ModelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

macro_rules! numeric_id {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!($prefix, "{}"), self.0)
            }
        }
    };
}

numeric_id!(
    /// One request (a job: one inference of one model), unique within a run.
    RequestId,
    "r"
);
numeric_id!(
    /// One recorded trace event; assigned by the [`crate::TraceCollector`], starting at 1.
    EventId,
    "e"
);
numeric_id!(
    /// One recorded decision in the [`crate::AuditTrail`], starting at 1.
    DecisionId,
    "d"
);

impl EventId {
    /// The id of an event that has not been recorded yet.
    pub const UNASSIGNED: EventId = EventId(0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_format_and_compare() {
        let a = ModelId::new("detector");
        let b: ModelId = "detector".into();
        assert_eq!(a, b);
        assert_eq!(a.to_string(), "detector");
        assert_eq!(ModelId::from(String::from("x")).as_str(), "x");
        assert_eq!(RequestId(7).to_string(), "r7");
        assert_eq!(EventId(3).to_string(), "e3");
        assert_eq!(DecisionId(9).to_string(), "d9");
        assert!(EventId(1) > EventId::UNASSIGNED);
    }

    #[test]
    fn ids_serialize_as_plain_values() {
        assert_eq!(serde_json::to_string(&ModelId::new("m")).unwrap(), "\"m\"");
        assert_eq!(serde_json::to_string(&EventId(4)).unwrap(), "4");
        let back: ModelId = serde_json::from_str("\"m\"").unwrap();
        assert_eq!(back.as_str(), "m");
    }
}
