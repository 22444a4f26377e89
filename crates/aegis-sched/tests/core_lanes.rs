//! Lanes: models bound by the admission partition, jobs on different lanes run in parallel,
//! and lane errors.

use aegis_sched::TaskParams;
use aegis_sched::analysis::{AdmissionConfig, AdmissionController, AdmissionRequest, Policy};
use aegis_sched::scheduler::{
    CoreConfig, CoreError, Decision, ModelSpec, SchedulerCore, specs_from_admission,
};
use aegis_sched::sim::{SimConfig, SimTask, simulate};
use aegis_trace::{Duration, ModelId, RequestId, Timestamp};
use std::num::NonZeroU32;

fn ms(name: &str, c: u64, t: u64, prio: u32) -> TaskParams {
    TaskParams::implicit(name, Duration::from_millis(c), Duration::from_millis(t), prio)
}

fn lanes(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap()
}

#[test]
fn two_heavy_models_need_two_lanes_and_then_never_miss() {
    let set = [ms("a", 6, 10, 0), ms("b", 6, 10, 1)];
    for policy in [Policy::Fifo, Policy::Edf, Policy::FixedPriority] {
        let one = AdmissionController::new(AdmissionConfig::new(policy));
        let req = AdmissionRequest { task: set[1].clone(), memory: None };
        let refused = one.analyze(&req, &set[..1]);
        assert!(!refused.admitted);
        assert!(matches!(specs_from_admission(&set, &refused), Err(CoreError::NotAdmitted { .. })));
        let ctl = AdmissionController::new(AdmissionConfig::new(policy).with_lanes(lanes(2)));
        let adm = ctl.analyze(&req, &set[..1]);
        assert!(adm.admitted, "{}", adm.reason);
        let specs = specs_from_admission(&set, &adm).unwrap();
        assert_eq!(specs.iter().map(|s| s.lane).collect::<Vec<_>>(), [0, 1]);
        let tasks: Vec<SimTask> = specs
            .into_iter()
            .map(|spec| SimTask { spec, ..SimTask::worst_case(set[0].clone()) })
            .collect();
        let mut cfg = SimConfig::new(CoreConfig::new(policy).with_lanes(lanes(2)), 2_000);
        cfg.record_decisions = true;
        let run = simulate(&cfg, &tasks).unwrap();
        assert_eq!(run.report.deadline_misses + run.report.dropped, 0, "{}", run.report);
        // Both start at 0, one per lane.
        let first: Vec<(u32, Timestamp)> = run.decisions[..2]
            .iter()
            .map(|d| match d {
                Decision::Dispatch { lane, at, .. } => (*lane, *at),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(first, [(0, Timestamp::ZERO), (1, Timestamp::ZERO)]);
    }
}

#[test]
fn lane_errors_name_the_lane_and_the_fix() {
    let mut core = SchedulerCore::new(CoreConfig::new(Policy::Edf).with_lanes(lanes(2)));
    let e = core.register(ModelSpec::new(ms("a", 1, 10, 0)).lane(2)).unwrap_err();
    assert!(e.to_string().contains("lane 2 does not exist; the core has 2 lane(s)"), "{e}");
    core.register(ModelSpec::new(ms("a", 1, 10, 0)).lane(1)).unwrap();
    let mut out = Vec::new();
    core.release(&ModelId::new("a"), RequestId(1), Timestamp::ZERO, &mut out).unwrap();
    core.tick(Timestamp::ZERO, &mut out);
    assert_eq!(core.running(1), Some(RequestId(1)));
    assert_eq!(core.running(0), None);
    let e = core.complete(0, RequestId(1), Timestamp::ZERO, Duration::ZERO, &mut out).unwrap_err();
    assert_eq!(e, CoreError::NotRunning { request: RequestId(1), lane: 0 });
    assert!(core.rebind(&ModelId::new("a"), 5).is_err());
    assert!(core.rebind(&ModelId::new("zz"), 0).is_err());
}

#[test]
fn rebinding_moves_queued_jobs_and_leaves_the_running_one() {
    let mut core = SchedulerCore::new(CoreConfig::new(Policy::Fifo).with_lanes(lanes(2)));
    core.register(ModelSpec::new(ms("a", 5, 5, 1))).unwrap();
    core.register(ModelSpec::new(ms("b", 5, 50, 0))).unwrap();
    let mut out = Vec::new();
    let t = |v: u64| Timestamp::from_nanos(v * 1_000_000);
    core.release(&ModelId::new("b"), RequestId(1), t(0), &mut out).unwrap();
    core.release(&ModelId::new("a"), RequestId(2), t(0), &mut out).unwrap();
    core.tick(t(0), &mut out);
    assert_eq!(core.queued(0), 1);
    core.rebind(&ModelId::new("a"), 1).unwrap();
    core.rebind(&ModelId::new("a"), 1).unwrap(); // no-op
    assert_eq!((core.queued(0), core.queued(1)), (0, 1));
    core.tick(t(0), &mut out);
    assert!(matches!(out.last(), Some(Decision::Dispatch { lane: 1, request: RequestId(2), .. })));
    assert_eq!(core.models().find(|s| s.task.name.as_str() == "a").unwrap().lane, 1);
}
