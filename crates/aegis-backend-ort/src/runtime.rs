//! The process's one ONNX Runtime: loading the library and creating its environment, once.
//!
//! Owns [`OrtRuntime`] and [`runtime`]. `ort` keeps the loaded library and the environment in
//! process globals: a second initialisation with another path is silently ignored, and a second
//! environment is refused. This module guards both — the first successful load wins, a later
//! request for a different library is a typed error, and a failed load leaves nothing behind
//! (the next attempt may name another file). It must not create sessions.

use crate::library::{ENGINE, LibrarySource, LocatedLibrary, locate_library, unavailable};
use crate::providers::{CPU_PROVIDER, CUDA_PROVIDER, TENSORRT_PROVIDER};
use aegis_context::BackendError;
use ort::environment::Environment;
use ort::ep::ExecutionProvider as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The loaded ONNX Runtime, shared by every model of the process.
#[derive(Debug)]
pub struct OrtRuntime {
    library: LocatedLibrary,
    version: String,
    providers: Vec<&'static str>,
    environment: Environment,
}

impl OrtRuntime {
    /// The library file loaded.
    pub fn path(&self) -> &Path {
        &self.library.path
    }

    /// How the library was found.
    pub fn source(&self) -> LibrarySource {
        self.library.source
    }

    /// ONNX Runtime's version (from the file name, else from its build-info string).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The providers this AegisRT build can drive that the loaded library has
    /// ([`CPU_PROVIDER`], [`CUDA_PROVIDER`], [`TENSORRT_PROVIDER`]).
    pub fn providers(&self) -> &[&'static str] {
        &self.providers
    }

    /// Whether the loaded library has provider `name`.
    pub fn has_provider(&self, name: &str) -> bool {
        self.providers.contains(&name)
    }

    pub(crate) fn environment(&self) -> &Environment {
        &self.environment
    }
}

static RUNTIME: OnceLock<OrtRuntime> = OnceLock::new();
/// Serialises loading; holds the path `ort` accepted once it did (even if creating the
/// environment then failed, `ort` keeps that library for the rest of the process).
static LOADING: Mutex<Option<PathBuf>> = Mutex::new(None);

/// The process's ONNX Runtime, loading it on first use from `explicit` (else `ORT_DYLIB_PATH`,
/// else discovery; see [`crate::locate_library`]).
///
/// # Errors
/// [`BackendError::Unavailable`] when no usable library is found, when it fails to load or is
/// too old (saying how to provide one), or when `explicit` names another library than the one
/// already loaded (one ONNX Runtime per process).
pub fn runtime(explicit: Option<&Path>) -> Result<&'static OrtRuntime, BackendError> {
    let mut loading = LOADING.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(rt) = RUNTIME.get() {
        return same_library(rt.path(), explicit).map(|()| rt);
    }
    if let Some(accepted) = loading.as_deref() {
        // `ort` holds this library but the environment failed before: retry only with it.
        same_library(accepted, explicit)?;
    }
    let library = match loading.as_deref() {
        Some(accepted) => locate_library(Some(accepted))?,
        None => locate_library(explicit)?,
    };
    let builder = ort::init_from(&library.path).map_err(|e| {
        unavailable(format!(
            "{} could not be loaded: {e}; install a working ONNX Runtime with `{}` or point \
             ORT_DYLIB_PATH at one",
            library.path.display(),
            crate::library::PIP_HINT
        ))
    })?;
    *loading = Some(library.path.clone());
    let environment = builder.with_name("aegisrt").with_telemetry(false).build().map_err(|e| {
        unavailable(format!("{}: creating the environment failed: {e}", library.path.display()))
    })?;
    let version = match library.file_version {
        Some((a, b, c)) => format!("{a}.{b}.{c}"),
        None => build_info_version(ort::info()).unwrap_or_else(|| "unknown".into()),
    };
    let mut providers = vec![CPU_PROVIDER];
    if ort::ep::CUDA::is_available().unwrap_or(false) {
        providers.push(CUDA_PROVIDER);
    }
    if ort::ep::TensorRT::is_available().unwrap_or(false) {
        providers.push(TENSORRT_PROVIDER);
    }
    Ok(RUNTIME.get_or_init(|| OrtRuntime { library, version, providers, environment }))
}

/// Ok when `requested` is absent or names `loaded`.
fn same_library(loaded: &Path, requested: Option<&Path>) -> Result<(), BackendError> {
    let Some(req) = requested else { return Ok(()) };
    if req.canonicalize().is_ok_and(|r| r == loaded) {
        return Ok(());
    }
    Err(BackendError::Unavailable {
        engine: ENGINE.into(),
        reason: format!(
            "this process already loaded ONNX Runtime from {}, and one process holds one ONNX \
             Runtime; the `library` option asks for {}: give every model the same `library` \
             (or none)",
            loaded.display(),
            req.display()
        ),
    })
}

/// `… git-branch=rel-1.32.0, …` → `1.32.0`.
pub(crate) fn build_info_version(info: &str) -> Option<String> {
    let start = info.find("rel-")? + 4;
    let v: String = info[start..].chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_from_build_info() {
        let info = "ORT Build Info: git-branch=rel-1.32.0, git-commit-id=abc, build type=Release";
        assert_eq!(build_info_version(info).as_deref(), Some("1.32.0"));
        assert_eq!(build_info_version("ORT Build Info: git-branch=main"), None);
        assert_eq!(build_info_version("git-branch=rel-, x"), None);
    }

    #[test]
    fn same_library_compares_resolved_paths() {
        let d = std::env::temp_dir().join(format!("aegis-ort-same-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        let lib = d.join("libonnxruntime.so");
        std::fs::write(&lib, b"x").unwrap();
        let loaded = lib.canonicalize().unwrap();
        assert!(same_library(&loaded, None).is_ok());
        assert!(same_library(&loaded, Some(&d.join(".").join("libonnxruntime.so"))).is_ok());
        let e = same_library(&loaded, Some(Path::new("/other/libonnxruntime.so"))).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("already loaded ONNX Runtime from") && msg.contains("/other/"),
            "{msg}"
        );
    }
}
