//! Engine choices end to end: an ONNX Runtime model with its `[models.options]` table through
//! the real runtime, option mistakes named, and GPU engines refused with a typed error when no
//! CUDA device was opened.

mod common;

use aegisrt::backends::{self, BackendBuildError};
use aegisrt::context::BackendError;
use common::{parse, prepare, row, run, scratch};

fn ort_deployment(options: &str) -> String {
    format!(
        r#"
name = "e2e-ort"
policy = "edf"
lanes = 1
pool_mib = 64

[[models]]
name = "squeeze-ort"
backend = "ort"
model = "models/squeezenet1_1.onnx"
period_ms = 100
priority = 0
wcet_us = 60000
options = {options}
"#
    )
}

/// The build error's engine-level cause.
fn cause(e: &BackendBuildError) -> &BackendError {
    &e.source
}

#[test]
fn an_ort_model_runs_through_the_runtime_with_its_option_table() {
    let dep = parse(&ort_deployment("{ intra_op_threads = 1 }")).expect("valid");
    // Building first tells whether this machine has ONNX Runtime at all.
    match backends::build(&dep.models[0], None) {
        Ok(_) => {}
        Err(e) if matches!(cause(&e), BackendError::Unavailable { .. }) => {
            let required = std::env::var("AEGIS_REQUIRE_ORT").is_ok_and(|v| v == "1");
            assert!(!required, "AEGIS_REQUIRE_ORT=1 but ONNX Runtime is unavailable: {e}");
            eprintln!("skipped: ONNX Runtime unavailable: {e}");
            return;
        }
        Err(e) => panic!("build: {e}"),
    }
    if common::emulated() {
        return;
    }
    let _one_at_a_time = common::serial();
    let p = prepare(dep);
    let r = run(&p, 2);
    let m = row(&r, "squeeze-ort").expect("the model ran");
    assert!(m.jobs >= 10, "2 s at 100 ms periods: {}", r.results_table());
    assert_eq!(m.faults, 0, "{}", r.results_table());
}

#[test]
fn a_wrong_option_is_named_before_any_engine_is_loaded() {
    let dep = parse(&ort_deployment("{ intra_threads = 1 }")).expect("the table is the engine's");
    let e = backends::build(&dep.models[0], None).err().expect("refused");
    let text = e.to_string();
    assert!(text.contains("squeeze-ort") && text.contains("backend ort"), "{text}");
    assert!(text.contains("[models.options]") && text.contains("intra_threads"), "{text}");
}

#[test]
fn gpu_engines_without_a_device_get_a_typed_error() {
    let dir = scratch("engines");
    let engine = dir.join("model.engine");
    std::fs::write(&engine, b"not opened: refused before").expect("write engine file");
    let toml = format!(
        r#"
name = "e2e-gpu"
pool_mib = 64

[[models]]
name = "kernels"
backend = "cuda"
kernels = [{{ spin_us = 500 }}]
period_ms = 10
priority = 0
wcet_us = 1000

[[models]]
name = "engine"
backend = "trt"
model = {engine:?}
period_ms = 10
priority = 1
wcet_us = 1000
"#
    );
    let dep = parse(&toml).expect("valid");
    for m in &dep.models {
        assert!(backends::needs_gpu(&m.backend));
        let e = backends::build(m, None).err().expect("refused without a device");
        assert!(
            matches!(cause(&e), BackendError::Unavailable { .. }),
            "{}: {e:?}",
            m.name.as_str()
        );
        assert!(e.to_string().contains("no CUDA device was opened"), "{e}");
    }
}
