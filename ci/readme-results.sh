#!/usr/bin/env bash
# Regenerates the results in threadkit-cli/README.md: runs the default
# benchmark (`threadkit bench`, every workload, CPython too when python3 is
# on PATH, the ClusterExecutor row when redis-server is) and puts its
# Markdown tables between the README's `<!-- bench-results:begin -->` and
# `<!-- bench-results:end -->` lines, with the commit and toolchain. Not
# part of CI (it takes minutes and its numbers depend on the machine); run
# it by hand and commit the README.
# Runs from the repository root: ci/readme-results.sh [extra bench options]
set -euo pipefail
cd "$(dirname "$0")/.."

readme=threadkit-cli/README.md
out="${CARGO_TARGET_DIR:-target}/readme-results"
mkdir -p "$out"

# With redis-server installed, the CLI's `cluster` feature and `--cluster`
# add the ClusterExecutor row to the cpu workload (2 local workers).
features=()
cluster=()
if command -v redis-server >/dev/null 2>&1; then
    features=(--features cluster)
    cluster=(--cluster)
fi
cargo run --release -p threadkit-cli "${features[@]}" -- bench "${cluster[@]}" --markdown "$out/bench.md" "$@" >/dev/null

{
    echo "Made by \`ci/readme-results.sh\` at commit \`$(git rev-parse --short HEAD)\`$(git diff --quiet HEAD || echo ' (with changes)'),"
    echo "$(rustc --version | cut -d' ' -f1-2); the load average in the header says how busy the machine was."
    echo
    cat "$out/bench.md"
} >"$out/section.md"

if ! grep -q "<!-- bench-results:begin -->" "$readme" || ! grep -q "<!-- bench-results:end -->" "$readme"; then
    echo "ci/readme-results.sh: $readme has no bench-results markers" >&2
    exit 1
fi
awk -v section="$out/section.md" '
    /<!-- bench-results:begin -->/ { print; while ((getline line < section) > 0) print line; skip = 1; next }
    /<!-- bench-results:end -->/ { skip = 0 }
    !skip { print }
' "$readme" >"$out/README.md"
mv "$out/README.md" "$readme"
echo "updated $readme"
