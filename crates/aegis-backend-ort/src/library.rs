//! Finding `libonnxruntime` on this machine.
//!
//! Owns the search order — an explicit path (deployment file), the `ORT_DYLIB_PATH` environment
//! variable, the `onnxruntime` Python package of `python3` (the PyPI wheel, or a Jetson
//! `onnxruntime-gpu` wheel, carries the library in `onnxruntime/capi/`), then common system
//! directories — and the messages that say what is missing and how to provide it. It must not
//! load the library (`runtime.rs` does, once per process).

use aegis_context::BackendError;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The engine name used in errors.
pub(crate) const ENGINE: &str = "onnxruntime";

/// Oldest ONNX Runtime this crate accepts: `ort` 2.0.0-rc.15 with its `api-31` feature needs
/// the C API of 1.31 (verified: 1.32.0 works; 1.22 is refused).
pub const MIN_VERSION: (u32, u32) = (1, 31);

/// The version to install, in the messages.
pub(crate) const PIP_HINT: &str = "python3 -m pip install onnxruntime==1.32.0";

/// System directories searched last (JetPack's and source builds' `make install` put the
/// library in `/usr/local/lib`).
pub(crate) fn system_dirs() -> Vec<PathBuf> {
    let multiarch = format!("/usr/lib/{}-linux-gnu", std::env::consts::ARCH);
    ["/usr/local/lib", &multiarch, "/usr/lib", "/opt/onnxruntime/lib"]
        .iter()
        .map(PathBuf::from)
        .collect()
}

/// Where a library was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LibrarySource {
    /// The `library` option.
    Explicit,
    /// The `ORT_DYLIB_PATH` environment variable.
    Environment,
    /// The `onnxruntime` package of `python3`.
    PythonPackage,
    /// A system directory.
    System,
}

/// A `libonnxruntime` found on this machine (not yet loaded).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocatedLibrary {
    /// The file (absolute, symlinks resolved).
    pub path: PathBuf,
    /// How it was found.
    pub source: LibrarySource,
    /// The version its file name states (`libonnxruntime.so.1.32.0`), when it states one.
    pub file_version: Option<(u32, u32, u32)>,
}

/// Finds `libonnxruntime`: `explicit`, else `ORT_DYLIB_PATH`, else `python3`'s `onnxruntime`
/// package, else the system directories. Runs `python3` only when the first two are absent.
///
/// # Errors
/// [`BackendError::Unavailable`] saying where it looked and how to provide the library, or that
/// the library found is older than [`MIN_VERSION`].
pub fn locate_library(explicit: Option<&Path>) -> Result<LocatedLibrary, BackendError> {
    let env = std::env::var_os("ORT_DYLIB_PATH");
    locate(explicit, env, python_package_dir, &system_dirs()).map_err(unavailable)
}

pub(crate) fn unavailable(reason: String) -> BackendError {
    BackendError::Unavailable { engine: ENGINE.into(), reason }
}

/// [`locate_library`] with its inputs injected (for tests). `python` returns the `onnxruntime`
/// package directory or a note why there is none.
pub(crate) fn locate(
    explicit: Option<&Path>,
    env: Option<OsString>,
    python: impl FnOnce() -> Result<PathBuf, String>,
    system: &[PathBuf],
) -> Result<LocatedLibrary, String> {
    if let Some(p) = explicit {
        return file(p, LibrarySource::Explicit, "the `library` option");
    }
    if let Some(p) = env.filter(|p| !p.is_empty()) {
        return file(Path::new(&p), LibrarySource::Environment, "ORT_DYLIB_PATH");
    }
    let mut looked = Vec::new();
    match python() {
        Ok(pkg) => {
            let capi = pkg.join("capi");
            match in_dir(&capi) {
                Some(p) => return file(&p, LibrarySource::PythonPackage, "python3's onnxruntime"),
                None => looked.push(format!("{} (no libonnxruntime.so*)", capi.display())),
            }
        }
        Err(why) => looked.push(why),
    }
    for dir in system {
        if let Some(p) = in_dir(dir) {
            return file(&p, LibrarySource::System, "a system directory");
        }
    }
    let dirs: Vec<_> = system.iter().map(|d| d.display().to_string()).collect();
    looked.push(dirs.join(", "));
    Err(format!(
        "libonnxruntime was not found; looked at: ORT_DYLIB_PATH (unset); {}. Provide it with \
         `{PIP_HINT}` (CPU; on a Jetson install the onnxruntime-gpu wheel for your JetPack), or \
         set ORT_DYLIB_PATH=/path/to/libonnxruntime.so, or give `library = \"…\"` in the \
         model's onnxruntime options",
        looked.join("; ")
    ))
}

