//! The layer table: the ONE place that says which crate sits on which layer.
//!
//! A crate may depend only on crates of a strictly lower layer (see
//! `docs/ARCHITECTURE.md`). Adding a workspace member means adding it here.

/// Where a workspace member sits in the architecture.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Layer {
    /// A runtime crate on the given layer (0 = bottom).
    Runtime(u8),
    /// Developer tooling (`xtask`): outside the layer order, and nothing may depend on it.
    Tooling,
}

/// How a table row matches crate names.
enum Name {
    /// Exactly this package name.
    Exact(&'static str),
    /// Any package name starting with this prefix.
    Prefix(&'static str),
}

/// The table: (name, layer, what lives there). Bottom layer first.
const TABLE: &[(Name, u8, &str)] = &[
    (Name::Exact("aegis-trace"), 0, "time, trace events, audit trail, metrics, exporters"),
    (Name::Exact("aegis-cuda"), 1, "CUDA driver bindings (streams, events, priorities)"),
    (Name::Exact("aegis-context"), 2, "device contexts and model sessions"),
    (Name::Exact("aegis-memory"), 3, "deterministic memory pools"),
    (Name::Exact("aegis-sched"), 4, "real-time scheduler and admission control"),
    (Name::Prefix("aegis-backend-"), 5, "inference backends (trt, ort, tract, cuda)"),
    (Name::Exact("aegisrt"), 6, "facade library and CLI"),
    (Name::Exact("aegis-integration-tests"), 7, "workspace-level tests (test-only)"),
];

/// Tooling packages, exempt from the layer order.
const TOOLING: &[&str] = &["xtask"];

/// Package name of the workspace-level test package (top layer, never a library).
pub(crate) const INTEGRATION_TESTS: &str = "aegis-integration-tests";

/// The layer of a package, or `None` when the table does not know it.
pub(crate) fn layer_of(package: &str) -> Option<Layer> {
    if TOOLING.contains(&package) {
        return Some(Layer::Tooling);
    }
    TABLE.iter().find_map(|(name, layer, _)| {
        let hit = match name {
            Name::Exact(n) => package == *n,
            Name::Prefix(p) => package.len() > p.len() && package.starts_with(p),
        };
        hit.then_some(Layer::Runtime(*layer))
    })
}

/// True for crates whose code ships in the runtime (everything on a layer but the tests).
pub(crate) fn is_library(package: &str) -> bool {
    matches!(layer_of(package), Some(Layer::Runtime(_))) && package != INTEGRATION_TESTS
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Layer::Runtime(n) => write!(f, "layer {n}"),
            Layer::Tooling => f.write_str("tooling"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_order() {
        assert_eq!(layer_of("aegis-trace"), Some(Layer::Runtime(0)));
        assert_eq!(layer_of("aegis-cuda"), Some(Layer::Runtime(1)));
        assert_eq!(layer_of("aegis-context"), Some(Layer::Runtime(2)));
        assert_eq!(layer_of("aegis-memory"), Some(Layer::Runtime(3)));
        assert_eq!(layer_of("aegis-sched"), Some(Layer::Runtime(4)));
        for b in ["trt", "ort", "tract", "cuda"] {
            assert_eq!(layer_of(&format!("aegis-backend-{b}")), Some(Layer::Runtime(5)));
        }
        assert_eq!(layer_of("aegisrt"), Some(Layer::Runtime(6)));
        assert_eq!(layer_of(INTEGRATION_TESTS), Some(Layer::Runtime(7)));
        assert_eq!(layer_of("xtask"), Some(Layer::Tooling));
    }

    #[test]
    fn unknown_names() {
        assert_eq!(layer_of("aegis-backend-"), None);
        assert_eq!(layer_of("aegis-tracex"), None);
        assert_eq!(layer_of("serde"), None);
    }

    #[test]
    fn libraries() {
        assert!(is_library("aegis-sched"));
        assert!(is_library("aegisrt"));
        assert!(!is_library(INTEGRATION_TESTS));
        assert!(!is_library("xtask"));
    }
}
