//! Run-time compiled kernels: NVRTC source → PTX → a loaded module and its functions.
//!
//! Owns [`CudaModule`] (RAII over `cuModuleLoadData`/`cuModuleUnload`) and [`compile`]. NVRTC is
//! loaded at run time like the driver; its absence is a typed error. It must not know what the
//! kernels compute.
//!
//! Coverage: GPU-only (every path past the driver check needs a device; its tests run on
//! the GPU machine, `cargo xtask gpu-bundle`).

use crate::context::CudaContext;
use crate::deferred::defer_result;
use crate::driver::{self, CUfunction, CUmodule};
use crate::error::{AegisCudaError, CudaResult};
use std::ffi::CString;
use std::sync::Arc;

/// True when NVRTC can be loaded.
pub fn nvrtc_available() -> bool {
    // SAFETY: probing only tries to dlopen candidate library names.
    unsafe { cudarc::nvrtc::sys::is_culib_present() }
}

/// Compiles CUDA C++ `source` to PTX with NVRTC. `name` labels errors.
///
/// # Errors
/// [`AegisCudaError::LibraryNotFound`] without NVRTC; [`AegisCudaError::Compile`] with the log.
pub fn compile(name: &str, source: &str) -> CudaResult<CString> {
    if !nvrtc_available() {
        return Err(AegisCudaError::LibraryNotFound { library: "nvrtc" });
    }
    let opts =
        cudarc::nvrtc::CompileOptions { name: Some(format!("{name}.cu")), ..Default::default() };
    let ptx = cudarc::nvrtc::compile_ptx_with_opts(source, opts)
        .map_err(|e| AegisCudaError::Compile { kernel: name.to_owned(), log: format!("{e:?}") })?;
    CString::new(ptx.to_src()).map_err(|_| AegisCudaError::Compile {
        kernel: name.to_owned(),
        log: "NVRTC returned PTX with an interior NUL byte".into(),
    })
}

/// A loaded module.
pub struct CudaModule {
    ctx: Arc<CudaContext>,
    raw: CUmodule,
}

// SAFETY: module and function handles may be used from any thread with the context current.
unsafe impl Send for CudaModule {}
// SAFETY: `&self` methods only look functions up, which the driver allows concurrently.
unsafe impl Sync for CudaModule {}

impl CudaModule {
    /// Loads PTX (or a cubin) into `ctx`.
    ///
    /// # Errors
    /// The failing driver call.
    pub fn load(ctx: &Arc<CudaContext>, image: &CString) -> CudaResult<Self> {
        ctx.bind()?;
        Ok(CudaModule { ctx: ctx.clone(), raw: driver::module_load_data(image)? })
    }

    /// The function `name` (an `extern "C"` kernel).
    ///
    /// # Errors
    /// [`AegisCudaError::InvalidArgument`] for a name with a NUL byte; the failing driver call.
    pub(crate) fn function(&self, name: &str) -> CudaResult<CUfunction> {
        let c = CString::new(name).map_err(|_| AegisCudaError::InvalidArgument {
            argument: "kernel name",
            problem: format!("{name:?} contains a NUL byte"),
            fix: "use a plain identifier",
        })?;
        self.ctx.bind()?;
        driver::module_get_function(self.raw, &c)
    }

    /// The context it was loaded into.
    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }
}

impl Drop for CudaModule {
    fn drop(&mut self) {
        defer_result("CudaModule", self.ctx.bind().and_then(|_| driver::module_unload(self.raw)));
    }
}
