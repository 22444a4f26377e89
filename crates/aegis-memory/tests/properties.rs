//! Properties on random lifetime sets: every plan passes the independent checker, never beats
//! the lower bound (computed here independently), never loses to greedy-by-size, and on tiny
//! instances equals the brute-force optimum.

use aegis_memory::{
    LifetimeAnalyzer, MemoryPlanner, Op, OpSequence, PlannerConfig, TensorId, TensorLifetime,
    Violation, check_layout, greedy_by_size,
};
use aegis_trace::{Duration, ModelId};
use proptest::prelude::*;

fn build(spec: &[(u32, u32, u64)]) -> Vec<TensorLifetime> {
    spec.iter()
        .enumerate()
        .map(|(i, &(first, len, size))| TensorLifetime {
            tensor: TensorId(i as u32 * 3 + 1), // ids need not be dense
            first,
            last: first + len,
            size,
            owner_model: ModelId::new("p"),
        })
        .collect()
}

/// Maximum over steps of the aligned live bytes, by brute force over every step.
fn lower_bound(l: &[TensorLifetime], align: u64) -> u64 {
    let max_step = l.iter().map(|t| t.last).max().unwrap_or(0);
    (0..=max_step)
        .map(|s| {
            l.iter()
                .filter(|t| t.first <= s && s <= t.last)
                .map(|t| t.size.div_ceil(align) * align)
                .sum::<u64>()
        })
        .max()
        .unwrap_or(0)
}

/// Is there a layout within `cap` bytes? Exhaustive over integer offsets.
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

fn lifetimes(max_n: usize, max_size: u64) -> impl Strategy<Value = Vec<TensorLifetime>> {
    prop::collection::vec((0u32..30, 0u32..10, 0u64..max_size), 0..max_n).prop_map(|v| build(&v))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn plans_are_valid_and_between_the_bound_and_greedy_by_size(
        l in lifetimes(40, 5000),
        align in prop::sample::select(vec![1u64, 4, 256]),
    ) {
        let cfg = PlannerConfig { time_limit: Duration::from_secs(60), ..PlannerConfig::with_alignment(align) };
        let plan = MemoryPlanner::new(cfg).plan(&l).unwrap();
        let v = check_layout(&l, &plan.offsets, plan.arena_bytes, align);
        prop_assert!(v.is_empty(), "{:?}", v);
        prop_assert_eq!(plan.lower_bound_bytes, lower_bound(&l, align));
        prop_assert!(plan.arena_bytes >= plan.lower_bound_bytes);
        prop_assert_eq!(plan.arena_bytes % align, 0);
        let (gbs_offsets, gbs) = greedy_by_size(&l, align).unwrap();
        prop_assert!(check_layout(&l, &gbs_offsets, gbs, align).is_empty());
        prop_assert!(plan.arena_bytes <= gbs);
        if plan.arena_bytes == plan.lower_bound_bytes {
            prop_assert!(plan.proven_optimal);
        }
    }

    #[test]
    fn tiny_instances_are_solved_to_the_brute_force_optimum(
        spec in prop::collection::vec((0u32..5, 0u32..3, 1u64..7), 1..7),
    ) {
        let l = build(&spec);
        let cfg = PlannerConfig {
            time_limit: Duration::from_secs(60),
            search_budget: 100_000_000,
            ..PlannerConfig::with_alignment(1)
        };
        let plan = MemoryPlanner::new(cfg).plan(&l).unwrap();
        prop_assert!(check_layout(&l, &plan.offsets, plan.arena_bytes, 1).is_empty());
        let mut opt = plan.lower_bound_bytes;
        while !fits(&l, opt, &mut Vec::new()) {
            opt += 1;
        }
        prop_assert_eq!(plan.arena_bytes, opt);
        prop_assert!(plan.proven_optimal);
    }

    #[test]
    fn the_checker_catches_a_moved_tensor(l in lifetimes(30, 5000), pick in any::<prop::sample::Index>()) {
        let plan = MemoryPlanner::new(PlannerConfig::with_alignment(1)).plan(&l).unwrap();
        // Pairs live together with non-zero sizes: moving one onto the other must be caught.
        let pairs: Vec<(usize, usize)> = (0..l.len())
            .flat_map(|i| (0..l.len()).map(move |j| (i, j)))
            .filter(|&(i, j)| i != j && l[i].size > 0 && l[j].size > 0 && l[i].overlaps(&l[j]))
            .collect();
        prop_assume!(!pairs.is_empty());
        let (i, j) = pairs[pick.index(pairs.len())];
        let mut bad = plan.offsets.clone();
        bad.insert(l[i].tensor, plan.offsets[&l[j].tensor]);
        let v = check_layout(&l, &bad, u64::MAX, 1);
        let (a, b) = if l[i].tensor < l[j].tensor { (l[i].tensor, l[j].tensor) } else { (l[j].tensor, l[i].tensor) };
        prop_assert!(v.contains(&Violation::Overlap { a, b }), "{:?}", v);
    }

    #[test]
    fn analysed_random_graphs_follow_the_conventions_and_plan_validly(
        ops in prop::collection::vec((prop::collection::vec(any::<prop::sample::Index>(), 1..3), 1u64..10_000), 1..60),
    ) {
        // Each op reads 1-2 earlier tensors (or the input) and writes one new tensor.
        let mut seq = OpSequence::new();
        let input = seq.add_tensor(3000);
        seq.graph_inputs.push(input);
        let mut produced = vec![input];
        for (reads, size) in &ops {
            let inputs: Vec<TensorId> = reads.iter().map(|ix| produced[ix.index(produced.len())]).collect();
            let out = seq.add_tensor(*size);
            seq.push_op(Op::new(inputs, [out]));
            produced.push(out);
        }
        let last = *produced.last().unwrap();
        seq.graph_outputs.push(last);
        let l = LifetimeAnalyzer::new("g").analyze(&seq).unwrap();
        let n_ops = ops.len() as u32;
        prop_assert_eq!(l[0].first, 0);
        for (k, t) in l.iter().enumerate().skip(1) {
            prop_assert_eq!(t.first, k as u32 - 1, "tensor k is written by op k-1");
            prop_assert!(t.last >= t.first && t.last < n_ops);
        }
        prop_assert_eq!(l.last().unwrap().last, n_ops - 1);
        let plan = MemoryPlanner::default().plan(&l).unwrap();
        prop_assert!(check_layout(&l, &plan.offsets, plan.arena_bytes, 256).is_empty());
    }
}
