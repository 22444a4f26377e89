//! Bad deployment files end to end: every mistake is a typed error naming the file, the field
//! and the fix, from reading the file through building the engines; nothing panics.

mod common;

use aegisrt::deployment::{Deployment, DeploymentError};
use aegisrt::runtime::{self, RuntimeError};
use common::{examples, scratch};

const GOOD: &str = r#"
name = "e2e-bad"
policy = "edf"
lanes = 1
pool_mib = 64

[[models]]
name = "a"
backend = "tract"
model = "MODEL"
period_ms = 100
priority = 0
wcet_us = 20000

[[models]]
name = "b"
backend = "tract"
model = "MODEL"
period_ms = 200
priority = 1
wcet_us = 20000
"#;

fn good(model: &str) -> String {
    GOOD.replace("MODEL", model)
}

/// Writes `text` as a deployment file and loads it.
fn load(dir: &std::path::Path, name: &str, text: &str) -> Result<Deployment, DeploymentError> {
    let f = dir.join(name);
    std::fs::write(&f, text).expect("write deployment");
    Deployment::load(&f)
}

#[test]
fn field_mistakes_name_the_field_and_the_fix() {
    let dir = scratch("bad-fields");
    let onnx = examples().join("models/mobilenet_v3_small.onnx");
    let base = good(&onnx.to_string_lossy());
    assert!(load(&dir, "ok.toml", &base).is_ok(), "the base file is valid");
    let cases: Vec<(String, &str)> = vec![
        (base.replace("policy = \"edf\"", "policy = \"rr\""), "policy"),
        (base.replace("lanes = 1", "lanes = 0"), "lanes"),
        (base.replace("pool_mib = 64", "pool_mib = -1"), "pool_mib"),
        (base.replacen("period_ms = 100", "period_ms = 0", 1), "models[0].period_ms"),
        (
            base.replacen("period_ms = 100", "period_ms = 100\ndeadline_ms = 150", 1),
            "models[0].deadline_ms",
        ),
        (base.replacen("wcet_us = 20000", "wcet_us = 500000", 1), "models[0].wcet_us"),
        (base.replacen("priority = 1", "priority = 0", 1), "priority"),
        (base.replacen("name = \"b\"", "name = \"a\"", 1), "name"),
        (base.replacen("backend = \"tract\"", "backend = \"pytorch\"", 1), "models[0].backend"),
        (base.replacen("model = ", "model_path = ", 1), "model_path"),
        (base.replace("lanes = 1", "lanes = \"one\""), "lanes"),
    ];
    for (i, (text, field)) in cases.iter().enumerate() {
        let e = load(&dir, &format!("bad{i}.toml"), text)
            .expect_err(&format!("case {i} ({field}) must be refused"));
        let msg = e.to_string();
        assert!(msg.contains(field), "case {i}: the error names `{field}`: {msg}");
        assert!(msg.contains(&format!("bad{i}.toml")), "case {i}: names the file: {msg}");
        if let DeploymentError::Field { fix, .. } = &e {
            assert!(!fix.is_empty(), "case {i}: says how to fix it: {msg}");
        }
    }
    let missing = Deployment::load(&dir.join("nope.toml")).expect_err("missing file");
    assert!(matches!(missing, DeploymentError::Io { .. }), "{missing}");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn a_missing_or_corrupt_model_file_is_refused_naming_the_model_and_the_file() {
    let dir = scratch("bad-models");
    let garbage = dir.join("garbage.onnx");
    std::fs::write(&garbage, b"this is not an ONNX protobuf").expect("write");
    for (model, what) in [(dir.join("absent.onnx"), "absent.onnx"), (garbage, "garbage.onnx")] {
        let dep = load(&dir, "d.toml", &good(&model.to_string_lossy())).expect("fields are valid");
        let e = match runtime::prepare(dep, false, |_| {}) {
            Ok(_) => panic!("{what}: an unusable model must be refused"),
            Err(e) => e,
        };
        assert!(matches!(e, RuntimeError::Backend(_)), "{what}: {e}");
        let msg = e.to_string();
        assert!(msg.contains("model a") && msg.contains(what), "{what}: {msg}");
    }
    std::fs::remove_dir_all(dir).ok();
}
