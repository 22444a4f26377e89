//! tract's optimised graph goes through aegis-memory (lifetime analysis, arena plan, independent
//! layout check); its figures are checked against tract's own live-memory accounting, against
//! the ONNX initializers, and compared with the shared lifetime data of squeezenet1_1
//! (`aegis-memory/tests/data/lifetimes/squeezenet1_1.json`, the ONNX graph as onnxruntime sees
//! it: 65 ops, lower bound 6 308 352 bytes = 6.016 MiB in fp32).

mod support;

use aegis_backend_tract::{Manifest, TractBackend, TractOptions};
use aegis_context::RuntimeBackend;
use aegis_memory::{
    LifetimeAnalyzer, LifetimeFile, MemoryPlanner, PlannerConfig, Precision, check_layout,
    sequence_from_graph,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};
use tract_onnx::prelude::Framework;
use tract_onnx::tract_core::model::memory::eval_tmp_memory_usage;
use tract_onnx::tract_core::ops::konst::Const;

const MODELS: [&str; 2] = ["squeezenet1_1", "mobilenet_v3_small"];
const MIB: f64 = 1024.0 * 1024.0;

/// Each model loaded once per test binary (a debug-build load of tract takes about a second).
fn load(model: &str) -> (MutexGuard<'static, TractBackend>, PathBuf) {
    static LOADED: OnceLock<Vec<(String, Mutex<TractBackend>, PathBuf)>> = OnceLock::new();
    let all = LOADED.get_or_init(|| {
        let m = Manifest::load(support::manifest_path()).unwrap();
        MODELS
            .iter()
            .map(|name| {
                let path = m.model_path(m.entry(name).unwrap());
                let b = TractBackend::load(&path, &TractOptions::default()).unwrap();
                (name.to_string(), Mutex::new(b), path)
            })
            .collect()
    });
    let (_, b, path) = all.iter().find(|(n, _, _)| n == model).unwrap();
    (b.lock().unwrap_or_else(PoisonError::into_inner), path.clone())
}

#[test]
fn tract_graphs_are_analysed_and_planned_by_aegis_memory() {
    for model in MODELS {
        let (b, _) = load(model);
        let tg = b.tract_graph().unwrap();
        let g = b.graph().unwrap();
        assert_eq!(&g, &tg.graph);
        assert_eq!(tg.op_names.len(), g.ops.len());
        for (i, (id, size)) in g.tensors.iter().enumerate() {
            assert_eq!(*id as usize, i, "{model}: ids dense from 0");
            assert!(*size > 0, "{model}: tensor {id} has a size");
        }
        assert_eq!(g.inputs, vec![0], "{model}: the image is tensor 0");
        assert_eq!(g.outputs, vec![g.tensors.len() as u32 - 1], "{model}: the logits come last");
        let lifetimes = LifetimeAnalyzer::new(model).analyze(&sequence_from_graph(&g)).unwrap();
        assert_eq!(lifetimes.len(), g.tensors.len());
        let plan = MemoryPlanner::new(PlannerConfig::default()).plan(&lifetimes).unwrap();
        let v = check_layout(&lifetimes, &plan.offsets, plan.arena_bytes, plan.alignment);
        assert!(v.is_empty(), "{model}: {} layout violations", v.len());
        let ap = b.activation_plan().unwrap();
        assert_eq!(ap.arena_bytes, plan.arena_bytes, "{model}: the backend reports this plan");
        assert_eq!(ap.lower_bound_bytes, plan.lower_bound_bytes);
        assert_eq!(b.memory_requirements().activation_bytes, plan.arena_bytes);
        assert!(plan.arena_bytes >= plan.lower_bound_bytes);
        assert!(ap.naive_bytes > plan.arena_bytes, "{model}: reuse saves memory");
        let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
        for n in &tg.op_names {
            *kinds.entry(n.as_str()).or_default() += 1;
        }
        println!(
            "{model}: {} ops, {} tensors, naive {:.3} MiB, lower bound {:.3} MiB, arena {:.3} MiB \
             ({:?}); ops {kinds:?}",
            g.ops.len(),
            g.tensors.len(),
            ap.naive_bytes as f64 / MIB,
            plan.lower_bound_bytes as f64 / MIB,
            plan.arena_bytes as f64 / MIB,
            plan.strategy,
        );
    }
}

