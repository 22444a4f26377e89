//! Static arena plans: one offset per tensor inside one arena.
//!
//! Owns [`MemoryPlanner`], its [`PlannerConfig`], the resulting [`ArenaPlan`] and the
//! [`Strategy`] that produced it. The planner runs a portfolio of greedy layouts (every
//! [`Ordering`] with every [`Placement`], TFLite's greedy-by-size first), keeps the best, and
//! when that is above the lower bound improves it by a seeded local search over placement
//! orders and by a branch-and-bound search, both under a budget. It stops as soon as a layout
//! reaches the lower bound. This module must not know about devices, models' execution or
//! other models' arenas.
//!
//! Alignment: every tensor is given its size rounded up to the alignment, so every offset
//! (a sum of such sizes) is a multiple of it; `arena_bytes` is the highest aligned end and
//! `lower_bound_bytes` the maximum over op steps of the aligned live bytes. With alignment 1
//! both are the plain figures of the lifetime files.

mod greedy;
mod local;
mod problem;
mod search;

pub use greedy::{Ordering, Placement};

use crate::error::MemoryError;
use crate::graph::TensorId;
use crate::lifetime::TensorLifetime;
use aegis_trace::Duration;
use problem::Problem;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Instant;

/// Default alignment of tensor offsets, in bytes (device allocations).
pub const DEFAULT_ALIGNMENT: u64 = 256;

/// How a layout was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
#[non_exhaustive]
pub enum Strategy {
    /// Nothing to place (no tensor of non-zero size).
    Empty,
    /// A greedy layout.
    Greedy {
        /// The placement order.
        ordering: Ordering,
        /// The placement rule.
        placement: Placement,
    },
    /// The local search over placement orders improved the best greedy layout.
    LocalSearch,
    /// The branch-and-bound search found it.
    BranchAndBound,
}

impl Strategy {
    /// TFLite's greedy-by-size.
    pub const GREEDY_BY_SIZE: Strategy =
        Strategy::Greedy { ordering: Ordering::SizeDesc, placement: Placement::BestFit };
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Strategy::Empty => f.write_str("empty"),
            Strategy::Greedy { ordering, placement } => write!(f, "{ordering}/{placement}"),
            Strategy::LocalSearch => f.write_str("local-search"),
            Strategy::BranchAndBound => f.write_str("branch-and-bound"),
        }
    }
}

/// Tuning of [`MemoryPlanner`]. The defaults keep planning of a 2,000-tensor graph well under
/// 100 ms (see `docs/benchmarks/memory.md`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannerConfig {
    /// Offset alignment in bytes: a power of two; 1 means unaligned.
    pub alignment: u64,
    /// Work budget of the local search, in tensor placements: it runs `budget / tensors`
    /// steps (at least one), each re-placing at most every tensor (about half on average).
    /// 0 disables it.
    pub local_search_budget: u64,
    /// Seed of the local search's pseudo-random moves (plans are reproducible per seed).
    pub seed: u64,
    /// Work budget of the branch-and-bound search: each node costs the number of tensors
    /// plus the number of distinct op steps, so it visits `budget / (tensors + steps)` nodes
    /// (at least one). Small graphs get many nodes (an exhaustive search, hence a proof),
    /// large ones few. 0 disables it.
    pub search_budget: u64,
    /// Wall-clock cap on planning, counted from the start of [`MemoryPlanner::plan`]: the
    /// local search stops at three quarters of it, the branch-and-bound search at all of it (the greedy
    /// portfolio always completes). The budgets above are deterministic and, with the
    /// defaults, bind first on the development machine (see `docs/benchmarks/memory.md`);
    /// this cap only guards the admission path against a slower machine, and a plan cut
    /// short by it may differ between runs.
    pub time_limit: Duration,
}

impl Default for PlannerConfig {
    fn default() -> Self {
        PlannerConfig {
            alignment: DEFAULT_ALIGNMENT,
            local_search_budget: 100_000,
            seed: 0x5eed_a1e9,
            search_budget: 3_000_000,
            time_limit: Duration::from_millis(50),
        }
    }
}

