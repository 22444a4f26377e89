//! Real inference on ONNX Runtime: numerical agreement with the reference outputs, memory
//! needs, input validation, execution-provider selection and the one-library-per-process rule.
//!
//! Needs `libonnxruntime` (>= 1.31; `python3 -m pip install onnxruntime==1.32.0`): each test
//! skips with a note when it is missing, and fails instead under `AEGIS_REQUIRE_ORT=1`.

mod common;

use aegis_backend_ort::{
    CPU_PROVIDER, CUDA_PROVIDER, CudaOptions, ExecutionProvider, MIN_VERSION, OrtBackend,
    OrtOptions, TENSORRT_PROVIDER, TensorRtOptions,
};
use aegis_context::{ActivationRegion, BackendError, Placement, RuntimeBackend, TensorData};
use aegis_trace::{EventKind, ModelId, Timestamp};
use common::{MODELS, errors, expected_output, model_file, ort_or_skip, reference_input};

fn load(model: &str, options: &OrtOptions) -> OrtBackend {
    OrtBackend::load(model_file(&format!("{model}.onnx")), options)
        .unwrap_or_else(|e| panic!("loading {model}: {e}"))
}

fn infer(backend: &mut OrtBackend) -> TensorData {
    backend.set_input(&reference_input()).unwrap();
    backend.run().unwrap();
    let mut out = backend.outputs().unwrap();
    assert_eq!(out.len(), 1);
    out.remove(0)
}

#[test]
fn both_models_match_the_reference_outputs() {
    let Some(rt) = ort_or_skip("both_models_match_the_reference_outputs") else { return };
    println!("ONNX Runtime {} from {}", rt.version(), rt.path().display());
    for model in MODELS {
        let mut b = load(model, &OrtOptions::default());
        let out = infer(&mut b);
        assert_eq!(out.name, "output");
        assert_eq!(out.shape, [1, 1000]);
        let (abs, rel) = errors(&out.data, &expected_output(model));
        println!("{model}: max abs diff {abs:e}, relative {rel:e}");
        assert!(rel <= 1e-4, "{model}: relative error {rel:e} > 1e-4 (max abs diff {abs:e})");
        // A second job on the same session gives the same answer.
        let again = infer(&mut b);
        assert_eq!(again.data, out.data, "{model}: not deterministic across jobs");
    }
}

#[test]
fn two_intra_op_threads_agree_too() {
    let Some(_) = ort_or_skip("two_intra_op_threads_agree_too") else { return };
    let options = OrtOptions { intra_op_threads: 2, ..Default::default() };
    let mut b = load("squeezenet1_1", &options);
    let (abs, rel) = errors(&infer(&mut b).data, &expected_output("squeezenet1_1"));
    assert!(rel <= 1e-4, "relative error {rel:e} (max abs diff {abs:e})");
}

#[test]
fn runtime_reports_library_version_and_providers() {
    let Some(rt) = ort_or_skip("runtime_reports_library_version_and_providers") else { return };
    assert!(rt.path().is_absolute() && rt.path().is_file(), "{}", rt.path().display());
    let mut parts = rt.version().split('.').map(|p| p.parse::<u32>().unwrap());
    let (major, minor) = (parts.next().unwrap(), parts.next().unwrap());
    assert!((major, minor) >= MIN_VERSION, "version {}", rt.version());
    assert!(rt.has_provider(CPU_PROVIDER));
    assert!(!rt.has_provider("NoSuchExecutionProvider"));
}

#[test]
fn memory_requirements_count_weights_and_io() {
    let Some(_) = ort_or_skip("memory_requirements_count_weights_and_io") else { return };
    // Weights as counted by the `onnx` Python package (sum of numpy sizes of the
    // initializers): squeezenet1_1 4 941 984 bytes in 52 initializers, mobilenet_v3_small
    // 10 147 200 in 108. I/O: 1×3×224×224 + 1×1000 f32.
    for (model, weights) in [("squeezenet1_1", 4_941_984), ("mobilenet_v3_small", 10_147_200)] {
        let b = load(model, &OrtOptions::default());
        let m = b.memory_requirements();
        assert_eq!(m.weights_bytes, weights, "{model}");
        assert_eq!(m.io_bytes, (3 * 224 * 224 + 1000) * 4, "{model}");
        assert_eq!(m.activation_bytes, 0);
        assert!(!m.external_activations);
        assert!(m.alignment.is_power_of_two());
        let file = std::fs::metadata(model_file(&format!("{model}.onnx"))).unwrap().len();
        assert!(m.weights_bytes < file, "weights are part of the file");
    }
}

