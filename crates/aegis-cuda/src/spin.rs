//! The calibrated busy kernel: a `clock64()` spin compiled with NVRTC, a precise synthetic GPU
//! workload for tests and benchmarks of the layers above (and a deliberately faulting kernel
//! for fault-containment tests).
//!
//! Owns [`SpinKernel`] and its calibration (SM cycles per microsecond measured with events).
//! It must not know what a model is.
//!
//! Coverage: GPU-only (every path past the driver check needs a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::context::CudaContext;
use crate::driver::{self, CUfunction};
use crate::error::{AegisCudaError, CudaResult};
use crate::event::CudaEvent;
use crate::module::{CudaModule, compile};
use crate::stream::CudaStream;
use aegis_trace::Duration;
use std::ffi::c_void;
use std::sync::Arc;

const SOURCE: &str = r#"
extern "C" __global__ void aegis_spin(long long cycles, unsigned long long* out) {
    long long start = clock64();
    long long now = start;
    while (now - start < cycles) { now = clock64(); }
    if (out != 0 && threadIdx.x == 0) { out[blockIdx.x] = (unsigned long long)(now - start); }
}

__device__ __forceinline__ unsigned long long aegis_globaltimer() {
    unsigned long long t;
    asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
    return t;
}

// Spins for `ns` nanoseconds of wall-clock time (the GPU's %globaltimer), whatever the SM clock:
// a duration that dynamic clock scaling does not stretch.
extern "C" __global__ void aegis_spin_ns(unsigned long long ns) {
    unsigned long long start = aegis_globaltimer();
    while (aegis_globaltimer() - start < ns) { }
}

// Writes through an address that is never mapped: raises CUDA_ERROR_ILLEGAL_ADDRESS, a sticky
// error that poisons the context. Only for fault-containment tests.
extern "C" __global__ void aegis_fault(unsigned long long addr) {
    *((volatile int*)addr) = 1;
}
"#;

/// Result of [`SpinKernel::calibrate`].
#[derive(Clone, Debug, PartialEq)]
pub struct Calibration {
    /// SM clock cycles per microsecond of spin (slope of a least-squares fit).
    pub cycles_per_us: f64,
    /// Fixed cost per launch (intercept of the fit), microseconds.
    pub launch_overhead_us: f64,
    /// (cycles, measured duration) pairs the fit used.
    pub samples: Vec<(u64, Duration)>,
}

/// The spin kernel loaded into one context.
pub struct SpinKernel {
    module: CudaModule,
    spin: CUfunction,
    spin_ns: CUfunction,
    fault: CUfunction,
    calibration: Option<Calibration>,
}

// SAFETY: function handles are plain handles usable from any thread with the context current
// (every launch binds it); the module keeps them alive.
unsafe impl Send for SpinKernel {}
// SAFETY: launches through `&self` are thread-safe driver calls.
unsafe impl Sync for SpinKernel {}

impl SpinKernel {
    /// Compiles (NVRTC) and loads the kernels into `ctx`.
    ///
    /// # Errors
    /// NVRTC missing or failing; the failing driver call.
    pub fn new(ctx: &Arc<CudaContext>) -> CudaResult<Self> {
        let ptx = compile("aegis_spin", SOURCE)?;
        let module = CudaModule::load(ctx, &ptx)?;
        let spin = module.function("aegis_spin")?;
        let spin_ns = module.function("aegis_spin_ns")?;
        let fault = module.function("aegis_fault")?;
        Ok(SpinKernel { module, spin, spin_ns, fault, calibration: None })
    }

