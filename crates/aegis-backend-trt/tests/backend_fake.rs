//! TrtBackend against the FakeTrt engine double: loading, the activation hand-off, I/O
//! binding by name, shape validation, jobs, CUDA-graph policy, error mapping, drop order.

use aegis_backend_trt::fake::{FakeCall, FakeEngine, FakeFailure, FakeTrt};
use aegis_backend_trt::{
    DataType, GraphMode, MessageOrigin, StreamHandle, TensorDesc, TensorMode, TrtBackend,
    TrtOptions,
};
use aegis_context::{
    ActivationRegion, BackendError, ContextError, ContextState, ExecutionContext, Placement,
    ResourceBudget, RuntimeBackend, TensorData,
};
use aegis_cuda::{AegisCudaError, PoolMemory};
use aegis_trace::{Duration, EventKind, ModelId, TraceCollector};
use std::sync::Arc;

const S: StreamHandle = StreamHandle::from_raw(7);
const PLAN: &[u8] = &[0x42; 1000];

fn static_engine() -> FakeEngine {
    FakeEngine::new(
        vec![
            TensorDesc::new("images", TensorMode::Input, DataType::Float, &[1, 3, 2, 2]),
            TensorDesc::new("logits", TensorMode::Output, DataType::Half, &[1, 5]),
        ],
        4096,
    )
}

fn dynamic_engine() -> FakeEngine {
    FakeEngine::new(
        vec![
            TensorDesc::new("x", TensorMode::Input, DataType::Float, &[-1, 4]).with_profile(
                &[1, 4],
                &[2, 4],
                &[8, 4],
            ),
            TensorDesc::new("y", TensorMode::Output, DataType::Float, &[-1, 4]),
        ],
        1 << 20,
    )
}

fn load(fake: &FakeTrt, opts: TrtOptions) -> TrtBackend {
    TrtBackend::from_plan(Arc::new(fake.clone()), PLAN, "model.engine", opts).unwrap()
}

fn region(address: u64, bytes: u64) -> ActivationRegion {
    ActivationRegion { address, bytes, memory: PoolMemory::Device }
}

fn input(name: &str, shape: &[usize]) -> TensorData {
    let n: usize = shape.iter().product();
    TensorData {
        name: name.into(),
        shape: shape.to_vec(),
        data: (0..n).map(|i| i as f32).collect(),
    }
}

fn ready(fake: &FakeTrt, opts: TrtOptions) -> TrtBackend {
    let mut b = load(fake, opts);
    b.bind_activation_memory(region(0x1000_0000, 1 << 20)).unwrap();
    b
}

#[test]
fn backend_is_send() {
    fn send<T: Send>() {}
    send::<TrtBackend>();
}

#[test]
fn loading_reports_requirements_and_binds_io_by_name() {
    let fake = FakeTrt::new(static_engine());
    let b = load(&fake, TrtOptions::default());
    assert_eq!(b.engine(), "tensorrt");
    assert_eq!(b.placement(), Placement::Gpu);
    assert_eq!(b.source(), "model.engine");
    let r = b.memory_requirements();
    assert_eq!(r.weights_bytes, PLAN.len() as u64);
    assert_eq!(r.activation_bytes, 4096);
    assert_eq!(r.io_bytes, 12 * 4 + 5 * 2);
    assert_eq!(r.alignment, 256);
    assert!(r.external_activations);
    assert_eq!(b.activation_bytes(), 4096);
    assert_eq!(b.tensors().len(), 2);
    let calls = fake.calls();
    assert_eq!(calls[0], FakeCall::Deserialize(PLAN.len()));
    let bound: Vec<&str> = calls
        .iter()
        .filter_map(|c| match c {
            FakeCall::SetTensorAddress(n, _) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(bound, ["images", "logits"]);
    assert_eq!(fake.live_buffers(), 2);
    assert!(format!("{b:?}").contains("FakeTrt"));
}

#[test]
fn a_job_uploads_on_the_stream_enqueues_and_reads_outputs_back() {
    let fake = FakeTrt::new(static_engine());
    let mut b = ready(&fake, TrtOptions::default());
    b.prepare_on(None).unwrap();
    b.set_input(&input("images", &[1, 3, 2, 2])).unwrap();
    b.enqueue_on(S).unwrap();
    assert_eq!(b.jobs(), 1);
    let out = b.outputs().unwrap();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].name, "logits");
    assert_eq!(out[0].shape, vec![1, 5]);
    // The fake doubles the first input; FP16 holds these integers exactly.
    assert_eq!(out[0].data, vec![0.0, 2.0, 4.0, 6.0, 8.0]);
    let calls = fake.calls();
    let up = calls.iter().position(|c| matches!(c, FakeCall::Upload { stream: 7, bytes: 48, .. }));
    let enq = calls.iter().position(|c| *c == FakeCall::Enqueue(7));
    assert!(up.unwrap() < enq.unwrap(), "{calls:?}");
    // Unchanged inputs are not uploaded again.
    b.enqueue_on(S).unwrap();
    let uploads = fake.calls().iter().filter(|c| matches!(c, FakeCall::Upload { .. })).count();
    assert_eq!(uploads, 1);
    assert_eq!(fake.enqueues(), 2);
}