#[test]
fn backend_contract_basics() {
    let Some(_) = ort_or_skip("backend_contract_basics") else { return };
    let mut b = load("squeezenet1_1", &OrtOptions::default());
    assert_eq!(b.engine(), "onnxruntime");
    assert_eq!(b.placement(), Placement::Cpu);
    assert!(b.model_path().ends_with("squeezenet1_1.onnx"));
    let inputs: Vec<_> = b.input_specs().cloned().collect();
    assert_eq!(inputs.len(), 1);
    assert_eq!(inputs[0].name, "input");
    assert_eq!(inputs[0].dims, [Some(1), Some(3), Some(224), Some(224)]);
    assert_eq!(b.output_specs()[0].dims, [Some(1), Some(1000)]);
    assert!(format!("{b:?}").contains("squeezenet1_1.onnx"));
    assert_eq!(b.execution_providers().active, [CPU_PROVIDER]);
    assert_eq!(b.execution_providers().fallback, None);
    assert!(b.outputs().unwrap().is_empty(), "no outputs before the first job");
    let region =
        ActivationRegion { address: 0x1000, bytes: 1 << 20, memory: aegis_cuda::PoolMemory::Host };
    assert!(matches!(b.bind_activation_memory(region), Err(BackendError::Unsupported { .. })));
    assert!(matches!(b.release_weights(), Err(BackendError::Unsupported { .. })));
    // The backend moves to the lane's thread.
    let handle = std::thread::spawn(move || {
        let out = infer(&mut b);
        (b, out)
    });
    let (_b, out) = handle.join().unwrap();
    assert_eq!(out.shape, [1, 1000]);
}

#[test]
fn bad_inputs_are_typed_errors() {
    let Some(_) = ort_or_skip("bad_inputs_are_typed_errors") else { return };
    let mut b = load("mobilenet_v3_small", &OrtOptions::default());
    let reason = |r: Result<(), BackendError>| match r {
        Err(BackendError::InvalidInput { name, reason }) => format!("{name}: {reason}"),
        other => panic!("expected InvalidInput, got {other:?}"),
    };
    let e = reason(b.run());
    assert!(e.starts_with("input: not set"), "{e}");

    let good = reference_input();
    let e = reason(b.set_input(&TensorData { name: "image".into(), ..good.clone() }));
    assert!(e.contains("no such input") && e.contains("input [1, 3, 224, 224] f32"), "{e}");
    let e = reason(b.set_input(&TensorData { shape: vec![3, 224, 224], ..good.clone() }));
    assert!(e.contains("rank 3, the model needs"), "{e}");
    let e = reason(b.set_input(&TensorData { shape: vec![1, 3, 224, 225], ..good.clone() }));
    assert!(e.contains("dimension 3 is 225, the model needs 224"), "{e}");
    let e = reason(b.set_input(&TensorData { data: vec![0.0; 10], ..good.clone() }));
    assert!(e.contains("holds 150528 values, got 10"), "{e}");
    // A rejected input leaves the model usable.
    b.set_input(&good).unwrap();
    b.run().unwrap();
    assert_eq!(b.outputs().unwrap()[0].data.len(), 1000);
}

