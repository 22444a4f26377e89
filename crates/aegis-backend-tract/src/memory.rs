//! What a model loaded into tract needs in memory, as the runtime's [`MemoryRequirements`].
//!
//! Owns the accounting: weights from tract's constants, I/O from the model's input and output
//! tensors, activations from an aegis-memory arena plan of tract's own graph. It must not know
//! how the model was loaded or run.
//!
//! tract allocates its own activation memory: each node output is a heap tensor, freed after
//! its last reader (tract's flush lists), computed in place where tract can reuse an exclusive
//! input. The runtime cannot hand it an arena, so
//! [`MemoryRequirements::external_activations`] is false and the runtime charges
//! `activation_bytes` to the model's budget without sharing it through the pool. The figure is
//! the arena a static plan of the translated graph needs ([`crate::graph`] models tract's
//! views and in-place results); for the example models it is within 0.1% above the heap peak
//! a counting allocator measures during one inference (`tests/heap_peak.rs`).

use crate::graph::TractGraph;
use aegis_context::MemoryRequirements;
use aegis_memory::{
    DEFAULT_ALIGNMENT, LifetimeAnalyzer, MemoryPlanner, PlannerConfig, sequence_from_graph,
};

/// The arena plan of tract's graph, in figures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ActivationPlan {
    /// Bytes of the planned arena (offsets aligned to [`DEFAULT_ALIGNMENT`]).
    pub arena_bytes: u64,
    /// The largest sum of simultaneously live tensors, each rounded up to the alignment (no
    /// aligned layout can use less).
    pub lower_bound_bytes: u64,
    /// Sum of every tensor's size (what allocating each buffer once, never reusing, would
    /// take).
    pub naive_bytes: u64,
}

/// Plans the activations of `graph` with aegis-memory (`None` for a graph without ops).
///
/// # Errors
/// The analyser's or planner's message (a malformed graph).
pub(crate) fn plan_activations(graph: &TractGraph) -> Result<Option<ActivationPlan>, String> {
    if graph.graph.ops.is_empty() {
        return Ok(None);
    }
    let seq = sequence_from_graph(&graph.graph);
    let lifetimes = LifetimeAnalyzer::new("tract").analyze(&seq).map_err(|e| e.to_string())?;
    let plan =
        MemoryPlanner::new(PlannerConfig::default()).plan(&lifetimes).map_err(|e| e.to_string())?;
    Ok(Some(ActivationPlan {
        arena_bytes: plan.arena_bytes,
        lower_bound_bytes: plan.lower_bound_bytes,
        naive_bytes: lifetimes.iter().map(|l| l.size).sum(),
    }))
}

/// The requirements reported to the runtime.
pub(crate) fn requirements(
    weights_bytes: u64,
    io_bytes: u64,
    activations: Option<ActivationPlan>,
) -> MemoryRequirements {
    MemoryRequirements {
        weights_bytes,
        activation_bytes: activations.map_or(0, |a| a.arena_bytes),
        io_bytes,
        alignment: DEFAULT_ALIGNMENT,
        external_activations: false,
    }
}
