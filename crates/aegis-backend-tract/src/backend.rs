//! [`TractBackend`]: one ONNX model run by tract on the CPU, behind the runtime's
//! [`RuntimeBackend`] contract.
//!
//! Owns the model's run state (inputs set, outputs of the last job) and the mapping of tract's
//! errors into [`BackendError`]. It must not know scheduling, lanes or how memory is shared;
//! loading, graph translation and memory accounting live in their own modules.

use crate::error::{ENGINE, TractError, chain};
use crate::graph::{TractGraph, tract_graph, weights_bytes};
use crate::load::{LoadedModel, TensorSpec, load};
use crate::memory::{ActivationPlan, plan_activations, requirements};
use crate::options::TractOptions;
use aegis_context::{
    BackendError, MemoryRequirements, OpGraph, Placement, RuntimeBackend, TensorData,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::{DatumType, TValue, Tensor, TypedSimplePlan, TypedSimpleState, tvec};

/// An ONNX model loaded into tract (see the crate docs).
pub struct TractBackend {
    path: PathBuf,
    options: TractOptions,
    input_specs: Vec<TensorSpec>,
    output_specs: Vec<TensorSpec>,
    /// tract's plan and session; `None` while the weights are evicted.
    engine: Option<Engine>,
    inputs: Vec<Option<TValue>>,
    last: Option<Vec<TValue>>,
    graph: Option<TractGraph>,
    activations: Option<ActivationPlan>,
    requirements: MemoryRequirements,
}

/// What holds the weights: the optimised plan (constants included) and its session.
struct Engine {
    plan: Arc<TypedSimplePlan>,
    state: TypedSimpleState,
}

impl std::fmt::Debug for TractBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TractBackend")
            .field("path", &self.path)
            .field("inputs", &self.input_specs)
            .field("outputs", &self.output_specs)
            .field("weights_resident", &self.engine.is_some())
            .field("requirements", &self.requirements)
            .finish_non_exhaustive()
    }
}

fn execution(reason: String) -> BackendError {
    BackendError::Execution { engine: ENGINE.into(), reason }
}

fn start(model: &LoadedModel) -> Result<Engine, TractError> {
    let state = model.plan.spawn().map_err(|e| TractError::Engine {
        path: model.path.clone(),
        stage: "start a session",
        reason: chain(&e),
    })?;
    Ok(Engine { plan: model.plan.clone(), state })
}

impl TractBackend {
    /// Loads the ONNX model at `path`: parses it, fixes the input shapes (from the model, or
    /// from `options` where the model leaves them symbolic), optimises it, plans its execution
    /// and its activation memory.
    ///
    /// # Errors
    /// [`TractError::FileNotFound`], [`TractError::Io`], [`TractError::NotOnnx`],
    /// [`TractError::UnsupportedOperator`], [`TractError::DynamicShape`] (give the shape in
    /// `options`), [`TractError::ShapeMismatch`] / [`TractError::UnknownInput`] (bad
    /// options), [`TractError::UnsupportedType`] (not f32 in, numeric out),
    /// [`TractError::Engine`] (tract failed to analyse, optimise or plan it). Every error
    /// names the file; `BackendError::from` turns it into [`BackendError::Load`].
    pub fn load(path: impl AsRef<Path>, options: &TractOptions) -> Result<Self, TractError> {
        let model = load(path.as_ref(), options)?;
        let engine = start(&model)?;
        // A data-dependent shape leaves no static graph; the model still runs.
        let graph = tract_graph(&model.plan).ok();
        let activations = match &graph {
            Some(g) => plan_activations(g).map_err(|reason| TractError::Engine {
                path: model.path.clone(),
                stage: "plan activation memory",
                reason,
            })?,
            None => None,
        };
        let io_bytes = io_bytes(&model.inputs, 4) + io_bytes_out(&model);
        let requirements = requirements(weights_bytes(&model.plan), io_bytes, activations);
        Ok(TractBackend {
            inputs: vec![None; model.inputs.len()],
            path: model.path,
            options: options.clone(),
            input_specs: model.inputs,
            output_specs: model.outputs,
            engine: Some(engine),
            last: None,
            graph,
            activations,
            requirements,
        })
    }

    /// The model file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The model's inputs, in order (shapes always concrete).
    pub fn inputs(&self) -> &[TensorSpec] {
        &self.input_specs
    }

    /// The model's outputs, in order.
    pub fn outputs_spec(&self) -> &[TensorSpec] {
        &self.output_specs
    }

    /// tract's optimised graph with operator names (`None` when a tensor's size is data
    /// dependent).
    pub fn tract_graph(&self) -> Option<&TractGraph> {
        self.graph.as_ref()
    }

    /// The arena plan behind [`MemoryRequirements::activation_bytes`] (`None` without a
    /// static graph).
    pub fn activation_plan(&self) -> Option<ActivationPlan> {
        self.activations
    }

    /// tract's runnable plan, for callers that drive tract directly (benchmarks); `None`
    /// while the weights are evicted. A clone of the `Arc` keeps the weights alive past
    /// [`RuntimeBackend::release_weights`].
    pub fn plan(&self) -> Option<&Arc<TypedSimplePlan>> {
        self.engine.as_ref().map(|e| &e.plan)
    }

    /// Whether the weights are in memory (not evicted by
    /// [`RuntimeBackend::release_weights`]).
    pub fn weights_resident(&self) -> bool {
        self.engine.is_some()
    }

    fn input_index(&self, name: &str) -> Result<usize, BackendError> {
        self.input_specs.iter().position(|s| s.name == name).ok_or_else(|| {
            BackendError::InvalidInput {
                name: name.to_owned(),
                reason: format!(
                    "the model has no such input; its inputs are {:?}",
                    self.input_specs.iter().map(|s| s.name.as_str()).collect::<Vec<_>>()
                ),
            }
        })
    }
}

