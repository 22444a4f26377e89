#!/usr/bin/env python3
"""Splits each job's response time in an `aegisrt run --trace` JSON trace (aegisrt.trace/1)
into: wait (release -> the core's dispatch), hand-off (dispatch -> start on the lane), host
execution (start -> end on the host) and GPU execution (the `exec_ns` of `completed`), and
lists the slowest jobs and every overrun / withdrawal / probation / restoration.

usage: decompose.py RUN.trace.json[.gz] [N]   (CSV of the N slowest jobs on stdout)
"""
import collections
import gzip
import json
import sys

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
doc = json.load(gzip.open(path) if path.endswith(".gz") else open(path))
jobs = collections.defaultdict(dict)
marks = []
for e in doc["events"]:
    k, r = e["kind"], e.get("request")
    if k in ("overrun", "overrun_withdrawn", "probation", "recovered"):
        marks.append(e)
    if r is None:
        continue
    j = jobs[r]
    j["model"] = e["model"]
    if k == "submitted":
        j["release"] = e["ts_ns"]
    elif k == "dispatched":
        j["dispatch"] = e["ts_ns"]
    elif k == "started":
        j["start"], j["host_exec"] = e["ts_ns"], e["dur_ns"]
    elif k == "completed":
        j["end"], j["gpu_exec"] = e["ts_ns"], int(e["attributes"]["exec_ns"])
    elif k == "deadline_miss":
        j["miss"] = True
t0 = min(j["release"] for j in jobs.values() if "release" in j)
done = [(j["end"] - j["release"], r, j) for r, j in jobs.items() if "end" in j and "release" in j]
done.sort(key=lambda x: (-x[0], x[1]))
ms = lambda ns: f"{ns / 1e6:.3f}"
print("request,model,release_s,response_ms,wait_ms,handoff_ms,host_exec_ms,gpu_exec_ms,missed")
for resp, r, j in done[:n]:
    print(",".join([str(r), j["model"], f"{(j['release'] - t0) / 1e9:.4f}", ms(resp),
                    ms(j["dispatch"] - j["release"]), ms(j["start"] - j["dispatch"]),
                    ms(j["host_exec"]), ms(j["gpu_exec"]), str(bool(j.get("miss")))]))
print(file=sys.stderr)
for e in marks:
    a = e["attributes"]
    print(f"{(e['ts_ns'] - t0) / 1e9:9.4f} s {e['kind']:17} {e['model'] or '':9} "
          f"{a.get('elapsed_ns', a.get('exec_ns', ''))} / {a.get('threshold_ns', '')} "
          f"{a.get('stage', '')}", file=sys.stderr)
