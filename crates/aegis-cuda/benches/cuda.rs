//! GPU benchmark (runs on the GPU machine; prints a markdown table, and JSON to the file named
//! by `AEGIS_BENCH_JSON` if set). Without a GPU it says so and exits 0.
//!
//! Measures, in one run so ratios are comparable:
//! - allocate + free pairs: the pool (empty, and with 1,000 live allocations) vs
//!   `cuMemAlloc`/`cuMemFree` vs stream-ordered `cuMemAllocAsync`/`cuMemFreeAsync`
//!   (host time of the two calls; the stream is synchronised every 64 pairs, outside the
//!   timed region), sizes 256 B … 64 MiB, p50/p99;
//! - event timing overhead (host cost of a record; GPU time between two back-to-back records);
//! - stream create + destroy;
//! - the calibrated spin kernel (10M cycles).

use aegis_cuda::{
    CudaContext, CudaEvent, CudaStream, DeviceBuffer, DeviceMemoryPool, PoolOptions, SpinKernel,
    StreamPriority, driver_available,
};
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

struct Row {
    what: String,
    size: u64,
    p50_ns: u64,
    p99_ns: u64,
    n: usize,
}

fn pct(mut v: Vec<u64>, q: f64) -> u64 {
    v.sort_unstable();
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn row(what: &str, size: u64, samples: Vec<u64>) -> Row {
    let n = samples.len();
    Row {
        what: what.into(),
        size,
        p50_ns: pct(samples.clone(), 0.5),
        p99_ns: pct(samples, 0.99),
        n,
    }
}

fn time<F: FnMut()>(n: usize, mut f: F) -> Vec<u64> {
    (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_nanos() as u64
        })
        .collect()
}

fn human(b: u64) -> String {
    match b {
        b if b >= 1 << 20 => format!("{} MiB", b >> 20),
        b if b >= 1 << 10 => format!("{} KiB", b >> 10),
        b => format!("{b} B"),
    }
}

fn main() {
    if !driver_available() {
        println!("no CUDA driver on this machine: GPU benchmark skipped");
        return;
    }
    if let Err(e) = run() {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let ctx: Arc<CudaContext> = CudaContext::new(0)?;
    let caps = ctx.capabilities().clone();
    let stream = CudaStream::new(&ctx, StreamPriority::Level(0))?;
    let sizes = [256u64, 4 << 10, 64 << 10, 1 << 20, 16 << 20, 64 << 20];
    let mut rows = Vec::new();

    let pool = DeviceMemoryPool::new(&ctx, 1 << 30, PoolOptions::default())?;
    let busy = DeviceMemoryPool::new(&ctx, 1 << 30, PoolOptions::default())?;
    let mut background = Vec::new();
    for i in 0..1000u64 {
        background.push(busy.allocate(256 + (i * 7919) % 100_000, "bg")?);
    }
    for i in (0..1000).step_by(2).rev() {
        background.swap_remove(i);
    }
    for &size in &sizes {
        let _ = pool.allocate(size, "warm")?;
        rows.push(row(
            "pool",
            size,
            time(20_000, || drop(pool.allocate(size, "b").expect("pool"))),
        ));
        rows.push(row(
            "pool, 500 live allocations",
            size,
            time(20_000, || drop(busy.allocate(size, "b").expect("pool"))),
        ));
        let n = if size >= 16 << 20 { 500 } else { 2_000 };
        rows.push(row(
            "cuMemAlloc+cuMemFree",
            size,
            time(n, || drop(DeviceBuffer::new(&ctx, size).expect("alloc"))),
        ));
        let mut samples = Vec::with_capacity(n);
        for i in 0..n {
            let t = Instant::now();
            let b = DeviceBuffer::new_async(&stream, size)?;
            b.free_async(&stream)?;
            samples.push(t.elapsed().as_nanos() as u64);
            if i % 64 == 63 {
                stream.synchronize()?;
            }
        }
        stream.synchronize()?;
        rows.push(row("cuMemAllocAsync+cuMemFreeAsync", size, samples));
    }

    let (a, b) = (CudaEvent::timing(&ctx)?, CudaEvent::timing(&ctx)?);
    rows.push(row(
        "event record (host)",
        0,
        time(10_000, || stream.record_event(&a).expect("record")),
    ));
    stream.synchronize()?;
    let mut gpu_gap = Vec::new();
    for _ in 0..2_000 {
        stream.record_event(&a)?;
        stream.record_event(&b)?;
        b.synchronize()?;
        gpu_gap.push(b.elapsed_since(&a)?.as_nanos());
    }
    rows.push(row("event pair, GPU elapsed", 0, gpu_gap));
    rows.push(row(
        "stream create+destroy",
        0,
        time(2_000, || {
            CudaStream::new(&ctx, StreamPriority::Lowest).expect("stream").close().expect("close")
        }),
    ));
    let mut spin = SpinKernel::new(&ctx)?;
    let cal = spin.calibrate(&stream)?.clone();
    let mut spins = Vec::new();
    for _ in 0..20 {
        stream.record_event(&a)?;
        spin.launch_cycles(&stream, 10_000_000, 1)?;
        stream.record_event(&b)?;
        b.synchronize()?;
        spins.push(b.elapsed_since(&a)?.as_nanos());
    }
    rows.push(row("spin 10M cycles (GPU elapsed)", 0, spins));

    let mut out = String::new();
    writeln!(
        out,
        "device: {} (CC {}.{}, {} SMs, driver {})",
        caps.name,
        caps.compute_capability.0,
        caps.compute_capability.1,
        caps.sm_count,
        caps.driver_version
    )?;
    writeln!(
        out,
        "spin calibration: {:.1} cycles/us, launch overhead {:.2} us",
        cal.cycles_per_us, cal.launch_overhead_us
    )?;
    writeln!(out, "\n| operation | size | p50 | p99 | samples |\n|---|---|---|---|---|")?;
    for r in &rows {
        let size = if r.size == 0 { "-".into() } else { human(r.size) };
        writeln!(
            out,
            "| {} | {} | {:.2} µs | {:.2} µs | {} |",
            r.what,
            size,
            r.p50_ns as f64 / 1e3,
            r.p99_ns as f64 / 1e3,
            r.n
        )?;
    }
    writeln!(
        out,
        "\nRatios (p99, same run):\n\n| size | cuMemAlloc+Free / pool | cuMemAllocAsync+FreeAsync / pool |\n|---|---|---|"
    )?;
    for &size in &sizes {
        let get = |w: &str| {
            rows.iter().find(|r| r.what == w && r.size == size).map_or(1, |r| r.p99_ns.max(1))
        };
        let p = get("pool");
        writeln!(
            out,
            "| {} | {:.0}× | {:.0}× |",
            human(size),
            get("cuMemAlloc+cuMemFree") as f64 / p as f64,
            get("cuMemAllocAsync+cuMemFreeAsync") as f64 / p as f64
        )?;
    }
    print!("{out}");
    if let Ok(path) = std::env::var("AEGIS_BENCH_JSON") {
        let mut j = String::from("{\"device\":");
        write!(j, "{:?},\"rows\":[", caps.name)?;
        for (i, r) in rows.iter().enumerate() {
            if i > 0 {
                j.push(',');
            }
            write!(
                j,
                "{{\"what\":{:?},\"size\":{},\"p50_ns\":{},\"p99_ns\":{},\"n\":{}}}",
                r.what, r.size, r.p50_ns, r.p99_ns, r.n
            )?;
        }
        j.push_str("]}\n");
        std::fs::write(path, j)?;
    }
    drop(background);
    pool.close()?;
    busy.close()?;
    Ok(())
}
