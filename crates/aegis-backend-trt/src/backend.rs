//! [`TrtBackend`]: one TensorRT engine serving one model as a [`RuntimeBackend`].
//!
//! Owns the lifecycle above the shim boundary: loading (validate every I/O tensor, size the I/O
//! buffers for profile 0's largest shapes, bind their addresses once), the activation hand-off
//! (checked region → `setDeviceMemoryV2`), per job the shape updates TensorRT must hear about,
//! the stream-ordered input uploads and the launch (plain `enqueueV3` or the captured CUDA
//! graph), outputs after completion, and the drop order. Every failure is a [`BackendError`]
//! (see `error_map`). It must not know how the boundary is implemented, nor scheduling.

use crate::ENGINE;
use crate::activation::Activation;
use crate::boundary::{EngineHandle, StreamHandle, TrtApi};
use crate::error_map::{Phase, to_backend};
use crate::graph::{GraphState, GraphStats, Launch};
use crate::io::{IoTable, tensor_bytes};
use crate::message::TrtMessage;
use crate::options::TrtOptions;
use crate::tensor::{TensorDesc, TensorMode};
use aegis_context::{
    ActivationRegion, BackendError, MemoryRequirements, Placement, RuntimeBackend, TensorData,
};
use aegis_cuda::{CudaContext, CudaStream};
use aegis_trace::{EventKind, TraceEvent};
use std::collections::VecDeque;
use std::path::Path;
use std::sync::Arc;

/// Messages kept for [`TrtBackend::take_messages`].
const MESSAGE_LOG: usize = 64;

/// A TensorRT engine serving one model (see the crate docs).
pub struct TrtBackend {
    // Field order is drop order: the engine (its execution context holds the tensor addresses
    // and the activation pointer) is destroyed before the I/O buffers it points into, and both
    // before the API (which keeps the libraries and the CUDA context). The activation region
    // belongs to the runtime and is never freed here.
    engine: Box<dyn EngineHandle>,
    io: IoTable,
    api: Arc<dyn TrtApi>,
    activation: Activation,
    graph: GraphState,
    cuda: Option<Arc<CudaContext>>,
    opts: TrtOptions,
    source: String,
    plan_bytes: u64,
    jobs: u64,
    outputs_stale: bool,
    warmed_up: bool,
    messages: VecDeque<TrtMessage>,
}

#[cfg(aegis_trt_shim)]
fn open_real(opts: &TrtOptions) -> Result<(Arc<dyn TrtApi>, Arc<CudaContext>), BackendError> {
    crate::real::open(opts.context.clone())
}

#[cfg(not(aegis_trt_shim))]
fn open_real(_opts: &TrtOptions) -> Result<(Arc<dyn TrtApi>, Arc<CudaContext>), BackendError> {
    Err(crate::status::not_built(option_env!("AEGIS_TRT_SHIM_ABSENT").unwrap_or("unknown")))
}

impl TrtBackend {
    /// Loads the serialized engine at `path` (`.engine` / `.plan`) with the real TensorRT:
    /// `libnvinfer.so.10` and `libcuda.so.1` are loaded on first use.
    ///
    /// # Errors
    /// [`BackendError::Unavailable`] in a build without the shim ("built without TensorRT")
    /// or when libnvinfer cannot be loaded or is too old; [`BackendError::Cuda`] without a
    /// CUDA device; [`BackendError::Load`] for an unreadable file, a plan TensorRT refuses, or
    /// I/O tensors this backend cannot bind (named, with the fix).
    pub fn new(path: impl AsRef<Path>, opts: TrtOptions) -> Result<Self, BackendError> {
        let (api, ctx) = open_real(&opts)?;
        let opts = TrtOptions { context: Some(ctx), ..opts };
        Self::with_api(api, path, opts)
    }

    /// Loads the engine at `path` through `api` (the real shim or a test double).
    ///
    /// # Errors
    /// As [`Self::new`], less the library checks.
    pub fn with_api(
        api: Arc<dyn TrtApi>,
        path: impl AsRef<Path>,
        opts: TrtOptions,
    ) -> Result<Self, BackendError> {
        let path = path.as_ref();
        let source = path.display().to_string();
        let plan = std::fs::read(path).map_err(|e| BackendError::Load {
            path: source.clone(),
            reason: format!("cannot read the engine file: {e}"),
        })?;
        Self::from_plan(api, &plan, &source, opts)
    }

