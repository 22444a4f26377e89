//! Integration tests of execution contexts: isolation of accounting between models, typed
//! budget violations, fault containment, and exact accounting under concurrency.

use aegis_context::mock::{MockBackend, MockFailure};
use aegis_context::{
    ActivationRegion, BudgetField, ContextError, ContextOptions, ContextState, ExecutionContext,
    FaultKind, MemoryRequirements, Placement, Recovery, ResourceBudget, TensorData,
};
use aegis_cuda::{DeviceMemoryPool, PoolOptions};
use aegis_trace::{
    Duration, EventKind, ManualClock, ModelId, Timestamp, TraceCollector, TraceQuery,
};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

fn budget(memory: u64, streams: u32) -> ResourceBudget {
    ResourceBudget {
        memory_limit: memory,
        stream_limit: streams,
        compute_budget: Duration::from_millis(5),
        period: Duration::from_millis(20),
    }
}

fn ctx(name: &str, b: ResourceBudget, backend: MockBackend) -> Arc<ExecutionContext> {
    ExecutionContext::create(ModelId::new(name), b, Box::new(backend), ContextOptions::default())
        .unwrap()
}

fn traced(
    name: &str,
    b: ResourceBudget,
    backend: MockBackend,
    trace: &Arc<TraceCollector>,
) -> Arc<ExecutionContext> {
    let opts = ContextOptions { trace: Some(trace.clone()), ..Default::default() };
    ExecutionContext::create(ModelId::new(name), b, Box::new(backend), opts).unwrap()
}

#[test]
fn several_models_run_concurrently_without_touching_each_others_accounting() {
    let models: Vec<_> = (0..4)
        .map(|i| {
            let m = MockBackend::new()
                .latency(Duration::from_micros(50))
                .memory(MemoryRequirements { weights_bytes: 1000 * (i + 1), ..Default::default() });
            ctx(&format!("m{i}"), budget(1 << 20, 2), m)
        })
        .collect();
    let handles: Vec<_> = models
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let c = c.clone();
            std::thread::spawn(move || {
                let per_job = 100 * (i as u64 + 1);
                let mut held = Vec::new();
                for _ in 0..200 {
                    held.push(c.reserve_memory(per_job, "activations").unwrap());
                    c.run().unwrap();
                }
                let lease = c.acquire_stream().unwrap();
                (c.memory_used(), c.streams_in_use(), held.len(), lease)
            })
        })
        .collect();
    for (i, h) in handles.into_iter().enumerate() {
        let (used, streams, held, _lease) = h.join().unwrap();
        let resident = 1000 * (i as u64 + 1);
        assert_eq!(used, resident + 200 * 100 * (i as u64 + 1), "model {i}");
        assert_eq!((streams, held), (1, 200));
    }
    for (i, c) in models.iter().enumerate() {
        assert_eq!(c.memory_used(), 1000 * (i as u64 + 1), "reservations given back on drop");
        assert_eq!(c.streams_in_use(), 0);
        assert_eq!(c.state(), ContextState::Ready);
    }
}

#[test]
fn every_budget_violation_is_a_typed_error_and_a_trace_event() {
    let trace = Arc::new(TraceCollector::new());
    let c = traced("a", budget(4096, 1), MockBackend::new(), &trace);
    let r = c.reserve_memory(4000, "activations").unwrap();
    assert!(!c.can_allocate(100));
    match c.reserve_memory(100, "io").unwrap_err() {
        ContextError::BudgetExceeded {
            resource: BudgetField::MemoryLimit,
            requested: 100,
            used: 4000,
            limit: 4096,
            ..
        } => {}
        e => panic!("{e}"),
    }
    assert_eq!(c.memory_used(), 4000, "a refused request grants nothing");
    drop(r);
    let s = c.acquire_stream().unwrap();
    let e = c.acquire_stream().unwrap_err();
    assert!(matches!(
        e,
        ContextError::BudgetExceeded { resource: BudgetField::StreamLimit, used: 1, limit: 1, .. }
    ));
    assert!(e.to_string().contains("stream_limit"), "{e}");
    drop(s);
    assert!(c.acquire_stream().is_ok());
    // Compute: 5 ms per 20 ms period.
    let t = |ms: u64| Timestamp::from_nanos(ms * 1_000_000);
    assert!(!c.record_execution(t(1), Duration::from_millis(4)).overrun);
    let st = c.record_execution(t(6), Duration::from_millis(2));
    assert!(st.overrun && st.newly_overrun);
    assert_eq!(c.compute_used_in_period(t(10)), Duration::from_millis(6));
    assert_eq!(c.compute_overruns(), 1);
    let kinds: Vec<String> = trace
        .events()
        .iter()
        .filter(|e| e.kind == EventKind::BudgetExceeded || e.kind == EventKind::Overrun)
        .map(|e| e.attribute("resource").unwrap_or("compute").to_owned())
        .collect();
    assert_eq!(kinds, ["memory_limit", "stream_limit", "compute"]);
}