    /// Enqueues a spin of `cycles` SM cycles on `blocks` blocks of one thread each.
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] for zero blocks; the failing launch.
    pub fn launch_cycles(&self, stream: &CudaStream, cycles: u64, blocks: u32) -> CudaResult<()> {
        if blocks == 0 {
            return Err(AegisCudaError::InvalidArgument {
                argument: "blocks",
                problem: "zero blocks".into(),
                fix: "launch at least one block",
            });
        }
        let mut cycles = i64::try_from(cycles).unwrap_or(i64::MAX);
        let mut out: u64 = 0;
        let mut params = [(&raw mut cycles).cast::<c_void>(), (&raw mut out).cast::<c_void>()];
        self.module.context().bind()?;
        // SAFETY: two parameters matching `aegis_spin(long long, unsigned long long*)`; `out`
        // is null so the kernel writes nothing; the values outlive the call (copied at launch).
        unsafe { driver::launch_kernel(self.spin, blocks, 1, stream.as_raw(), &mut params) }
    }

    /// Measures SM cycles per microsecond on `stream` (spins of 1–8 M cycles timed by events,
    /// least-squares fit) and keeps the result for [`Self::launch_for`].
    ///
    /// # Errors
    /// The failing driver calls.
    pub fn calibrate(&mut self, stream: &CudaStream) -> CudaResult<&Calibration> {
        let ctx = self.module.context().clone();
        let (start, end) = (CudaEvent::timing(&ctx)?, CudaEvent::timing(&ctx)?);
        self.launch_cycles(stream, 100_000, 1)?; // warm-up
        stream.synchronize()?;
        let mut samples = Vec::new();
        for cycles in [1_000_000u64, 2_000_000, 4_000_000, 8_000_000] {
            for _ in 0..3 {
                stream.record_event(&start)?;
                self.launch_cycles(stream, cycles, 1)?;
                stream.record_event(&end)?;
                end.synchronize()?;
                samples.push((cycles, end.elapsed_since(&start)?));
            }
        }
        let n = samples.len() as f64;
        let xs: Vec<f64> = samples.iter().map(|(c, _)| *c as f64).collect();
        let ys: Vec<f64> = samples.iter().map(|(_, d)| d.as_nanos() as f64 / 1e3).collect();
        let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let sxx: f64 = xs.iter().map(|x| (x - mx) * (x - mx)).sum();
        let us_per_cycle = sxy / sxx;
        let cal = Calibration {
            cycles_per_us: 1.0 / us_per_cycle,
            launch_overhead_us: my - us_per_cycle * mx,
            samples,
        };
        Ok(self.calibration.insert(cal))
    }

    /// The last calibration.
    pub fn calibration(&self) -> Option<&Calibration> {
        self.calibration.as_ref()
    }

    /// Cycles that spin for `d` at the calibrated rate.
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] when not calibrated yet.
    pub fn cycles_for(&self, d: Duration) -> CudaResult<u64> {
        let cal = self.calibration.as_ref().ok_or(AegisCudaError::InvalidArgument {
            argument: "spin kernel",
            problem: "not calibrated".into(),
            fix: "call SpinKernel::calibrate first",
        })?;
        let us = d.as_nanos() as f64 / 1e3 - cal.launch_overhead_us.max(0.0);
        Ok((us.max(0.0) * cal.cycles_per_us).round() as u64)
    }

    /// Enqueues a spin of `d` of wall-clock time on `blocks` blocks, timed by the GPU's
    /// `%globaltimer`: unlike a cycle count, its length does not change when the driver lowers
    /// the SM clock of an idle GPU (measured on an H200: 360 MHz idle, 1980 MHz under load).
    /// Needs no calibration; the launch itself adds a few microseconds (see [`Calibration`]).
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] for zero blocks; the failing launch.
    pub fn launch_for(&self, stream: &CudaStream, d: Duration, blocks: u32) -> CudaResult<()> {
        if blocks == 0 {
            return Err(AegisCudaError::InvalidArgument {
                argument: "blocks",
                problem: "zero blocks".into(),
                fix: "launch at least one block",
            });
        }
        let mut ns: u64 = d.as_nanos();
        let mut params = [(&raw mut ns).cast::<c_void>()];
        self.module.context().bind()?;
        // SAFETY: one parameter matching `aegis_spin_ns(unsigned long long)`; the value is
        // copied at launch.
        unsafe { driver::launch_kernel(self.spin_ns, blocks, 1, stream.as_raw(), &mut params) }
    }

    /// Enqueues a kernel that writes through an unmapped address: the stream (and the whole
    /// context) then fails with `CUDA_ERROR_ILLEGAL_ADDRESS`. For fault-containment tests.
    ///
    /// # Errors
    /// The failing launch.
    pub fn launch_fault(&self, stream: &CudaStream) -> CudaResult<()> {
        let mut addr: u64 = 0x10;
        let mut params = [(&raw mut addr).cast::<c_void>()];
        self.module.context().bind()?;
        // SAFETY: one parameter matching `aegis_fault(unsigned long long)`; the kernel's
        // illegal access is the point: it faults the device context, not host memory.
        unsafe { driver::launch_kernel(self.fault, 1, 1, stream.as_raw(), &mut params) }
    }

    /// The context it was loaded into.
    pub fn context(&self) -> &Arc<CudaContext> {
        self.module.context()
    }
}
