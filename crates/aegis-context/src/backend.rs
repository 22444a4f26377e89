//! The `RuntimeBackend` trait: the one interface every inference engine implements.
//!
//! Owns the contract between AegisRT and an engine (tract, ONNX Runtime, TensorRT, native CUDA
//! kernels) and the value types that cross it. It must not know any engine.
//!
//! # Contract
//!
//! **Lifecycle.** A backend is constructed by its crate (model loaded, weights resident), then
//! moved into an [`crate::ExecutionContext`]. The runtime then, in this order: reads
//! [`RuntimeBackend::memory_requirements`] (and [`RuntimeBackend::graph`] where the engine
//! exposes one) at admission; hands it activation memory with
//! [`RuntimeBackend::bind_activation_memory`] if [`MemoryRequirements::external_activations`]
//! is true; calls [`RuntimeBackend::prepare`] once on the lane it will use; then executes jobs,
//! one at a time.
//!
//! **Threading.** A backend is `Send`: the runtime moves it to the thread of its lane. Calls on
//! one backend are never concurrent (the execution context holds it behind a lock). A backend
//! must not block on other models' work.
//!
//! **Memory ownership.** Weights are the backend's own. Activation memory bound with
//! `bind_activation_memory` belongs to the runtime: the backend may use the region only between
//! the bind and the next bind (or its drop), must not free it, and must not assume it is zeroed
//! or preserved between jobs — models serialised on one lane share the same arena bytes.
//! Input and output buffers are the backend's own.
//!
//! **Execution.** GPU engines implement [`RuntimeBackend::enqueue`]: enqueue one inference on
//! the stream the runtime chose and return without waiting; the runtime records an event after
//! the call and learns completion from it, so the backend must enqueue all of the job's work on
//! that stream (or make the stream wait for it). CPU engines implement
//! [`RuntimeBackend::run`]: run one inference to completion on the calling thread. Either may
//! block only for its own work.
//!
//! **Errors.** Every failure is a [`BackendError`]; a panic is caught by the fault boundary and
//! turned into a fault of this model's context only.

use aegis_cuda::{AegisCudaError, CudaStream, PoolMemory};
use serde::{Deserialize, Serialize};

/// Where a backend executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Placement {
    /// On CPU cores, through [`RuntimeBackend::run`].
    Cpu,
    /// On a GPU stream, through [`RuntimeBackend::enqueue`].
    Gpu,
}

/// What a model needs in memory (known once the model is loaded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct MemoryRequirements {
    /// Bytes of weights (resident for the model's lifetime).
    pub weights_bytes: u64,
    /// Bytes of activation workspace one inference needs.
    pub activation_bytes: u64,
    /// Bytes of input and output buffers.
    pub io_bytes: u64,
    /// Alignment the activation region must have, bytes (a power of two).
    pub alignment: u64,
    /// True when the engine takes its activation memory from the runtime
    /// ([`RuntimeBackend::bind_activation_memory`]); false when it allocates its own.
    pub external_activations: bool,
}

impl MemoryRequirements {
    /// Everything the model holds while loaded and bound.
    pub fn total(&self) -> u64 {
        self.weights_bytes.saturating_add(self.activation_bytes).saturating_add(self.io_bytes)
    }
}

/// A region of runtime-owned memory handed to a backend for its activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivationRegion {
    /// First byte (a device address, or a host address for host memory).
    pub address: u64,
    /// Length, bytes.
    pub bytes: u64,
    /// Device or host memory.
    pub memory: PoolMemory,
}

/// One tensor's shape and values (f32; the engines' host-side view).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TensorData {
    /// Tensor name in the model.
    pub name: String,
    /// Dimensions.
    pub shape: Vec<usize>,
    /// Values, row-major.
    pub data: Vec<f32>,
}

impl TensorData {
    /// Number of elements the shape implies.
    pub fn elements(&self) -> usize {
        self.shape.iter().product()
    }
}

/// An engine's operator sequence, for tensor lifetime analysis (where the engine exposes it).
#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct OpGraph {
    /// Tensors: (id, size in bytes). Ids are dense from 0.
    pub tensors: Vec<(u32, u64)>,
    /// Operators in execution order: (input tensor ids, output tensor ids).
    pub ops: Vec<(Vec<u32>, Vec<u32>)>,
    /// Graph inputs.
    pub inputs: Vec<u32>,
    /// Graph outputs.
    pub outputs: Vec<u32>,
}

