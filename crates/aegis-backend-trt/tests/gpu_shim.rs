//! On a machine with a CUDA driver (no TensorRT needed): the compiled shim's stream-ordered
//! input upload and its CUDA error reporting, through the real driver entry points the loader
//! would hand it. Skips (passing) without a driver. Its own test binary: entry points are
//! installed process-wide.

#[cfg(aegis_trt_shim)]
#[test]
fn the_shim_uploads_on_a_real_stream_and_reports_real_driver_errors() {
    use aegis_cuda::{CudaContext, CudaStream, DeviceBuffer, StreamPriority, driver_available};
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
        fn aegis_trt_install(s: *const Symbols) -> i32;
        safe fn aegis_trt_engine_new() -> *mut c_void;
        fn aegis_trt_engine_free(e: *mut c_void);
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
    unsafe extern "C" fn null_runtime(_: *mut c_void, _: i32) -> *mut c_void {
        std::ptr::null_mut()
    }

    // Also links the crate (and so the shim) into this test binary.
    let built = aegis_backend_trt::shim_status();
    assert!(matches!(built, aegis_backend_trt::ShimStatus::Built { .. }));
    if !driver_available() {
        eprintln!("no CUDA driver here: skipped");
        return;
    }
    let ctx = CudaContext::new(0).unwrap();
    let stream = CudaStream::new(&ctx, StreamPriority::Lowest).unwrap();
    // SAFETY: loading the driver again returns the handle cudarc already holds.
    let cuda = unsafe { libloading::Library::new("libcuda.so.1") }.unwrap();
    // SAFETY: symbol lookups only.
    let sym = |n: &str| unsafe { *cuda.get::<*mut c_void>(n).unwrap() };
    let names = [
        "cuStreamBeginCapture_v2",
        "cuStreamEndCapture",
        "cuGraphInstantiateWithFlags",
        "cuGraphLaunch",
        "cuGraphExecDestroy",
        "cuGraphDestroy",
        "cuMemcpyHtoDAsync_v2",
        "cuStreamQuery",
        "cuGetErrorName",
        "cuGetErrorString",
    ];
    let mut cu = [std::ptr::null_mut(); 10];
    for (slot, n) in cu.iter_mut().zip(names) {
        *slot = sym(n);
    }
    let syms = Symbols { create_infer_runtime: null_runtime as *mut c_void, cu };
    let buf = DeviceBuffer::new(&ctx, 4096).unwrap();
    let src: Vec<u8> = (0..4096u32).map(|i| (i * 7) as u8).collect();
    let e = aegis_trt_engine_new();
    // SAFETY: real driver entry points with the header's signatures; live handle, buffer and
    // stream; `src` outlives the calls.
    unsafe {
        assert_eq!(aegis_trt_install(&syms), 0);
        let raw: *mut c_void = stream.as_raw().cast();
        let st = aegis_trt_memcpy_htod_async(e, buf.address(), src.as_ptr().cast(), 4096, raw);
        assert_eq!(st, 0);
        stream.synchronize().unwrap();
        let mut back = vec![0u8; 4096];
        buf.copy_to_host(&mut back).unwrap();
        assert_eq!(back, src, "the upload through the shim landed");
        let st = aegis_trt_memcpy_htod_async(e, 0x8, src.as_ptr().cast(), 16, raw);
        assert_eq!(st, 2, "an invalid destination is a CUDA failure");
        let n = aegis_trt_message_count(e);
        let mut m = Message {
            origin: 0,
            code: 0,
            call: std::ptr::null(),
            name: std::ptr::null(),
            text: std::ptr::null(),
        };
        assert_eq!(aegis_trt_message_get(e, n - 1, &mut m), 0);
        let name = CStr::from_ptr(m.name).to_string_lossy().into_owned();
        let text = CStr::from_ptr(m.text).to_string_lossy().into_owned();
        eprintln!("driver said: {name} ({}): {text}", m.code);
        assert_eq!(m.origin, 2);
        assert!(m.code != 0 && name.starts_with("CUDA_ERROR_"), "{name}");
        aegis_trt_engine_free(e);
    }
    stream.synchronize().unwrap();
}
