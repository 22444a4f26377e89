//! The command line, run as a process.

mod common;

use common::aegisrt;
use std::path::PathBuf;

fn fixture(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../aegis-memory/tests/data/lifetimes")
        .join(name);
    p.to_string_lossy().into_owned()
}

#[test]
fn plan_memory_json_has_the_documented_shape() {
    let out = aegisrt(&[
        "plan-memory",
        &fixture("resnet18.json"),
        &fixture("squeezenet1_1.json"),
        "--shared",
        "--json",
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 2);
    for m in models {
        for key in ["model", "arena_bytes", "lower_bound_bytes", "offsets", "planning_ms"] {
            assert!(m.get(key).is_some(), "missing {key}");
        }
        assert_eq!(m["arena_bytes"], m["lower_bound_bytes"], "real models reach the bound");
    }
    let t = &v["total"];
    let (iso, shared) =
        (t["isolated_bytes"].as_u64().unwrap(), t["shared_bytes"].as_u64().unwrap());
    assert_eq!(shared, models.iter().map(|m| m["arena_bytes"].as_u64().unwrap()).max().unwrap());
    assert!(iso > shared);
    assert!(t["weights_bytes"].as_u64().unwrap() > 0);
}

#[test]
fn plan_memory_human_table_and_errors() {
    let out = aegisrt(&["plan-memory", &fixture("resnet18.json")]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("resnet18"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let bad = dir.join("bad-lifetimes.json");
    std::fs::write(
        &bad,
        r#"{"model":"x","weights_bytes":0,"tensors":[{"id":0,"size":-5,"first":0,"last":0}]}"#,
    )
    .unwrap();
    let out = aegisrt(&["plan-memory", bad.to_str().unwrap(), "--json"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad-lifetimes.json") && err.contains("size"), "{err}");
    let out = aegisrt(&["plan-memory"]);
    assert!(!out.status.success(), "a file is required");
}

#[test]
fn run_refuses_a_bad_deployment_file_with_a_typed_message_and_no_panic() {
    let dir = std::env::temp_dir().join(format!("aegisrt-cli-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let f = dir.join("bad.toml");
    std::fs::write(
        &f,
        "name = \"x\"\n[[models]]\nname = \"m\"\nbackend = \"tract\"\nmodel = \"m.onnx\"\nperiod_ms = -5\npriority = 0\n",
    )
    .unwrap();
    let out = aegisrt(&["run", &f.to_string_lossy()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.starts_with("error:"), "{err}");
    assert!(err.contains("models[0].period_ms") && err.contains("bad.toml"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    std::fs::remove_dir_all(dir).ok();
}