#[test]
fn jobs_refuse_to_run_without_memory_or_inputs() {
    let fake = FakeTrt::new(static_engine());
    let mut b = load(&fake, TrtOptions::default());
    let e = b.enqueue_on(S).unwrap_err();
    assert!(matches!(e, BackendError::Execution { .. }));
    assert!(e.to_string().contains("bind_activation_memory"), "{e}");
    assert!(b.prepare_on(Some(S)).is_err());
    b.bind_activation_memory(region(0x1000_0000, 4096)).unwrap();
    match b.enqueue_on(S).unwrap_err() {
        BackendError::InvalidInput { name, reason } => {
            assert_eq!(name, "images");
            assert!(reason.contains("never set"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    let e = b.outputs().unwrap_err();
    assert!(e.to_string().contains("no job has run yet"), "{e}");
    assert_eq!(fake.enqueues(), 0);
}

#[test]
fn activation_regions_are_checked_and_handed_to_tensorrt() {
    let fake = FakeTrt::new(static_engine());
    let mut b = load(&fake, TrtOptions::default());
    let host = ActivationRegion { address: 0x1000, bytes: 4096, memory: PoolMemory::Host };
    assert!(matches!(b.bind_activation_memory(host), Err(BackendError::Unsupported { .. })));
    for bad in [region(0x1000, 4095), region(0x1080, 4096)] {
        match b.bind_activation_memory(bad).unwrap_err() {
            BackendError::BadActivationRegion { needed, alignment, .. } => {
                assert_eq!((needed, alignment), (4096, 256));
            }
            other => panic!("{other:?}"),
        }
    }
    assert!(!fake.calls().iter().any(|c| matches!(c, FakeCall::SetDeviceMemory { .. })));
    b.bind_activation_memory(region(0x2000, 8192)).unwrap();
    assert_eq!(b.activation_region(), Some(region(0x2000, 8192)));
    // Binding the same region again is a no-op.
    b.bind_activation_memory(region(0x2000, 8192)).unwrap();
    let sets: Vec<FakeCall> = fake
        .calls()
        .into_iter()
        .filter(|c| matches!(c, FakeCall::SetDeviceMemory { .. }))
        .collect();
    assert_eq!(sets, vec![FakeCall::SetDeviceMemory { address: 0x2000, bytes: 8192 }]);

    let strict = TrtOptions { activation_alignment: 512, ..Default::default() };
    let mut b = load(&fake, strict);
    assert_eq!(b.memory_requirements().alignment, 512);
    assert!(b.bind_activation_memory(region(0x2100, 8192)).is_err());
    assert!(b.bind_activation_memory(region(0x2200, 8192)).is_ok());
}

#[test]
fn tensorrt_refusing_the_memory_is_an_execution_error() {
    let fake = FakeTrt::new(static_engine().fail(FakeFailure::SetDeviceMemory));
    let mut b = load(&fake, TrtOptions::default());
    match b.bind_activation_memory(region(0x2000, 8192)).unwrap_err() {
        BackendError::Execution { reason, .. } => assert!(reason.contains("memory refused")),
        other => panic!("{other:?}"),
    }
    assert_eq!(b.activation_region(), None);
}

#[test]
fn models_on_one_lane_can_share_one_arena() {
    let fake = FakeTrt::new(static_engine());
    let arena = region(0x4000_0000, 1 << 16);
    let mut a = ready(&fake, TrtOptions::default());
    let mut b = load(&fake, TrtOptions::default());
    a.bind_activation_memory(arena).unwrap();
    b.bind_activation_memory(arena).unwrap();
    for backend in [&mut a, &mut b] {
        backend.set_input(&input("images", &[1, 3, 2, 2])).unwrap();
    }
    // Serialised on one lane: one job at a time, alternating.
    for _ in 0..3 {
        a.enqueue_on(S).unwrap();
        b.enqueue_on(S).unwrap();
    }
    assert_eq!(a.outputs().unwrap()[0].data, b.outputs().unwrap()[0].data);
    let shared = fake
        .calls()
        .iter()
        .filter(|c| **c == FakeCall::SetDeviceMemory { address: arena.address, bytes: arena.bytes })
        .count();
    assert_eq!(shared, 2);
}

#[test]
fn inputs_are_validated_by_name_shape_and_value() {
    let fake = FakeTrt::new(dynamic_engine());
    let mut b = ready(&fake, TrtOptions::default());
    let mut check = |t: TensorData, want: &str| match b.set_input(&t).unwrap_err() {
        BackendError::InvalidInput { name, reason } => {
            assert_eq!(name, t.name);
            assert!(reason.contains(want), "{reason} should contain {want}");
        }
        other => panic!("{other:?}"),
    };
    check(input("nope", &[1, 4]), "inputs are [\"x\"]");
    check(input("y", &[1, 4]), "is an output");
    check(input("x", &[4]), "rank 1");
    check(input("x", &[2, 5]), "fixes it at 4");
    check(input("x", &[9, 4]), "1..=8");
    check(TensorData { name: "x".into(), shape: vec![2, 4], data: vec![0.0; 7] }, "got 7");
    b.set_input(&input("x", &[8, 4])).unwrap();
}

#[test]
fn integer_inputs_refuse_values_they_cannot_hold() {
    let fake = FakeTrt::new(FakeEngine::new(
        vec![
            TensorDesc::new("ids", TensorMode::Input, DataType::Int32, &[3]),
            TensorDesc::new("out", TensorMode::Output, DataType::Int64, &[3]),
        ],
        0,
    ));
    let mut b = load(&fake, TrtOptions::default());
    let bad = TensorData { name: "ids".into(), shape: vec![3], data: vec![1.0, 2.5, 3.0] };
    match b.set_input(&bad).unwrap_err() {
        BackendError::InvalidInput { reason, .. } => {
            assert!(reason.contains("index 1") && reason.contains("kINT32"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // No workspace needed: runs without a bound region.
    b.set_input(&TensorData { name: "ids".into(), shape: vec![3], data: vec![1.0, -2.0, 3.0] })
        .unwrap();
    b.prepare_on(None).unwrap();
    b.enqueue_on(S).unwrap();
    assert_eq!(b.outputs().unwrap()[0].data, vec![2.0, -4.0, 6.0]);
}

#[test]
fn dynamic_shapes_are_sized_for_the_profile_and_told_to_tensorrt_when_they_change() {
    let fake = FakeTrt::new(dynamic_engine());
    let mut b = ready(&fake, TrtOptions::default());
    // Buffers sized for the profile's maximum (8 x 4 f32, twice).
    assert_eq!(b.memory_requirements().io_bytes, 2 * 8 * 4 * 4);
    assert!(fake.calls().contains(&FakeCall::SetInputShape("x".into(), vec![8, 4])));
    let shape_calls =
        |f: &FakeTrt| f.calls().iter().filter(|c| matches!(c, FakeCall::SetInputShape(..))).count();
    b.set_input(&input("x", &[2, 4])).unwrap();
    b.enqueue_on(S).unwrap();
    assert_eq!(shape_calls(&fake), 2);
    let out = b.outputs().unwrap();
    assert_eq!(out[0].shape, vec![2, 4]);
    assert_eq!(out[0].data, (0..8).map(|i| 2.0 * i as f32).collect::<Vec<_>>());
    // Same shape: TensorRT is not told again.
    b.set_input(&input("x", &[2, 4])).unwrap();
    b.enqueue_on(S).unwrap();
    assert_eq!(shape_calls(&fake), 2);
    b.set_input(&input("x", &[3, 4])).unwrap();
    b.enqueue_on(S).unwrap();
    assert_eq!(shape_calls(&fake), 3);
    assert_eq!(b.outputs().unwrap()[0].shape, vec![3, 4]);
    // The profile's maximum equals the sizing shape: nothing to tell.
    b.set_input(&input("x", &[8, 4])).unwrap();
    b.enqueue_on(S).unwrap();
    assert_eq!(b.outputs().unwrap()[0].shape, vec![8, 4]);
}

#[test]
fn a_shape_tensorrt_refuses_is_the_callers_error_and_the_model_can_go_on() {
    let fake = FakeTrt::new(dynamic_engine().fail(FakeFailure::SetInputShape));
    let mut b = ready(&fake, TrtOptions::default());
    b.set_input(&input("x", &[2, 4])).unwrap();
    match b.enqueue_on(S).unwrap_err() {
        BackendError::InvalidInput { name, reason } => {
            assert_eq!(name, "x");
            assert!(reason.contains("shape refused") && reason.contains("kINVALID_ARGUMENT"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.enqueues(), 0);
    // Back to the shape TensorRT already has: nothing to tell, the job runs.
    b.set_input(&input("x", &[8, 4])).unwrap();
    b.enqueue_on(S).unwrap();
    assert_eq!(b.outputs().unwrap()[0].shape, vec![8, 4]);
}

#[test]
fn outputs_that_outgrow_their_buffer_get_a_new_one() {
    let fake = FakeTrt::new(dynamic_engine().grow_outputs_after_load());
    let mut b = ready(&fake, TrtOptions { cuda_graph: true, ..Default::default() });
    let before = b.memory_requirements().io_bytes;
    b.set_input(&input("x", &[8, 4])).unwrap();
    // The context still has the sizing shape; a new one makes TensorRT resolve again.
    b.set_input(&input("x", &[7, 4])).unwrap();
    b.enqueue_on(S).unwrap();
    let out = b.outputs().unwrap();
    assert_eq!(out[0].shape, vec![14, 4]);
    assert!(b.memory_requirements().io_bytes > before);
    let frees = fake.calls().iter().filter(|c| matches!(c, FakeCall::Free(_))).count();
    assert_eq!(frees, 1, "the small output buffer was replaced");
}

#[test]
fn engines_this_backend_cannot_bind_are_refused_at_load_with_the_tensor_named() {
    let cases = [
        (
            FakeEngine::new(
                vec![
                    TensorDesc::new("q", TensorMode::Input, DataType::Fp8, &[4]),
                    TensorDesc::new("o", TensorMode::Output, DataType::Float, &[4]),
                ],
                0,
            ),
            "\"q\"",
        ),
        (dynamic_engine().data_dependent_outputs(), "data-dependent"),
        (FakeEngine::new(vec![], 0), "no I/O tensors"),
        (static_engine().fail(FakeFailure::Deserialize), "not a valid engine"),
    ];
    for (engine, want) in cases {
        let fake = FakeTrt::new(engine);
        match TrtBackend::from_plan(Arc::new(fake), PLAN, "bad.engine", TrtOptions::default()) {
            Err(BackendError::Load { path, reason }) => {
                assert_eq!(path, "bad.engine");
                assert!(reason.contains(want), "{reason} should contain {want}");
            }
            other => panic!("{other:?}"),
        }
    }
    let fake = Arc::new(FakeTrt::new(static_engine()));
    let e =
        TrtBackend::from_plan(fake.clone(), &[], "e.engine", TrtOptions::default()).unwrap_err();
    assert!(e.to_string().contains("empty"), "{e}");
    let opts = TrtOptions { activation_alignment: 100, ..Default::default() };
    let e = TrtBackend::from_plan(fake.clone(), PLAN, "e.engine", opts).unwrap_err();
    assert!(e.to_string().contains("activation_alignment"), "{e}");
    let e = TrtBackend::with_api(fake, "/nonexistent/m.engine", TrtOptions::default()).unwrap_err();
    match e {
        BackendError::Load { path, reason } => {
            assert_eq!(path, "/nonexistent/m.engine");
            assert!(reason.contains("cannot read"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn engine_files_are_read_from_disk() {
    let dir = std::env::temp_dir().join(format!("aegis-trt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("m.plan");
    std::fs::write(&path, PLAN).unwrap();
    let fake = FakeTrt::new(static_engine());
    let b = TrtBackend::with_api(Arc::new(fake.clone()), &path, TrtOptions::default()).unwrap();
    assert_eq!(b.memory_requirements().weights_bytes, PLAN.len() as u64);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn allocation_failures_are_cuda_errors() {
    let fake = FakeTrt::new(static_engine().fail(FakeFailure::Allocate));
    let e = TrtBackend::from_plan(Arc::new(fake), PLAN, "m", TrtOptions::default()).unwrap_err();
    match e {
        BackendError::Cuda(AegisCudaError::Driver { code, .. }) => assert_eq!(code, 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn tensorrt_failures_during_enqueue_fault_and_cuda_errors_keep_their_stickiness() {
    let fake = FakeTrt::new(
        static_engine()
            .fail(FakeFailure::EnqueueOnJob(2))
            .fail(FakeFailure::CudaOnJob { job: 3, code: 701 })
            .fail(FakeFailure::CudaOnJob { job: 4, code: 700 }),
    );
    let mut b = ready(&fake, TrtOptions::default());
    b.set_input(&input("images", &[1, 3, 2, 2])).unwrap();
    b.enqueue_on(S).unwrap();
    match b.enqueue_on(S).unwrap_err() {
        BackendError::Execution { engine, reason } => {
            assert_eq!(engine, "tensorrt");
            assert!(
                reason.contains("kFAILED_EXECUTION") && reason.contains("enqueue 2"),
                "{reason}"
            );
        }
        other => panic!("{other:?}"),
    }
    match b.enqueue_on(S).unwrap_err() {
        BackendError::Cuda(c) => {
            assert!(!c.is_sticky());
            assert!(c.to_string().contains("CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES"), "{c}");
        }
        other => panic!("{other:?}"),
    }
    match b.enqueue_on(S).unwrap_err() {
        BackendError::Cuda(c) => {
            assert!(c.is_sticky());
            assert!(c.to_string().contains("scripted kernel failure"), "{c}");
        }
        other => panic!("{other:?}"),
    }
    // Failed jobs are not counted.
    assert_eq!(b.jobs(), 1);
    b.enqueue_on(S).unwrap();
    assert_eq!(b.jobs(), 2);
}

#[test]
fn a_failed_upload_is_retried_on_the_next_job() {
    let fake = FakeTrt::new(static_engine().fail(FakeFailure::Upload(700)));
    let mut b = ready(&fake, TrtOptions::default());
    b.set_input(&input("images", &[1, 3, 2, 2])).unwrap();
    match b.enqueue_on(S).unwrap_err() {
        BackendError::Cuda(c) => assert!(c.is_sticky(), "{c}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.enqueues(), 0, "nothing is enqueued after a failed upload");
    let _ = b.enqueue_on(S);
    let uploads = fake.calls().iter().filter(|c| matches!(c, FakeCall::Upload { .. })).count();
    assert_eq!(uploads, 2);
}

#[test]
fn failed_downloads_are_cuda_errors() {
    let fake = FakeTrt::new(static_engine().fail(FakeFailure::Download));
    let mut b = ready(&fake, TrtOptions::default());
    b.set_input(&input("images", &[1, 3, 2, 2])).unwrap();
    b.enqueue_on(S).unwrap();
    assert!(matches!(b.outputs(), Err(BackendError::Cuda(_))));
}

#[test]
fn graphs_are_captured_after_a_plain_job_launched_after_and_recaptured_when_stale() {
    let fake = FakeTrt::new(dynamic_engine());
    let trace = Arc::new(TraceCollector::new());
    let opts = TrtOptions { cuda_graph: true, trace: Some(trace.clone()), ..Default::default() };
    let mut b = ready(&fake, opts);
    assert_eq!(b.graph_stats().mode, GraphMode::Pending);
    b.set_input(&input("x", &[2, 4])).unwrap();
    b.enqueue_on(S).unwrap();
    assert_eq!(b.graph_stats().mode, GraphMode::Ready);
    b.enqueue_on(S).unwrap();
    b.enqueue_on(S).unwrap();
    let st = b.graph_stats();
    assert_eq!((st.plain_enqueues, st.captures, st.launches), (1, 1, 2));
    assert_eq!(b.outputs().unwrap()[0].data[..3], [0.0, 2.0, 4.0]);
    // New activation memory: the graph baked in the old address.
    b.bind_activation_memory(region(0x2000_0000, 1 << 20)).unwrap();
    assert_eq!(b.graph_stats().mode, GraphMode::Pending);
    b.enqueue_on(S).unwrap();
    // A new shape: stale again.
    b.set_input(&input("x", &[5, 4])).unwrap();
    b.enqueue_on(S).unwrap();
    b.enqueue_on(S).unwrap();
    let st = b.graph_stats();
    assert_eq!((st.plain_enqueues, st.captures, st.launches), (3, 3, 3));
    assert_eq!(b.outputs().unwrap()[0].shape, vec![5, 4]);
    let resets = fake.calls().iter().filter(|c| **c == FakeCall::ResetGraph).count();
    assert_eq!(resets, 2);
    let captured =
        trace.events().iter().filter(|e| e.attribute("event") == Some("graph_captured")).count();
    assert_eq!(captured, 3);
    assert!(trace.events().iter().all(|e| e.kind == EventKind::Custom("tensorrt".into())));
}

#[test]
fn an_engine_that_cannot_be_captured_falls_back_to_plain_enqueues() {
    let fake = FakeTrt::new(static_engine().fail(FakeFailure::Capture));
    let trace = Arc::new(TraceCollector::new());
    let opts = TrtOptions { cuda_graph: true, trace: Some(trace.clone()), ..Default::default() };
    let mut b = ready(&fake, opts);
    b.set_input(&input("images", &[1, 3, 2, 2])).unwrap();
    for _ in 0..3 {
        b.enqueue_on(S).unwrap();
    }
    let st = b.graph_stats();
    assert!(
        matches!(&st.mode, GraphMode::Unavailable(r) if r.contains("not capturable")),
        "{st:?}"
    );
    assert_eq!((st.plain_enqueues, st.captures, st.launches), (3, 0, 0));
    assert_eq!(b.jobs(), 3);
    assert!(trace.events().iter().any(|e| e.attribute("event") == Some("graph_capture_failed")));
}

#[test]
fn warm_up_runs_on_zeros_then_the_first_job_uploads_the_real_inputs() {
    let fake = FakeTrt::new(static_engine());
    let mut b = ready(&fake, TrtOptions { cuda_graph: true, ..Default::default() });
    b.set_input(&input("images", &[1, 3, 2, 2])).unwrap();
    b.prepare_on(Some(S)).unwrap();
    assert_eq!(b.jobs(), 0, "the warm-up is not a job");
    assert_eq!(fake.enqueues(), 1);
    assert_eq!(b.graph_stats().mode, GraphMode::Ready);
    assert!(b.outputs().is_err());
    // Prepared once only.
    b.prepare_on(Some(S)).unwrap();
    assert_eq!(fake.enqueues(), 1);
    b.enqueue_on(S).unwrap();
    assert_eq!(b.outputs().unwrap()[0].data, vec![0.0, 2.0, 4.0, 6.0, 8.0]);
    let uploads: Vec<usize> = fake
        .calls()
        .iter()
        .filter_map(|c| match c {
            FakeCall::Upload { bytes, .. } => Some(*bytes),
            _ => None,
        })
        .collect();
    assert_eq!(uploads, vec![48, 48], "zeros for the warm-up, then the input");
    assert_eq!(b.graph_stats().launches, 1);
}

#[test]
fn no_warm_up_with_dynamic_inputs_or_when_turned_off() {
    let fake = FakeTrt::new(dynamic_engine());
    let mut b = ready(&fake, TrtOptions::default());
    b.prepare_on(Some(S)).unwrap();
    let fake2 = FakeTrt::new(static_engine());
    let mut c = ready(&fake2, TrtOptions { warm_up: false, ..Default::default() });
    c.prepare_on(Some(S)).unwrap();
    assert_eq!(fake.enqueues() + fake2.enqueues(), 0);
}

#[test]
fn tensorrt_warnings_are_kept_and_traced() {
    let fake = FakeTrt::new(static_engine().fail(FakeFailure::Warnings));
    let trace = Arc::new(TraceCollector::new());
    let mut b = ready(&fake, TrtOptions { trace: Some(trace.clone()), ..Default::default() });
    b.set_input(&input("images", &[1, 3, 2, 2])).unwrap();
    for _ in 0..70 {
        b.enqueue_on(S).unwrap();
    }
    let msgs = b.take_messages();
    assert_eq!(msgs.len(), 64, "bounded log");
    assert!(msgs.iter().all(|m| m.origin == MessageOrigin::Logger && !m.is_error()));
    assert!(b.take_messages().is_empty());
    let traced = trace.events().iter().filter(|e| e.attribute("event") == Some("message")).count();
    assert_eq!(traced, 71, "the load warning and one per job");
}

#[test]
fn dropping_destroys_the_engine_before_the_buffers_it_points_into() {
    let fake = FakeTrt::new(static_engine());
    let mut b = ready(&fake, TrtOptions { cuda_graph: true, ..Default::default() });
    b.set_input(&input("images", &[1, 3, 2, 2])).unwrap();
    b.enqueue_on(S).unwrap();
    drop(b);
    let calls = fake.calls();
    let engine = calls.iter().position(|c| *c == FakeCall::DropEngine).unwrap();
    let frees: Vec<usize> = calls
        .iter()
        .enumerate()
        .filter(|(_, c)| matches!(c, FakeCall::Free(_)))
        .map(|(i, _)| i)
        .collect();
    assert_eq!(frees.len(), 2);
    assert!(frees.iter().all(|f| *f > engine), "{calls:?}");
    assert_eq!(fake.live_buffers(), 0);
}

#[test]
fn inside_an_execution_context_rejected_inputs_do_not_fault_the_model() {
    let fake = FakeTrt::new(static_engine());
    let b = load(&fake, TrtOptions::default());
    let req = b.memory_requirements();
    let budget = ResourceBudget {
        memory_limit: 1 << 30,
        stream_limit: 1,
        compute_budget: Duration::from_millis(5),
        period: Duration::from_millis(10),
    };
    let ctx = ExecutionContext::create(
        ModelId::new("resnet"),
        budget,
        Box::new(b),
        aegis_context::ContextOptions::default(),
    )
    .unwrap();
    assert_eq!(ctx.memory_used(), req.weights_bytes + req.io_bytes);
    ctx.with_backend(|b| b.bind_activation_memory(region(0x1000_0000, 4096))).unwrap();
    let bad = input("images", &[2, 3, 2, 2]);
    match ctx.with_backend(|b| b.set_input(&bad)) {
        Err(ContextError::Backend { source, .. }) => {
            assert!(matches!(*source, BackendError::InvalidInput { .. }))
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(ctx.state(), ContextState::Ready);
    let good = input("images", &[1, 3, 2, 2]);
    ctx.with_backend(|b| b.set_input(&good)).unwrap();
}
