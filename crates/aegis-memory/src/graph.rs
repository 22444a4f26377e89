//! A model's operator sequence as an inference engine reports it.
//!
//! Owns [`TensorId`], [`TensorInfo`], [`Op`] and [`OpSequence`]: the activation tensors (with
//! their byte sizes) and the operators in execution order with the tensors each reads and
//! writes. It is engine-neutral: it must not know which engine produced it, nor anything about
//! lifetimes or placement (see [`crate::lifetime`]). Weights are not tensors here: an engine
//! reports only the activations it allocates per inference.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The id of a tensor within one model (ids of different models are unrelated).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct TensorId(pub u32);

impl fmt::Display for TensorId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One activation tensor: its id, its size in bytes and what it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorInfo {
    /// The tensor's id, unique within the sequence.
    pub id: TensorId,
    /// Size in bytes at the engine's precision.
    pub size: u64,
    /// The engine's name for it, for diagnostics.
    pub name: Option<String>,
    /// Whether it holds floating-point data (reduced precision shrinks only these).
    pub is_float: bool,
}

impl TensorInfo {
    /// A floating-point tensor without a name.
    pub fn new(id: TensorId, size: u64) -> Self {
        TensorInfo { id, size, name: None, is_float: true }
    }

    /// Sets the name.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Marks the tensor as non-floating-point (integer indices, boolean masks, shapes).
    pub fn non_float(mut self) -> Self {
        self.is_float = false;
        self
    }
}

/// One operator: the tensors it reads and the tensors it writes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Op {
    /// The engine's op type or name, for diagnostics (`"Conv"`).
    pub kind: Option<String>,
    /// Tensors read (weights excluded).
    pub inputs: Vec<TensorId>,
    /// Tensors written.
    pub outputs: Vec<TensorId>,
}

impl Op {
    /// An op reading `inputs` and writing `outputs`.
    pub fn new(inputs: impl Into<Vec<TensorId>>, outputs: impl Into<Vec<TensorId>>) -> Self {
        Op { kind: None, inputs: inputs.into(), outputs: outputs.into() }
    }

    /// Sets the op type.
    pub fn kind(mut self, kind: impl Into<String>) -> Self {
        self.kind = Some(kind.into());
        self
    }
}

/// A model's operators in execution order, with its activation tensors and graph boundary.
///
/// Op step `i` is the `i`-th entry of [`OpSequence::ops`]. Validation happens when lifetimes
/// are derived ([`crate::LifetimeAnalyzer::analyze`]), so a sequence can be built
/// incrementally.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpSequence {
    /// Every activation tensor (graph inputs, intermediates, graph outputs).
    pub tensors: Vec<TensorInfo>,
    /// Operators in execution order.
    pub ops: Vec<Op>,
    /// Tensors provided by the caller before step 0.
    pub graph_inputs: Vec<TensorId>,
    /// Tensors the caller reads after the last step.
    pub graph_outputs: Vec<TensorId>,
}

impl OpSequence {
    /// An empty sequence.
    pub fn new() -> Self {
        Self::default()
    }

    /// Declares a floating-point tensor of `size` bytes whose id is the number of tensors
    /// declared before it, and returns that id. (Mixing this with explicitly chosen ids can
    /// collide; the analyzer then reports [`crate::MemoryError::DuplicateTensor`].)
    pub fn add_tensor(&mut self, size: u64) -> TensorId {
        let id = TensorId(u32::try_from(self.tensors.len()).unwrap_or(u32::MAX));
        self.tensors.push(TensorInfo::new(id, size));
        id
    }

    /// Appends an op.
    pub fn push_op(&mut self, op: Op) {
        self.ops.push(op);
    }

    /// Number of op steps.
    pub fn num_ops(&self) -> usize {
        self.ops.len()
    }
}