impl PlannerConfig {
    /// The defaults with another alignment.
    pub fn with_alignment(alignment: u64) -> Self {
        PlannerConfig { alignment, ..Self::default() }
    }
}

/// The arena size one strategy reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StrategyOutcome {
    /// The strategy.
    pub strategy: Strategy,
    /// The arena it needed, in bytes.
    pub arena_bytes: u64,
}

/// A static layout of one arena.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArenaPlan {
    /// Offset of every tensor (tensors of size zero get 0).
    pub offsets: BTreeMap<TensorId, u64>,
    /// Bytes the arena needs: the highest aligned end of a tensor.
    pub arena_bytes: u64,
    /// The maximum over op steps of the aligned bytes live at that step; no layout can be
    /// smaller.
    pub lower_bound_bytes: u64,
    /// The alignment the plan honours.
    pub alignment: u64,
    /// The strategy of the winning layout.
    pub strategy: Strategy,
    /// Whether no smaller arena exists: reached the lower bound, or the exhaustive search
    /// finished without finding a smaller one.
    pub proven_optimal: bool,
    /// The arena of every layout produced, in the order the strategies ran: each greedy
    /// strategy tried, then the local search and the branch-and-bound search when they found
    /// a layout smaller than the one they started from.
    pub outcomes: Vec<StrategyOutcome>,
    /// Wall time spent planning.
    pub planning_time: Duration,
}

impl ArenaPlan {
    /// Bytes above the lower bound.
    pub fn gap_bytes(&self) -> u64 {
        self.arena_bytes - self.lower_bound_bytes
    }

    /// `arena_bytes / lower_bound_bytes` (1.0 at the bound; 1.0 for an empty plan), for
    /// display.
    pub fn ratio_to_lower_bound(&self) -> f64 {
        if self.lower_bound_bytes == 0 {
            1.0
        } else {
            self.arena_bytes as f64 / self.lower_bound_bytes as f64
        }
    }

    /// The arena the given strategy reached, if it ran.
    pub fn outcome_of(&self, strategy: Strategy) -> Option<u64> {
        self.outcomes.iter().find(|o| o.strategy == strategy).map(|o| o.arena_bytes)
    }
}

/// Plans static arenas. See the module documentation.
#[derive(Clone, Debug, Default)]
pub struct MemoryPlanner {
    config: PlannerConfig,
}

impl MemoryPlanner {
    /// A planner with `config`.
    pub fn new(config: PlannerConfig) -> Self {
        MemoryPlanner { config }
    }

    /// The configuration.
    pub fn config(&self) -> &PlannerConfig {
        &self.config
    }

    /// Plans one arena for `lifetimes` (ids must be unique; lifetimes that overlap must not
    /// share bytes).
    ///
    /// Errors: [`MemoryError::InvalidAlignment`], [`MemoryError::DuplicateTensor`],
    /// [`MemoryError::InvalidInterval`], [`MemoryError::Overflow`].
    pub fn plan(&self, lifetimes: &[TensorLifetime]) -> Result<ArenaPlan, MemoryError> {
        let started = Instant::now();
        let p = Problem::new(lifetimes, self.config.alignment)?;
        let mut outcomes = Vec::new();
        let mut best = portfolio(&p, &mut outcomes);
        if let Some(b) = best.as_mut()
            && b.arena > p.lower_bound
        {
            self.improve(&p, b, &mut outcomes, started);
        }
        let mut offsets: BTreeMap<TensorId, u64> = p.zero_size.iter().map(|&id| (id, 0)).collect();
        let (arena_bytes, strategy, proven_optimal) = match best {
            None => (0, Strategy::Empty, true),
            Some(b) => {
                offsets.extend(p.ids.iter().copied().zip(b.offsets));
                (b.arena, b.strategy, b.proven || b.arena == p.lower_bound)
            }
        };
        Ok(ArenaPlan {
            offsets,
            arena_bytes,
            lower_bound_bytes: p.lower_bound,
            alignment: self.config.alignment,
            strategy,
            proven_optimal,
            outcomes,
            planning_time: started.elapsed().into(),
        })
    }

