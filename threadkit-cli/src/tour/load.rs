//! How busy the machine was while a lesson measured a speedup.
//!
//! A claim such as "two processes run twice as fast as one" needs the cores
//! to be free. Around each measurement the tour reads the machine's CPU time
//! (`/proc/stat`: busy, including time the hypervisor stole) and this
//! program's own (`/proc/self/stat`, with its children, waited or not). What
//! the machine spent beyond this program is what other programs took:
//! divided by the wall time, it is how many cores they used meanwhile.

use std::time::{Duration, Instant};

/// Other programs using at least this many cores on average during a
/// measurement make it too busy to judge a speedup.
pub(crate) const BUSY_CORES: f64 = 0.25;

/// The shortest window [`Snapshot::usage`] measures over.
pub(crate) const MIN_WINDOW: Duration = Duration::from_millis(200);

/// CPU time counters at one moment, in clock ticks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Snapshot {
    at: Instant,
    machine_busy: u64,
    ours: u64,
}

/// What the machine did between two [`Snapshot`]s.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Usage {
    /// Cores other programs used, on average.
    pub(crate) others: f64,
    /// Cores this program (and its worker processes) used, on average.
    pub(crate) ours: f64,
    /// The 1-minute load average at the end.
    pub(crate) load: Option<f64>,
}

impl Usage {
    /// Whether other programs took enough of the machine to spoil a speedup.
    pub(crate) fn busy(&self) -> bool {
        self.others >= BUSY_CORES
    }

    /// "load 2.31; other programs used 1.7 of 2 cores, the lesson 0.4" (for
    /// the report).
    pub(crate) fn describe(&self, cores: usize) -> String {
        let load = self
            .load
            .map_or_else(|| "load unknown".to_owned(), |l| format!("load {l:.2}"));
        format!(
            "{load}; other programs used {:.1} of {cores} cores, the lesson {:.1}",
            self.others, self.ours
        )
    }
}

/// The counters now, or `None` where `/proc` cannot be read (not Linux).
pub(crate) fn snapshot() -> Option<Snapshot> {
    let at = Instant::now();
    Some(Snapshot {
        machine_busy: machine_busy()?,
        ours: own_cpu()?,
        at,
    })
}

impl Snapshot {
    /// What happened since `self`, measured now. A measurement shorter than
    /// [`MIN_WINDOW`] is widened by waiting (idle) until it has lasted that
    /// long: `/proc` counts CPU time in ticks of 10 ms.
    pub(crate) fn usage(&self) -> Option<Usage> {
        if let Some(rest) = MIN_WINDOW.checked_sub(self.at.elapsed()) {
            std::thread::sleep(rest);
        }
        let now = snapshot()?;
        let wall = now.at.duration_since(self.at).max(Duration::from_millis(1));
        let ticks = clock_ticks() * wall.as_secs_f64();
        let busy = now.machine_busy.saturating_sub(self.machine_busy) as f64;
        let ours = now.ours.saturating_sub(self.ours) as f64;
        Some(Usage {
            others: ((busy - ours) / ticks).max(0.0),
            ours: ours / ticks,
            load: load_average(),
        })
    }
}

/// The 1-minute load average (`/proc/loadavg`).
pub(crate) fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Clock ticks per second (`USER_HZ`), the unit of `/proc`'s CPU times.
fn clock_ticks() -> f64 {
    // SAFETY: sysconf only reads a configuration value.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if hz > 0 { hz as f64 } else { 100.0 }
}

/// Busy ticks of every CPU together: user, nice, system, irq, softirq and
/// steal (time the hypervisor gave to other machines).
fn machine_busy() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let fields: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // user nice system idle iowait irq softirq steal (guest is in user).
    let get = |i: usize| fields.get(i).copied().unwrap_or(0);
    Some(get(0) + get(1) + get(2) + get(5) + get(6) + get(7))
}

/// The fields of a `/proc/PID/stat` after the command name, which may hold
/// spaces: index 0 is field 3 (`state`) of proc(5).
fn stat_fields(text: &str) -> Option<Vec<&str>> {
    let rest = &text[text.rfind(')')? + 1..];
    Some(rest.split_whitespace().collect())
}

/// This process's CPU ticks: its own, its waited-for children's, and those
/// of its children still running (or not yet waited for).
fn own_cpu() -> Option<u64> {
    let me = std::fs::read_to_string("/proc/self/stat").ok()?;
    let f = stat_fields(&me)?;
    let num = |f: &[&str], i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    // utime, stime, cutime, cstime are fields 14..=17.
    let mut total = num(&f, 11) + num(&f, 12) + num(&f, 13) + num(&f, 14);
    let pid = std::process::id().to_string();
    for entry in std::fs::read_dir("/proc").ok()?.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !name.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        if let Some(f) = stat_fields(&text) {
            // ppid is field 4.
            if f.get(1) == Some(&pid.as_str()) {
                total += num(&f, 11) + num(&f, 12);
            }
        }
    }
    Some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_own_work_is_not_counted_as_other_programs() {
        let Some(before) = snapshot() else { return };
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < Duration::from_millis(300) {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let usage = before.usage().expect("/proc was readable a moment ago");
        // One core spinning is ours; whatever else ran is the machine's.
        assert!(usage.ours > 0.0, "{usage:?}");
        assert!(usage.others.is_finite() && usage.others >= 0.0, "{usage:?}");
    }

    #[test]
    fn stat_fields_skip_a_command_name_with_spaces() {
        let f = stat_fields("42 (a b) c) S 1 2 3").unwrap();
        assert_eq!(f, ["S", "1", "2", "3"]);
    }
}
