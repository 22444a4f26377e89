//! `TractBackend` against the `RuntimeBackend` contract: input validation, the order of calls,
//! errors mapped to `BackendError`, and a real model inside an `ExecutionContext` planned and
//! bound by aegis-memory's orchestrator.

mod support;

use aegis_backend_tract::{Manifest, TractBackend, TractOptions, reference_input};
use aegis_context::{
    ActivationRegion, BackendError, ContextOptions, ExecutionContext, Placement, ResourceBudget,
    RuntimeBackend, TensorData,
};
use aegis_cuda::{DeviceMemoryPool, PoolMemory, PoolOptions};
use aegis_memory::{ActivationSource, MemoryOrchestrator, OrchestratorOptions};
use aegis_trace::{Duration, ModelId};
use std::sync::Arc;
use support::{Dim, FLOAT, model, node, relu_model, write_temp};

fn relu(n: i64) -> TractBackend {
    let path = write_temp(&format!("relu{n}.onnx"), &relu_model(vec![Dim::Val(n)]));
    TractBackend::load(path, &TractOptions::default()).unwrap()
}

fn x(shape: Vec<usize>, data: Vec<f32>) -> TensorData {
    TensorData { name: "x".into(), shape, data }
}

#[test]
fn identity_and_defaults() {
    let mut b = relu(4);
    assert_eq!(b.engine(), "tract");
    assert_eq!(b.placement(), Placement::Cpu);
    assert!(b.path().ends_with("relu4.onnx"));
    b.prepare(None).unwrap();
    let region = ActivationRegion { address: 0x1000, bytes: 1 << 20, memory: PoolMemory::Host };
    assert!(matches!(
        b.bind_activation_memory(region),
        Err(BackendError::Unsupported { operation: "runtime-provided activation memory", .. })
    ));
    let req = b.memory_requirements();
    assert!(!req.external_activations);
    assert_eq!(req.io_bytes, 2 * 4 * 4, "a 4-float input and a 4-float output");
    assert!(format!("{b:?}").contains("relu4.onnx"));
}