/// tract's own estimate (`eval_tmp_memory_usage`: the bytes of the node outputs alive at each
/// step of its plan) counts every node output as a buffer of its own; the translated graph
/// shares buffers between views or in-place results and their inputs, so its (unaligned)
/// lower bound is at most tract's peak, and strictly below it for these two models (where a
/// convolution's output and the ReLU computed in place on it were counted twice).
#[test]
fn views_and_in_place_results_lower_the_peak_below_tract_own_estimate() {
    for model in MODELS {
        let (b, _) = load(model);
        let plan = b.plan().unwrap();
        let steps = eval_tmp_memory_usage(plan.model(), plan.order_without_consts(), |n| {
            !n.op_is::<Const>()
        })
        .unwrap();
        let peak = steps.iter().map(|(_, m)| m.to_i64().unwrap() as u64).max().unwrap();
        let g = b.graph().unwrap();
        let lifetimes = LifetimeAnalyzer::new(model).analyze(&sequence_from_graph(&g)).unwrap();
        let exact = MemoryPlanner::new(PlannerConfig::with_alignment(1)).plan(&lifetimes).unwrap();
        println!(
            "{model}: tract's estimate {peak} B, lower bound of the translated graph {} B",
            exact.lower_bound_bytes
        );
        assert!(exact.lower_bound_bytes < peak, "{model}");
        // Each node output is in the graph once: as a tensor of its own, or shared.
        let own: usize = g.ops.iter().map(|(_, outs)| outs.len()).sum();
        assert!(own + g.inputs.len() == g.tensors.len(), "{model}");
    }
}

fn onnx_initializer_bytes(path: &std::path::Path) -> u64 {
    let proto = tract_onnx::onnx().proto_model_for_path(path).unwrap();
    proto
        .graph
        .unwrap()
        .initializer
        .iter()
        .map(|t| {
            let elem = match t.data_type {
                1 | 6 => 4,  // float, int32
                7 | 11 => 8, // int64, double
                10 => 2,     // float16
                2 | 3 | 9 => 1,
                other => panic!("initializer type {other}"),
            };
            t.dims.iter().product::<i64>() as u64 * elem
        })
        .sum()
}

/// `weights_bytes` counts the constants of tract's optimised model at their packed size: at
/// least the ONNX initializers, and at most 15% more (packing pads matrices to the kernel's
/// panel width).
#[test]
fn weights_are_the_initializers_at_packed_size() {
    for model in MODELS {
        let (b, path) = load(model);
        let onnx = onnx_initializer_bytes(&path);
        let w = b.memory_requirements().weights_bytes;
        println!(
            "{model}: tract weights {w} B ({:.3} MiB), ONNX initializers {onnx} B ({:.3} MiB), \
             ratio {:.4}",
            w as f64 / MIB,
            onnx as f64 / MIB,
            w as f64 / onnx as f64
        );
        assert!(w >= onnx && w as f64 <= onnx as f64 * 1.15, "{model}: {w} vs {onnx}");
    }
}

/// squeezenet1_1 as tract runs it against the same model as exported for onnxruntime. tract
/// splits every convolution into im2col / pack / matmul ops (about twice the ops) with packed
/// operands of their own, but its im2col is a lazy view, ReLUs and reshapes run in place, and
/// biases are fused into the matmuls: fewer buffers are live at once. Both graphs peak at the
/// first convolution (64x111x111 f32 = 3 154 176 bytes): the ONNX graph holds its output and the
/// ReLU's output (2 x 3 154 176 = 6.016 MiB), tract one buffer of it plus what surrounds it
/// (3.747 MiB, which `heap_peak.rs` confirms against the allocator).
#[test]
fn squeezenet_compared_with_the_shared_lifetime_data() {
    let (b, _) = load("squeezenet1_1");
    let ap = b.activation_plan().unwrap();
    let g = b.graph().unwrap();
    let path = support::root().join("crates/aegis-memory/tests/data/lifetimes/squeezenet1_1.json");
    let f = LifetimeFile::load(&path).unwrap();
    let lt = f.lifetimes(Precision::Fp32);
    let file_plan = MemoryPlanner::new(PlannerConfig::default()).plan(&lt).unwrap();
    let file_ops = f.num_ops.unwrap() as usize;
    let file_naive: u64 = lt.iter().map(|l| l.size).sum();
    println!(
        "| squeezenet1_1 | ops | tensors | naive MiB | lower bound MiB | arena MiB (align 256) |"
    );
    println!("|---|---|---|---|---|---|");
    for (what, ops, tensors, naive, lb, arena) in [
        (
            "ONNX graph (lifetime file)",
            file_ops,
            lt.len(),
            file_naive,
            file_plan.lower_bound_bytes,
            file_plan.arena_bytes,
        ),
        (
            "tract optimised graph",
            g.ops.len(),
            g.tensors.len(),
            ap.naive_bytes,
            ap.lower_bound_bytes,
            ap.arena_bytes,
        ),
    ] {
        println!(
            "| {what} | {ops} | {tensors} | {:.3} | {:.3} | {:.3} |",
            naive as f64 / MIB,
            lb as f64 / MIB,
            arena as f64 / MIB
        );
    }
    assert_eq!(file_plan.lower_bound_bytes, 6_308_352, "the shared data's 6.016 MiB");
    assert!(ap.lower_bound_bytes < file_plan.lower_bound_bytes);
    assert!(ap.lower_bound_bytes >= 3_154_176, "at least the first convolution's output");
    assert!(ap.arena_bytes <= file_plan.arena_bytes);
    assert!(g.ops.len() > file_ops, "tract splits convolutions into several ops");
}
