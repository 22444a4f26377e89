#!/usr/bin/env python3
"""Checks a Perfetto protobuf trace written by aegis-trace with Perfetto's own generated
protobuf classes (PyPI packages `perfetto` and `protobuf`; works offline).

Usage: perfetto_check.py TRACE --tracks "a,b" --slices N --instants N --flows N

Verifies: the file parses as perfetto.protos.Trace; the named tracks exist as children of
one process track; slice begins and ends pair up per track and nest; the expected numbers of
slices (begin/end pairs on model/runtime tracks, stream mirrors excluded), instants and flows;
every terminating flow id was started by an earlier event.
"""
import argparse
import sys

from perfetto.protos.perfetto.trace import perfetto_trace_pb2 as pb


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("trace")
    ap.add_argument("--tracks", required=True)
    ap.add_argument("--slices", type=int, required=True)
    ap.add_argument("--instants", type=int, required=True)
    ap.add_argument("--flows", type=int, required=True)
    args = ap.parse_args()

    trace = pb.Trace()
    with open(args.trace, "rb") as f:
        trace.ParseFromString(f.read())

    process_uuid = None
    names = {}
    for p in trace.packet:
        if p.HasField("track_descriptor"):
            td = p.track_descriptor
            if td.HasField("process"):
                process_uuid = td.uuid
            else:
                names[td.uuid] = (td.name, td.parent_uuid)
    errors = []
    if process_uuid is None:
        errors.append("no process track descriptor")
    want = args.tracks.split(",")
    got = [n for n, _ in names.values()]
    if got != want:
        errors.append(f"tracks {got} != {want}")
    if any(parent != process_uuid for _, parent in names.values()):
        errors.append("a track is not a child of the process track")

    open_slices = {}
    slices = {}
    instants = 0
    started = set()
    flows = 0
    T = pb.TrackEvent
    for p in trace.packet:
        if not p.HasField("track_event"):
            continue
        te = p.track_event
        if te.track_uuid not in names:
            errors.append(f"event on unknown track {te.track_uuid}")
        if p.trusted_packet_sequence_id == 0:
            errors.append("packet without sequence id")
        if te.type == T.TYPE_SLICE_BEGIN:
            open_slices.setdefault(te.track_uuid, []).append(p.timestamp)
            slices[te.track_uuid] = slices.get(te.track_uuid, 0) + 1
        elif te.type == T.TYPE_SLICE_END:
            stack = open_slices.get(te.track_uuid, [])
            if not stack:
                errors.append(f"slice end without begin on {names[te.track_uuid][0]}")
            else:
                stack.pop()
        elif te.type == T.TYPE_INSTANT:
            instants += 1
        started.update(te.flow_ids)
        for fid in te.terminating_flow_ids:
            flows += 1
            if fid not in started:
                errors.append(f"flow {fid} terminates before it starts")
    if any(open_slices.values()):
        errors.append("unclosed slices")
    home_slices = sum(n for uuid, n in slices.items() if not names[uuid][0].startswith("stream "))
    if home_slices != args.slices:
        errors.append(f"slices {home_slices} != {args.slices}")
    if instants != args.instants:
        errors.append(f"instants {instants} != {args.instants}")
    if flows != args.flows:
        errors.append(f"flows {flows} != {args.flows}")
    for e in errors:
        print("perfetto_check:", e, file=sys.stderr)
    if not errors:
        print(f"perfetto_check: ok: {len(trace.packet)} packets, {len(names)} tracks, "
              f"{home_slices} slices, {instants} instants, {flows} flows")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
