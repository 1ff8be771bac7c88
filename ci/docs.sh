#!/usr/bin/env bash
# The API docs as docs.rs builds them: every feature, warnings denied. With a
# nightly toolchain, also with `--cfg docsrs`, which turns on the "Available
# on crate feature ..." badges (lib.rs: `cfg_attr(docsrs, feature(doc_cfg))`).
# Runs from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo doc --all-features"
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --all-features

if cargo +nightly --version >/dev/null 2>&1; then
    echo "== cargo +nightly doc, as docs.rs (--cfg docsrs)"
    RUSTDOCFLAGS="--cfg docsrs -D warnings" CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/docsrs" \
        cargo +nightly doc -p threadkit --no-deps --all-features
else
    echo "== no nightly toolchain: the docs.rs build (--cfg docsrs) is not checked"
fi
