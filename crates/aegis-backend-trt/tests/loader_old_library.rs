//! The loader refuses a libnvinfer whose version does not match the shim's headers, naming
//! both versions (its own test binary: the libraries are loaded once per process).

#[cfg(aegis_trt_shim)]
mod common;

#[cfg(aegis_trt_shim)]
#[test]
fn a_library_of_another_tensorrt_version_is_refused_with_both_versions_named() {
    use aegis_backend_trt::{TrtBackend, TrtOptions};
    use aegis_context::BackendError;
    let dir = common::scratch("old");
    let Some(lib) = common::fake_nvinfer(&dir, 80_602) else { return };
    // SAFETY: the only test of this binary; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("AEGIS_TRT_LIBRARY", &lib) };
    let e = TrtBackend::new(dir.join("m.engine"), TrtOptions::default()).unwrap_err();
    let BackendError::Unavailable { reason, .. } = &e else { panic!("{e:?}") };
    eprintln!("{reason}");
    assert!(reason.contains("is TensorRT 8.6.2"), "{reason}");
    assert!(reason.contains("major versions must match"), "{reason}");
    // Loaded once: the same answer again, without trying again.
    let again = TrtBackend::new(dir.join("m.engine"), TrtOptions::default()).unwrap_err();
    assert_eq!(again.to_string(), e.to_string());
    let _ = std::fs::remove_dir_all(&dir);
}
