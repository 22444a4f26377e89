//! Tracing and audit: causal chains rebuilt from the trace alone, alternatives in the audit
//! trail, and no effect of tracing on decisions.

use aegis_sched::TaskParams;
use aegis_sched::analysis::Policy;
use aegis_sched::scheduler::{CoreConfig, Decision, ModelSpec, SchedulerCore};
use aegis_sched::sim::{SimConfig, SimTask, simulate};
use aegis_trace::{
    AuditTrail, DecisionKind, Duration, EventKind, ModelId, RequestId, Timestamp, TraceCollector,
    TraceEvent, TraceQuery, reconstruct_decision_chain,
};
use std::num::NonZeroU32;
use std::sync::Arc;

fn task(name: &str, c: u64, t: u64, d: u64, prio: u32) -> TaskParams {
    TaskParams {
        name: name.into(),
        wcet: Duration::from_nanos(c),
        period: Duration::from_nanos(t),
        deadline: Duration::from_nanos(d),
        priority: prio,
    }
}

fn ns(v: u64) -> Timestamp {
    Timestamp::from_nanos(v)
}

fn kinds(events: &[TraceEvent]) -> Vec<EventKind> {
    events.iter().map(|e| e.kind.clone()).collect()
}

#[test]
fn completed_and_dropped_jobs_chain_back_to_the_admission() {
    let trace = Arc::new(TraceCollector::new());
    let mut core = SchedulerCore::new(CoreConfig::new(Policy::Edf));
    core.attach_trace(trace.clone());
    for (t, name) in
        [(task("long", 8, 100, 100, 1), "long"), (task("short", 2, 100, 5, 0), "short")]
    {
        let adm = trace.record(
            TraceEvent::new(EventKind::Admitted, "admission", Timestamp::ZERO)
                .model(ModelId::new(name))
                .rationale("edf_nonpreemptive passed"),
        );
        core.register(ModelSpec::new(t).admission_event(adm)).unwrap();
    }
    let mut out = Vec::new();
    core.release(&ModelId::new("long"), RequestId(1), ns(0), &mut out).unwrap();
    core.tick(ns(0), &mut out);
    core.release(&ModelId::new("short"), RequestId(2), ns(1), &mut out).unwrap();
    core.tick(ns(1), &mut out);
    core.tick(ns(5), &mut out); // short is doomed and dropped
    core.complete(0, RequestId(1), ns(8), Duration::from_nanos(8), &mut out).unwrap();
    assert!(core.dispatched_event(RequestId(1)).is_none(), "no longer running");

    let done = trace.query(&TraceQuery::all().kind(EventKind::Completed));
    let chain = trace.reconstruct_decision_chain(done[0].id).unwrap();
    assert!(chain.is_complete());
    assert_eq!(
        kinds(&chain.events),
        [
            EventKind::Admitted,
            EventKind::Submitted,
            EventKind::Queued,
            EventKind::Dispatched,
            EventKind::Completed
        ]
    );
    assert!(chain.explain().contains("earliest absolute deadline"), "{}", chain.explain());

    // From an exported copy of the trace alone (no collector).
    let exported: Vec<TraceEvent> = trace.events();
    let dropped = exported.iter().find(|e| e.kind == EventKind::Dropped).unwrap();
    let chain = reconstruct_decision_chain(exported.as_slice(), dropped.id).unwrap();
    assert_eq!(
        kinds(&chain.events),
        [
            EventKind::Admitted,
            EventKind::Submitted,
            EventKind::Queued,
            EventKind::DeadlineMiss,
            EventKind::Dropped
        ]
    );
    assert!(chain.events.iter().all(|e| e.model.as_ref().is_some_and(|m| m.as_str() == "short")));
}