#[test]
fn invalid_budgets_and_oversized_models_are_refused_at_creation() {
    let bad = ResourceBudget { compute_budget: Duration::from_millis(30), ..budget(1 << 20, 1) };
    let e = ExecutionContext::create(
        ModelId::new("x"),
        bad,
        Box::new(MockBackend::new()),
        ContextOptions::default(),
    )
    .unwrap_err();
    assert!(
        matches!(e, ContextError::InvalidBudget { ref source, .. } if source.field == BudgetField::ComputeBudget),
        "{e}"
    );
    let device = ContextOptions { device_memory: Some(1 << 20), ..Default::default() };
    let e = ExecutionContext::create(
        ModelId::new("x"),
        budget(2 << 20, 1),
        Box::new(MockBackend::new()),
        device,
    )
    .unwrap_err();
    assert!(e.to_string().contains("device"), "{e}");
    let big =
        MockBackend::new().memory(MemoryRequirements { weights_bytes: 5000, ..Default::default() });
    let e = ExecutionContext::create(
        ModelId::new("x"),
        budget(4096, 1),
        Box::new(big),
        ContextOptions::default(),
    )
    .unwrap_err();
    assert!(matches!(e, ContextError::BudgetExceeded { requested: 5000, .. }), "{e}");
}

#[test]
fn a_failing_or_panicking_backend_faults_only_its_own_context() {
    let trace = Arc::new(TraceCollector::new());
    let panics = traced(
        "panics",
        budget(1 << 20, 1),
        MockBackend::new().failure(MockFailure::PanicOnJob(3)),
        &trace,
    );
    let errors = traced(
        "errors",
        budget(1 << 20, 1),
        MockBackend::new().failure(MockFailure::ErrorOnJob(2)),
        &trace,
    );
    let healthy_mock = MockBackend::new().latency(Duration::from_micros(20));
    let healthy_jobs = healthy_mock.job_counter();
    let healthy = traced("healthy", budget(1 << 20, 1), healthy_mock, &trace);
    let hs: Vec<_> = [panics.clone(), errors.clone(), healthy.clone()]
        .into_iter()
        .map(|c| {
            std::thread::spawn(move || {
                let mut ok = 0;
                for _ in 0..50 {
                    match c.run() {
                        Ok(()) => ok += 1,
                        Err(ContextError::Fault { .. }) | Err(ContextError::Faulted(_)) => {}
                        Err(e) => panic!("unexpected {e}"),
                    }
                }
                ok
            })
        })
        .collect();
    let oks: Vec<u32> = hs.into_iter().map(|h| h.join().unwrap()).collect();
    assert_eq!(oks, [2, 1, 50]);
    assert_eq!(healthy_jobs.load(Ordering::Acquire), 50);
    assert_eq!(healthy.state(), ContextState::Ready);
    let p = panics.last_error().unwrap();
    assert_eq!((p.kind, p.recovery), (FaultKind::Panic, Recovery::ClearError));
    assert!(p.message.contains("scripted panic on job 3"), "{}", p.message);
    assert_eq!(errors.last_error().unwrap().kind, FaultKind::Backend);
    // A faulted context refuses work without calling the backend.
    assert!(matches!(panics.run(), Err(ContextError::Faulted(_))));
    // Defined recovery.
    panics.clear_error().unwrap();
    assert!(!panics.has_error() && panics.last_error().is_none());
    panics.run().unwrap();
    assert_eq!(panics.fault_count(), 1);
    let faults = trace.query(&TraceQuery::all().kind(EventKind::Fault));
    assert_eq!(faults.len(), 2);
    assert!(faults.iter().all(|e| e.model.as_ref().unwrap().as_str() != "healthy"));
    assert_eq!(trace.query(&TraceQuery::all().kind(EventKind::Recovered)).len(), 1);
}

#[test]
fn sticky_cuda_errors_need_a_new_process_and_others_are_recoverable() {
    let sticky = ctx(
        "s",
        budget(1 << 20, 1),
        MockBackend::new().failure(MockFailure::CudaErrorOnJob { job: 1, sticky: true }),
    );
    let e = sticky.run().unwrap_err();
    assert!(
        matches!(e, ContextError::Fault { ref fault, .. } if fault.kind == FaultKind::Cuda && fault.recovery == Recovery::RestartProcess),
        "{e}"
    );
    let e = sticky.clear_error().unwrap_err();
    assert!(matches!(e, ContextError::Unrecoverable { .. }));
    assert!(e.to_string().contains("restart the process"), "{e}");
    let soft = ctx(
        "t",
        budget(1 << 20, 1),
        MockBackend::new().failure(MockFailure::CudaErrorOnJob { job: 1, sticky: false }),
    );
    assert!(soft.run().is_err());
    assert_eq!(soft.last_error().unwrap().recovery, Recovery::ClearError);
    soft.clear_error().unwrap();
    soft.run().unwrap();
    // Runtime-detected faults (completion event error, timeout) go through the same boundary.
    let f = soft.report_fault(FaultKind::Timeout, "job exceeded 10x its WCET", false);
    assert_eq!(f.kind, FaultKind::Timeout);
    assert!(matches!(soft.run(), Err(ContextError::Faulted(_))));
    assert!(f.to_string().contains("clear_error"));
}

