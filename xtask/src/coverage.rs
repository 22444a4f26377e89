//! `cargo xtask coverage`: per-crate line coverage with cargo-llvm-cov, with minimums.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde_json::Value;

use crate::cmd::{Cmd, which, workspace_root};
use crate::layers::{is_library, layer_of};
use crate::metadata::Workspace;

/// Debian's LLVM, used when rustup's `llvm-tools` component is absent (llvm-14 cannot read the data).
const DEBIAN_LLVM: &str = "/usr/lib/llvm-22/bin";

/// Minimum line coverage of a library crate, in percent.
pub(crate) fn minimum(package: &str) -> f64 {
    if package == "aegis-sched" { 80.0 } else { 70.0 }
}

/// The module-doc line (`//!`) that marks a source file as GPU-only: nothing in it can execute
/// without a CUDA device, so its tests run on the GPU machine (`cargo xtask gpu-bundle`) and its
/// lines are reported apart from the host-testable code that the minimum applies to.
pub(crate) const GPU_ONLY_MARKER: &str = "//! Coverage: GPU-only";

/// True when the file's leading module doc carries [`GPU_ONLY_MARKER`].
pub(crate) fn is_gpu_only(source: &str) -> bool {
    source
        .lines()
        .take_while(|l| l.starts_with("//!") || l.trim().is_empty())
        .any(|l| l.starts_with(GPU_ONLY_MARKER))
}

/// Line counts of one crate's `src/`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    /// Package name.
    pub(crate) package: String,
    /// Instrumented lines, all files.
    pub(crate) lines: u64,
    /// Lines executed at least once, all files.
    pub(crate) covered: u64,
    /// Instrumented lines of GPU-only files (included in `lines`).
    pub(crate) gpu_lines: u64,
    /// Covered lines of GPU-only files (included in `covered`).
    pub(crate) gpu_covered: u64,
    /// The GPU-only files, relative to the crate's `src/`.
    pub(crate) gpu_files: Vec<String>,
}

impl Row {
    /// Percent of the host-testable lines covered (the figure the minimum applies to); `None`
    /// without such lines.
    pub(crate) fn percent(&self) -> Option<f64> {
        let (lines, covered) = (self.lines - self.gpu_lines, self.covered - self.gpu_covered);
        (lines > 0).then(|| 100.0 * covered as f64 / lines as f64)
    }

    /// Percent of all lines covered, GPU-only files included.
    pub(crate) fn percent_all(&self) -> Option<f64> {
        (self.lines > 0).then(|| 100.0 * self.covered as f64 / self.lines as f64)
    }

    /// True when below the crate's minimum.
    pub(crate) fn below_minimum(&self) -> bool {
        self.percent().is_some_and(|p| p < minimum(&self.package))
    }
}

/// Per-file `(path, lines, covered)` from `llvm-cov export` JSON (`cargo llvm-cov --json`).
pub(crate) fn file_lines(json: &str) -> Result<Vec<(PathBuf, u64, u64)>> {
    let v: Value = serde_json::from_str(json).context("coverage JSON")?;
    let mut out = Vec::new();
    for data in v["data"].as_array().context("coverage JSON: no `data`")? {
        for f in data["files"].as_array().into_iter().flatten() {
            let name = f["filename"].as_str().context("coverage JSON: file without name")?;
            let lines = &f["summary"]["lines"];
            let count = lines["count"].as_u64().context("coverage JSON: no lines.count")?;
            let covered = lines["covered"].as_u64().context("coverage JSON: no lines.covered")?;
            out.push((PathBuf::from(name), count, covered));
        }
    }
    Ok(out)
}

/// Sums files under `<crate dir>/src/` into one row per library crate (bottom layer first);
/// `gpu_only` says which files are GPU-only.
pub(crate) fn aggregate(
    crates: &[(String, PathBuf)],
    files: &[(PathBuf, u64, u64)],
    gpu_only: impl Fn(&Path) -> bool,
) -> Vec<Row> {
    let mut rows: Vec<Row> = crates
        .iter()
        .filter(|(name, _)| is_library(name))
        .map(|(name, dir)| {
            let src = dir.join("src");
            let mut row = Row {
                package: name.clone(),
                lines: 0,
                covered: 0,
                gpu_lines: 0,
                gpu_covered: 0,
                gpu_files: Vec::new(),
            };
            for (f, lines, covered) in files.iter().filter(|(f, _, _)| f.starts_with(&src)) {
                row.lines += lines;
                row.covered += covered;
                if gpu_only(f) {
                    row.gpu_lines += lines;
                    row.gpu_covered += covered;
                    let rel = f.strip_prefix(&src).unwrap_or(f);
                    row.gpu_files.push(rel.display().to_string());
                }
            }
            row.gpu_files.sort();
            row
        })
        .collect();
    rows.sort_by(|a, b| {
        (layer_of(&a.package), &a.package).cmp(&(layer_of(&b.package), &b.package))
    });
    rows
}

