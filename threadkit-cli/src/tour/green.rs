//! Green threads (gevent): the same blocking worker run as green threads, as
//! OS threads and as asyncio tasks, with wall time and peak memory of each
//! measured in the same run, and gevent's version beside them when a
//! `python3` with gevent is at hand.

use std::ffi::OsString;
use std::process::{Command, ExitCode};
use std::time::Duration;

use super::python::GEVENT_WORKERS;
use super::report::secs;
use super::{Lesson, Report};

#[allow(dead_code, unreachable_pub)]
#[path = "../../lessons/green.rs"]
mod green_example;

use green_example::Run;

pub(crate) const LESSONS: [Lesson; 1] = [Lesson {
    name: "green",
    source: example_source!("green"),
    title: "green threads: blocking code, 100 000 at once",
    run: lesson,
}];

/// Each worker sleeps twice for this long.
const NAP: Duration = Duration::from_millis(250);

/// How many workers run at once: green threads and asyncio tasks, then OS
/// threads (fewer: each takes a kernel thread). A debug build runs a tenth.
fn counts() -> (usize, usize) {
    if cfg!(debug_assertions) {
        (10_000, 200)
    } else {
        (100_000, 2_000)
    }
}

/// A generous bound on a run's wall time: the worker itself takes 2 × NAP;
/// spawning, switching and joining all of them may take a few times that
/// on a loaded machine, but never anything like one worker after another.
const WALL_BOUND: Duration = Duration::from_secs(4);

/// The lesson's claims: the three ways (each within [`WALL_BOUND`]), then
/// memory.
const CLAIMS: [&str; 4] = [
    "green threads run the blocking worker all at once: every item put is got, in well \
     under 4 s (one after another would take hours)",
    "the same worker, unchanged, on OS threads: every item got, all at once (under 4 s)",
    "asyncio tasks (the worker rewritten with .await): every item got, all at once (under 4 s)",
    "a waiting green thread takes less memory than a waiting OS thread",
];

/// The echo server's claim, and how many green clients it serves (few
/// enough for a default limit of 1024 open files).
const ECHO_CLAIM: &str = "a green echo server (green::net sockets) serves every green client on \
     one OS thread";
const ECHO_CLIENTS: usize = 200;

/// `bytes` for people: KB or MB, decimal.
fn size(bytes: u64) -> String {
    if bytes >= 10_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.1} KB", bytes as f64 / 1e3)
    }
}

fn row(how: &str, run: &Run) {
    let (added, per) = match (run.peak_rss_added, run.bytes_per_worker()) {
        (Some(added), Some(per)) => (size(added), size(per)),
        _ => ("?".to_owned(), "?".to_owned()),
    };
    println!(
        "    {how:<17} {:>7}  {:>7}  {added:>10}  {per:>9}",
        run.n,
        secs(run.wall)
    );
}

/// The lines of `source` from the one starting with `start` to the first
/// one starting with `end` (included).
fn excerpt<'a>(source: &'a str, start: &str, end: &str) -> Vec<&'a str> {
    let mut lines = source.lines().skip_while(|l| !l.starts_with(start));
    let mut out = Vec::new();
    for line in lines.by_ref() {
        out.push(line);
        if line.trim_start().starts_with(end) {
            break;
        }
    }
    out
}

/// The worker in gevent and in threadkit, side by side.
fn print_workers() {
    let python = excerpt(GEVENT_WORKERS, "def worker", "return");
    let rust = excerpt(green_example_source(), "pub fn worker(", "}");
    println!("  the same worker, gevent | threadkit (blocking code, no async):");
    let width = python.iter().map(|l| l.len()).max().unwrap_or(0);
    for i in 0..python.len().max(rust.len()) {
        let p = python.get(i).copied().unwrap_or("");
        let r = rust.get(i).copied().unwrap_or("");
        println!("    {p:<width$} | {r}");
    }
}

fn green_example_source() -> &'static str {
    LESSONS[0].source
}

