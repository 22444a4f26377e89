//! Inference latency of the example models on ONNX Runtime's CPU provider.
//!
//! `cargo bench -p aegis-backend-ort --bench ort_latency` (needs libonnxruntime: ORT_DYLIB_PATH,
//! or `python3 -m pip install onnxruntime==1.32.0`). Per model and intra-op thread count: load
//! time, then `WARMUP` untimed jobs and `JOBS` timed jobs (set_input + run + outputs, the work
//! the runtime does per job), each timed on the calling thread with `Instant`; prints p50, p99,
//! max and mean, plus the process's resident memory growth (engine-managed arena included).
//! `ORT_BENCH_JOBS` overrides `JOBS`; `ORT_BENCH_MODELS=a,b` picks the models (default both).
//! Memory growth is per row in one process, so only a process's first row shows the one-time
//! costs; run one model per process to see each model's own.

use aegis_backend_ort::{OrtBackend, OrtOptions, runtime};
use aegis_context::{RuntimeBackend, TensorData};
use std::path::PathBuf;
use std::time::{Duration, Instant};

const WARMUP: usize = 20;
const JOBS: usize = 300;

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn mib(b: Option<u64>) -> String {
    b.map_or_else(|| "?".into(), |b| format!("{:.1}", b as f64 / (1 << 20) as f64))
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64() * 1e3)
}

fn main() {
    let rt = match runtime(None) {
        Ok(rt) => rt,
        Err(e) => {
            println!("ONNX Runtime unavailable, nothing measured: {e}");
            return;
        }
    };
    let jobs = std::env::var("ORT_BENCH_JOBS").ok().and_then(|v| v.parse().ok()).unwrap_or(JOBS);
    println!("ONNX Runtime {} ({}), CPU provider", rt.version(), rt.path().display());
    let loadavg = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("{WARMUP} warm-up jobs, {jobs} timed jobs per row; latency in ms");
    println!("load average at start: {}", loadavg().trim());
    println!(
        "| model | intra-op threads | load ms | p50 | p99 | max | mean | RSS +load MiB | \
         RSS +first run MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/models");
    let shape = vec![1, 3, 224, 224];
    let n: usize = shape.iter().product();
    let input = TensorData {
        name: "input".into(),
        shape,
        data: (0..n).map(|i| (0.001 * i as f64).sin() as f32).collect(),
    };
    let chosen = std::env::var("ORT_BENCH_MODELS")
        .unwrap_or_else(|_| "squeezenet1_1,mobilenet_v3_small".into());
    for model in chosen.split(',').filter(|m| !m.is_empty()) {
        for threads in [1, 2] {
            let options = OrtOptions { intra_op_threads: threads, ..Default::default() };
            let rss0 = rss_bytes();
            let t0 = Instant::now();
            let mut b = match OrtBackend::load(models.join(format!("{model}.onnx")), &options) {
                Ok(b) => b,
                Err(e) => {
                    println!("{model}: {e}");
                    continue;
                }
            };
            let load = t0.elapsed();
            let rss1 = rss_bytes();
            let job = |b: &mut OrtBackend| {
                b.set_input(&input).expect("input");
                b.run().expect("run");
                std::hint::black_box(b.outputs().expect("outputs"));
            };
            job(&mut b);
            let rss2 = rss_bytes();
            for _ in 1..WARMUP {
                job(&mut b);
            }
            let mut lat: Vec<Duration> = (0..jobs)
                .map(|_| {
                    let t = Instant::now();
                    job(&mut b);
                    t.elapsed()
                })
                .collect();
            lat.sort();
            let mean = lat.iter().sum::<Duration>() / lat.len() as u32;
            let delta = |a: Option<u64>, b: Option<u64>| a.zip(b).map(|(a, b)| b.saturating_sub(a));
            println!(
                "| {model} | {threads} | {:.0} | {} | {} | {} | {} | {} | {} |",
                load.as_secs_f64() * 1e3,
                ms(percentile(&lat, 50.0)),
                ms(percentile(&lat, 99.0)),
                ms(*lat.last().expect("jobs > 0")),
                ms(mean),
                mib(delta(rss0, rss1)),
                mib(delta(rss1, rss2)),
            );
            drop(b);
        }
    }
    println!("\nload average at end: {}", loadavg().trim());
}
