#!/usr/bin/env bash
# Package both crates as `cargo publish` would (the CLI's .crate carries the
# lesson examples through its `lessons` symlink), and check that the library's
# .crate stands on its own: unpacked outside the workspace, it builds every
# target and passes its tests, doctests included. Needs the package registry
# (crates.io or its local cache) and nothing else. Runs from the repository
# root: ci/package.sh [--all-tests]
#
# By default the unpacked crate compiles every target (lib, tests, examples,
# benches) with every feature, then runs the unit tests, the doctests and the
# quick integration tests: what packaging can break is a missing file or
# dev-dependency, which compiling catches. `--all-tests` (or
# PACKAGE_ALL_TESTS=1) runs the whole integration suite as well.
set -euo pipefail
cd "$(dirname "$0")/.."

all_tests="${PACKAGE_ALL_TESTS:-0}"
[[ "${1:-}" == "--all-tests" ]] && all_tests=1

target="${CARGO_TARGET_DIR:-$PWD/target}"
[[ "$target" = /* ]] || target="$PWD/$target"
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n1)"

# Both crates at once: cargo verifies each .crate by building it unpacked,
# the CLI against the library's .crate (through a temporary local registry),
# so the CLI's dependency on a not yet published threadkit resolves.
# Cargo unpacks that local registry's threadkit once into its cache
# (registry/src/-HASH/, the directories of local registries) and does not
# notice when a new .crate of the same version differs: drop those copies
# first, so the CLI is verified against this library, not an older one.
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
rm -rf "$cargo_home"/registry/src/-*/"threadkit-$version" "$cargo_home"/registry/src/-*/"threadkit-cli-$version" \
    "$cargo_home"/registry/src/-*/"threadkit-cluster-$version"
# threadkit-cluster too: the CLI's optional `cluster` feature depends on it.
echo "== cargo package -p threadkit -p threadkit-cluster -p threadkit-cli (each .crate builds unpacked)"
cargo package -p threadkit -p threadkit-cluster -p threadkit-cli --allow-dirty

crate="$target/package/threadkit-$version.crate"
[[ -f "$crate" ]] || { echo "ci/package.sh: no $crate" >&2; exit 1; }

# Unpack outside the repository, so the workspace Cargo.toml is not in sight.
# The files are touched: the .crate keeps their old times, and cargo would
# otherwise reuse binaries built from an earlier unpacking (whose
# CARGO_MANIFEST_DIR is gone) instead of building these files.
unpacked="$(mktemp -d "${TMPDIR:-/tmp}/threadkit-package.XXXXXX")"
trap 'rm -rf "$unpacked"' EXIT
tar -xzf "$crate" -C "$unpacked"
find "$unpacked" -type f -exec touch {} +
cd "$unpacked/threadkit-$version"
export CARGO_TARGET_DIR="$target/package-check"

echo "== the unpacked .crate: every target, every feature"
cargo test --locked --all-features --all-targets --no-run
echo "== the unpacked .crate: unit tests and the README/docs check"
cargo test --locked --all-features --lib --test readme --test send_sync
echo "== the unpacked .crate: doctests (the crate guide, README example included)"
cargo test --locked --all-features --doc
if [[ "$all_tests" == 1 ]]; then
    echo "== the unpacked .crate: every test"
    cargo test --locked --all-features
fi
cd - >/dev/null
echo "package: ok"
