//! # aegis-memory — layer 3 of AegisRT: memory orchestration
//!
//! Tensor lifetime analysis, static arena plans and the arithmetic of cross-model sharing.
//!
//! - [`graph`]: a model's operator sequence as an engine reports it ([`OpSequence`]).
//! - [`lifetime`]: [`LifetimeAnalyzer`] turns it into [`TensorLifetime`]s.
//! - [`lifetime_file`]: the same from a JSON lifetime file ([`LifetimeFile`]), strictly
//!   validated.
//! - [`planner`]: [`MemoryPlanner`] lays out one arena ([`ArenaPlan`]): a portfolio of greedy
//!   layouts (TFLite's greedy-by-size among them), a local search and a branch-and-bound
//!   search, always with the gap to the lower bound.
//! - [`validate`]: [`check_layout`], an independent checker of any layout.
//! - [`sharing`]: [`plan_sharing`], what overlapping the arenas of mutually exclusive models
//!   saves.
//! - [`report`]: [`plan_memory_report`], the JSON of `aegisrt plan-memory`.
//!
//! - [`orchestrator`]: [`MemoryOrchestrator`] plans a deployment over its execution contexts
//!   ([`AllocationPlan`]), shares arenas within exclusivity groups, and binds models to memory
//!   from the runtime's device pool ([`MemoryBinding`]).
//! - [`pressure`]: [`PressureHandler`], pressure levels and the explicit, traced policies.
//!
//! Architecture invariant: knows nothing about scheduling policies or specific engines; it is
//! told which models are mutually exclusive and how busy they are.
//!
//! ```
//! use aegis_memory::{LifetimeAnalyzer, MemoryPlanner, Op, OpSequence, PlannerConfig};
//! use aegis_memory::check_layout;
//!
//! // input -> conv -> relu -> output, 1 KiB each.
//! let mut seq = OpSequence::new();
//! let input = seq.add_tensor(1024);
//! let conv = seq.add_tensor(1024);
//! let relu = seq.add_tensor(1024);
//! seq.graph_inputs.push(input);
//! seq.push_op(Op::new([input], [conv]).kind("Conv"));
//! seq.push_op(Op::new([conv], [relu]).kind("Relu"));
//! seq.graph_outputs.push(relu);
//!
//! let lifetimes = LifetimeAnalyzer::new("tiny").analyze(&seq).unwrap();
//! let plan = MemoryPlanner::new(PlannerConfig::default()).plan(&lifetimes).unwrap();
//! assert_eq!(plan.arena_bytes, 2048); // two tensors live at each step
//! assert_eq!(plan.lower_bound_bytes, 2048);
//! assert!(plan.proven_optimal);
//! assert!(check_layout(&lifetimes, &plan.offsets, plan.arena_bytes, 256).is_empty());
//! ```
#![deny(missing_docs)]

mod error;
pub mod graph;
pub mod lifetime;
pub mod lifetime_file;
pub mod orchestrator;
pub mod planner;
pub mod pressure;
pub mod report;
pub mod sharing;
pub mod validate;

pub use error::MemoryError;
pub use graph::{Op, OpSequence, TensorId, TensorInfo};
pub use lifetime::{LifetimeAnalyzer, TensorLifetime};
pub use lifetime_file::{LifetimeFile, Precision};
pub use orchestrator::{
    ActivationSource, AllocationPlan, ArenaSpec, MemoryBinding, MemoryOrchestrator,
    ModelAllocation, OrchestratorOptions, sequence_from_graph,
};
pub use planner::{
    ArenaPlan, DEFAULT_ALIGNMENT, MemoryPlanner, Ordering, Placement, PlannerConfig, Strategy,
    StrategyOutcome, greedy_by_size,
};
pub use pressure::{
    ModelActivity, PressureAction, PressureHandler, PressureLevel, PressurePolicy, PressureReport,
    PressureThresholds,
};
pub use report::{MemoryReport, ModelReport, ReportOptions, ReportTotal, plan_memory_report};
pub use sharing::{
    ExclusivityGroup, ModelMemory, ModelShare, SharingOpportunity, SharingPlan, SharingTotals,
    plan_sharing,
};
pub use validate::{Violation, check_layout};
