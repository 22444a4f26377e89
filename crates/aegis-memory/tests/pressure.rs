//! Each pressure policy, showing exactly what it does.

use aegis_context::mock::MockBackend;
use aegis_context::{
    ContextError, ContextOptions, ExecutionContext, MemoryRequirements, ResourceBudget,
};
use aegis_cuda::{DeviceMemoryPool, PoolOptions};
use aegis_memory::{
    ExclusivityGroup, MemoryOrchestrator, ModelActivity, OrchestratorOptions, PressureAction,
    PressureHandler, PressureLevel, PressurePolicy, PressureThresholds,
};
use aegis_trace::{
    AuditTrail, DecisionKind, Duration, EventKind, ManualClock, ModelId, Timestamp, TraceCollector,
    TraceQuery,
};
use std::sync::Arc;

fn ctx(name: &str, weights: u64, activations: u64, evictable: bool) -> Arc<ExecutionContext> {
    let mut m = MockBackend::new().memory(MemoryRequirements {
        weights_bytes: weights,
        activation_bytes: activations,
        alignment: 256,
        external_activations: true,
        ..Default::default()
    });
    if evictable {
        m = m.evictable();
    }
    let b = ResourceBudget {
        memory_limit: 1 << 30,
        stream_limit: 1,
        compute_budget: Duration::from_millis(1),
        period: Duration::from_millis(10),
    };
    ExecutionContext::create(ModelId::new(name), b, Box::new(m), ContextOptions::default()).unwrap()
}

fn setup(models: &[Arc<ExecutionContext>]) -> MemoryOrchestrator {
    let p = Arc::new(DeviceMemoryPool::host_backed(64 << 20, PoolOptions::default()).unwrap());
    let orch = MemoryOrchestrator::new(p, OrchestratorOptions::default());
    let plan = orch.plan(models, &[], &[]).unwrap();
    for m in models {
        orch.bind(m, &plan).unwrap();
    }
    orch
}

fn activity(name: &str, priority: u32, last_end_ms: Option<u64>, busy: bool) -> ModelActivity {
    ModelActivity {
        model: ModelId::new(name),
        priority,
        last_job_end: last_end_ms.map(|m| Timestamp::from_nanos(m * 1_000_000)),
        busy,
    }
}

#[test]
fn levels_follow_integer_thresholds() {
    let t = PressureThresholds::default();
    assert_eq!(t.level(69, 100), PressureLevel::Normal);
    assert_eq!(t.level(70, 100), PressureLevel::Elevated);
    assert_eq!(t.level(85, 100), PressureLevel::High);
    assert_eq!(t.level(95, 100), PressureLevel::Critical);
    assert_eq!(t.level(0, 0), PressureLevel::Critical, "no capacity is critical");
    assert_eq!(t.level(u64::MAX, u64::MAX), PressureLevel::Critical, "no overflow");
}

#[test]
fn refuse_new_admissions_holds_while_the_level_is_reached_and_lifts_below_it() {
    let orch = setup(&[]);
    let h = PressureHandler::new(
        PressureThresholds::default(),
        vec![(PressureLevel::High, PressurePolicy::RefuseNewAdmissions)],
    );
    assert!(h.admission_allowed().is_ok());
    let r = h.evaluate(&orch, 90, 100, &[]).unwrap();
    assert_eq!(
        (r.level, r.actions.clone()),
        (PressureLevel::High, vec![PressureAction::AdmissionsRefused])
    );
    let why = h.admission_allowed().unwrap_err();
    assert!(why.contains("High") && why.contains("90 of 100"), "{why}");
    assert!(
        h.evaluate(&orch, 88, 100, &[]).unwrap().actions.is_empty(),
        "still refusing, no new action"
    );
    let r = h.evaluate(&orch, 50, 100, &[]).unwrap();
    assert_eq!(r.actions, vec![PressureAction::AdmissionsAllowed]);
    assert!(h.admission_allowed().is_ok());
}

