//! Exporters: the trace as JSON (AegisRT's own schema), CSV, Chrome trace-event JSON and
//! Perfetto's native protobuf.
//!
//! Owns the file formats. Every exporter takes a slice of events (and, for JSON, decisions and
//! buffer statistics) and writes to any [`std::io::Write`]; [`write_file`] wraps one with path
//! context. This module must not know how events were collected.

mod chrome;
mod csv;
mod json;
mod perfetto;
mod proto;
mod tracks;

pub use chrome::write_chrome_trace;
pub use csv::{CSV_HEADER, write_csv};
pub use json::TraceDocument;
pub use perfetto::write_perfetto;
pub use proto::{ProtoField, ProtoValue, decode_message};

use crate::error::TraceError;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Creates `path` (and its parent folders) and runs `write` on a buffered writer to it.
///
/// # Errors
/// [`TraceError::Io`] naming the path when the file cannot be created or written; whatever
/// `write` returns.
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> Result<(), TraceError>,
) -> Result<(), TraceError> {
    let io = |source| TraceError::Io { action: "writing", path: path.to_path_buf(), source };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let file = std::fs::File::create(path).map_err(io)?;
    let mut w = BufWriter::new(file);
    match write(&mut w) {
        Err(TraceError::Write(source)) => return Err(io(source)),
        other => other?,
    }
    w.flush().map_err(io)
}
