//! Cost of `TraceCollector::record()` from 1 and 4 threads (target: median under 200 ns).
//!
//! Each iteration builds a typical scheduler event (model id clone, request, one parent) and
//! records it into a collector of the default capacity, so overwrites (and the drop of the
//! evicted event) are included once the buffer is full. With N threads, each thread records
//! `iters` events concurrently; two figures are reported per N:
//! - `wall`: the slowest thread's wall time per event. On a machine with fewer cores than
//!   threads this includes the time a thread waits for a core, not only the cost of record().
//! - `cpu`: the slowest thread's own CPU time per event (`CLOCK_THREAD_CPUTIME_ID`): the cost
//!   of record() under contention, excluding time spent descheduled.

use aegis_trace::{EventId, EventKind, ModelId, RequestId, Timestamp, TraceCollector, TraceEvent};
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

fn event(model: &ModelId, i: u64) -> TraceEvent {
    TraceEvent::new(EventKind::Dispatched, "scheduler", Timestamp::from_nanos(i))
        .model(model.clone())
        .request(RequestId(i))
        .parent(EventId(i.max(1)))
}

/// This thread's CPU time.
fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_THREAD_CPUTIME_ID is supported on
    // Linux and the call only writes into `ts`.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[derive(Clone, Copy)]
enum Measure {
    Wall,
    Cpu,
}

fn record_threads(c: &mut Criterion, threads: usize, measure: Measure) {
    let collector = Arc::new(TraceCollector::new());
    let model = ModelId::new("detector");
    let label = match measure {
        Measure::Wall => "wall",
        Measure::Cpu => "cpu",
    };
    c.bench_function(&format!("record/{threads}_thread/{label}"), |b| {
        b.iter_custom(|iters| {
            let start_line = Arc::new(Barrier::new(threads));
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let col = collector.clone();
                    let m = model.clone();
                    let line = start_line.clone();
                    std::thread::spawn(move || {
                        line.wait();
                        let (t0, c0) = (Instant::now(), thread_cpu_time());
                        for i in 0..iters {
                            black_box(col.record(event(&m, i)));
                        }
                        match measure {
                            Measure::Wall => t0.elapsed(),
                            Measure::Cpu => thread_cpu_time() - c0,
                        }
                    })
                })
                .collect();
            let per_thread: Vec<Duration> =
                handles.into_iter().map(|h| h.join().expect("bench thread")).collect();
            per_thread.into_iter().max().unwrap_or_default()
        })
    });
}

fn bench(c: &mut Criterion) {
    for threads in [1, 4] {
        record_threads(c, threads, Measure::Wall);
        record_threads(c, threads, Measure::Cpu);
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
