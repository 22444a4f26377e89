//! The orchestrator over real execution contexts and a real (host-backed) pool: plans from
//! lifetime files and engine graphs, cross-model sharing, binding, release, pressure on usage.

use aegis_context::mock::MockBackend;
use aegis_context::{
    ContextOptions, ExecutionContext, MemoryRequirements, OpGraph, ResourceBudget,
};
use aegis_cuda::{DeviceMemoryPool, PoolOptions};
use aegis_memory::{
    ActivationSource, ExclusivityGroup, LifetimeFile, MemoryError, MemoryOrchestrator,
    OrchestratorOptions, Precision, TensorLifetime, check_layout,
};
use aegis_trace::{Duration, EventKind, ModelId, TraceCollector, TraceQuery};
use std::path::Path;
use std::sync::Arc;

fn budget(memory: u64) -> ResourceBudget {
    ResourceBudget {
        memory_limit: memory,
        stream_limit: 2,
        compute_budget: Duration::from_millis(5),
        period: Duration::from_millis(20),
    }
}

fn managed(weights: u64, activations: u64) -> MockBackend {
    MockBackend::new().memory(MemoryRequirements {
        weights_bytes: weights,
        activation_bytes: activations,
        io_bytes: 0,
        alignment: 256,
        external_activations: true,
    })
}

fn ctx(name: &str, mem: u64, b: MockBackend) -> Arc<ExecutionContext> {
    ExecutionContext::create(
        ModelId::new(name),
        budget(mem),
        Box::new(b),
        ContextOptions::default(),
    )
    .unwrap()
}

fn lifetimes(file: &str, model: &str) -> Vec<TensorLifetime> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/lifetimes").join(file);
    let f = LifetimeFile::load(&path).unwrap();
    f.lifetimes(Precision::Fp32)
        .into_iter()
        .map(|mut l| {
            l.owner_model = ModelId::new(model);
            l
        })
        .collect()
}

fn pool(bytes: u64) -> Arc<DeviceMemoryPool> {
    Arc::new(DeviceMemoryPool::host_backed(bytes, PoolOptions::default()).unwrap())
}

#[test]
fn one_lane_shares_one_arena_and_reports_the_saving() {
    let trace = Arc::new(TraceCollector::new());
    let p = pool(256 << 20);
    let orch = MemoryOrchestrator::new(
        p.clone(),
        OrchestratorOptions { trace: Some(trace.clone()), ..Default::default() },
    );
    let (a, b, c) = (
        ctx("resnet", 1 << 30, managed(1000, 0)),
        ctx("squeeze", 1 << 30, managed(2000, 0)),
        ctx("opaque", 1 << 30, managed(3000, 5 << 20)),
    );
    let mut lts = lifetimes("resnet18.json", "resnet");
    lts.extend(lifetimes("squeezenet1_1.json", "squeeze"));
    let lane = ExclusivityGroup::new(
        "lane0",
        [a.model_id().clone(), b.model_id().clone(), c.model_id().clone()],
    );
    let plan = orch.plan(&[a.clone(), b.clone(), c.clone()], &lts, &[lane]).unwrap();
    let resnet = plan.model(a.model_id()).unwrap();
    assert_eq!(resnet.source, ActivationSource::Planned);
    assert_eq!(
        resnet.activations_isolated_bytes, 6_422_528,
        "resnet18 fp32 lower bound (256-aligned)"
    );
    assert_eq!(plan.model(c.model_id()).unwrap().source, ActivationSource::EngineReported);
    // One arena of the largest need; the sum would be isolated.
    let sizes: Vec<u64> = plan.models.iter().map(|m| m.activations_isolated_bytes).collect();
    assert_eq!(plan.arenas.len(), 1);
    assert_eq!(plan.pool_bytes, *sizes.iter().max().unwrap());
    assert_eq!(plan.sharing.total.activations_isolated_bytes, sizes.iter().sum::<u64>());
    assert_eq!(plan.sharing.total.saved_bytes, sizes.iter().sum::<u64>() - plan.pool_bytes);
    assert_eq!(plan.sharing.total.weights_bytes, 6000);
    assert_eq!(plan.sharing.opportunities.len(), 1);
    plan.check_fits(p.available()).unwrap();

    let ba = orch.bind(&a, &plan).unwrap();
    let bb = orch.bind(&b, &plan).unwrap();
    let bc = orch.bind(&c, &plan).unwrap();
    assert_eq!(ba.address, bb.address);
    assert_eq!(bb.address, bc.address);
    assert_eq!(p.used(), plan.pool_bytes, "one arena in the pool");
    assert_eq!(orch.current_usage(), plan.pool_bytes);
    assert_eq!(
        a.memory_used(),
        1000 + resnet.activations_isolated_bytes,
        "budget charged its own need"
    );
    // Tensor addresses follow the planned layout, which is valid.
    let base = ba.address.unwrap();
    let offsets: std::collections::BTreeMap<_, _> =
        ba.tensor_addresses.iter().map(|(t, addr)| (*t, addr - base)).collect();
    let own = lifetimes("resnet18.json", "resnet");
    assert!(check_layout(&own, &offsets, resnet.activations_isolated_bytes, 256).is_empty());
    assert!(matches!(orch.bind(&a, &plan), Err(MemoryError::AlreadyBound { .. })));

    orch.release(a.model_id()).unwrap();
    orch.release(b.model_id()).unwrap();
    assert_eq!(p.used(), plan.pool_bytes, "arena kept while a member is bound");
    orch.release(c.model_id()).unwrap();
    assert_eq!(p.used(), 0, "arena back in the pool");
    assert_eq!(a.memory_used(), 1000);
    assert_eq!(orch.peak_usage(), plan.pool_bytes);
    assert!(matches!(orch.release(a.model_id()), Err(MemoryError::NotPlanned { .. })));
    assert_eq!(trace.query(&TraceQuery::all().kind(EventKind::MemoryPlanned)).len(), 3);
    assert_eq!(trace.query(&TraceQuery::all().kind(EventKind::MemoryBound)).len(), 3);
    assert_eq!(trace.query(&TraceQuery::all().kind(EventKind::MemoryReleased)).len(), 3);
}

