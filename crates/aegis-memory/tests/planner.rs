//! `MemoryPlanner` edge cases, alignment, errors, and an instance whose optimum is above the
//! lower bound (proven by the exhaustive search, confirmed by brute force).

use aegis_memory::{
    ArenaPlan, MemoryError, MemoryPlanner, Ordering, Placement, PlannerConfig, Strategy, TensorId,
    TensorLifetime, check_layout, greedy_by_size,
};
use aegis_trace::{Duration, ModelId};

fn lt(spec: &[(u32, u32, u64)]) -> Vec<TensorLifetime> {
    spec.iter()
        .enumerate()
        .map(|(i, &(first, last, size))| TensorLifetime {
            tensor: TensorId(i as u32),
            first,
            last,
            size,
            owner_model: ModelId::new("m"),
        })
        .collect()
}

fn planner(cfg: PlannerConfig) -> MemoryPlanner {
    MemoryPlanner::new(PlannerConfig { time_limit: Duration::from_secs(60), ..cfg })
}

fn valid(l: &[TensorLifetime], plan: &ArenaPlan) {
    let v = check_layout(l, &plan.offsets, plan.arena_bytes, plan.alignment);
    assert!(v.is_empty(), "{:?}", v);
}

/// Found by a random search: the lower bound (14) is unreachable, the optimum is 15.
fn gap_instance() -> Vec<TensorLifetime> {
    lt(&[
        (4, 4, 2),
        (0, 0, 2),
        (0, 2, 4),
        (1, 3, 3),
        (1, 1, 6),
        (3, 3, 1),
        (2, 4, 4),
        (0, 0, 4),
        (3, 5, 6),
        (5, 5, 6),
        (2, 2, 3),
        (4, 4, 2),
    ])
}

/// Exhaustive check over integer offsets, independent of the planner: is there a layout of
/// `l` within `cap` bytes?
fn fits(l: &[TensorLifetime], cap: u64, offsets: &mut Vec<u64>) -> bool {
    let k = offsets.len();
    if k == l.len() {
        return true;
    }
    let s = l[k].size;
    if s > cap {
        return false;
    }
    for o in 0..=cap - s {
        let free = (0..k)
            .all(|j| !l[j].overlaps(&l[k]) || offsets[j] + l[j].size <= o || o + s <= offsets[j]);
        if free {
            offsets.push(o);
            if fits(l, cap, offsets) {
                return true;
            }
            offsets.pop();
        }
    }
    false
}

#[test]
fn the_exhaustive_search_proves_an_optimum_above_the_lower_bound() {
    let l = gap_instance();
    assert!(!fits(&l, 14, &mut Vec::new()), "brute force: 14 bytes are not enough");
    assert!(fits(&l, 15, &mut Vec::new()), "brute force: 15 bytes are");
    let (_, gbs) = greedy_by_size(&l, 1).unwrap();
    assert_eq!(gbs, 17);
    let plan = planner(PlannerConfig::with_alignment(1)).plan(&l).unwrap();
    valid(&l, &plan);
    assert_eq!((plan.lower_bound_bytes, plan.arena_bytes), (14, 15));
    assert!(plan.proven_optimal, "the search ran out of canonical layouts below 15");
    assert_eq!(plan.gap_bytes(), 1);
    assert!((plan.ratio_to_lower_bound() - 15.0 / 14.0).abs() < 1e-12);
}

#[test]
fn branch_and_bound_alone_finds_and_proves_the_optimum() {
    let l = gap_instance();
    let cfg = PlannerConfig { local_search_budget: 0, ..PlannerConfig::with_alignment(1) };
    let plan = planner(cfg).plan(&l).unwrap();
    valid(&l, &plan);
    assert_eq!(plan.arena_bytes, 15);
    assert!(plan.proven_optimal);
    assert_eq!(plan.strategy, Strategy::BranchAndBound);
    assert_eq!(plan.outcome_of(Strategy::BranchAndBound), Some(15));
}

#[test]
fn without_enough_search_budget_nothing_is_claimed() {
    let l = gap_instance();
    let cfg = PlannerConfig {
        local_search_budget: 0,
        search_budget: 100,
        ..PlannerConfig::with_alignment(1)
    };
    let plan = planner(cfg).plan(&l).unwrap();
    valid(&l, &plan);
    assert!(!plan.proven_optimal);
    assert!(plan.arena_bytes >= 15);
    let cfg = PlannerConfig {
        local_search_budget: 0,
        search_budget: 0,
        ..PlannerConfig::with_alignment(1)
    };
    let plan = planner(cfg).plan(&l).unwrap();
    assert!(!plan.proven_optimal);
    assert!(plan.outcome_of(Strategy::BranchAndBound).is_none());
}

#[test]
fn a_zero_time_limit_still_gives_a_valid_plan() {
    let l = gap_instance();
    let cfg = PlannerConfig { time_limit: Duration::ZERO, ..PlannerConfig::with_alignment(1) };
    let plan = MemoryPlanner::new(cfg).plan(&l).unwrap();
    valid(&l, &plan);
    assert!(plan.arena_bytes <= 17);
}

#[test]
fn empty_input_plans_an_empty_arena() {
    let plan = MemoryPlanner::default().plan(&[]).unwrap();
    assert_eq!((plan.arena_bytes, plan.lower_bound_bytes), (0, 0));
    assert_eq!(plan.strategy, Strategy::Empty);
    assert!(plan.proven_optimal && plan.offsets.is_empty());
    assert_eq!(plan.ratio_to_lower_bound(), 1.0);
    assert_eq!(Strategy::Empty.to_string(), "empty");
}

