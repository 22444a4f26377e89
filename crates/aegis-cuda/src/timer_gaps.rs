//! The GPU stall probe: one GPU thread reads the GPU's `%globaltimer` in a tight loop and
//! records every step between two reads longer than a threshold: time during which the thread
//! did not run (the GPU was taken by another context, the driver or the firmware, or the
//! hypervisor held it). With nothing else on the GPU such a gap is a property of the platform,
//! not of any workload: the number a real-time claim has to be checked against.
//!
//! Owns [`TimerGapProbe`] and its result [`GpuTimerGaps`]. It must not know what a model is,
//! nor how gaps are summarised (the caller does that, beside its host-side probe).
//!
//! Coverage: GPU-only past the argument checks (its test runs on the GPU machine,
//! `cargo xtask gpu-bundle`).

use crate::DeviceBuffer;
use crate::context::CudaContext;
use crate::driver::{self, CUfunction};
use crate::error::{AegisCudaError, CudaResult};
use crate::module::{CudaModule, compile};
use crate::stream::CudaStream;
use aegis_trace::Duration;
use std::ffi::c_void;
use std::sync::Arc;

const SOURCE: &str = r#"
__device__ __forceinline__ unsigned long long aegis_globaltimer() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// One thread reads %globaltimer for `duration_ns`; every step longer than `threshold_ns` is a
// (timer before the gap, gap length) pair in `rec` (the first `cap`). `summary` gets: first
// read, last read, reads, smallest nonzero step, gaps counted (also past `cap`).
extern "C" __global__ void aegis_timer_gaps(unsigned long long duration_ns,
        unsigned long long threshold_ns, unsigned long long* rec, unsigned int cap,
        unsigned long long* summary) {
    if (threadIdx.x != 0 || blockIdx.x != 0) { return; }
    unsigned long long start = aegis_globaltimer();
    unsigned long long prev = start, reads = 1, min_step = ~0ull, count = 0;
    for (;;) {
        unsigned long long now = aegis_globaltimer();
        reads++;
        unsigned long long step = now - prev;
        if (step != 0 && step < min_step) { min_step = step; }
        if (step > threshold_ns) {
            if (count < cap) { rec[2 * count] = prev; rec[2 * count + 1] = step; }
            count++;
        }
        prev = now;
        if (now - start >= duration_ns) { break; }
    }
    summary[0] = start; summary[1] = prev; summary[2] = reads; summary[3] = min_step;
    summary[4] = count;
}
"#;

/// Summary words the kernel writes per chunk.
const SUMMARY_WORDS: usize = 5;

/// One gap the probe saw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerGap {
    /// When it began: nanoseconds after the probe's first timer read.
    pub at_ns: u64,
    /// Its length, nanoseconds.
    pub len_ns: u64,
    /// True for a gap between two probe kernels (it includes one kernel launch, a few
    /// microseconds); false for one inside a kernel.
    pub between_kernels: bool,
}

/// What one probe run saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GpuTimerGaps {
    /// The GPU timer at the probe's first read (`%globaltimer`, nanoseconds; on Linux close to
    /// the Unix time).
    pub first_read_ns: u64,
    /// Nanoseconds from the first read to the last.
    pub span_ns: u64,
    /// Timer reads.
    pub reads: u64,
    /// Smallest nonzero step between two reads: the timer's resolution as the thread saw it.
    pub resolution_ns: u64,
    /// Steps longer than the threshold, also those past the record cap.
    pub count: u64,
    /// The recorded gaps, in time order (at most the cap per kernel, plus gaps between
    /// kernels).
    pub gaps: Vec<TimerGap>,
}

/// The loaded probe kernel.
pub struct TimerGapProbe {
    module: CudaModule,
    func: CUfunction,
}

// SAFETY: a function handle is a plain handle usable from any thread with its context current
// (every launch binds it); the module keeps it alive.
unsafe impl Send for TimerGapProbe {}
// SAFETY: launches through `&self` are thread-safe driver calls.
unsafe impl Sync for TimerGapProbe {}

/// The probe's arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerGapOptions {
    /// How long to probe.
    pub duration: Duration,
    /// Steps longer than this are gaps (at least the timer's resolution, about 1 µs).
    pub threshold: Duration,
    /// Length of one probe kernel; the probe is a chain of them, so no kernel runs for long.
    pub kernel: Duration,
    /// Gaps recorded per kernel (more are counted, not recorded).
    pub cap_per_kernel: u32,
}