#[test]
fn engine_managed_models_are_charged_but_never_share_or_use_the_pool() {
    let p = pool(64 << 20);
    let orch = MemoryOrchestrator::new(p.clone(), OrchestratorOptions::default());
    let own = MockBackend::new().memory(MemoryRequirements {
        weights_bytes: 10,
        activation_bytes: 4000,
        alignment: 256,
        ..Default::default()
    });
    let a = ctx("engine-owned", 1 << 20, own);
    let b = ctx("runtime-owned", 1 << 20, managed(0, 8000));
    let lane = ExclusivityGroup::new("lane0", [a.model_id().clone(), b.model_id().clone()]);
    let plan = orch.plan(&[a.clone(), b.clone()], &[], &[lane]).unwrap();
    let ma = plan.model(a.model_id()).unwrap();
    assert!(!ma.runtime_managed && ma.arena.is_none());
    assert_eq!(ma.activations_isolated_bytes, 4096);
    assert_eq!(plan.pool_bytes, 8192);
    let bind = orch.bind(&a, &plan).unwrap();
    assert_eq!((bind.address, bind.bytes), (None, 4096));
    assert_eq!(a.memory_used(), 10 + 4096);
    assert_eq!(p.used(), 0);
}

#[test]
fn plans_come_from_engine_graphs_when_no_lifetimes_are_given() {
    // in(0) -> op -> t1 -> op -> t2(out); each 1 KiB: two live at a time.
    let g = OpGraph {
        tensors: vec![(0, 1024), (1, 1024), (2, 1024)],
        ops: vec![(vec![0], vec![1]), (vec![1], vec![2])],
        inputs: vec![0],
        outputs: vec![2],
    };
    let p = pool(1 << 20);
    let orch = MemoryOrchestrator::new(p, OrchestratorOptions::default());
    let a = ctx("graph", 1 << 20, managed(0, 0).with_graph(g));
    let plan = orch.plan(std::slice::from_ref(&a), &[], &[]).unwrap();
    let m = plan.model(a.model_id()).unwrap();
    assert_eq!((m.source, m.activations_isolated_bytes), (ActivationSource::Planned, 2048));
    let b = orch.bind(&a, &plan).unwrap();
    assert_eq!(b.tensor_addresses.len(), 3);
}

#[test]
fn refusals_leave_nothing_behind() {
    let p = pool(1 << 20);
    let orch = MemoryOrchestrator::new(p.clone(), OrchestratorOptions::default());
    let small = ctx("small-budget", 4096, managed(0, 100_000));
    let plan = orch.plan(std::slice::from_ref(&small), &[], &[]).unwrap();
    let e = orch.bind(&small, &plan).unwrap_err();
    assert!(matches!(e, MemoryError::Context(_)), "{e}");
    assert!(e.to_string().contains("memory_limit"), "{e}");
    assert_eq!((p.used(), small.memory_used()), (0, 0));
    let big = ctx("big", 1 << 30, managed(0, 2 << 20));
    let plan = orch.plan(std::slice::from_ref(&big), &[], &[]).unwrap();
    let e = plan.check_fits(p.available()).unwrap_err();
    assert!(matches!(e, MemoryError::PlanDoesNotFit { .. }), "{e}");
    assert!(matches!(orch.bind(&big, &plan), Err(MemoryError::Pool(_))));
    assert_eq!((p.used(), big.memory_used()), (0, 0));
    let stranger = ctx("stranger", 1 << 20, managed(0, 10));
    assert!(matches!(orch.bind(&stranger, &plan), Err(MemoryError::NotPlanned { .. })));
    let bad = ExclusivityGroup::new("g", [ModelId::new("nobody")]);
    assert!(matches!(orch.plan(&[big], &[], &[bad]), Err(MemoryError::UnknownModel { .. })));
}

#[test]
fn shrinking_to_shared_arenas_moves_bound_models_into_one() {
    let p = pool(64 << 20);
    let orch = MemoryOrchestrator::new(p.clone(), OrchestratorOptions::default());
    let (a, b) = (ctx("a", 1 << 30, managed(0, 1 << 20)), ctx("b", 1 << 30, managed(0, 3 << 20)));
    let plan = orch.plan(&[a.clone(), b.clone()], &[], &[]).unwrap();
    orch.bind(&a, &plan).unwrap();
    orch.bind(&b, &plan).unwrap();
    assert_eq!(p.used(), 4 << 20);
    let lane = ExclusivityGroup::new("lane0", [a.model_id().clone(), b.model_id().clone()]);
    let (before, after) = orch.shrink_to_shared(&[lane]).unwrap();
    assert_eq!((before, after), (4 << 20, 3 << 20));
    assert_eq!(p.used(), 3 << 20, "old arenas returned");
    assert_eq!(
        orch.binding(a.model_id()).unwrap().address,
        orch.binding(b.model_id()).unwrap().address
    );
    assert_eq!(orch.bound_models().len(), 2);
    assert!(format!("{orch:?}").contains("usage"));
}
