//! Greedy layouts: an order in which tensors are placed and a rule for where each one goes.
//!
//! Owns [`Ordering`], [`Placement`] and [`place`]. `Ordering::SizeDesc` with
//! `Placement::BestFit` is TFLite's `GreedyBySizeAssignment` exactly (size-descending with a
//! stable sort, so equal sizes go in id order; each tensor into the smallest gap between the
//! already placed tensors whose lifetimes overlap its own, the lowest such gap on ties; on top
//! of them when no gap fits). This module must not know which layout wins.

use super::problem::Problem;
use serde::{Deserialize, Serialize};
use std::cmp::Reverse;
use std::fmt;

/// The order in which a greedy strategy places tensors. Every order breaks remaining ties by
/// tensor id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Ordering {
    /// Size descending (TFLite's greedy-by-size order).
    SizeDesc,
    /// Size descending, then longer lifetime first.
    SizeThenLongest,
    /// Size descending, then earlier first step first.
    SizeThenEarliest,
    /// Size descending, then later first step first.
    SizeThenLatest,
    /// Size times lifetime length, descending.
    AreaDesc,
    /// Lifetime length descending, then size descending.
    DurationDesc,
    /// Greedy by breadth: op steps by live bytes descending; at each step its tensors by size
    /// descending.
    Breadth,
    /// First step ascending, then size descending (a linear scan over time).
    StartAsc,
}

impl Ordering {
    /// Every ordering, TFLite's first.
    pub const ALL: [Ordering; 8] = [
        Ordering::SizeDesc,
        Ordering::SizeThenLongest,
        Ordering::SizeThenEarliest,
        Ordering::SizeThenLatest,
        Ordering::AreaDesc,
        Ordering::DurationDesc,
        Ordering::Breadth,
        Ordering::StartAsc,
    ];

    fn name(self) -> &'static str {
        match self {
            Ordering::SizeDesc => "size",
            Ordering::SizeThenLongest => "size-then-longest",
            Ordering::SizeThenEarliest => "size-then-earliest",
            Ordering::SizeThenLatest => "size-then-latest",
            Ordering::AreaDesc => "area",
            Ordering::DurationDesc => "duration",
            Ordering::Breadth => "breadth",
            Ordering::StartAsc => "start",
        }
    }
}

/// Where a greedy strategy puts the next tensor, given the tensors already placed whose
/// lifetimes overlap its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum Placement {
    /// The smallest gap between them that fits (the lowest on ties), else on top (TFLite).
    BestFit,
    /// The lowest offset where it fits, gaps and top alike.
    LowestFit,
}

impl Placement {
    /// Every placement rule, TFLite's first.
    pub const ALL: [Placement; 2] = [Placement::BestFit, Placement::LowestFit];

    fn name(self) -> &'static str {
        match self {
            Placement::BestFit => "best-fit",
            Placement::LowestFit => "lowest-fit",
        }
    }
}

impl fmt::Display for Ordering {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl fmt::Display for Placement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The indices of `p`'s tensors in `ordering`'s order.
pub(crate) fn order(p: &Problem, ordering: Ordering) -> Vec<u32> {
    let n = p.len() as u32;
    let mut idx: Vec<u32> = (0..n).collect();
    let dur = |i: u32| u64::from(p.last[i as usize] - p.first[i as usize]) + 1;
    let size = |i: u32| p.size[i as usize];
    // Indices are in id order, so a stable sort breaks ties by id.
    match ordering {
        Ordering::SizeDesc => idx.sort_by_key(|&i| Reverse(size(i))),
        Ordering::SizeThenLongest => idx.sort_by_key(|&i| (Reverse(size(i)), Reverse(dur(i)))),
        Ordering::SizeThenEarliest => {
            idx.sort_by_key(|&i| (Reverse(size(i)), p.first[i as usize]));
        }
        Ordering::SizeThenLatest => {
            idx.sort_by_key(|&i| (Reverse(size(i)), Reverse(p.first[i as usize])));
        }
        Ordering::AreaDesc => {
            idx.sort_by_key(|&i| Reverse(u128::from(size(i)) * u128::from(dur(i))));
        }
        Ordering::DurationDesc => idx.sort_by_key(|&i| (Reverse(dur(i)), Reverse(size(i)))),
        Ordering::StartAsc => idx.sort_by_key(|&i| (p.first[i as usize], Reverse(size(i)))),
        Ordering::Breadth => return breadth_order(p),
    }
    idx
}

fn breadth_order(p: &Problem) -> Vec<u32> {
    let mut at_point: Vec<Vec<u32>> = vec![Vec::new(); p.num_points];
    for i in 0..p.len() {
        for pt in p.start[i]..=p.end[i] {
            at_point[pt as usize].push(i as u32);
        }
    }
    let mut points: Vec<usize> = (0..p.num_points).collect();
    points.sort_by_key(|&pt| Reverse(p.live[pt]));
    let mut taken = vec![false; p.len()];
    let mut out = Vec::with_capacity(p.len());
    for pt in points {
        let mut here = std::mem::take(&mut at_point[pt]);
        here.sort_by_key(|&i| Reverse(p.size[i as usize]));
        for i in here {
            if !taken[i as usize] {
                taken[i as usize] = true;
                out.push(i);
            }
        }
    }
    out
}

const UNPLACED: u64 = u64::MAX;

/// Places the tensors in `order` by `rule`; writes every offset and returns the arena size.
pub(crate) fn place(p: &Problem, order: &[u32], rule: Placement, offsets: &mut Vec<u64>) -> u64 {
    offsets.clear();
    offsets.resize(p.len(), UNPLACED);
    place_suffix(p, order, 0, rule, offsets)
}

/// Like [`place`], but keeps the offsets of `order[..start]`, which must be those that
/// `place` gives them (a placement depends only on the tensors placed before it), and
/// re-places the rest. Returns the arena size.
pub(crate) fn place_suffix(
    p: &Problem,
    order: &[u32],
    start: usize,
    rule: Placement,
    offsets: &mut [u64],
) -> u64 {
    for &i in &order[start..] {
        offsets[i as usize] = UNPLACED;
    }
    let mut arena =
        order[..start].iter().map(|&i| offsets[i as usize] + p.size[i as usize]).max().unwrap_or(0);
    let mut around: Vec<(u64, u64)> = Vec::new();
    for &i in &order[start..] {
        let i = i as usize;
        let size = p.size[i];
        around.clear();
        for &j in &p.neighbors[i] {
            let o = offsets[j as usize];
            if o != UNPLACED {
                around.push((o, o + p.size[j as usize]));
            }
        }
        around.sort_unstable();
        let mut best: Option<(u64, u64)> = None; // (gap, offset)
        let mut prev = 0u64;
        for &(o, e) in &around {
            if o >= prev {
                let gap = o - prev;
                if gap >= size && best.is_none_or(|(g, _)| gap < g) {
                    best = Some((gap, prev));
                    if rule == Placement::LowestFit {
                        break;
                    }
                }
            }
            prev = prev.max(e);
        }
        let offset = match best {
            Some((_, o)) => o,
            None => around.iter().map(|&(_, e)| e).max().unwrap_or(0),
        };
        offsets[i] = offset;
        arena = arena.max(offset + size);
    }
    arena
}
