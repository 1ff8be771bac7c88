#!/usr/bin/env bash
# Model-check threadkit's internals with loom (see src/loom.rs).
# Runs from the repository root: ci/loom.sh [extra test-name filter]
set -euo pipefail
cd "$(dirname "$0")/.."

export RUSTFLAGS="${RUSTFLAGS:-} --cfg loom"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
# A separate target directory: --cfg loom rebuilds every dependency.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/loom"

echo "== loom (LOOM_MAX_PREEMPTIONS=$LOOM_MAX_PREEMPTIONS)"
cargo test -p threadkit --lib --release "${1:-loom}"
# Green threads on the baton backend (src/green/baton.rs): its own models
# only, with the feature on (the models above do not change with it).
echo "== loom: green threads on the baton backend"
cargo test -p threadkit --lib --release --features green "${1:-loom_green}"
