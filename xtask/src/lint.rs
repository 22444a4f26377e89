//! `cargo xtask lint-layers`: every internal dependency must point to a strictly lower layer.

use std::fmt;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};

use crate::layers::{Layer, layer_of};
use crate::metadata::{DepKind, Edge, Package, Workspace};

/// Where the resolved edge list lives, relative to the workspace root.
pub(crate) const EDGES_FILE: &str = "docs/crate-edges.txt";

/// The command that refreshes [`EDGES_FILE`].
pub(crate) const BLESS: &str = "cargo xtask lint-layers --bless";

/// What to do about a forbidden edge.
const FIX: &str = "a crate may only depend on lower layers: move the shared type down into a lower \
                   crate or invert the dependency with a trait, and record the decision in docs/adr/";

/// Options of `lint-layers`.
#[derive(Debug, Default)]
pub(crate) struct Options {
    /// Lint another workspace (`--manifest-path`).
    pub(crate) manifest_path: Option<PathBuf>,
    /// Rewrite [`EDGES_FILE`] instead of comparing it (`--bless`).
    pub(crate) bless: bool,
}

/// One broken rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Violation {
    /// A workspace member the layer table does not know.
    Unlisted(Package),
    /// An edge that does not point to a strictly lower layer.
    Forbidden {
        /// The edge.
        edge: Edge,
        /// Layer of `edge.from`.
        from: Layer,
        /// Layer of `edge.to`.
        to: Layer,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Unlisted(p) => write!(
                f,
                "unknown crate: {} [{}] is not in the layer table; add it to xtask/src/layers.rs",
                p.name, p.manifest
            ),
            Violation::Forbidden { edge, from, to } => write!(
                f,
                "forbidden edge: {} ({from}) -> {} ({to}) [{} dependency in {}]",
                edge.from,
                edge.to,
                edge.kind.as_str(),
                edge.manifest
            ),
        }
    }
}

/// The layer rule as a pure function over packages and internal edges.
pub(crate) fn check(packages: &[Package], edges: &[Edge]) -> Vec<Violation> {
    let mut out: Vec<Violation> = packages
        .iter()
        .filter(|p| layer_of(&p.name).is_none())
        .cloned()
        .map(Violation::Unlisted)
        .collect();
    for edge in edges {
        // Unlisted crates are reported above; their edges cannot be judged.
        let (Some(from), Some(to)) = (layer_of(&edge.from), layer_of(&edge.to)) else {
            continue;
        };
        let allowed = match (from, to) {
            // A dev-dependency of a crate on itself (to turn on a test-support feature for its
            // own integration tests) adds no edge between crates.
            _ if edge.from == edge.to && edge.kind == DepKind::Dev => true,
            (Layer::Tooling, _) => true,
            (_, Layer::Tooling) => false,
            (Layer::Runtime(a), Layer::Runtime(b)) => b < a,
        };
        if !allowed {
            out.push(Violation::Forbidden { edge: edge.clone(), from, to });
        }
    }
    out
}

/// The contents of [`EDGES_FILE`] for these edges.
pub(crate) fn render_edges(edges: &[Edge]) -> String {
    let mut lines: Vec<String> =
        edges.iter().map(|e| format!("{} -> {} ({})", e.from, e.to, e.kind.as_str())).collect();
    lines.sort();
    lines.dedup();
    let mut out =
        format!("# Workspace-internal dependency edges (generated; refresh with `{BLESS}`).\n");
    for l in lines {
        out.push_str(&l);
        out.push('\n');
    }
    out
}

/// Everything wrong with `ws` (violations, then a stale [`EDGES_FILE`]), one message each.
/// With `bless`, writes [`EDGES_FILE`] instead of comparing it.
pub(crate) fn problems(ws: &Workspace, bless: bool) -> Result<Vec<String>> {
    let violations = check(&ws.packages, &ws.edges);
    let mut out: Vec<String> = violations.iter().map(ToString::to_string).collect();
    if violations.iter().any(|v| matches!(v, Violation::Forbidden { .. })) {
        out.push(format!("fix: {FIX}"));
    }
    let path = ws.root.join(EDGES_FILE);
    let fresh = render_edges(&ws.edges);
    if bless {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, &fresh).with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {} ({} edges)", path.display(), ws.edges.len());
    } else {
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        if old != fresh {
            out.push(stale_message(&old, &fresh));
        }
    }
    Ok(out)
}

fn stale_message(old: &str, fresh: &str) -> String {
    let mut msg = format!("{EDGES_FILE} is out of date; refresh it with `{BLESS}` and commit it");
    for l in fresh.lines().filter(|l| !old.lines().any(|o| o == *l)) {
        msg.push_str(&format!("\n  + {l}"));
    }
    for l in old.lines().filter(|l| !fresh.lines().any(|n| n == *l)) {
        msg.push_str(&format!("\n  - {l}"));
    }
    msg
}

