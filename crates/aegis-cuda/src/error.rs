//! Errors of the CUDA layer.
//!
//! Owns [`AegisCudaError`]: every driver call's failure carries the call's name and the driver's
//! own error name and text; every refusal of bad input names the argument and the fix.

use crate::pool::LeakReport;

/// What can go wrong in the CUDA layer.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AegisCudaError {
    /// No CUDA driver library (`libcuda.so`) could be loaded on this machine.
    #[error(
        "the NVIDIA CUDA driver (libcuda.so.1) was not found: install the NVIDIA driver, or run \
         on a machine with an NVIDIA GPU (set LD_LIBRARY_PATH if it is installed in a \
         non-standard place)"
    )]
    DriverNotFound,
    /// A CUDA library other than the driver (NVRTC, cuBLAS) could not be loaded.
    #[error(
        "the CUDA library {library} was not found: install the CUDA toolkit's {library} (or add its folder to LD_LIBRARY_PATH)"
    )]
    LibraryNotFound {
        /// `"nvrtc"` or `"cublas"`.
        library: &'static str,
    },
    /// The driver lacks a symbol these bindings need (driver older than CUDA 13.0's API).
    #[error(
        "the CUDA driver has no symbol {symbol}: the driver is older than the CUDA API this build targets; update the NVIDIA driver"
    )]
    MissingSymbol {
        /// The symbol.
        symbol: &'static str,
    },
    /// A driver call returned an error.
    #[error("{call} failed: {name} ({code}): {description}")]
    Driver {
        /// The driver function that failed.
        call: &'static str,
        /// The numeric `CUresult`.
        code: i32,
        /// The driver's name for it (`CUDA_ERROR_OUT_OF_MEMORY`).
        name: String,
        /// The driver's description.
        description: String,
    },
    /// No device with this ordinal.
    #[error(
        "no CUDA device with ordinal {ordinal}: this machine has {count} device(s); use 0..{count}"
    )]
    InvalidDevice {
        /// Requested ordinal.
        ordinal: usize,
        /// Devices present.
        count: usize,
    },
    /// A stream priority outside the device's range.
    #[error(
        "stream priority {requested} is outside the device range {greatest}..={least} (lower number = higher priority); pick a value in that range"
    )]
    InvalidPriority {
        /// Requested CUDA priority.
        requested: i32,
        /// Least (lowest) priority, the largest number.
        least: i32,
        /// Greatest (highest) priority, the smallest number.
        greatest: i32,
    },
    /// An argument that cannot be used.
    #[error("invalid {argument}: {problem}; {fix}")]
    InvalidArgument {
        /// Which argument.
        argument: &'static str,
        /// What is wrong.
        problem: String,
        /// How to fix it.
        fix: &'static str,
    },
    /// The pool cannot satisfy an allocation.
    #[error(
        "memory pool exhausted: {requested} bytes requested (tag {tag:?}), {available} bytes free, largest free block {largest_free} bytes; raise the pool capacity or release memory"
    )]
    PoolExhausted {
        /// Bytes requested.
        requested: u64,
        /// Tag of the request.
        tag: String,
        /// Free bytes in total.
        available: u64,
        /// Largest contiguous free block.
        largest_free: u64,
    },
    /// NVRTC failed to compile a kernel.
    #[error("NVRTC failed to compile {kernel}: {log}")]
    Compile {
        /// Kernel name.
        kernel: String,
        /// Compiler log.
        log: String,
    },
    /// A cuBLAS call failed.
    #[error("{call} failed: {status}")]
    Cublas {
        /// The cuBLAS function.
        call: &'static str,
        /// cuBLAS status.
        status: String,
    },
    /// A pool was closed while allocations were still live.
    #[error("{0}")]
    Leaked(LeakReport),
    /// A timed wait expired.
    #[error("{what} did not complete within {waited_ms} ms")]
    Timeout {
        /// What was awaited.
        what: &'static str,
        /// How long.
        waited_ms: u64,
    },
}

/// Result of the CUDA layer.
pub type CudaResult<T> = Result<T, AegisCudaError>;
