//! Whether this build contains the TensorRT shim, and the typed error when it does not.
//!
//! Owns [`ShimStatus`] / [`shim_status`], read from what the build script recorded. It must
//! not load anything.

use crate::ENGINE;
use aegis_context::BackendError;

/// How this crate was built.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ShimStatus {
    /// The shim was compiled against TensorRT headers of this version (`10.3.0.26`).
    Built {
        /// `NV_TENSORRT_MAJOR.MINOR.PATCH.BUILD` of the headers.
        header_version: &'static str,
    },
    /// Built without the shim (no TensorRT headers at build time).
    NotBuilt {
        /// Why, as the build script saw it.
        reason: &'static str,
    },
}

/// How this crate was built.
pub fn shim_status() -> ShimStatus {
    match (option_env!("AEGIS_TRT_HEADER_VERSION"), option_env!("AEGIS_TRT_SHIM_ABSENT")) {
        (Some(v), _) if cfg!(aegis_trt_shim) => ShimStatus::Built { header_version: v },
        (_, reason) => ShimStatus::NotBuilt { reason: reason.unwrap_or("unknown") },
    }
}

/// The error every TensorRT entry point returns in a build without the shim.
#[cfg_attr(aegis_trt_shim, allow(dead_code))]
pub(crate) fn not_built(reason: &str) -> BackendError {
    BackendError::Unavailable {
        engine: ENGINE.into(),
        reason: format!(
            "built without TensorRT (set TENSORRT_ROOT to a TensorRT 10 install and rebuild): \
             {reason}"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_matches_the_build_configuration() {
        let status = shim_status();
        assert_eq!(matches!(status, ShimStatus::Built { .. }), cfg!(aegis_trt_shim));
        match status {
            ShimStatus::Built { header_version } => {
                assert!(header_version.starts_with("10.") || header_version.starts_with("11."));
            }
            ShimStatus::NotBuilt { reason } => {
                assert!(!reason.is_empty());
            }
        }
        let e = not_built("no headers");
        assert!(matches!(e, BackendError::Unavailable { .. }));
        let msg = e.to_string();
        assert!(msg.contains("built without TensorRT") && msg.contains("TENSORRT_ROOT"), "{msg}");
        assert!(msg.contains("no headers"), "{msg}");
    }
}
