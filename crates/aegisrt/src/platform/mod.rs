//! Platform stall probe (`aegisrt probe`): can this machine keep a deadline at all? Measures,
//! with nothing else running, how long the host CPUs the runtime would use and the GPU stop
//! executing a thread: every stall is time a job can lose whatever the scheduler does, so the
//! longest stalls bound what any run on the machine can promise.
//!
//! Owns [`ProbeOptions`], [`PlatformReport`] and [`probe_platform`]: one host probe thread per
//! CPU (`host`), the GPU probe (`aegis_cuda::TimerGapProbe`) at the same time, and their
//! summaries (`summary`). It must not know about models or scheduling.

mod host;
mod summary;

pub use summary::{CLASS_BOUNDS_NS, Gap, GapSummary, TOP, coincident};

use crate::deployment::HostSettings;
use crate::runtime::RealtimeError;
use crate::runtime::realtime::ThreadPolicy;
use aegis_cuda::{
    AegisCudaError, CudaContext, CudaStream, StreamPriority, TimerGapOptions, TimerGapProbe,
};
use serde::Serialize;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

/// What to probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeOptions {
    /// How long.
    pub duration: Duration,
    /// Steps longer than this count as stalls.
    pub threshold: Duration,
    /// Host CPUs to probe (one thread each, pinned); empty: one unpinned thread.
    pub cpus: Vec<usize>,
    /// `SCHED_FIFO` priority of the host probe threads (as `[host] rt_priority`).
    pub rt_priority: Option<u8>,
    /// Probe the GPU too (device 0).
    pub gpu: bool,
}

