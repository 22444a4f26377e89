//! Errors of the trace layer.
//!
//! Owns [`TraceError`]; every fallible public function of this crate returns it.

use crate::ids::EventId;
use std::path::PathBuf;

/// What can go wrong in the trace layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TraceError {
    /// A buffer was asked to hold nothing.
    #[error("{what} capacity must be at least 1; pass a positive capacity")]
    InvalidCapacity {
        /// Which buffer.
        what: &'static str,
    },
    /// The event is not (or no longer) in the trace.
    #[error(
        "event {0} is not in the trace (never recorded, or overwritten when the buffer was full)"
    )]
    UnknownEvent(EventId),
    /// Reading or writing a file failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done (`"writing"`, `"reading"`).
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// Writing to an output stream failed.
    #[error("writing trace output: {0}")]
    Write(#[from] std::io::Error),
    /// A trace file is not valid JSON of the expected schema.
    #[error("trace file {path} is not a valid AegisRT trace: {source}")]
    Parse {
        /// The file (or `"<memory>"`).
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A trace file declares a schema this version cannot read.
    #[error("trace file {path} has schema {found:?}; this build reads {expected:?}")]
    Schema {
        /// The file.
        path: PathBuf,
        /// The schema found.
        found: String,
        /// The schema supported.
        expected: &'static str,
    },
}
