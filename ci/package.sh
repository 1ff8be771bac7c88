#!/usr/bin/env bash
# Package the crates as `cargo publish` would, and check that the library's
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

echo "== cargo package -p threadkit (cargo builds the unpacked library once)"
cargo package -p threadkit --allow-dirty

crate="$target/package/threadkit-$version.crate"
[[ -f "$crate" ]] || { echo "ci/package.sh: no $crate" >&2; exit 1; }

# Unpack outside the repository, so the workspace Cargo.toml is not in sight.
unpacked="$(mktemp -d "${TMPDIR:-/tmp}/threadkit-package.XXXXXX")"
trap 'rm -rf "$unpacked"' EXIT
tar -xzf "$crate" -C "$unpacked"
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

# The CLI depends on the library by path and version: it can be listed and
# installed from the repository (`cargo install --path threadkit-cli`); its
# .crate would resolve threadkit from the registry, where it is not yet
# published, so it is only listed here.
echo "== cargo package -p threadkit-cli --list"
cargo package -p threadkit-cli --allow-dirty --list >/dev/null
echo "package: ok"
