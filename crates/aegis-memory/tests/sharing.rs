//! Cross-model sharing arithmetic and its errors.

use aegis_memory::{ExclusivityGroup, MemoryError, ModelMemory, plan_sharing};
use aegis_trace::ModelId;

fn m(name: &str, weights: u64, arena: u64) -> ModelMemory {
    ModelMemory { model: ModelId::new(name), weights_bytes: weights, activation_arena_bytes: arena }
}

fn ids(names: &[&str]) -> Vec<ModelId> {
    names.iter().map(ModelId::new).collect()
}

#[test]
fn a_group_needs_its_largest_arena_and_others_add_up() {
    let models = [m("det", 100, 40), m("seg", 200, 70), m("cls", 50, 10), m("depth", 10, 30)];
    let groups = [ExclusivityGroup::new("lane0", ids(&["det", "seg", "cls"]))];
    let plan = plan_sharing(&models, &groups).unwrap();
    let t = plan.total;
    assert_eq!(t.weights_bytes, 360);
    assert_eq!(t.activations_isolated_bytes, 150);
    assert_eq!(t.activations_shared_bytes, 70 + 30);
    assert_eq!(t.saved_bytes, 50);
    assert_eq!(t.peak_bytes, 360 + 100);
    assert_eq!(plan.opportunities.len(), 1);
    let o = &plan.opportunities[0];
    assert_eq!(
        (o.group.as_str(), o.isolated_bytes, o.shared_bytes, o.saved_bytes),
        ("lane0", 120, 70, 50)
    );
    assert_eq!(o.members, ids(&["det", "seg", "cls"]));
    // Per model: the largest member carries the group arena.
    let seg = &plan.models[1];
    assert_eq!((seg.activations_shared_bytes, seg.arena_bytes), (70, 70));
    let det = &plan.models[0];
    assert_eq!((det.activations_shared_bytes, det.arena_bytes, det.peak_bytes), (0, 70, 140));
    assert_eq!(det.group.as_deref(), Some("lane0"));
    let depth = &plan.models[3];
    assert_eq!(
        (depth.group.as_deref(), depth.activations_shared_bytes, depth.arena_bytes),
        (None, 30, 30)
    );
    let sum: u64 = plan.models.iter().map(|x| x.activations_shared_bytes).sum();
    assert_eq!(sum, t.activations_shared_bytes);
}

#[test]
fn without_groups_nothing_is_saved_and_singletons_are_not_opportunities() {
    let models = [m("a", 1, 10), m("b", 2, 20)];
    let plan = plan_sharing(&models, &[]).unwrap();
    assert_eq!(plan.total.activations_shared_bytes, plan.total.activations_isolated_bytes);
    assert_eq!(plan.total.saved_bytes, 0);
    let plan = plan_sharing(&models, &[ExclusivityGroup::new("solo", ids(&["a"]))]).unwrap();
    assert!(plan.opportunities.is_empty());
    assert_eq!(plan.total.saved_bytes, 0);
}

#[test]
fn ties_go_to_the_first_member_and_two_groups_are_independent() {
    let models = [m("a", 0, 50), m("b", 0, 50), m("c", 0, 5), m("d", 0, 7)];
    let groups = [
        ExclusivityGroup::new("g1", ids(&["b", "a"])),
        ExclusivityGroup::new("g2", ids(&["c", "d"])),
    ];
    let plan = plan_sharing(&models, &groups).unwrap();
    assert_eq!(plan.models[0].activations_shared_bytes, 50); // "a" comes first in the input
    assert_eq!(plan.models[1].activations_shared_bytes, 0);
    assert_eq!(plan.total.activations_shared_bytes, 57);
    assert_eq!(plan.opportunities.iter().map(|o| o.saved_bytes).collect::<Vec<_>>(), vec![50, 5]);
}

#[test]
fn malformed_inputs_are_typed_errors() {
    let models = [m("a", 0, 1), m("b", 0, 2)];
    let err = plan_sharing(&[m("a", 0, 1), m("a", 0, 2)], &[]).unwrap_err();
    assert!(
        matches!(&err, MemoryError::DuplicateModel { model, .. } if model.as_str() == "a"),
        "{err}"
    );
    let err = plan_sharing(&models, &[ExclusivityGroup::new("g", ids(&["a", "zz"]))]).unwrap_err();
    assert!(
        matches!(&err, MemoryError::UnknownModel { model, .. } if model.as_str() == "zz"),
        "{err}"
    );
    assert!(err.to_string().contains("group `g`"));
    let groups =
        [ExclusivityGroup::new("g1", ids(&["a"])), ExclusivityGroup::new("g2", ids(&["b", "a"]))];
    let err = plan_sharing(&models, &groups).unwrap_err();
    assert!(
        matches!(&err, MemoryError::ModelInTwoGroups { first, second, .. } if first == "g1" && second == "g2"),
        "{err}"
    );
    let err = plan_sharing(&models, &[ExclusivityGroup::new("g", ids(&["a", "a"]))]).unwrap_err();
    assert!(
        matches!(&err, MemoryError::InvalidGroup { problem, .. } if problem.contains("twice")),
        "{err}"
    );
    let err = plan_sharing(&models, &[ExclusivityGroup::new("g", ids(&[]))]).unwrap_err();
    assert!(
        matches!(&err, MemoryError::InvalidGroup { problem, .. } if problem.contains("no models"))
    );
    let groups = [ExclusivityGroup::new("g", ids(&["a"])), ExclusivityGroup::new("g", ids(&["b"]))];
    let err = plan_sharing(&models, &groups).unwrap_err();
    assert!(
        matches!(&err, MemoryError::InvalidGroup { problem, .. } if problem.contains("another group"))
    );
    let err = plan_sharing(&[m("a", u64::MAX, 1), m("b", 1, 1)], &[]).unwrap_err();
    assert!(matches!(err, MemoryError::Overflow { .. }));
    let err = plan_sharing(&[m("a", u64::MAX, 1)], &[]).unwrap_err();
    assert!(matches!(err, MemoryError::Overflow { .. }));
}
