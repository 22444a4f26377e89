//! [`TractError`]: everything that can go wrong while loading a model into tract or reading
//! the reference files, each naming the file and what is wrong.
//!
//! Owns the error type and its mapping into the runtime's [`BackendError`]. It must not know
//! how loading works, only what the loader reports.

use aegis_context::BackendError;
use std::path::PathBuf;

/// Engine name used in every [`BackendError`] this crate produces.
pub const ENGINE: &str = "tract";

/// A failure while loading a model, or reading a manifest or reference output.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TractError {
    /// The model file does not exist.
    #[error(
        "{path}: no such model file; check the path (relative paths are resolved from the \
         working directory)"
    )]
    FileNotFound {
        /// The path given.
        path: PathBuf,
    },
    /// The file exists but cannot be read.
    #[error("{path}: cannot read: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The file is not an ONNX model (not a protobuf `ModelProto`, or no graph in it).
    #[error("{path}: not an ONNX model: {reason}")]
    NotOnnx {
        /// The file.
        path: PathBuf,
        /// What the decoder said.
        reason: String,
    },
    /// The model uses operators tract does not implement.
    #[error(
        "{path}: uses operators tract 0.23 does not implement: {}; use the onnxruntime backend \
         or re-export the model without them",
        ops.join(", ")
    )]
    UnsupportedOperator {
        /// The file.
        path: PathBuf,
        /// `OpType (node name)` of every unsupported node.
        ops: Vec<String>,
    },
    /// An input has dimensions unknown until run time and no shape was given for it.
    #[error(
        "{path}: input {input} has dynamic shape {dims}; give a concrete one with \
         TractOptions::input_shape(\"{input}\", [..])"
    )]
    DynamicShape {
        /// The file.
        path: PathBuf,
        /// Input name.
        input: String,
        /// The model's dimensions (`?` or a symbol where unknown).
        dims: String,
    },
    /// A shape given in the options contradicts the model.
    #[error("{path}: shape {given:?} given for input {input} contradicts the model's {model}")]
    ShapeMismatch {
        /// The file.
        path: PathBuf,
        /// Input name.
        input: String,
        /// The shape given in the options.
        given: Vec<usize>,
        /// The model's dimensions.
        model: String,
    },
    /// The options name an input the model does not have.
    #[error(
        "{path}: the options give a shape for input {input}, but the model's inputs are {known:?}"
    )]
    UnknownInput {
        /// The file.
        path: PathBuf,
        /// The name given.
        input: String,
        /// The model's input names.
        known: Vec<String>,
    },
    /// An input or output is not a floating-point tensor of a type the backend exchanges.
    #[error(
        "{path}: {what} {name} has element type {dtype}; this backend exchanges f32 inputs \
         (and numeric outputs, converted to f32) only"
    )]
    UnsupportedType {
        /// The file.
        path: PathBuf,
        /// `"input"` or `"output"`.
        what: &'static str,
        /// Tensor name.
        name: String,
        /// tract's name of the element type.
        dtype: String,
    },
    /// tract failed at a later stage (type analysis, optimisation, planning).
    #[error("{path}: tract failed to {stage}: {reason}")]
    Engine {
        /// The file.
        path: PathBuf,
        /// What it was doing (`"analyse types and shapes"`, `"optimise"`, `"plan"`).
        stage: &'static str,
        /// tract's error chain.
        reason: String,
    },
    /// A reference manifest is malformed or lacks a field.
    #[error("{path}: {reason}")]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong and where.
        reason: String,
    },
    /// A reference output file does not hold what its manifest entry says.
    #[error("{path}: {reason}")]
    Reference {
        /// The `.expected.f32` file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

impl TractError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            TractError::FileNotFound { path }
            | TractError::Io { path, .. }
            | TractError::NotOnnx { path, .. }
            | TractError::UnsupportedOperator { path, .. }
            | TractError::DynamicShape { path, .. }
            | TractError::ShapeMismatch { path, .. }
            | TractError::UnknownInput { path, .. }
            | TractError::UnsupportedType { path, .. }
            | TractError::Engine { path, .. }
            | TractError::Manifest { path, .. }
            | TractError::Reference { path, .. } => path,
        }
    }
}

impl From<TractError> for BackendError {
    fn from(e: TractError) -> Self {
        // Every message starts with "{path}: "; the Load variant names the path itself.
        let path = e.path().display().to_string();
        let full = e.to_string();
        let reason = full.strip_prefix(&format!("{path}: ")).unwrap_or(&full).to_owned();
        BackendError::Load { path, reason }
    }
}

/// tract's error with its whole context chain on one line.
pub(crate) fn chain(e: &tract_onnx::prelude::TractError) -> String {
    format!("{e:#}")
}
