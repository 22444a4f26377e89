//! What drives the scheduler core: [`Input`]s, and the [`InputLog`] that records them for
//! replay.
//!
//! Owns the input vocabulary and its serialised form. It must not know how inputs are
//! processed.

use super::model::ModelSpec;
use aegis_trace::{Duration, ModelId, RequestId, Timestamp};
use serde::{Deserialize, Serialize};

/// One input to the scheduler core, exactly as the driver gave it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "input", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Input {
    /// A model was registered.
    Register {
        /// The model.
        spec: ModelSpec,
    },
    /// A job was released.
    Release {
        /// The model.
        model: ModelId,
        /// The new request.
        request: RequestId,
        /// Release time.
        at: Timestamp,
    },
    /// A job finished on a lane.
    Complete {
        /// The lane.
        lane: u32,
        /// The request.
        request: RequestId,
        /// Finish time.
        at: Timestamp,
        /// Measured execution time.
        exec: Duration,
    },
    /// The caller cancelled a request.
    Cancel {
        /// The request.
        request: RequestId,
        /// When.
        at: Timestamp,
    },
    /// Time advanced: detect and dispatch.
    Tick {
        /// The current time.
        now: Timestamp,
    },
    /// A contained model was restored by the caller.
    Restore {
        /// The model.
        model: ModelId,
        /// When.
        at: Timestamp,
    },
    /// A model was moved to another lane (after a re-partition).
    Rebind {
        /// The model.
        model: ModelId,
        /// The new lane.
        lane: u32,
    },
}

/// Every input the core received, in order: replaying it on a core with the same
/// configuration reproduces the same decisions (see [`super::replay`]).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputLog {
    /// The inputs, oldest first.
    pub inputs: Vec<Input>,
}

impl InputLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }
    /// Number of inputs.
    pub fn len(&self) -> usize {
        self.inputs.len()
    }
    /// True when empty.
    pub fn is_empty(&self) -> bool {
        self.inputs.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_serialise_with_tagged_inputs() {
        let mut log = InputLog::new();
        assert!(log.is_empty());
        log.inputs.push(Input::Tick { now: Timestamp::from_nanos(5) });
        log.inputs.push(Input::Rebind { model: ModelId::new("m"), lane: 1 });
        assert_eq!(log.len(), 2);
        let json = serde_json::to_string(&log).unwrap();
        assert!(json.contains(r#""input":"tick""#), "{json}");
        assert_eq!(serde_json::from_str::<InputLog>(&json).unwrap(), log);
    }
}
