//! [`OrtBackend`]: one ONNX model in an ONNX Runtime session, behind [`RuntimeBackend`].
//!
//! Owns session creation (execution providers, threads, optimisation level, the CPU fallback
//! rule), input validation against the session's inputs, synchronous execution and output
//! extraction, and the model's [`MemoryRequirements`]. It must not find or load the library
//! (`runtime.rs`) nor know how provider options are spelled (`providers.rs`).
//!
//! Memory: ONNX Runtime allocates activations from its own arena (a BFC arena on the CPU, the
//! provider's device arena on a GPU), sized by its memory planner on the first run and kept at
//! its peak afterwards; it cannot take them from AegisRT's pool. So
//! [`MemoryRequirements::activation_bytes`] is 0 and `external_activations` is false: this
//! memory is engine-managed. The runtime accounts the model with `weights_bytes + io_bytes` in
//! its budget and must leave headroom for the engine outside its pool; for the CUDA provider,
//! `memory_limit_bytes` caps that arena and is the figure to reserve. ONNX Runtime's resident
//! footprint is larger than `weights_bytes` (it may keep prepacked copies of weights for its
//! kernels); `docs/benchmarks/backends.md` gives measured process growth per model.

use crate::library::ENGINE;
use crate::onnx_weights::weight_bytes;
use crate::options::OrtOptions;
use crate::providers::{CPU_PROVIDER, EpSelection, dispatch};
use crate::runtime::{OrtRuntime, runtime};
use aegis_context::{BackendError, MemoryRequirements, Placement, RuntimeBackend, TensorData};
use ort::session::Session;
use ort::session::builder::GraphOptimizationLevel;
use ort::value::{TensorElementType, TensorRef, ValueType};
use std::io::Write as _;
use std::path::{Path, PathBuf};

/// Alignment reported in [`MemoryRequirements::alignment`] (ONNX Runtime's CPU allocator
/// aligns to 64 bytes; nothing is bound, so this is informative only).
const ALIGNMENT: u64 = 64;

/// A model input or output as the session declares it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// Name in the model.
    pub name: String,
    /// Dimensions; `None` for a dynamic one.
    pub dims: Vec<Option<usize>>,
}

impl TensorSpec {
    fn describe(&self) -> String {
        let dims: Vec<String> =
            self.dims.iter().map(|d| d.map_or_else(|| "?".into(), |d| d.to_string())).collect();
        format!("{} [{}] f32", self.name, dims.join(", "))
    }

    /// Elements with every dynamic dimension counted as 1.
    fn min_elements(&self) -> u64 {
        self.dims.iter().map(|d| d.unwrap_or(1) as u64).product()
    }
}

struct InputSlot {
    spec: TensorSpec,
    shape: Vec<usize>,
    data: Vec<f32>,
    set: bool,
}

/// An ONNX model running on ONNX Runtime ([`RuntimeBackend`]; CPU placement, see
/// [`OrtBackend::placement`](RuntimeBackend::placement)).
pub struct OrtBackend {
    session: Session,
    model: PathBuf,
    runtime: &'static OrtRuntime,
    inputs: Vec<InputSlot>,
    output_specs: Vec<TensorSpec>,
    outputs: Vec<TensorData>,
    requirements: MemoryRequirements,
    selection: EpSelection,
}

impl std::fmt::Debug for OrtBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrtBackend")
            .field("model", &self.model)
            .field("library", &self.runtime.path())
            .field("selection", &self.selection)
            .field("requirements", &self.requirements)
            .finish_non_exhaustive()
    }
}

fn load_err(model: &Path, reason: impl Into<String>) -> BackendError {
    BackendError::Load { path: model.display().to_string(), reason: reason.into() }
}

