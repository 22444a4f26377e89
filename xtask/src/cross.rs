//! `cargo xtask cross-build [--test] [--release]`: the workspace for the Jetson (aarch64),
//! with tests run under user-mode qemu.

use std::path::{Path, PathBuf};

use anyhow::{Result, bail};

use crate::cmd::{Cmd, which, workspace_root};
use crate::glibc;
use crate::toolchain_file::CrossConfig;

/// The toolchain settings file, relative to the workspace root.
pub(crate) const TOOLCHAIN_FILE: &str = "toolchains/aarch64-jetson.toml";

/// Options of `cross-build`.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// Run `cargo test` (under the runner) instead of `cargo build`.
    pub(crate) test: bool,
    /// Release profile.
    pub(crate) release: bool,
}

/// Which Rust toolchain builds for the target.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Toolchain {
    /// rustup's toolchain, with the target installed by `rustup target add`.
    Rustup,
    /// Debian's `rustc-web` with the target's std from `libstd-rust-web-dev:<arch>`.
    Debian,
}

const DEBIAN_RUSTC: &str = "/usr/bin/rustc";
const DEBIAN_RUSTDOC: &str = "/usr/bin/rustdoc";
const DEBIAN_CARGO: &str = "/usr/bin/cargo";

fn choose_toolchain(triple: &str) -> Result<Toolchain> {
    if which("rustup").is_some() {
        let installed = Cmd::new("rustup").args(["target", "list", "--installed"]).read()?;
        if installed.lines().any(|l| l.trim() == triple) {
            return Ok(Toolchain::Rustup);
        }
    }
    let debian_ok =
        [DEBIAN_RUSTC, DEBIAN_RUSTDOC, DEBIAN_CARGO].iter().all(|p| Path::new(p).is_file())
            && Cmd::new(DEBIAN_RUSTC)
                .args(["--print", "sysroot"])
                .read()
                .is_ok_and(|s| Path::new(s.trim()).join("lib/rustlib").join(triple).is_dir());
    if debian_ok {
        return Ok(Toolchain::Debian);
    }
    bail!(
        "no Rust toolchain here can build for {triple}: either `rustup target add {triple}` \
         (plus gcc-aarch64-linux-gnu and qemu-user), or on Debian run `cargo xtask setup-cross` as root \
         (installs rustc-web with the arm64 standard library)"
    )
}

/// `CARGO_TARGET_<TRIPLE>_<KEY>` for a triple.
fn target_env(triple: &str, key: &str) -> String {
    format!("CARGO_TARGET_{}_{key}", triple.to_uppercase().replace(['-', '.'], "_"))
}

/// Runs `cross-build`.
pub(crate) fn run(opts: &Options) -> Result<()> {
    let root = workspace_root();
    let cfg = CrossConfig::load(&root.join(TOOLCHAIN_FILE))?;
    let tc = choose_toolchain(&cfg.triple)?;

    let mut needed = vec![("linker", &cfg.linker)];
    if opts.test {
        needed.push(("runner", &cfg.runner));
    }
    for (what, tool) in needed {
        let program = tool.split_whitespace().next().unwrap_or_default();
        if which(program).is_none() {
            bail!("{what} `{program}` not found on PATH: run `cargo xtask setup-cross` as root");
        }
    }
    for tool in [&cfg.cc, &cfg.cxx, &cfg.ar] {
        if which(tool).is_none() {
            eprintln!("warning: `{tool}` not found; crates with C code will not cross-compile");
        }
    }

    let (mut cargo, rustc, what) = match tc {
        Toolchain::Rustup => (Cmd::cargo(), "rustc", "rustup toolchain with the target installed"),
        Toolchain::Debian => (
            Cmd::new(DEBIAN_CARGO)
                .env("RUSTC", DEBIAN_RUSTC)
                .env("RUSTDOC", DEBIAN_RUSTDOC)
                .env("CARGO", DEBIAN_CARGO),
            DEBIAN_RUSTC,
            "Debian rustc-web (/usr/bin) with the arm64 std from multiarch",
        ),
    };
    let version = Cmd::new(rustc).arg("--version").read()?;
    println!("cross-build: toolchain: {what}: {}", version.trim());
    println!("cross-build: target {} (device glibc {})", cfg.triple, cfg.device_glibc);

    let target_dir: PathBuf = root.join("target/aarch64");
    let under = cfg.triple.replace('-', "_");
    cargo = cargo
        .arg(if opts.test { "test" } else { "build" })
        .args(["--workspace", "--target", &cfg.triple, "--target-dir"])
        .arg(&target_dir)
        .env(target_env(&cfg.triple, "LINKER"), &cfg.linker)
        .env(target_env(&cfg.triple, "RUNNER"), &cfg.runner)
        .env(format!("CC_{under}"), &cfg.cc)
        .env(format!("CXX_{under}"), &cfg.cxx)
        .env(format!("AR_{under}"), &cfg.ar)
        // Tests that need real-time speed (the end-to-end runtime tests) skip under emulation:
        // qemu runs an unoptimised tract inference ~60x slower than native (6 s per job).
        .env("AEGIS_EMULATED", &cfg.runner)
        .cwd(&root);
    if opts.release {
        cargo = cargo.arg("--release");
    }

    if !opts.test {
        cargo.run()?;
        let profile_dir =
            target_dir.join(&cfg.triple).join(if opts.release { "release" } else { "debug" });
        println!("cross-build: built into {}", profile_dir.display());
        return glibc::check(&cfg, &profile_dir);
    }
    let mut total = TestTotals::default();
    cargo.run_tee(|line| total.add_line(line))?;
    println!(
        "cross-build: {} tests passed under {} ({} ignored, {} test runs); toolchain: {what}",
        total.passed, cfg.runner, total.ignored, total.runs
    );
    if total.runs == 0 {
        bail!("cross-build: no `test result:` lines seen; were the tests run?");
    }
    Ok(())
}

/// Sums of libtest's `test result:` lines.
#[derive(Debug, Default, PartialEq, Eq)]
struct TestTotals {
    passed: u64,
    ignored: u64,
    runs: u64,
}

impl TestTotals {
    /// Adds `test result: ok. 3 passed; 0 failed; 1 ignored; …` lines; ignores others.
    fn add_line(&mut self, line: &str) {
        let Some(rest) = line.trim().strip_prefix("test result: ") else {
            return;
        };
        // "ok. 3 passed; 0 failed; 1 ignored; ..." (or "FAILED. ...")
        let counts = rest.split_once(". ").map_or(rest, |(_, r)| r);
        for part in counts.split(';') {
            let mut words = part.split_whitespace();
            let (Some(n), Some(label)) = (words.next(), words.next()) else {
                continue;
            };
            let Ok(n) = n.parse::<u64>() else { continue };
            match label {
                "passed" => self.passed += n,
                "ignored" => self.ignored += n,
                _ => {}
            }
        }
        self.runs += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_test_results() {
        let mut t = TestTotals::default();
        for line in [
            "running 3 tests",
            "test result: ok. 3 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.01s",
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s",
            "test result: ok. 12 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 1.20s",
        ] {
            t.add_line(line);
        }
        assert_eq!(t, TestTotals { passed: 15, ignored: 3, runs: 3 });
    }

    #[test]
    fn env_names() {
        assert_eq!(
            target_env("aarch64-unknown-linux-gnu", "RUNNER"),
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER"
        );
    }
}