/// Checks a named file: exists, resolves, and is not too old by its file name.
fn file(p: &Path, source: LibrarySource, from: &str) -> Result<LocatedLibrary, String> {
    let path = p.canonicalize().map_err(|e| {
        format!(
            "{from} names {}, which cannot be opened ({e}); point it at an existing \
             libonnxruntime.so, or install one with `{PIP_HINT}`",
            p.display()
        )
    })?;
    if !path.is_file() {
        return Err(format!(
            "{from} names {}, which is not a file; give the library file itself \
             (…/libonnxruntime.so), not its directory",
            p.display()
        ));
    }
    let file_version = path.file_name().and_then(|n| n.to_str()).and_then(file_name_version);
    if let Some(v) = file_version {
        check_version(v, &path)?;
    }
    Ok(LocatedLibrary { path, source, file_version })
}

/// Refuses a version older than [`MIN_VERSION`].
pub(crate) fn check_version(v: (u32, u32, u32), path: &Path) -> Result<(), String> {
    if (v.0, v.1) < MIN_VERSION {
        return Err(format!(
            "{} is ONNX Runtime {}.{}.{}, older than the {}.{} this backend needs; install a newer \
             one with `{PIP_HINT}` and point ORT_DYLIB_PATH at it",
            path.display(),
            v.0,
            v.1,
            v.2,
            MIN_VERSION.0,
            MIN_VERSION.1
        ));
    }
    Ok(())
}

/// `libonnxruntime.so.1.32.0` → `(1, 32, 0)`.
pub(crate) fn file_name_version(name: &str) -> Option<(u32, u32, u32)> {
    let rest = name.strip_prefix("libonnxruntime.so.")?;
    let mut parts = rest.split('.').map(|p| p.parse::<u32>().ok());
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(Some(a)), Some(Some(b)), Some(Some(c)), None) => Some((a, b, c)),
        _ => None,
    }
}

/// The library in `dir`: `libonnxruntime.so` if present, else the highest-versioned
/// `libonnxruntime.so.X.Y.Z`, else `libonnxruntime.so.1`.
fn in_dir(dir: &Path) -> Option<PathBuf> {
    let plain = dir.join("libonnxruntime.so");
    if plain.is_file() {
        return Some(plain);
    }
    let versioned = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            Some((file_name_version(&name)?, name))
        })
        .max()
        .map(|(_, name)| dir.join(name));
    versioned.or_else(|| Some(dir.join("libonnxruntime.so.1")).filter(|p| p.is_file()))
}

