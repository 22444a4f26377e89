//! Branch and bound over placement orders, for an arena below the best greedy one.
//!
//! Owns [`branch_and_bound`]. It must not know the greedy strategies.
//!
//! The search is exact given enough nodes. It enumerates *canonical* layouts: tensors are
//! placed in nondecreasing offset order, each directly on top of the already placed tensors
//! whose lifetimes overlap its own (offset = the highest end among them, 0 if none); equal
//! offsets go in index order. Every layout can be pushed down until each tensor rests on 0 or
//! on a tensor live at the same time; sorting that layout by offset and placing in that order
//! by the rule above rebuilds it exactly (the tensors below a tensor are the ones with a
//! smaller offset, and the one it rests on ends exactly at its offset). So some canonical
//! layout is optimal, and a search that exhausts the canonical layouts under a cap proves
//! that no layout fits under that cap.
//!
//! Pruning, with `cap` the largest arena still of interest:
//! - A tensor goes only where it ends at or below `cap`.
//! - At every op step, the tensors still to place that are live there will be stacked at or
//!   above both that step's current top and the last offset used, so
//!   `max(top, last offset) + remaining bytes` must stay within `cap`.
//! - A tensor that can no longer be placed (its offset would be below the last offset used and
//!   no tensor that could lift it is left) ends the branch.
//! - Tensors with identical lifetime and size are interchangeable: they go in index order.
//!
//! The search first asks for a layout at the lower bound (the tightest pruning, and optimal
//! if found), then minimises below the incumbent. Both stop when the node budget or the
//! deadline is spent.

use super::problem::Problem;
use std::time::Instant;

/// What the search found.
pub(crate) struct SearchResult {
    /// The best layout found below the incumbent: arena and offsets per index.
    pub(crate) best: Option<(u64, Vec<u64>)>,
    /// The search finished: the returned layout (or the incumbent, if none) is optimal.
    pub(crate) exhausted: bool,
}

const UNPLACED: u64 = u64::MAX;

/// How one DFS run ended.
enum Outcome {
    /// Every canonical layout under the cap was visited.
    Exhausted,
    /// A layout at the lower bound was found (nothing better exists).
    AtLowerBound,
    /// The node budget or the deadline ran out.
    OutOfBudget,
}

/// One depth of the DFS: the candidates at that depth and which one is placed.
struct Frame {
    candidates: Vec<u32>,
    next: usize,
    /// Trail length before this depth's placement.
    mark: usize,
    placed_here: Option<usize>,
}

struct Dfs<'a> {
    p: &'a Problem,
    /// Only layouts with an arena at or below this are of interest.
    cap: u64,
    offsets: Vec<u64>,
    /// Highest end among the placed overlapping tensors, per tensor.
    floor: Vec<u64>,
    /// Overlapping tensors not yet placed, per tensor.
    open_neighbors: Vec<u32>,
    /// Highest end among the placed tensors live there, per point.
    top: Vec<u64>,
    /// Bytes of the tensors not yet placed that are live there, per point.
    remaining: Vec<u64>,
    /// Previous tensor with the same lifetime and size, if any.
    twin_before: Vec<Option<u32>>,
    /// Undo log: (kind, index, old value).
    trail: Vec<(u8, u32, u64)>,
    nodes: u64,
    node_limit: u64,
    deadline: Option<Instant>,
    best: Option<(u64, Vec<u64>)>,
}

const T_FLOOR: u8 = 0;
const T_TOP: u8 = 1;

impl<'a> Dfs<'a> {
    fn new(p: &'a Problem, cap: u64, node_limit: u64, deadline: Option<Instant>) -> Self {
        let n = p.len();
        let mut remaining = vec![0u64; p.num_points];
        for i in 0..n {
            for pt in p.start[i]..=p.end[i] {
                remaining[pt as usize] += p.size[i];
            }
        }
        let mut twin_before = vec![None; n];
        let mut by_shape: Vec<u32> = (0..n as u32).collect();
        by_shape.sort_by_key(|&i| {
            let i = i as usize;
            (p.start[i], p.end[i], p.first[i], p.last[i], p.size[i], i)
        });
        for w in by_shape.windows(2) {
            let (a, b) = (w[0] as usize, w[1] as usize);
            if (p.first[a], p.last[a], p.size[a]) == (p.first[b], p.last[b], p.size[b]) {
                twin_before[b] = Some(w[0]);
            }
        }
        Dfs {
            p,
            cap,
            offsets: vec![UNPLACED; n],
            floor: vec![0; n],
            open_neighbors: p.neighbors.iter().map(|v| v.len() as u32).collect(),
            top: vec![0; p.num_points],
            remaining,
            twin_before,
            trail: Vec::new(),
            nodes: 0,
            node_limit,
            deadline,
            best: None,
        }
    }

    fn place(&mut self, i: usize) {
        let p = self.p;
        let offset = self.floor[i];
        let end = offset + p.size[i];
        self.offsets[i] = offset;
        for &j in &p.neighbors[i] {
            let j = j as usize;
            self.open_neighbors[j] -= 1;
            if self.offsets[j] == UNPLACED && self.floor[j] < end {
                self.trail.push((T_FLOOR, j as u32, self.floor[j]));
                self.floor[j] = end;
            }
        }
        for pt in p.start[i]..=p.end[i] {
            let pt = pt as usize;
            self.remaining[pt] -= p.size[i];
            self.trail.push((T_TOP, pt as u32, self.top[pt]));
            self.top[pt] = end;
        }
    }

