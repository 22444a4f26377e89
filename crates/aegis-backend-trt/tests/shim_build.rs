//! Which way the crate was built, proven: without TensorRT headers the shim is absent and
//! `TrtBackend::new` says "built without TensorRT"; with them (`cfg(aegis_trt_shim)`) the
//! compiled shim is linked in, reports the header version, references no TensorRT or CUDA
//! symbol at link time (binaries start without TensorRT), and a missing libnvinfer at run time
//! is a typed error too.

use aegis_backend_trt::{ShimStatus, TrtBackend, TrtOptions, shim_status};
use aegis_context::BackendError;

#[test]
fn new_without_tensorrt_is_a_typed_unavailable_error() {
    let e = TrtBackend::new("model.engine", TrtOptions::default()).unwrap_err();
    let BackendError::Unavailable { engine, reason } = &e else { panic!("{e:?}") };
    assert_eq!(engine, "tensorrt");
    eprintln!("TrtBackend::new here: {e}");
    let status = shim_status();
    assert_eq!(matches!(status, ShimStatus::Built { .. }), cfg!(aegis_trt_shim));
    match status {
        ShimStatus::NotBuilt { reason: why } => {
            assert!(reason.starts_with("built without TensorRT (set TENSORRT_ROOT"), "{reason}");
            assert!(reason.contains(why), "{reason}");
        }
        ShimStatus::Built { .. } => {
            // No machine here has libnvinfer; with one, this test does not apply.
            if reason.contains("could not be loaded") {
                assert!(reason.contains("libnvinfer.so."), "{reason}");
                assert!(reason.contains("AEGIS_TRT_LIBRARY"), "{reason}");
            }
        }
    }
}

#[cfg(aegis_trt_shim)]
mod compiled {
    use super::*;
    use std::ffi::{CStr, c_char, c_void};

    #[repr(C)]
    struct Symbols {
        create_infer_runtime: *mut c_void,
        cu: [*mut c_void; 10],
    }

    #[repr(C)]
    struct Message {
        origin: i32,
        code: i32,
        call: *const c_char,
        name: *const c_char,
        text: *const c_char,
    }

    unsafe extern "C" {
        safe fn aegis_trt_shim_abi() -> i32;
        safe fn aegis_trt_header_version() -> i32;
        fn aegis_trt_install(s: *const Symbols) -> i32;
        safe fn aegis_trt_engine_new() -> *mut c_void;
        fn aegis_trt_engine_free(e: *mut c_void);
        fn aegis_trt_engine_load(e: *mut c_void, plan: *const c_void, len: usize) -> i32;
        fn aegis_trt_enqueue(e: *mut c_void, stream: *mut c_void) -> i32;
        fn aegis_trt_graph_launch(e: *mut c_void, stream: *mut c_void) -> i32;
        fn aegis_trt_memcpy_htod_async(
            e: *mut c_void,
            dst: u64,
            src: *const c_void,
            len: usize,
            stream: *mut c_void,
        ) -> i32;
        fn aegis_trt_message_count(e: *const c_void) -> i32;
        fn aegis_trt_message_get(e: *const c_void, i: i32, out: *mut Message) -> i32;
    }

    unsafe extern "C" fn null_runtime(_logger: *mut c_void, _version: i32) -> *mut c_void {
        std::ptr::null_mut()
    }
    unsafe extern "C" fn failing_copy(_: u64, _: *const c_void, _: usize, _: *mut c_void) -> i32 {
        700
    }
    unsafe extern "C" fn error_name(_code: i32, out: *mut *const c_char) -> i32 {
        // SAFETY: `out` is the shim's valid out-pointer; the string is static.
        unsafe { *out = c"CUDA_ERROR_ILLEGAL_ADDRESS".as_ptr() };
        0
    }
    unsafe extern "C" fn error_string(_code: i32, out: *mut *const c_char) -> i32 {
        // SAFETY: as `error_name`.
        unsafe { *out = c"an illegal memory access was encountered".as_ptr() };
        0
    }

