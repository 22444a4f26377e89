//! I/O binding by tensor name: the device buffer of every engine input and output, the shapes
//! the runtime sets, and the host-side values waiting to be uploaded.
//!
//! Owns [`IoTable`]: validation of an input against the engine (known name, an input and not an
//! output, values matching the shape, rank and fixed dimensions equal, dynamic dimensions
//! inside optimisation profile 0), encoding into the tensor's element type, which inputs must
//! be uploaded before the next job, which dynamic input shapes TensorRT has not been told yet,
//! and decoding outputs. Buffers are sized for the largest shape the profile allows, so jobs
//! never allocate. It must not know TensorRT calls or streams.

use crate::ENGINE;
use crate::boundary::IoBuffer;
use crate::dtype::{decode, encode};
use crate::tensor::{TensorDesc, TensorMode};
use aegis_context::{BackendError, TensorData};

/// Bytes of a tensor of `shape` with `elem` bytes per element, if it does not overflow.
pub(crate) fn tensor_bytes(elem: u64, shape: &[usize]) -> Option<u64> {
    shape.iter().try_fold(elem, |acc, d| acc.checked_mul(*d as u64))
}

/// Why `shape` does not fit the engine's `desc` (inputs).
pub(crate) fn shape_problem(desc: &TensorDesc, shape: &[usize]) -> Option<String> {
    if shape.len() != desc.shape.len() {
        return Some(format!(
            "shape {shape:?} has rank {}, the engine expects rank {} ({:?}, -1 = dynamic)",
            shape.len(),
            desc.shape.len(),
            desc.shape
        ));
    }
    for (i, (&s, &d)) in shape.iter().zip(&desc.shape).enumerate() {
        if d >= 0 && s as i64 != d {
            return Some(format!(
                "dimension {i} is {s}, the engine fixes it at {d} (engine shape {:?})",
                desc.shape
            ));
        }
        if d < 0
            && let Some(p) = &desc.profile
        {
            let (lo, hi) = (p.min[i], p.max[i]);
            if (s as i64) < lo || (s as i64) > hi {
                return Some(format!(
                    "dimension {i} is {s}, outside optimisation profile 0's range {lo}..={hi} \
                     (min {:?}, max {:?})",
                    p.min, p.max
                ));
            }
        }
    }
    None
}

/// One I/O tensor with its buffer.
pub(crate) struct IoSlot {
    pub(crate) desc: TensorDesc,
    pub(crate) buffer: Box<dyn IoBuffer>,
    /// Inputs: the shape last set by the runtime. Outputs: the shape for the current inputs.
    pub(crate) shape: Option<Vec<usize>>,
    /// Inputs: the encoded values last set.
    host: Option<Vec<u8>>,
    /// Inputs: the device copy is stale.
    dirty: bool,
    /// Dynamic inputs: the shape TensorRT was last told.
    context_shape: Option<Vec<usize>>,
}

/// Every I/O tensor of one engine, in the engine's order.
pub(crate) struct IoTable {
    slots: Vec<IoSlot>,
}

fn to_usize(shape: &[i64]) -> Option<Vec<usize>> {
    shape.iter().map(|d| usize::try_from(*d).ok()).collect()
}

impl IoTable {
    pub(crate) fn new() -> Self {
        IoTable { slots: Vec::new() }
    }

    /// Adds a tensor with its buffer. `shape`: the static shape (outputs and static inputs),
    /// `context_shape`: for dynamic inputs, the shape TensorRT was set to while sizing.
    pub(crate) fn push(
        &mut self,
        desc: TensorDesc,
        buffer: Box<dyn IoBuffer>,
        context_shape: Option<Vec<usize>>,
    ) {
        // Inputs have no shape until the runtime sets one; dynamic outputs get theirs once
        // TensorRT resolves them (`set_output_shape`).
        let shape = match desc.mode {
            TensorMode::Output => to_usize(&desc.shape),
            TensorMode::Input => None,
        };
        self.slots.push(IoSlot { desc, buffer, shape, host: None, dirty: false, context_shape });
    }

