//! ONNX Runtime that cannot be used: every way of failing to load it is a typed
//! `BackendError::Unavailable` saying what is wrong and how to fix it — never a panic.
//!
//! Its own test binary (so its own process): nothing here loads a library successfully, so the
//! "one ONNX Runtime per process" rule never hides the error under test. These need no ONNX
//! Runtime and always run.

mod common;

use aegis_backend_ort::{OrtBackend, OrtOptions, runtime};
use aegis_context::BackendError;
use common::model_file;
use std::path::{Path, PathBuf};

fn temp_file(name: &str, contents: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aegis-ort-unavailable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join(name);
    std::fs::write(&p, contents).unwrap();
    p
}

fn unavailable_reason(library: &Path) -> String {
    let options = OrtOptions { library: Some(library.to_path_buf()), ..Default::default() };
    match OrtBackend::load(model_file("squeezenet1_1.onnx"), &options) {
        Err(BackendError::Unavailable { engine, reason }) => {
            assert_eq!(engine, "onnxruntime");
            reason
        }
        other => panic!("expected Unavailable for {}, got {other:?}", library.display()),
    }
}

#[test]
fn a_missing_library_says_how_to_install_one() {
    let reason = unavailable_reason(Path::new("/nonexistent/libonnxruntime.so"));
    assert!(reason.contains("/nonexistent/libonnxruntime.so"), "{reason}");
    assert!(reason.contains("pip install onnxruntime==1.32.0"), "{reason}");
}

#[test]
fn a_file_that_is_not_a_library_fails_to_load() {
    let fake = temp_file("libonnxruntime.so", b"this is not an ELF file");
    let reason = unavailable_reason(&fake);
    assert!(reason.contains("could not be loaded"), "{reason}");
    assert!(reason.contains("ORT_DYLIB_PATH"), "{reason}");
}

#[test]
fn a_library_without_the_onnx_runtime_api_is_refused() {
    // A real shared library of this target that is not ONNX Runtime (glibc's libm).
    let arch = std::env::consts::ARCH;
    let libm = [
        format!("/lib/{arch}-linux-gnu/libm.so.6"),
        format!("/usr/lib/{arch}-linux-gnu/libm.so.6"),
    ]
    .into_iter()
    .map(PathBuf::from)
    .find(|p| p.is_file());
    let Some(libm) = libm else {
        println!("note: no libm.so.6 at the usual paths; skipped");
        return;
    };
    let reason = unavailable_reason(&libm);
    assert!(reason.contains("OrtGetApiBase"), "{reason}");
}

#[test]
fn a_too_old_version_is_refused_before_loading() {
    let old = temp_file("libonnxruntime.so.1.22.0", b"never opened");
    let reason = unavailable_reason(&old);
    assert!(reason.contains("is ONNX Runtime 1.22.0, older than the 1.31"), "{reason}");
}

#[test]
fn runtime_with_a_bad_path_is_an_error_not_a_panic() {
    let e = runtime(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
    assert!(e.to_string().starts_with("onnxruntime is not available:"), "{e}");
}
