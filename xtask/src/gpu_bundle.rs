//! `cargo xtask gpu-bundle`: everything the GPU machine needs, in one folder small enough to
//! carry (`target/gpu-bundle`, < 60 MiB).
//!
//! Builds, in release mode with the `gpu-tests` feature of every crate that has one, all test
//! and bench executables of those crates (plus any extra binaries a later step adds), strips
//! them, copies them into `target/gpu-bundle/bin/` with a manifest, and writes `run.sh`, which
//! on the GPU machine runs every test binary, then every test binary except those that plant
//! faults on purpose under `compute-sanitizer --tool memcheck --leak-check full`, then every
//! bench binary, and leaves at most 8 result files in `$OUT`.

use crate::cmd::{Cmd, workspace_root};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Bundle size limit (the device tool carries 64 MiB in all, the working tree included).
const LIMIT: u64 = 60 << 20;

struct Artifact {
    package: String,
    kind: &'static str, // "test" or "bench"
    name: String,
    path: PathBuf,
}

fn gpu_packages(root: &Path) -> Result<Vec<String>> {
    let manifest = root.join("Cargo.toml");
    let text = Cmd::cargo()
        .args(["metadata", "--format-version", "1", "--no-deps", "--manifest-path"])
        .arg(&manifest)
        .read()?;
    let v: serde_json::Value = serde_json::from_str(&text).context("cargo metadata JSON")?;
    let mut out = Vec::new();
    for p in v["packages"].as_array().into_iter().flatten() {
        if p["features"].get("gpu-tests").is_some() {
            out.push(p["name"].as_str().unwrap_or_default().to_owned());
        }
    }
    out.sort();
    Ok(out)
}

fn build(root: &Path, packages: &[String]) -> Result<Vec<Artifact>> {
    let mut cmd =
        Cmd::cargo().args(["build", "--release", "--tests", "--benches", "--message-format=json"]);
    for p in packages {
        cmd = cmd.args(["-p", p, "--features"]).arg(format!("{p}/gpu-tests"));
    }
    let text = cmd.cwd(root).read()?;
    let mut out = Vec::new();
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(exe) = v["executable"].as_str() else { continue };
        let kinds: Vec<&str> = v["target"]["kind"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| k.as_str())
            .collect();
        let kind = if kinds.contains(&"bench") { "bench" } else { "test" };
        if kind == "test" && !v["profile"]["test"].as_bool().unwrap_or(false) {
            continue;
        }
        let package = v["package_id"].as_str().unwrap_or_default();
        let package = packages
            .iter()
            .find(|p| {
                package.contains(&format!("/{p}#"))
                    || package.contains(&format!("{p}@"))
                    || package.contains(&format!("{p} "))
            })
            .cloned()
            .unwrap_or_else(|| "unknown".into());
        let name = v["target"]["name"].as_str().unwrap_or("unknown").to_owned();
        out.push(Artifact { package, kind, name, path: PathBuf::from(exe) });
    }
    if out.is_empty() {
        bail!("the build produced no test or bench executables");
    }
    Ok(out)
}

fn build_cli(root: &Path) -> Result<PathBuf> {
    let text = Cmd::cargo()
        .args([
            "build",
            "--release",
            "-p",
            "aegisrt",
            "--no-default-features",
            "--bin",
            "aegisrt",
            "--message-format=json",
        ])
        .cwd(root)
        .read()?;
    for line in text.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else { continue };
        if v["reason"] == "compiler-artifact"
            && v["target"]["name"] == "aegisrt"
            && let Some(exe) = v["executable"].as_str()
        {
            return Ok(PathBuf::from(exe));
        }
    }
    bail!("building the aegisrt binary produced no executable")
}

