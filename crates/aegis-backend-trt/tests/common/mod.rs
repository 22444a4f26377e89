//! A stand-in `libnvinfer.so.10` for loader tests: a shared library exporting the two entry
//! points the loader probes, built with the host C compiler at test time (never TensorRT).

use std::path::{Path, PathBuf};
use std::process::Command;

/// Builds `libnvinfer.so.10` in `dir`, reporting `version` from `getInferLibVersion` and
/// returning null from `createInferRuntime_INTERNAL`, with `AEGIS_TRT_TEST_CC`, `CC` or `cc`;
/// `None` when that compiler does not build for this target (e.g. an aarch64 test under qemu
/// on an x86-64 host without `AEGIS_TRT_TEST_CC=aarch64-linux-gnu-gcc`).
pub(crate) fn fake_nvinfer(dir: &Path, version: i32) -> Option<PathBuf> {
    std::fs::create_dir_all(dir).ok()?;
    let src = dir.join("fake_nvinfer.c");
    std::fs::write(
        &src,
        format!(
            "int getInferLibVersion(void) {{ return {version}; }}\n\
             void* createInferRuntime_INTERNAL(void* logger, int v) {{\n\
             (void)logger; (void)v; return 0; }}\n"
        ),
    )
    .ok()?;
    let so = dir.join("libnvinfer.so.10");
    let cc = std::env::var("AEGIS_TRT_TEST_CC")
        .or_else(|_| std::env::var("CC"))
        .unwrap_or_else(|_| "cc".into());
    let ok = Command::new(&cc)
        .args(["-shared", "-fPIC", "-o"])
        .arg(&so)
        .arg(&src)
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("no working C compiler ({cc}): loader test skipped");
        return None;
    }
    // ELF e_machine (offset 18): the library must match this process.
    let elf = std::fs::read(&so).ok()?;
    let machine = u16::from_le_bytes([*elf.get(18)?, *elf.get(19)?]);
    let want = match std::env::consts::ARCH {
        "x86_64" => 62,
        "aarch64" => 183,
        _ => return None,
    };
    if machine != want {
        eprintln!("{cc} builds for another machine ({machine}): loader test skipped");
        return None;
    }
    Some(so)
}

/// A scratch folder for this test binary.
pub(crate) fn scratch(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("aegis-trt-{name}-{}", std::process::id()))
}
