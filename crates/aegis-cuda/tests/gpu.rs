//! GPU suite: real tests that need an NVIDIA GPU. Without the `gpu-tests` feature they are
//! reported as ignored; `cargo xtask gpu-bundle` builds them with the feature for the GPU
//! machine, where they also run under `compute-sanitizer --tool memcheck --leak-check full`.
//!
//! The host-only behaviour (no driver → typed error) is tested in `no_gpu` below and runs
//! everywhere.

use aegis_cuda::{
    AegisCudaError, CudaContext, CudaEvent, CudaStream, DeviceBuffer, DeviceMemoryPool, EventFlags,
    GemmWorkload, PoolMemory, PoolOptions, SpinKernel, StreamPriority, driver_available,
    take_deferred_errors,
};
use aegis_trace::{Duration, EventKind, TraceCollector, TraceQuery};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

fn ctx() -> Arc<CudaContext> {
    CudaContext::new(0).expect("GPU 0")
}

#[test]
fn no_gpu_means_a_typed_error_not_a_panic() {
    if driver_available() {
        assert!(CudaContext::device_count().unwrap() >= 1);
        return;
    }
    assert!(matches!(CudaContext::new(0), Err(AegisCudaError::DriverNotFound)));
    assert!(matches!(CudaContext::dedicated(0), Err(AegisCudaError::DriverNotFound)));
    assert!(matches!(CudaContext::device_count(), Err(AegisCudaError::DriverNotFound)));
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn capabilities_are_discovered() {
    let c = ctx();
    let caps = c.capabilities();
    println!("{caps:#?}");
    assert!(!caps.name.is_empty());
    assert!(caps.compute_capability.0 >= 5);
    assert!(caps.sm_count > 0);
    assert!(caps.memory_total > 0 && caps.memory_free <= caps.memory_total);
    assert!(caps.l2_cache_bytes > 0);
    assert!(caps.stream_priority_least >= caps.stream_priority_greatest);
    assert!(caps.driver_version >= 12000);
    let (free, total) = c.memory_info().unwrap();
    assert_eq!(total, caps.memory_total);
    assert!(free > 0);
    assert!(matches!(
        CudaContext::new(1000),
        Err(AegisCudaError::InvalidDevice { ordinal: 1000, .. })
    ));
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn stream_priorities_map_level_zero_to_the_highest() {
    let c = ctx();
    let caps = c.capabilities().clone();
    let hi = CudaStream::new(&c, StreamPriority::Level(0)).unwrap();
    assert_eq!(hi.query_priority().unwrap(), caps.stream_priority_greatest);
    let lo = CudaStream::new(&c, StreamPriority::Lowest).unwrap();
    assert_eq!(lo.query_priority().unwrap(), caps.stream_priority_least);
    let bad = CudaStream::new(&c, StreamPriority::Cuda(caps.stream_priority_greatest - 1));
    assert!(matches!(bad, Err(AegisCudaError::InvalidPriority { .. })));
    assert!(hi.is_ready().unwrap());
    hi.close().unwrap();
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn events_time_a_calibrated_spin() {
    let c = ctx();
    let s = CudaStream::new(&c, StreamPriority::Level(0)).unwrap();
    let mut spin = SpinKernel::new(&c).unwrap();
    let cal = spin.calibrate(&s).unwrap().clone();
    println!(
        "calibration: {:.1} cycles/us, overhead {:.2} us",
        cal.cycles_per_us, cal.launch_overhead_us
    );
    assert!(cal.cycles_per_us > 100.0 && cal.cycles_per_us < 5000.0, "{cal:?}");
    let (a, b) = (CudaEvent::timing(&c).unwrap(), CudaEvent::timing(&c).unwrap());
    for target_ms in [1u64, 5] {
        s.record_event(&a).unwrap();
        spin.launch_for(&s, Duration::from_millis(target_ms), 1).unwrap();
        s.record_event(&b).unwrap();
        b.synchronize().unwrap();
        let got = b.elapsed_since(&a).unwrap().as_nanos() as f64 / 1e6;
        println!("spin for {target_ms} ms took {got:.4} ms");
        // Under compute-sanitizer every launch is instrumented: timing is not meaningful there.
        if std::env::var_os("AEGIS_UNDER_SANITIZER").is_none() {
            assert!((got - target_ms as f64).abs() / (target_ms as f64) < 0.05, "{got} ms");
        }
        assert!(b.is_complete().unwrap());
    }
    let fence = CudaEvent::fence(&c).unwrap();
    s.record_event(&fence).unwrap();
    assert!(matches!(fence.elapsed_since(&a), Err(AegisCudaError::InvalidArgument { .. })));
    // A stream waiting on an event of another stream starts only after it.
    let s2 = CudaStream::new(&c, StreamPriority::Lowest).unwrap();
    spin.launch_for(&s, Duration::from_millis(3), 1).unwrap();
    s.record_event(&fence).unwrap();
    s2.wait_event(&fence).unwrap();
    s2.record_event(&b).unwrap();
    s.record_event(&a).unwrap();
    b.synchronize().unwrap();
    assert!(b.elapsed_since(&a).unwrap().as_nanos() < 1_000_000, "s2 ran after s's spin");
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn blocking_events_and_host_callbacks_signal_completion() {
    let c = ctx();
    let s = CudaStream::new(&c, StreamPriority::Level(1)).unwrap();
    let mut spin = SpinKernel::new(&c).unwrap();
    spin.calibrate(&s).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let flag = done.clone();
    spin.launch_for(&s, Duration::from_millis(5), 1).unwrap();
    s.on_complete(move || flag.store(true, Ordering::Release)).unwrap();
    assert!(!done.load(Ordering::Acquire), "callback ran before the kernel finished");
    let ev = CudaEvent::new(&c, EventFlags { timing: false, blocking: true }).unwrap();
    s.record_event(&ev).unwrap();
    ev.synchronize().unwrap();
    s.synchronize().unwrap();
    assert!(done.load(Ordering::Acquire));
    ev.close().unwrap();
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn dropping_a_stream_waits_for_its_work() {
    let c = ctx();
    let s = CudaStream::new(&c, StreamPriority::Lowest).unwrap();
    let mut spin = SpinKernel::new(&c).unwrap();
    spin.calibrate(&s).unwrap();
    spin.launch_for(&s, Duration::from_millis(20), 1).unwrap();
    let t0 = Instant::now();
    drop(s);
    assert!(t0.elapsed() >= std::time::Duration::from_millis(15), "drop did not synchronise");
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn device_pool_sub_allocates_one_reservation_and_reports_leaks() {
    let c = ctx();
    let trace = Arc::new(TraceCollector::new());
    let pool = DeviceMemoryPool::new(
        &c,
        64 << 20,
        PoolOptions { name: "gpu-test".into(), trace: Some(trace.clone()), ..Default::default() },
    )
    .unwrap();
    assert_eq!(pool.memory(), PoolMemory::Device);
    let a = pool.allocate(1 << 20, "a").unwrap();
    let b = pool.allocate(3 << 20, "b").unwrap();
    assert!(a.address() >= pool.base() && b.address() + b.len() <= pool.base() + pool.capacity());
    assert_eq!(pool.used(), 4 << 20);
    // The memory is real device memory: copy through a buffer-sized round trip via cuMemset.
    assert!(matches!(
        pool.allocate(61 << 20, "too much"),
        Err(AegisCudaError::PoolExhausted { .. })
    ));
    drop(a);
    let leaked = b;
    let err = pool.close().unwrap_err();
    assert!(
        matches!(err, AegisCudaError::Leaked(ref r) if r.leaks.len() == 1 && r.leaks[0].tag == "b")
    );
    assert_eq!(trace.query(&TraceQuery::all().kind(EventKind::Leak)).len(), 1);
    drop(leaked); // releases the reservation (cuMemFree) now
    assert!(take_deferred_errors().iter().all(|d| d.resource != "DeviceMemoryPool"));
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn device_buffers_round_trip_and_async_allocation_works() {
    let c = ctx();
    let s = CudaStream::new(&c, StreamPriority::Lowest).unwrap();
    let buf = DeviceBuffer::new(&c, 4096).unwrap();
    let src: Vec<u8> = (0..4096u32).map(|i| (i % 251) as u8).collect();
    buf.copy_from_host(&src).unwrap();
    let mut back = vec![0u8; 4096];
    buf.copy_to_host(&mut back).unwrap();
    assert_eq!(back, src);
    buf.fill_async(7, &s).unwrap();
    s.synchronize().unwrap();
    buf.copy_to_host(&mut back).unwrap();
    assert!(back.iter().all(|b| *b == 7));
    assert!(matches!(buf.copy_from_host(&[0; 5000]), Err(AegisCudaError::InvalidArgument { .. })));
    let a = DeviceBuffer::new_async(&s, 1 << 20).unwrap();
    a.free_async(&s).unwrap();
    s.synchronize().unwrap();
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn gemm_workload_computes_the_right_product() {
    let c = ctx();
    let s = CudaStream::new(&c, StreamPriority::Lowest).unwrap();
    let mut g = GemmWorkload::new(&c, 512, &s).unwrap();
    let (a, b) = (CudaEvent::timing(&c).unwrap(), CudaEvent::timing(&c).unwrap());
    s.record_event(&a).unwrap();
    for _ in 0..10 {
        g.launch(&s).unwrap();
    }
    s.record_event(&b).unwrap();
    b.synchronize().unwrap();
    let per = b.elapsed_since(&a).unwrap().as_nanos() as f64 / 10.0;
    println!("sgemm n=512: {:.1} us/iteration, {:.1} GFLOP/s", per / 1e3, g.flops() / per);
    let x = f32::from_le_bytes([0x3c; 4]);
    let want = 512.0 * x * x;
    let got = g.first_output().unwrap();
    assert!((got - want).abs() / want < 1e-4, "{got} vs {want}");
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn the_stall_probe_sees_another_context_take_the_gpu() {
    use aegis_cuda::{TimerGapOptions, TimerGapProbe};
    let c = ctx();
    let s = CudaStream::new(&c, StreamPriority::Level(0)).unwrap();
    let probe = TimerGapProbe::new(&c).unwrap();
    let o = TimerGapOptions {
        duration: Duration::from_millis(200),
        kernel: Duration::from_millis(50),
        ..TimerGapOptions::default()
    };
    let alone = probe.run(&s, &o).unwrap();
    println!(
        "alone: {} reads, resolution {} ns, {} gaps > 20 µs, longest {:?} ns",
        alone.reads,
        alone.resolution_ns,
        alone.count,
        alone.gaps.iter().map(|g| g.len_ns).max()
    );
    assert!(alone.reads > 10_000, "{alone:?}");
    assert!(alone.resolution_ns > 0 && alone.resolution_ns <= 100_000, "{alone:?}");
    assert!(alone.span_ns >= 195_000_000 && alone.span_ns < 260_000_000, "{}", alone.span_ns);
    // A second context's 60 ms spin, started while the probe runs: without MPS the GPU
    // time-slices between contexts, so the probe's thread stops while the other context runs.
    let other = CudaContext::dedicated(0).unwrap();
    let os = CudaStream::new(&other, StreamPriority::Lowest).unwrap();
    let spin = SpinKernel::new(&other).unwrap();
    let hog = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(50));
        spin.launch_for(&os, Duration::from_millis(60), 132).unwrap();
        os.synchronize().unwrap();
    });
    c.bind().unwrap();
    let shared = probe.run(&s, &o).unwrap();
    hog.join().unwrap();
    let lost: u64 = shared.gaps.iter().map(|g| g.len_ns).sum();
    println!(
        "with another context: {} gaps, {lost} ns lost, longest {:?} ns",
        shared.count,
        shared.gaps.iter().map(|g| g.len_ns).max()
    );
    if std::env::var_os("AEGIS_UNDER_SANITIZER").is_none() {
        assert!(lost >= 5_000_000, "the other context's 60 ms left the probe {lost} ns short");
    }
}

#[test]
#[cfg_attr(not(feature = "gpu-tests"), ignore = "needs an NVIDIA GPU (cargo xtask gpu-bundle)")]
fn a_closed_gate_holds_the_stream_and_keeps_host_pauses_out_of_gpu_time() {
    use aegis_cuda::StreamGate;
    let c = ctx();
    let s = CudaStream::new(&c, StreamPriority::Level(0)).unwrap();
    let spin = SpinKernel::new(&c).unwrap();
    let gate = StreamGate::new(&c).unwrap();
    let (a, b) = (CudaEvent::timing(&c).unwrap(), CudaEvent::timing(&c).unwrap());
    spin.launch_for(&s, Duration::from_micros(10), 1).unwrap(); // warm-up
    s.synchronize().unwrap();
    let pause = std::time::Duration::from_millis(3);
    // Without the gate, a host pause between the start event and the kernel is GPU time.
    s.record_event(&a).unwrap();
    std::thread::sleep(pause);
    spin.launch_for(&s, Duration::from_millis(1), 1).unwrap();
    s.record_event(&b).unwrap();
    b.synchronize().unwrap();
    let plain = b.elapsed_since(&a).unwrap();
    // With it, the same pause comes before the gate opens: the events bracket the kernel.
    let g = gate.close(&s).unwrap();
    s.record_event(&a).unwrap();
    std::thread::sleep(pause);
    spin.launch_for(&s, Duration::from_millis(1), 1).unwrap();
    s.record_event(&b).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(2));
    assert!(!b.is_complete().unwrap(), "the closed gate held the stream");
    g.open();
    b.synchronize().unwrap();
    let gated = b.elapsed_since(&a).unwrap();
    println!("1 ms kernel after a 3 ms host pause: plain {plain:?}, gated {gated:?}");
    if std::env::var_os("AEGIS_UNDER_SANITIZER").is_none() {
        assert!(plain.as_nanos() > 3_500_000, "{plain:?}");
        assert!(gated.as_nanos() < 1_300_000, "{gated:?}");
    }
    // A guard dropped without `open` (an error path) opens the gate too.
    {
        let _g = gate.close(&s).unwrap();
        s.record_event(&b).unwrap();
    }
    b.synchronize().unwrap();
    assert!(b.is_complete().unwrap());
}