/// Runs `lint-layers`.
pub(crate) fn run(opts: &Options) -> Result<()> {
    let ws = Workspace::load(opts.manifest_path.as_deref())?;
    let problems = problems(&ws, opts.bless)?;
    if !problems.is_empty() {
        for p in &problems {
            eprintln!("{p}");
        }
        bail!("lint-layers failed for the workspace at {}", ws.root.display());
    }
    println!(
        "lint-layers: {} crates, {} internal edges, all pointing to lower layers",
        ws.packages.len(),
        ws.edges.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn pkg(name: &str) -> Package {
        Package { name: name.into(), manifest: format!("crates/{name}/Cargo.toml") }
    }

    fn edge(from: &str, to: &str, kind: DepKind) -> Edge {
        Edge {
            from: from.into(),
            to: to.into(),
            kind,
            manifest: format!("crates/{from}/Cargo.toml"),
        }
    }

    #[test]
    fn downward_edges_pass() {
        let pkgs =
            ["aegis-trace", "aegis-cuda", "aegis-sched", "aegis-backend-ort", "aegisrt", "xtask"]
                .map(pkg);
        let edges = [
            edge("aegis-cuda", "aegis-trace", DepKind::Normal),
            edge("aegis-backend-ort", "aegis-sched", DepKind::Build),
            edge("aegisrt", "aegis-backend-ort", DepKind::Dev),
            edge("xtask", "aegis-trace", DepKind::Normal),
            edge("aegis-cuda", "aegis-cuda", DepKind::Dev),
        ];
        assert_eq!(check(&pkgs, &edges), []);
    }

    #[test]
    fn upward_same_layer_and_tooling_edges_fail() {
        let pkgs = ["aegis-trace", "aegis-cuda", "aegis-backend-ort", "aegis-backend-trt", "xtask"]
            .map(pkg);
        let edges = [
            edge("aegis-trace", "aegis-cuda", DepKind::Dev),
            edge("aegis-backend-ort", "aegis-backend-trt", DepKind::Normal),
            edge("aegis-cuda", "xtask", DepKind::Build),
            edge("aegis-cuda", "aegis-cuda", DepKind::Normal),
        ];
        let v: Vec<String> = check(&pkgs, &edges).iter().map(ToString::to_string).collect();
        assert_eq!(
            v,
            [
                "forbidden edge: aegis-trace (layer 0) -> aegis-cuda (layer 1) \
                 [dev dependency in crates/aegis-trace/Cargo.toml]",
                "forbidden edge: aegis-backend-ort (layer 5) -> aegis-backend-trt (layer 5) \
                 [normal dependency in crates/aegis-backend-ort/Cargo.toml]",
                "forbidden edge: aegis-cuda (layer 1) -> xtask (tooling) \
                 [build dependency in crates/aegis-cuda/Cargo.toml]",
                "forbidden edge: aegis-cuda (layer 1) -> aegis-cuda (layer 1) \
                 [normal dependency in crates/aegis-cuda/Cargo.toml]",
            ]
        );
    }

    #[test]
    fn unlisted_member_fails() {
        let v = check(&[pkg("aegis-new")], &[edge("aegis-new", "aegis-trace", DepKind::Normal)]);
        assert_eq!(v.len(), 1);
        assert!(v[0].to_string().contains("add it to xtask/src/layers.rs"), "{}", v[0]);
    }

    #[test]
    fn edges_file_is_sorted_and_deduplicated() {
        let mut e2 = edge("b", "a", DepKind::Normal);
        e2.manifest = "elsewhere".into();
        let text =
            render_edges(&[edge("c", "a", DepKind::Dev), edge("b", "a", DepKind::Normal), e2]);
        let body: Vec<_> = text.lines().skip(1).collect();
        assert_eq!(body, ["b -> a (normal)", "c -> a (dev)"]);
    }

    fn fixture(name: &str) -> Workspace {
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures")
            .join(name)
            .join("Cargo.toml");
        Workspace::load(Some(&manifest)).unwrap()
    }

    #[test]
    fn clean_fixture_passes() {
        let ws = fixture("clean");
        assert_eq!(ws.edges.len(), 1);
        assert_eq!(problems(&ws, false).unwrap(), Vec::<String>::new());
    }

    #[test]
    fn forbidden_fixture_fails() {
        let ws = fixture("forbidden");
        let p = problems(&ws, false).unwrap();
        assert_eq!(
            p,
            [
                "forbidden edge: aegis-trace (layer 0) -> aegis-cuda (layer 1) \
                 [normal dependency in crates/aegis-trace/Cargo.toml]"
                    .to_owned(),
                format!("fix: {FIX}"),
            ]
        );
        assert!(
            run(&Options { manifest_path: Some(ws.root.join("Cargo.toml")), bless: false })
                .is_err()
        );
    }

    #[test]
    fn stale_edges_file_names_the_bless_command() {
        let msg = stale_message("# x\na -> b (dev)\n", "# x\na -> b (normal)\n");
        assert!(msg.contains(BLESS), "{msg}");
        assert!(msg.contains("+ a -> b (normal)") && msg.contains("- a -> b (dev)"), "{msg}");
    }
}
