//! Tidy tests: run the layer lint on this very workspace, so `cargo test --workspace` covers it.

use crate::cmd::workspace_root;
use crate::lint::{self, BLESS, EDGES_FILE, check, render_edges};
use crate::metadata::Workspace;

fn this_workspace() -> Workspace {
    Workspace::load(Some(&workspace_root().join("Cargo.toml")))
        .expect("cargo metadata on the workspace")
}

#[test]
fn workspace_respects_the_layer_table() {
    let ws = this_workspace();
    let violations: Vec<String> =
        check(&ws.packages, &ws.edges).iter().map(ToString::to_string).collect();
    assert!(
        violations.is_empty(),
        "layer violations (run `cargo xtask lint-layers`):\n{}",
        violations.join("\n")
    );
}

#[test]
fn crate_edges_file_is_up_to_date() {
    let ws = this_workspace();
    let committed = std::fs::read_to_string(ws.root.join(EDGES_FILE)).unwrap_or_default();
    let problems = lint::problems(&ws, false).unwrap();
    assert!(
        committed == render_edges(&ws.edges),
        "{EDGES_FILE} is out of date; refresh it with `{BLESS}`:\n{}",
        problems.join("\n")
    );
}