impl Default for TimerGapOptions {
    fn default() -> Self {
        TimerGapOptions {
            duration: Duration::from_secs(10),
            threshold: Duration::from_micros(20),
            kernel: Duration::from_millis(250),
            cap_per_kernel: 4096,
        }
    }
}

fn invalid(argument: &'static str, problem: String, fix: &'static str) -> AegisCudaError {
    AegisCudaError::InvalidArgument { argument, problem, fix }
}

impl TimerGapOptions {
    /// Number of probe kernels.
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] naming the field that is zero or out of range.
    pub fn kernels(&self) -> CudaResult<u32> {
        if self.duration.is_zero() || self.kernel.is_zero() {
            return Err(invalid(
                "duration",
                format!("duration {:?}, kernel {:?}", self.duration, self.kernel),
                "give a duration and a kernel length above zero",
            ));
        }
        if self.threshold < Duration::from_micros(1) {
            return Err(invalid(
                "threshold",
                format!("{:?}", self.threshold),
                "use at least 1 µs: the GPU timer's resolution is about that",
            ));
        }
        if self.cap_per_kernel == 0 || self.cap_per_kernel > 1 << 20 {
            return Err(invalid(
                "cap_per_kernel",
                self.cap_per_kernel.to_string(),
                "record 1 to 1,048,576 gaps per kernel",
            ));
        }
        let n = self.duration.as_nanos().div_ceil(self.kernel.as_nanos());
        u32::try_from(n).ok().filter(|&n| n <= 100_000).ok_or_else(|| {
            invalid(
                "kernel",
                format!("{n} kernels of {:?} for {:?}", self.kernel, self.duration),
                "use longer kernels: at most 100,000 per probe",
            )
        })
    }
}

impl TimerGapProbe {
    /// Compiles (NVRTC) and loads the probe kernel into `ctx`.
    ///
    /// # Errors
    /// NVRTC missing or failing; the failing driver call.
    pub fn new(ctx: &Arc<CudaContext>) -> CudaResult<Self> {
        let ptx = compile("aegis_timer_gaps", SOURCE)?;
        let module = CudaModule::load(ctx, &ptx)?;
        let func = module.function("aegis_timer_gaps")?;
        Ok(TimerGapProbe { module, func })
    }

    /// Probes on `stream` (one thread of one block; the rest of the GPU stays free) and waits
    /// for the result. The calling thread blocks in a stream synchronisation meanwhile.
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] for bad options; the failing driver call.
    pub fn run(&self, stream: &CudaStream, o: &TimerGapOptions) -> CudaResult<GpuTimerGaps> {
        let kernels = o.kernels()? as usize;
        let ctx = self.module.context();
        let cap = o.cap_per_kernel as usize;
        let rec = DeviceBuffer::new(ctx, (kernels * cap * 16) as u64)?;
        let summary = DeviceBuffer::new(ctx, (kernels * SUMMARY_WORDS * 8) as u64)?;
        ctx.bind()?;
        for k in 0..kernels {
            let remaining = o.duration.as_nanos() - (k as u64) * o.kernel.as_nanos();
            let mut duration_ns = remaining.min(o.kernel.as_nanos());
            let mut threshold_ns = o.threshold.as_nanos();
            let mut rec_ptr = rec.address() + (k * cap * 16) as u64;
            let mut cap_arg = o.cap_per_kernel;
            let mut sum_ptr = summary.address() + (k * SUMMARY_WORDS * 8) as u64;
            let mut params = [
                (&raw mut duration_ns).cast::<c_void>(),
                (&raw mut threshold_ns).cast::<c_void>(),
                (&raw mut rec_ptr).cast::<c_void>(),
                (&raw mut cap_arg).cast::<c_void>(),
                (&raw mut sum_ptr).cast::<c_void>(),
            ];
            // SAFETY: five parameters matching `aegis_timer_gaps(u64, u64, u64*, unsigned int,
            // u64*)`; both pointers address this kernel's slice of buffers that outlive the
            // stream synchronisation below; the values are copied at launch.
            unsafe { driver::launch_kernel(self.func, 1, 1, stream.as_raw(), &mut params)? };
        }
        stream.synchronize()?;
        let words = |buf: &DeviceBuffer| -> CudaResult<Vec<u64>> {
            let mut bytes = vec![0u8; buf.len() as usize];
            buf.copy_to_host(&mut bytes)?;
            Ok(bytes
                .chunks_exact(8)
                .map(|c| u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
                .collect())
        };
        let (rec_w, sum_w) = (words(&rec)?, words(&summary)?);
        Ok(assemble(&rec_w, &sum_w, cap, o.threshold.as_nanos()))
    }

    /// The context it was loaded into.
    pub fn context(&self) -> &Arc<CudaContext> {
        self.module.context()
    }
}

