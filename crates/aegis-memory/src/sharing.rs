//! Cross-model arena sharing: the arithmetic only.
//!
//! Owns [`ModelMemory`], [`ExclusivityGroup`], [`SharingPlan`] (with [`ModelShare`],
//! [`SharingTotals`] and [`SharingOpportunity`]) and [`plan_sharing`]. When a group of models
//! never runs at the same time (for example every model serialised on one GPU lane by a
//! non-preemptive scheduler), their activation arenas can overlap completely: the group needs
//! the largest of its arenas, not their sum. Weights are never shared. This module must not
//! know where exclusivity comes from (the scheduler proves it), nor device memory.
//!
//! Attribution: in a group, the member with the largest arena (the first given, on ties)
//! carries the group's shared arena and the others carry 0, so per-model shared figures add
//! up to the total.

use crate::error::MemoryError;
use aegis_trace::ModelId;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// One model's memory needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelMemory {
    /// The model.
    pub model: ModelId,
    /// Bytes of weights, resident for as long as the model is deployed.
    pub weights_bytes: u64,
    /// Bytes of its planned activation arena.
    pub activation_arena_bytes: u64,
}

/// A set of models that never run at the same time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExclusivityGroup {
    /// A name for reports (for example the GPU lane).
    pub name: String,
    /// The models; each may be in at most one group.
    pub models: Vec<ModelId>,
}

impl ExclusivityGroup {
    /// A group named `name` of `models`.
    pub fn new(name: impl Into<String>, models: impl IntoIterator<Item = ModelId>) -> Self {
        ExclusivityGroup { name: name.into(), models: models.into_iter().collect() }
    }
}

/// One model's figures under the sharing plan.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelShare {
    /// The model.
    pub model: ModelId,
    /// Its exclusivity group, if any.
    pub group: Option<String>,
    /// Bytes of weights.
    pub weights_bytes: u64,
    /// Its own activation arena (what it needs without sharing).
    pub activations_isolated_bytes: u64,
    /// The bytes of shared activation memory attributed to it (see the module docs).
    pub activations_shared_bytes: u64,
    /// The arena it runs in: its group's shared arena, or its own.
    pub arena_bytes: u64,
    /// Bytes resident for it while it runs: weights plus its own arena.
    pub peak_bytes: u64,
}

/// Totals over all models.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingTotals {
    /// Sum of weights.
    pub weights_bytes: u64,
    /// Sum of activation arenas, no sharing.
    pub activations_isolated_bytes: u64,
    /// Activation bytes with sharing: the largest arena per group plus every ungrouped arena.
    pub activations_shared_bytes: u64,
    /// Bytes the deployment holds with sharing: weights plus shared activations.
    pub peak_bytes: u64,
    /// `activations_isolated_bytes - activations_shared_bytes`.
    pub saved_bytes: u64,
}

/// One group whose arenas overlap.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingOpportunity {
    /// The group.
    pub group: String,
    /// Its members, as given.
    pub members: Vec<ModelId>,
    /// Sum of the members' arenas.
    pub isolated_bytes: u64,
    /// The largest member arena: what the group needs.
    pub shared_bytes: u64,
    /// `isolated_bytes - shared_bytes`.
    pub saved_bytes: u64,
}

/// The result of [`plan_sharing`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SharingPlan {
    /// Per model, in input order.
    pub models: Vec<ModelShare>,
    /// Totals.
    pub total: SharingTotals,
    /// Every group of two or more models, in the order given.
    pub opportunities: Vec<SharingOpportunity>,
}

fn add(a: u64, b: u64, what: &str) -> Result<u64, MemoryError> {
    a.checked_add(b).ok_or_else(|| MemoryError::Overflow { what: what.to_string() })
}