    /// Loads an engine from plan bytes; `source` names it in errors.
    ///
    /// # Errors
    /// As [`Self::with_api`].
    pub fn from_plan(
        api: Arc<dyn TrtApi>,
        plan: &[u8],
        source: &str,
        opts: TrtOptions,
    ) -> Result<Self, BackendError> {
        let load = |reason: String| BackendError::Load { path: source.to_owned(), reason };
        if let Some(p) = opts.problem() {
            return Err(load(p));
        }
        if plan.is_empty() {
            return Err(load(
                "the engine file is empty; build it with trtexec --saveEngine".into(),
            ));
        }
        let mut engine = api.deserialize(plan).map_err(|e| to_backend(e, Phase::Load(source)))?;
        let descs = engine.io_tensors();
        if descs.is_empty() {
            return Err(load("the engine has no I/O tensors".into()));
        }
        for d in &descs {
            if let Some(why) = d.unsupported_reason() {
                return Err(load(format!("I/O tensor {:?} {why}", d.name)));
            }
        }
        let phase = Phase::Load(source);
        // Size dynamic inputs for the profile's maximum; TensorRT then resolves the outputs.
        let mut context_shapes = Vec::with_capacity(descs.len());
        for d in &descs {
            let shape = match (&d.mode, &d.profile) {
                (TensorMode::Input, Some(p)) if d.is_dynamic() => {
                    engine.set_input_shape(&d.name, &p.max).map_err(|e| to_backend(e, phase))?;
                    Some(p.max.iter().map(|v| *v as usize).collect::<Vec<_>>())
                }
                _ => None,
            };
            context_shapes.push(shape);
        }
        let mut io = IoTable::new();
        for (i, (d, ctx_shape)) in descs.into_iter().zip(context_shapes).enumerate() {
            let dims: Vec<i64> = match (&d.mode, &ctx_shape) {
                (TensorMode::Input, Some(s)) => s.iter().map(|v| *v as i64).collect(),
                (TensorMode::Output, _) if d.is_dynamic() => {
                    engine.tensor_shape(&d.name).map_err(|e| to_backend(e, phase))?
                }
                _ => d.shape.clone(),
            };
            let shape: Option<Vec<usize>> = dims.iter().map(|v| usize::try_from(*v).ok()).collect();
            let Some(shape) = shape else {
                return Err(load(format!(
                    "output {:?} has a data-dependent shape {dims:?} even at the profile's \
                     largest inputs; engines whose output shapes depend on input values are \
                     not supported",
                    d.name
                )));
            };
            let elem = d.dtype.host_bytes().unwrap_or(1);
            let bytes = tensor_bytes(elem, &shape)
                .ok_or_else(|| load(format!("tensor {:?} of shape {shape:?} overflows", d.name)))?;
            let buffer = api.allocate_io(bytes.max(1)).map_err(|e| to_backend(e, phase))?;
            engine
                .set_tensor_address(&d.name, buffer.address())
                .map_err(|e| to_backend(e, phase))?;
            let dynamic_output = d.mode == TensorMode::Output && d.is_dynamic();
            io.push(d, buffer, ctx_shape);
            if dynamic_output {
                io.set_output_shape(i, &dims)?;
            }
        }
        let activation = Activation::new(engine.device_memory_size(), opts.activation_alignment);
        let mut me = TrtBackend {
            engine,
            io,
            api,
            activation,
            graph: GraphState::new(opts.cuda_graph),
            cuda: opts.context.clone(),
            opts,
            source: source.to_owned(),
            plan_bytes: plan.len() as u64,
            jobs: 0,
            outputs_stale: false,
            warmed_up: false,
            messages: VecDeque::new(),
        };
        me.collect_messages();
        Ok(me)
    }

    /// The engine's I/O tensors, in TensorRT's order.
    pub fn tensors(&self) -> Vec<TensorDesc> {
        self.io.slots().iter().map(|s| s.desc.clone()).collect()
    }

    /// Where the engine was loaded from.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Bytes of activation workspace the engine needs (`getDeviceMemorySizeV2`).
    pub fn activation_bytes(&self) -> u64 {
        self.activation.needed()
    }

    /// The activation region bound now.
    pub fn activation_region(&self) -> Option<ActivationRegion> {
        self.activation.bound()
    }

    /// Jobs enqueued (warm-up excluded).
    pub fn jobs(&self) -> u64 {
        self.jobs
    }

    /// CUDA-graph mode and counters.
    pub fn graph_stats(&self) -> GraphStats {
        self.graph.stats().clone()
    }

    /// Drains the TensorRT warnings (and recovered errors) collected so far (the latest 64).
    pub fn take_messages(&mut self) -> Vec<TrtMessage> {
        self.messages.drain(..).collect()
    }

