//! Compiles the TensorRT shim (`shim/aegis_trt_shim.cpp`) when TensorRT 10 headers are found,
//! and tells the crate which way it went.
//!
//! Where headers are looked for, in order:
//! - `TENSORRT_ROOT`: `$TENSORRT_ROOT/include`, `$TENSORRT_ROOT/include/<multiarch>`, or
//!   `$TENSORRT_ROOT` itself. Set explicitly, anything missing or too old fails the build
//!   with the fix (a silent fallback would hide the mistake).
//! - otherwise the system locations Debian/Ubuntu and JetPack use:
//!   `/usr/include/<multiarch>` (e.g. `/usr/include/aarch64-linux-gnu`), then `/usr/include`.
//!   Found there but unusable: a `cargo:warning` and a build without the shim.
//!
//! The CUDA headers `NvInferRuntime.h` includes (`cuda_runtime_api.h`, plus `cuda.h` for the
//! shim's driver types) come from `CUDA_INCLUDE` (one or more folders, `:`-separated), else
//! the TensorRT folder, `$CUDA_HOME/include`, `$CUDA_PATH/include`,
//! `/usr/local/cuda/targets/<arch>-linux/include`, `/usr/local/cuda/include`,
//! `/usr/include/<multiarch>`, `/usr/include`.
//!
//! `AEGIS_TRT_NO_SHIM=1` builds without the shim whatever is installed.
//!
//! Outputs: `cfg(aegis_trt_shim)` and `AEGIS_TRT_HEADER_VERSION` (e.g. `10.3.0.26`) and
//! `AEGIS_TRT_SHIM_LIB` (the static library, for the link test) when compiled;
//! `AEGIS_TRT_SHIM_ABSENT` (why not) otherwise. The shim never links libnvinfer or libcuda.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

fn main() {
    println!("cargo:rustc-check-cfg=cfg(aegis_trt_shim)");
    for var in ["TENSORRT_ROOT", "CUDA_INCLUDE", "CUDA_HOME", "CUDA_PATH", "AEGIS_TRT_NO_SHIM"] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=shim/aegis_trt_shim.cpp");
    println!("cargo:rerun-if-changed=shim/aegis_trt_shim.h");
    println!("cargo:rerun-if-changed=build.rs");

    match plan() {
        Ok(Some(found)) => compile(&found),
        Ok(None) => {}
        Err(Problem::Explicit(msg)) => panic!("aegis-backend-trt: {msg}"),
        Err(Problem::Skipped(msg)) => {
            println!("cargo:warning=aegis-backend-trt: building without TensorRT: {msg}");
            absent(&msg);
        }
    }
}

enum Problem {
    /// The user asked for TensorRT (`TENSORRT_ROOT`) and it cannot be used: fail the build.
    Explicit(String),
    /// Found on the system but unusable: build without the shim, with a warning.
    Skipped(String),
}

struct Found {
    trt_include: PathBuf,
    cuda_include: Vec<PathBuf>,
    version: (u32, u32, u32, u32),
}

fn absent(reason: &str) {
    println!("cargo:rustc-env=AEGIS_TRT_SHIM_ABSENT={reason}");
}

fn multiarch() -> Option<&'static str> {
    match env::var("CARGO_CFG_TARGET_ARCH").ok()?.as_str() {
        "aarch64" => Some("aarch64-linux-gnu"),
        "x86_64" => Some("x86_64-linux-gnu"),
        _ => None,
    }
}

fn has_trt(dir: &Path) -> bool {
    dir.join("NvInferRuntime.h").is_file() && dir.join("NvInferVersion.h").is_file()
}

