//! `run`, `trace explain`, `profile` and `baseline` as a user runs them: a one-model tract
//! deployment over the repository's MobileNetV3 (about 100 ms per debug-build inference here),
//! every output file read back.

mod common;

use common::{aegisrt, assert_refused, emulated, s, scratch, serial, text};
use std::path::{Path, PathBuf};

/// A deployment of one tract model with a given WCET (no profiling before admission).
fn deployment(dir: &Path, policy: &str) -> PathBuf {
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/models/mobilenet_v3_small.onnx")
        .canonicalize()
        .expect("the example model exists");
    let file = dir.join("one.toml");
    let toml = format!(
        "name = \"cli-one\"\npolicy = \"{policy}\"\nlanes = 1\npool_mib = 64\nprofile_samples = 30\n\n\
         [[models]]\nname = \"solo\"\nbackend = \"tract\"\nmodel = {model:?}\nperiod_ms = 300\n\
         priority = 0\nwcet_us = 250000\n"
    );
    std::fs::write(&file, toml).expect("write deployment");
    file
}

fn json(path: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn run_writes_trace_and_report_and_explain_reads_the_trace_back() {
    if emulated() {
        return;
    }
    let _one_at_a_time = serial();
    let dir = scratch("run");
    let file = deployment(&dir, "edf");
    let (trace, report) = (dir.join("out/run.pftrace"), dir.join("out/run.html"));
    let out = aegisrt(&[
        "run",
        &s(&file),
        "--duration",
        "1.5",
        "--policy",
        "fp",
        "--trace",
        &s(&trace),
        "--report",
        &s(&report),
    ]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("deployment cli-one-fp"), "--policy renames the run: {stdout}");
    assert!(stdout.contains("FixedPriority"), "{stdout}");
    assert!(stdout.contains("admitted"), "{stdout}");
    assert!(stdout.contains("results (") && stdout.contains("solo"), "{stdout}");
    assert!(!stdout.contains("MISSED"), "a 100 ms job in a 300 ms period: {stdout}");

    // The HTML report has its charts and a JSON twin with the same run.
    let html = std::fs::read_to_string(&report).expect("report written");
    assert!(html.starts_with("<!doctype html>") && html.contains("<svg"), "{}", &html[..200]);
    assert!(html.contains("cli-one-fp"));
    let summary = json(&report.with_extension("json"));
    assert_eq!(summary["deployment"], "cli-one-fp");
    let jobs = summary["models"][0]["jobs"].as_u64().expect("jobs");
    assert!((3..=7).contains(&jobs), "1.5 s at 300 ms periods: {jobs} jobs");

    // The Perfetto file is non-empty protobuf; the JSON trace explains a completion alone.
    assert!(std::fs::metadata(&trace).expect("perfetto written").len() > 100);
    let trace_json = trace.with_extension("trace.json");
    let doc = json(&trace_json);
    let done = doc["events"]
        .as_array()
        .expect("events")
        .iter()
        .rev()
        .find(|e| e["kind"] == "completed")
        .expect("a completion");
    let id = done["id"].as_u64().expect("id");
    let out = aegisrt(&["trace", "explain", &s(&trace_json), &format!("e{id}")]);
    let (chain, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    for step in ["admitted", "submitted", "dispatched", "completed"] {
        assert!(chain.contains(step), "chain lacks {step}: {chain}");
    }
    assert!(!chain.contains("incomplete"), "{chain}");

    assert_refused(
        &aegisrt(&["trace", "explain", &s(&trace_json), "bogus"]),
        &["\"bogus\"", "give a number"],
    );
    assert_refused(
        &aegisrt(&["trace", "explain", &s(&dir.join("absent.json")), "1"]),
        &["absent.json"],
    );
}

#[test]
fn run_with_rt_priority_says_so_or_refuses_naming_the_key() {
    if emulated() {
        return;
    }
    let _one_at_a_time = serial();
    let dir = scratch("rt");
    let file = deployment(&dir, "edf");
    let out = aegisrt(&["run", &s(&file), "--duration", "0.7", "--rt-priority", "3"]);
    let (stdout, stderr) = text(&out);
    if out.status.success() {
        assert!(stdout.contains("SCHED_FIFO 3 (release thread 4)"), "{stdout}");
        assert!(stdout.contains("host time per job"), "{stdout}");
    } else {
        // Without root / CAP_SYS_NICE: refused before any job, with the ways to allow it.
        assert!(stderr.contains("host.rt_priority") && stderr.contains("CAP_SYS_NICE"), "{stderr}");
    }
}

#[test]
fn run_refuses_bad_command_line_values_naming_the_flag() {
    let dir = scratch("flags");
    let file = deployment(&dir, "edf");
    assert_refused(
        &aegisrt(&["run", &s(&file), "--policy", "rr"]),
        &["--policy", "edf, fifo or fp"],
    );
    assert_refused(&aegisrt(&["run", &s(&file), "--duration=-2"]), &["--duration", "positive"]);
    for bad in ["0", "99", "-5"] {
        assert_refused(
            &aegisrt(&["run", &s(&file), "--rt-priority", bad]),
            &["--rt-priority", "1 to 98"],
        );
    }
    assert_refused(&aegisrt(&["run", &s(&dir.join("none.toml"))]), &["none.toml"]);
}

#[test]
fn profile_prints_the_pwcet_and_checks_it_on_held_out_runs() {
    if emulated() {
        return;
    }
    let _one_at_a_time = serial();
    let dir = scratch("profile");
    let file = deployment(&dir, "edf");
    let out = aegisrt(&["profile", &s(&file), "solo", "--holdout", "5"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("model solo (30 samples)"), "the file's profile_samples: {stdout}");
    assert!(stdout.contains("pWCET at exceedance"), "{stdout}");
    assert!(stdout.contains("held-out check: 5 samples"), "{stdout}");

    let out = aegisrt(&["profile", &s(&file), "solo", "--samples", "40", "--json"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("JSON on stdout");
    let p = &v["profile"];
    assert_eq!(p["sample_count"], 40);
    let ns = |k: &str| p[k].as_u64().unwrap_or_else(|| panic!("{k} in {p}"));
    assert!(ns("best") <= ns("worst") && ns("worst") <= ns("pwcet"), "{p}");
    assert!(v["holdout"].is_null(), "no held-out runs were asked for");

    assert_refused(&aegisrt(&["profile", &s(&file), "nosuch"]), &["nosuch"]);
}

#[test]
fn baseline_runs_without_admission_and_writes_json() {
    if emulated() {
        return;
    }
    let _one_at_a_time = serial();
    let dir = scratch("baseline");
    let file = deployment(&dir, "edf");
    let out_json = dir.join("baseline.json");
    let out = aegisrt(&["baseline", &s(&file), "--duration", "1", "--json", &s(&out_json)]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("no admission") && stdout.contains("busy fraction"), "{stdout}");
    let v = json(&out_json);
    assert_eq!(v["deployment"], "cli-one");
    assert_eq!(v["stream_priorities"], false);
    let jobs = v["models"][0]["jobs"].as_u64().expect("jobs");
    assert!((2..=5).contains(&jobs), "1 s at 300 ms periods: {jobs} jobs");
    let busy = v["busy_fraction"].as_f64().expect("busy_fraction");
    assert!(busy > 0.0 && busy <= 1.0, "{busy}");
}
