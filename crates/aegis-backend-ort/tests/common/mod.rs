//! Shared helpers of the integration tests: the repository's example models, the reference
//! input and outputs (`examples/models/manifest.json`), and the ONNX Runtime gate.
#![allow(dead_code, unreachable_pub)]

use aegis_backend_ort::{OrtRuntime, runtime};
use aegis_context::TensorData;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Once;

/// The two example models.
pub const MODELS: [&str; 2] = ["squeezenet1_1", "mobilenet_v3_small"];

/// `examples/models/<file>` of the repository.
pub fn model_file(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../examples/models").join(file)
}

/// The reference input: `x[i] = sin(0.001 * i)` in f64, rounded to f32, shape [1, 3, 224, 224].
pub fn reference_input() -> TensorData {
    let shape = vec![1, 3, 224, 224];
    let n: usize = shape.iter().product();
    let data = (0..n).map(|i| (0.001 * i as f64).sin() as f32).collect();
    TensorData { name: "input".into(), shape, data }
}

/// The expected output of `model` (raw little-endian f32).
pub fn expected_output(model: &str) -> Vec<f32> {
    let bytes = std::fs::read(model_file(&format!("{model}.expected.f32"))).unwrap();
    bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect()
}

/// (max |a − b|, max |a − b| / max |b|).
pub fn errors(got: &[f32], want: &[f32]) -> (f32, f32) {
    assert_eq!(got.len(), want.len(), "output length");
    let max_abs_diff = got.iter().zip(want).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    let scale = want.iter().map(|b| b.abs()).fold(0.0f32, f32::max);
    (max_abs_diff, max_abs_diff / scale)
}

/// The process's ONNX Runtime, or `None` (after a note on stderr that is not captured) when
/// it is unavailable. With `AEGIS_REQUIRE_ORT=1` (as `cargo xtask ci` sets) unavailability
/// fails the test instead: CI must not skip these silently.
pub fn ort_or_skip(test: &str) -> Option<&'static OrtRuntime> {
    static NOTE: Once = Once::new();
    match runtime(None) {
        Ok(rt) => Some(rt),
        Err(e) => {
            let required = std::env::var("AEGIS_REQUIRE_ORT").is_ok_and(|v| v == "1");
            assert!(!required, "AEGIS_REQUIRE_ORT=1 but ONNX Runtime is unavailable: {e}");
            NOTE.call_once(|| {
                let _ = writeln!(
                    std::io::stderr(),
                    "note: SKIPPING the ONNX Runtime tests of aegis-backend-ort: {e} \
                     (set AEGIS_REQUIRE_ORT=1 to make this a failure)"
                );
            });
            let _ = writeln!(std::io::stderr(), "note: skipped {test}: ONNX Runtime unavailable");
            None
        }
    }
}
