//! Loading: an ONNX file becomes tract's optimised, runnable plan, with the model's input and
//! output tensors described.
//!
//! Owns every check a model must pass before it runs (file, format, operators, shapes, element
//! types) and the order of tract's stages (parse → type analysis → optimisation → plan). It
//! must not know the runtime's contract, memory accounting or how inputs are fed.

use crate::error::{TractError, chain};
use crate::options::TractOptions;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tract_onnx::prelude::{
    DatumType, Framework, InferenceFact, InferenceModel, InferenceModelExt, TypedModel,
    TypedSimplePlan,
};
use tract_onnx::tract_core::plan::SimplePlan;
use tract_onnx::tract_hir::infer::Factoid;

/// One input or output tensor of a loaded model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    /// Name in the ONNX graph.
    pub name: String,
    /// Dimensions; `None` for an output whose shape is known only once it is computed.
    pub shape: Option<Vec<usize>>,
    /// Element type in the model (tract's name, e.g. `F32`).
    pub dtype: String,
}

impl TensorSpec {
    /// Bytes of the tensor at the model's element type (0 when the shape is unknown).
    pub(crate) fn bytes(&self, elem: usize) -> u64 {
        self.shape.as_ref().map_or(0, |s| (s.iter().product::<usize>() * elem) as u64)
    }
}

/// A model parsed, checked, optimised and planned by tract.
pub(crate) struct LoadedModel {
    pub(crate) path: PathBuf,
    pub(crate) plan: Arc<TypedSimplePlan>,
    pub(crate) inputs: Vec<TensorSpec>,
    pub(crate) outputs: Vec<TensorSpec>,
}

/// Loads `path` (see [`crate::TractBackend::load`] for the errors).
pub(crate) fn load(path: &Path, options: &TractOptions) -> Result<LoadedModel, TractError> {
    let path_buf = path.to_path_buf();
    check_file(path)?;
    let onnx = tract_onnx::onnx();
    let proto = onnx
        .proto_model_for_path(path)
        .map_err(|e| TractError::NotOnnx { path: path_buf.clone(), reason: chain(&e) })?;
    if proto.graph.is_none() {
        return Err(TractError::NotOnnx {
            path: path_buf,
            reason: "the protobuf holds no graph (is this an ONNX ModelProto?)".into(),
        });
    }
    let dir = path.parent().and_then(Path::to_str);
    let parsed = onnx.parse(&proto, dir).map_err(|e| TractError::Engine {
        path: path_buf.clone(),
        stage: "parse the graph",
        reason: chain(&e),
    })?;
    if !parsed.unresolved_inputs.is_empty() {
        return Err(TractError::NotOnnx {
            path: path_buf,
            reason: format!("graph reads undefined tensors {:?}", parsed.unresolved_inputs),
        });
    }
    let mut model = parsed.model;
    check_operators(&path_buf, &model)?;
    let inputs = fix_inputs(&path_buf, &mut model, options)?;
    let engine = |stage: &'static str| {
        let p = path_buf.clone();
        move |e: tract_onnx::prelude::TractError| TractError::Engine {
            path: p,
            stage,
            reason: chain(&e),
        }
    };
    let typed = model.into_typed().map_err(engine("analyse types and shapes"))?;
    let optimised = typed.into_optimized().map_err(engine("optimise"))?;
    let outputs = describe_outputs(&path_buf, &optimised)?;
    let plan = SimplePlan::new(optimised).map_err(engine("plan"))?;
    Ok(LoadedModel { path: path_buf, plan, inputs, outputs })
}

fn check_file(path: &Path) -> Result<(), TractError> {
    let p = path.to_path_buf();
    match std::fs::metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(TractError::FileNotFound { path: p })
        }
        Err(source) => Err(TractError::Io { path: p, source }),
        Ok(m) if m.is_dir() => {
            Err(TractError::NotOnnx { path: p, reason: "it is a directory, not a file".into() })
        }
        // Opening it here separates "cannot read" (permissions) from "not ONNX".
        Ok(_) => {
            std::fs::File::open(path).map(drop).map_err(|source| TractError::Io { path: p, source })
        }
    }
}

fn check_operators(path: &Path, model: &InferenceModel) -> Result<(), TractError> {
    let ops: Vec<String> = model
        .nodes()
        .iter()
        .filter_map(|n| {
            let name = n.op.name();
            let ty = name.strip_prefix("Unimplemented(")?.strip_suffix(')')?;
            Some(format!("{ty} (node {})", n.name))
        })
        .collect();
    if ops.is_empty() {
        Ok(())
    } else {
        Err(TractError::UnsupportedOperator { path: path.to_path_buf(), ops })
    }
}

