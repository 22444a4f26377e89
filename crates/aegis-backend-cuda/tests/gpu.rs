//! Kernel models on a real GPU (ignored without the `gpu-tests` feature), and the no-GPU path.

use aegis_backend_cuda::{CudaKernelBackend, KernelModelSpec, KernelStep};
use aegis_context::{
    BackendError, ContextOptions, ExecutionContext, ResourceBudget, RuntimeBackend,
};
use aegis_cuda::{
    CudaContext, CudaEvent, DeviceMemoryPool, PoolOptions, StreamPriority, driver_available,
};
use aegis_memory::{ExclusivityGroup, MemoryOrchestrator, OrchestratorOptions};
use aegis_trace::{Duration, ModelId};
use std::sync::Arc;

fn spec(kernels: Vec<KernelStep>) -> KernelModelSpec {
    KernelModelSpec { kernels }
}

#[test]
fn without_a_gpu_construction_is_a_typed_error() {
    if driver_available() {
        return;
    }
    assert!(matches!(CudaContext::new(0), Err(aegis_cuda::AegisCudaError::DriverNotFound)));
    let bad = spec(vec![]);
    assert!(bad.validate().is_err());
}

fn budget() -> ResourceBudget {
    ResourceBudget {
        memory_limit: 1 << 30,
        stream_limit: 1,
        compute_budget: Duration::from_millis(8),
        period: Duration::from_millis(10),
    }
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn kernel_models_share_one_lane_arena_and_run_for_their_described_time() {
    let cuda = CudaContext::new(0).unwrap();
    let a =
        CudaKernelBackend::new(&cuda, spec(vec![KernelStep::Spin { spin_us: 2000, blocks: 1 }]))
            .unwrap();
    let b = CudaKernelBackend::new(
        &cuda,
        spec(vec![
            KernelStep::Gemm { gemm_n: 1024, repeat: 2 },
            KernelStep::Spin { spin_us: 1000, blocks: 4 },
        ]),
    )
    .unwrap();
    assert_eq!(b.memory_requirements().activation_bytes, 2 * 1024 * 1024 * 4);
    let ca = ExecutionContext::create(
        ModelId::new("a"),
        budget(),
        Box::new(a),
        ContextOptions::default(),
    )
    .unwrap();
    let cb = ExecutionContext::create(
        ModelId::new("b"),
        budget(),
        Box::new(b),
        ContextOptions::default(),
    )
    .unwrap();
    let pool = Arc::new(DeviceMemoryPool::new(&cuda, 64 << 20, PoolOptions::default()).unwrap());
    let orch = MemoryOrchestrator::new(pool.clone(), OrchestratorOptions::default());
    let lane = ExclusivityGroup::new("lane0", [ModelId::new("a"), ModelId::new("b")]);
    let plan = orch.plan(&[ca.clone(), cb.clone()], &[], &[lane]).unwrap();
    orch.bind(&ca, &plan).unwrap();
    orch.bind(&cb, &plan).unwrap();
    assert_eq!(pool.used(), 8 << 20, "one shared arena: the larger model's 8 MiB");

    let stream = cb.create_stream(&cuda, StreamPriority::Level(0)).unwrap();
    for c in [&ca, &cb] {
        c.with_backend(|be| be.prepare(Some(stream.stream()))).unwrap();
    }
    let (start, end) = (CudaEvent::timing(&cuda).unwrap(), CudaEvent::timing(&cuda).unwrap());
    stream.stream().record_event(&start).unwrap();
    ca.enqueue(stream.stream()).unwrap();
    stream.stream().record_event(&end).unwrap();
    end.synchronize().unwrap();
    let ms = end.elapsed_since(&start).unwrap().as_nanos() as f64 / 1e6;
    println!("model a (spin 2 ms): {ms:.4} ms");
    // Under compute-sanitizer every launch is instrumented: timing is not meaningful there.
    if std::env::var_os("AEGIS_UNDER_SANITIZER").is_none() {
        assert!((ms - 2.0).abs() < 0.1, "{ms}");
    }
    stream.stream().record_event(&start).unwrap();
    cb.enqueue(stream.stream()).unwrap();
    stream.stream().record_event(&end).unwrap();
    end.synchronize().unwrap();
    let ms = end.elapsed_since(&start).unwrap().as_nanos() as f64 / 1e6;
    println!("model b (2 GEMM 1024 + spin 1 ms): {ms:.4} ms");
    assert!(ms > 1.0, "{ms}");
    assert!(matches!(cb.with_backend(|be| be.outputs()), Ok(v) if v.is_empty()));
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn misuse_is_reported_not_crashed() {
    let cuda = CudaContext::new(0).unwrap();
    let stream = aegis_cuda::CudaStream::new(&cuda, StreamPriority::Lowest).unwrap();
    let mut g =
        CudaKernelBackend::new(&cuda, spec(vec![KernelStep::Gemm { gemm_n: 256, repeat: 1 }]))
            .unwrap();
    assert!(matches!(g.enqueue(&stream), Err(BackendError::Execution { .. })), "not prepared");
    g.prepare(Some(&stream)).unwrap();
    assert!(matches!(g.enqueue(&stream), Err(BackendError::Execution { .. })), "no arena bound");
    let host = aegis_context::ActivationRegion {
        address: 0x1000,
        bytes: 1 << 20,
        memory: aegis_cuda::PoolMemory::Host,
    };
    assert!(matches!(
        g.bind_activation_memory(host),
        Err(BackendError::BadActivationRegion { .. })
    ));
    assert!(matches!(g.prepare(None), Err(BackendError::Unsupported { .. })));
    assert_eq!(g.jobs(), 0);
}