#[test]
fn dispatch_decisions_list_the_losing_candidates_and_why() {
    let audit = Arc::new(AuditTrail::new());
    let mut config = CoreConfig::new(Policy::Edf);
    config.audit_alternatives = 2;
    let mut core = SchedulerCore::new(config);
    core.attach_audit(audit.clone());
    for (i, d) in [40u64, 10, 30, 20].into_iter().enumerate() {
        core.register(ModelSpec::new(task(&format!("m{i}"), 1, 100, d, i as u32))).unwrap();
    }
    let mut out = Vec::new();
    for i in 0..4 {
        core.release(&ModelId::new(format!("m{i}")), RequestId(i), ns(0), &mut out).unwrap();
    }
    core.tick(ns(0), &mut out);
    let d = &audit.of_kind(DecisionKind::Dispatch)[0];
    assert_eq!(d.chosen, "m1/r1 on lane 0");
    assert!(d.rationale.contains("earliest absolute deadline"), "{}", d.rationale);
    assert!(d.rationale.contains("3 more queued on lane 0, 2 listed"), "{}", d.rationale);
    let alts: Vec<(&str, &str)> =
        d.alternatives.iter().map(|a| (a.option.as_str(), a.rejected_because.as_str())).collect();
    assert_eq!(alts, [("m3/r3", "deadline 10 ns later"), ("m2/r2", "deadline 20 ns later"),]);
    assert!(d.event.is_none(), "no trace attached");
}

#[test]
fn multi_lane_decisions_name_the_partition() {
    let audit = Arc::new(AuditTrail::new());
    let two = NonZeroU32::new(2).unwrap();
    let mut core = SchedulerCore::new(CoreConfig::new(Policy::FixedPriority).with_lanes(two));
    core.attach_audit(audit.clone());
    core.register(ModelSpec::new(task("a", 1, 10, 10, 0)).lane(1)).unwrap();
    let mut out = Vec::new();
    core.release(&ModelId::new("a"), RequestId(1), ns(0), &mut out).unwrap();
    core.tick(ns(0), &mut out);
    let d = &audit.decisions()[0];
    assert!(d.alternatives.iter().any(|a| a.rejected_because.contains("bound to lane 1")), "{d:?}");
}

#[test]
fn tracing_and_audit_do_not_change_decisions() {
    let tasks: Vec<SimTask> =
        [task("a", 3, 10, 10, 0), task("b", 4, 15, 12, 1), task("c", 2, 30, 30, 2)]
            .into_iter()
            .map(SimTask::worst_case)
            .collect();
    let mut plain = SimConfig::new(CoreConfig::new(Policy::Edf), 500);
    plain.record_decisions = true;
    let mut traced = plain.clone();
    let trace = Arc::new(TraceCollector::with_capacity(100_000).unwrap());
    let audit = Arc::new(AuditTrail::new());
    traced.trace = Some(trace.clone());
    traced.audit = Some(audit.clone());
    let a = simulate(&plain, &tasks).unwrap();
    let b = simulate(&traced, &tasks).unwrap();
    assert_eq!(a.decisions, b.decisions);
    let dispatches = b.decisions.iter().filter(|d| matches!(d, Decision::Dispatch { .. })).count();
    assert_eq!(audit.of_kind(DecisionKind::Dispatch).len(), dispatches);
    assert_eq!(trace.query(&TraceQuery::all().kind(EventKind::Dispatched)).len(), dispatches);
    // Every audited dispatch links its trace event, whose chain is complete.
    for d in audit.of_kind(DecisionKind::Dispatch).iter().take(50) {
        let ev = d.event.expect("linked");
        assert!(trace.reconstruct_decision_chain(ev).unwrap().is_complete());
    }
}

