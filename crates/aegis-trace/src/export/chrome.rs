//! Chrome trace-event JSON (`chrome://tracing`, Perfetto UI's JSON import).
//!
//! One process "aegisrt"; one thread per track (runtime, each model, each stream). Events with
//! a duration are complete (`X`) events, the rest instants (`i`); causal links are flow
//! events (`s` at the parent, `f` bound to the enclosing slice at the child). Times are in
//! microseconds with nanosecond decimals.

use super::tracks::{self, Track, TrackLayout};
use crate::error::TraceError;
use crate::event::TraceEvent;
use serde_json::{Map, Value, json};
use std::io::Write;

const PID: u32 = 1;

fn us(ns: u64) -> Value {
    // Integer microseconds when exact, otherwise three decimals (exact for whole ns).
    if ns.is_multiple_of(1000) { json!(ns / 1000) } else { json!(ns as f64 / 1000.0) }
}

fn args(e: &TraceEvent) -> Value {
    let mut a = Map::new();
    a.insert("event_id".into(), json!(e.id.0));
    if let Some(r) = e.request {
        a.insert("request".into(), json!(r.0));
    }
    if !e.rationale.is_empty() {
        a.insert("rationale".into(), json!(e.rationale));
    }
    for (k, v) in &e.attributes {
        a.insert(k.to_string(), json!(v));
    }
    Value::Object(a)
}

fn slice(e: &TraceEvent, tid: usize) -> Value {
    let mut v = json!({
        "name": tracks::slice_name(e),
        "cat": e.component,
        "pid": PID,
        "tid": tid,
        "ts": us(e.timestamp.as_nanos()),
        "args": args(e),
    });
    match e.duration {
        Some(d) => {
            v["ph"] = json!("X");
            v["dur"] = us(d.as_nanos());
        }
        None => {
            v["ph"] = json!("i");
            v["s"] = json!("t");
        }
    }
    v
}

/// Writes `events` as a Chrome trace-event JSON document.
///
/// # Errors
/// [`TraceError::Write`] when the writer fails.
pub fn write_chrome_trace(w: &mut dyn Write, events: &[TraceEvent]) -> Result<(), TraceError> {
    let layout = TrackLayout::of(events);
    let mut out = vec![json!({"name": "process_name", "ph": "M", "pid": PID,
                               "args": {"name": "aegisrt"}})];
    for (tid, t) in layout.tracks() {
        out.push(json!({"name": "thread_name", "ph": "M", "pid": PID, "tid": tid,
                        "args": {"name": t.name()}}));
        out.push(json!({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": tid,
                        "args": {"sort_index": tid}}));
    }
    let by_id: std::collections::BTreeMap<_, _> = events.iter().map(|e| (e.id, e)).collect();
    for e in events {
        let tid = layout.index(&tracks::home_track(e));
        out.push(slice(e, tid));
        if let Some(s) = tracks::stream_mirror(e) {
            let mut mirror = slice(e, layout.index(&Track::Stream(s)));
            mirror["name"] = json!(format!(
                "{} {}",
                e.model.as_ref().map_or("runtime", |m| m.as_str()),
                tracks::slice_name(e)
            ));
            out.push(mirror);
        }
    }
    for (parent, kids) in tracks::children(events) {
        let p = by_id[&parent];
        for child in kids {
            let c = by_id[&child];
            let id = tracks::flow_id(parent, child);
            out.push(json!({"name": "cause", "cat": "flow", "ph": "s", "id": id, "pid": PID,
                            "tid": layout.index(&tracks::home_track(p)),
                            "ts": us(p.timestamp.as_nanos())}));
            out.push(json!({"name": "cause", "cat": "flow", "ph": "f", "bp": "e", "id": id,
                            "pid": PID, "tid": layout.index(&tracks::home_track(c)),
                            "ts": us(c.timestamp.as_nanos())}));
        }
    }
    let doc = json!({"displayTimeUnit": "ns", "traceEvents": out});
    serde_json::to_writer_pretty(&mut *w, &doc).map_err(std::io::Error::from)?;
    w.write_all(b"\n")?;
    Ok(())
}
