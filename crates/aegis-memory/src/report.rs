//! The `aegisrt plan-memory` report: lifetime files in, arena plans and totals out.
//!
//! Owns [`ReportOptions`], [`MemoryReport`] (with [`ModelReport`] and [`ReportTotal`]) and
//! [`plan_memory_report`], which the CLI calls for
//! `aegisrt plan-memory FILE... [--align BYTES] [--fp16] [--shared] --json`. This module
//! must not know about argument parsing or printing.
//!
//! The JSON is exactly
//! `{"models":[{"model","arena_bytes","lower_bound_bytes","offsets":{"<id>":offset,...},
//! "planning_ms"}],"total":{"isolated_bytes","shared_bytes","weights_bytes"}}`:
//! - `models` in the order of the files; `offsets` keyed by tensor id (as a string, in numeric
//!   order); `planning_ms` is wall time (the only field that varies between runs).
//! - `total.isolated_bytes`: the sum of the activation arenas. `total.shared_bytes`: the
//!   activation bytes when arenas are shared. With `--shared` all given models form one
//!   exclusivity group (they never run at the same time), so it is the largest arena; without
//!   it nothing is shared and `shared_bytes == isolated_bytes`. `total.weights_bytes`: the sum
//!   of the files' `weights_bytes` (weights are never shared).

use crate::error::MemoryError;
use crate::graph::TensorId;
use crate::lifetime_file::{LifetimeFile, Precision};
use crate::planner::{ArenaPlan, DEFAULT_ALIGNMENT, MemoryPlanner, PlannerConfig};
use crate::sharing::{ExclusivityGroup, ModelMemory, SharingPlan, plan_sharing};
use aegis_trace::ModelId;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// The options of `plan-memory`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportOptions {
    /// `--align BYTES` (a power of two; 1 = unaligned). Default 256.
    pub align: u64,
    /// `--fp16`: halve every float tensor (see [`Precision::Fp16`]).
    pub fp16: bool,
    /// `--shared`: all given models form one exclusivity group.
    pub shared: bool,
}

impl Default for ReportOptions {
    fn default() -> Self {
        ReportOptions { align: DEFAULT_ALIGNMENT, fp16: false, shared: false }
    }
}

/// One model's entry of the report.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelReport {
    /// The model (from the file's `model` field).
    pub model: ModelId,
    /// Bytes of its arena.
    pub arena_bytes: u64,
    /// The lower bound on any arena for it.
    pub lower_bound_bytes: u64,
    /// Offset per tensor id.
    pub offsets: BTreeMap<TensorId, u64>,
    /// Wall time spent planning it, in milliseconds.
    pub planning_ms: f64,
    /// The whole plan (strategy, optimality, every strategy's result); not in the JSON.
    #[serde(skip)]
    pub plan: ArenaPlan,
}

/// The totals of the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ReportTotal {
    /// Sum of the activation arenas.
    pub isolated_bytes: u64,
    /// Activation bytes with sharing (equal to `isolated_bytes` without `--shared`).
    pub shared_bytes: u64,
    /// Sum of the weights.
    pub weights_bytes: u64,
}

/// The result of [`plan_memory_report`]; serialises to the documented JSON.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MemoryReport {
    /// Per file, in order.
    pub models: Vec<ModelReport>,
    /// Totals.
    pub total: ReportTotal,
    /// The full sharing arithmetic (per model, opportunities); not in the JSON.
    #[serde(skip)]
    pub sharing: SharingPlan,
}

impl MemoryReport {
    /// The report as a JSON value.
    pub fn to_json(&self) -> serde_json::Value {
        // Serialising plain integers, strings and finite floats cannot fail; a non-finite
        // float would become null rather than an error.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

/// Reads every lifetime file, plans each model's arena and computes the totals.
///
/// Errors: no files ([`MemoryError::NoInputs`]); a file unreadable or malformed
/// ([`MemoryError::Io`], [`MemoryError::LifetimeFile`], naming the file and field); two files
/// with the same model ([`MemoryError::DuplicateModel`], naming both files); a bad alignment
/// ([`MemoryError::InvalidAlignment`]).
pub fn plan_memory_report(
    paths: &[PathBuf],
    opts: &ReportOptions,
) -> Result<MemoryReport, MemoryError> {
    if paths.is_empty() {
        return Err(MemoryError::NoInputs);
    }
    let planner = MemoryPlanner::new(PlannerConfig::with_alignment(opts.align));
    let precision = if opts.fp16 { Precision::Fp16 } else { Precision::Fp32 };
    let mut seen: HashMap<ModelId, &PathBuf> = HashMap::new();
    let mut models = Vec::with_capacity(paths.len());
    let mut memory = Vec::with_capacity(paths.len());
    for path in paths {
        let file = LifetimeFile::load(path)?;
        if let Some(prev) = seen.insert(file.model.clone(), path) {
            return Err(MemoryError::DuplicateModel {
                model: file.model.clone(),
                detail: format!(" (in {} and {})", prev.display(), path.display()),
            });
        }
        let plan = planner.plan(&file.lifetimes(precision))?;
        memory.push(ModelMemory {
            model: file.model.clone(),
            weights_bytes: file.weights_bytes,
            activation_arena_bytes: plan.arena_bytes,
        });
        models.push(ModelReport {
            model: file.model,
            arena_bytes: plan.arena_bytes,
            lower_bound_bytes: plan.lower_bound_bytes,
            offsets: plan.offsets.clone(),
            planning_ms: plan.planning_time.as_millis_f64(),
            plan,
        });
    }
    let groups = if opts.shared {
        vec![ExclusivityGroup::new("all", memory.iter().map(|m| m.model.clone()))]
    } else {
        Vec::new()
    };
    let sharing = plan_sharing(&memory, &groups)?;
    let total = ReportTotal {
        isolated_bytes: sharing.total.activations_isolated_bytes,
        shared_bytes: sharing.total.activations_shared_bytes,
        weights_bytes: sharing.total.weights_bytes,
    };
    Ok(MemoryReport { models, total, sharing })
}
