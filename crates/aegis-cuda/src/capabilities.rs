//! Hardware capability discovery.
//!
//! Owns [`DeviceCapabilities`]: what a scheduler and a memory planner need to know about a
//! device, read once when a context is created. It must not know how the numbers are used.
//!
//! Coverage: GPU-only (every path past the driver check needs a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::driver::{self, CUdevice};
use crate::error::CudaResult;
use cudarc::driver::sys::CUdevice_attribute as A;

/// What a device can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCapabilities {
    /// Device ordinal.
    pub ordinal: usize,
    /// Marketing name (`NVIDIA H100 80GB HBM3`, `Orin`).
    pub name: String,
    /// Compute capability (major, minor).
    pub compute_capability: (i32, i32),
    /// Streaming multiprocessors.
    pub sm_count: i32,
    /// Total device memory, bytes.
    pub memory_total: u64,
    /// Free device memory when the capabilities were read, bytes.
    pub memory_free: u64,
    /// Peak SM clock, kHz.
    pub clock_rate_khz: i32,
    /// Peak memory clock, kHz.
    pub memory_clock_rate_khz: i32,
    /// L2 cache, bytes.
    pub l2_cache_bytes: i32,
    /// Whether kernels from different streams may run concurrently.
    pub concurrent_kernels: bool,
    /// Stream priority range: least priority (largest number).
    pub stream_priority_least: i32,
    /// Stream priority range: greatest priority (smallest number).
    pub stream_priority_greatest: i32,
    /// An integrated GPU sharing memory with the CPU (true on Jetson).
    pub integrated: bool,
    /// Unified addressing / managed memory support.
    pub unified_memory: bool,
    /// Driver version (e.g. 13000 for CUDA 13.0).
    pub driver_version: i32,
}

impl DeviceCapabilities {
    /// Reads the capabilities of `dev`; the device's context must be current (for the free
    /// memory and the priority range).
    pub(crate) fn query(ordinal: usize, dev: CUdevice) -> CudaResult<Self> {
        let attr = |a| driver::device_attribute(dev, a);
        let (memory_free, _) = driver::mem_get_info()?;
        let (least, greatest) = driver::ctx_stream_priority_range()?;
        Ok(DeviceCapabilities {
            ordinal,
            name: driver::device_name(dev)?,
            compute_capability: (
                attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)?,
                attr(A::CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)?,
            ),
            sm_count: attr(A::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?,
            memory_total: driver::device_total_mem(dev)?,
            memory_free,
            clock_rate_khz: attr(A::CU_DEVICE_ATTRIBUTE_CLOCK_RATE)?,
            memory_clock_rate_khz: attr(A::CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE)?,
            l2_cache_bytes: attr(A::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)?,
            concurrent_kernels: attr(A::CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS)? != 0,
            stream_priority_least: least,
            stream_priority_greatest: greatest,
            integrated: attr(A::CU_DEVICE_ATTRIBUTE_INTEGRATED)? != 0,
            unified_memory: attr(A::CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY)? != 0,
            driver_version: driver::driver_version()?,
        })
    }
}
