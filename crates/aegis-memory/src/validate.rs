//! An independent checker of arena layouts.
//!
//! Owns [`check_layout`] and [`Violation`]. It shares no code with the planner on purpose: it
//! takes the lifetimes and a layout as plain data and checks, pair by pair, that no two
//! tensors whose lifetimes overlap share a byte, that every offset is aligned, and that every
//! tensor ends inside the arena. It must not know how the layout was produced.

use crate::graph::TensorId;
use crate::lifetime::TensorLifetime;
use std::collections::BTreeMap;
use std::fmt;

/// One way a layout is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Violation {
    /// A tensor has no offset.
    MissingOffset(TensorId),
    /// An offset is given for a tensor that has no lifetime.
    UnknownTensor(TensorId),
    /// A tensor id appears twice among the lifetimes.
    DuplicateLifetime(TensorId),
    /// An offset is not a multiple of the alignment.
    Misaligned {
        /// The tensor.
        tensor: TensorId,
        /// Its offset.
        offset: u64,
    },
    /// A tensor ends beyond the arena.
    OutsideArena {
        /// The tensor.
        tensor: TensorId,
        /// Its end (offset + size).
        end: u128,
    },
    /// Two tensors live at the same op step share bytes.
    Overlap {
        /// One tensor.
        a: TensorId,
        /// The other.
        b: TensorId,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::MissingOffset(t) => write!(f, "tensor {t} has no offset"),
            Violation::UnknownTensor(t) => {
                write!(f, "offset given for tensor {t} without lifetime")
            }
            Violation::DuplicateLifetime(t) => write!(f, "tensor {t} has two lifetimes"),
            Violation::Misaligned { tensor, offset } => {
                write!(f, "tensor {tensor} at offset {offset} is not aligned")
            }
            Violation::OutsideArena { tensor, end } => {
                write!(f, "tensor {tensor} ends at {end}, outside the arena")
            }
            Violation::Overlap { a, b } => {
                write!(f, "tensors {a} and {b} are live together and share bytes")
            }
        }
    }
}

/// Every violation of `offsets` as a layout of `lifetimes` in an arena of `arena_bytes` with
/// offsets aligned to `alignment` (0 or 1: no alignment requirement). Empty means valid.
///
/// Memory ranges are `[offset, offset + size)` with the tensors' own sizes; tensors of size
/// zero occupy nothing. Quadratic in the number of tensors, which is fine for a checker.
pub fn check_layout(
    lifetimes: &[TensorLifetime],
    offsets: &BTreeMap<TensorId, u64>,
    arena_bytes: u64,
    alignment: u64,
) -> Vec<Violation> {
    let mut out = Vec::new();
    let mut by_id: BTreeMap<TensorId, &TensorLifetime> = BTreeMap::new();
    for l in lifetimes {
        if by_id.insert(l.tensor, l).is_some() {
            out.push(Violation::DuplicateLifetime(l.tensor));
        }
    }
    for id in offsets.keys() {
        if !by_id.contains_key(id) {
            out.push(Violation::UnknownTensor(*id));
        }
    }
    // (first, last, begin, end, id) of every tensor that has an offset.
    let mut placed: Vec<(u32, u32, u128, u128, TensorId)> = Vec::new();
    for (id, l) in &by_id {
        let Some(&offset) = offsets.get(id) else {
            out.push(Violation::MissingOffset(*id));
            continue;
        };
        if alignment > 1 && !offset.is_multiple_of(alignment) {
            out.push(Violation::Misaligned { tensor: *id, offset });
        }
        let end = u128::from(offset) + u128::from(l.size);
        if end > u128::from(arena_bytes) {
            out.push(Violation::OutsideArena { tensor: *id, end });
        }
        if l.size > 0 {
            placed.push((l.first, l.last, u128::from(offset), end, *id));
        }
    }
    for (i, a) in placed.iter().enumerate() {
        for b in &placed[i + 1..] {
            let live_together = a.0 <= b.1 && b.0 <= a.1;
            let share_bytes = a.2 < b.3 && b.2 < a.3;
            if live_together && share_bytes {
                out.push(Violation::Overlap { a: a.4, b: b.4 });
            }
        }
    }
    out
}
