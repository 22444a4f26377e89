//! Replay determinism: the input log of a run, fed to a fresh core, gives the same decisions.

use aegis_sched::TaskParams;
use aegis_sched::analysis::Policy;
use aegis_sched::scheduler::{
    CoreConfig, CoreError, Input, InputLog, LateAction, ModelSpec, OverrunAction, OverrunConfig,
    SchedulerCore, replay,
};
use aegis_sched::sim::{Arrival, ExecTime, SimConfig, SimTask, simulate};
use aegis_trace::{Duration, ModelId, RequestId, Timestamp, TraceCollector};
use std::num::NonZeroU32;
use std::sync::Arc;

fn us(v: u64) -> Duration {
    Duration::from_micros(v)
}

fn task(name: &str, c: u64, t: u64, d: u64, prio: u32) -> TaskParams {
    TaskParams { name: name.into(), wcet: us(c), period: us(t), deadline: us(d), priority: prio }
}

/// A busy run with everything the core does: two lanes, sporadic releases, random execution
/// times, overruns (skip + containment + restore), early drops and run-late jobs.
fn busy_run(policy: Policy, late: LateAction, seed: u64) -> (SimConfig, aegis_sched::sim::SimRun) {
    let over: Vec<Duration> = (0..50).map(|i| if i % 7 == 3 { us(900) } else { us(300) }).collect();
    let tasks = vec![
        SimTask {
            spec: ModelSpec::new(task("cam", 200, 1_000, 800, 0)),
            exec: ExecTime::Uniform { bcet: us(100), wcet: us(200) },
            arrival: Arrival::Sporadic { offset: us(0), max_extra: us(300) },
        },
        SimTask {
            spec: ModelSpec::new(task("det", 400, 2_000, 2_000, 1)),
            exec: ExecTime::Replay(over),
            arrival: Arrival::Periodic { offset: us(50) },
        },
        SimTask {
            spec: ModelSpec::new(task("seg", 700, 3_000, 1_500, 2)).lane(1),
            exec: ExecTime::Constant(us(1_600)),
            arrival: Arrival::Sporadic { offset: us(10), max_extra: us(1_000) },
        },
        SimTask {
            spec: ModelSpec::new(task("cls", 300, 1_500, 1_000, 3)).lane(1),
            exec: ExecTime::Uniform { bcet: us(50), wcet: us(300) },
            arrival: Arrival::Periodic { offset: us(0) },
        },
    ];
    let core = CoreConfig::new(policy)
        .with_lanes(NonZeroU32::new(2).unwrap())
        .with_late_action(late)
        .with_overrun(OverrunConfig {
            action: OverrunAction::SkipNextRelease,
            restore_after: 3,
            grace: us(5),
        });
    let mut cfg = SimConfig::new(core, 5_000);
    cfg.seed = seed;
    cfg.record_decisions = true;
    cfg.record_log = true;
    cfg.trace = Some(Arc::new(TraceCollector::new()));
    let run = simulate(&cfg, &tasks).unwrap();
    (cfg, run)
}

#[test]
fn a_simulated_run_replays_to_identical_decisions() {
    for policy in [Policy::Fifo, Policy::Edf, Policy::FixedPriority] {
        for late in [LateAction::Drop, LateAction::RunLate] {
            let (cfg, run) = busy_run(policy, late, 42);
            let r = &run.report;
            assert!(r.overruns > 0 && r.dropped > 0, "the run must exercise the core: {r}");
            let log = run.log.clone().unwrap();
            assert!(log.len() > 10_000);
            let replayed = replay(&cfg.core, &log);
            assert!(replayed.refused.is_empty(), "{:?}", replayed.refused);
            assert_eq!(replayed.decisions.len(), run.decisions.len());
            assert_eq!(replayed.decisions, run.decisions, "{policy:?} {late:?}");
            // Through JSON (what a runtime would write to disk) as well.
            let text = serde_json::to_string(&log).unwrap();
            let back: InputLog = serde_json::from_str(&text).unwrap();
            assert_eq!(replay(&cfg.core, &back).decisions, run.decisions);
        }
    }
}

#[test]
fn the_same_seed_gives_the_same_run_and_another_seed_does_not() {
    let (_, a) = busy_run(Policy::Edf, LateAction::Drop, 7);
    let (_, b) = busy_run(Policy::Edf, LateAction::Drop, 7);
    assert_eq!(a.decisions, b.decisions);
    assert_eq!(a.report, b.report);
    let (_, c) = busy_run(Policy::Edf, LateAction::Drop, 8);
    assert_ne!(a.decisions, c.decisions);
}

#[test]
fn refused_inputs_replay_as_refused() {
    let config = CoreConfig::new(Policy::FixedPriority);
    let mut core = SchedulerCore::new(config);
    core.record_inputs();
    let mut out = Vec::new();
    let m = ModelId::new("m");
    let t = Timestamp::from_nanos;
    core.register(ModelSpec::new(task("m", 1, 10, 10, 0))).unwrap();
    assert!(core.register(ModelSpec::new(task("m", 1, 10, 10, 0))).is_err());
    core.release(&m, RequestId(1), t(0), &mut out).unwrap();
    assert!(core.release(&m, RequestId(1), t(0), &mut out).is_err());
    assert!(core.release(&ModelId::new("nope"), RequestId(9), t(0), &mut out).is_err());
    core.tick(t(0), &mut out);
    assert!(core.cancel(RequestId(1), t(1), &mut out).is_err());
    core.complete(0, RequestId(1), t(1_000), us(1), &mut out).unwrap();
    core.restore(&m, t(1_000), &mut out).unwrap();
    core.rebind(&m, 0).unwrap();
    let log = core.take_input_log().unwrap();
    assert!(core.input_log().is_none());
    assert_eq!(log.len(), 10);
    assert!(matches!(log.inputs[1], Input::Register { .. }));
    let r = replay(&config, &log);
    assert_eq!(r.decisions, out);
    let idx: Vec<usize> = r.refused.iter().map(|(i, _)| *i).collect();
    assert_eq!(idx, [1, 3, 4, 6]);
    assert!(matches!(r.refused[3].1, CoreError::NotCancellable { .. }));
}
