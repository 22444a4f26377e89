//! What a per-model CUDA context costs (evidence for ADR 0002; runs on the GPU machine, prints
//! a markdown table; without a GPU it says so and exits 0):
//! - creation + destruction time of a dedicated context (with one stream and the spin module);
//! - device memory each extra dedicated context takes (cuMemGetInfo before/after 8 of them);
//! - switching overhead when jobs are serialised: 2,000 short spin jobs, each waited for,
//!   alternating between two dedicated contexts vs all in one context (and two streams of one
//!   context), time per job from the host;
//! - whether a sticky fault in one dedicated context leaves another usable (also asserted by
//!   the GPU test `gpu_fault`).

use aegis_cuda::{CudaContext, CudaStream, SpinKernel, StreamPriority, driver_available};
use std::time::Instant;

fn pct(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

struct Lane {
    stream: CudaStream,
    spin: SpinKernel,
}

fn lane(ctx: &std::sync::Arc<CudaContext>) -> Result<Lane, aegis_cuda::AegisCudaError> {
    Ok(Lane {
        stream: CudaStream::new(ctx, StreamPriority::Level(0))?,
        spin: SpinKernel::new(ctx)?,
    })
}

/// Host time per job (launch + wait) of `n` spin jobs of `cycles`, round-robin over `lanes`.
fn serialised(
    lanes: &[&Lane],
    n: usize,
    cycles: u64,
) -> Result<Vec<f64>, aegis_cuda::AegisCudaError> {
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let l = lanes[i % lanes.len()];
        let t = Instant::now();
        l.spin.launch_cycles(&l.stream, cycles, 1)?;
        l.stream.synchronize()?;
        out.push(t.elapsed().as_nanos() as f64 / 1e3);
    }
    Ok(out)
}

fn main() {
    if !driver_available() {
        println!("no CUDA driver on this machine: context benchmark skipped");
        return;
    }
    if let Err(e) = run() {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let primary = CudaContext::new(0)?;
    println!(
        "device: {} (driver {})",
        primary.capabilities().name,
        primary.capabilities().driver_version
    );
    let mut create = Vec::new();
    for _ in 0..20 {
        let t = Instant::now();
        let c = CudaContext::dedicated(0)?;
        let l = lane(&c)?;
        l.stream.synchronize()?;
        drop(l);
        drop(c);
        create.push(t.elapsed().as_nanos() as f64 / 1e6);
    }
    let (free0, _) = primary.memory_info()?;
    let mut held = Vec::new();
    for _ in 0..8 {
        let c = CudaContext::dedicated(0)?;
        let l = lane(&c)?;
        held.push((c, l));
    }
    let (free8, _) = primary.memory_info()?;
    let per_ctx_mib = (free0.saturating_sub(free8)) as f64 / 8.0 / (1 << 20) as f64;
    drop(held);

    let (c1, c2) = (CudaContext::dedicated(0)?, CudaContext::dedicated(0)?);
    let (l1, l2) = (lane(&c1)?, lane(&c2)?);
    let p1 = lane(&primary)?;
    let p2 = lane(&primary)?;
    let cycles = 20_000; // ~10 µs at ~2 GHz
    for l in [&l1, &l2, &p1, &p2] {
        serialised(&[l], 100, cycles)?; // warm-up
    }
    let same = serialised(&[&p1], 2_000, cycles)?;
    let two_streams = serialised(&[&p1, &p2], 2_000, cycles)?;
    let two_ctx = serialised(&[&l1, &l2], 2_000, cycles)?;

    println!("\n| measurement | p50 | p99 |\n|---|---|---|");
    println!(
        "| dedicated context create+destroy (with stream and module) | {:.2} ms | {:.2} ms |",
        pct(create.clone(), 0.5),
        pct(create, 0.99)
    );
    println!(
        "| serialised 10 µs job, one context, one stream | {:.2} µs | {:.2} µs |",
        pct(same.clone(), 0.5),
        pct(same.clone(), 0.99)
    );
    println!(
        "| serialised 10 µs job, one context, alternating 2 streams | {:.2} µs | {:.2} µs |",
        pct(two_streams.clone(), 0.5),
        pct(two_streams, 0.99)
    );
    println!(
        "| serialised 10 µs job, alternating 2 dedicated contexts | {:.2} µs | {:.2} µs |",
        pct(two_ctx.clone(), 0.5),
        pct(two_ctx.clone(), 0.99)
    );
    println!(
        "\ndevice memory per extra dedicated context (with stream + module): {per_ctx_mib:.1} MiB"
    );
    println!(
        "context switch cost (p50 difference): {:.2} µs per job",
        pct(two_ctx, 0.5) - pct(same, 0.5)
    );

    // Fault containment, measured: poison c2, check c1.
    l2.spin.launch_fault(&l2.stream)?;
    let fault = l2.stream.synchronize();
    let after = l2.spin.launch_cycles(&l2.stream, 1000, 1).and_then(|_| l2.stream.synchronize());
    let other = serialised(&[&l1], 10, cycles).map(|_| ());
    let primary_ok = serialised(&[&p1], 10, cycles).map(|_| ());
    println!(
        "\nfault in dedicated context B: {}",
        fault.err().map_or("no error?".into(), |e| e.to_string())
    );
    println!(
        "context B afterwards: {}",
        after.err().map_or("usable".into(), |e| format!("poisoned ({e})"))
    );
    println!(
        "dedicated context A afterwards: {}",
        other.err().map_or("usable".into(), |e| format!("FAILED ({e})"))
    );
    println!(
        "primary context afterwards: {}",
        primary_ok.err().map_or("usable".into(), |e| format!("FAILED ({e})"))
    );
    Ok(())
}
