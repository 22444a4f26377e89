//! `cargo xtask setup-cross`: installs the Debian packages for the aarch64 cross-build.
//!
//! Recipe measured in `/work/shared/notes/cross-build.md`: Debian's `rustc-web` with the arm64
//! standard library through multiarch, the GNU cross toolchain and user-mode qemu.

use anyhow::{Result, bail};

use crate::cmd::{Cmd, which};

/// Packages installed (apt names; `:arm64` ones come through multiarch).
pub(crate) const PACKAGES: &[&str] = &[
    "rustc-web",
    "cargo-web",
    "gcc-aarch64-linux-gnu",
    "g++-aarch64-linux-gnu",
    "libc6-dev-arm64-cross",
    "qemu-user",
    "libc6:arm64",
    "libstd-rust-web-dev:arm64",
];

/// Runs `setup-cross`.
pub(crate) fn run() -> Result<()> {
    if which("apt-get").is_none() || which("dpkg").is_none() {
        bail!(
            "setup-cross needs a Debian/Ubuntu system with apt-get and dpkg (none found on PATH)"
        );
    }
    if !is_root()? {
        bail!(
            "setup-cross installs Debian packages and must run as root (try `sudo -E cargo xtask setup-cross`)"
        );
    }
    let arches = Cmd::new("dpkg").arg("--print-foreign-architectures").read()?;
    if arches.lines().any(|a| a.trim() == "arm64") {
        println!("setup-cross: dpkg already has the foreign architecture arm64");
    } else {
        println!("setup-cross: adding the foreign architecture arm64 to dpkg");
        Cmd::new("dpkg").args(["--add-architecture", "arm64"]).run()?;
    }
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        println!("setup-cross: all packages already installed: {}", PACKAGES.join(" "));
        return Ok(());
    }
    println!("setup-cross: installing {}", missing.join(" "));
    Cmd::new("apt-get").args(["update", "-q"]).env("DEBIAN_FRONTEND", "noninteractive").run()?;
    Cmd::new("apt-get")
        .args(["install", "-y", "-q", "--no-install-recommends"])
        .args(PACKAGES)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .run()?;
    println!("setup-cross: done");
    Ok(())
}

/// True when dpkg reports the package as installed.
fn installed(package: &str) -> bool {
    Cmd::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .read()
        .is_ok_and(|s| s.trim() == "install ok installed")
}

/// Effective uid 0, from `/proc/self/status`.
fn is_root() -> Result<bool> {
    let status = std::fs::read_to_string("/proc/self/status")?;
    let uid_line = status.lines().find(|l| l.starts_with("Uid:"));
    let euid = uid_line.and_then(|l| l.split_whitespace().nth(2));
    Ok(euid == Some("0"))
}
