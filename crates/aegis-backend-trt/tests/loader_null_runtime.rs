//! The loader accepts a libnvinfer of the right version; without a CUDA driver that is the
//! next typed error, and with one (a GPU machine) the shim's refusal of a null IRuntime comes
//! back as a load error — the real path through the shim, short of TensorRT itself.

#[cfg(aegis_trt_shim)]
mod common;

#[cfg(aegis_trt_shim)]
#[test]
fn a_runtime_that_cannot_be_created_is_a_typed_error() {
    use aegis_backend_trt::{ShimStatus, TrtBackend, TrtOptions, shim_status};
    use aegis_context::BackendError;
    let ShimStatus::Built { header_version } = shim_status() else { panic!() };
    let v: Vec<i32> = header_version.split('.').map(|p| p.parse().unwrap()).collect();
    if v[0] != 10 {
        eprintln!("headers {header_version}: the stand-in is libnvinfer.so.10; skipped");
        return;
    }
    let dir = common::scratch("null");
    let Some(lib) = common::fake_nvinfer(&dir, v[0] * 10000 + v[1] * 100 + v[2]) else { return };
    // SAFETY: the only test of this binary; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("AEGIS_TRT_LIBRARY", &lib) };
    let plan = dir.join("m.engine");
    std::fs::write(&plan, [7u8; 64]).unwrap();
    let e = TrtBackend::new(&plan, TrtOptions::default()).unwrap_err();
    eprintln!("TrtBackend::new: {e}");
    match &e {
        BackendError::Unavailable { reason, .. } => {
            assert!(reason.contains("libcuda.so.1"), "{reason}");
            assert!(!aegis_cuda::driver_available());
        }
        BackendError::Cuda(c) => {
            // A driver without a usable device.
            assert!(!c.is_sticky(), "{c}");
        }
        BackendError::Load { path, reason } => {
            assert_eq!(path, &plan.display().to_string());
            assert!(reason.contains("createInferRuntime_INTERNAL returned null"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}
