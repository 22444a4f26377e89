//! How fast a waiting host thread learns that GPU work finished, by method (GPU machine; prints
//! a markdown table; without a GPU it says so and exits 0). Evidence for the runtime's choice
//! of completion detection (ADR 0003).
//!
//! Each sample: record a timing event, launch a calibrated 200 µs spin, record a second timing
//! event, then wait by one of:
//! - `blocking event`: `cuEventSynchronize` on a `CU_EVENT_BLOCKING_SYNC` event (the thread
//!   sleeps in the driver);
//! - `spin poll`: `cuEventQuery` in a loop (burns a core);
//! - `host callback`: `cuLaunchHostFunc` signalling a condition variable.
//!
//! Reported: host time from just before the launch to wake-up, minus the kernel's GPU time
//! between the two timing events = launch + completion-detection overhead, p50/p99.

use aegis_cuda::{
    CudaContext, CudaEvent, CudaStream, EventFlags, SpinKernel, StreamPriority, driver_available,
};
use aegis_trace::Duration;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

fn pct(mut v: Vec<f64>, q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn main() {
    if !driver_available() {
        println!("no CUDA driver on this machine: completion benchmark skipped");
        return;
    }
    if let Err(e) = run() {
        eprintln!("benchmark failed: {e}");
        std::process::exit(1);
    }
}

#[derive(Clone, Copy)]
enum Method {
    Blocking,
    Spin,
    Callback,
    SleepThenPoll,
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = CudaContext::new(0)?;
    let s = CudaStream::new(&ctx, StreamPriority::Level(0))?;
    let mut spin = SpinKernel::new(&ctx)?;
    spin.calibrate(&s)?;
    let (a, b) = (CudaEvent::timing(&ctx)?, CudaEvent::timing(&ctx)?);
    let blocking = CudaEvent::new(&ctx, EventFlags { timing: false, blocking: true })?;
    let polled = CudaEvent::fence(&ctx)?;
    println!("device: {}\n", ctx.capabilities().name);
    println!("| completion detection | overhead p50 | overhead p99 | samples |\n|---|---|---|---|");
    for (name, method) in [
        ("blocking event", Method::Blocking),
        ("spin poll (cuEventQuery)", Method::Spin),
        ("host callback + condvar", Method::Callback),
        ("sleep to 50 µs after launch, then poll (runtime's choice)", Method::SleepThenPoll),
    ] {
        let mut over = Vec::new();
        for i in 0..2_100 {
            let pair = Arc::new((Mutex::new(false), Condvar::new()));
            let t0 = Instant::now();
            s.record_event(&a)?;
            spin.launch_for(&s, Duration::from_micros(200), 1)?;
            s.record_event(&b)?;
            match method {
                Method::Blocking => {
                    s.record_event(&blocking)?;
                    blocking.synchronize()?;
                }
                Method::SleepThenPoll => {
                    s.record_event(&polled)?;
                    // The runtime sleeps until 150 µs before the shortest execution seen, then
                    // polls; here the kernel is 200 µs, so sleep 50 µs from the launch.
                    let wake = t0 + std::time::Duration::from_micros(50);
                    let now = Instant::now();
                    if wake > now {
                        std::thread::sleep(wake - now);
                    }
                    while !polled.is_complete()? {
                        std::hint::spin_loop();
                    }
                }
                Method::Spin => {
                    s.record_event(&polled)?;
                    while !polled.is_complete()? {
                        std::hint::spin_loop();
                    }
                }
                Method::Callback => {
                    let p2 = pair.clone();
                    s.on_complete(move || {
                        let (m, c) = &*p2;
                        *m.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
                        c.notify_one();
                    })?;
                    let (m, c) = &*pair;
                    let mut done = m.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                    while !*done {
                        done = c.wait(done).unwrap_or_else(std::sync::PoisonError::into_inner);
                    }
                }
            }
            let host = t0.elapsed().as_nanos() as f64 / 1e3;
            b.synchronize()?;
            let gpu = b.elapsed_since(&a)?.as_nanos() as f64 / 1e3;
            if i >= 100 {
                over.push(host - gpu);
            }
        }
        println!(
            "| {name} | {:.1} µs | {:.1} µs | {} |",
            pct(over.clone(), 0.5),
            pct(over.clone(), 0.99),
            over.len()
        );
    }
    Ok(())
}