/// Markdown table of the rows, then the GPU-only files of each crate.
pub(crate) fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| crate | all lines | covered | % all | GPU-only lines | host-testable lines | covered | % host | minimum % (host) | status |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n",
    );
    let pct = |p: Option<f64>| p.map_or("-".to_owned(), |p| format!("{p:.1}"));
    for r in rows {
        let status = match r.percent() {
            None => "no host lines",
            Some(_) if r.below_minimum() => "BELOW",
            Some(_) => "ok",
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} | {:.0} | {status} |\n",
            r.package,
            r.lines,
            r.covered,
            pct(r.percent_all()),
            r.gpu_lines,
            r.lines - r.gpu_lines,
            r.covered - r.gpu_covered,
            pct(r.percent()),
            minimum(&r.package)
        ));
    }
    let marked: Vec<&Row> = rows.iter().filter(|r| !r.gpu_files.is_empty()).collect();
    if !marked.is_empty() {
        out.push_str(&format!(
            "\nGPU-only files (module doc `{GPU_ONLY_MARKER}`; their tests need a CUDA device and \
             run on the GPU machine, so the minimum applies to the other files):\n"
        ));
        for r in marked {
            out.push_str(&format!("- {}: {}\n", r.package, r.gpu_files.join(", ")));
        }
    }
    out
}

/// Picks llvm-cov/llvm-profdata: the environment, rustup's llvm-tools, else Debian's llvm-22.
fn with_llvm_tools(cmd: Cmd) -> Result<Cmd> {
    if std::env::var_os("LLVM_COV").is_some() && std::env::var_os("LLVM_PROFDATA").is_some() {
        println!("coverage: LLVM tools from LLVM_COV/LLVM_PROFDATA");
        return Ok(cmd);
    }
    let rustup_has = which("rustup").is_some()
        && Cmd::new("rustup")
            .args(["component", "list", "--installed"])
            .read()
            .is_ok_and(|s| s.lines().any(|l| l.starts_with("llvm-tools")));
    if rustup_has {
        println!("coverage: LLVM tools from rustup's llvm-tools component");
        return Ok(cmd);
    }
    let (cov, profdata) =
        (Path::new(DEBIAN_LLVM).join("llvm-cov"), Path::new(DEBIAN_LLVM).join("llvm-profdata"));
    if cov.is_file() && profdata.is_file() {
        println!("coverage: LLVM tools from Debian's llvm-22 ({DEBIAN_LLVM})");
        return Ok(cmd.env("LLVM_COV", cov).env("LLVM_PROFDATA", profdata));
    }
    bail!(
        "no LLVM tools for coverage: `apt-get install llvm-22` or `rustup component add llvm-tools-preview`"
    )
}