    fn unplace(&mut self, i: usize, mark: usize) {
        let p = self.p;
        while self.trail.len() > mark {
            let Some((kind, k, old)) = self.trail.pop() else { break };
            if kind == T_FLOOR {
                self.floor[k as usize] = old;
            } else {
                self.top[k as usize] = old;
            }
        }
        for &j in &p.neighbors[i] {
            self.open_neighbors[j as usize] += 1;
        }
        for pt in p.start[i]..=p.end[i] {
            self.remaining[pt as usize] += p.size[i];
        }
        self.offsets[i] = UNPLACED;
    }

    /// Whether the per-step bound allows a layout within the cap.
    fn bound_ok(&self, last_offset: u64) -> bool {
        self.top
            .iter()
            .zip(&self.remaining)
            .all(|(&t, &r)| r == 0 || t.max(last_offset) + r <= self.cap)
    }

    /// Undoes every placement still on `stack`, leaving the state empty.
    fn unwind(&mut self, stack: &mut Vec<Frame>) {
        while let Some(f) = stack.pop() {
            if let Some(i) = f.placed_here {
                self.unplace(i, f.mark);
            }
        }
    }

    /// Depth-first search from the empty layout (iterative: one frame per placed tensor).
    fn run(&mut self) -> Outcome {
        let p = self.p;
        let mut stack: Vec<Frame> = Vec::new();
        let mut placed = 0usize;
        // The last placement: (offset, index); the empty layout acts as (0, 0).
        let mut last = (0u64, 0usize);
        let mut expand = true;
        loop {
            if expand {
                expand = false;
                self.nodes += 1;
                if self.nodes > self.node_limit
                    || (self.nodes.is_multiple_of(256)
                        && self.deadline.is_some_and(|d| Instant::now() >= d))
                {
                    self.unwind(&mut stack);
                    return Outcome::OutOfBudget;
                }
                if placed == p.len() {
                    let arena = p.arena_of(&self.offsets);
                    if self.best.as_ref().is_none_or(|(a, _)| arena < *a) {
                        self.best = Some((arena, self.offsets.clone()));
                    }
                    if arena <= p.lower_bound {
                        self.unwind(&mut stack);
                        return Outcome::AtLowerBound;
                    }
                    // Look for something strictly smaller from here on.
                    self.cap = arena - 1;
                } else {
                    let candidates =
                        if self.bound_ok(last.0) { self.candidates(last) } else { Vec::new() };
                    stack.push(Frame {
                        candidates,
                        next: 0,
                        mark: self.trail.len(),
                        placed_here: None,
                    });
                }
            }
            // Take back the top frame's current choice and move to its next candidate.
            let Some(f) = stack.last_mut() else { return Outcome::Exhausted };
            if let Some(i) = f.placed_here.take() {
                let mark = f.mark;
                self.unplace(i, mark);
                placed -= 1;
            }
            let Some(f) = stack.last_mut() else { return Outcome::Exhausted };
            let mut chosen = None;
            while f.next < f.candidates.len() {
                let i = f.candidates[f.next] as usize;
                f.next += 1;
                // The cap may have dropped since the candidates were listed.
                if self.floor[i] + p.size[i] <= self.cap {
                    chosen = Some(i);
                    break;
                }
            }
            match chosen {
                Some(i) => {
                    f.placed_here = Some(i);
                    last = (self.floor[i], i);
                    self.place(i);
                    placed += 1;
                    expand = true;
                }
                None => {
                    stack.pop();
                }
            }
        }
    }

    /// The tensors that may go next, most promising first; empty when the branch is dead.
    fn candidates(&self, last: (u64, usize)) -> Vec<u32> {
        let p = self.p;
        let (last_offset, last_index) = last;
        let mut out = Vec::new();
        for i in 0..p.len() {
            if self.offsets[i] != UNPLACED {
                continue;
            }
            let floor = self.floor[i];
            if floor.max(last_offset) + p.size[i] > self.cap {
                return Vec::new(); // it can never be placed under the cap
            }
            if floor < last_offset || (floor == last_offset && i < last_index) {
                if self.open_neighbors[i] == 0 {
                    return Vec::new(); // nothing left can lift it to a legal offset
                }
                continue;
            }
            if let Some(t) = self.twin_before[i]
                && self.offsets[t as usize] == UNPLACED
            {
                continue;
            }
            out.push(i as u32);
        }
        out.sort_by_key(|&i| {
            let i = i as usize;
            (
                self.floor[i],
                std::cmp::Reverse(p.size[i]),
                std::cmp::Reverse(p.last[i] - p.first[i]),
                i,
            )
        });
        out
    }
}

/// Searches for a layout smaller than `incumbent` (the best arena known). `nodes` bounds the
/// work; `deadline` bounds the time.
pub(crate) fn branch_and_bound(
    p: &Problem,
    incumbent: u64,
    nodes: u64,
    deadline: Option<Instant>,
) -> SearchResult {
    if p.len() == 0 || incumbent <= p.lower_bound {
        return SearchResult { best: None, exhausted: true };
    }
    // Phase 1: is the lower bound reachable? Half the budget.
    let mut dfs = Dfs::new(p, p.lower_bound, nodes / 2, deadline);
    let first = dfs.run();
    if let Outcome::AtLowerBound = first {
        return SearchResult { best: dfs.best, exhausted: true };
    }
    // Phase 2: minimise below the incumbent with what is left. (When phase 1 was exhausted
    // the lower bound is unreachable; phase 2 still has to find the optimum above it.)
    let left = nodes.saturating_sub(dfs.nodes);
    let mut dfs = Dfs::new(p, incumbent - 1, left, deadline);
    let second = dfs.run();
    let exhausted = matches!(second, Outcome::Exhausted | Outcome::AtLowerBound);
    SearchResult { best: dfs.best, exhausted }
}
