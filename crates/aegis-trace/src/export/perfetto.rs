//! Perfetto's native protobuf trace format (`Trace` of `TracePacket`s with `TrackEvent`s).
//!
//! Layout: one process track "aegisrt" with a child track per model, per stream/lane and one
//! for runtime-wide events. Events with a duration become `SLICE_BEGIN`/`SLICE_END` pairs,
//! others `INSTANT`s; each causal link parent → child is a flow (`flow_ids` on the parent,
//! `terminating_flow_ids` on the child). Field numbers follow
//! `protos/perfetto/trace/perfetto_trace.proto`; the output is checked against the
//! `perfetto` Python package's generated classes in `tests/perfetto_check.py`.

use super::proto::ProtoWriter;
use super::tracks::{self, Track, TrackLayout};
use crate::error::TraceError;
use crate::event::TraceEvent;
use crate::time::Timestamp;
use std::io::Write;

// Trace
const TRACE_PACKET: u32 = 1;
// TracePacket
const PKT_TIMESTAMP: u32 = 8;
const PKT_SEQUENCE_ID: u32 = 10;
const PKT_TRACK_EVENT: u32 = 11;
const PKT_SEQUENCE_FLAGS: u32 = 13;
const PKT_TRACK_DESCRIPTOR: u32 = 60;
const SEQ_INCREMENTAL_STATE_CLEARED: u64 = 1;
// TrackDescriptor
const TD_UUID: u32 = 1;
const TD_NAME: u32 = 2;
const TD_PROCESS: u32 = 3;
const TD_PARENT_UUID: u32 = 5;
// ProcessDescriptor
const PD_PID: u32 = 1;
const PD_PROCESS_NAME: u32 = 6;
// TrackEvent
const TE_DEBUG_ANNOTATIONS: u32 = 4;
const TE_TYPE: u32 = 9;
const TE_TRACK_UUID: u32 = 11;
const TE_CATEGORIES: u32 = 22;
const TE_NAME: u32 = 23;
const TE_FLOW_IDS: u32 = 47;
const TE_TERMINATING_FLOW_IDS: u32 = 48;
const TYPE_SLICE_BEGIN: u64 = 1;
const TYPE_SLICE_END: u64 = 2;
const TYPE_INSTANT: u64 = 3;
// DebugAnnotation
const DA_UINT_VALUE: u32 = 3;
const DA_STRING_VALUE: u32 = 6;
const DA_NAME: u32 = 10;

const SEQUENCE_ID: u64 = 0xAE61;
const PROCESS_UUID: u64 = 0xAE61_0000_0000;
const PROCESS_PID: u64 = 1;

fn track_uuid(index: usize) -> u64 {
    PROCESS_UUID + 1 + index as u64
}

fn packet(ts: Option<Timestamp>, body: impl FnOnce(&mut ProtoWriter)) -> Vec<u8> {
    let mut p = ProtoWriter::default();
    if let Some(ts) = ts {
        p.uint(PKT_TIMESTAMP, ts.as_nanos());
    }
    p.uint(PKT_SEQUENCE_ID, SEQUENCE_ID);
    body(&mut p);
    p.into_bytes()
}

fn annotate_str(te: &mut ProtoWriter, name: &str, value: &str) {
    te.message(TE_DEBUG_ANNOTATIONS, |a| {
        a.string(DA_NAME, name);
        a.string(DA_STRING_VALUE, value);
    });
}

fn annotate_uint(te: &mut ProtoWriter, name: &str, value: u64) {
    te.message(TE_DEBUG_ANNOTATIONS, |a| {
        a.string(DA_NAME, name);
        a.uint(DA_UINT_VALUE, value);
    });
}

struct Flows<'a> {
    out: &'a [u64],
    terminating: &'a [u64],
}