impl OrtBackend {
    /// Loads `model` (an `.onnx` file) into a session configured by `options`, loading ONNX
    /// Runtime first if this process has not yet.
    ///
    /// # Errors
    /// [`BackendError::Unavailable`] when ONNX Runtime or the requested execution provider is
    /// missing (unless `fallback_to_cpu`); [`BackendError::Load`] for bad options, an unreadable
    /// or invalid model, or a model with non-`f32` inputs or outputs.
    pub fn load(model: impl AsRef<Path>, options: &OrtOptions) -> Result<OrtBackend, BackendError> {
        let model = model.as_ref();
        options.validate().map_err(|e| load_err(model, e.to_string()))?;
        let bytes =
            std::fs::read(model).map_err(|e| load_err(model, format!("cannot read: {e}")))?;
        let runtime = runtime(options.library.as_deref())?;
        let (session, selection) = create_session(runtime, model, options)?;
        let weights_bytes = weight_bytes(&bytes).map_err(|e| load_err(model, e.to_string()))?;
        let specs = |outlets: &[ort::value::Outlet], what: &str| {
            outlets
                .iter()
                .map(|o| {
                    spec(o.name(), o.dtype()).map_err(|r| load_err(model, format!("{what} {r}")))
                })
                .collect::<Result<Vec<TensorSpec>, BackendError>>()
        };
        let input_specs = specs(session.inputs(), "input")?;
        let output_specs = specs(session.outputs(), "output")?;
        let io_elements: u64 =
            input_specs.iter().chain(&output_specs).map(TensorSpec::min_elements).sum();
        let requirements = MemoryRequirements {
            weights_bytes,
            activation_bytes: 0,
            io_bytes: io_elements.saturating_mul(4),
            alignment: ALIGNMENT,
            external_activations: false,
        };
        let inputs = input_specs
            .into_iter()
            .map(|spec| InputSlot { spec, shape: Vec::new(), data: Vec::new(), set: false })
            .collect();
        Ok(OrtBackend {
            session,
            model: model.to_path_buf(),
            runtime,
            inputs,
            output_specs,
            outputs: Vec::new(),
            requirements,
            selection,
        })
    }

    /// The execution providers this model got, and the fallback if one happened.
    pub fn execution_providers(&self) -> &EpSelection {
        &self.selection
    }

    /// The ONNX Runtime this model runs on.
    pub fn runtime(&self) -> &'static OrtRuntime {
        self.runtime
    }

    /// The model file.
    pub fn model_path(&self) -> &Path {
        &self.model
    }

    /// The model's inputs, in the session's order.
    pub fn input_specs(&self) -> impl Iterator<Item = &TensorSpec> {
        self.inputs.iter().map(|s| &s.spec)
    }

    /// The model's outputs, in the session's order.
    pub fn output_specs(&self) -> &[TensorSpec] {
        &self.output_specs
    }
}

fn spec(name: &str, dtype: &ValueType) -> Result<TensorSpec, String> {
    let name = name.to_owned();
    match dtype {
        ValueType::Tensor { ty: TensorElementType::Float32, shape, .. } => {
            let dims = shape.iter().map(|&d| usize::try_from(d).ok()).collect();
            Ok(TensorSpec { name, dims })
        }
        other => Err(format!(
            "`{name}` is {other}; this backend exchanges f32 tensors only: export the model with \
             f32 inputs and outputs (cast inside the graph)"
        )),
    }
}

