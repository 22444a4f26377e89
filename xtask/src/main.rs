//! AegisRT developer tasks, run as `cargo xtask <command>` (alias in `.cargo/config.toml`).
//!
//! | command | what it does |
//! |---|---|
//! | `lint-layers [--manifest-path P] [--bless]` | internal dependencies must point to lower layers (`src/layers.rs`); checks or rewrites `docs/crate-edges.txt` |
//! | `ci` | fmt, clippy, lint-layers, test, doc, cargo-deny; fails fast, prints step times |
//! | `setup-cross` | installs the Debian packages for the aarch64 cross-build (root) |
//! | `cross-build [--test] [--release]` | builds (and tests under qemu) for the Jetson, per `toolchains/aarch64-jetson.toml` |
//! | `coverage` | per-crate line coverage with cargo-llvm-cov, with minimums |
//! | `gpu-bundle` | release GPU test/bench binaries + run script in `target/gpu-bundle` for the GPU machine |

mod ci;
mod cmd;
mod coverage;
mod cross;
mod glibc;
mod gpu_bundle;
mod layers;
mod lint;
mod metadata;
mod setup;
mod toolchain_file;

#[cfg(test)]
mod tidy;

use std::path::PathBuf;

use anyhow::{Result, bail};

const USAGE: &str = "usage: cargo xtask <command>

commands:
  lint-layers [--manifest-path P] [--bless]  check the crate layer order; --bless rewrites docs/crate-edges.txt
  ci                                         fmt, clippy, lint-layers, test, doc, deny (fails fast)
  setup-cross                                install the Debian aarch64 cross prerequisites (as root)
  cross-build [--test] [--release]           build (and test under qemu) for aarch64-unknown-linux-gnu
  coverage                                   per-crate line coverage (cargo-llvm-cov), with minimums
  gpu-bundle                                 build GPU tests/benches + run.sh into target/gpu-bundle";

fn main() {
    if let Err(e) = run(std::env::args().skip(1).collect()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn run(args: Vec<String>) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Ok(());
    };
    let mut flags = Flags(rest.to_vec());
    match command.as_str() {
        "lint-layers" => {
            let opts = lint::Options {
                manifest_path: flags.value("--manifest-path")?.map(PathBuf::from),
                bless: flags.switch("--bless"),
            };
            flags.done()?;
            lint::run(&opts)
        }
        "ci" => flags.done().and_then(|()| ci::run()),
        "setup-cross" => flags.done().and_then(|()| setup::run()),
        "cross-build" => {
            let opts =
                cross::Options { test: flags.switch("--test"), release: flags.switch("--release") };
            flags.done()?;
            cross::run(&opts)
        }
        "coverage" => flags.done().and_then(|()| coverage::run()),
        "gpu-bundle" => flags.done().and_then(|()| gpu_bundle::run()),
        "help" | "-h" | "--help" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command `{other}`\n\n{USAGE}"),
    }
}

/// The arguments after the command, consumed flag by flag.
struct Flags(Vec<String>);

impl Flags {
    /// Removes `name` if present.
    fn switch(&mut self, name: &str) -> bool {
        let before = self.0.len();
        self.0.retain(|a| a != name);
        self.0.len() != before
    }

    /// Removes `name VALUE` or `name=VALUE` and returns the value.
    fn value(&mut self, name: &str) -> Result<Option<String>> {
        if let Some(i) = self.0.iter().position(|a| a == name) {
            if i + 1 >= self.0.len() {
                bail!("{name} needs a value");
            }
            let v = self.0.remove(i + 1);
            self.0.remove(i);
            return Ok(Some(v));
        }
        let prefix = format!("{name}=");
        if let Some(i) = self.0.iter().position(|a| a.starts_with(&prefix)) {
            return Ok(Some(self.0.remove(i)[prefix.len()..].to_owned()));
        }
        Ok(None)
    }

    /// An error if anything is left.
    fn done(&self) -> Result<()> {
        if !self.0.is_empty() {
            bail!("unexpected argument(s): {}\n\n{USAGE}", self.0.join(" "));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        let mut f = Flags(vec!["--bless".into(), "--manifest-path=x/Cargo.toml".into()]);
        assert_eq!(f.value("--manifest-path").unwrap().as_deref(), Some("x/Cargo.toml"));
        assert!(f.switch("--bless"));
        assert!(f.done().is_ok());
        let mut g = Flags(vec!["--manifest-path".into()]);
        assert!(g.value("--manifest-path").is_err());
        assert!(Flags(vec!["--nope".into()]).done().is_err());
        assert!(run(vec!["nope".into()]).is_err());
    }
}
