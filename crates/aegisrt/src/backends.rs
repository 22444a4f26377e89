//! Building a model's engine from its deployment entry.
//!
//! Owns the mapping from [`BackendChoice`] to a `Box<dyn RuntimeBackend>` (tract, ONNX Runtime,
//! CUDA kernels, TensorRT) and the deterministic input each ONNX model is given: `x[i] =
//! sin(0.001·i)` computed in f64 and rounded to f32, row-major — the same input as the
//! reference outputs in `examples/models/manifest.json`. It must not schedule or plan memory.

use crate::deployment::{BackendChoice, ModelDeployment};
use aegis_backend_cuda::CudaKernelBackend;
#[cfg(feature = "ort")]
use aegis_backend_ort::{OrtBackend, OrtOptions};
#[cfg(feature = "tract")]
use aegis_backend_tract::{TractBackend, TractOptions};
#[cfg(feature = "trt")]
use aegis_backend_trt::{TrtBackend, TrtOptions};
use aegis_context::{BackendError, RuntimeBackend, TensorData};
use aegis_cuda::CudaContext;
use std::sync::Arc;

/// Why a model's engine could not be built.
#[derive(Debug, thiserror::Error)]
#[error("model {model} (backend {backend}): {source}")]
pub struct BackendBuildError {
    /// The model.
    pub model: String,
    /// The backend.
    pub backend: &'static str,
    /// The cause (it names the file and what to do).
    #[source]
    pub source: BackendError,
}

/// Whether a choice needs a CUDA device opened by the runtime.
pub fn needs_gpu(choice: &BackendChoice) -> bool {
    matches!(choice, BackendChoice::Cuda { .. } | BackendChoice::Trt { .. })
}

/// The deterministic input for a tensor of `shape`: `x[i] = sin(0.001·i)` (f64, rounded to f32).
pub fn reference_pattern(name: &str, shape: &[usize]) -> TensorData {
    let n: usize = shape.iter().product();
    TensorData {
        name: name.to_owned(),
        shape: shape.to_vec(),
        data: (0..n).map(|i| (0.001 * i as f64).sin() as f32).collect(),
    }
}

/// `[models.options]` of a TensorRT model.
#[cfg(feature = "trt")]
#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct TrtFileOptions {
    cuda_graph: bool,
    warm_up: bool,
    activation_alignment: u64,
}

#[cfg(feature = "trt")]
impl Default for TrtFileOptions {
    fn default() -> Self {
        let d = TrtOptions::default();
        TrtFileOptions {
            cuda_graph: d.cuda_graph,
            warm_up: d.warm_up,
            activation_alignment: d.activation_alignment,
        }
    }
}

#[cfg(any(feature = "ort", feature = "trt"))]
fn options<T: serde::de::DeserializeOwned + Default>(
    table: &toml::Table,
) -> Result<T, BackendError> {
    if table.is_empty() {
        return Ok(T::default());
    }
    toml::Value::Table(table.clone()).try_into().map_err(|e: toml::de::Error| BackendError::Load {
        path: "[models.options]".into(),
        reason: format!("{}: fix the option table", e.message()),
    })
}

/// Builds the engine of `m` (GPU engines on `cuda`), with its inputs set to the reference
/// pattern.
///
/// # Errors
/// [`BackendBuildError`] naming the model, the backend and the cause.
pub fn build(
    m: &ModelDeployment,
    cuda: Option<&Arc<CudaContext>>,
) -> Result<Box<dyn RuntimeBackend>, BackendBuildError> {
    let err =
        |source| BackendBuildError { model: m.name.to_string(), backend: m.backend.name(), source };
    let no_gpu = || BackendError::Unavailable {
        engine: m.backend.name().into(),
        reason: "no CUDA device was opened for this deployment".into(),
    };
    let not_built = |engine: &str, feature: &str| BackendError::Unavailable {
        engine: engine.into(),
        reason: format!(
            "this aegisrt was built without the `{feature}` feature; rebuild with `--features {feature}` (a default build has it)"
        ),
    };
    let _ = &not_built;
    let backend: Box<dyn RuntimeBackend> = match &m.backend {
        #[cfg(not(feature = "tract"))]
        BackendChoice::Tract { .. } => return Err(err(not_built("tract", "tract"))),
        #[cfg(not(feature = "ort"))]
        BackendChoice::Ort { .. } => return Err(err(not_built("onnxruntime", "ort"))),
        #[cfg(not(feature = "trt"))]
        BackendChoice::Trt { .. } => return Err(err(not_built("tensorrt", "trt"))),
        #[cfg(feature = "tract")]
        BackendChoice::Tract { model } => {
            let mut b =
                TractBackend::load(model, &TractOptions::default()).map_err(|e| err(e.into()))?;
            let inputs: Vec<TensorData> = b
                .inputs()
                .iter()
                .filter_map(|s| s.shape.as_ref().map(|shape| reference_pattern(&s.name, shape)))
                .collect();
            for t in &inputs {
                b.set_input(t).map_err(err)?;
            }
            Box::new(b)
        }
        #[cfg(feature = "ort")]
        BackendChoice::Ort { model, options: table } => {
            let opts: OrtOptions = options(table).map_err(err)?;
            let mut b = OrtBackend::load(model, &opts).map_err(err)?;
            let inputs: Vec<TensorData> = b
                .input_specs()
                .map(|s| {
                    reference_pattern(
                        &s.name,
                        &s.dims.iter().map(|d| d.unwrap_or(1)).collect::<Vec<_>>(),
                    )
                })
                .collect();
            for t in &inputs {
                b.set_input(t).map_err(err)?;
            }
            Box::new(b)
        }
        BackendChoice::Cuda { spec } => {
            let ctx = cuda.ok_or_else(|| err(no_gpu()))?;
            Box::new(CudaKernelBackend::new(ctx, spec.clone()).map_err(err)?)
        }
        #[cfg(feature = "trt")]
        BackendChoice::Trt { engine, options: table } => {
            let ctx = cuda.ok_or_else(|| err(no_gpu()))?;
            let file: TrtFileOptions = options(table).map_err(err)?;
            let opts = TrtOptions {
                context: Some(ctx.clone()),
                cuda_graph: file.cuda_graph,
                warm_up: file.warm_up,
                activation_alignment: file.activation_alignment,
                ..TrtOptions::default()
            };
            Box::new(TrtBackend::new(engine, opts).map_err(err)?)
        }
    };
    Ok(backend)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_reference_pattern_matches_the_manifest_rule() {
        let t = reference_pattern("input", &[1, 3, 2, 2]);
        assert_eq!(t.data.len(), 12);
        assert_eq!(t.data[0], 0.0);
        assert_eq!(t.data[11], (0.011f64).sin() as f32);
    }
}