fn io_bytes(specs: &[TensorSpec], elem: usize) -> u64 {
    specs.iter().map(|s| s.bytes(elem)).sum()
}

/// Output bytes at the model's element types (from tract's facts).
fn io_bytes_out(model: &LoadedModel) -> u64 {
    let m = model.plan.model();
    m.output_outlets()
        .map(|outs| {
            outs.iter()
                .filter_map(|o| m.outlet_fact(*o).ok())
                .filter_map(|f| f.mem_size().to_i64().ok())
                .map(|b| u64::try_from(b).unwrap_or(0))
                .sum()
        })
        .unwrap_or(0)
}

/// One output as f32 [`TensorData`].
fn to_tensor_data(spec: &TensorSpec, value: &TValue) -> Result<TensorData, BackendError> {
    let err = |e: tract_onnx::prelude::TractError| {
        execution(format!("output {}: {}", spec.name, chain(&e)))
    };
    // TDim (tract's integer type for shapes) converts to f32 through i64.
    let int;
    let value: &Tensor = if value.datum_type() == DatumType::TDim {
        int = value.cast_to::<i64>().map_err(err)?.into_owned();
        &int
    } else {
        value
    };
    let cast = value.cast_to::<f32>().map_err(err)?;
    let view = cast.try_as_plain_ram().map_err(err)?;
    let data = view.as_slice::<f32>().map_err(err)?.to_vec();
    Ok(TensorData { name: spec.name.clone(), shape: value.shape().to_vec(), data })
}

impl RuntimeBackend for TractBackend {
    fn engine(&self) -> &str {
        ENGINE
    }

    fn placement(&self) -> Placement {
        Placement::Cpu
    }

    /// See [`crate::memory`]: tract allocates its own activations
    /// (`external_activations` false).
    fn memory_requirements(&self) -> MemoryRequirements {
        self.requirements
    }

    fn graph(&self) -> Option<OpGraph> {
        self.graph.as_ref().map(|g| g.graph.clone())
    }

    fn set_input(&mut self, input: &TensorData) -> Result<(), BackendError> {
        let ix = self.input_index(&input.name)?;
        let spec = &self.input_specs[ix];
        let invalid =
            |reason: String| BackendError::InvalidInput { name: input.name.clone(), reason };
        if spec.shape.as_deref() != Some(input.shape.as_slice()) {
            return Err(invalid(format!(
                "shape {:?} does not match the model's {:?}",
                input.shape,
                spec.shape.as_deref().unwrap_or_default()
            )));
        }
        if input.data.len() != input.elements() {
            return Err(invalid(format!(
                "shape {:?} holds {} values, got {}",
                input.shape,
                input.elements(),
                input.data.len()
            )));
        }
        let tensor = Tensor::from_shape(&input.shape, &input.data)
            .map_err(|e| invalid(format!("cannot build the tensor: {}", chain(&e))))?;
        self.inputs[ix] = Some(tensor.into());
        Ok(())
    }

    /// The outputs of the last successful [`RuntimeBackend::run`], converted to f32.
    ///
    /// # Errors
    /// [`BackendError::Execution`] before the first successful run or after a failed one.
    fn outputs(&mut self) -> Result<Vec<TensorData>, BackendError> {
        let last = self.last.as_ref().ok_or_else(|| {
            execution("no completed inference: call set_input and run first".into())
        })?;
        self.output_specs.iter().zip(last).map(|(s, v)| to_tensor_data(s, v)).collect()
    }

    /// One inference on the calling thread (tract's single-threaded executor). Inputs stay set
    /// for the next job.
    ///
    /// # Errors
    /// [`BackendError::Execution`] when an input was never set, the weights are evicted, or
    /// tract fails.
    fn run(&mut self) -> Result<(), BackendError> {
        self.last = None;
        let engine = self.engine.as_mut().ok_or_else(|| {
            execution("weights evicted by release_weights: call restore_weights first".into())
        })?;
        let mut values = tvec![];
        for (spec, value) in self.input_specs.iter().zip(&self.inputs) {
            let v = value.as_ref().ok_or_else(|| {
                execution(format!("input {} was never set: call set_input first", spec.name))
            })?;
            values.push(v.clone());
        }
        let out = engine.state.run(values).map_err(|e| execution(chain(&e)))?;
        self.last = Some(out.into_iter().collect());
        Ok(())
    }

    /// Drops tract's plan and session (the weights, packed); the model stays described (specs,
    /// graph, requirements) and the inputs stay set. Returns the weight bytes freed (0 when
    /// already evicted).
    fn release_weights(&mut self) -> Result<u64, BackendError> {
        self.last = None;
        Ok(self.engine.take().map_or(0, |_| self.requirements.weights_bytes))
    }

    /// Loads the model file again with the same options (a full parse and optimisation:
    /// about as long as the first load). Nothing to do when the weights are resident.
    ///
    /// # Errors
    /// [`BackendError::Load`] when the file can no longer be loaded or now describes a
    /// different model.
    fn restore_weights(&mut self) -> Result<(), BackendError> {
        if self.engine.is_some() {
            return Ok(());
        }
        let model = load(&self.path, &self.options)?;
        if model.inputs != self.input_specs
            || model.outputs != self.output_specs
            || weights_bytes(&model.plan) != self.requirements.weights_bytes
        {
            return Err(BackendError::Load {
                path: self.path.display().to_string(),
                reason: "the file changed since it was loaded (other inputs, outputs or \
                         weights)"
                    .into(),
            });
        }
        self.engine = Some(start(&model)?);
        Ok(())
    }
}