/// The session, with the requested providers or — when allowed and needed — the CPU.
fn create_session(
    rt: &OrtRuntime,
    model: &Path,
    options: &OrtOptions,
) -> Result<(Session, EpSelection), BackendError> {
    let requested = options.execution_provider.name();
    let requests = options.execution_provider.registration_requests();
    let failure = if requests.is_empty() {
        None
    } else if let Some(missing) = requests.iter().find(|r| !rt.has_provider(r.provider)) {
        Some(format!(
            "{} is not in the ONNX Runtime loaded from {} (it has: {}); install a build with it \
             (onnxruntime-gpu; on a Jetson, the wheel for your JetPack)",
            missing.provider,
            rt.path().display(),
            rt.providers().join(", ")
        ))
    } else {
        let eps: Vec<_> = requests.iter().filter_map(dispatch).collect();
        match build(rt, model, options, &eps) {
            Ok(session) => {
                let mut active: Vec<_> = requests.iter().map(|r| r.provider).collect();
                active.push(CPU_PROVIDER);
                return Ok((session, EpSelection { requested, active, fallback: None }));
            }
            Err(e) => Some(format!("{requested} provider failed: {e}")),
        }
    };
    let session = match &failure {
        Some(reason) if !options.fallback_to_cpu => {
            return Err(BackendError::Unavailable {
                engine: ENGINE.into(),
                reason: format!(
                    "{reason}; or set `fallback_to_cpu = true` to run {} on the CPU",
                    model.display()
                ),
            });
        }
        Some(reason) => {
            // Never silent: stderr now, `EpSelection::fallback` for the runtime's trace.
            let _ = writeln!(
                std::io::stderr(),
                "warning: aegis-backend-ort: {}: falling back to the CPU: {reason}",
                model.display()
            );
            build(rt, model, options, &[])
        }
        None => build(rt, model, options, &[]),
    }
    .map_err(|e| load_err(model, e.to_string()))?;
    Ok((session, EpSelection { requested, active: vec![CPU_PROVIDER], fallback: failure }))
}

fn build(
    rt: &OrtRuntime,
    model: &Path,
    options: &OrtOptions,
    eps: &[ort::ep::ExecutionProviderDispatch],
) -> Result<Session, ort::Error> {
    let threads = options.intra_op_threads as usize;
    let mut builder = Session::builder(rt.environment())?
        .with_optimization_level(GraphOptimizationLevel::All)?
        .with_intra_threads(threads)?
        .with_inter_threads(1)?
        .with_parallel_execution(false)?
        .with_intra_op_spinning(false)?;
    if !eps.is_empty() {
        builder = builder.with_execution_providers(eps)?;
    }
    builder.commit_from_file(model)
}

impl RuntimeBackend for OrtBackend {
    fn engine(&self) -> &str {
        ENGINE
    }

    /// Always [`Placement::Cpu`]: ONNX Runtime's `Run` is synchronous — it returns when the
    /// outputs are on the host — so every job runs to completion on its lane's thread through
    /// [`RuntimeBackend::run`], also with the CUDA or TensorRT provider (which then use the GPU
    /// inside that call, on ONNX Runtime's own CUDA stream, not on an AegisRT lane stream).
    fn placement(&self) -> Placement {
        Placement::Cpu
    }

    fn memory_requirements(&self) -> MemoryRequirements {
        self.requirements
    }

    fn set_input(&mut self, input: &TensorData) -> Result<(), BackendError> {
        let invalid =
            |reason: String| BackendError::InvalidInput { name: input.name.clone(), reason };
        let Some(slot) = self.inputs.iter_mut().find(|s| s.spec.name == input.name) else {
            let known: Vec<_> = self.inputs.iter().map(|s| s.spec.describe()).collect();
            return Err(invalid(format!(
                "the model has no such input; its inputs are: {}",
                known.join("; ")
            )));
        };
        if input.shape.len() != slot.spec.dims.len() {
            return Err(invalid(format!(
                "shape {:?} has rank {}, the model needs {}",
                input.shape,
                input.shape.len(),
                slot.spec.describe()
            )));
        }
        for (i, (&got, want)) in input.shape.iter().zip(&slot.spec.dims).enumerate() {
            if let Some(want) = *want
                && got != want
            {
                return Err(invalid(format!(
                    "dimension {i} is {got}, the model needs {want} ({})",
                    slot.spec.describe()
                )));
            }
        }
        let elements = input.shape.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d));
        if elements != Some(input.data.len()) {
            return Err(invalid(format!(
                "shape {:?} holds {} values, got {}",
                input.shape,
                elements.map_or_else(|| "too many".into(), |e| e.to_string()),
                input.data.len()
            )));
        }
        slot.shape.clone_from(&input.shape);
        slot.data.clear();
        slot.data.extend_from_slice(&input.data);
        slot.set = true;
        Ok(())
    }

    fn run(&mut self) -> Result<(), BackendError> {
        let result = self.run_once();
        if result.is_err() {
            // No stale or half-written outputs after a failed job.
            self.outputs.clear();
        }
        result
    }

    fn outputs(&mut self) -> Result<Vec<TensorData>, BackendError> {
        Ok(self.outputs.clone())
    }
}

