//! Track layout shared by the timeline exporters (Chrome and Perfetto): one track per model,
//! one per stream/lane, and one for events that concern no model.
//!
//! Owns which event goes on which track and what a slice is called. It must not know any
//! file format.

use crate::event::TraceEvent;
use crate::ids::{EventId, ModelId};
use std::collections::{BTreeMap, BTreeSet};

/// Where an event is drawn.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Track {
    /// Events without a model.
    Runtime,
    /// One model's events.
    Model(ModelId),
    /// Execution spans on one stream/lane (mirrors of model events).
    Stream(u32),
}

impl Track {
    pub(super) fn name(&self) -> String {
        match self {
            Track::Runtime => "runtime".to_owned(),
            Track::Model(m) => format!("model {m}"),
            Track::Stream(s) => format!("stream {s}"),
        }
    }
}

/// The tracks of a set of events, in display order: runtime, models by name, streams.
pub(super) struct TrackLayout {
    tracks: Vec<Track>,
}

impl TrackLayout {
    pub(super) fn of(events: &[TraceEvent]) -> Self {
        let mut models = BTreeSet::new();
        let mut streams = BTreeSet::new();
        for e in events {
            if let Some(m) = &e.model {
                models.insert(m.clone());
            }
            if let Some(s) = stream_mirror(e) {
                streams.insert(s);
            }
        }
        let mut tracks = vec![Track::Runtime];
        tracks.extend(models.into_iter().map(Track::Model));
        tracks.extend(streams.into_iter().map(Track::Stream));
        TrackLayout { tracks }
    }

    /// Tracks with their index (stable within one export).
    pub(super) fn tracks(&self) -> impl Iterator<Item = (usize, &Track)> {
        self.tracks.iter().enumerate()
    }

    /// Index of `track`.
    pub(super) fn index(&self, track: &Track) -> usize {
        self.tracks.iter().position(|t| t == track).unwrap_or(0)
    }
}

/// The primary track of an event: its model's, or the runtime's.
pub(super) fn home_track(e: &TraceEvent) -> Track {
    e.model.clone().map_or(Track::Runtime, Track::Model)
}

/// The stream an event's span is mirrored on (events with both a stream and a duration).
pub(super) fn stream_mirror(e: &TraceEvent) -> Option<u32> {
    e.duration.and(e.stream)
}

/// A slice's title: the kind, and the request when there is one.
pub(super) fn slice_name(e: &TraceEvent) -> String {
    match e.request {
        Some(r) => format!("{} {r}", e.kind),
        None => e.kind.to_string(),
    }
}

/// A flow id unique to the causal edge `parent -> child`.
pub(super) fn flow_id(parent: EventId, child: EventId) -> u64 {
    (parent.0 << 32) ^ (child.0 & 0xffff_ffff)
}

/// Flows leaving each event (to its children): event id -> child ids.
pub(super) fn children(events: &[TraceEvent]) -> BTreeMap<EventId, Vec<EventId>> {
    let known: BTreeSet<EventId> = events.iter().map(|e| e.id).collect();
    let mut out: BTreeMap<EventId, Vec<EventId>> = BTreeMap::new();
    for e in events {
        for p in e.parents.iter().filter(|p| known.contains(p)) {
            out.entry(*p).or_default().push(e.id);
        }
    }
    out
}