    fn message(e: *mut c_void, i: i32) -> (i32, i32, String, String, String) {
        let mut m = Message {
            origin: -1,
            code: 0,
            call: std::ptr::null(),
            name: std::ptr::null(),
            text: std::ptr::null(),
        };
        // SAFETY: `e` is live, `m` a valid out-pointer.
        assert_eq!(unsafe { aegis_trt_message_get(e, i, &mut m) }, 0);
        // SAFETY: the shim's strings are NUL-terminated and live until cleared.
        let s = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
        (m.origin, m.code, s(m.call), s(m.name), s(m.text))
    }

    #[test]
    fn the_shim_is_linked_and_reports_the_header_version() {
        assert_eq!(aegis_trt_shim_abi(), 1);
        let v = aegis_trt_header_version();
        let ShimStatus::Built { header_version } = shim_status() else { panic!() };
        let parts: Vec<i32> = header_version.split('.').map(|p| p.parse().unwrap()).collect();
        assert_eq!(v, parts[0] * 10000 + parts[1] * 100 + parts[2], "{header_version}");
        assert!(v >= 100100, "{v}");
    }

    #[test]
    fn the_shim_references_no_tensorrt_or_cuda_symbol() {
        let lib = env!("AEGIS_TRT_SHIM_LIB");
        if !std::path::Path::new(lib).is_file() {
            eprintln!("{lib} is not on this machine (binary moved): skipped the symbol check");
            return;
        }
        let Ok(out) = std::process::Command::new("nm").args(["-u", lib]).output() else {
            eprintln!("nm not available: skipped the symbol check of {lib}");
            return;
        };
        assert!(out.status.success(), "nm -u {lib}");
        let undefined = String::from_utf8_lossy(&out.stdout);
        for line in undefined.lines() {
            let sym = line.split_whitespace().last().unwrap_or("");
            let bad = sym.contains("nvinfer")
                || sym.contains("createInferRuntime")
                || sym.contains("getInferLibVersion")
                || sym.starts_with("cu")
                || sym.starts_with("cuda");
            assert!(!bad, "the shim links {sym} directly: {lib}");
        }
    }

    /// One test: installing entry points is process-wide.
    #[test]
    fn the_shim_reports_failures_as_statuses_and_messages() {
        let e = aegis_trt_engine_new();
        assert!(!e.is_null());
        let plan = [1u8; 16];
        // SAFETY: live handle, valid plan pointer.
        unsafe {
            assert_eq!(aegis_trt_engine_load(e, plan.as_ptr().cast(), 0), 4, "empty plan");
            assert_eq!(
                aegis_trt_engine_load(e, plan.as_ptr().cast(), plan.len()),
                3,
                "not installed"
            );
            assert_eq!(aegis_trt_enqueue(e, std::ptr::null_mut()), 4, "no context");
            assert_eq!(aegis_trt_graph_launch(e, std::ptr::null_mut()), 4, "no graph");
            assert_eq!(aegis_trt_install(std::ptr::null()), 4);
        }
        let mut cu = [std::ptr::null_mut(); 10];
        cu[6] = failing_copy as *mut c_void; // cu_memcpy_htod_async
        cu[8] = error_name as *mut c_void;
        cu[9] = error_string as *mut c_void;
        let syms = Symbols { create_infer_runtime: null_runtime as *mut c_void, cu };
        // SAFETY: the entry points match the header's signatures; the handle is live.
        unsafe {
            assert_eq!(aegis_trt_install(&syms), 0);
            assert_eq!(aegis_trt_engine_load(e, plan.as_ptr().cast(), plan.len()), 1);
            let (origin, _, call, _, text) = message(e, 0);
            assert_eq!((origin, call.as_str()), (3, "createInferRuntime"));
            assert!(text.contains("returned null"), "{text}");
            let data = [0u8; 8];
            let st = aegis_trt_memcpy_htod_async(
                e,
                0x1000,
                data.as_ptr().cast(),
                8,
                std::ptr::null_mut(),
            );
            assert_eq!(st, 2, "CUDA failure");
            let n = aegis_trt_message_count(e);
            let (origin, code, call, name, text) = message(e, n - 1);
            assert_eq!((origin, code, call.as_str()), (2, 700, "cuMemcpyHtoDAsync"));
            assert_eq!(name, "CUDA_ERROR_ILLEGAL_ADDRESS");
            assert_eq!(text, "an illegal memory access was encountered");
            aegis_trt_engine_free(e);
        }
    }
}
