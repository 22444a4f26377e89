//! GPU fault boundary (GPU suite; its own binary because it poisons the process's GPU state on
//! purpose, and never run under compute-sanitizer).
//!
//! A GPU backend whose inference writes through an illegal address: the runtime-style flow
//! (enqueue through the context, then the completion wait reports the sticky error, which the
//! runtime reports to the context) faults that model's context with `Recovery::RestartProcess`;
//! a CPU model's context in the same process keeps running. ADR 0002 records why the boundary
//! for sticky GPU errors is the process.

use aegis_context::mock::MockBackend;
use aegis_context::{
    BackendError, ContextError, ContextOptions, ContextState, ExecutionContext, FaultKind,
    MemoryRequirements, Placement, Recovery, ResourceBudget, RuntimeBackend, TensorData,
};
use aegis_cuda::{CudaContext, CudaStream, SpinKernel, StreamPriority};
use aegis_trace::{Duration, ModelId};

/// A GPU "model" whose n-th inference faults the device (a real illegal-address kernel).
struct FaultyGpuModel {
    kernel: SpinKernel,
    jobs: u64,
    fault_on: u64,
}

impl RuntimeBackend for FaultyGpuModel {
    fn engine(&self) -> &str {
        "test-gpu-kernels"
    }
    fn placement(&self) -> Placement {
        Placement::Gpu
    }
    fn memory_requirements(&self) -> MemoryRequirements {
        MemoryRequirements::default()
    }
    fn set_input(&mut self, _: &TensorData) -> Result<(), BackendError> {
        Ok(())
    }
    fn outputs(&mut self) -> Result<Vec<TensorData>, BackendError> {
        Ok(Vec::new())
    }
    fn enqueue(&mut self, stream: &CudaStream) -> Result<(), BackendError> {
        self.jobs += 1;
        if self.jobs == self.fault_on {
            self.kernel.launch_fault(stream)?;
        } else {
            self.kernel.launch_cycles(stream, 200_000, 1)?;
        }
        Ok(())
    }
}

fn budget() -> ResourceBudget {
    ResourceBudget {
        memory_limit: 1 << 30,
        stream_limit: 1,
        compute_budget: Duration::from_millis(5),
        period: Duration::from_millis(10),
    }
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn sticky_gpu_fault_is_contained_to_its_context_and_marked_restart_process() {
    let cuda = CudaContext::new(0).unwrap();
    let model = FaultyGpuModel { kernel: SpinKernel::new(&cuda).unwrap(), jobs: 0, fault_on: 3 };
    let gpu = ExecutionContext::create(
        ModelId::new("gpu"),
        budget(),
        Box::new(model),
        ContextOptions::default(),
    )
    .unwrap();
    let cpu = ExecutionContext::create(
        ModelId::new("cpu"),
        budget(),
        Box::new(MockBackend::new()),
        ContextOptions::default(),
    )
    .unwrap();
    let lane = gpu.create_stream(&cuda, StreamPriority::Level(0)).unwrap();
    assert_eq!(gpu.streams_in_use(), 1);
    assert!(matches!(
        gpu.create_stream(&cuda, StreamPriority::Level(0)),
        Err(ContextError::BudgetExceeded { .. })
    ));
    for job in 1..=3 {
        gpu.enqueue(lane.stream()).unwrap();
        // The runtime waits for completion and reports a failed wait to the context.
        match lane.stream().synchronize() {
            Ok(()) => assert!(job < 3),
            Err(e) => {
                assert_eq!(job, 3);
                assert!(e.is_sticky(), "{e}");
                gpu.report_fault(FaultKind::Cuda, e.to_string(), e.is_sticky());
            }
        }
        cpu.run().unwrap();
    }
    assert_eq!(gpu.state(), ContextState::Faulted);
    let fault = gpu.last_error().unwrap();
    assert_eq!((fault.kind, fault.recovery), (FaultKind::Cuda, Recovery::RestartProcess));
    assert!(fault.message.contains("ILLEGAL_ADDRESS"), "{}", fault.message);
    assert!(matches!(gpu.enqueue(lane.stream()), Err(ContextError::Faulted(_))));
    assert!(matches!(gpu.clear_error(), Err(ContextError::Unrecoverable { .. })));
    // The CPU model is unaffected.
    for _ in 0..10 {
        cpu.run().unwrap();
    }
    assert_eq!(cpu.state(), ContextState::Ready);
    println!("fault boundary checks passed");
    std::process::exit(0); // skip destructors against the poisoned device
}