    pub(crate) fn slots(&self) -> &[IoSlot] {
        &self.slots
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.slots.iter().position(|s| s.desc.name == name)
    }

    fn names(&self, mode: TensorMode) -> Vec<&str> {
        self.slots.iter().filter(|s| s.desc.mode == mode).map(|s| s.desc.name.as_str()).collect()
    }

    /// Bytes of all I/O buffers.
    pub(crate) fn total_bytes(&self) -> u64 {
        self.slots.iter().map(|s| s.buffer.len()).sum()
    }

    /// Validates and stores an input.
    pub(crate) fn set_input(&mut self, t: &TensorData) -> Result<(), BackendError> {
        let invalid = |reason: String| BackendError::InvalidInput { name: t.name.clone(), reason };
        let Some(i) = self.find(&t.name) else {
            return Err(invalid(format!(
                "the engine has no input of this name; its inputs are {:?}",
                self.names(TensorMode::Input)
            )));
        };
        let slot = &mut self.slots[i];
        if slot.desc.mode != TensorMode::Input {
            return Err(invalid("is an output of the engine, not an input".into()));
        }
        if let Some(p) = shape_problem(&slot.desc, &t.shape) {
            return Err(invalid(p));
        }
        if t.elements() != t.data.len() {
            return Err(invalid(format!(
                "shape {:?} holds {} values, got {}",
                t.shape,
                t.elements(),
                t.data.len()
            )));
        }
        let bytes = encode(slot.desc.dtype, &t.data).map_err(|e| {
            invalid(format!(
                "value {} at index {} cannot be stored as {}: needs {}",
                e.value,
                e.index,
                slot.desc.dtype.name(),
                e.needs
            ))
        })?;
        if bytes.len() as u64 > slot.buffer.len() {
            // The profile bounds every dimension, and buffers are sized for its maximum.
            return Err(invalid(format!(
                "{} bytes do not fit the {}-byte buffer sized for the profile's maximum",
                bytes.len(),
                slot.buffer.len()
            )));
        }
        slot.shape = Some(t.shape.clone());
        slot.host = Some(bytes);
        slot.dirty = true;
        Ok(())
    }

    /// The first input never set.
    pub(crate) fn missing_input(&self) -> Option<&str> {
        self.slots
            .iter()
            .find(|s| s.desc.mode == TensorMode::Input && s.host.is_none())
            .map(|s| s.desc.name.as_str())
    }

