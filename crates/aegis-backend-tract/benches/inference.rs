//! Inference latency of the example models on tract, through `TractBackend` and through tract
//! directly, and the cost of the wrapper.
//!
//! `cargo bench -p aegis-backend-tract --bench inference [-- ITERATIONS]` (default 300 per
//! mode, after 20 warm-up jobs). Modes, interleaved job by job so that drifts of the
//! machine's load affect them alike:
//! - `tract direct`: `SimpleState::run` on a prebuilt input `TValue` (the same optimised plan).
//! - `backend run`: `TractBackend::run` with the input set once.
//! - `backend job`: `set_input` + `run` + `outputs` (what a runtime job does: copy the input
//!   in, run, convert the outputs to f32).
//!
//! The three modes run in rotated order each iteration, so position effects (caches after the
//! previous step) spread evenly.
//!
//! Memory: the growth of the resident set while loading, and the peak growth during the
//! first inference (peak reset through `/proc/self/clear_refs` after loading), beside the
//! figures the backend reports.
//!
//! The wrapper's own steps are also timed alone (`set_input`, `outputs`), since a difference
//! of microseconds between two ~10 ms distributions is below their noise.

use aegis_backend_tract::{Manifest, TractBackend, TractOptions, reference_input};
use aegis_context::RuntimeBackend;
use std::path::PathBuf;
use std::time::Instant;
use tract_onnx::prelude::{TValue, Tensor, tvec};

fn pct(sorted: &[u64], p: f64) -> f64 {
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize;
    sorted[rank.min(sorted.len()) - 1] as f64
}

struct Stats {
    p50: f64,
    p99: f64,
    mean: f64,
    min: f64,
}

fn stats(mut ns: Vec<u64>) -> Stats {
    ns.sort_unstable();
    let mean = ns.iter().sum::<u64>() as f64 / ns.len() as f64;
    Stats { p50: pct(&ns, 50.0), p99: pct(&ns, 99.0), mean, min: ns[0] as f64 }
}

fn time(f: impl FnOnce()) -> u64 {
    let t = Instant::now();
    f();
    t.elapsed().as_nanos() as u64
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_owned()
}

/// `(resident, peak resident)` of this process, bytes (`/proc/self/status`).
fn rss() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kib| kib * 1024)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Resets the peak resident set to the current one (Linux: `5` to `/proc/self/clear_refs`).
fn reset_peak() -> bool {
    std::fs::write("/proc/self/clear_refs", "5").is_ok()
}

fn main() {
    let iters: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(300);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/models");
    let manifest = Manifest::load(root.join("manifest.json")).expect("manifest");
    println!("load average at start: {}", loadavg());
    println!("{iters} jobs per mode after 20 warm-up jobs; times in ms\n");
    println!("| model | mode | p50 | p99 | mean | min |");
    println!("|---|---|---|---|---|---|");
    let mut overheads = Vec::new();
    let mut memory = Vec::new();
    for model in ["squeezenet1_1", "mobilenet_v3_small"] {
        let entry = manifest.entry(model).expect("entry");
        let input = reference_input(entry);
        let (before_load, _) = rss();
        let mut backend =
            TractBackend::load(manifest.model_path(entry), &TractOptions::default()).expect("load");
        backend.set_input(&input).expect("input");
        let (after_load, _) = rss();
        let peak_ok = reset_peak();
        backend.run().expect("first run");
        let (after_run, peak) = rss();
        memory.push((
            model,
            backend.memory_requirements(),
            after_load.saturating_sub(before_load),
            peak_ok.then(|| peak.saturating_sub(after_load)),
            after_run.saturating_sub(after_load),
        ));
        let plan = backend.plan().expect("resident").clone();
        let mut direct = plan.spawn().expect("state");
        let tensor: TValue = Tensor::from_shape(&input.shape, &input.data).expect("tensor").into();
        for _ in 0..20 {
            direct.run(tvec![tensor.clone()]).expect("direct");
            backend.run().expect("run");
        }
        let (mut d, mut r, mut j, mut set, mut out) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for i in 0..iters {
            // Rotate the order of the three modes so none always follows the same one (the
            // first job after `set_input` meets colder caches).
            for k in 0..3 {
                match (i + k) % 3 {
                    0 => d.push(time(|| {
                        std::hint::black_box(direct.run(tvec![tensor.clone()]).expect("direct"));
                    })),
                    1 => r.push(time(|| backend.run().expect("run"))),
                    _ => j.push(time(|| {
                        backend.set_input(&input).expect("input");
                        backend.run().expect("run");
                        std::hint::black_box(backend.outputs().expect("outputs"));
                    })),
                }
            }
            set.push(time(|| backend.set_input(&input).expect("input")));
            out.push(time(|| {
                std::hint::black_box(backend.outputs().expect("outputs"));
            }));
        }
        let ms = 1e6;
        let (sd, sr, sj) = (stats(d), stats(r), stats(j));
        for (mode, s) in [("tract direct", &sd), ("backend run", &sr), ("backend job", &sj)] {
            println!(
                "| {model} | {mode} | {:.3} | {:.3} | {:.3} | {:.3} |",
                s.p50 / ms,
                s.p99 / ms,
                s.mean / ms,
                s.min / ms
            );
        }
        let (ss, so) = (stats(set), stats(out));
        overheads.push((model, sd, sr, sj, ss, so));
    }
    println!("\nWrapper cost (µs; p50 of each step timed alone, and differences of p50s):\n");
    println!(
        "| model | set_input p50 | outputs p50 | backend run − direct (p50) | job − direct (p50) | \
         job − direct (mean) | (set_input + outputs) / direct p50 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (model, d, r, j, s, o) in overheads {
        println!(
            "| {model} | {:.1} | {:.1} | {:+.1} | {:+.1} | {:+.1} | {:.3}% |",
            s.p50 / 1e3,
            o.p50 / 1e3,
            (r.p50 - d.p50) / 1e3,
            (j.p50 - d.p50) / 1e3,
            (j.mean - d.mean) / 1e3,
            100.0 * (s.p50 + o.p50) / d.p50
        );
    }
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!("\nMemory (MiB; resident set of this process, models loaded in this order):\n");
    println!(
        "| model | weights_bytes | activation_bytes | RSS growth, load | peak RSS growth, \
         first run | RSS growth kept after it |"
    );
    println!("|---|---|---|---|---|---|");
    for (model, req, load, peak, kept) in memory {
        println!(
            "| {model} | {:.2} | {:.2} | {:.2} | {} | {:.2} |",
            mib(req.weights_bytes),
            mib(req.activation_bytes),
            mib(load),
            peak.map_or("n/a".into(), |p| format!("{:.2}", mib(p))),
            mib(kept)
        );
    }
    println!("\nload average at end: {}", loadavg());
}
