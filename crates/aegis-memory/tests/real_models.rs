//! The six real models of `tests/data/lifetimes`: our greedy-by-size reproduces the reference
//! layouts byte for byte, our lower bound matches the files', and the planner's arena never
//! exceeds greedy-by-size and equals the lower bound wherever greedy-by-size does. Every
//! layout is re-checked by the independent checker.

use aegis_memory::{
    LifetimeFile, MemoryPlanner, PlannerConfig, Precision, Strategy, TensorLifetime, check_layout,
    greedy_by_size,
};
use std::collections::BTreeMap;
use std::path::PathBuf;

fn models() -> Vec<LifetimeFile> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lifetimes");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| LifetimeFile::load(p).unwrap()).collect()
}

fn assert_valid(
    lt: &[TensorLifetime],
    offsets: &BTreeMap<aegis_memory::TensorId, u64>,
    arena: u64,
    align: u64,
    what: &str,
) {
    let v = check_layout(lt, offsets, arena, align);
    assert!(v.is_empty(), "{what}: {} violations, first: {}", v.len(), v[0]);
}

#[test]
fn greedy_by_size_reproduces_the_reference_offsets_exactly() {
    for f in models() {
        let lt = f.lifetimes(Precision::Fp32);
        let (offsets, arena) = greedy_by_size(&lt, 1).unwrap();
        let reference = f.reference_greedy_offsets_fp32.as_ref().unwrap();
        assert_eq!(&offsets, reference, "{}", f.model);
        let stats = f.stats(Precision::Fp32).unwrap();
        assert_eq!(Some(arena), stats.greedy_by_size, "{}", f.model);
        assert_valid(&lt, &offsets, arena, 1, "greedy-by-size");
        assert_valid(&lt, reference, arena, 1, "reference layout");
    }
}

#[test]
fn lower_bounds_match_the_files_for_fp32_and_fp16() {
    for f in models() {
        for precision in [Precision::Fp32, Precision::Fp16] {
            let plan = MemoryPlanner::new(PlannerConfig::with_alignment(1))
                .plan(&f.lifetimes(precision))
                .unwrap();
            assert_eq!(
                Some(plan.lower_bound_bytes),
                f.stats(precision).unwrap().lower_bound,
                "{} {precision:?}",
                f.model
            );
        }
    }
}

#[test]
fn planner_never_exceeds_greedy_by_size_and_meets_the_bound_where_it_does() {
    for f in models() {
        for precision in [Precision::Fp32, Precision::Fp16] {
            let lt = f.lifetimes(precision);
            for align in [1, 256] {
                let (_, gbs) = greedy_by_size(&lt, align).unwrap();
                let plan =
                    MemoryPlanner::new(PlannerConfig::with_alignment(align)).plan(&lt).unwrap();
                let what = format!("{} {precision:?} align {align}", f.model);
                assert_valid(&lt, &plan.offsets, plan.arena_bytes, align, &what);
                assert!(plan.arena_bytes <= gbs, "{what}");
                assert!(plan.arena_bytes >= plan.lower_bound_bytes, "{what}");
                if gbs == plan.lower_bound_bytes {
                    assert_eq!(plan.arena_bytes, plan.lower_bound_bytes, "{what}");
                    assert!(plan.proven_optimal, "{what}");
                }
                assert_eq!(plan.alignment, align);
                assert_eq!(plan.offsets.len(), lt.len(), "{what}");
                assert_eq!(plan.outcome_of(Strategy::GREEDY_BY_SIZE), Some(gbs), "{what}");
            }
        }
    }
}

#[test]
fn at_alignment_one_the_plan_is_the_reference_layout() {
    // Greedy-by-size runs first and reaches the bound on all six, so the plan is its layout.
    for f in models() {
        let lt = f.lifetimes(Precision::Fp32);
        let plan = MemoryPlanner::new(PlannerConfig::with_alignment(1)).plan(&lt).unwrap();
        assert_eq!(plan.strategy, Strategy::GREEDY_BY_SIZE, "{}", f.model);
        assert_eq!(&plan.offsets, f.reference_greedy_offsets_fp32.as_ref().unwrap());
        assert_eq!(plan.outcomes.len(), 1, "stops at the lower bound");
        assert_eq!(plan.gap_bytes(), 0);
        assert_eq!(plan.ratio_to_lower_bound(), 1.0);
    }
}