    /// Dynamic inputs whose shape TensorRT has not been told: (index, name, dims).
    pub(crate) fn shape_updates(&self) -> Vec<(usize, String, Vec<i64>)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.desc.mode == TensorMode::Input && s.desc.is_dynamic())
            .filter_map(|(i, s)| {
                let shape = s.shape.as_ref()?;
                (s.context_shape.as_ref() != Some(shape))
                    .then(|| (i, s.desc.name.clone(), shape.iter().map(|d| *d as i64).collect()))
            })
            .collect()
    }

    /// Records that TensorRT now has input `i`'s shape.
    pub(crate) fn shape_applied(&mut self, i: usize) {
        let s = &mut self.slots[i];
        s.context_shape = s.shape.clone();
    }

    /// Names of the outputs with dynamic dimensions.
    pub(crate) fn dynamic_outputs(&self) -> Vec<(usize, String)> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.desc.mode == TensorMode::Output && s.desc.is_dynamic())
            .map(|(i, s)| (i, s.desc.name.clone()))
            .collect()
    }

    /// Sets the resolved shape of output `i`; returns the bytes it needs.
    pub(crate) fn set_output_shape(&mut self, i: usize, dims: &[i64]) -> Result<u64, BackendError> {
        let s = &mut self.slots[i];
        let exec = |reason: String| BackendError::Execution { engine: ENGINE.into(), reason };
        let shape = to_usize(dims).ok_or_else(|| {
            exec(format!(
                "output {} has the data-dependent shape {dims:?} for these inputs; engines whose \
                 output shapes depend on input values are not supported",
                s.desc.name
            ))
        })?;
        let elem = s.desc.dtype.host_bytes().unwrap_or(1);
        let bytes = tensor_bytes(elem, &shape)
            .ok_or_else(|| exec(format!("output {} shape {shape:?} overflows", s.desc.name)))?;
        s.shape = Some(shape);
        Ok(bytes)
    }

    /// Replaces the buffer of tensor `i` (a larger output); returns its address.
    pub(crate) fn replace_buffer(&mut self, i: usize, buffer: Box<dyn IoBuffer>) -> u64 {
        self.slots[i].buffer = buffer;
        self.slots[i].buffer.address()
    }

    /// Inputs whose device copy is stale: (index, device address, bytes).
    pub(crate) fn uploads(&self) -> Vec<(usize, u64, &[u8])> {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, s)| s.dirty)
            .filter_map(|(i, s)| Some((i, s.buffer.address(), s.host.as_deref()?)))
            .collect()
    }

    pub(crate) fn uploaded(&mut self, i: usize) {
        self.slots[i].dirty = false;
    }

    /// Marks every set input stale (after something else was written to the buffers).
    pub(crate) fn mark_all_dirty(&mut self) {
        for s in &mut self.slots {
            s.dirty = s.host.is_some();
        }
    }

    /// Static inputs' zeroed contents, for a warm-up: (device address, bytes); `None` when some
    /// input is dynamic.
    pub(crate) fn warm_up_zeros(&self) -> Option<Vec<(u64, Vec<u8>)>> {
        let mut out = Vec::new();
        for s in self.slots.iter().filter(|s| s.desc.mode == TensorMode::Input) {
            let shape = to_usize(&s.desc.shape)?;
            let bytes = tensor_bytes(s.desc.dtype.host_bytes()?, &shape)?;
            out.push((s.buffer.address(), vec![0u8; usize::try_from(bytes).ok()?]));
        }
        Some(out)
    }

    /// Downloads and decodes every output.
    pub(crate) fn outputs(&self) -> Result<Vec<TensorData>, crate::message::ShimError> {
        let mut out = Vec::new();
        for s in self.slots.iter().filter(|s| s.desc.mode == TensorMode::Output) {
            let shape = s.shape.clone().unwrap_or_default();
            let elem = s.desc.dtype.host_bytes().unwrap_or(1);
            let bytes = tensor_bytes(elem, &shape).unwrap_or(0).min(s.buffer.len());
            let mut raw = vec![0u8; bytes as usize];
            s.buffer.download(&mut raw)?;
            out.push(TensorData {
                name: s.desc.name.clone(),
                shape,
                data: decode(s.desc.dtype, &raw),
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::DataType;

    #[test]
    fn bytes_overflow_is_detected() {
        assert_eq!(tensor_bytes(4, &[2, 3]), Some(24));
        assert_eq!(tensor_bytes(4, &[]), Some(4));
        assert_eq!(tensor_bytes(4, &[0, 3]), Some(0));
        assert_eq!(tensor_bytes(8, &[usize::MAX, 2]), None);
    }

    #[test]
    fn shapes_are_checked_against_fixed_dims_and_the_profile() {
        let d = TensorDesc::new("x", TensorMode::Input, DataType::Float, &[-1, 3, 224])
            .with_profile(&[1, 3, 224], &[4, 3, 224], &[8, 3, 224]);
        assert_eq!(shape_problem(&d, &[1, 3, 224]), None);
        assert_eq!(shape_problem(&d, &[8, 3, 224]), None);
        let p = shape_problem(&d, &[9, 3, 224]).unwrap();
        assert!(p.contains("dimension 0 is 9") && p.contains("1..=8"), "{p}");
        let p = shape_problem(&d, &[0, 3, 224]).unwrap();
        assert!(p.contains("1..=8"), "{p}");
        let p = shape_problem(&d, &[2, 4, 224]).unwrap();
        assert!(p.contains("dimension 1 is 4") && p.contains("fixes it at 3"), "{p}");
        let p = shape_problem(&d, &[2, 3]).unwrap();
        assert!(p.contains("rank 2") && p.contains("rank 3"), "{p}");
    }
}