    /// Runs the local search, then the branch-and-bound search, on a layout above the bound.
    fn improve(
        &self,
        p: &Problem,
        b: &mut Best,
        outcomes: &mut Vec<StrategyOutcome>,
        started: Instant,
    ) {
        // The local search may use the first three quarters of the time limit, the
        // exhaustive search what is left of it. (`None`: a limit too large to be reached.)
        let limit = std::time::Duration::from(self.config.time_limit);
        let local_deadline = started.checked_add(limit / 4 * 3);
        let deadline = started.checked_add(limit);
        if self.config.local_search_budget > 0 {
            let steps = (self.config.local_search_budget / p.len() as u64).max(1);
            let seed = self.config.seed;
            let found =
                local::improve(p, &b.order, b.placement, b.arena, steps, seed, local_deadline);
            if let Some((arena, offsets)) = found {
                outcomes
                    .push(StrategyOutcome { strategy: Strategy::LocalSearch, arena_bytes: arena });
                b.arena = arena;
                b.offsets = offsets;
                b.strategy = Strategy::LocalSearch;
            }
        }
        if b.arena > p.lower_bound && self.config.search_budget > 0 {
            let per_node = (p.len() + p.num_points) as u64;
            let nodes = (self.config.search_budget / per_node).max(1);
            let r = search::branch_and_bound(p, b.arena, nodes, deadline);
            if let Some((arena, offsets)) = r.best {
                outcomes.push(StrategyOutcome {
                    strategy: Strategy::BranchAndBound,
                    arena_bytes: arena,
                });
                b.arena = arena;
                b.offsets = offsets;
                b.strategy = Strategy::BranchAndBound;
            }
            b.proven = r.exhausted;
        }
    }
}

/// Runs every greedy strategy (TFLite's first) until one reaches the lower bound; records each
/// outcome and returns the best layout (the first of equals), or `None` with nothing to place.
fn portfolio(p: &Problem, outcomes: &mut Vec<StrategyOutcome>) -> Option<Best> {
    let mut best: Option<Best> = None;
    if p.len() == 0 {
        return None;
    }
    let mut offsets = Vec::with_capacity(p.len());
    for ordering in Ordering::ALL {
        let order = greedy::order(p, ordering);
        for placement in Placement::ALL {
            let arena = greedy::place(p, &order, placement, &mut offsets);
            let strategy = Strategy::Greedy { ordering, placement };
            outcomes.push(StrategyOutcome { strategy, arena_bytes: arena });
            if best.as_ref().is_none_or(|b| arena < b.arena) {
                best = Some(Best {
                    arena,
                    offsets: offsets.clone(),
                    strategy,
                    order: order.clone(),
                    placement,
                    proven: false,
                });
            }
            if arena == p.lower_bound {
                return best;
            }
        }
    }
    best
}

/// The best layout so far, with the greedy order and rule it came from.
struct Best {
    arena: u64,
    offsets: Vec<u64>,
    strategy: Strategy,
    order: Vec<u32>,
    placement: Placement,
    proven: bool,
}

/// TFLite's greedy-by-size layout alone (size-descending, ties by id, best-fit gap), for
/// comparison with the reference layouts. Returns the offsets and the arena size.
///
/// Errors: as [`MemoryPlanner::plan`].
pub fn greedy_by_size(
    lifetimes: &[TensorLifetime],
    alignment: u64,
) -> Result<(BTreeMap<TensorId, u64>, u64), MemoryError> {
    let p = Problem::new(lifetimes, alignment)?;
    let mut offsets = Vec::new();
    let arena =
        greedy::place(&p, &greedy::order(&p, Ordering::SizeDesc), Placement::BestFit, &mut offsets);
    let mut map: BTreeMap<TensorId, u64> = p.zero_size.iter().map(|&id| (id, 0)).collect();
    map.extend(p.ids.iter().copied().zip(offsets));
    Ok((map, arena))
}