#[test]
fn bad_model_files_are_load_errors() {
    let Some(_) = ort_or_skip("bad_model_files_are_load_errors") else { return };
    let load_reason = |path: &std::path::Path, o: &OrtOptions| match OrtBackend::load(path, o) {
        Err(BackendError::Load { reason, .. }) => reason,
        other => panic!("expected Load, got {other:?}"),
    };
    let missing = model_file("no_such_model.onnx");
    assert!(load_reason(&missing, &OrtOptions::default()).starts_with("cannot read"));
    let not_onnx = model_file("manifest.json");
    let e = load_reason(&not_onnx, &OrtOptions::default());
    assert!(!e.is_empty(), "{e}");
    let bad = OrtOptions { intra_op_threads: 0, ..Default::default() };
    let e = load_reason(&model_file("squeezenet1_1.onnx"), &bad);
    assert!(e.starts_with("option `intra_op_threads`"), "{e}");
}

#[test]
fn a_second_library_is_refused() {
    let Some(rt) = ort_or_skip("a_second_library_is_refused") else { return };
    // The same library, named explicitly, is fine.
    let same = OrtOptions { library: Some(rt.path().to_path_buf()), ..Default::default() };
    load("squeezenet1_1", &same);
    // Another file is refused, whatever it is.
    let other = std::env::temp_dir().join(format!("aegis-ort-other-{}.so", std::process::id()));
    std::fs::write(&other, b"x").unwrap();
    let options = OrtOptions { library: Some(other.clone()), ..Default::default() };
    match OrtBackend::load(model_file("squeezenet1_1.onnx"), &options) {
        Err(BackendError::Unavailable { reason, .. }) => {
            assert!(reason.contains("already loaded ONNX Runtime from"), "{reason}");
            assert!(reason.contains(&other.display().to_string()), "{reason}");
        }
        other => panic!("expected Unavailable, got {other:?}"),
    }
    let _ = std::fs::remove_file(other);
}

#[test]
fn a_missing_provider_is_an_error_by_default() {
    let Some(rt) = ort_or_skip("a_missing_provider_is_an_error_by_default") else { return };
    let cases = [
        (ExecutionProvider::Cuda(CudaOptions::default()), CUDA_PROVIDER),
        (ExecutionProvider::TensorRt(TensorRtOptions::default()), TENSORRT_PROVIDER),
    ];
    for (ep, name) in cases {
        if rt.has_provider(name) {
            println!(
                "note: this ONNX Runtime has {name}; its unavailable path is not testable here"
            );
            continue;
        }
        let options = OrtOptions { execution_provider: ep, ..Default::default() };
        match OrtBackend::load(model_file("squeezenet1_1.onnx"), &options) {
            Err(BackendError::Unavailable { engine, reason }) => {
                assert_eq!(engine, "onnxruntime");
                for part in
                    [name, "is not in the ONNX Runtime loaded from", "fallback_to_cpu = true"]
                {
                    assert!(reason.contains(part), "missing {part:?} in {reason}");
                }
            }
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }
}

#[test]
fn fallback_to_cpu_is_explicit_and_traced() {
    let Some(rt) = ort_or_skip("fallback_to_cpu_is_explicit_and_traced") else { return };
    if rt.has_provider(TENSORRT_PROVIDER) {
        println!("note: this ONNX Runtime has TensorRT; no fallback to test");
        return;
    }
    let options = OrtOptions {
        execution_provider: ExecutionProvider::TensorRt(TensorRtOptions {
            fp16: true,
            ..Default::default()
        }),
        fallback_to_cpu: true,
        ..Default::default()
    };
    let mut b = load("squeezenet1_1", &options);
    let sel = b.execution_providers().clone();
    assert_eq!(sel.requested, "tensorrt");
    assert_eq!(sel.active, [CPU_PROVIDER]);
    let why = sel.fallback.as_deref().expect("the fallback must be reported");
    assert!(why.contains(TENSORRT_PROVIDER), "{why}");
    let event = sel.trace_event(ModelId::new("squeezenet"), Timestamp::from_nanos(1)).unwrap();
    assert_eq!(event.kind, EventKind::Custom("ep_fallback".into()));
    // And it still computes the right answer on the CPU.
    let (_, rel) = errors(&infer(&mut b).data, &expected_output("squeezenet1_1"));
    assert!(rel <= 1e-4);
}
