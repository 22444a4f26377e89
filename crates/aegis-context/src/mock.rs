//! `MockBackend`: a TEST DOUBLE with scripted latency, memory needs and failures.
//!
//! For tests of this crate and of the layers above only (compiled with the `test-support`
//! feature); never part of a deployment. It performs no inference: `run` sleeps for the
//! scripted latency and counts the call.

use crate::backend::{
    ActivationRegion, BackendError, MemoryRequirements, OpGraph, Placement, RuntimeBackend,
    TensorData,
};
use aegis_cuda::{AegisCudaError, CudaStream};
use aegis_trace::Duration;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// How a [`MockBackend`] fails.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MockFailure {
    /// Never.
    Never,
    /// Returns an execution error on the n-th job (1-based).
    ErrorOnJob(u64),
    /// Panics on the n-th job (1-based).
    PanicOnJob(u64),
    /// Returns an execution error on every n-th job.
    ErrorEvery(u64),
    /// Returns a CUDA error on the n-th job; `sticky` picks an illegal-address error (700).
    CudaErrorOnJob {
        /// Which job (1-based).
        job: u64,
        /// Sticky (illegal address) or not (launch out of resources, 701).
        sticky: bool,
    },
}

/// A scripted test double implementing [`RuntimeBackend`].
pub struct MockBackend {
    placement: Placement,
    requirements: MemoryRequirements,
    latencies: Vec<Duration>,
    failure: MockFailure,
    jobs: Arc<AtomicU64>,
    bound: Option<ActivationRegion>,
    input: Option<TensorData>,
    evictable: bool,
    weights_resident: bool,
    graph: Option<OpGraph>,
}

impl MockBackend {
    /// A CPU mock with no latency, no memory and no failures.
    pub fn new() -> Self {
        MockBackend {
            placement: Placement::Cpu,
            requirements: MemoryRequirements { alignment: 256, ..Default::default() },
            latencies: vec![Duration::ZERO],
            failure: MockFailure::Never,
            jobs: Arc::new(AtomicU64::new(0)),
            bound: None,
            input: None,
            evictable: false,
            weights_resident: true,
            graph: None,
        }
    }

    /// Exposes `graph` as the model's operator sequence.
    pub fn with_graph(mut self, graph: OpGraph) -> Self {
        self.graph = Some(graph);
        self
    }

    /// Lets the mock evict and restore its (scripted) weights.
    pub fn evictable(mut self) -> Self {
        self.evictable = true;
        self
    }

    /// The activation region bound last, if any.
    pub fn bound_region(&self) -> Option<ActivationRegion> {
        self.bound
    }

    /// Each job sleeps for `d`.
    pub fn latency(self, d: Duration) -> Self {
        self.latencies(vec![d])
    }

    /// Jobs sleep for these durations in turn (cycling).
    pub fn latencies(mut self, ds: Vec<Duration>) -> Self {
        self.latencies = if ds.is_empty() { vec![Duration::ZERO] } else { ds };
        self
    }

    /// Scripted memory needs.
    pub fn memory(mut self, req: MemoryRequirements) -> Self {
        self.requirements = req;
        self
    }

    /// Scripted failure.
    pub fn failure(mut self, f: MockFailure) -> Self {
        self.failure = f;
        self
    }

    /// Reports GPU placement (for interface tests; `enqueue` then only counts the job).
    pub fn gpu(mut self) -> Self {
        self.placement = Placement::Gpu;
        self
    }

    /// A shared counter of jobs started, readable after the mock moved into a context.
    pub fn job_counter(&self) -> Arc<AtomicU64> {
        self.jobs.clone()
    }

