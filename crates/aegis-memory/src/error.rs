//! Errors of the memory layer.
//!
//! Owns [`MemoryError`]; every fallible public function of this crate returns it. Each message
//! names the offending field, tensor, model or file and says how to fix it. This module must
//! not know how the errors are detected.

use crate::graph::TensorId;
use aegis_trace::ModelId;
use std::path::PathBuf;

/// What can go wrong while analysing lifetimes, planning arenas or sharing them.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MemoryError {
    /// An operator sequence has no operators, so no tensor can be live anywhere.
    #[error("operator sequence has no operators; a model needs at least one op to plan memory")]
    EmptyGraph,
    /// A tensor id is declared twice in an operator sequence or a lifetime set.
    #[error("tensor {tensor} is declared twice; every tensor id must be unique")]
    DuplicateTensor {
        /// The repeated id.
        tensor: TensorId,
    },
    /// An op, graph input or graph output refers to a tensor that was never declared.
    #[error("{place} refers to tensor {tensor}, which is not declared; declare it in `tensors`")]
    UnknownTensor {
        /// Where the reference is (`"op 3 input"`, `"graph output"`, ...).
        place: String,
        /// The undeclared id.
        tensor: TensorId,
    },
    /// An op reads a tensor before any op produced it (and it is not a graph input).
    #[error(
        "op {op} reads tensor {tensor} before it is produced; produce it in an earlier op or \
         list it as a graph input"
    )]
    UsedBeforeProduced {
        /// The reading op's index.
        op: u32,
        /// The tensor.
        tensor: TensorId,
    },
    /// Two ops (or a graph input and an op) produce the same tensor.
    #[error(
        "tensor {tensor} is produced twice ({first} and {second}); every tensor has exactly one \
         producer"
    )]
    ProducedTwice {
        /// The tensor.
        tensor: TensorId,
        /// The first producer (`"graph input"` or `"op N"`).
        first: String,
        /// The second producer.
        second: String,
    },
    /// A declared tensor is neither a graph input nor produced by any op.
    #[error(
        "tensor {tensor} is declared but never produced; list it as a graph input, produce it in \
         an op, or remove it"
    )]
    NeverProduced {
        /// The tensor.
        tensor: TensorId,
    },
    /// A lifetime's interval is empty (`first > last`).
    #[error("tensor {tensor}: first step {first} is after last step {last}; need first <= last")]
    InvalidInterval {
        /// The tensor.
        tensor: TensorId,
        /// First step.
        first: u32,
        /// Last step.
        last: u32,
    },
    /// The requested alignment is unusable.
    #[error("alignment {alignment} is invalid; use a power of two >= 1 (1 = unaligned)")]
    InvalidAlignment {
        /// The alignment given.
        alignment: u64,
    },
    /// A byte count overflowed 64 bits.
    #[error("{what} overflows 64-bit byte counts; the sizes given are implausibly large")]
    Overflow {
        /// What was being summed.
        what: String,
    },
    /// A lifetime file (or its JSON) is malformed.
    #[error("{}: `{field}`: {problem}", file.display())]
    LifetimeFile {
        /// The file (or `<memory>` for parsed strings).
        file: PathBuf,
        /// The offending field, as a JSON path (`tensors[3].size`).
        field: String,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// A lifetime file could not be read.
    #[error("reading lifetime file {}: {source}", file.display())]
    Io {
        /// The file.
        file: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A model appears twice in a sharing or report input.
    #[error("model `{model}` is given twice; every model name must be unique{detail}")]
    DuplicateModel {
        /// The repeated name.
        model: ModelId,
        /// Extra context (for example both file names) with its leading space, or empty.
        detail: String,
    },
    /// An exclusivity group names a model that is not in the deployment.
    #[error(
        "exclusivity group `{group}` names model `{model}`, which is not given; add it or remove it from the group"
    )]
    UnknownModel {
        /// The group.
        group: String,
        /// The unknown name.
        model: ModelId,
    },
    /// A model is a member of two exclusivity groups (groups must be disjoint).
    #[error(
        "model `{model}` is in exclusivity groups `{first}` and `{second}`; a model may be in at \
         most one group (merge the groups if all their models are mutually exclusive)"
    )]
    ModelInTwoGroups {
        /// The model.
        model: ModelId,
        /// The first group.
        first: String,
        /// The second group.
        second: String,
    },
    /// An exclusivity group is malformed (empty, duplicate name, member listed twice).
    #[error("exclusivity group `{group}`: {problem}")]
    InvalidGroup {
        /// The group.
        group: String,
        /// What is wrong.
        problem: String,
    },
    /// A report was asked for without any input file.
    #[error("no lifetime files given; pass at least one FILE")]
    NoInputs,
    /// A model has no planned allocation (plan before binding).
    #[error(
        "model {model} is not in the current allocation plan; call MemoryOrchestrator::plan with its context first"
    )]
    NotPlanned {
        /// The model.
        model: ModelId,
    },
    /// A model is already bound.
    #[error("model {model} is already bound; release it first")]
    AlreadyBound {
        /// The model.
        model: ModelId,
    },
    /// The device memory pool refused.
    #[error("device memory pool: {0}")]
    Pool(#[source] Box<aegis_cuda::AegisCudaError>),
    /// The model's execution context refused (budget) or its backend failed.
    #[error("execution context: {0}")]
    Context(#[source] Box<aegis_context::ContextError>),
    /// The plan does not fit the pool.
    #[error(
        "plan needs {needed} bytes of pool memory but the pool has {available} free; enlarge the pool, share arenas (exclusivity groups) or deploy fewer models"
    )]
    PlanDoesNotFit {
        /// Bytes the plan needs from the pool.
        needed: u64,
        /// Free bytes in the pool.
        available: u64,
    },
}
