//! The real boundary: [`crate::TrtApi`] over the compiled C++ shim, with `libnvinfer` and
//! `libcuda` loaded at run time (only in builds with `cfg(aegis_trt_shim)`).
//!
//! Owns the FFI declarations (`ffi`), loading and probing the libraries (`loader`), and the
//! handle types (`engine`). It must not validate or decide anything the backend above does.

mod engine;
pub(crate) mod ffi;
mod loader;

use crate::ENGINE;
use crate::boundary::TrtApi;
use aegis_context::BackendError;
use aegis_cuda::CudaContext;
use std::sync::Arc;

pub(crate) use loader::loaded;

/// Loads TensorRT (once per process) and returns the API bound to `ctx` (default: the primary
/// context of device 0).
pub(crate) fn open(
    ctx: Option<Arc<CudaContext>>,
) -> Result<(Arc<dyn TrtApi>, Arc<CudaContext>), BackendError> {
    let lib =
        loaded().map_err(|reason| BackendError::Unavailable { engine: ENGINE.into(), reason })?;
    let ctx = match ctx {
        Some(c) => c,
        None => CudaContext::new(0)?,
    };
    let api = engine::RealTrt::new(ctx.clone(), lib.describe());
    Ok((Arc::new(api), ctx))
}