/// Why a probe could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProbeError {
    /// An option is out of range.
    #[error("`{field}`: {problem}; {fix}")]
    Option {
        /// The option.
        field: &'static str,
        /// What is wrong.
        problem: String,
        /// How to fix it.
        fix: &'static str,
    },
    /// The host threads could not be given the asked scheduling.
    #[error(transparent)]
    Realtime(#[from] RealtimeError),
    /// The GPU probe failed (no driver, NVRTC missing, a failing call).
    #[error("GPU probe: {0}; run without the GPU probe (`--no-gpu`) to probe the host alone")]
    Cuda(#[from] AegisCudaError),
    /// A probe thread panicked.
    #[error("the {0} probe thread panicked")]
    Panicked(String),
}

/// What a probe found.
#[derive(Clone, Debug, Serialize)]
pub struct PlatformReport {
    /// Probe length, nanoseconds.
    pub duration_ns: u64,
    /// Stall threshold, nanoseconds.
    pub threshold_ns: u64,
    /// `SCHED_FIFO` priority of the host probe threads, if any.
    pub rt_priority: Option<u8>,
    /// One summary per probed CPU.
    pub host: Vec<GapSummary>,
    /// The GPU's, when probed.
    pub gpu: Option<GapSummary>,
    /// GPU timer at its first read minus the host's Unix time at the probe start, nanoseconds
    /// (the GPU probe's start latency, when the GPU timer follows the Unix time as on Linux).
    pub gpu_timer_offset_ns: Option<i64>,
    /// GPU stalls of at least 1 ms, and of them those that overlapped (±1 ms) a host stall of
    /// at least 1 ms on a probed CPU.
    pub gpu_long_stalls: (usize, usize),
}

impl ProbeOptions {
    /// Checks the options' ranges (what [`probe_platform`] does first).
    ///
    /// # Errors
    /// [`ProbeError::Option`] naming the field.
    pub fn check(&self) -> Result<(), ProbeError> {
        if self.duration < Duration::from_millis(10) || self.duration > Duration::from_secs(3600) {
            return Err(ProbeError::Option {
                field: "duration",
                problem: format!("{:?}", self.duration),
                fix: "probe for 0.01 to 3600 s",
            });
        }
        if self.threshold < Duration::from_micros(1) || self.threshold > Duration::from_secs(1) {
            return Err(ProbeError::Option {
                field: "threshold",
                problem: format!("{:?}", self.threshold),
                fix: "use 1 µs to 1 s",
            });
        }
        Ok(())
    }
}

/// Runs the probe: the host threads and the GPU probe start together and run for
/// `o.duration`.
///
/// # Errors
/// [`ProbeError`]: bad options, scheduling refused, or a GPU failure.
pub fn probe_platform(o: &ProbeOptions) -> Result<PlatformReport, ProbeError> {
    o.check()?;
    let cpus: Vec<Option<usize>> =
        if o.cpus.is_empty() { vec![None] } else { o.cpus.iter().copied().map(Some).collect() };
    // The GPU side is set up (NVRTC compile, module load) before the start line.
    let gpu = o.gpu.then(GpuSide::new).transpose()?;
    // The start time is taken once every probe thread is up (the barrier), so each probes the
    // whole duration: taken before spawning, thread start-up (milliseconds under emulation)
    // would shorten every span.
    let barrier = Arc::new(Barrier::new(cpus.len() + 1 + usize::from(gpu.is_some())));
    let t0_cell = Arc::new(std::sync::OnceLock::<(Instant, std::time::SystemTime)>::new());
    let host_threads: Vec<_> = cpus
        .iter()
        .map(|&cpu| {
            let policy = ThreadPolicy::of(&HostSettings {
                rt_priority: o.rt_priority,
                cpus: cpu.into_iter().collect(),
                ..HostSettings::default()
            });
            let (barrier, t0_cell, o) = (barrier.clone(), t0_cell.clone(), o.clone());
            std::thread::spawn(move || {
                barrier.wait();
                let t0 = t0_cell.get().map_or_else(Instant::now, |t| t.0);
                host::probe_cpu(&policy, t0, o.duration, o.threshold)
            })
        })
        .collect();
    let gpu_thread = gpu.map(|g| {
        let (barrier, t0_cell, o) = (barrier.clone(), t0_cell.clone(), o.clone());
        std::thread::spawn(move || {
            barrier.wait();
            let t0 = t0_cell.get().map_or_else(Instant::now, |t| t.0);
            g.run(t0, &o)
        })
    });
    let _ = t0_cell.set((Instant::now(), std::time::SystemTime::now()));
    barrier.wait();
    let mut host = Vec::new();
    let mut host_gaps = Vec::new();
    for (cpu, t) in cpus.iter().zip(host_threads) {
        let name = cpu.map_or_else(|| "cpu any".to_owned(), |c| format!("cpu {c}"));
        let g = t.join().map_err(|_| ProbeError::Panicked(name.clone()))??;
        host.push(GapSummary::new(name, g.span_ns, g.reads, g.resolution_ns, g.count, &g.gaps));
        host_gaps.push(g.gaps);
    }
    let (mut gpu_summary, mut offset, mut long) = (None, None, (0, 0));
    if let Some(t) = gpu_thread {
        let (s, gaps, first_read_ns) =
            t.join().map_err(|_| ProbeError::Panicked("gpu".into()))??;
        let unix_t0 = t0_cell
            .get()
            .and_then(|t| t.1.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        offset = Some(first_read_ns as i64 - unix_t0);
        let refs: Vec<&[Gap]> = host_gaps.iter().map(Vec::as_slice).collect();
        long = coincident(&gaps, &refs, 1_000_000, 1_000_000);
        gpu_summary = Some(s);
    }
    Ok(PlatformReport {
        duration_ns: o.duration.as_nanos() as u64,
        threshold_ns: o.threshold.as_nanos() as u64,
        rt_priority: o.rt_priority,
        host,
        gpu: gpu_summary,
        gpu_timer_offset_ns: offset,
        gpu_long_stalls: long,
    })
}

/// The GPU probe's context, stream and kernel, made before the start line.
struct GpuSide {
    stream: CudaStream,
    probe: TimerGapProbe,
    _ctx: Arc<CudaContext>,
}

impl GpuSide {
    fn new() -> Result<Self, ProbeError> {
        let ctx = CudaContext::new(0)?;
        let stream = CudaStream::new(&ctx, StreamPriority::Level(0))?;
        let probe = TimerGapProbe::new(&ctx)?;
        Ok(GpuSide { stream, probe, _ctx: ctx })
    }

    /// Runs the GPU probe; returns its summary, its gaps on the host timeline (placed by the
    /// launch time: the GPU's first read is taken as the moment of the launch) and the GPU
    /// timer's first read.
    fn run(self, t0: Instant, o: &ProbeOptions) -> Result<(GapSummary, Vec<Gap>, u64), ProbeError> {
        let launched = t0.elapsed().as_nanos() as u64;
        let g = self.probe.run(
            &self.stream,
            &TimerGapOptions {
                duration: aegis_trace::Duration::from_nanos(o.duration.as_nanos() as u64),
                threshold: aegis_trace::Duration::from_nanos(o.threshold.as_nanos() as u64),
                ..TimerGapOptions::default()
            },
        )?;
        let gaps: Vec<Gap> =
            g.gaps.iter().map(|x| Gap { at_ns: x.at_ns + launched, len_ns: x.len_ns }).collect();
        let s = GapSummary::new("gpu".into(), g.span_ns, g.reads, g.resolution_ns, g.count, &gaps);
        Ok((s, gaps, g.first_read_ns))
    }
}

impl PlatformReport {
    /// The console table: one row per source, then the longest stalls.
    pub fn table(&self) -> String {
        use std::fmt::Write;
        let ms = |ns: u64| ns as f64 / 1e6;
        let mut t = format!(
            "{:<10} {:>9} {:>7} {:>8} {:>9} {:>9} {:>7} {:>6} {:>9} {:>7} {:>8}\n",
            "source",
            "reads/s",
            "res ns",
            "stalls",
            "<100 µs",
            "<1 ms",
            "<10 ms",
            "≥10ms",
            "lost ms",
            "lost %",
            "max ms"
        );
        for s in self.host.iter().chain(&self.gpu) {
            let rate = if s.span_ns == 0 { 0.0 } else { s.reads as f64 / (s.span_ns as f64 / 1e9) };
            let _ = writeln!(
                t,
                "{:<10} {:>9.3e} {:>7} {:>8} {:>9} {:>9} {:>7} {:>6} {:>9.3} {:>7.4} {:>8.3}",
                s.source,
                rate,
                s.resolution_ns,
                s.count,
                s.classes[0],
                s.classes[1],
                s.classes[2],
                s.classes[3],
                ms(s.lost_ns),
                s.lost_fraction() * 100.0,
                ms(s.max_ns)
            );
        }
        for s in self.host.iter().chain(&self.gpu) {
            let top: Vec<String> = s
                .top
                .iter()
                .take(5)
                .map(|g| format!("{:.3} ms at {:.3} s", ms(g.len_ns), g.at_ns as f64 / 1e9))
                .collect();
            if !top.is_empty() {
                let _ = writeln!(t, "longest on {}: {}", s.source, top.join(", "));
            }
        }
        if self.gpu.is_some() {
            let (n, both) = self.gpu_long_stalls;
            let _ = writeln!(
                t,
                "GPU stalls ≥ 1 ms: {n}, of them {both} during a host stall ≥ 1 ms on a probed CPU"
            );
        }
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts() -> ProbeOptions {
        ProbeOptions {
            duration: Duration::from_millis(100),
            threshold: Duration::from_micros(50),
            cpus: vec![],
            rt_priority: None,
            gpu: false,
        }
    }

    #[test]
    fn a_host_only_probe_reports_every_cpu_asked() {
        let cpus = crate::runtime::allowed_cpus().unwrap();
        let o = ProbeOptions { cpus: cpus.iter().copied().take(2).collect(), ..opts() };
        let r = probe_platform(&o).unwrap();
        assert_eq!(r.host.len(), o.cpus.len());
        for (s, c) in r.host.iter().zip(&o.cpus) {
            assert_eq!(s.source, format!("cpu {c}"));
            assert!(s.span_ns >= 90_000_000 && s.reads > 1000, "{s:?}");
        }
        assert!(r.gpu.is_none());
        let table = r.table();
        assert!(table.contains("cpu ") && table.contains("max ms"), "{table}");
    }

    #[test]
    fn bad_options_and_a_missing_gpu_are_typed_errors() {
        let e = probe_platform(&ProbeOptions { duration: Duration::ZERO, ..opts() }).unwrap_err();
        assert!(e.to_string().contains("`duration`"), "{e}");
        let e = probe_platform(&ProbeOptions { threshold: Duration::ZERO, ..opts() }).unwrap_err();
        assert!(e.to_string().contains("`threshold`"), "{e}");
        let e = probe_platform(&ProbeOptions { cpus: vec![crate::deployment::MAX_CPU], ..opts() });
        assert!(e.unwrap_err().to_string().contains("host.cpus"));
        if !aegis_cuda::driver_available() {
            let e = probe_platform(&ProbeOptions { gpu: true, ..opts() }).unwrap_err();
            assert!(e.to_string().contains("--no-gpu"), "{e}");
        }
    }
}