/// Runs `coverage`.
pub(crate) fn run() -> Result<()> {
    if which("cargo-llvm-cov").is_none() {
        bail!("cargo-llvm-cov is not installed: `cargo install --locked cargo-llvm-cov`");
    }
    let root = workspace_root();
    let json_path = root.join("target/coverage.json");
    let cmd = Cmd::cargo()
        .cwd(&root)
        .args(["llvm-cov", "--workspace", "--json", "--summary-only", "--output-path"])
        .arg(&json_path);
    with_llvm_tools(cmd)?.run()?;

    let json = std::fs::read_to_string(&json_path)
        .with_context(|| format!("reading {}", json_path.display()))?;
    let ws = Workspace::load(Some(&root.join("Cargo.toml")))?;
    let crates: Vec<(String, PathBuf)> =
        ws.packages.iter().map(|p| (p.name.clone(), ws.package_dir(p))).collect();
    let gpu_only = |f: &Path| std::fs::read_to_string(f).is_ok_and(|s| is_gpu_only(&s));
    let rows = aggregate(&crates, &file_lines(&json)?, gpu_only);
    let table = render(&rows);
    let md = root.join("target/coverage-summary.md");
    std::fs::write(&md, format!("# Line coverage per crate (`cargo xtask coverage`)\n\n{table}"))?;
    println!("\n{table}\n(written to {})", md.display());

    let low: Vec<&str> =
        rows.iter().filter(|r| r.below_minimum()).map(|r| r.package.as_str()).collect();
    if !low.is_empty() {
        bail!(
            "host-testable line coverage below the minimum (70%, aegis-sched 80%) in: {}",
            low.join(", ")
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{"type": "llvm.coverage.json.export", "data": [{"files": [
        {"filename": "/ws/crates/aegis-trace/src/lib.rs", "summary": {"lines": {"count": 80, "covered": 60, "percent": 75.0}}},
        {"filename": "/ws/crates/aegis-trace/src/time.rs", "summary": {"lines": {"count": 20, "covered": 20, "percent": 100.0}}},
        {"filename": "/ws/crates/aegis-trace/tests/t.rs", "summary": {"lines": {"count": 50, "covered": 0, "percent": 0.0}}},
        {"filename": "/ws/crates/aegis-sched/src/lib.rs", "summary": {"lines": {"count": 100, "covered": 79, "percent": 79.0}}},
        {"filename": "/ws/crates/aegis-cuda/src/pool.rs", "summary": {"lines": {"count": 40, "covered": 36, "percent": 90.0}}},
        {"filename": "/ws/crates/aegis-cuda/src/stream.rs", "summary": {"lines": {"count": 60, "covered": 2, "percent": 3.3}}},
        {"filename": "/ws/xtask/src/main.rs", "summary": {"lines": {"count": 10, "covered": 1, "percent": 10.0}}}
    ]}]}"#;

    fn crates() -> Vec<(String, PathBuf)> {
        [
            ("aegis-trace", "/ws/crates/aegis-trace"),
            ("aegis-sched", "/ws/crates/aegis-sched"),
            ("xtask", "/ws/xtask"),
            ("aegis-integration-tests", "/ws/tests"),
            ("aegis-cuda", "/ws/crates/aegis-cuda"),
        ]
        .map(|(n, d)| (n.to_owned(), PathBuf::from(d)))
        .to_vec()
    }

    #[test]
    fn aggregates_src_files_per_library_crate() {
        let gpu = |f: &Path| f.ends_with("stream.rs");
        let rows = aggregate(&crates(), &file_lines(JSON).unwrap(), gpu);
        let got: Vec<_> = rows
            .iter()
            .map(|r| (r.package.as_str(), r.lines, r.covered, r.gpu_lines, r.below_minimum()))
            .collect();
        assert_eq!(
            got,
            [
                ("aegis-trace", 100, 80, 0, false),
                ("aegis-cuda", 100, 38, 60, false),
                ("aegis-sched", 100, 79, 0, true)
            ]
        );
        assert_eq!(rows[1].gpu_files, ["stream.rs"]);
        let md = render(&rows);
        assert!(
            md.contains("| aegis-sched | 100 | 79 | 79.0 | 0 | 100 | 79 | 79.0 | 80 | BELOW |"),
            "{md}"
        );
        assert!(
            md.contains("| aegis-trace | 100 | 80 | 80.0 | 0 | 100 | 80 | 80.0 | 70 | ok |"),
            "{md}"
        );
        assert!(
            md.contains("| aegis-cuda | 100 | 38 | 38.0 | 60 | 40 | 36 | 90.0 | 70 | ok |"),
            "{md}"
        );
        assert!(md.contains("- aegis-cuda: stream.rs"), "{md}");
    }

    #[test]
    fn a_crate_without_lines_is_not_below() {
        let none = [("aegis-cuda".to_owned(), PathBuf::from("/ws/crates/aegis-cuda"))];
        let rows = aggregate(&none, &[], |_| false);
        assert!(!rows[0].below_minimum());
        assert!(render(&rows).contains("| - | 0 | 0 | 0 | - | 70 | no host lines |"));
    }

    #[test]
    fn the_marker_counts_only_in_the_leading_module_doc() {
        assert!(is_gpu_only(
            "//! Streams.\n//!\n//! Coverage: GPU-only (needs a device).\n\nuse x;"
        ));
        assert!(!is_gpu_only("//! Streams.\n\nuse x;\n//! Coverage: GPU-only\n"));
        assert!(!is_gpu_only("//! Streams.\n// Coverage: GPU-only\n"));
        assert!(!is_gpu_only(""));
    }
}
