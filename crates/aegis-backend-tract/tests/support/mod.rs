//! Shared by the integration tests: paths of the example models, and tiny ONNX models built
//! in memory (encoded with tract-onnx's own protobuf types) and written to a temporary folder.

#![allow(dead_code, unreachable_pub)]

use prost::Message;
use std::path::PathBuf;
use tract_onnx::pb;

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `examples/models/manifest.json`.
pub fn manifest_path() -> PathBuf {
    root().join("examples/models/manifest.json")
}

/// ONNX element types used here.
pub const FLOAT: i32 = 1;
pub const INT32: i32 = 6;
pub const INT64: i32 = 7;
pub const STRING: i32 = 8;

/// A dimension: concrete or symbolic.
pub enum Dim {
    Val(i64),
    Sym(&'static str),
}

fn value_info(name: &str, elem_type: i32, dims: &[Dim]) -> pb::ValueInfoProto {
    let dim = dims
        .iter()
        .map(|d| pb::tensor_shape_proto::Dimension {
            denotation: String::new(),
            value: Some(match d {
                Dim::Val(v) => pb::tensor_shape_proto::dimension::Value::DimValue(*v),
                Dim::Sym(s) => pb::tensor_shape_proto::dimension::Value::DimParam((*s).into()),
            }),
        })
        .collect();
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            denotation: String::new(),
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type,
                shape: Some(pb::TensorShapeProto { dim }),
            })),
        }),
        doc_string: String::new(),
    }
}

/// A node; `attrs` are integer attributes.
pub struct Node {
    pub op: &'static str,
    pub inputs: Vec<&'static str>,
    pub outputs: Vec<&'static str>,
    pub int_attrs: Vec<(&'static str, i64)>,
}

pub fn node(op: &'static str, inputs: &[&'static str], outputs: &[&'static str]) -> Node {
    Node { op, inputs: inputs.to_vec(), outputs: outputs.to_vec(), int_attrs: vec![] }
}

/// An opset-17 model: graph inputs `(name, type, dims)`, nodes, outputs (type and shape left
/// for tract to infer).
pub fn model(inputs: &[(&str, i32, Vec<Dim>)], nodes: Vec<Node>, outputs: &[&str]) -> Vec<u8> {
    let node = nodes
        .into_iter()
        .enumerate()
        .map(|(i, n)| pb::NodeProto {
            input: n.inputs.iter().map(|s| (*s).into()).collect(),
            output: n.outputs.iter().map(|s| (*s).into()).collect(),
            name: format!("n{i}"),
            op_type: n.op.into(),
            attribute: n
                .int_attrs
                .iter()
                .map(|(k, v)| pb::AttributeProto {
                    name: (*k).into(),
                    r#type: pb::attribute_proto::AttributeType::Int as i32,
                    i: *v,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
        .collect();
    let graph = pb::GraphProto {
        node,
        name: "tiny".into(),
        input: inputs.iter().map(|(n, t, d)| value_info(n, *t, d)).collect(),
        output: outputs
            .iter()
            .map(|n| pb::ValueInfoProto { name: (*n).into(), ..Default::default() })
            .collect(),
        ..Default::default()
    };
    pb::ModelProto {
        ir_version: 8,
        opset_import: vec![pb::OperatorSetIdProto { domain: String::new(), version: 17 }],
        graph: Some(graph),
        ..Default::default()
    }
    .encode_to_vec()
}

/// Writes `bytes` to a fresh file named `name` in this process's temporary folder.
pub fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("aegis-backend-tract-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// `x: f32[dims] -> Relu -> y`.
pub fn relu_model(dims: Vec<Dim>) -> Vec<u8> {
    model(&[("x", FLOAT, dims)], vec![node("Relu", &["x"], &["y"])], &["y"])
}