/// Builds the result from the kernels' raw words (host logic, tested without a GPU).
fn assemble(rec: &[u64], summary: &[u64], cap: usize, threshold_ns: u64) -> GpuTimerGaps {
    let kernels: Vec<&[u64]> = summary.chunks_exact(SUMMARY_WORDS).collect();
    let first = kernels.first().map_or(0, |s| s[0]);
    let mut out = GpuTimerGaps {
        first_read_ns: first,
        span_ns: kernels.last().map_or(0, |s| s[1].saturating_sub(first)),
        reads: kernels.iter().map(|s| s[2]).sum(),
        resolution_ns: kernels.iter().map(|s| s[3]).filter(|&r| r != u64::MAX).min().unwrap_or(0),
        count: 0,
        gaps: Vec::new(),
    };
    let mut prev_end: Option<u64> = None;
    for (k, s) in kernels.iter().enumerate() {
        if let Some(end) = prev_end {
            let len = s[0].saturating_sub(end);
            if len > threshold_ns {
                out.count += 1;
                out.gaps.push(TimerGap { at_ns: end - first, len_ns: len, between_kernels: true });
            }
        }
        prev_end = Some(s[1]);
        out.count += s[4];
        let recorded = (s[4] as usize).min(cap);
        for g in rec[k * cap * 2..].chunks_exact(2).take(recorded) {
            out.gaps.push(TimerGap {
                at_ns: g[0].saturating_sub(first),
                len_ns: g[1],
                between_kernels: false,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_inside_and_between_kernels_are_put_in_one_timeline() {
        // Two kernels, cap 2: the first saw 3 gaps (2 recorded), the second 1; 40 µs between
        // them (threshold 20 µs).
        let t0 = 1_000_000_000u64;
        let rec = [t0 + 100, 50_000, t0 + 200_000, 30_000, t0 + 400_000, 25_000, 0, 0];
        let summary = [
            t0,
            t0 + 250_000,
            1000,
            32,
            3, // kernel 0
            t0 + 290_000,
            t0 + 500_000,
            900,
            64,
            1, // kernel 1
        ];
        let g = assemble(&rec, &summary, 2, 20_000);
        assert_eq!(g.first_read_ns, t0);
        assert_eq!(g.span_ns, 500_000);
        assert_eq!(g.reads, 1900);
        assert_eq!(g.resolution_ns, 32);
        assert_eq!(g.count, 5, "3 + 1 inside, 1 between");
        let lens: Vec<(u64, u64, bool)> =
            g.gaps.iter().map(|g| (g.at_ns, g.len_ns, g.between_kernels)).collect();
        assert_eq!(
            lens,
            vec![
                (100, 50_000, false),
                (200_000, 30_000, false),
                (250_000, 40_000, true),
                (400_000, 25_000, false),
            ]
        );
    }

    #[test]
    fn a_short_gap_between_kernels_is_not_a_gap() {
        let summary = [10, 100, 5, 1, 0, 105, 200, 5, 1, 0];
        let g = assemble(&[0; 4], &summary, 1, 20);
        assert_eq!(g.count, 0);
        assert!(g.gaps.is_empty());
        assert_eq!(g.span_ns, 190);
    }

    #[test]
    fn bad_options_name_the_field() {
        let ok = TimerGapOptions::default();
        assert_eq!(ok.kernels().unwrap(), 40);
        let e = TimerGapOptions { threshold: Duration::from_nanos(10), ..ok }.kernels();
        assert!(e.unwrap_err().to_string().contains("threshold"));
        let e = TimerGapOptions { duration: Duration::ZERO, ..ok }.kernels();
        assert!(e.unwrap_err().to_string().contains("duration"));
        let e = TimerGapOptions { cap_per_kernel: 0, ..ok }.kernels();
        assert!(e.unwrap_err().to_string().contains("cap_per_kernel"));
        let e = TimerGapOptions { kernel: Duration::from_micros(1), ..ok }.kernels();
        assert!(e.unwrap_err().to_string().contains("kernel"));
    }
}
