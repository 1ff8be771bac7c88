#!/usr/bin/env bash
# threadkit on its own, with its default features. The workspace's runs
# (clippy, `cargo test --workspace`) build it with the CLI's features, which
# include `debug-locks` (the tour's deadlock lesson uses it), so this is where
# the build a user gets by default is linted and tested.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo clippy -p threadkit --all-targets -- -D warnings
cargo test -p threadkit
# Feature `tracing` (off by default, and not in the CLI's set): its spans
# and events, seen by a capturing subscriber.
cargo clippy -p threadkit --all-targets --features tracing -- -D warnings
cargo test -p threadkit --features tracing --test debug_tracing --test debug