impl OrtBackend {
    fn run_once(&mut self) -> Result<(), BackendError> {
        let exec = |reason: String| BackendError::Execution { engine: ENGINE.into(), reason };
        let mut values = Vec::with_capacity(self.inputs.len());
        for slot in &self.inputs {
            if !slot.set {
                return Err(BackendError::InvalidInput {
                    name: slot.spec.name.clone(),
                    reason: "not set: call set_input for every input before run".into(),
                });
            }
            let tensor = TensorRef::from_array_view((slot.shape.as_slice(), slot.data.as_slice()))
                .map_err(|e| exec(format!("input `{}`: {e}", slot.spec.name)))?;
            values.push((slot.spec.name.as_str(), tensor));
        }
        let outputs = self.session.run(values).map_err(|e| exec(e.to_string()))?;
        self.outputs.resize_with(self.output_specs.len(), || TensorData {
            name: String::new(),
            shape: Vec::new(),
            data: Vec::new(),
        });
        for (spec, out) in self.output_specs.iter().zip(self.outputs.iter_mut()) {
            let value = outputs
                .get(spec.name.as_str())
                .ok_or_else(|| exec(format!("output `{}` missing from the run", spec.name)))?;
            let (shape, data) = value
                .try_extract_tensor::<f32>()
                .map_err(|e| exec(format!("output `{}`: {e}", spec.name)))?;
            out.name.clone_from(&spec.name);
            out.shape.clear();
            out.shape.extend(shape.iter().map(|&d| d.max(0) as usize));
            out.data.clear();
            out.data.extend_from_slice(data);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::{CudaOptions, ExecutionProvider};

    #[test]
    fn a_provider_that_fails_to_register_is_an_error_not_skipped() {
        // `ort` skips a failing provider silently unless told otherwise; `dispatch` tells it.
        // A CPU-only ONNX Runtime refuses the CUDA provider at registration.
        let rt = match runtime(None) {
            Ok(rt) => rt,
            Err(e) => {
                let required = std::env::var("AEGIS_REQUIRE_ORT").is_ok_and(|v| v == "1");
                assert!(!required, "AEGIS_REQUIRE_ORT=1 but ONNX Runtime is unavailable: {e}");
                let _ = writeln!(std::io::stderr(), "note: skipped: {e}");
                return;
            }
        };
        if rt.has_provider(crate::providers::CUDA_PROVIDER) {
            return;
        }
        let model =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/models/squeezenet1_1.onnx");
        let reqs = ExecutionProvider::Cuda(CudaOptions::default()).registration_requests();
        let eps: Vec<_> = reqs.iter().filter_map(dispatch).collect();
        let e = build(rt, &model, &OrtOptions::default(), &eps).unwrap_err().to_string();
        assert!(e.to_lowercase().contains("cuda"), "{e}");
    }

    #[test]
    fn non_f32_tensors_are_refused_with_the_fix() {
        let ids = ValueType::Tensor {
            ty: TensorElementType::Int64,
            shape: vec![1i64, -1].into(),
            dimension_symbols: ort::value::SymbolicDimensions::empty(2),
        };
        let e = spec("ids", &ids).unwrap_err();
        assert!(e.contains("`ids` is") && e.contains("f32 tensors only"), "{e}");
        let f = ValueType::Tensor {
            ty: TensorElementType::Float32,
            shape: vec![-1i64, 3].into(),
            dimension_symbols: ort::value::SymbolicDimensions::empty(2),
        };
        let s = spec("x", &f).unwrap();
        assert_eq!(s.dims, [None, Some(3)]);
        assert_eq!(s.describe(), "x [?, 3] f32");
        assert_eq!(s.min_elements(), 3);
    }
}
