#!/usr/bin/env bash
# Run threadkit's tests under Miri (nightly). Runs from the repository root.
#
# What runs:
#   - the library's unit tests (cargo miri test --lib);
#   - tests/send_sync.rs, tests/threading_thread.rs, and
#     tests/threading_stress.rs and tests/futures_stress.rs with sizes shrunk
#     under cfg(miri) (a few threads, a few hundred tasks);
#   - with --features debug-locks, the test of tests/debug_locks.rs that
#     forgets a guard and drops its lock (held-lock entries must not read it).
# What does not:
#   - -Zmiri-strict-provenance: parking_lot_core's WordLock casts integers to
#     pointers, which strict provenance rejects, so the default (permissive)
#     provenance is used. Set MIRIFLAGS to override.
#   - tests/cpython_lock_tests.rs: hundreds of milliseconds of real waits per
#     test make it too slow under the interpreter; it runs natively in CI.
#   - tests/queue_stress.rs: its 8x8 thread stress takes many minutes under
#     the interpreter; the queue's loom models cover its protocol instead.
#   - Our own unsafe (gettid, atexit in threading/registry.rs) is FFI that
#     Miri cannot run; under cfg(miri) those paths fall back to safe code.
#   - with --features green, tests/green.rs on the baton backend
#     (src/green/baton.rs: one OS thread per green thread, one baton per
#     hub): the hub, every kind of green wait, kills, timeouts, identity;
#     and tests/green_lock.rs (green Lock/RLock waits in the waiting core)
#     less its getrusage and stress tests.
#     The rule_* tests on guard pages, overflow and the stack switch need
#     the real backend (mmap, signals, corosensei), which Miri cannot run;
#     they and the 100k stress runs stay native (ci/green.sh).
# Timeouts need no -Zmiri-disable-isolation: Miri's isolated monotonic clock
# drives Instant, sleeps and timed futex waits.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! rustup component add --toolchain nightly miri; then
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    echo "!! ci/miri.sh: could not install Miri (rustup component add failed);" >&2
    echo "!! SKIPPING the Miri run. This is not a pass." >&2
    echo "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!" >&2
    exit 0
fi

export MIRIFLAGS="${MIRIFLAGS:-}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/miri"

echo "== miri: unit tests (MIRIFLAGS='$MIRIFLAGS')"
cargo +nightly miri test -p threadkit --lib

echo "== miri: integration subset"
cargo +nightly miri test -p threadkit --test send_sync --test threading_stress --test threading_thread \
    --test futures_stress

echo "== miri: a forgotten lock guard whose lock is dropped (feature debug-locks)"
# Isolation off: the thread dump it takes reads the wall clock.
MIRIFLAGS="$MIRIFLAGS -Zmiri-disable-isolation" cargo +nightly miri test -p threadkit --features debug-locks \
    --test debug_locks forgotten_guard

echo "== miri: green threads on the baton backend (tests/green.rs, less what needs the real backend)"
# Left out: stress (100k), the rule_* tests of guard pages, overflow and
# no-migration (the real stack switch), joining_the_carrier (under the baton
# a green thread is not on its carrier's OS thread), and
# sleep_yields_and_sleepers_overlap (1000 green threads are 1000 OS threads
# here: too slow under the interpreter).
# -Zmiri-ignore-leaks: threads are left running by design here: the blocked-hub
# watchdog is one thread per process that never ends (gevent's monitor
# thread), and green_threads_left_by_an_ending_thread_report_killed leaks a
# suspended green thread (under the baton: its OS thread, waiting forever)
# with its hub, never freeing what it may still refer to.
MIRIFLAGS="$MIRIFLAGS -Zmiri-ignore-leaks" cargo +nightly miri test -p threadkit --features green --test green -- \
    --skip stress --skip rule_one_guard_page_per_stack --skip rule_overflow_names_the_green_thread \
    --skip rule_no_migration_after_start --skip joining_the_carrier_is_refused \
    --skip sleep_yields_and_sleepers_overlap

echo "== miri: green Lock and RLock waits on the baton backend (tests/green_lock.rs)"
# Left out: the two *_without_polling tests (getrusage, FFI Miri cannot
# run) and the stress tests (three carriers and OS threads: too slow here).
MIRIFLAGS="$MIRIFLAGS -Zmiri-ignore-leaks" cargo +nightly miri test -p threadkit --features green --test green_lock -- \
    --skip without_polling --skip stress

echo "== miri: on_carrier_stack on the baton backend (tests/green_hubs.rs)"
# Only on_carrier_stack: the Hubs tests spin OS threads, too slow here.
MIRIFLAGS="$MIRIFLAGS -Zmiri-ignore-leaks" cargo +nightly miri test -p threadkit --features green --test green_hubs -- \
    on_carrier_stack
