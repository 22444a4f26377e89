//! [`TractOptions`]: what a deployment may tell the loader beyond the model file.
//!
//! Owns the option values only; it must not know tract or how they are applied.

use std::collections::BTreeMap;

/// Options of [`crate::TractBackend::load`].
///
/// ```
/// use aegis_backend_tract::TractOptions;
/// // A model exported with a symbolic batch dimension, run at batch 1.
/// let opts = TractOptions::default().input_shape("input", [1, 3, 224, 224]);
/// assert_eq!(opts.input_shapes["input"], vec![1, 3, 224, 224]);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TractOptions {
    /// Concrete shapes by input name. Needed for inputs whose dimensions the model leaves
    /// symbolic (e.g. a `batch` dimension); where the model's dimensions are concrete, a
    /// shape given here must equal them.
    pub input_shapes: BTreeMap<String, Vec<usize>>,
}

impl TractOptions {
    /// Gives input `name` the concrete shape `dims`.
    pub fn input_shape(mut self, name: impl Into<String>, dims: impl Into<Vec<usize>>) -> Self {
        self.input_shapes.insert(name.into(), dims.into());
        self
    }
}