/// The `onnxruntime` package directory of `python3` (without importing the package, which
/// would load its own copy of the runtime).
fn python_package_dir() -> Result<PathBuf, String> {
    const SCRIPT: &str = "import importlib.util as u; s = u.find_spec('onnxruntime'); \
                          d = s and s.submodule_search_locations; print(d[0] if d else '')";
    let out = Command::new("python3")
        .args(["-c", SCRIPT])
        .output()
        .map_err(|e| format!("python3 (cannot run: {e})"))?;
    let dir = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || dir.is_empty() {
        return Err("python3's onnxruntime package (not installed)".into());
    }
    Ok(PathBuf::from(dir))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("aegis-ort-lib-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn touch(p: &Path) {
        std::fs::write(p, b"not a library").unwrap();
    }

    fn no_python() -> Result<PathBuf, String> {
        Err("python3's onnxruntime package (not installed)".into())
    }

    #[test]
    fn file_name_versions() {
        assert_eq!(file_name_version("libonnxruntime.so.1.32.0"), Some((1, 32, 0)));
        assert_eq!(file_name_version("libonnxruntime.so.1"), None);
        assert_eq!(file_name_version("libonnxruntime.so"), None);
        assert_eq!(file_name_version("libonnxruntime.so.1.x.0"), None);
        assert_eq!(file_name_version("libonnxruntime.so.1.2.3.4"), None);
        assert_eq!(file_name_version("libonnxruntime_providers_shared.so"), None);
    }

    #[test]
    fn explicit_path_wins_and_is_checked() {
        let d = temp("explicit");
        let lib = d.join("libonnxruntime.so.1.32.0");
        touch(&lib);
        let env = Some(OsString::from("/nonexistent/libonnxruntime.so"));
        let panics = || -> Result<PathBuf, String> { panic!("python must not run") };
        let found = locate(Some(&lib), env.clone(), panics, &[]).unwrap();
        assert_eq!(found.source, LibrarySource::Explicit);
        assert_eq!(found.file_version, Some((1, 32, 0)));
        assert_eq!(found.path, lib.canonicalize().unwrap());

        let missing = d.join("nope.so");
        let e = locate(Some(&missing), None, no_python, &[]).unwrap_err();
        assert!(e.contains("the `library` option names") && e.contains("nope.so"), "{e}");
        assert!(e.contains(PIP_HINT), "{e}");
        let e = locate(Some(&d), None, no_python, &[]).unwrap_err();
        assert!(e.contains("not a file"), "{e}");
    }

    #[test]
    fn environment_comes_before_python() {
        let d = temp("env");
        let lib = d.join("libonnxruntime.so");
        touch(&lib);
        let panics = || -> Result<PathBuf, String> { panic!("python must not run") };
        let found = locate(None, Some(lib.clone().into()), panics, &[]).unwrap();
        assert_eq!(found.source, LibrarySource::Environment);
        assert_eq!(found.file_version, None);
        let e = locate(None, Some("/nonexistent/x.so".into()), no_python, &[]).unwrap_err();
        assert!(e.starts_with("ORT_DYLIB_PATH names /nonexistent/x.so"), "{e}");
        // An empty variable counts as unset.
        let e = locate(None, Some(OsString::new()), no_python, &[]).unwrap_err();
        assert!(e.contains("not found"), "{e}");
    }

    #[test]
    fn python_package_then_system_dirs() {
        let d = temp("python");
        let capi = d.join("onnxruntime/capi");
        std::fs::create_dir_all(&capi).unwrap();
        touch(&capi.join("libonnxruntime.so.1.31.2"));
        touch(&capi.join("libonnxruntime.so.1.32.0"));
        touch(&capi.join("libonnxruntime_providers_shared.so"));
        let pkg = d.join("onnxruntime");
        let found = locate(None, None, || Ok(pkg.clone()), &[]).unwrap();
        assert_eq!(found.source, LibrarySource::PythonPackage);
        assert_eq!(found.file_version, Some((1, 32, 0)));

        let sys = temp("system");
        touch(&sys.join("libonnxruntime.so.1"));
        let empty_pkg = temp("empty-pkg");
        let found =
            locate(None, None, || Ok(empty_pkg.clone()), std::slice::from_ref(&sys)).unwrap();
        assert_eq!(found.source, LibrarySource::System);
        assert!(found.path.ends_with("libonnxruntime.so.1"));
    }

    #[test]
    fn nothing_found_says_where_it_looked_and_how_to_fix() {
        let empty = temp("nothing");
        let e = locate(None, None, no_python, std::slice::from_ref(&empty)).unwrap_err();
        for part in [
            "libonnxruntime was not found",
            "ORT_DYLIB_PATH (unset)",
            "python3's onnxruntime package (not installed)",
            &empty.display().to_string(),
            PIP_HINT,
            "ORT_DYLIB_PATH=/path/to/libonnxruntime.so",
        ] {
            assert!(e.contains(part), "missing {part:?} in {e}");
        }
        let pkg = temp("pkg-without-lib");
        let e = locate(None, None, || Ok(pkg.clone()), &[]).unwrap_err();
        assert!(e.contains("capi (no libonnxruntime.so*)"), "{e}");
    }

    #[test]
    fn too_old_by_file_name_is_refused_before_loading() {
        let d = temp("old");
        let lib = d.join("libonnxruntime.so.1.22.0");
        touch(&lib);
        let e = locate(Some(&lib), None, no_python, &[]).unwrap_err();
        assert!(e.contains("is ONNX Runtime 1.22.0, older than the 1.31"), "{e}");
        assert!(check_version((1, 31, 0), &lib).is_ok());
        assert!(check_version((2, 0, 0), &lib).is_ok());
    }

    #[test]
    fn public_locate_maps_to_unavailable() {
        let e = locate_library(Some(Path::new("/nonexistent/libonnxruntime.so"))).unwrap_err();
        assert!(matches!(e, BackendError::Unavailable { ref engine, .. } if engine == ENGINE));
        assert!(e.to_string().starts_with("onnxruntime is not available: the `library` option"));
        assert!(!system_dirs().is_empty());
    }
}