/// What can go wrong inside a backend.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackendError {
    /// The engine cannot do this (e.g. `enqueue` on a CPU engine).
    #[error("{engine} does not support {operation}")]
    Unsupported {
        /// Engine.
        engine: String,
        /// The unsupported operation.
        operation: &'static str,
    },
    /// Loading the model failed.
    #[error("loading model {path}: {reason}")]
    Load {
        /// Model file.
        path: String,
        /// Cause.
        reason: String,
    },
    /// The engine's library is not available on this machine.
    #[error("{engine} is not available: {reason}")]
    Unavailable {
        /// Engine.
        engine: String,
        /// What is missing and how to provide it.
        reason: String,
    },
    /// An input does not match the model.
    #[error("input {name}: {reason}")]
    InvalidInput {
        /// Input name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The activation region does not fit the model's needs.
    #[error(
        "activation region of {given} bytes at {address:#x}: needs {needed} bytes aligned to {alignment}"
    )]
    BadActivationRegion {
        /// Region start.
        address: u64,
        /// Region length.
        given: u64,
        /// Bytes needed.
        needed: u64,
        /// Alignment needed.
        alignment: u64,
    },
    /// Running the model failed.
    #[error("{engine} inference failed: {reason}")]
    Execution {
        /// Engine.
        engine: String,
        /// Cause.
        reason: String,
    },
    /// A CUDA call failed.
    #[error(transparent)]
    Cuda(#[from] AegisCudaError),
}

impl BackendError {
    /// An [`BackendError::Unsupported`] for `engine`.
    pub fn unsupported(engine: &str, operation: &'static str) -> Self {
        BackendError::Unsupported { engine: engine.to_owned(), operation }
    }
}

/// An inference engine serving one model (see the module docs for the contract).
pub trait RuntimeBackend: Send {
    /// Engine name (`"tract"`, `"onnxruntime"`, `"tensorrt"`, `"cuda-kernels"`, …).
    fn engine(&self) -> &str;

    /// Where it executes.
    fn placement(&self) -> Placement;

    /// What the loaded model needs in memory.
    fn memory_requirements(&self) -> MemoryRequirements;

    /// The operator sequence, when the engine exposes one (for lifetime analysis).
    fn graph(&self) -> Option<OpGraph> {
        None
    }

    /// Gives the model its activation memory (runtime-owned; see the contract).
    ///
    /// # Errors
    /// [`BackendError::Unsupported`] for engines that allocate their own
    /// ([`MemoryRequirements::external_activations`] false);
    /// [`BackendError::BadActivationRegion`] if the region is too small or misaligned.
    fn bind_activation_memory(&mut self, region: ActivationRegion) -> Result<(), BackendError> {
        let _ = region;
        Err(BackendError::unsupported(self.engine(), "runtime-provided activation memory"))
    }

    /// One-time preparation before the first job (on the lane's stream for GPU engines).
    ///
    /// # Errors
    /// Whatever the engine reports.
    fn prepare(&mut self, stream: Option<&CudaStream>) -> Result<(), BackendError> {
        let _ = stream;
        Ok(())
    }

    /// Replaces the model's inputs.
    ///
    /// # Errors
    /// [`BackendError::InvalidInput`] for an unknown name or a wrong shape.
    fn set_input(&mut self, input: &TensorData) -> Result<(), BackendError>;

    /// The outputs of the last completed job (GPU engines: after its completion event).
    ///
    /// # Errors
    /// Whatever the engine reports (e.g. a failed device-to-host copy).
    fn outputs(&mut self) -> Result<Vec<TensorData>, BackendError>;

    /// GPU engines: enqueues one inference on `stream` and returns without waiting.
    ///
    /// # Errors
    /// [`BackendError::Unsupported`] for CPU engines; whatever the engine reports.
    fn enqueue(&mut self, stream: &CudaStream) -> Result<(), BackendError> {
        let _ = stream;
        Err(BackendError::unsupported(self.engine(), "enqueue on a GPU stream"))
    }

    /// Frees the model's weights to relieve memory pressure (the model stays loaded as a
    /// description and can be restored); returns the bytes freed.
    ///
    /// # Errors
    /// [`BackendError::Unsupported`] for engines that cannot evict (the default).
    fn release_weights(&mut self) -> Result<u64, BackendError> {
        Err(BackendError::unsupported(self.engine(), "evicting weights"))
    }

    /// Brings evicted weights back before the next job.
    ///
    /// # Errors
    /// [`BackendError::Unsupported`] by default; whatever the engine reports.
    fn restore_weights(&mut self) -> Result<(), BackendError> {
        Err(BackendError::unsupported(self.engine(), "restoring weights"))
    }

    /// CPU engines: runs one inference to completion on the calling thread.
    ///
    /// # Errors
    /// [`BackendError::Unsupported`] for GPU engines; whatever the engine reports.
    fn run(&mut self) -> Result<(), BackendError> {
        Err(BackendError::unsupported(self.engine(), "synchronous run on the CPU"))
    }
}