#[test]
fn overrun_handling_is_audited_and_traced() {
    use aegis_sched::scheduler::{LateAction, OverrunAction, OverrunConfig};
    use aegis_sched::sim::{Arrival, ExecTime};
    let v = task("v", 2, 20, 5, 0);
    let o = task("o", 3, 20, 20, 1);
    for (action, late, exec) in [
        (OverrunAction::SkipNextRelease, LateAction::Drop, 9),
        (OverrunAction::Demote, LateAction::RunLate, 19),
        (OverrunAction::DropLateJobs, LateAction::RunLate, 19),
    ] {
        let mut list = vec![Duration::from_nanos(exec)];
        list.extend(std::iter::repeat_n(Duration::from_nanos(3), 20));
        let tasks = [
            SimTask::worst_case(v.clone()),
            SimTask {
                spec: ModelSpec::new(o.clone()),
                exec: ExecTime::Replay(list),
                arrival: Arrival::default(),
            },
        ];
        let overrun = OverrunConfig { action, restore_after: 2, grace: Duration::ZERO };
        let core =
            CoreConfig::new(Policy::FixedPriority).with_late_action(late).with_overrun(overrun);
        let mut cfg = SimConfig::new(core, 20);
        let trace = Arc::new(TraceCollector::new());
        let audit = Arc::new(AuditTrail::new());
        cfg.trace = Some(trace.clone());
        cfg.audit = Some(audit.clone());
        let run = simulate(&cfg, &tasks).unwrap();
        assert_eq!(run.report.tasks[0].deadline_misses, 0);
        let ov = &audit.of_kind(DecisionKind::Overrun)[0];
        assert!(ov.chosen.starts_with(action.name()), "{ov:?}");
        assert!(ov.alternatives[0].rejected_because.contains("non-preemptive"));
        let ev = trace.get(ov.event.unwrap()).unwrap();
        assert_eq!(ev.kind, EventKind::Overrun);
        assert_eq!(ev.attribute("action"), Some(action.name()));
        assert_eq!(ev.attribute("stage"), Some("still running"));
        let chain = trace.reconstruct_decision_chain(ev.id).unwrap();
        assert_eq!(chain.events.first().unwrap().kind, EventKind::Submitted);
        let texts: Vec<String> = audit
            .decisions()
            .iter()
            .map(|d| format!("{:?} {} | {}", d.kind, d.chosen, d.rationale))
            .collect();
        let has = |needle: &str| texts.iter().any(|t| t.contains(needle));
        match action {
            OverrunAction::SkipNextRelease => {
                assert!(has("release skipped after an overrun"), "{texts:#?}");
                assert!(has("Overrun restore o"), "{texts:#?}");
                assert!(has("contained work started in a safe window"), "{texts:#?}");
            }
            OverrunAction::Demote => {
                assert!(has("Defer leave lane 0 idle"), "{texts:#?}");
                assert!(has("to run late"), "{texts:#?}");
                let deferred =
                    trace.query(&TraceQuery::all().kind(EventKind::Custom("deferred".into())));
                assert!(!deferred.is_empty());
            }
            _ => assert!(has("cannot meet its deadline"), "{texts:#?}"),
        }
    }
}

#[test]
fn cancelled_and_early_releases_are_audited() {
    let audit = Arc::new(AuditTrail::new());
    let trace = Arc::new(TraceCollector::new());
    let mut core = SchedulerCore::new(CoreConfig::new(Policy::Edf));
    core.attach_audit(audit.clone());
    core.attach_trace(trace.clone());
    core.register(ModelSpec::new(task("a", 5, 10, 10, 0))).unwrap();
    core.register(ModelSpec::new(task("b", 1, 10, 10, 1))).unwrap();
    let mut out = Vec::new();
    core.release(&ModelId::new("a"), RequestId(1), ns(0), &mut out).unwrap();
    core.release(&ModelId::new("b"), RequestId(2), ns(0), &mut out).unwrap();
    core.tick(ns(0), &mut out);
    assert!(core.dispatched_event(RequestId(1)).is_some());
    core.cancel(RequestId(2), ns(1), &mut out).unwrap();
    core.release(&ModelId::new("b"), RequestId(3), ns(2), &mut out).unwrap();
    core.restore(&ModelId::new("a"), ns(3), &mut out).unwrap(); // not contained: no-op
    let drops = audit.of_kind(DecisionKind::Drop);
    assert_eq!(drops.len(), 2);
    assert!(drops[0].rationale.contains("cancelled by the caller"));
    assert!(drops[1].rationale.contains("earliest admissible release t+10 ns"), "{:?}", drops[1]);
    assert_eq!(drops[1].alternatives[0].option, "keep it");
    assert_eq!(trace.query(&TraceQuery::all().kind(EventKind::Dropped)).len(), 2);
    assert!(format!("{core:?}").contains("SchedulerCore"));
    assert_eq!(core.observed_max(&ModelId::new("a")), Some(Duration::ZERO));
    assert_eq!(core.is_contained(&ModelId::new("zz")), None);
}
