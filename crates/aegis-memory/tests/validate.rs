//! The independent layout checker finds each kind of violation.

use aegis_memory::{TensorId, TensorLifetime, Violation, check_layout};
use aegis_trace::ModelId;
use std::collections::BTreeMap;

fn lt(id: u32, first: u32, last: u32, size: u64) -> TensorLifetime {
    TensorLifetime { tensor: TensorId(id), first, last, size, owner_model: ModelId::new("m") }
}

fn offs(v: &[(u32, u64)]) -> BTreeMap<TensorId, u64> {
    v.iter().map(|&(i, o)| (TensorId(i), o)).collect()
}

#[test]
fn a_valid_layout_has_no_violations() {
    let l = [lt(0, 0, 1, 256), lt(1, 1, 2, 256), lt(2, 3, 3, 512)];
    // 0 and 2 do not overlap in time, so they may share bytes.
    assert!(check_layout(&l, &offs(&[(0, 0), (1, 256), (2, 0)]), 512, 256).is_empty());
    // Touching ranges do not overlap.
    assert!(check_layout(&l, &offs(&[(0, 0), (1, 256), (2, 512)]), 1024, 1).is_empty());
}

#[test]
fn overlap_in_time_and_memory_is_found() {
    let l = [lt(0, 0, 1, 100), lt(1, 1, 2, 100), lt(2, 3, 3, 100)];
    let v = check_layout(&l, &offs(&[(0, 0), (1, 99), (2, 0)]), 300, 1);
    assert_eq!(v, vec![Violation::Overlap { a: TensorId(0), b: TensorId(1) }]);
    assert!(v[0].to_string().contains("share bytes"));
}

#[test]
fn misalignment_arena_overflow_missing_and_unknown_are_found() {
    let l = [lt(0, 0, 0, 10), lt(1, 1, 1, 10), lt(2, 2, 2, 0)];
    let v = check_layout(&l, &offs(&[(0, 8), (1, 256), (7, 0)]), 260, 256);
    assert!(v.contains(&Violation::UnknownTensor(TensorId(7))));
    assert!(v.contains(&Violation::MissingOffset(TensorId(2))));
    assert!(v.contains(&Violation::Misaligned { tensor: TensorId(0), offset: 8 }));
    assert!(v.contains(&Violation::OutsideArena { tensor: TensorId(1), end: 266 }));
    assert_eq!(v.len(), 4);
    for x in &v {
        assert!(!x.to_string().is_empty());
    }
}

#[test]
fn duplicate_lifetimes_and_zero_size_tensors() {
    let l = [lt(0, 0, 5, 10), lt(0, 0, 5, 10), lt(1, 0, 5, 0)];
    let v = check_layout(&l, &offs(&[(0, 0), (1, 0)]), 10, 1);
    assert_eq!(v, vec![Violation::DuplicateLifetime(TensorId(0))]);
    assert!(v[0].to_string().contains("two lifetimes"));
    // Alignment 0 or 1 means no requirement.
    assert!(check_layout(&[lt(0, 0, 0, 3)], &offs(&[(0, 5)]), 8, 0).is_empty());
}

#[test]
fn ends_are_computed_without_overflow() {
    let l = [lt(0, 0, 0, u64::MAX)];
    let v = check_layout(&l, &offs(&[(0, 2)]), u64::MAX, 1);
    assert_eq!(
        v,
        vec![Violation::OutsideArena { tensor: TensorId(0), end: u128::from(u64::MAX) + 2 }]
    );
}