/// The model's dimensions for display: concrete, symbolic, or `?`; `..` when the rank is open.
fn format_dims(fact: &InferenceFact) -> String {
    let mut dims: Vec<String> = fact
        .shape
        .dims()
        .map(|d| d.concretize().map_or_else(|| "?".to_owned(), |d| d.to_string()))
        .collect();
    if fact.shape.is_open() {
        dims.push("..".into());
    }
    format!("[{}]", dims.join(", "))
}

/// Gives every input a concrete f32 fact (from the model or the options) and describes it.
fn fix_inputs(
    path: &Path,
    model: &mut InferenceModel,
    options: &TractOptions,
) -> Result<Vec<TensorSpec>, TractError> {
    let p = || path.to_path_buf();
    let outlets = model
        .input_outlets()
        .map_err(|e| TractError::Engine { path: p(), stage: "list inputs", reason: chain(&e) })?
        .to_vec();
    let names: Vec<String> = outlets.iter().map(|o| model.node(o.node).name.clone()).collect();
    if let Some(unknown) = options.input_shapes.keys().find(|k| !names.contains(k)) {
        return Err(TractError::UnknownInput { path: p(), input: unknown.clone(), known: names });
    }
    let mut specs = Vec::with_capacity(outlets.len());
    for (ix, (outlet, name)) in outlets.iter().zip(names).enumerate() {
        let fact = model
            .outlet_fact(*outlet)
            .map_err(|e| TractError::Engine { path: p(), stage: "read inputs", reason: chain(&e) })?
            .clone();
        if let Some(dt) = fact.datum_type.concretize()
            && dt != DatumType::F32
        {
            return Err(TractError::UnsupportedType {
                path: p(),
                what: "input",
                name,
                dtype: format!("{dt:?}"),
            });
        }
        let dims = match options.input_shapes.get(&name) {
            Some(given) => {
                check_given_shape(&fact, given).map_err(|()| TractError::ShapeMismatch {
                    path: p(),
                    input: name.clone(),
                    given: given.clone(),
                    model: format_dims(&fact),
                })?;
                given.clone()
            }
            None => match fact.shape.as_concrete_finite() {
                Ok(Some(d)) => d.to_vec(),
                _ => {
                    return Err(TractError::DynamicShape {
                        path: p(),
                        input: name,
                        dims: format_dims(&fact),
                    });
                }
            },
        };
        model.set_input_fact(ix, InferenceFact::dt_shape(DatumType::F32, &*dims)).map_err(|e| {
            TractError::Engine { path: p(), stage: "set input facts", reason: chain(&e) }
        })?;
        specs.push(TensorSpec { name, shape: Some(dims), dtype: format!("{:?}", DatumType::F32) });
    }
    Ok(specs)
}

/// `Err(())` when `given` contradicts the model's rank or one of its concrete dimensions.
fn check_given_shape(fact: &InferenceFact, given: &[usize]) -> Result<(), ()> {
    let dims: Vec<_> = fact.shape.dims().collect();
    if (!fact.shape.is_open() && dims.len() != given.len()) || dims.len() > given.len() {
        return Err(());
    }
    for (d, g) in dims.iter().zip(given) {
        if let Some(v) =
            d.concretize().and_then(|d| d.to_i64().ok()).and_then(|v| usize::try_from(v).ok())
            && v != *g
        {
            return Err(());
        }
    }
    Ok(())
}

fn describe_outputs(path: &Path, model: &TypedModel) -> Result<Vec<TensorSpec>, TractError> {
    let err = |e: tract_onnx::prelude::TractError| TractError::Engine {
        path: path.to_path_buf(),
        stage: "read outputs",
        reason: chain(&e),
    };
    let mut specs = Vec::new();
    for outlet in model.output_outlets().map_err(err)? {
        let fact = model.outlet_fact(*outlet).map_err(err)?;
        let name = model
            .outlet_label(*outlet)
            .map_or_else(|| model.node(outlet.node).name.clone(), str::to_owned);
        let dt = fact.datum_type;
        // tract types some integer results (e.g. a Cast to int64) as TDim, its symbolic
        // integer; they are concrete by the time they are computed.
        if !(dt.is_number() || dt == DatumType::Bool || dt == DatumType::TDim) {
            return Err(TractError::UnsupportedType {
                path: path.to_path_buf(),
                what: "output",
                name,
                dtype: format!("{dt:?}"),
            });
        }
        specs.push(TensorSpec {
            name,
            shape: fact.shape.as_concrete().map(<[usize]>::to_vec),
            dtype: format!("{dt:?}"),
        });
    }
    Ok(specs)
}