    fn job(&mut self) -> Result<(), BackendError> {
        if !self.weights_resident {
            return Err(BackendError::Execution {
                engine: "mock".into(),
                reason: "weights evicted: restore them first".into(),
            });
        }
        let n = self.jobs.fetch_add(1, Ordering::AcqRel) + 1;
        let d = self.latencies[((n - 1) % self.latencies.len() as u64) as usize];
        if !d.is_zero() {
            std::thread::sleep(d.into());
        }
        let fail = |reason: &str| {
            Err(BackendError::Execution { engine: "mock".into(), reason: reason.into() })
        };
        match &self.failure {
            MockFailure::ErrorOnJob(k) if *k == n => fail(&format!("scripted error on job {n}")),
            MockFailure::ErrorEvery(k) if *k > 0 && n.is_multiple_of(*k) => {
                fail(&format!("scripted error on job {n}"))
            }
            MockFailure::PanicOnJob(k) if *k == n => panic!("scripted panic on job {n}"),
            MockFailure::CudaErrorOnJob { job, sticky } if *job == n => {
                let (code, name) = if *sticky {
                    (700, "CUDA_ERROR_ILLEGAL_ADDRESS")
                } else {
                    (701, "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES")
                };
                Err(BackendError::Cuda(AegisCudaError::Driver {
                    call: "cuLaunchKernel",
                    code,
                    name: name.into(),
                    description: "scripted by MockBackend".into(),
                }))
            }
            _ => Ok(()),
        }
    }
}

impl Default for MockBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl RuntimeBackend for MockBackend {
    fn engine(&self) -> &str {
        "mock"
    }

    fn placement(&self) -> Placement {
        self.placement
    }

    fn memory_requirements(&self) -> MemoryRequirements {
        self.requirements
    }

    fn graph(&self) -> Option<OpGraph> {
        self.graph.clone()
    }

    fn bind_activation_memory(&mut self, region: ActivationRegion) -> Result<(), BackendError> {
        let r = self.requirements;
        if !r.external_activations {
            return Err(BackendError::unsupported("mock", "runtime-provided activation memory"));
        }
        if region.bytes < r.activation_bytes || !region.address.is_multiple_of(r.alignment.max(1)) {
            return Err(BackendError::BadActivationRegion {
                address: region.address,
                given: region.bytes,
                needed: r.activation_bytes,
                alignment: r.alignment,
            });
        }
        self.bound = Some(region);
        Ok(())
    }

    fn set_input(&mut self, input: &TensorData) -> Result<(), BackendError> {
        if input.elements() != input.data.len() {
            return Err(BackendError::InvalidInput {
                name: input.name.clone(),
                reason: format!(
                    "shape {:?} holds {} values, got {}",
                    input.shape,
                    input.elements(),
                    input.data.len()
                ),
            });
        }
        self.input = Some(input.clone());
        Ok(())
    }

    fn outputs(&mut self) -> Result<Vec<TensorData>, BackendError> {
        // Echoes the input, doubled, so tests can see data flow through.
        Ok(self
            .input
            .iter()
            .map(|t| TensorData {
                name: "output".into(),
                shape: t.shape.clone(),
                data: t.data.iter().map(|x| x * 2.0).collect(),
            })
            .collect())
    }

    fn enqueue(&mut self, _stream: &CudaStream) -> Result<(), BackendError> {
        if self.placement != Placement::Gpu {
            return Err(BackendError::unsupported("mock", "enqueue on a GPU stream"));
        }
        self.job()
    }

    fn release_weights(&mut self) -> Result<u64, BackendError> {
        if !self.evictable {
            return Err(BackendError::unsupported("mock", "evicting weights"));
        }
        let freed = if self.weights_resident { self.requirements.weights_bytes } else { 0 };
        self.weights_resident = false;
        Ok(freed)
    }

    fn restore_weights(&mut self) -> Result<(), BackendError> {
        if !self.evictable {
            return Err(BackendError::unsupported("mock", "restoring weights"));
        }
        self.weights_resident = true;
        Ok(())
    }

    fn run(&mut self) -> Result<(), BackendError> {
        if self.placement != Placement::Cpu {
            return Err(BackendError::unsupported("mock", "synchronous run on the CPU"));
        }
        self.job()
    }
}
