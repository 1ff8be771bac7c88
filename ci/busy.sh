#!/usr/bin/env bash
# The README's test command on a busy machine: (cores + 1) CPU-bound
# processes run beside it, as a build in another terminal or CI neighbours
# would. No test may decide on wall time, so this must pass as the idle run
# does. Not part of .ci/run; run it by hand.
set -euo pipefail
cd "$(dirname "$0")/.."

hogs=$(($(nproc) + 1))
pids=()
# Ends the hogs this script started, by pid, however the tests end.
stop_hogs() {
    if ((${#pids[@]})); then
        kill "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
}
trap stop_hogs EXIT
for _ in $(seq "$hogs"); do
    yes >/dev/null &
    pids+=("$!")
done
echo "busy: $hogs CPU-bound processes (pids ${pids[*]}) beside the tests"
bash ci/test.sh
