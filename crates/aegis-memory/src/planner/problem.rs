//! The planning problem in the form every strategy works on.
//!
//! Owns [`Problem`]: the tensors of non-zero size sorted by id, their sizes rounded up to the
//! alignment, their lifetimes in compressed time, the lists of tensors whose lifetimes
//! overlap, and the lower bound. It must not know any placement strategy.
//!
//! Compressed time: the points are the distinct `first` steps, in order. A tensor covers the
//! points inside its `[first, last]`. Two lifetimes overlap exactly when they cover a common
//! point (the later-starting one's `first` lies in both), so nothing is lost, and the live
//! bytes are maximal at some point, so the lower bound is the maximum over points.

use crate::error::MemoryError;
use crate::graph::TensorId;
use crate::lifetime::TensorLifetime;
use std::collections::HashSet;

/// A normalised planning instance. Index `i` everywhere means the `i`-th placeable tensor.
#[derive(Clone, Debug)]
pub(crate) struct Problem {
    /// Tensor id per index (ascending).
    pub(crate) ids: Vec<TensorId>,
    /// Tensors of size zero: they occupy nothing and get offset 0.
    pub(crate) zero_size: Vec<TensorId>,
    /// Size rounded up to the alignment.
    pub(crate) size: Vec<u64>,
    /// First op step (original numbering).
    pub(crate) first: Vec<u32>,
    /// Last op step (original numbering).
    pub(crate) last: Vec<u32>,
    /// First covered point (compressed time).
    pub(crate) start: Vec<u32>,
    /// Last covered point (compressed time, inclusive).
    pub(crate) end: Vec<u32>,
    /// Number of points.
    pub(crate) num_points: usize,
    /// Indices of the tensors whose lifetimes overlap each tensor's.
    pub(crate) neighbors: Vec<Vec<u32>>,
    /// Aligned live bytes per point.
    pub(crate) live: Vec<u64>,
    /// Maximum of `live`.
    pub(crate) lower_bound: u64,
}

/// `x` rounded up to a multiple of `alignment` (a power of two), or `None` on overflow.
pub(crate) fn align_up(x: u64, alignment: u64) -> Option<u64> {
    let mask = alignment - 1;
    x.checked_add(mask).map(|v| v & !mask)
}

impl Problem {
    /// Builds the instance, validating ids (unique) and intervals (`first <= last`).
    pub(crate) fn new(lifetimes: &[TensorLifetime], alignment: u64) -> Result<Self, MemoryError> {
        if alignment == 0 || !alignment.is_power_of_two() {
            return Err(MemoryError::InvalidAlignment { alignment });
        }
        let mut seen = HashSet::with_capacity(lifetimes.len());
        for l in lifetimes {
            if !seen.insert(l.tensor) {
                return Err(MemoryError::DuplicateTensor { tensor: l.tensor });
            }
            if l.first > l.last {
                return Err(MemoryError::InvalidInterval {
                    tensor: l.tensor,
                    first: l.first,
                    last: l.last,
                });
            }
        }
        let mut sorted: Vec<&TensorLifetime> = lifetimes.iter().collect();
        sorted.sort_by_key(|l| l.tensor);
        let mut zero_size = Vec::new();
        let mut placeable = Vec::with_capacity(sorted.len());
        for l in sorted {
            if l.size == 0 {
                zero_size.push(l.tensor);
            } else {
                let size = align_up(l.size, alignment).ok_or_else(|| MemoryError::Overflow {
                    what: format!("size of tensor {} aligned to {alignment}", l.tensor),
                })?;
                placeable.push((l, size));
            }
        }
        let mut total: u64 = 0;
        for (_, size) in &placeable {
            total = total.checked_add(*size).ok_or_else(|| MemoryError::Overflow {
                what: "sum of all tensor sizes".to_string(),
            })?;
        }
        let mut points: Vec<u32> = placeable.iter().map(|(l, _)| l.first).collect();
        points.sort_unstable();
        points.dedup();
        let n = placeable.len();
        let mut p = Problem {
            ids: Vec::with_capacity(n),
            zero_size,
            size: Vec::with_capacity(n),
            first: Vec::with_capacity(n),
            last: Vec::with_capacity(n),
            start: Vec::with_capacity(n),
            end: Vec::with_capacity(n),
            num_points: points.len(),
            neighbors: vec![Vec::new(); n],
            live: vec![0; points.len()],
            lower_bound: 0,
        };
        for (l, size) in &placeable {
            // `first` is a point by construction; `end` is the last point <= last.
            let start = points.partition_point(|&x| x < l.first);
            let end = points.partition_point(|&x| x <= l.last) - 1;
            p.ids.push(l.tensor);
            p.size.push(*size);
            p.first.push(l.first);
            p.last.push(l.last);
            p.start.push(start as u32);
            p.end.push(end as u32);
        }
        // Live bytes per point through a difference array.
        let mut delta = vec![0i128; points.len() + 1];
        for i in 0..n {
            delta[p.start[i] as usize] += i128::from(p.size[i]);
            delta[p.end[i] as usize + 1] -= i128::from(p.size[i]);
        }
        let mut acc: i128 = 0;
        for (pt, d) in delta.iter().take(points.len()).enumerate() {
            acc += d;
            p.live[pt] = u64::try_from(acc).map_err(|_| MemoryError::Overflow {
                what: "live bytes at one op step".to_string(),
            })?;
        }
        p.lower_bound = p.live.iter().copied().max().unwrap_or(0);
        // Overlap lists by a sweep in order of start.
        let mut by_start: Vec<u32> = (0..n as u32).collect();
        by_start.sort_by_key(|&i| (p.start[i as usize], i));
        let mut active: Vec<u32> = Vec::new();
        for &i in &by_start {
            let s = p.start[i as usize];
            active.retain(|&j| p.end[j as usize] >= s);
            for &j in &active {
                p.neighbors[i as usize].push(j);
                p.neighbors[j as usize].push(i);
            }
            active.push(i);
        }
        Ok(p)
    }

    /// Number of placeable tensors.
    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    /// The arena a complete layout needs: the highest end.
    pub(crate) fn arena_of(&self, offsets: &[u64]) -> u64 {
        offsets.iter().zip(&self.size).map(|(o, s)| o + s).max().unwrap_or(0)
    }
}
