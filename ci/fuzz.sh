#!/usr/bin/env bash
# A short fuzzing smoke run of every target in fuzz/ (nightly + cargo-fuzz),
# from the committed corpus. Runs from the repository root:
#   ci/fuzz.sh [seconds per target, default 60] [target...]
# New inputs go to a scratch copy of the corpus, so the committed one stays
# as it is; a crash leaves its input in fuzz/artifacts/ and fails the run.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-60}"
shift || true
if ! command -v cargo-fuzz >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(frame_reader worker_message value_decoder connection_recv queue_get stream_entry)
fi
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT
cd fuzz
for t in "${targets[@]}"; do
    echo "== fuzz $t for ${seconds}s"
    cp -r "corpus/$t" "$scratch/$t"
    cargo +nightly fuzz run "$t" "$scratch/$t" -- -max_total_time="$seconds" -rss_limit_mb=2048
done
