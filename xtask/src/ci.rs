//! `cargo xtask ci`: the checks a change must pass, in order, failing fast.

use std::time::Duration;

use anyhow::{Result, bail};

use crate::cmd::{Cmd, fmt_duration, timed, which, workspace_root};
use crate::lint;

/// One CI step.
struct Step {
    name: &'static str,
    run: Box<dyn Fn() -> Result<()>>,
}

fn cargo_step(name: &'static str, cmd: Cmd) -> Step {
    Step { name, run: Box::new(move || cmd.run()) }
}

fn steps() -> Vec<Step> {
    let root = workspace_root();
    let cargo = || Cmd::cargo().cwd(&root);
    let manifest = root.join("Cargo.toml");
    vec![
        cargo_step("fmt", cargo().args(["fmt", "--all", "--", "--check"])),
        cargo_step(
            "clippy",
            cargo().args(["clippy", "--workspace", "--all-targets", "--", "-D", "warnings"]),
        ),
        Step {
            name: "lint-layers",
            run: Box::new(move || {
                lint::run(&lint::Options { manifest_path: Some(manifest.clone()), bless: false })
            }),
        },
        // The README's test command; Python-backed export checks and the ONNX Runtime tests
        // must not skip here.
        cargo_step(
            "test",
            cargo()
                .args(["test", "--workspace"])
                .env("AEGIS_REQUIRE_PYTHON_CHECKS", "1")
                .env("AEGIS_REQUIRE_ORT", "1"),
        ),
        cargo_step(
            "doc",
            cargo().args(["doc", "--workspace", "--no-deps"]).env("RUSTDOCFLAGS", "-D warnings"),
        ),
        {
            // `advisories` needs github.com, which CI cannot reach.
            let deny = cargo().args(["deny", "check", "licenses", "bans", "sources"]);
            Step {
                name: "deny",
                run: Box::new(move || {
                    if which("cargo-deny").is_none() {
                        bail!("cargo-deny is not installed: `cargo install --locked cargo-deny`");
                    }
                    deny.run()
                }),
            }
        },
    ]
}

/// Runs `ci`.
pub(crate) fn run() -> Result<()> {
    let mut rows: Vec<(&str, &str, Option<Duration>)> = Vec::new();
    let mut failure = None;
    for step in steps() {
        if failure.is_some() {
            rows.push((step.name, "skipped", None));
            continue;
        }
        eprintln!("\n==> ci: {}", step.name);
        let (result, took) = timed(|| (step.run)());
        match result {
            Ok(()) => rows.push((step.name, "ok", Some(took))),
            Err(e) => {
                rows.push((step.name, "FAILED", Some(took)));
                failure = Some((step.name, e));
            }
        }
    }
    print!("{}", summary(&rows));
    if let Some((name, e)) = failure {
        return Err(e.context(format!("ci step `{name}` failed")));
    }
    Ok(())
}

/// The step/status/time table.
fn summary(rows: &[(&str, &str, Option<Duration>)]) -> String {
    let mut out = format!("\n{:<12} {:<8} {:>10}\n", "step", "status", "wall time");
    let mut total = Duration::ZERO;
    for (name, status, took) in rows {
        total += took.unwrap_or_default();
        let t = took.map(fmt_duration).unwrap_or_else(|| "-".into());
        out.push_str(&format!("{name:<12} {status:<8} {t:>10}\n"));
    }
    out.push_str(&format!("{:<12} {:<8} {:>10}\n", "total", "", fmt_duration(total)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_order() {
        let names: Vec<_> = steps().iter().map(|s| s.name).collect();
        assert_eq!(names, ["fmt", "clippy", "lint-layers", "test", "doc", "deny"]);
    }

    #[test]
    fn summary_table() {
        let s =
            summary(&[("fmt", "ok", Some(Duration::from_secs(2))), ("clippy", "skipped", None)]);
        assert!(s.contains("fmt          ok             2.0s"), "{s}");
        assert!(s.contains("clippy       skipped           -"), "{s}");
        assert!(s.contains("total"), "{s}");
    }
}
