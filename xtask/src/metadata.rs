//! Workspace packages and internal dependency edges from `cargo metadata --no-deps`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use serde_json::Value;

use crate::cmd::Cmd;

/// A workspace member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Package {
    /// Package name.
    pub(crate) name: String,
    /// `Cargo.toml` path relative to the workspace root (with `/` separators).
    pub(crate) manifest: String,
}

/// Kind of a dependency edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum DepKind {
    /// `[dependencies]`.
    Normal,
    /// `[build-dependencies]`.
    Build,
    /// `[dev-dependencies]`.
    Dev,
}

impl DepKind {
    /// Short name used in `docs/crate-edges.txt`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            DepKind::Normal => "normal",
            DepKind::Build => "build",
            DepKind::Dev => "dev",
        }
    }
}

/// One workspace-internal dependency: `from` depends on `to`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Edge {
    /// Depending package.
    pub(crate) from: String,
    /// Package depended on.
    pub(crate) to: String,
    /// Which dependency table declares it.
    pub(crate) kind: DepKind,
    /// Manifest of `from`, relative to the workspace root.
    pub(crate) manifest: String,
}

/// The parts of `cargo metadata` the tasks need.
#[derive(Debug, Clone)]
pub(crate) struct Workspace {
    /// Absolute workspace root.
    pub(crate) root: PathBuf,
    /// Members, sorted by name.
    pub(crate) packages: Vec<Package>,
    /// Internal edges, sorted and deduplicated.
    pub(crate) edges: Vec<Edge>,
}

impl Workspace {
    /// Runs `cargo metadata --format-version 1 --no-deps` (optionally on another manifest).
    pub(crate) fn load(manifest_path: Option<&Path>) -> Result<Self> {
        let mut cmd = Cmd::cargo().args(["metadata", "--format-version", "1", "--no-deps"]);
        if let Some(p) = manifest_path {
            cmd = cmd.arg("--manifest-path").arg(p);
        }
        let json = cmd.read()?;
        Self::parse(&json)
    }

    /// Parses `cargo metadata` JSON.
    pub(crate) fn parse(json: &str) -> Result<Self> {
        let v: Value = serde_json::from_str(json).context("cargo metadata: invalid JSON")?;
        let root = PathBuf::from(str_field(&v, "workspace_root")?);
        let members: Vec<&str> = v["workspace_members"]
            .as_array()
            .context("cargo metadata: no workspace_members")?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        let all = v["packages"].as_array().context("cargo metadata: no packages")?;
        let in_ws: Vec<&Value> = all
            .iter()
            .filter(|p| p["id"].as_str().is_some_and(|id| members.contains(&id)))
            .collect();

        let mut packages = Vec::new();
        for p in &in_ws {
            let manifest = relative(&root, Path::new(str_field(p, "manifest_path")?));
            packages.push(Package { name: str_field(p, "name")?.to_owned(), manifest });
        }
        packages.sort_by(|a, b| a.name.cmp(&b.name));

        let mut edges = Vec::new();
        for p in &in_ws {
            let from = str_field(p, "name")?;
            let manifest = relative(&root, Path::new(str_field(p, "manifest_path")?));
            for d in p["dependencies"].as_array().into_iter().flatten() {
                let to = str_field(d, "name")?;
                // Internal = a path dependency on another workspace member.
                let is_path = d.get("path").is_some_and(Value::is_string) || d["source"].is_null();
                if !is_path || !packages.iter().any(|m| m.name == to) {
                    continue;
                }
                let kind = match d["kind"].as_str() {
                    None => DepKind::Normal,
                    Some("dev") => DepKind::Dev,
                    Some("build") => DepKind::Build,
                    Some(other) => anyhow::bail!("cargo metadata: unknown dependency kind {other}"),
                };
                edges.push(Edge {
                    from: from.to_owned(),
                    to: to.to_owned(),
                    kind,
                    manifest: manifest.clone(),
                });
            }
        }
        edges.sort();
        edges.dedup();
        Ok(Self { root, packages, edges })
    }

    /// Absolute directory of a package (where its `Cargo.toml` is).
    pub(crate) fn package_dir(&self, package: &Package) -> PathBuf {
        let manifest = self.root.join(&package.manifest);
        manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| self.root.clone())
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Result<&'a str> {
    v[key].as_str().with_context(|| format!("cargo metadata: missing string field `{key}`"))
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const JSON: &str = r#"{
      "workspace_root": "/ws",
      "workspace_members": ["path+file:///ws/a#0.1.0", "path+file:///ws/b#0.1.0"],
      "packages": [
        {"id": "path+file:///ws/a#0.1.0", "name": "aegis-trace", "manifest_path": "/ws/a/Cargo.toml",
         "dependencies": [
           {"name": "serde", "source": "registry+https://github.com/rust-lang/crates.io-index", "kind": null},
           {"name": "aegis-cuda", "source": null, "path": "/ws/b", "kind": "dev"}
         ]},
        {"id": "path+file:///ws/b#0.1.0", "name": "aegis-cuda", "manifest_path": "/ws/b/Cargo.toml",
         "dependencies": [
           {"name": "aegis-trace", "source": null, "path": "/ws/a", "kind": null},
           {"name": "aegis-trace", "source": null, "path": "/ws/a", "kind": null, "target": "cfg(unix)"},
           {"name": "aegis-trace", "source": null, "path": "/ws/a", "kind": "build"}
         ]}
      ]
    }"#;

    #[test]
    fn parses_members_and_internal_edges() {
        let ws = Workspace::parse(JSON).unwrap();
        assert_eq!(ws.root, PathBuf::from("/ws"));
        let names: Vec<_> = ws.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["aegis-cuda", "aegis-trace"]);
        assert_eq!(ws.packages[0].manifest, "b/Cargo.toml");
        let edges: Vec<_> =
            ws.edges.iter().map(|e| (e.from.as_str(), e.to.as_str(), e.kind)).collect();
        assert_eq!(
            edges,
            [
                ("aegis-cuda", "aegis-trace", DepKind::Normal),
                ("aegis-cuda", "aegis-trace", DepKind::Build),
                ("aegis-trace", "aegis-cuda", DepKind::Dev),
            ]
        );
        assert_eq!(ws.package_dir(&ws.packages[1]), PathBuf::from("/ws/a"));
    }
}
