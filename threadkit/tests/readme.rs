//! The README and the crate docs share their Python → threadkit table, their
//! side-by-side example and their "where semantics differ" notes: each lives
//! once in `docs/` (which lib.rs includes, so its Rust is doctested), and the
//! README must hold an exact copy.

use std::path::{Path, PathBuf};

/// The README: the repository's, beside the package in the workspace, or the
/// copy `cargo package` puts at the root of the `.crate`.
fn readme() -> Option<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    [dir.join("../README.md"), dir.join("README.md")]
        .into_iter()
        .find_map(|p| Some((p.clone(), std::fs::read_to_string(&p).ok()?)))
}

fn shared(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_readme_holds_the_crate_docs_tables_and_notes() {
    let Some((path, readme)) = readme() else {
        panic!("no README.md beside the package or in it");
    };
    for name in ["python-api.md", "side-by-side.md", "differences.md"] {
        let part = shared(name);
        assert!(
            readme.contains(part.trim_end()),
            "{} does not hold docs/{name} verbatim: copy the file's text into the README \
             (the crate docs include docs/{name})",
            path.display()
        );
    }
}

#[test]
fn lib_rs_includes_the_shared_docs() {
    let lib = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs"))
        .expect("src/lib.rs");
    for name in ["python-api.md", "side-by-side.md", "differences.md"] {
        assert!(
            lib.contains(&format!("include_str!(\"../docs/{name}\")")),
            "lib.rs no longer includes docs/{name}"
        );
    }
}
