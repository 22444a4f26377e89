//! Deadline-miss detection: at completion, and early (while queued) with the drop and
//! run-late actions.

use aegis_sched::TaskParams;
use aegis_sched::analysis::Policy;
use aegis_sched::scheduler::{
    CoreConfig, Decision, DropReason, LateAction, ModelSpec, SchedulerCore,
};
use aegis_trace::{Duration, EventKind, ModelId, RequestId, Timestamp, TraceCollector};
use std::sync::Arc;

fn ns(v: u64) -> Timestamp {
    Timestamp::from_nanos(v)
}

fn task(name: &str, c: u64, t: u64, d: u64, prio: u32) -> TaskParams {
    TaskParams {
        name: name.into(),
        wcet: Duration::from_nanos(c),
        period: Duration::from_nanos(t),
        deadline: Duration::from_nanos(d),
        priority: prio,
    }
}

/// `long` (C 8) starts at 0; `short` (C 2, D 5) is released at 1: deadline 6, latest start 4.
fn scenario(config: CoreConfig) -> (SchedulerCore, Vec<Decision>) {
    let mut core = SchedulerCore::new(config);
    core.register(ModelSpec::new(task("long", 8, 100, 100, 1))).unwrap();
    core.register(ModelSpec::new(task("short", 2, 100, 5, 0))).unwrap();
    let mut out = Vec::new();
    core.release(&ModelId::new("long"), RequestId(1), ns(0), &mut out).unwrap();
    core.tick(ns(0), &mut out);
    core.release(&ModelId::new("short"), RequestId(2), ns(1), &mut out).unwrap();
    core.tick(ns(1), &mut out);
    (core, out)
}

#[test]
fn early_detection_drops_a_job_that_can_no_longer_make_it() {
    let (mut core, mut out) = scenario(CoreConfig::new(Policy::Edf));
    // The core asks to be woken just after short's latest start (4) — before long's overrun
    // check (0 + 8 + 1).
    assert_eq!(core.next_wakeup(), Some(ns(5)));
    core.tick(ns(4), &mut out);
    assert_eq!(out.len(), 1, "at 4, 4 + 2 = 6 still meets the deadline: {out:?}");
    core.tick(ns(5), &mut out);
    assert_eq!(
        out.last(),
        Some(&Decision::Drop {
            at: ns(5),
            model: ModelId::new("short"),
            request: RequestId(2),
            reason: DropReason::CannotMeetDeadline { earliest_finish: ns(7), deadline: ns(6) },
        })
    );
    assert_eq!(core.pending(), 0);
    assert_eq!(core.next_wakeup(), Some(ns(9)));
}

#[test]
fn run_late_keeps_the_job_and_reports_the_miss_twice() {
    let trace = Arc::new(TraceCollector::new());
    let (mut core, mut out) =
        scenario(CoreConfig::new(Policy::Edf).with_late_action(LateAction::RunLate));
    core.attach_trace(trace.clone());
    core.tick(ns(5), &mut out);
    assert_eq!(
        out.last(),
        Some(&Decision::LateDetected {
            at: ns(5),
            model: ModelId::new("short"),
            request: RequestId(2),
            earliest_finish: ns(7),
            deadline: ns(6),
        })
    );
    // Reported once, not at every tick.
    core.tick(ns(6), &mut out);
    assert_eq!(out.len(), 2);
    core.complete(0, RequestId(1), ns(8), Duration::from_nanos(8), &mut out).unwrap();
    core.tick(ns(8), &mut out);
    assert!(matches!(out.last(), Some(Decision::Dispatch { request: RequestId(2), .. })));
    core.complete(0, RequestId(2), ns(10), Duration::from_nanos(2), &mut out).unwrap();
    assert!(matches!(out.last(), Some(Decision::Completed { met: false, .. })));
    let misses: Vec<_> =
        trace.events().into_iter().filter(|e| e.kind == EventKind::DeadlineMiss).collect();
    assert_eq!(misses.len(), 2, "predicted at 5, confirmed at 10");
    // The confirmed miss descends from the predicted one.
    let chain = trace.reconstruct_decision_chain(misses[1].id).unwrap();
    assert!(chain.events.iter().any(|e| e.id == misses[0].id), "{}", chain.explain());
}

#[test]
fn without_early_detection_every_job_runs_and_misses_show_at_completion() {
    let mut config = CoreConfig::new(Policy::Edf);
    config.early_miss_detection = false;
    let (mut core, mut out) = scenario(config);
    assert_eq!(core.next_wakeup(), Some(ns(9)), "only the overrun check remains");
    core.tick(ns(5), &mut out);
    assert_eq!(out.len(), 1);
    core.complete(0, RequestId(1), ns(8), Duration::from_nanos(8), &mut out).unwrap();
    core.tick(ns(8), &mut out);
    core.complete(0, RequestId(2), ns(10), Duration::from_nanos(2), &mut out).unwrap();
    assert!(matches!(
        out.last(),
        Some(Decision::Completed { met: false, deadline, at, .. }) if *deadline == ns(6) && *at == ns(10)
    ));
}

#[test]
fn finishing_exactly_at_the_deadline_meets_it() {
    let mut core = SchedulerCore::new(CoreConfig::new(Policy::Fifo));
    core.register(ModelSpec::new(task("m", 5, 10, 5, 0))).unwrap();
    let mut out = Vec::new();
    core.release(&ModelId::new("m"), RequestId(1), ns(0), &mut out).unwrap();
    core.tick(ns(0), &mut out);
    core.complete(0, RequestId(1), ns(5), Duration::from_nanos(5), &mut out).unwrap();
    assert!(matches!(out.last(), Some(Decision::Completed { met: true, .. })));
    // A job dispatched exactly at its latest start (deadline − WCET) is not doomed.
    core.release(&ModelId::new("m"), RequestId(2), ns(10), &mut out).unwrap();
    core.tick(ns(10), &mut out);
    assert!(matches!(out.last(), Some(Decision::Dispatch { request: RequestId(2), .. })));
}

#[test]
fn cancelling_drops_queued_jobs_but_not_running_ones() {
    let (mut core, mut out) = scenario(CoreConfig::new(Policy::Edf));
    let err = core.cancel(RequestId(1), ns(2), &mut out).unwrap_err();
    assert!(err.to_string().contains("non-preemptive"), "{err}");
    core.cancel(RequestId(2), ns(2), &mut out).unwrap();
    assert!(matches!(
        out.last(),
        Some(Decision::Drop { reason: DropReason::Cancelled, request: RequestId(2), .. })
    ));
    assert!(core.cancel(RequestId(2), ns(2), &mut out).is_err(), "already gone");
}

#[test]
fn releases_faster_than_the_minimum_inter_arrival_are_dropped() {
    let mut core = SchedulerCore::new(CoreConfig::new(Policy::Edf));
    core.register(ModelSpec::new(task("m", 1, 10, 10, 0))).unwrap();
    let mut out = Vec::new();
    let m = ModelId::new("m");
    core.release(&m, RequestId(1), ns(0), &mut out).unwrap();
    core.release(&m, RequestId(2), ns(9), &mut out).unwrap();
    assert_eq!(
        out,
        vec![Decision::Drop {
            at: ns(9),
            model: m.clone(),
            request: RequestId(2),
            reason: DropReason::ReleaseTooEarly { earliest: ns(10) },
        }]
    );
    core.release(&m, RequestId(3), ns(10), &mut out).unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(core.pending(), 2);
}
