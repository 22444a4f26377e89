//! Loading TensorRT and the CUDA driver at run time, once per process, as `aegis-cuda` loads
//! the driver through cudarc: the libraries are opened with `dlopen`, every entry point the
//! shim needs is probed before use, and anything missing is a typed error with the fix —
//! never a panic, and never a link-time dependency.
//!
//! Owns the library handles (kept for the life of the process: TensorRT objects must not
//! outlive their library) and the version check between the installed `libnvinfer` and the
//! headers the shim was compiled against. It must not create TensorRT objects.

use super::ffi;
use libloading::Library;
use std::ffi::c_void;
use std::sync::OnceLock;

/// The loaded libraries (kept open for the life of the process).
pub(crate) struct Loaded {
    _nvinfer: Library,
    _cuda: Library,
    library: String,
    lib_version: i32,
    header_version: i32,
    graphs: bool,
}

impl Loaded {
    /// `TensorRT 10.3.0 (libnvinfer.so.10; shim headers 10.3.0; CUDA graphs available)`.
    pub(crate) fn describe(&self) -> String {
        let v = |x: i32| format!("{}.{}.{}", x / 10000, x / 100 % 100, x % 100);
        format!(
            "TensorRT {} ({}; shim headers {}; CUDA graphs {})",
            v(self.lib_version),
            self.library,
            v(self.header_version),
            if self.graphs { "available" } else { "unavailable" }
        )
    }
}

static LOADED: OnceLock<Result<Loaded, String>> = OnceLock::new();

/// libloading's error with the system's reason (`dlerror`) appended.
fn dl_error(e: &libloading::Error) -> String {
    match std::error::Error::source(e) {
        Some(src) => format!("{e}: {src}"),
        None => e.to_string(),
    }
}

/// The libraries, loaded on first use; the error says what is missing and how to fix it.
pub(crate) fn loaded() -> Result<&'static Loaded, String> {
    LOADED.get_or_init(load).as_ref().map_err(Clone::clone)
}

fn symbol(lib: &Library, name: &str) -> Option<*mut c_void> {
    // SAFETY: looking a symbol up has no side effect; the address is only used as the entry
    // point the shim expects under this name.
    unsafe { lib.get::<*mut c_void>(name) }.ok().map(|s| *s).filter(|p| !p.is_null())
}

fn load() -> Result<Loaded, String> {
    let abi = ffi::aegis_trt_shim_abi();
    if abi != ffi::ABI {
        return Err(format!(
            "the compiled shim has ABI {abi}, this crate expects {}: rebuild aegis-backend-trt",
            ffi::ABI
        ));
    }
    let header_version = ffi::aegis_trt_header_version();
    let major = header_version / 10000;
    let default_name = format!("libnvinfer.so.{major}");
    let mut names = Vec::new();
    if let Some(p) = std::env::var_os("AEGIS_TRT_LIBRARY").filter(|p| !p.is_empty()) {
        names.push(p);
    }
    names.push(default_name.clone().into());
    let mut tried = Vec::new();
    let mut found = None;
    for n in &names {
        // SAFETY: loading TensorRT runs its library constructors, which only initialise
        // TensorRT's own state.
        match unsafe { Library::new(n) } {
            Ok(lib) => {
                found = Some((lib, n.to_string_lossy().into_owned()));
                break;
            }
            Err(e) => tried.push(dl_error(&e)),
        }
    }
    let Some((nvinfer, library)) = found else {
        let jetpack = if major == 10 { " (JetPack 6.1 and later ship TensorRT 10.3)" } else { "" };
        return Err(format!(
            "{default_name} (TensorRT {major}) could not be loaded [{}]: install TensorRT \
             {major}{jetpack}, add its lib folder to LD_LIBRARY_PATH, or set AEGIS_TRT_LIBRARY \
             to the library's path",
            tried.join("; ")
        ));
    };
    let missing = |name: &str| {
        format!("{library} has no symbol {name}: it is not a TensorRT {major} runtime library")
    };
    let create = symbol(&nvinfer, "createInferRuntime_INTERNAL")
        .ok_or_else(|| missing("createInferRuntime_INTERNAL"))?;
    // SAFETY: the C signature is `int32_t getInferLibVersion() noexcept`.
    let get_version = unsafe { nvinfer.get::<unsafe extern "C" fn() -> i32>("getInferLibVersion") }
        .map_err(|_| missing("getInferLibVersion"))?;
    // SAFETY: takes no arguments and has no side effects.
    let lib_version = unsafe { get_version() };
    if lib_version / 10000 != major || lib_version < 100100 {
        return Err(format!(
            "{library} is TensorRT {}.{}.{}, but the shim was compiled against TensorRT {}.{}.{} \
             headers: the major versions must match and the library must be at least 10.1; \
             rebuild with TENSORRT_ROOT pointing at the installed TensorRT",
            lib_version / 10000,
            lib_version / 100 % 100,
            lib_version % 100,
            major,
            header_version / 100 % 100,
            header_version % 100
        ));
    }
    // SAFETY: loading the CUDA driver runs no user code; cudarc may have loaded it already.
    let cuda = unsafe { Library::new("libcuda.so.1") }.map_err(|e| {
        format!(
            "the NVIDIA CUDA driver (libcuda.so.1) could not be loaded ({}): install the NVIDIA \
             driver",
            dl_error(&e)
        )
    })?;
    let required = |name: &str| {
        symbol(&cuda, name).ok_or_else(|| {
            format!("libcuda.so.1 has no symbol {name}: the driver is too old; update it")
        })
    };
    let optional = |name: &str| symbol(&cuda, name).unwrap_or(std::ptr::null_mut());
    let symbols = ffi::Symbols {
        create_infer_runtime: create,
        cu_stream_begin_capture: optional("cuStreamBeginCapture_v2"),
        cu_stream_end_capture: optional("cuStreamEndCapture"),
        cu_graph_instantiate: optional("cuGraphInstantiateWithFlags"),
        cu_graph_launch: optional("cuGraphLaunch"),
        cu_graph_exec_destroy: optional("cuGraphExecDestroy"),
        cu_graph_destroy: optional("cuGraphDestroy"),
        cu_memcpy_htod_async: required("cuMemcpyHtoDAsync_v2")?,
        cu_stream_query: required("cuStreamQuery")?,
        cu_get_error_name: required("cuGetErrorName")?,
        cu_get_error_string: required("cuGetErrorString")?,
    };
    let graphs = [
        symbols.cu_stream_begin_capture,
        symbols.cu_stream_end_capture,
        symbols.cu_graph_instantiate,
        symbols.cu_graph_launch,
        symbols.cu_graph_exec_destroy,
        symbols.cu_graph_destroy,
    ]
    .iter()
    .all(|p| !p.is_null());
    // SAFETY: `symbols` is a valid struct whose non-null members are the entry points named
    // in the header, from libraries kept open for the life of the process.
    let r = unsafe { ffi::aegis_trt_install(&symbols) };
    if r != ffi::OK {
        return Err(format!("the shim refused the TensorRT entry points (status {r})"));
    }
    Ok(Loaded { _nvinfer: nvinfer, _cuda: cuda, library, lib_version, header_version, graphs })
}
