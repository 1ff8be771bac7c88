#!/usr/bin/env bash
# The README's first command, `cargo run --release -p threadkit-cli -- tour`,
# as is and then beside a CPU hog: one busy `yes` per core (TOUR_HOGS=N for
# another count). The tour must pass anyway: a claim that needs free cores or
# timely wake-ups and misses on the busy machine is retried and then reported
# as inconclusive; only a miss while the cores were idle fails it. Between
# the two, the cluster lesson with the CLI's `cluster` feature.
# Runs from the repository root.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release -p threadkit-cli

echo "== the tour"
cargo run --release -p threadkit-cli -- tour

# The cluster lesson and the bench's ClusterExecutor row (the CLI's
# `cluster` feature, off in the runs above): a debug build, whose lesson
# does a tenth of the work, reusing the workspace tests' build of
# threadkit-cluster. Under CI=true a missing redis-server fails it.
echo "== the cluster lesson and bench row (feature cluster)"
cargo test -p threadkit-cli --features cluster --test cluster

hogs=()
stop_hogs() {
    for pid in "${hogs[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
}
trap stop_hogs EXIT
n="${TOUR_HOGS:-$(nproc)}"
for ((i = 0; i < n; i++)); do
    yes >/dev/null &
    hogs+=("$!")
done
echo "== the tour beside $n CPU hog(s) (pids: ${hogs[*]:-none}; load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown))"
cargo run --release -p threadkit-cli -- tour
