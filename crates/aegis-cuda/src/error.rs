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

impl AegisCudaError {
    /// Sticky errors leave the CUDA context — and, as measured on an H200 with driver 580,
    /// every context of the process (ADR 0002) — unusable: "the process must be terminated
    /// and relaunched" (CUDA driver API documentation for these codes): illegal address (700),
    /// launch timeout (702), hardware stack error (714), illegal instruction (715), misaligned
    /// address (716), invalid address space (717), invalid PC (718), launch failed (719).
    pub fn is_sticky(&self) -> bool {
        matches!(self, AegisCudaError::Driver { code: 700 | 702 | 714..=719, .. })
    }
}

/// Result of the CUDA layer.
pub type CudaResult<T> = Result<T, AegisCudaError>;

#[cfg(test)]
mod tests {
    use super::*;

    fn driver(code: i32) -> AegisCudaError {
        AegisCudaError::Driver { call: "x", code, name: String::new(), description: String::new() }
    }

    #[test]
    fn sticky_codes_are_recognised() {
        for code in [700, 702, 714, 715, 716, 717, 718, 719] {
            assert!(driver(code).is_sticky(), "{code}");
        }
        for code in [1, 2, 201, 701, 720, 999] {
            assert!(!driver(code).is_sticky(), "{code}");
        }
        assert!(!AegisCudaError::DriverNotFound.is_sticky());
    }
}
