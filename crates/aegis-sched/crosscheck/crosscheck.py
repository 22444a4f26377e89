#!/usr/bin/env python3
"""Cross-check aegis-sched's schedulability analyses against independent implementations.

* pyRTA (PyPI package `response-time-analysis`, the PROSA project's RTAs): fixed-priority RTA
  (preemptive and fully non-preemptive), EDF RTA (preemptive and non-preemptive, verdict =
  every bound <= deadline) and FIFO RTA.
* An exact re-implementation here with `fractions.Fraction` of the three utilisation tests
  (Liu & Layland, hyperbolic, EDF utilisation/density).

Our side runs through `cargo run -p aegis-sched --example analysis_json -- --jsonl --with-fifo`
twice: with the default continuous blocking convention (blocking = max C of lower-priority
jobs) and with `--blocking discrete` (blocking = max(C - 1 µs), pyRTA's discrete-time
convention). The discrete run must agree with pyRTA exactly; a difference of the continuous run
is classified as "explained" only when the discrete run agrees with pyRTA, i.e. the whole
difference is the documented max(C) vs max(C-1) blocking convention.

This script installs nothing: `pip install response-time-analysis` first (see README.md).
Exit status 0 = no unexplained difference.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
from collections import Counter
from fractions import Fraction

try:
    from response_time_analysis import edf, fifo, fp
    from response_time_analysis.model import (
        WCET,
        Deadline,
        FullyNonPreemptive,
        FullyPreemptive,
        IdealProcessor,
        Priority,
        Sporadic,
        Task,
        taskset,
    )
except ImportError:
    sys.exit("pyRTA is missing: pip install response-time-analysis  (see README.md)")

# Periods (µs) divide 7200, so every hyperperiod is at most 7200 µs and every converging
# busy period is far below HORIZON; non-converging ones hit HORIZON in pyRTA and are detected
# exactly (utilisation >= 1) on our side: both report null.
PERIODS = [d for d in range(10, 1001) if 7200 % d == 0]
HORIZON = 1_000_000


def random_set(rng: random.Random) -> list[dict]:
    n = rng.randint(2, 6)
    target = rng.uniform(0.3, 1.05)
    weights = [rng.uniform(0.1, 1.0) for _ in range(n)]
    total = sum(weights)
    tasks = []
    for i in range(n):
        t = rng.choice(PERIODS)
        c = max(1, min(t, round(t * target * weights[i] / total)))
        d = t if rng.random() < 0.5 else rng.randint(c, t)
        tasks.append({"name": f"t{i}", "wcet_us": c, "period_us": t, "deadline_us": d})
    order = list(range(n))
    if rng.random() < 0.5:
        order.sort(key=lambda i: (tasks[i]["deadline_us"], i))  # deadline monotonic
    else:
        rng.shuffle(order)
    for prio, i in enumerate(order):
        tasks[i]["priority"] = prio
    return tasks


# ---------- pyRTA side ----------

def py_tasks(tasks: list[dict], nonpreemptive: bool) -> list:
    model = FullyNonPreemptive if nonpreemptive else FullyPreemptive
    # pyRTA: larger value = higher priority; ours: 0 highest.
    return [
        Task(Sporadic(t["period_us"]), model(WCET(t["wcet_us"])), Deadline(t["deadline_us"]),
             Priority(1000 - t["priority"]))
        for t in tasks
    ]


def pyrta(tasks: list[dict]) -> dict:
    sup = IdealProcessor()
    out = {}
    for np_ in (False, True):
        pts = py_tasks(tasks, np_)
        ts = taskset(pts)
        fp_r = {t["name"]: fp.rta(ts, pt, sup, horizon=HORIZON).response_time_bound
                for t, pt in zip(tasks, pts)}
        edf_r = {t["name"]: edf.rta(ts, pt, sup, horizon=HORIZON).response_time_bound
                 for t, pt in zip(tasks, pts)}
        key = "nonpreemptive" if np_ else "preemptive"
        out["fp_" + key] = fp_r
        out["edf_" + key] = all(
            edf_r[t["name"]] is not None and edf_r[t["name"]] <= t["deadline_us"] for t in tasks)
    f = fifo.rta(taskset(py_tasks(tasks, True)), sup, horizon=HORIZON).response_time_bound
    out["fifo"] = {t["name"]: f for t in tasks}
    return out


# ---------- exact utilisation tests (independent re-implementation) ----------

def util_tests(tasks: list[dict]) -> dict:
    constrained = any(t["deadline_us"] < t["period_us"] for t in tasks)
    x = "deadline_us" if constrained else "period_us"
    dens = [Fraction(t["wcet_us"], t[x]) for t in tasks]
    n = len(tasks)
    u = sum(dens)
    ll = (1 + u / n) ** n <= 2
    prod = Fraction(1)
    for v in dens:
        prod *= 1 + v
    return {"rms_ll_bound": ll, "hyperbolic": prod <= 2, "edf_util": u <= 1}


# ---------- our side ----------

def ours(sets: list[list[dict]], blocking: str, cargo: str) -> list[dict]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as f:
        for s in sets:
            f.write(json.dumps({"tasks": s}) + "\n")
        path = f.name
    try:
        cmd = [cargo, "run", "-q", "-p", "aegis-sched", "--example", "analysis_json", "--",
               "--jsonl", "--with-fifo", "--blocking", blocking, path]
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    rows = [json.loads(line) for line in out.splitlines()]
    for r in rows:
        if "error" in r:
            raise SystemExit(f"our analysis rejected a generated set: {r['error']}")
    return [r["verdicts"] for r in rows]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sets", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--cargo", default=os.environ.get("CARGO", "cargo"))
    ap.add_argument("--show", type=int, default=5, help="print at most this many differences")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    sets = [random_set(rng) for _ in range(args.sets)]
    cont = ours(sets, "continuous", args.cargo)
    disc = ours(sets, "discrete", args.cargo)

    counts: dict[str, Counter] = {}
    shown = 0

    def record(test: str, outcome: str, detail: str = "") -> None:
        nonlocal shown
        counts.setdefault(test, Counter())[outcome] += 1
        if outcome == "UNEXPLAINED" and shown < args.show:
            shown += 1
            print(f"UNEXPLAINED {test}: {detail}")

    for tasks, c, d in zip(sets, cont, disc):
        py = pyrta(tasks)
        ut = util_tests(tasks)
        for test in ("rms_ll_bound", "hyperbolic", "edf_util"):
            same = c[test]["schedulable"] == ut[test]
            record(test, "agree" if same else "UNEXPLAINED", f"{tasks} ours={c[test]} exact={ut[test]}")
        # Preemptive FP: response times must be identical (no blocking, no convention).
        same = c["fp_rta_preemptive"]["response_us"] == py["fp_preemptive"]
        record("fp_rta_preemptive", "agree" if same else "UNEXPLAINED",
               f"{tasks} ours={c['fp_rta_preemptive']} pyRTA={py['fp_preemptive']}")
        # Non-preemptive FP: discrete must equal pyRTA; continuous may differ only by convention.
        if c["fp_rta_nonpreemptive"]["response_us"] == py["fp_nonpreemptive"]:
            record("fp_rta_nonpreemptive", "agree")
        elif d["fp_rta_nonpreemptive"]["response_us"] == py["fp_nonpreemptive"]:
            record("fp_rta_nonpreemptive", "explained: max(C) vs max(C-1) blocking")
            if c["fp_rta_nonpreemptive"]["schedulable"] != d["fp_rta_nonpreemptive"]["schedulable"]:
                record("fp_rta_nonpreemptive", "  of which the verdict differs")
        else:
            record("fp_rta_nonpreemptive", "UNEXPLAINED",
                   f"{tasks} ours(discrete)={d['fp_rta_nonpreemptive']} pyRTA={py['fp_nonpreemptive']}")
        # Preemptive EDF: QPA verdict vs pyRTA's EDF RTA verdict.
        same = c["edf_demand"]["schedulable"] == py["edf_preemptive"]
        record("edf_demand", "agree" if same else "UNEXPLAINED",
               f"{tasks} ours={c['edf_demand']} pyRTA={py['edf_preemptive']}")
        # Non-preemptive EDF: George et al. verdict vs pyRTA's NP-EDF RTA verdict.
        if c["edf_nonpreemptive"]["schedulable"] == py["edf_nonpreemptive"]:
            record("edf_nonpreemptive", "agree")
        elif d["edf_nonpreemptive"]["schedulable"] == py["edf_nonpreemptive"]:
            record("edf_nonpreemptive", "explained: max(C) vs max(C-1) blocking")
        else:
            record("edf_nonpreemptive", "UNEXPLAINED",
                   f"{tasks} ours(discrete)={d['edf_nonpreemptive']} pyRTA={py['edf_nonpreemptive']}")
        # FIFO: identical bound.
        same = c["fifo"]["response_us"] == py["fifo"]
        record("fifo", "agree" if same else "UNEXPLAINED",
               f"{tasks} ours={c['fifo']} pyRTA={py['fifo']}")
        # Continuous convention is never more permissive than the discrete one.
        for test in ("fp_rta_nonpreemptive", "edf_nonpreemptive"):
            if c[test]["schedulable"] and not d[test]["schedulable"]:
                record(test, "UNEXPLAINED", f"{tasks}: continuous admits what discrete refuses")

    sched = Counter()
    for c in cont:
        for k, v in c.items():
            sched[k] += bool(v["schedulable"])
    print(f"{args.sets} random task sets (seed {args.seed}, 2-6 tasks, periods dividing 7200 µs)")
    print(f"{'test':24} outcome counts                                    (schedulable sets)")
    bad = 0
    for test, ctr in counts.items():
        bad += ctr["UNEXPLAINED"]
        parts = ", ".join(f"{k}: {v}" for k, v in sorted(ctr.items()))
        print(f"{test:24} {parts:50} ({sched[test]})")
    print("RESULT:", "full agreement (every difference explained by the blocking convention)"
          if bad == 0 else f"{bad} UNEXPLAINED differences")
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