#[test]
fn caller_mistakes_are_reported_without_faulting_the_context() {
    let c = ctx("a", budget(1 << 20, 1), MockBackend::new());
    let bad = TensorData { name: "input".into(), shape: vec![2, 2], data: vec![1.0] };
    let e = c.with_backend(|b| b.set_input(&bad)).unwrap_err();
    assert!(matches!(e, ContextError::Backend { .. }), "{e}");
    assert_eq!(c.state(), ContextState::Ready);
    let good = TensorData { name: "input".into(), shape: vec![2], data: vec![1.0, 2.0] };
    c.with_backend(|b| b.set_input(&good)).unwrap();
    c.run().unwrap();
    let out = c.with_backend(|b| b.outputs()).unwrap();
    assert_eq!(out[0].data, vec![2.0, 4.0]);
    // This mock allocates its own activations: binding runtime memory is refused, not a fault.
    let region = ActivationRegion { address: 0, bytes: 0, memory: aegis_cuda::PoolMemory::Host };
    assert!(matches!(
        c.with_backend(|b| b.bind_activation_memory(region)),
        Err(ContextError::Backend { .. })
    ));
    assert_eq!(c.state(), ContextState::Ready);
    assert_eq!(c.placement(), Placement::Cpu);
    assert_eq!(c.engine(), "mock");
    assert!(format!("{c:?}").contains("mock"));
}

#[test]
fn activation_memory_from_a_runtime_pool_is_bound_through_the_context() {
    let pool = DeviceMemoryPool::host_backed(1 << 20, PoolOptions::default()).unwrap();
    let req = MemoryRequirements {
        activation_bytes: 10_000,
        alignment: 256,
        external_activations: true,
        ..Default::default()
    };
    let c = ctx("a", budget(1 << 20, 1), MockBackend::new().memory(req));
    let alloc = pool.allocate(10_000, "a/activations").unwrap();
    let grant = c.reserve_memory(alloc.len(), "activations").unwrap();
    let region =
        ActivationRegion { address: alloc.address(), bytes: alloc.len(), memory: alloc.memory() };
    c.with_backend(|b| b.bind_activation_memory(region)).unwrap();
    let small = ActivationRegion { bytes: 10, ..region };
    assert!(matches!(
        c.with_backend(|b| b.bind_activation_memory(small)),
        Err(ContextError::Backend { .. })
    ));
    assert_eq!(c.memory_used(), 10_000);
    drop(grant);
    drop(alloc);
    pool.close().unwrap();
}

#[test]
fn many_threads_reserving_and_releasing_keep_accounting_exact() {
    let limit = 1_000_000u64;
    let c = ctx("stress", budget(limit, 8), MockBackend::new());
    let peak = Arc::new(AtomicU64::new(0));
    let refusals = Arc::new(AtomicU64::new(0));
    let hs: Vec<_> = (0..8u64)
        .map(|t| {
            let (c, peak, refusals) = (c.clone(), peak.clone(), refusals.clone());
            std::thread::spawn(move || {
                let mut held = Vec::new();
                let mut x = t * 7919 + 1;
                for _ in 0..20_000 {
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    if x % 3 == 0 && !held.is_empty() {
                        drop(held.swap_remove((x as usize >> 8) % held.len()));
                    } else {
                        match c.reserve_memory(1 + (x >> 33) % 20_000, "stress") {
                            Ok(r) => held.push(r),
                            Err(ContextError::BudgetExceeded { .. }) => {
                                refusals.fetch_add(1, Ordering::Relaxed);
                            }
                            Err(e) => panic!("{e}"),
                        }
                    }
                    let used = c.memory_used();
                    assert!(used <= limit, "budget exceeded: {used}");
                    peak.fetch_max(used, Ordering::Relaxed);
                    if let Ok(s) = c.acquire_stream() {
                        assert!(c.streams_in_use() <= 8);
                        drop(s);
                    }
                }
                held.iter().map(|r| r.bytes()).sum::<u64>()
            })
        })
        .collect();
    let mut outstanding = 0;
    for h in hs {
        outstanding += h.join().unwrap();
    }
    assert_eq!(
        c.memory_used(),
        0,
        "all reservations given back ({outstanding} were held at thread exit)"
    );
    assert_eq!(c.streams_in_use(), 0);
    assert!(refusals.load(Ordering::Relaxed) > 0, "the stress never hit the limit");
    assert!(peak.load(Ordering::Relaxed) <= limit);
}

#[test]
fn fault_timestamps_come_from_the_configured_clock() {
    let clock = Arc::new(ManualClock::new(Timestamp::from_nanos(5_000)));
    let opts = ContextOptions { clock: clock.clone(), ..Default::default() };
    let c = ExecutionContext::create(
        ModelId::new("a"),
        budget(1 << 20, 1),
        Box::new(MockBackend::new().failure(MockFailure::ErrorEvery(1))),
        opts,
    )
    .unwrap();
    assert!(c.run().is_err());
    assert_eq!(c.last_error().unwrap().at, Timestamp::from_nanos(5_000));
}
