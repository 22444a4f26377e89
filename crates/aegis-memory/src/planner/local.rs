//! Local search over placement orders, starting from the best greedy layout.
//!
//! Owns [`improve`]. It must not know which greedy strategies exist; it only re-runs one
//! placement rule on modified orders.
//!
//! Where greedy-by-size misses the lower bound on residual networks, the cause is a small,
//! long-lived tensor (the residual stream) placed after the large tensors of its block: those
//! took the same positions as in the previous block, and the small one lands on top. Placing
//! that tensor earlier shifts the block's large tensors past it. So each step takes a tensor
//! that reaches the current arena top (or, one step in four, any tensor live at the most
//! crowded op step) and moves it earlier in the order (to the front one time in four, else to
//! a random earlier position), re-places the tensors from that position on, and keeps the new order unless the arena grew (equal is
//! accepted, to walk across plateaus). Moves come from a seeded generator, so a given seed
//! always gives the same plan.

use super::greedy::{Placement, place, place_suffix};
use super::problem::Problem;
use std::time::Instant;

/// SplitMix64: a small, seedable generator (statistical quality is ample for move choice).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// Tries `steps` moves (about `steps * tensors / 2` placements in all) from `order` (whose layout by `placement` needs `arena`). Returns the
/// best layout found if it is smaller than `arena`.
pub(crate) fn improve(
    p: &Problem,
    order: &[u32],
    placement: Placement,
    arena: u64,
    steps: u64,
    seed: u64,
    deadline: Option<Instant>,
) -> Option<(u64, Vec<u64>)> {
    let mut rng = Rng(seed);
    let mut cur_order = order.to_vec();
    let mut offsets = Vec::with_capacity(p.len());
    let mut cur_arena = place(p, &cur_order, placement, &mut offsets);
    let mut cur_offsets = offsets.clone();
    let mut best: Option<(u64, Vec<u64>)> = None;
    let peak_point = (0..p.num_points).max_by_key(|&pt| (p.live[pt], std::cmp::Reverse(pt)));
    let at_peak: Vec<u32> = match peak_point {
        Some(pt) => (0..p.len() as u32)
            .filter(|&i| p.start[i as usize] as usize <= pt && pt <= p.end[i as usize] as usize)
            .collect(),
        None => Vec::new(),
    };
    let mut position = vec![0usize; p.len()];
    let mut tops: Vec<u32> = Vec::new();
    let mut candidate = cur_order.clone();
    for step in 0..steps {
        if cur_arena <= p.lower_bound
            || (step.is_multiple_of(16) && deadline.is_some_and(|d| Instant::now() >= d))
        {
            break;
        }
        for (k, &i) in cur_order.iter().enumerate() {
            position[i as usize] = k;
        }
        tops.clear();
        tops.extend((0..p.len() as u32).filter(|&i| {
            let i = i as usize;
            cur_offsets[i] + p.size[i] == cur_arena
        }));
        let pick = if rng.below(4) == 0 || tops.is_empty() { &at_peak } else { &tops };
        if pick.is_empty() {
            break;
        }
        let t = pick[rng.below(pick.len())];
        let from = position[t as usize];
        if from == 0 {
            continue;
        }
        let to = if rng.below(4) == 0 { 0 } else { rng.below(from) };
        candidate.clear();
        candidate.extend_from_slice(&cur_order);
        candidate[to..=from].rotate_right(1);
        // Everything before `to` keeps its place.
        offsets.clear();
        offsets.extend_from_slice(&cur_offsets);
        let a = place_suffix(p, &candidate, to, placement, &mut offsets);
        if a <= cur_arena {
            std::mem::swap(&mut cur_order, &mut candidate);
            std::mem::swap(&mut cur_offsets, &mut offsets);
            cur_arena = a;
            if a < arena && best.as_ref().is_none_or(|(b, _)| a < *b) {
                best = Some((a, cur_offsets.clone()));
            }
        }
    }
    best
}