/// Computes what sharing arenas within `groups` saves for `models`.
///
/// Errors: a model given twice ([`MemoryError::DuplicateModel`]); a group naming an unknown
/// model ([`MemoryError::UnknownModel`]); a model in two groups
/// ([`MemoryError::ModelInTwoGroups`]); an empty group, a repeated group name or a member
/// listed twice in a group ([`MemoryError::InvalidGroup`]); byte counts overflowing
/// ([`MemoryError::Overflow`]).
pub fn plan_sharing(
    models: &[ModelMemory],
    groups: &[ExclusivityGroup],
) -> Result<SharingPlan, MemoryError> {
    let mut index: HashMap<&ModelId, usize> = HashMap::new();
    for (i, m) in models.iter().enumerate() {
        if index.insert(&m.model, i).is_some() {
            return Err(MemoryError::DuplicateModel {
                model: m.model.clone(),
                detail: String::new(),
            });
        }
    }
    let mut group_of: Vec<Option<usize>> = vec![None; models.len()];
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    let mut names: HashMap<&str, usize> = HashMap::new();
    for (g, group) in groups.iter().enumerate() {
        if names.insert(group.name.as_str(), g).is_some() {
            return Err(MemoryError::InvalidGroup {
                group: group.name.clone(),
                problem: "the name is used by another group; give each group its own name"
                    .to_string(),
            });
        }
        if group.models.is_empty() {
            return Err(MemoryError::InvalidGroup {
                group: group.name.clone(),
                problem: "has no models; list at least one or remove the group".to_string(),
            });
        }
        for m in &group.models {
            let Some(&i) = index.get(m) else {
                return Err(MemoryError::UnknownModel {
                    group: group.name.clone(),
                    model: m.clone(),
                });
            };
            match group_of[i] {
                Some(prev) if prev == g => {
                    return Err(MemoryError::InvalidGroup {
                        group: group.name.clone(),
                        problem: format!("lists model `{m}` twice"),
                    });
                }
                Some(prev) => {
                    return Err(MemoryError::ModelInTwoGroups {
                        model: m.clone(),
                        first: groups[prev].name.clone(),
                        second: group.name.clone(),
                    });
                }
                None => {
                    group_of[i] = Some(g);
                    members[g].push(i);
                }
            }
        }
    }
    // The carrier of each group: its member with the largest arena, first on ties.
    let mut carrier: Vec<Option<usize>> = vec![None; groups.len()];
    for (i, m) in models.iter().enumerate() {
        if let Some(g) = group_of[i] {
            let better = carrier[g]
                .is_none_or(|c| m.activation_arena_bytes > models[c].activation_arena_bytes);
            if better {
                carrier[g] = Some(i);
            }
        }
    }
    let mut total = SharingTotals::default();
    let mut shares = Vec::with_capacity(models.len());
    for (i, m) in models.iter().enumerate() {
        let (group, arena, shared) = match group_of[i] {
            None => (None, m.activation_arena_bytes, m.activation_arena_bytes),
            Some(g) => {
                let c = carrier[g].unwrap_or(i);
                let group_arena = models[c].activation_arena_bytes;
                (Some(groups[g].name.clone()), group_arena, if c == i { group_arena } else { 0 })
            }
        };
        total.weights_bytes = add(total.weights_bytes, m.weights_bytes, "total weights")?;
        total.activations_isolated_bytes = add(
            total.activations_isolated_bytes,
            m.activation_arena_bytes,
            "total isolated activations",
        )?;
        total.activations_shared_bytes =
            add(total.activations_shared_bytes, shared, "total shared activations")?;
        shares.push(ModelShare {
            model: m.model.clone(),
            group,
            weights_bytes: m.weights_bytes,
            activations_isolated_bytes: m.activation_arena_bytes,
            activations_shared_bytes: shared,
            arena_bytes: arena,
            peak_bytes: add(m.weights_bytes, m.activation_arena_bytes, "a model's peak")?,
        });
    }
    total.peak_bytes = add(total.weights_bytes, total.activations_shared_bytes, "total peak")?;
    total.saved_bytes = total.activations_isolated_bytes - total.activations_shared_bytes;
    let mut opportunities = Vec::new();
    for (g, group) in groups.iter().enumerate() {
        if group.models.len() < 2 {
            continue;
        }
        let mut isolated = 0u64;
        for &i in &members[g] {
            isolated = add(isolated, models[i].activation_arena_bytes, "a group's arenas")?;
        }
        let shared = carrier[g].map_or(0, |c| models[c].activation_arena_bytes);
        opportunities.push(SharingOpportunity {
            group: group.name.clone(),
            members: group.models.clone(),
            isolated_bytes: isolated,
            shared_bytes: shared,
            saved_bytes: isolated - shared,
        });
    }
    Ok(SharingPlan { models: shares, total, opportunities })
}