fn run_script(artifacts: &[(String, &Artifact)]) -> String {
    let mut s = String::from(
        r#"#!/usr/bin/env bash
# Written by `cargo xtask gpu-bundle`. Runs on the GPU machine: every test binary, the test
# binaries under compute-sanitizer (memcheck + leak check; binaries that plant faults on purpose
# are skipped), then every bench binary. Results go to $OUT (default ./out), at most 8 files.
set -u
cd "$(dirname "$0")"
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT"
export LD_LIBRARY_PATH=/usr/local/cuda/lib64:/usr/local/cuda/targets/x86_64-linux/lib:${LD_LIBRARY_PATH:-}
export AEGIS_BENCH_JSON="$OUT/bench.json"
status=0
{ date -u; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv; } > "$OUT/gpu.txt" 2>&1
: > "$OUT/tests.log"; : > "$OUT/sanitizer.log"; : > "$OUT/bench.log"
"#,
    );
    for (file, a) in artifacts.iter().filter(|(_, a)| a.kind == "test") {
        let _ = writeln!(
            s,
            "echo \"=== {file}\" >> \"$OUT/tests.log\"; ./bin/{file} --test-threads=1 --nocapture >> \"$OUT/tests.log\" 2>&1 || {{ echo \"FAILED: {file}\" >> \"$OUT/tests.log\"; status=1; }}"
        );
        let _ = a;
    }
    s.push_str("if command -v compute-sanitizer >/dev/null; then\n");
    for (file, _) in artifacts.iter().filter(|(f, a)| a.kind == "test" && !f.contains("fault")) {
        // A binary that makes no CUDA call at all is reported by the sanitizer as "terminated
        // before first instrumented API call": nothing to check there, not a failure.
        let _ = writeln!(
            s,
            "  echo \"=== {file}\" >> \"$OUT/sanitizer.log\"; AEGIS_UNDER_SANITIZER=1 compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 ./bin/{file} --test-threads=1 > \"$OUT/one.log\" 2>&1; rc=$?; cat \"$OUT/one.log\" >> \"$OUT/sanitizer.log\"; if [ $rc -ne 0 ]; then if grep -q 'terminated before first instrumented API call' \"$OUT/one.log\" && grep -q '^test result: ok' \"$OUT/one.log\"; then echo \"NO CUDA CALLS (nothing to check): {file}\" >> \"$OUT/sanitizer.log\"; else echo \"SANITIZER FAILED: {file}\" >> \"$OUT/sanitizer.log\"; status=1; fi; fi; rm -f \"$OUT/one.log\""
        );
    }
    s.push_str("else echo 'compute-sanitizer not found' >> \"$OUT/sanitizer.log\"; status=1; fi\n");
    for (file, _) in artifacts.iter().filter(|(_, a)| a.kind == "bench") {
        let _ = writeln!(
            s,
            "echo \"=== {file}\" >> \"$OUT/bench.log\"; ./bin/{file} >> \"$OUT/bench.log\" 2>&1 || {{ echo \"FAILED: {file}\" >> \"$OUT/bench.log\"; status=1; }}"
        );
    }
    s.push_str("grep -E '^test result|FAILED|ERROR SUMMARY|LEAK SUMMARY' \"$OUT/tests.log\" \"$OUT/sanitizer.log\" \"$OUT/bench.log\"\nexit $status\n");
    s
}

/// Builds the bundle into `target/gpu-bundle`.
pub(crate) fn run() -> Result<()> {
    let root = workspace_root();
    let packages = gpu_packages(&root)?;
    if packages.is_empty() {
        bail!("no workspace crate has a `gpu-tests` feature");
    }
    println!("gpu-bundle: packages with gpu-tests: {}", packages.join(", "));
    let artifacts = build(&root, &packages)?;
    let dir = root.join("target/gpu-bundle");
    if dir.exists() {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    }
    std::fs::create_dir_all(dir.join("bin"))?;
    let mut named = Vec::new();
    let mut manifest = String::from("# file\tpackage\tkind\ttarget\n");
    for a in &artifacts {
        let file = format!("{}-{}-{}", a.kind, a.package, a.name);
        let dst = dir.join("bin").join(&file);
        std::fs::copy(&a.path, &dst).with_context(|| format!("copying {}", a.path.display()))?;
        Cmd::new("strip").arg("--strip-debug").arg(&dst).run()?;
        let _ = writeln!(manifest, "{file}\t{}\t{}\t{}", a.package, a.kind, a.name);
        named.push((file, a));
    }
    // The CLI for the case study: a lean build (CUDA kernel models only, no tract/ORT/TensorRT)
    // keeps the bundle small enough to carry beside the working tree.
    let cli = build_cli(&root)?;
    let dst = dir.join("bin/aegisrt");
    std::fs::copy(&cli, &dst).with_context(|| format!("copying {}", cli.display()))?;
    Cmd::new("strip").arg("--strip-debug").arg(&dst).run()?;
    let _ = writeln!(manifest, "aegisrt\taegisrt\tbin\taegisrt (--no-default-features)");
    let examples = dir.join("examples/gpu");
    std::fs::create_dir_all(&examples)?;
    for e in std::fs::read_dir(root.join("examples/gpu"))? {
        let p = e?.path();
        if let Some(name) = p.file_name() {
            std::fs::copy(&p, examples.join(name))?;
        }
    }
    std::fs::write(dir.join("MANIFEST.tsv"), manifest)?;
    let script = dir.join("run.sh");
    std::fs::write(&script, run_script(&named))?;
    Cmd::new("chmod").arg("+x").arg(&script).run()?;
    let total: u64 = walk_size(&dir)?;
    println!(
        "gpu-bundle: {} executables, {:.1} MiB in {}",
        named.len(),
        total as f64 / (1 << 20) as f64,
        dir.display()
    );
    if total > LIMIT {
        bail!(
            "bundle is {:.1} MiB, over the {} MiB limit",
            total as f64 / (1 << 20) as f64,
            LIMIT >> 20
        );
    }
    println!("run on the GPU machine: target/gpu-bundle/run.sh (carry target/gpu-bundle)");
    println!(
        "case study: target/gpu-bundle/examples/gpu/run-case-study.sh target/gpu-bundle/bin/aegisrt"
    );
    Ok(())
}

fn walk_size(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = e.metadata()?;
        total += if m.is_dir() { walk_size(&e.path())? } else { m.len() };
    }
    Ok(total)
}
