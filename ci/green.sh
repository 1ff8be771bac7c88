#!/usr/bin/env bash
# Green threads (feature `green`, off by default): clippy, the green tests,
# the waiting core's tests and the lock tests with green on, the module's
# doctests, and the bench's smoke run (no gevent: it says so).
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== clippy with --features green"
cargo clippy -p threadkit --all-targets --features green -- -D warnings
echo "== tests with --features green"
cargo test -p threadkit --features green --test green --test green_api --test green_watchdog --test green_scale --test green_net \
    --test green_hubs --test green_lock \
    --test cpython_lock_tests --test send_sync \
    --test threading_stress --test queue_stress
cargo test -p threadkit --features green --lib
echo "== the green tests with debug-locks (each green thread its own held locks)"
cargo test -p threadkit --features green,debug-locks --test green --test green_api --test green_lock
cargo test -p threadkit --features green --doc
echo "== green bench smoke run"
cargo bench -p threadkit --features green --bench green -- --test
cargo bench -p threadkit --features green --bench green_net -- --test
cargo bench -p threadkit --features green --bench green_hubs -- --test
