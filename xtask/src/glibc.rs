//! glibc compatibility of cross-built binaries with the device (JetPack 6 = glibc 2.35).

use std::path::Path;

use anyhow::{Result, bail};

use crate::cmd::{Cmd, which};
use crate::toolchain_file::CrossConfig;

/// Fails when a built executable needs a glibc symbol newer than the device has.
pub(crate) fn check(cfg: &CrossConfig, dir: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let objdump = cfg.linker.strip_suffix("gcc").map(|p| format!("{p}objdump")).unwrap_or_default();
    if which(&objdump).is_none() {
        println!("cross-build: glibc check skipped (no `{objdump}`)");
        return Ok(());
    }
    let device = parse_version(&cfg.device_glibc);
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let meta = std::fs::metadata(&path)?;
        let executable = meta.is_file() && meta.permissions().mode() & 0o111 != 0;
        let shared = path.extension().is_some_and(|e| e == "so");
        if !executable && !shared {
            continue;
        }
        let symbols = Cmd::new(&objdump).arg("-T").arg(&path).read()?;
        let Some(need) = max_glibc(&symbols) else {
            continue;
        };
        let shown = need.iter().map(ToString::to_string).collect::<Vec<_>>().join(".");
        if need > device {
            bail!(
                "{} needs GLIBC_{shown}, newer than the device's glibc {} (toolchains/aarch64-jetson.toml)",
                path.display(),
                cfg.device_glibc
            );
        }
        println!(
            "cross-build: {} needs glibc >= {shown} (device has {})",
            path.display(),
            cfg.device_glibc
        );
    }
    Ok(())
}

/// `"2.35"` as `[2, 35]`.
fn parse_version(v: &str) -> Vec<u32> {
    v.split('.').map_while(|p| p.parse().ok()).collect()
}

/// The highest `GLIBC_x.y[.z]` version named in `objdump -T` output.
fn max_glibc(objdump: &str) -> Option<Vec<u32>> {
    objdump
        .split("GLIBC_")
        .skip(1)
        .map(|rest| {
            let end = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
            parse_version(&rest[..end])
        })
        .filter(|v| !v.is_empty())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_versions() {
        let dump = "0 DF *UND* 0 (GLIBC_2.17) write\n0 DF *UND* 0 (GLIBC_2.34) __libc_start_main\n\
                    0 DF *UND* 0 (GLIBC_2.4) x\n";
        assert_eq!(max_glibc(dump), Some(vec![2, 34]));
        assert!(max_glibc(dump).unwrap() < parse_version("2.35"));
        assert!(parse_version("2.36") > parse_version("2.35"));
        assert_eq!(max_glibc("no versions"), None);
    }
}