#[test]
fn shrink_to_shared_arenas_merges_each_lane_group() {
    let (a, b) = (ctx("a", 0, 2 << 20, false), ctx("b", 0, 4 << 20, false));
    let orch = setup(&[a.clone(), b.clone()]);
    let lane = ExclusivityGroup::new("lane0", [a.model_id().clone(), b.model_id().clone()]);
    let h = PressureHandler::new(
        PressureThresholds::default(),
        vec![(
            PressureLevel::Elevated,
            PressurePolicy::ShrinkToSharedArenas { groups: vec![lane] },
        )],
    );
    assert!(h.evaluate(&orch, 10, 100, &[]).unwrap().actions.is_empty(), "Normal: nothing");
    let r = h.evaluate(&orch, 75, 100, &[]).unwrap();
    assert_eq!(r.actions, vec![PressureAction::Shrunk { before: 6 << 20, after: 4 << 20 }]);
    assert_eq!(orch.current_usage(), 4 << 20);
    assert!(h.evaluate(&orch, 75, 100, &[]).unwrap().actions.is_empty(), "already shared");
}

#[test]
fn evict_idle_weights_frees_the_largest_idle_models_first_and_reloads_on_demand() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_nanos(10_000_000_000)));
    let (big, small, busy, fixed) = (
        ctx("big", 50, 1024, true),
        ctx("small", 20, 1024, true),
        ctx("busy", 80, 1024, true),
        ctx("fixed", 90, 1024, false),
    );
    let orch = setup(&[big.clone(), small.clone(), busy.clone(), fixed.clone()]);
    let trace = Arc::new(TraceCollector::new());
    let h = PressureHandler::new(
        PressureThresholds::default(),
        vec![(
            PressureLevel::High,
            PressurePolicy::EvictIdleWeights { idle_for: Duration::from_secs(1) },
        )],
    )
    .with_observability(Some(trace.clone()), None, clock.clone());
    let acts = [
        activity("big", 1, Some(1_000), false), // idle 9 s
        activity("small", 2, None, false),      // never ran
        activity("busy", 3, Some(9_999), true), // busy
        activity("fixed", 4, Some(0), false),   // idle but cannot evict
    ];
    // 90/100 = High; evicting "big" (50) brings it to 40 = Normal: "small" is kept.
    let r = h.evaluate(&orch, 90, 100, &acts).unwrap();
    assert_eq!(r.actions, vec![PressureAction::Evicted { model: ModelId::new("big"), bytes: 50 }]);
    assert!(h.is_evicted(&ModelId::new("big")) && !h.is_evicted(&ModelId::new("small")));
    assert_eq!(h.evicted_bytes(), 50);
    // An evicted model cannot run until reloaded.
    assert!(matches!(big.run(), Err(ContextError::Fault { .. })));
    big.clear_error().unwrap();
    assert!(h.ensure_resident(&orch, &ModelId::new("big")).unwrap());
    assert!(!h.ensure_resident(&orch, &ModelId::new("big")).unwrap(), "already resident");
    big.run().unwrap();
    assert_eq!(h.evicted_bytes(), 0);
    assert_eq!(trace.query(&TraceQuery::all().kind(EventKind::MemoryPressure)).len(), 1);
}

#[test]
fn shed_lowest_priority_marks_the_largest_priority_number_and_lifts_below_the_level() {
    let orch = setup(&[]);
    let audit = Arc::new(AuditTrail::new());
    let h = PressureHandler::new(
        PressureThresholds::default(),
        vec![(PressureLevel::Critical, PressurePolicy::ShedLowestPriority)],
    )
    .with_observability(None, Some(audit.clone()), Arc::new(ManualClock::default()));
    let acts = [
        activity("detector", 0, None, true),
        activity("logger", 7, None, false),
        activity("tracker", 3, None, true),
    ];
    assert!(h.evaluate(&orch, 94, 100, &acts).unwrap().actions.is_empty(), "High is not Critical");
    let r = h.evaluate(&orch, 96, 100, &acts).unwrap();
    assert_eq!(r.actions, vec![PressureAction::Shed { model: ModelId::new("logger") }]);
    assert!(h.is_shed(&ModelId::new("logger")) && !h.is_shed(&ModelId::new("detector")));
    assert!(
        h.evaluate(&orch, 97, 100, &acts).unwrap().actions.is_empty(),
        "one model shed at a time"
    );
    let r = h.evaluate(&orch, 60, 100, &acts).unwrap();
    assert_eq!(r.actions, vec![PressureAction::Unshed { model: ModelId::new("logger") }]);
    assert!(!h.is_shed(&ModelId::new("logger")));
    let d = audit.of_kind(DecisionKind::Pressure);
    assert_eq!(d.len(), 2);
    assert_eq!(d[0].alternatives.len(), 2, "the other models were considered");
    assert!(format!("{h:?}").contains("PressureHandler"));
}
