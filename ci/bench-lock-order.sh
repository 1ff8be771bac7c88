#!/usr/bin/env bash
# The cost of lock-order checking (feature `debug-locks`) beside its anchors,
# as instructions per round counted by valgrind's callgrind: a count, unlike
# a time, does not depend on how busy the machine is. Each row is the extra
# instructions over std::sync::Mutex for the same nesting, and the ratio of
# the anchor's extra to threadkit's. A second table gives wall time per
# round (each the best of 3 x 600 short runs, so the least disturbed by other
# work; still noisier than the counts). Criterion runs: `cargo bench` in
# bench/lock-order.
#   ci/bench-lock-order.sh
set -euo pipefail
cd "$(dirname "$0")/../bench"

(cd lock-order && cargo build -q --release --example instructions)
(cd parking-lot-dd && cargo build -q --release --example instructions)

count() { # binary kind depth -> instructions per round
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$1" "$2" "$3" 2>&1 |
        awk '/Collected/ { print int($4 / 100000) }'
}

ours=lock-order/target/release/examples/instructions
anchor=parking-lot-dd/target/release/examples/instructions
printf '%-7s %5s %24s %24s %14s %16s\n' depth std "threadkit (checking on)" "threadkit (switched off)" tracing-mutex parking_lot-dd
for depth in 1 2 4; do
    std=$(count $ours std $depth)
    std_dd=$(count $anchor std $depth)
    on=$(( $(count $ours threadkit $depth) - std ))
    off=$(( $(count $ours threadkit-off $depth) - std ))
    tm=$(( $(count $ours tracing-mutex $depth) - std ))
    dd=$(( $(count $anchor parking_lot-dd $depth) - std_dd ))
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "-"; else printf "%.2fx", a / b }'; }
    printf '%-7s %5s %24s %24s %14s %16s\n' "$depth" "$std" "+$on" "+$off" \
        "+$tm ($(ratio "$tm" "$on"))" "+$dd ($(ratio "$dd" "$on"))"
done
echo "(instructions per round of nested acquire+release; +N = more than std; (Rx) = the anchor's extra / threadkit's)"

ns() { # binary kind depth -> best wall time per round, in ns
    for _ in 1 2 3; do "$1" "$2" "$3" ns; done | sort -n | head -1
}
echo
printf '%-7s %7s %10s %10s %14s %7s %16s\n' depth std threadkit "(off)" tracing-mutex "std'" parking_lot-dd
for depth in 1 2 4; do
    printf '%-7s %7s %10s %10s %14s %7s %16s\n' "$depth" "$(ns $ours std $depth)" \
        "$(ns $ours threadkit $depth)" "$(ns $ours threadkit-off $depth)" \
        "$(ns $ours tracing-mutex $depth)" "$(ns $anchor std $depth)" "$(ns $anchor parking_lot-dd $depth)"
done
echo "(ns per round, best of 1800 short runs; std' is std in parking_lot-dd's binary, its baseline)"