fn begin_or_instant(e: &TraceEvent, name: &str, track: u64, flows: &Flows<'_>) -> Vec<u8> {
    packet(Some(e.timestamp), |p| {
        p.message(PKT_TRACK_EVENT, |te| {
            let kind = if e.duration.is_some() { TYPE_SLICE_BEGIN } else { TYPE_INSTANT };
            te.uint(TE_TYPE, kind);
            te.uint(TE_TRACK_UUID, track);
            te.string(TE_NAME, name);
            te.string(TE_CATEGORIES, &e.component);
            annotate_uint(te, "event_id", e.id.0);
            if let Some(r) = e.request {
                annotate_uint(te, "request", r.0);
            }
            if !e.rationale.is_empty() {
                annotate_str(te, "rationale", &e.rationale);
            }
            for (k, v) in &e.attributes {
                annotate_str(te, k, v);
            }
            for f in flows.out {
                te.fixed64(TE_FLOW_IDS, *f);
            }
            for f in flows.terminating {
                te.fixed64(TE_TERMINATING_FLOW_IDS, *f);
            }
        });
    })
}

fn end(at: Timestamp, track: u64) -> Vec<u8> {
    packet(Some(at), |p| {
        p.message(PKT_TRACK_EVENT, |te| {
            te.uint(TE_TYPE, TYPE_SLICE_END);
            te.uint(TE_TRACK_UUID, track);
        });
    })
}

/// Writes `events` as a Perfetto protobuf trace (open it in ui.perfetto.dev).
///
/// # Errors
/// [`TraceError::Write`] when the writer fails.
pub fn write_perfetto(w: &mut dyn Write, events: &[TraceEvent]) -> Result<(), TraceError> {
    let layout = TrackLayout::of(events);
    let mut header = vec![packet(None, |p| {
        p.uint(PKT_SEQUENCE_FLAGS, SEQ_INCREMENTAL_STATE_CLEARED);
        p.message(PKT_TRACK_DESCRIPTOR, |td| {
            td.uint(TD_UUID, PROCESS_UUID);
            td.message(TD_PROCESS, |pd| {
                pd.uint(PD_PID, PROCESS_PID);
                pd.string(PD_PROCESS_NAME, "aegisrt");
            });
        });
    })];
    for (i, t) in layout.tracks() {
        header.push(packet(None, |p| {
            p.message(PKT_TRACK_DESCRIPTOR, |td| {
                td.uint(TD_UUID, track_uuid(i));
                td.string(TD_NAME, &t.name());
                td.uint(TD_PARENT_UUID, PROCESS_UUID);
            });
        }));
    }

    let kids = tracks::children(events);
    let known: std::collections::BTreeSet<_> = events.iter().map(|e| e.id).collect();
    // (timestamp, rank, packet): at equal times an END goes before a BEGIN so back-to-back
    // slices on one track nest correctly.
    let mut timed: Vec<(Timestamp, u8, Vec<u8>)> = Vec::new();
    for e in events {
        let out: Vec<u64> = kids
            .get(&e.id)
            .map(|cs| cs.iter().map(|c| tracks::flow_id(e.id, *c)).collect())
            .unwrap_or_default();
        let terminating: Vec<u64> = e
            .parents
            .iter()
            .filter(|p| known.contains(p))
            .map(|p| tracks::flow_id(*p, e.id))
            .collect();
        let flows = Flows { out: &out, terminating: &terminating };
        let home = track_uuid(layout.index(&tracks::home_track(e)));
        let name = tracks::slice_name(e);
        timed.push((e.timestamp, 1, begin_or_instant(e, &name, home, &flows)));
        if let Some(d) = e.duration {
            timed.push((e.timestamp + d, 0, end(e.timestamp + d, home)));
        }
        if let (Some(s), Some(d)) = (tracks::stream_mirror(e), e.duration) {
            let track = track_uuid(layout.index(&Track::Stream(s)));
            let model = e.model.as_ref().map_or("runtime", |m| m.as_str());
            let none = Flows { out: &[], terminating: &[] };
            timed.push((
                e.timestamp,
                1,
                begin_or_instant(e, &format!("{model} {name}"), track, &none),
            ));
            timed.push((e.timestamp + d, 0, end(e.timestamp + d, track)));
        }
    }
    timed.sort_by_key(|(ts, rank, _)| (*ts, *rank));

    let mut trace = ProtoWriter::default();
    for p in header.iter().chain(timed.iter().map(|(_, _, p)| p)) {
        trace.bytes(TRACE_PACKET, p);
    }
    w.write_all(&trace.into_bytes())?;
    Ok(())
}
