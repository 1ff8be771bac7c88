#!/usr/bin/env bash
# threadkit built with `debug-locks` (off by default): lints, the library's
# unit tests and the debug tests. CI runs the rest of the suite without it.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy -p threadkit --features debug-locks --all-targets -- -D warnings
cargo test -p threadkit --features debug-locks --lib --test debug_locks --test debug \
    --test debug_all_asleep --test cpython_lock_tests --test threading_stress
