//! Every way loading can fail gives a typed error naming the file and what is wrong, and the
//! runtime's `BackendError::Load` carries the same message without repeating the path.

mod support;

use aegis_backend_tract::{TractBackend, TractError, TractOptions};
use aegis_context::{BackendError, RuntimeBackend, TensorData};
use support::{Dim, FLOAT, INT32, INT64, model, node, relu_model, write_temp};

fn load(path: &std::path::Path) -> Result<TractBackend, TractError> {
    TractBackend::load(path, &TractOptions::default())
}

#[test]
fn a_missing_file_is_named() {
    let path = std::path::Path::new("/nonexistent/dir/model.onnx");
    let e = load(path).unwrap_err();
    assert!(matches!(e, TractError::FileNotFound { .. }), "{e:?}");
    assert_eq!(e.path(), path);
    assert!(e.to_string().starts_with("/nonexistent/dir/model.onnx: no such model file"), "{e}");
    match BackendError::from(e) {
        BackendError::Load { path, reason } => {
            assert_eq!(path, "/nonexistent/dir/model.onnx");
            assert!(reason.starts_with("no such model file"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn files_that_are_not_onnx_are_refused() {
    let text = write_temp("text.onnx", b"this is a text file, not a protobuf\n");
    let e = load(&text).unwrap_err();
    assert!(matches!(e, TractError::NotOnnx { .. }), "{e:?}");
    assert!(e.to_string().contains("text.onnx: not an ONNX model"), "{e}");

    let empty = write_temp("empty.onnx", b"");
    let e = load(&empty).unwrap_err();
    assert!(matches!(&e, TractError::NotOnnx { reason, .. } if reason.contains("no graph")), "{e}");

    let dir = empty.parent().unwrap();
    let e = load(dir).unwrap_err();
    assert!(matches!(&e, TractError::NotOnnx { reason, .. } if reason.contains("directory")));
}

#[test]
fn unsupported_operators_are_listed_by_type_and_node() {
    let bytes = model(
        &[("x", FLOAT, vec![Dim::Val(1), Dim::Val(4)])],
        vec![node("Relu", &["x"], &["r"]), node("FrobnicateNotAnOp", &["r"], &["y"])],
        &["y"],
    );
    let e = load(&write_temp("unsupported.onnx", &bytes)).unwrap_err();
    match &e {
        TractError::UnsupportedOperator { ops, .. } => {
            assert_eq!(ops, &["FrobnicateNotAnOp (node n1)".to_string()]);
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("onnxruntime backend"), "says what to do: {e}");
}

#[test]
fn a_dynamic_shape_needs_a_given_shape() {
    let path = write_temp("dynamic.onnx", &relu_model(vec![Dim::Sym("batch"), Dim::Val(4)]));
    let e = load(&path).unwrap_err();
    match &e {
        TractError::DynamicShape { input, dims, .. } => {
            assert_eq!(input, "x");
            assert_eq!(dims, "[batch, 4]");
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("TractOptions::input_shape(\"x\""), "names the fix: {e}");

    // Given the shape, it loads, and runs at that shape.
    let opts = TractOptions::default().input_shape("x", [2, 4]);
    let mut b = TractBackend::load(&path, &opts).unwrap();
    assert_eq!(b.inputs()[0].shape.as_deref(), Some(&[2usize, 4][..]));
    let data = vec![-1.0, 2.0, -3.0, 4.0, 0.5, -0.5, 0.0, 7.0];
    b.set_input(&TensorData { name: "x".into(), shape: vec![2, 4], data: data.clone() }).unwrap();
    b.run().unwrap();
    let out = b.outputs().unwrap();
    assert_eq!(out[0].shape, vec![2, 4]);
    assert_eq!(out[0].data, data.iter().map(|v| v.max(0.0)).collect::<Vec<_>>());
}

#[test]
fn given_shapes_must_agree_with_the_model() {
    let path = write_temp("dynamic2.onnx", &relu_model(vec![Dim::Sym("batch"), Dim::Val(4)]));
    for bad in [vec![2, 5], vec![2, 4, 1], vec![4]] {
        let opts = TractOptions::default().input_shape("x", bad.clone());
        match TractBackend::load(&path, &opts).unwrap_err() {
            TractError::ShapeMismatch { input, given, model, .. } => {
                assert_eq!((input.as_str(), &given, model.as_str()), ("x", &bad, "[batch, 4]"));
            }
            other => panic!("{bad:?}: {other:?}"),
        }
    }
    let opts = TractOptions::default().input_shape("images", [1, 4]);
    match TractBackend::load(&path, &opts).unwrap_err() {
        TractError::UnknownInput { input, known, .. } => {
            assert_eq!((input.as_str(), known), ("images", vec!["x".to_string()]));
        }
        other => panic!("{other:?}"),
    }
    // A shape equal to a concrete model shape is accepted.
    let fixed = write_temp("fixed.onnx", &relu_model(vec![Dim::Val(3)]));
    TractBackend::load(&fixed, &TractOptions::default().input_shape("x", [3])).unwrap();
}

#[test]
fn non_f32_inputs_are_refused() {
    let bytes =
        model(&[("ids", INT64, vec![Dim::Val(4)])], vec![node("Neg", &["ids"], &["y"])], &["y"]);
    match load(&write_temp("int_input.onnx", &bytes)).unwrap_err() {
        TractError::UnsupportedType { what, name, dtype, .. } => {
            assert_eq!((what, name.as_str(), dtype.as_str()), ("input", "ids", "I64"));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_graph_tract_cannot_type_is_an_engine_error() {
    // A [2, 3] x [4, 5] matrix product: the inner dimensions differ.
    let bytes = model(
        &[
            ("a", FLOAT, vec![Dim::Val(2), Dim::Val(3)]),
            ("b", FLOAT, vec![Dim::Val(4), Dim::Val(5)]),
        ],
        vec![node("MatMul", &["a", "b"], &["y"])],
        &["y"],
    );
    let e = load(&write_temp("bad_matmul.onnx", &bytes)).unwrap_err();
    match &e {
        TractError::Engine { stage, .. } => assert_eq!(*stage, "analyse types and shapes"),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("bad_matmul.onnx: tract failed to analyse"), "{e}");
}

#[test]
fn numeric_outputs_are_converted_to_f32() {
    let mut cast = node("Cast", &["x"], &["y"]);
    cast.int_attrs.push(("to", INT32 as i64));
    let bytes = model(&[("x", FLOAT, vec![Dim::Val(3)])], vec![cast], &["y"]);
    let mut b = load(&write_temp("cast.onnx", &bytes)).unwrap();
    assert_eq!(b.outputs_spec()[0].dtype, "I32");
    b.set_input(&TensorData { name: "x".into(), shape: vec![3], data: vec![1.7, -2.2, 3.0] })
        .unwrap();
    b.run().unwrap();
    assert_eq!(b.outputs().unwrap()[0].data, vec![1.0, -2.0, 3.0]);
}

#[test]
fn int64_outputs_typed_as_tdim_are_converted_too() {
    let mut cast = node("Cast", &["x"], &["y"]);
    cast.int_attrs.push(("to", INT64 as i64));
    let bytes = model(&[("x", FLOAT, vec![Dim::Val(2)])], vec![cast], &["y"]);
    let mut b = load(&write_temp("cast64.onnx", &bytes)).unwrap();
    b.set_input(&TensorData { name: "x".into(), shape: vec![2], data: vec![41.9, -7.5] }).unwrap();
    b.run().unwrap();
    assert_eq!(b.outputs().unwrap()[0].data, vec![41.0, -7.0]);
}

#[test]
fn string_outputs_are_refused() {
    let mut cast = node("Cast", &["x"], &["y"]);
    cast.int_attrs.push(("to", support::STRING as i64));
    let bytes = model(&[("x", FLOAT, vec![Dim::Val(3)])], vec![cast], &["y"]);
    match load(&write_temp("string_out.onnx", &bytes)).unwrap_err() {
        TractError::UnsupportedType { what, name, .. } => {
            assert_eq!((what, name.as_str()), ("output", "y"));
        }
        other => panic!("{other:?}"),
    }
}