    fn collect_messages(&mut self) {
        for m in self.engine.take_messages() {
            if let Some(t) = &self.opts.trace {
                t.record(
                    TraceEvent::new(
                        EventKind::Custom("tensorrt".into()),
                        "backend-trt",
                        self.opts.clock.now(),
                    )
                    .rationale(m.to_string())
                    .attr("engine", &self.source)
                    .attr("event", "message"),
                );
            }
            if self.messages.len() == MESSAGE_LOG {
                self.messages.pop_front();
            }
            self.messages.push_back(m);
        }
    }

    fn trace(&self, event: &'static str, rationale: String) {
        if let Some(t) = &self.opts.trace {
            t.record(
                TraceEvent::new(
                    EventKind::Custom("tensorrt".into()),
                    "backend-trt",
                    self.opts.clock.now(),
                )
                .rationale(rationale)
                .attr("engine", &self.source)
                .attr("event", event),
            );
        }
    }

    fn check_stream(&self, stream: &CudaStream) -> Result<StreamHandle, BackendError> {
        if let Some(ctx) = &self.cuda
            && stream.context().as_raw() != ctx.as_raw()
        {
            return Err(BackendError::Execution {
                engine: ENGINE.into(),
                reason: "the stream belongs to another CUDA context than the engine; create the \
                         lane's stream on TrtOptions::context"
                    .into(),
            });
        }
        Ok(StreamHandle::from_ptr(stream.as_raw().cast()))
    }

    /// Tells TensorRT the dynamic input shapes it has not heard yet and resolves the outputs.
    fn sync_shapes(&mut self) -> Result<(), BackendError> {
        for (i, name, dims) in self.io.shape_updates() {
            self.engine
                .set_input_shape(&name, &dims)
                .map_err(|e| to_backend(e, Phase::Input(&name)))?;
            self.io.shape_applied(i);
            self.outputs_stale = true;
            if self.graph.invalidate() {
                self.engine.reset_graph();
            }
        }
        if !self.outputs_stale {
            return Ok(());
        }
        for (i, name) in self.io.dynamic_outputs() {
            let dims =
                self.engine.tensor_shape(&name).map_err(|e| to_backend(e, Phase::Execute))?;
            let bytes = self.io.set_output_shape(i, &dims)?;
            if bytes > self.io.slots()[i].buffer.len() {
                let buffer =
                    self.api.allocate_io(bytes).map_err(|e| to_backend(e, Phase::Execute))?;
                let address = self.io.replace_buffer(i, buffer);
                self.engine
                    .set_tensor_address(&name, address)
                    .map_err(|e| to_backend(e, Phase::Bind))?;
                if self.graph.invalidate() {
                    self.engine.reset_graph();
                }
            }
        }
        self.outputs_stale = false;
        Ok(())
    }

    fn upload_inputs(&mut self, stream: StreamHandle) -> Result<(), BackendError> {
        let mut done = Vec::new();
        let mut result = Ok(());
        for (i, address, bytes) in self.io.uploads() {
            match self.engine.upload(address, bytes, stream) {
                Ok(()) => done.push(i),
                Err(e) => {
                    result = Err(to_backend(e, Phase::Execute));
                    break;
                }
            }
        }
        for i in done {
            self.io.uploaded(i);
        }
        result
    }

    fn launch(&mut self, stream: StreamHandle) -> Result<(), BackendError> {
        let exec = |e| to_backend(e, Phase::Execute);
        match self.graph.next() {
            Launch::Plain => {
                self.engine.enqueue(stream).map_err(exec)?;
                self.graph.enqueued();
            }
            Launch::PlainThenCapture => {
                self.engine.enqueue(stream).map_err(exec)?;
                self.graph.enqueued();
                match self.engine.capture_graph(stream) {
                    Ok(()) => {
                        self.graph.captured();
                        self.trace("graph_captured", "enqueue captured into a CUDA graph".into());
                    }
                    Err(e) => {
                        // The job itself was enqueued; later jobs enqueue plainly.
                        self.engine.reset_graph();
                        let reason = e.to_string();
                        self.trace(
                            "graph_capture_failed",
                            format!("falling back to enqueueV3: {reason}"),
                        );
                        self.graph.capture_failed(reason);
                    }
                }
            }
            Launch::Graph => {
                self.engine.launch_graph(stream).map_err(exec)?;
                self.graph.launched();
            }
        }
        Ok(())
    }