#[test]
fn zero_size_tensors_get_offset_zero_and_take_no_space() {
    let l = lt(&[(0, 3, 0), (0, 1, 100), (1, 2, 50), (2, 2, 0)]);
    let plan = MemoryPlanner::default().plan(&l).unwrap();
    valid(&l, &plan);
    assert_eq!(plan.offsets[&TensorId(0)], 0);
    assert_eq!(plan.offsets[&TensorId(3)], 0);
    assert_eq!(plan.arena_bytes, 512); // two 256-byte slots live at step 1
    let only_zero = lt(&[(0, 0, 0)]);
    let plan = MemoryPlanner::default().plan(&only_zero).unwrap();
    assert_eq!(plan.arena_bytes, 0);
    assert_eq!(plan.offsets.len(), 1);
}

#[test]
fn alignment_rounds_every_tensor_and_the_bound() {
    let l = lt(&[(0, 1, 1), (1, 2, 300), (2, 3, 257)]);
    let plan = MemoryPlanner::new(PlannerConfig::with_alignment(256)).plan(&l).unwrap();
    valid(&l, &plan);
    assert_eq!(plan.lower_bound_bytes, 512 + 512);
    assert_eq!(plan.arena_bytes, 1024);
    assert!(plan.offsets.values().all(|o| o % 256 == 0));
    let plan = MemoryPlanner::new(PlannerConfig::with_alignment(1)).plan(&l).unwrap();
    assert_eq!(plan.lower_bound_bytes, 557);
    assert_eq!(plan.arena_bytes, 557);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let l = lt(&[(0, 1, 8)]);
    for a in [0, 3, 384] {
        let err = MemoryPlanner::new(PlannerConfig::with_alignment(a)).plan(&l).unwrap_err();
        assert!(matches!(err, MemoryError::InvalidAlignment { alignment } if alignment == a));
        assert!(err.to_string().contains("power of two"));
        assert!(greedy_by_size(&l, a).is_err());
    }
    let mut dup = lt(&[(0, 1, 8), (1, 2, 8)]);
    dup[1].tensor = TensorId(0);
    let err = MemoryPlanner::default().plan(&dup).unwrap_err();
    assert!(matches!(err, MemoryError::DuplicateTensor { tensor: TensorId(0) }), "{err}");
    let err = MemoryPlanner::default().plan(&lt(&[(3, 2, 8)])).unwrap_err();
    assert!(matches!(err, MemoryError::InvalidInterval { first: 3, last: 2, .. }), "{err}");
    assert!(err.to_string().contains("first <= last"));
    let err = MemoryPlanner::default().plan(&lt(&[(0, 0, u64::MAX - 3)])).unwrap_err();
    assert!(matches!(err, MemoryError::Overflow { .. }), "{err}");
    let err = MemoryPlanner::new(PlannerConfig::with_alignment(1))
        .plan(&lt(&[(0, 0, u64::MAX - 3), (1, 1, 10)]))
        .unwrap_err();
    assert!(matches!(err, MemoryError::Overflow { .. }), "{err}");
}

#[test]
fn sparse_step_numbers_are_fine() {
    let l = lt(&[(0, 4_000_000_000, 10), (3_000_000_000, u32::MAX, 20), (u32::MAX, u32::MAX, 5)]);
    let plan = MemoryPlanner::new(PlannerConfig::with_alignment(1)).plan(&l).unwrap();
    valid(&l, &plan);
    // At step 3e9 tensors 0 and 1 are live (30 bytes); at u32::MAX tensors 1 and 2 (25).
    assert_eq!(plan.lower_bound_bytes, 30);
    assert_eq!(plan.arena_bytes, 30);
}

#[test]
fn strategy_names_and_serialisation() {
    let s = Strategy::Greedy { ordering: Ordering::Breadth, placement: Placement::LowestFit };
    assert_eq!(s.to_string(), "breadth/lowest-fit");
    assert_eq!(Strategy::GREEDY_BY_SIZE.to_string(), "size/best-fit");
    assert_eq!(Strategy::BranchAndBound.to_string(), "branch-and-bound");
    let names: Vec<String> = Ordering::ALL
        .iter()
        .flat_map(|o| Placement::ALL.iter().map(move |p| format!("{o}/{p}")))
        .collect();
    assert_eq!(names.len(), 16);
    assert!(names.contains(&"area/lowest-fit".to_string()));
    let json = serde_json::to_value(s).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"kind": "greedy", "ordering": "breadth", "placement": "lowest-fit"})
    );
    let plan = MemoryPlanner::default().plan(&lt(&[(0, 1, 8)])).unwrap();
    let back: ArenaPlan = serde_json::from_value(serde_json::to_value(&plan).unwrap()).unwrap();
    assert_eq!(back, plan);
    assert_eq!(MemoryPlanner::default().config(), &PlannerConfig::default());
}

#[test]
fn every_strategy_of_the_portfolio_runs_when_the_bound_is_out_of_reach() {
    let l = gap_instance();
    let cfg = PlannerConfig {
        local_search_budget: 0,
        search_budget: 0,
        ..PlannerConfig::with_alignment(1)
    };
    let plan = planner(cfg).plan(&l).unwrap();
    assert_eq!(plan.outcomes.len(), 16);
    for o in &plan.outcomes {
        assert!(o.arena_bytes >= 15, "{}", o.strategy);
    }
    assert_eq!(plan.arena_bytes, plan.outcomes.iter().map(|o| o.arena_bytes).min().unwrap());
}
