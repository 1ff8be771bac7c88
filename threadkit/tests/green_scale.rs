//! Scale (feature `green`): many live green threads on one hub. Where Linux
//! has `MADV_GUARD_INSTALL` (6.13+) a stack's guard page takes no memory
//! map of its own, so `vm.max_map_count` (65530 by default, two maps per
//! stack with `mprotect` guards: about 32k live) does not cap them.
//!
//! `hundred_thousand_live` runs always; `a_million_live` (about 4.5 GB of
//! RSS) is ignored by default: `cargo test -p threadkit --features green
//! --release --test green_scale -- --ignored --nocapture`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc;
use std::time::Duration;

use threadkit::green;
use threadkit::threading::Event;

fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with(key))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn map_count() -> usize {
    std::fs::read_to_string("/proc/self/maps").map_or(0, |m| m.lines().count())
}

/// Keeps `n` green threads live at once on one hub (each parked on one
/// `Event`), then releases them; fails if they do not all finish, or after
/// `guard`.
fn live(n: usize, guard: Duration) {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let maps0 = map_count();
        let rss0 = status_kib("VmRSS:");
        let pte0 = status_kib("VmPTE:");
        let got = green::run(move || {
            let go = Arc::new(Event::new());
            let done = Arc::new(AtomicUsize::new(0));
            let gs: Vec<_> = (0..n)
                .map(|_| {
                    let (go, done) = (Arc::clone(&go), Arc::clone(&done));
                    green::spawn(move || {
                        go.wait();
                        done.fetch_add(1, Relaxed);
                    })
                })
                .collect();
            // Every one starts and parks in its wait.
            green::yield_now();
            let parked = (map_count(), status_kib("VmRSS:"), status_kib("VmPTE:"));
            go.set();
            green::joinall(&gs);
            (done.load(Relaxed), parked)
        })
        .unwrap();
        let _ = tx.send((got, maps0, rss0, pte0));
    });
    let ((done, (maps, rss, pte)), maps0, rss0, pte0) = rx
        .recv_timeout(guard)
        .expect("hang guard: the green threads did not finish");
    assert_eq!(done, n);
    println!(
        "{n} live green threads: {} memory maps added, {} bytes RSS and {} bytes of page \
         tables each (stack, handle and hub slot)",
        maps.saturating_sub(maps0),
        rss.saturating_sub(rss0) * 1024 / n as u64,
        pte.saturating_sub(pte0) * 1024 / n as u64
    );
    if guard_install_works() {
        // One map per 64 stacks at most (a slab), not two per stack.
        assert!(maps.saturating_sub(maps0) <= n / 64 + 16);
    }
}

/// Whether this kernel has lightweight guard regions (Linux 6.13+).
fn guard_install_works() -> bool {
    // SAFETY: a private anonymous page of our own, unmapped below.
    unsafe {
        let page = 4096;
        let p = libc::mmap(
            std::ptr::null_mut(),
            page,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
        let ok = libc::madvise(p, page, 102) == 0;
        libc::munmap(p, page);
        ok
    }
}

#[test]
fn hundred_thousand_live() {
    live(100_000, Duration::from_secs(300));
}

#[test]
#[ignore = "about 4.5 GB of RSS; run it on its own, in release"]
fn a_million_live() {
    assert!(
        guard_install_works(),
        "a million live green threads need MADV_GUARD_INSTALL (Linux 6.13+) or a larger \
         vm.max_map_count"
    );
    live(1_000_000, Duration::from_secs(600));
}