    /// [`RuntimeBackend::prepare`] on a raw stream: with [`TrtOptions::warm_up`] and only
    /// static inputs, runs one inference on zeroed inputs (capturing the graph when enabled).
    ///
    /// # Errors
    /// No activation memory bound; whatever the warm-up reports.
    pub fn prepare_on(&mut self, stream: Option<StreamHandle>) -> Result<(), BackendError> {
        self.activation.require_bound()?;
        let Some(stream) = stream else { return Ok(()) };
        if !self.opts.warm_up || self.warmed_up {
            return Ok(());
        }
        let Some(zeros) = self.io.warm_up_zeros() else { return Ok(()) };
        for (address, bytes) in zeros {
            self.engine
                .upload(address, &bytes, stream)
                .map_err(|e| to_backend(e, Phase::Execute))?;
        }
        // The zeros replaced whatever inputs were uploaded: upload them again before a job.
        self.io.mark_all_dirty();
        let r = self.launch(stream);
        self.collect_messages();
        r?;
        self.warmed_up = true;
        self.trace("warm_up", "one inference on zeroed inputs".into());
        Ok(())
    }

    /// [`RuntimeBackend::enqueue`] on a raw stream handle.
    ///
    /// # Errors
    /// [`BackendError::InvalidInput`] for an input never set or a shape TensorRT refuses;
    /// [`BackendError::Execution`] without activation memory or when TensorRT fails;
    /// [`BackendError::Cuda`] for a CUDA error (sticky ones need a process restart).
    pub fn enqueue_on(&mut self, stream: StreamHandle) -> Result<(), BackendError> {
        self.activation.require_bound()?;
        if let Some(name) = self.io.missing_input() {
            return Err(BackendError::InvalidInput {
                name: name.to_owned(),
                reason: "was never set: call set_input for every engine input before the first \
                         job"
                .into(),
            });
        }
        let r = self.sync_shapes().and_then(|()| self.upload_inputs(stream));
        let r = r.and_then(|()| self.launch(stream));
        self.collect_messages();
        r?;
        self.jobs += 1;
        Ok(())
    }
}

impl RuntimeBackend for TrtBackend {
    fn engine(&self) -> &str {
        ENGINE
    }

    fn placement(&self) -> Placement {
        Placement::Gpu
    }

    /// Weights: the plan's size (TensorRT copies the plan's weights to the device; the plan
    /// is mostly weights, so this is a close upper estimate). Activations: the engine's
    /// `getDeviceMemorySizeV2`. I/O: the buffers, sized for profile 0's maximum.
    fn memory_requirements(&self) -> MemoryRequirements {
        MemoryRequirements {
            weights_bytes: self.plan_bytes,
            activation_bytes: self.activation.needed(),
            io_bytes: self.io.total_bytes(),
            alignment: self.activation.alignment(),
            external_activations: true,
        }
    }

    fn bind_activation_memory(&mut self, region: ActivationRegion) -> Result<(), BackendError> {
        self.activation.check(&region)?;
        if self.activation.bound() == Some(region) {
            return Ok(());
        }
        let r = self.engine.set_device_memory(region.address, region.bytes);
        self.collect_messages();
        r.map_err(|e| to_backend(e, Phase::Bind))?;
        if self.graph.invalidate() {
            self.engine.reset_graph();
        }
        self.activation.set_bound(region);
        self.trace(
            "activation_bound",
            format!(
                "{} bytes at {:#x} ({} needed)",
                region.bytes,
                region.address,
                self.activation.needed()
            ),
        );
        Ok(())
    }

    fn prepare(&mut self, stream: Option<&CudaStream>) -> Result<(), BackendError> {
        let handle = stream.map(|s| self.check_stream(s)).transpose()?;
        self.prepare_on(handle)
    }

    fn set_input(&mut self, input: &TensorData) -> Result<(), BackendError> {
        self.io.set_input(input)
    }

    fn outputs(&mut self) -> Result<Vec<TensorData>, BackendError> {
        if self.jobs == 0 {
            return Err(BackendError::Execution {
                engine: ENGINE.into(),
                reason: "no job has run yet: outputs exist once the first job completed".into(),
            });
        }
        self.io.outputs().map_err(|e| to_backend(e, Phase::Output))
    }

    fn enqueue(&mut self, stream: &CudaStream) -> Result<(), BackendError> {
        let handle = self.check_stream(stream)?;
        self.enqueue_on(handle)
    }
}

impl std::fmt::Debug for TrtBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrtBackend")
            .field("source", &self.source)
            .field("api", &self.api.describe())
            .field("activation_bytes", &self.activation.needed())
            .field("jobs", &self.jobs)
            .field("graph", &self.graph.stats().mode)
            .finish()
    }
}
