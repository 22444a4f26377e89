//! CSV export: one row per event (RFC 4180 quoting).
//!
//! Columns: `id,kind,component,ts_ns,dur_ns,model,request,stream,parents,rationale,attributes`;
//! `parents` is space-separated event ids, `attributes` is `key=value` pairs joined by `;`.

use crate::error::TraceError;
use crate::event::TraceEvent;
use std::borrow::Cow;
use std::io::Write;

/// The header row.
pub const CSV_HEADER: &str =
    "id,kind,component,ts_ns,dur_ns,model,request,stream,parents,rationale,attributes";

fn field(s: &str) -> Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        Cow::Owned(format!("\"{}\"", s.replace('"', "\"\"")))
    } else {
        Cow::Borrowed(s)
    }
}

/// Writes `events` as CSV with a header row.
///
/// # Errors
/// [`TraceError::Write`] when the writer fails.
pub fn write_csv(w: &mut dyn Write, events: &[TraceEvent]) -> Result<(), TraceError> {
    writeln!(w, "{CSV_HEADER}")?;
    for e in events {
        let opt = |v: Option<u64>| v.map(|x| x.to_string()).unwrap_or_default();
        let parents: Vec<String> = e.parents.iter().map(|p| p.0.to_string()).collect();
        let attrs: Vec<String> = e.attributes.iter().map(|(k, v)| format!("{k}={v}")).collect();
        writeln!(
            w,
            "{},{},{},{},{},{},{},{},{},{},{}",
            e.id.0,
            field(e.kind.as_str()),
            field(&e.component),
            e.timestamp.as_nanos(),
            opt(e.duration.map(|d| d.as_nanos())),
            field(e.model.as_ref().map_or("", |m| m.as_str())),
            opt(e.request.map(|r| r.0)),
            opt(e.stream.map(u64::from)),
            parents.join(" "),
            field(&e.rationale),
            field(&attrs.join(";")),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_follows_rfc4180() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("two\nlines"), "\"two\nlines\"");
    }
}
