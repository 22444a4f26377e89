//! Overrun containment on measured execution times: the GPU case study's main set
//! (`examples/gpu/cyclic-rt.toml`) replayed through the scheduler core in virtual time, each
//! job running as long as the same job ran on an NVIDIA H200 (host-observed, so with the VM's
//! stalls: the detector's 6000 jobs include 12 above its 1.15 ms cost, up to 1.98 ms).
//!
//! The scheduler core as it was before 2026-11-27's fixes made 64 000 of these 100 000 jobs
//! miss (a restored model brought its backlog back as admitted work); without probation the
//! detector was starved after one outlier (21 661 of its 50 000 jobs dropped). ADR 0006.

use aegis_sched::TaskParams;
use aegis_sched::analysis::Policy;
use aegis_sched::scheduler::{CoreConfig, LateAction, ModelSpec, OverrunAction, OverrunConfig};
use aegis_sched::sim::{Arrival, ExecTime, SimConfig, SimTask, simulate};
use aegis_trace::{Duration, Timestamp};
use std::collections::HashMap;

/// Execution times per model, ns, in release order (`aegisrt run … --trace`, 12 s under FP).
fn measured() -> HashMap<String, Vec<u64>> {
    let text = include_str!("data/h200-cyclic-rt-exec-2026-11-27.json");
    let v: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    serde_json::from_value(v["exec_ns"].clone()).expect("exec_ns: model -> [ns]")
}

#[test]
fn containment_keeps_the_others_whole_on_the_h200_execution_times() {
    let exec = measured();
    let us = Duration::from_micros;
    // name, cost (WCET + 150 µs host), period, deadline, priority, offset; all µs.
    let set = [
        ("detector", 1150, 2000, 2000, 0, 0),
        ("segmenter", 600, 4000, 3800, 1, 1000),
        ("tracker", 690, 4000, 4000, 2, 3000),
    ];
    for policy in [Policy::Edf, Policy::FixedPriority, Policy::Fifo] {
        let tasks: Vec<SimTask> = set
            .iter()
            .map(|&(name, c, t, d, priority, off)| SimTask {
                spec: ModelSpec::new(TaskParams {
                    name: name.into(),
                    wcet: us(c),
                    period: us(t),
                    deadline: us(d),
                    priority,
                })
                .first_release(Timestamp::ZERO + us(off)),
                exec: ExecTime::Replay(
                    exec[name].iter().map(|&n| Duration::from_nanos(n)).collect(),
                ),
                arrival: Arrival::Periodic { offset: us(off) },
            })
            .collect();
        // As the case study runs it: late jobs run late, overruns demote, five good jobs
        // restore, 300 µs of grace for the lane's hand-off.
        let core = CoreConfig::new(policy).with_late_action(LateAction::RunLate).with_overrun(
            OverrunConfig { action: OverrunAction::Demote, restore_after: 5, grace: us(300) },
        );
        let r = simulate(&SimConfig::new(core, 100_000), &tasks).expect("simulates");
        eprintln!("{}", r.report);
        let of = |n: &str| r.report.tasks.iter().find(|t| t.name.as_str() == n).expect(n);
        for n in ["segmenter", "tracker"] {
            let t = of(n);
            // A job running past its cost delays the job queued behind it by its excess (a
            // non-preemptive lane: no scheduler prevents that); containment stops the rest.
            // Before the fixes these two lost about 11 000 jobs each.
            assert!(t.deadline_misses + t.dropped <= 5, "{policy:?} {n}\n{}", r.report);
        }
        let d = of("detector");
        assert!(d.overruns >= 10, "the replay has its outliers: {}", r.report);
        // The detector pays for its own overruns, and only a little: it is restored each time.
        assert!(d.completed * 100 >= d.released * 98, "{policy:?}\n{}", r.report);
        assert_eq!(r.report.unfinished, 0, "no backlog left: {}", r.report);
    }
}