/// A Python with gevent: `$GREEN_PY`, else `python3` if it imports gevent.
fn gevent_python() -> Option<OsString> {
    let py = std::env::var_os("GREEN_PY").unwrap_or_else(|| "python3".into());
    let ok = Command::new(&py)
        .args(["-c", "import gevent"])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// Runs the gevent worker `n` times at once: wall seconds and the growth of
/// the peak resident set in bytes.
fn gevent_run(py: &OsString, n: usize) -> Result<(f64, u64), String> {
    let script = format!(
        "import resource, sys, time\nimport gevent\n\
         base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n\
         t0 = time.perf_counter()\n{}\n\
         print(time.perf_counter() - t0, \
         (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024)\n",
        GEVENT_WORKERS.replace("N = 100_000", "N = int(sys.argv[1])")
    );
    let out = Command::new(py)
        .args(["-c", &script, &n.to_string()])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        let err = String::from_utf8_lossy(&out.stderr);
        return Err(err.lines().last().unwrap_or("failed").to_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut it = text.split_whitespace();
    let wall = it.next().and_then(|w| w.parse().ok());
    let rss = it.next().and_then(|b| b.parse().ok());
    wall.zip(rss)
        .ok_or_else(|| format!("unexpected output {text:?}"))
}

/// Plays `threadkit child green-WAY-N`: runs `N` workers one way and
/// prints the measurement's line.
pub(crate) fn child(scenario: &str) -> ExitCode {
    let run = scenario
        .split_once('-')
        .and_then(|(way, n)| green_example::run_one(way, n.parse().ok()?, NAP));
    match run {
        Some(run) => {
            println!("{}", run.to_line());
            ExitCode::SUCCESS
        }
        None => {
            eprintln!("unknown scenario green-{scenario:?}");
            ExitCode::from(2)
        }
    }
}

/// Runs `n` workers one way in a fresh child process (so that memory an
/// earlier way freed is not reused unseen), or says why it could not.
fn in_child(way: &str, n: usize) -> Result<Run, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let out = Command::new(exe)
        .args(["child", &format!("green-{way}-{n}")])
        .output()
        .map_err(|e| e.to_string())?;
    if !out.status.success() {
        return Err(format!(
            "child exited with {}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Run::from_line(&text).ok_or_else(|| format!("unexpected output {text:?}"))
}

fn lesson(r: &mut Report) {
    let (many, os) = counts();
    print_workers();
    let runs = (
        in_child("green", many),
        in_child("threads", os),
        in_child("asyncio", many),
    );
    let (green, threads, tasks) = match runs {
        (Ok(g), Ok(t), Ok(a)) => (g, t, a),
        (g, t, a) => {
            let why: Vec<String> = [g.err(), t.err(), a.err()].into_iter().flatten().collect();
            for claim in CLAIMS {
                r.check(claim, false, why.join("; "));
            }
            check_echo(r);
            return;
        }
    };
    println!(
        "  each worker waits {} in all; measured in this run:",
        secs(NAP * 2)
    );
    println!(
        "    {:<17} {:>7}  {:>7}  {:>10}  {:>9}",
        "", "workers", "wall", "peak RSS+", "per worker"
    );
    row("green threads", &green);
    row("OS threads", &threads);
    row("asyncio tasks", &tasks);
    match gevent_python() {
        Some(py) => match gevent_run(&py, many) {
            Ok((wall, rss)) => println!(
                "    {:<17} {many:>7}  {:>5.2} s  {:>10}  {:>9}",
                "gevent (Python)",
                wall,
                size(rss),
                size(rss / many as u64)
            ),
            Err(e) => println!("    gevent (Python): not run: {e}"),
        },
        None => println!(
            "    gevent (Python): not run: no python3 with gevent here (`python3 -m venv /tmp/gv && \
             /tmp/gv/bin/pip install gevent`, then GREEN_PY=/tmp/gv/bin/python)"
        ),
    }

    let all_got = |run: &Run| {
        let n = run.n as u64;
        run.sum == n * (n - 1) / 2
    };
    let at_once = |run: &Run| run.wall < WALL_BOUND;
    let measured = |run: &Run| {
        format!(
            "{} workers, sum {} in {} (one after another: {})",
            run.n,
            run.sum,
            secs(run.wall),
            secs(NAP * 2 * run.n as u32)
        )
    };
    for (claim, run) in CLAIMS.iter().zip([&green, &threads, &tasks]) {
        r.check_timed(*claim, all_got(run), at_once(run), measured(run));
    }
    let memory = CLAIMS[3];
    match (green.bytes_per_worker(), threads.bytes_per_worker()) {
        (Some(g), Some(t)) => r.check(
            memory,
            g < t,
            format!(
                "peak RSS per worker: green thread {}, OS thread {} ({:.1}x)",
                size(g),
                size(t),
                t as f64 / g.max(1) as f64
            ),
        ),
        _ => r.check(
            memory,
            true,
            "not measurable here (no /proc/self peak RSS): not applicable",
        ),
    }
    check_echo(r);
}

/// The echo server's claim: every green client gets its line back.
fn check_echo(r: &mut Report) {
    let echoed = green_example::echo_server(ECHO_CLIENTS);
    r.check(
        ECHO_CLAIM,
        echoed == ECHO_CLIENTS,
        format!("{echoed} of {ECHO_CLIENTS} clients got their line back"),
    );
}