fn plan() -> Result<Option<Found>, Problem> {
    if env::var("AEGIS_TRT_NO_SHIM").is_ok_and(|v| !v.is_empty() && v != "0") {
        absent("AEGIS_TRT_NO_SHIM is set");
        return Ok(None);
    }
    let arch = multiarch();
    let explicit = env::var_os("TENSORRT_ROOT").filter(|v| !v.is_empty()).map(PathBuf::from);
    let fail = |msg: String| {
        if explicit.is_some() { Problem::Explicit(msg) } else { Problem::Skipped(msg) }
    };
    let trt_include = match &explicit {
        Some(root) => {
            let mut candidates = vec![root.join("include")];
            if let Some(a) = arch {
                candidates.push(root.join("include").join(a));
            }
            candidates.push(root.clone());
            match candidates.iter().find(|d| has_trt(d)) {
                Some(d) => d.clone(),
                None => {
                    return Err(fail(format!(
                        "TENSORRT_ROOT={} has no NvInferRuntime.h/NvInferVersion.h in include/, \
                         include/<multiarch>/ or itself; point it at a TensorRT 10 install (the \
                         folder holding include/), or unset it",
                        root.display()
                    )));
                }
            }
        }
        None => {
            let mut candidates = Vec::new();
            if let Some(a) = arch {
                candidates.push(Path::new("/usr/include").join(a));
            }
            candidates.push(PathBuf::from("/usr/include"));
            match candidates.into_iter().find(|d| has_trt(d)) {
                Some(d) => d,
                None => {
                    absent(
                        "no TensorRT headers were found (TENSORRT_ROOT is not set and \
                         /usr/include[/<multiarch>] has no NvInferRuntime.h)",
                    );
                    return Ok(None);
                }
            }
        }
    };
    println!("cargo:rerun-if-changed={}", trt_include.join("NvInferVersion.h").display());
    let text = fs::read_to_string(trt_include.join("NvInferVersion.h"))
        .map_err(|e| fail(format!("reading {}: {e}", trt_include.display())))?;
    let version = parse_version(&text).ok_or_else(|| {
        fail(format!(
            "cannot read NV_TENSORRT_MAJOR/MINOR/PATCH from {}/NvInferVersion.h",
            trt_include.display()
        ))
    })?;
    if version.0 < 10 || (version.0 == 10 && version.1 < 1) {
        return Err(fail(format!(
            "TensorRT headers in {} are version {}.{}.{}; this backend needs TensorRT >= 10.1 \
             (getDeviceMemorySizeV2/setDeviceMemoryV2): install TensorRT 10 (JetPack 6.1 or \
             later ships 10.3)",
            trt_include.display(),
            version.0,
            version.1,
            version.2
        )));
    }
    let cuda_include = find_cuda(&trt_include, arch).ok_or_else(|| {
        fail(format!(
            "TensorRT headers found in {}, but not the CUDA headers they include \
             (cuda_runtime_api.h and cuda.h): set CUDA_INCLUDE to the CUDA toolkit's include \
             folder (e.g. /usr/local/cuda/include)",
            trt_include.display()
        ))
    })?;
    Ok(Some(Found { trt_include, cuda_include, version }))
}

fn find_cuda(trt_include: &Path, arch: Option<&str>) -> Option<Vec<PathBuf>> {
    let ok = |dirs: &[PathBuf]| {
        ["cuda_runtime_api.h", "cuda.h"].iter().all(|h| dirs.iter().any(|d| d.join(h).is_file()))
    };
    if let Some(v) = env::var_os("CUDA_INCLUDE").filter(|v| !v.is_empty()) {
        let dirs: Vec<PathBuf> = env::split_paths(&v).collect();
        return ok(&dirs).then_some(dirs);
    }
    let mut candidates = vec![trt_include.to_path_buf()];
    for var in ["CUDA_HOME", "CUDA_PATH"] {
        if let Some(v) = env::var_os(var).filter(|v| !v.is_empty()) {
            candidates.push(PathBuf::from(v).join("include"));
        }
    }
    if let Ok(a) = env::var("CARGO_CFG_TARGET_ARCH") {
        candidates.push(PathBuf::from(format!("/usr/local/cuda/targets/{a}-linux/include")));
    }
    candidates.push(PathBuf::from("/usr/local/cuda/include"));
    if let Some(a) = arch {
        candidates.push(Path::new("/usr/include").join(a));
    }
    candidates.push(PathBuf::from("/usr/include"));
    candidates.into_iter().find(|d| ok(std::slice::from_ref(d))).map(|d| vec![d])
}

/// `NV_TENSORRT_{MAJOR,MINOR,PATCH,BUILD}`, following one level of indirection
/// (TensorRT >= 10.8 defines them as `TRT_MAJOR_ENTERPRISE` etc.).
fn parse_version(text: &str) -> Option<(u32, u32, u32, u32)> {
    let define = |name: &str| -> Option<String> {
        text.lines().find_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("#define") && w.next() == Some(name))
                .then(|| w.next().map(str::to_owned))
                .flatten()
        })
    };
    let value = |name: &str| -> Option<u32> {
        let v = define(name)?;
        v.parse().ok().or_else(|| define(&v)?.parse().ok())
    };
    Some((
        value("NV_TENSORRT_MAJOR")?,
        value("NV_TENSORRT_MINOR")?,
        value("NV_TENSORRT_PATCH")?,
        value("NV_TENSORRT_BUILD").unwrap_or(0),
    ))
}

fn compile(found: &Found) {
    let mut build = cc::Build::new();
    build
        .cpp(true)
        .std("c++17")
        .file("shim/aegis_trt_shim.cpp")
        .include("shim")
        .warnings(true)
        .extra_warnings(true);
    // TensorRT's own headers use deprecated declarations: include them as system headers so
    // that only the shim's warnings are shown.
    for dir in std::iter::once(&found.trt_include).chain(&found.cuda_include) {
        build.flag("-isystem").flag(dir.to_string_lossy().as_ref());
    }
    build.compile("aegis_trt_shim");
    let (ma, mi, pa, bu) = found.version;
    println!("cargo:rustc-cfg=aegis_trt_shim");
    println!("cargo:rustc-env=AEGIS_TRT_HEADER_VERSION={ma}.{mi}.{pa}.{bu}");
    println!("cargo:rustc-env=AEGIS_TRT_HEADER_DIR={}", found.trt_include.display());
    let out = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_default());
    println!("cargo:rustc-env=AEGIS_TRT_SHIM_LIB={}", out.join("libaegis_trt_shim.a").display());
}
