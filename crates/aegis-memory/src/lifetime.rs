//! Tensor lifetimes: on which op steps each activation tensor must be resident.
//!
//! Owns [`TensorLifetime`] and [`LifetimeAnalyzer`], which derives lifetimes from an
//! [`OpSequence`]. Conventions (the same as the lifetime files, see
//! `tests/data/lifetimes/summary.md`): intervals are inclusive op steps; a graph input has
//! `first = 0`; a tensor produced by op `p` has `first = p`; `last` is the last op that reads
//! it; a graph output has `last = num_ops - 1`; a tensor nobody reads has `last = first`. This
//! module must not know how tensors are placed in memory.

use crate::error::MemoryError;
use crate::graph::{OpSequence, TensorId};
use aegis_trace::ModelId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The inclusive op-step interval during which a tensor occupies memory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TensorLifetime {
    /// The tensor.
    pub tensor: TensorId,
    /// First op step at which it is resident (its producer, or 0 for a graph input).
    pub first: u32,
    /// Last op step at which it is resident (inclusive).
    pub last: u32,
    /// Size in bytes.
    pub size: u64,
    /// The model whose arena holds it.
    pub owner_model: ModelId,
}

impl TensorLifetime {
    /// Whether the two intervals share at least one op step.
    pub fn overlaps(&self, other: &TensorLifetime) -> bool {
        self.first <= other.last && other.first <= self.last
    }
}

/// Derives [`TensorLifetime`]s from an [`OpSequence`], validating the sequence on the way.
#[derive(Clone, Debug)]
pub struct LifetimeAnalyzer {
    model: ModelId,
}

/// Where a tensor comes from while analysing.
#[derive(Clone, Copy)]
enum Producer {
    GraphInput,
    Op(u32),
}

impl Producer {
    fn describe(self) -> String {
        match self {
            Producer::GraphInput => "graph input".to_string(),
            Producer::Op(i) => format!("op {i}"),
        }
    }
}

impl LifetimeAnalyzer {
    /// An analyzer whose lifetimes belong to `model`.
    pub fn new(model: impl Into<ModelId>) -> Self {
        LifetimeAnalyzer { model: model.into() }
    }

    /// The lifetimes of every declared tensor, in declaration order.
    ///
    /// Errors: no ops ([`MemoryError::EmptyGraph`]); a tensor declared twice
    /// ([`MemoryError::DuplicateTensor`]); a reference to an undeclared tensor
    /// ([`MemoryError::UnknownTensor`]); a tensor read before it is produced
    /// ([`MemoryError::UsedBeforeProduced`], which includes an op reading its own output);
    /// two producers ([`MemoryError::ProducedTwice`]); a declared tensor without producer
    /// ([`MemoryError::NeverProduced`]).
    pub fn analyze(&self, seq: &OpSequence) -> Result<Vec<TensorLifetime>, MemoryError> {
        if seq.ops.is_empty() {
            return Err(MemoryError::EmptyGraph);
        }
        let num_ops = u32::try_from(seq.ops.len()).map_err(|_| MemoryError::Overflow {
            what: "number of ops (more than 2^32)".to_string(),
        })?;
        let mut index: HashMap<TensorId, usize> = HashMap::with_capacity(seq.tensors.len());
        for (i, t) in seq.tensors.iter().enumerate() {
            if index.insert(t.id, i).is_some() {
                return Err(MemoryError::DuplicateTensor { tensor: t.id });
            }
        }
        let lookup = |id: TensorId, place: &dyn Fn() -> String| {
            index
                .get(&id)
                .copied()
                .ok_or_else(|| MemoryError::UnknownTensor { place: place(), tensor: id })
        };
        let mut producer: Vec<Option<Producer>> = vec![None; seq.tensors.len()];
        let mut last: Vec<u32> = vec![0; seq.tensors.len()];
        for &id in &seq.graph_inputs {
            let slot = lookup(id, &|| "graph input".to_string())?;
            set_producer(&mut producer[slot], id, Producer::GraphInput)?;
        }
        for (step, op) in (0..num_ops).zip(&seq.ops) {
            for &id in &op.inputs {
                let slot = lookup(id, &|| format!("op {step} input"))?;
                let available = match producer[slot] {
                    Some(Producer::GraphInput) => true,
                    Some(Producer::Op(p)) => p < step,
                    None => false,
                };
                if !available {
                    return Err(MemoryError::UsedBeforeProduced { op: step, tensor: id });
                }
                last[slot] = last[slot].max(step);
            }
            for &id in &op.outputs {
                let slot = lookup(id, &|| format!("op {step} output"))?;
                set_producer(&mut producer[slot], id, Producer::Op(step))?;
                last[slot] = last[slot].max(step);
            }
        }
        let mut is_output = vec![false; seq.tensors.len()];
        for &id in &seq.graph_outputs {
            let slot = lookup(id, &|| "graph output".to_string())?;
            is_output[slot] = true;
        }
        let mut lifetimes = Vec::with_capacity(seq.tensors.len());
        for (slot, t) in seq.tensors.iter().enumerate() {
            let first = match producer[slot] {
                Some(Producer::GraphInput) => 0,
                Some(Producer::Op(p)) => p,
                None => return Err(MemoryError::NeverProduced { tensor: t.id }),
            };
            let last = if is_output[slot] { num_ops - 1 } else { last[slot].max(first) };
            lifetimes.push(TensorLifetime {
                tensor: t.id,
                first,
                last,
                size: t.size,
                owner_model: self.model.clone(),
            });
        }
        Ok(lifetimes)
    }
}

/// Records `p` as the producer of `id`, or reports the second producer.
fn set_producer(slot: &mut Option<Producer>, id: TensorId, p: Producer) -> Result<(), MemoryError> {
    match slot {
        Some(prev) => Err(MemoryError::ProducedTwice {
            tensor: id,
            first: prev.describe(),
            second: p.describe(),
        }),
        None => {
            *slot = Some(p);
            Ok(())
        }
    }
}
