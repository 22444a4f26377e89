//! Arena planning on the six real models, on synthetic ConvNeXt/EfficientNetV2-shaped graphs,
//! on 2,000-tensor graphs, and a multi-model deployment. Prints Markdown tables.
//!
//! Run: `cargo bench -p aegis-memory --bench planner`. Each figure comes from `RUNS` calls of
//! `MemoryPlanner::plan` (default configuration apart from the alignment), measured around
//! the call: the median of the thread's CPU time (`CLOCK_THREAD_CPUTIME_ID`, the cost of
//! planning itself, unaffected by other processes competing for the cores), and the median
//! and maximum wall time (what admission waits for on this machine, including time spent
//! descheduled). Every layout is re-checked by `check_layout` before it is reported, and our
//! greedy-by-size must reproduce each file's reference layout.

#[path = "../tests/support/synthetic.rs"]
mod synthetic;

use aegis_memory::{
    ArenaPlan, ExclusivityGroup, LifetimeFile, MemoryPlanner, ModelMemory, PlannerConfig,
    Precision, TensorId, TensorLifetime, check_layout, greedy_by_size, plan_sharing,
};
use aegis_trace::ModelId;
use std::path::PathBuf;
use std::time::Instant;

const RUNS: usize = 21;
const MIB: f64 = 1024.0 * 1024.0;

fn mib(b: u64) -> String {
    format!("{:.3}", b as f64 / MIB)
}

/// This thread's CPU time in µs.
fn thread_cpu_us() -> f64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is supported on
    // Linux and the call only writes into `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    ts.tv_sec as f64 * 1e6 + ts.tv_nsec as f64 / 1e3
}

/// Timings of one graph, in µs.
struct Timing {
    cpu_median: f64,
    wall_median: f64,
    wall_max: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Plans `RUNS` times; returns the last plan and its timings. All runs must agree.
fn timed(planner: &MemoryPlanner, lt: &[TensorLifetime]) -> (ArenaPlan, Timing) {
    let mut cpu = Vec::with_capacity(RUNS);
    let mut wall = Vec::with_capacity(RUNS);
    let mut plan: Option<ArenaPlan> = None;
    for _ in 0..RUNS {
        let c = thread_cpu_us();
        let t = Instant::now();
        let p = planner.plan(lt).expect("plannable");
        wall.push(t.elapsed().as_secs_f64() * 1e6);
        cpu.push(thread_cpu_us() - c);
        if let Some(prev) = &plan
            && prev.arena_bytes != p.arena_bytes
        {
            println!(
                "(note: runs disagree, {} vs {} bytes: time limit hit)",
                prev.arena_bytes, p.arena_bytes
            );
        }
        plan = Some(p);
    }
    let plan = plan.expect("RUNS > 0");
    let v = check_layout(lt, &plan.offsets, plan.arena_bytes, plan.alignment);
    assert!(v.is_empty(), "invalid layout: {}", v[0]);
    let wall_max = wall.iter().copied().fold(0.0, f64::max);
    (plan, Timing { cpu_median: median(cpu), wall_median: median(wall), wall_max })
}

fn real_models() -> Vec<LifetimeFile> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/lifetimes");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixtures")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    paths.sort();
    paths.iter().map(|p| LifetimeFile::load(p).expect("valid fixture")).collect()
}