#[test]
fn inputs_are_validated_by_name_shape_and_length() {
    let mut b = relu(4);
    let e = b.set_input(&TensorData { name: "input".into(), shape: vec![4], data: vec![0.0; 4] });
    match e.unwrap_err() {
        BackendError::InvalidInput { name, reason } => {
            assert_eq!(name, "input");
            assert!(reason.contains("[\"x\"]"), "lists the inputs: {reason}");
        }
        other => panic!("{other:?}"),
    }
    match b.set_input(&x(vec![1, 4], vec![0.0; 4])).unwrap_err() {
        BackendError::InvalidInput { reason, .. } => {
            assert!(reason.contains("[1, 4]") && reason.contains("[4]"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    match b.set_input(&x(vec![4], vec![0.0; 3])).unwrap_err() {
        BackendError::InvalidInput { reason, .. } => assert!(reason.contains("got 3"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn run_and_outputs_follow_the_call_order() {
    let mut b = relu(3);
    match b.outputs().unwrap_err() {
        BackendError::Execution { engine, reason } => {
            assert_eq!(engine, "tract");
            assert!(reason.contains("no completed inference"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    match b.run().unwrap_err() {
        BackendError::Execution { reason, .. } => {
            assert!(reason.contains("input x was never set"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    b.set_input(&x(vec![3], vec![-1.0, 0.0, 2.5])).unwrap();
    b.run().unwrap();
    assert_eq!(b.outputs().unwrap()[0].data, vec![0.0, 0.0, 2.5]);
    // Inputs stay set; a new input replaces the old one.
    b.run().unwrap();
    assert_eq!(b.outputs().unwrap()[0].data, vec![0.0, 0.0, 2.5]);
    b.set_input(&x(vec![3], vec![5.0, -5.0, 1.0])).unwrap();
    b.run().unwrap();
    assert_eq!(b.outputs().unwrap()[0].data, vec![5.0, 0.0, 1.0]);
}

#[test]
fn a_failing_inference_is_an_execution_error_and_clears_the_outputs() {
    // tract accepts Add of [2, 3] and [4, 5] at load (the output shape stays unknown, so the
    // model has no static graph) and fails when it runs.
    let bytes = model(
        &[
            ("a", FLOAT, vec![Dim::Val(2), Dim::Val(3)]),
            ("b", FLOAT, vec![Dim::Val(4), Dim::Val(5)]),
        ],
        vec![node("Add", &["a", "b"], &["y"])],
        &["y"],
    );
    let mut b =
        TractBackend::load(write_temp("bad_add.onnx", &bytes), &TractOptions::default()).unwrap();
    assert!(b.graph().is_none() && b.activation_plan().is_none());
    assert_eq!(b.outputs_spec()[0].shape, None);
    b.set_input(&TensorData { name: "a".into(), shape: vec![2, 3], data: vec![1.0; 6] }).unwrap();
    b.set_input(&TensorData { name: "b".into(), shape: vec![4, 5], data: vec![1.0; 20] }).unwrap();
    match b.run().unwrap_err() {
        BackendError::Execution { engine, reason } => {
            assert_eq!(engine, "tract");
            assert!(!reason.is_empty());
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(b.outputs(), Err(BackendError::Execution { .. })));
}

#[test]
fn weights_can_be_evicted_and_restored_from_the_file() {
    let path = write_temp("evict.onnx", &relu_model(vec![Dim::Val(2)]));
    let mut b = TractBackend::load(&path, &TractOptions::default()).unwrap();
    b.set_input(&x(vec![2], vec![-1.0, 3.0])).unwrap();
    b.run().unwrap();
    let weights = b.memory_requirements().weights_bytes;
    assert_eq!(b.release_weights().unwrap(), weights);
    assert!(!b.weights_resident() && b.plan().is_none());
    assert_eq!(b.release_weights().unwrap(), 0, "already evicted");
    match b.run().unwrap_err() {
        BackendError::Execution { reason, .. } => assert!(reason.contains("restore_weights")),
        other => panic!("{other:?}"),
    }
    assert!(b.outputs().is_err(), "no outputs after an eviction");
    assert!(b.graph().is_some(), "the description stays");
    b.restore_weights().unwrap();
    b.restore_weights().unwrap(); // resident: nothing to do
    b.run().unwrap(); // the input stayed set
    assert_eq!(b.outputs().unwrap()[0].data, vec![0.0, 3.0]);

    // The file changed meanwhile: restoring refuses a different model.
    b.release_weights().unwrap();
    std::fs::write(&path, relu_model(vec![Dim::Val(5)])).unwrap();
    match b.restore_weights().unwrap_err() {
        BackendError::Load { path: p, reason } => {
            assert!(p.ends_with("evict.onnx"));
            assert!(reason.contains("file changed"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // Or is gone.
    std::fs::remove_file(&path).unwrap();
    match b.restore_weights().unwrap_err() {
        BackendError::Load { reason, .. } => assert!(reason.contains("no such model file")),
        other => panic!("{other:?}"),
    }
}

fn squeezenet() -> (TractBackend, TensorData) {
    let m = Manifest::load(support::manifest_path()).unwrap();
    let e = m.entry("squeezenet1_1").unwrap();
    let b = TractBackend::load(m.model_path(e), &TractOptions::default()).unwrap();
    (b, reference_input(e))
}

#[test]
fn a_real_model_runs_inside_an_execution_context_planned_by_the_orchestrator() {
    let (backend, input) = squeezenet();
    let req = backend.memory_requirements();
    let budget = ResourceBudget {
        memory_limit: 64 << 20,
        stream_limit: 1,
        compute_budget: Duration::from_millis(500),
        period: Duration::from_millis(1000),
    };
    let ctx = ExecutionContext::create(
        ModelId::new("squeezenet"),
        budget,
        Box::new(backend),
        ContextOptions::default(),
    )
    .unwrap();
    assert_eq!(ctx.memory_used(), req.weights_bytes + req.io_bytes, "resident memory charged");

    let pool = Arc::new(DeviceMemoryPool::host_backed(16 << 20, PoolOptions::default()).unwrap());
    let orch = MemoryOrchestrator::new(pool, OrchestratorOptions::default());
    let plan = orch.plan(std::slice::from_ref(&ctx), &[], &[]).unwrap();
    let alloc = plan.model(&ModelId::new("squeezenet")).unwrap();
    // Planned from tract's graph, engine-managed: no pool arena, the bytes charged to the budget.
    assert_eq!(alloc.source, ActivationSource::Planned);
    assert!(!alloc.runtime_managed);
    assert_eq!(alloc.arena, None);
    assert_eq!(alloc.activations_isolated_bytes, req.activation_bytes);
    assert_eq!(plan.pool_bytes, 0);
    let binding = orch.bind(&ctx, &plan).unwrap();
    assert_eq!(binding.address, None);
    assert_eq!(ctx.memory_used(), req.total());

    // The context moves to another thread (a lane's worker) and runs jobs there.
    let worker = {
        let ctx = ctx.clone();
        std::thread::spawn(move || {
            ctx.with_backend(|b| b.set_input(&input)).unwrap();
            ctx.run().unwrap();
            ctx.with_backend(|b| b.outputs()).unwrap()
        })
    };
    let out = worker.join().unwrap();
    assert_eq!(out[0].shape, vec![1, 1000]);
    orch.release(&ModelId::new("squeezenet")).unwrap();
    assert_eq!(ctx.memory_used(), req.weights_bytes + req.io_bytes);
}