fn header() {
    println!(
        "| model | tensors | align | lower bound MiB | greedy-by-size (file) MiB | \
         greedy-by-size (ours) MiB | ours MiB | gbs / LB | ours / LB | strategy | proven | \
         CPU median µs | wall median µs | wall max µs |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
}

fn row(name: &str, lt: &[TensorLifetime], align: u64, reference: Option<u64>) {
    let planner = MemoryPlanner::new(PlannerConfig::with_alignment(align));
    let (gbs_offsets, gbs) = greedy_by_size(lt, align).expect("plannable");
    assert!(check_layout(lt, &gbs_offsets, gbs, align).is_empty());
    let (plan, t) = timed(&planner, lt);
    assert!(plan.arena_bytes <= gbs, "{name}: ours above greedy-by-size");
    let lb = plan.lower_bound_bytes as f64;
    println!(
        "| {name} | {} | {align} | {} | {} | {} | {} | {:.4} | {:.4} | {} | {} | {:.0} | {:.0} | {:.0} |",
        lt.len(),
        mib(plan.lower_bound_bytes),
        reference.map_or("n/a".to_string(), mib),
        mib(gbs),
        mib(plan.arena_bytes),
        gbs as f64 / lb,
        plan.arena_bytes as f64 / lb,
        plan.strategy,
        if plan.proven_optimal { "yes" } else { "no" },
        t.cpu_median,
        t.wall_median,
        t.wall_max,
    );
}

/// A random set of `n` lifetimes (seeded): no structure, so the bound is rarely reached and the
/// improvement searches spend their whole budget (the planning-time worst case).
fn random_lifetimes(n: usize, seed: u64) -> Vec<TensorLifetime> {
    let mut s = seed;
    let mut next = move || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let model = ModelId::new("random");
    (0..n)
        .map(|i| {
            let first = (next() % (n as u64)) as u32;
            let len = (next() % 24) as u32;
            TensorLifetime {
                tensor: TensorId(i as u32),
                first,
                last: first + len,
                size: 1024 * (1 + next() % 4096),
                owner_model: model.clone(),
            }
        })
        .collect()
}

fn main() {
    // `cargo bench` passes `--bench`; ignore arguments.
    let models = real_models();

    println!("## Real models (fp32)\n");
    header();
    for align in [1, 256] {
        for f in &models {
            let lt = f.lifetimes(Precision::Fp32);
            let reference = if align == 1 {
                let (ours, arena) = greedy_by_size(&lt, 1).expect("plannable");
                let file = f.reference_greedy_offsets_fp32.as_ref().expect("reference offsets");
                assert_eq!(&ours, file, "{}: greedy-by-size differs from the reference", f.model);
                let file_arena = f.stats(Precision::Fp32).and_then(|s| s.greedy_by_size);
                assert_eq!(Some(arena), file_arena);
                file_arena
            } else {
                None
            };
            row(f.model.as_str(), &lt, align, reference);
        }
    }

    println!("\n## Synthetic ConvNeXt / EfficientNetV2-shaped graphs (fp32)\n");
    header();
    let synthetic_graphs = [
        ("convnext_tiny@224", synthetic::convnext_tiny(224)),
        ("convnext_tiny@384", synthetic::convnext_tiny(384)),
        ("convnext_small@224", synthetic::convnext(224, [96, 192, 384, 768], [3, 3, 27, 3])),
        ("convnext_base@224", synthetic::convnext(224, [128, 256, 512, 1024], [3, 3, 27, 3])),
        ("efficientnet_v2_s@224", synthetic::efficientnet_v2_s(224)),
        ("efficientnet_v2_s@384", synthetic::efficientnet_v2_s(384)),
    ];
    for align in [1, 256] {
        for (name, seq) in &synthetic_graphs {
            row(name, &synthetic::lifetimes(name, seq), align, None);
        }
    }

    println!("\n## Planning time, about 2,000 tensors (align 256)\n");
    header();
    let big = [
        ("residual chain", synthetic::lifetimes("chain", &synthetic::large_mixed(2000))),
        (
            "convnext, 190 blocks",
            synthetic::lifetimes(
                "convnext_deep",
                &synthetic::convnext(224, [96, 192, 384, 768], [3, 3, 184, 3]),
            ),
        ),
        ("random intervals", random_lifetimes(2000, 0x2545_f491_4f6c_dd1d)),
    ];
    for (name, lt) in &big {
        row(name, lt, 256, None);
    }

    println!("\n## Multi-model deployment (fp32, align 256)\n");
    let planner = MemoryPlanner::new(PlannerConfig::with_alignment(256));
    let memory: Vec<ModelMemory> = models
        .iter()
        .map(|f| {
            let lt = f.lifetimes(Precision::Fp32);
            let plan = planner.plan(&lt).expect("plannable");
            assert!(check_layout(&lt, &plan.offsets, plan.arena_bytes, 256).is_empty());
            ModelMemory {
                model: f.model.clone(),
                weights_bytes: f.weights_bytes,
                activation_arena_bytes: plan.arena_bytes,
            }
        })
        .collect();
    let lane = |names: &[&str]| names.iter().map(ModelId::new).collect::<Vec<_>>();
    let deployments = [
        (
            "3 models on one lane",
            vec![ExclusivityGroup::new(
                "lane0",
                lane(&["resnet18", "mobilenet_v2", "efficientnet_b0"]),
            )],
            lane(&["resnet18", "mobilenet_v2", "efficientnet_b0"]),
        ),
        (
            "all 6 on one lane",
            vec![ExclusivityGroup::new("lane0", memory.iter().map(|m| m.model.clone()))],
            memory.iter().map(|m| m.model.clone()).collect(),
        ),
        (
            "6 models, 2 lanes",
            vec![
                ExclusivityGroup::new(
                    "lane0",
                    lane(&["deeplabv3_mobilenet_v3_large", "resnet18", "squeezenet1_1"]),
                ),
                ExclusivityGroup::new(
                    "lane1",
                    lane(&["efficientnet_b0", "mobilenet_v2", "vit_b_16"]),
                ),
            ],
            memory.iter().map(|m| m.model.clone()).collect(),
        ),
    ];
    println!(
        "| deployment | models | weights MiB | activations isolated MiB | activations shared MiB | \
         saved MiB | peak isolated MiB | peak shared MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, groups, members) in deployments {
        let subset: Vec<ModelMemory> =
            memory.iter().filter(|m| members.contains(&m.model)).cloned().collect();
        let plan = plan_sharing(&subset, &groups).expect("valid groups");
        let t = plan.total;
        println!(
            "| {name} | {} | {} | {} | {} | {} | {} | {} |",
            subset.iter().map(|m| m.model.as_str()).collect::<Vec<_>>().join(", "),
            mib(t.weights_bytes),
            mib(t.activations_isolated_bytes),
            mib(t.activations_shared_bytes),
            mib(t.saved_bytes),
            mib(t.weights_bytes + t.activations_isolated_bytes),
            mib(t.peak_bytes),
        );
    }
    println!("\nPer-model arenas (align 256):\n");
    println!("| model | weights MiB | arena MiB |");
    println!("|---|---|---|");
    for m in &memory {
        println!("| {} | {} | {} |", m.model, mib(m.weights_bytes), mib(m.activation_arena_bytes));
    }
}
