//! What `threadkit bench` prints: a table per workload, or JSON, and an SVG
//! bar chart of the speedups.

use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{Value, json};

use super::workloads::{Sizes, Workload};

/// One measured row: an implementation running a workload in one mode,
/// over one or more runs (`--runs`).
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) workload: Workload,
    /// `threadkit` or `CPython`.
    pub(crate) implementation: &'static str,
    pub(crate) mode: String,
    /// The mean wall time of the runs.
    pub(crate) wall: Duration,
    /// The mean CPU time of the runs.
    pub(crate) cpu: Duration,
    pub(crate) tasks: usize,
    /// Tasks that succeeded, in the worst run.
    pub(crate) ok: usize,
    /// Bytes downloaded and checked, in the worst run.
    pub(crate) bytes: u64,
    /// Every run's errors.
    pub(crate) errors: Vec<String>,
    /// Every run's wall time, in order.
    pub(crate) samples: Vec<Duration>,
    /// Every run's CPU time, in order.
    pub(crate) cpu_samples: Vec<Duration>,
}

/// Adds `run` (a row of one run) to the same row of `rows`, or appends it.
pub(crate) fn add_sample(rows: &mut Vec<Row>, run: Row) {
    let same = rows.iter_mut().find(|r| {
        r.workload == run.workload && r.implementation == run.implementation && r.mode == run.mode
    });
    let Some(row) = same else {
        rows.push(run);
        return;
    };
    row.samples.extend(run.samples);
    row.cpu_samples.extend(run.cpu_samples);
    row.wall = mean(&row.samples);
    row.cpu = mean(&row.cpu_samples);
    row.ok = row.ok.min(run.ok);
    row.bytes = row.bytes.min(run.bytes);
    for e in run.errors {
        if !row.errors.contains(&e) {
            row.errors.push(e);
        }
    }
}

fn mean(samples: &[Duration]) -> Duration {
    if samples.is_empty() {
        return Duration::ZERO;
    }
    samples.iter().sum::<Duration>() / samples.len() as u32
}

impl Row {
    /// A row with no run yet.
    pub(crate) fn new(
        workload: Workload,
        implementation: &'static str,
        mode: &str,
        tasks: usize,
    ) -> Row {
        Row {
            workload,
            implementation,
            mode: mode.to_owned(),
            wall: Duration::ZERO,
            cpu: Duration::ZERO,
            tasks,
            ok: tasks,
            bytes: 0,
            errors: Vec::new(),
            samples: Vec::new(),
            cpu_samples: Vec::new(),
        }
    }

    /// This row as one run that took `wall` (and `cpu`), with `ok` tasks
    /// done, `bytes` checked and `errors`.
    pub(crate) fn with_run(
        mut self,
        wall: Duration,
        cpu: Duration,
        ok: usize,
        bytes: u64,
        errors: Vec<String>,
    ) -> Row {
        self.wall = wall;
        self.cpu = cpu;
        self.ok = ok;
        self.bytes = bytes;
        self.errors = errors;
        self.samples = vec![wall];
        self.cpu_samples = vec![cpu];
        self
    }

    /// The sample standard deviation of the wall times (zero for one run).
    pub(crate) fn stddev(&self) -> Duration {
        let n = self.samples.len();
        if n < 2 {
            return Duration::ZERO;
        }
        let m = self.wall.as_secs_f64();
        let var = self
            .samples
            .iter()
            .map(|s| (s.as_secs_f64() - m).powi(2))
            .sum::<f64>()
            / (n - 1) as f64;
        Duration::from_secs_f64(var.sqrt())
    }

    /// The fastest run.
    pub(crate) fn min(&self) -> Duration {
        self.samples.iter().copied().min().unwrap_or_default()
    }

    /// The slowest run.
    pub(crate) fn max(&self) -> Duration {
        self.samples.iter().copied().max().unwrap_or_default()
    }

    pub(crate) fn label(&self) -> String {
        format!("{} {}", self.implementation, self.mode)
    }
    pub(crate) fn failed(&self) -> bool {
        self.ok != self.tasks || !self.errors.is_empty()
    }
}

/// Where and how the run was made.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    pub(crate) sizes: Sizes,
    pub(crate) workloads: Vec<Workload>,
    pub(crate) max_workers: usize,
    /// Measured runs per row (`--runs`).
    pub(crate) runs: u32,
    /// Unmeasured runs before them (`--warmup`).
    pub(crate) warmup: u32,
    /// The CPython version, or why there is none.
    pub(crate) python: Result<String, String>,
    /// `/proc/loadavg`'s three load averages when the run began: other work
    /// on the machine skews the timings.
    pub(crate) load: Option<String>,
}

/// The 1, 5 and 15 minute load averages, as `/proc/loadavg` has them.
pub(crate) fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    Some(
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The version of `--json`'s layout. 2: every result carries its samples
/// (`wall_samples_s`, `cpu_samples_s`) and their spread; `wall_s` and
/// `cpu_s` are means; `config` has `runs` and `warmup`. (1, unversioned: one
/// sample per row.)
pub(crate) const JSON_SCHEMA_VERSION: u32 = 2;

/// Everything measured.
#[derive(Debug)]
pub(crate) struct Report {
    pub(crate) meta: Meta,
    pub(crate) rows: Vec<Row>,
    /// Problems that are not a row's (e.g. CPython failed to run).
    pub(crate) notes: Vec<String>,
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".to_owned())
}

/// The modes in chart order; each has a pair of colours (ColorBrewer's
/// "Paired"): dark for threadkit, light for CPython, so the same mode of the
/// two implementations reads as one hue and no two series share a colour.
const MODE_COLOURS: [(&str, &str, &str); 7] = [
    ("sequential", "#1f78b4", "#a6cee3"),
    ("threads", "#33a02c", "#b2df8a"),
    ("gil-sim", "#e31a1c", "#fb9a99"),
    ("ThreadPoolExecutor", "#ff7f00", "#fdbf6f"),
    ("ProcessPoolExecutor", "#6a3d9a", "#cab2d6"),
    ("asyncio", "#b15928", "#ffff99"),
    // Outside "Paired" (its 12 colours are taken): ColorBrewer's dark teal.
    ("ClusterExecutor", "#01665e", "#80cdc1"),
];

/// The colour of a chart series; `index` picks a distinct one for a mode
/// without a pair.
fn series_colour(implementation: &str, mode: &str, index: usize) -> String {
    match MODE_COLOURS.iter().find(|(m, _, _)| *m == mode) {
        Some((_, dark, _)) if implementation == "threadkit" => (*dark).to_owned(),
        Some((_, _, light)) => (*light).to_owned(),
        None => fallback_colour(index),
    }
}

/// A grey for a series of an unknown mode, lighter with each.
fn fallback_colour(index: usize) -> String {
    let v = 40 + (index * 37) % 160;
    format!("#{v:02x}{v:02x}{v:02x}")
}

/// `text` as one CSV field: quoted when it holds a comma, quote or newline.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}

/// `1.23 s`, `45.6 ms` or `789 µs`.
fn fmt_duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else if s >= 1e-3 {
        format!("{:.1} ms", s * 1e3)
    } else {
        format!("{:.0} µs", s * 1e6)
    }
}

fn fmt_bytes(b: u64) -> String {
    let b = b as f64;
    if b >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", b / (1024.0 * 1024.0))
    } else {
        format!("{:.1} KiB", b / 1024.0)
    }
}

impl Report {
    /// Wall-time speedup of `row` over its own implementation's sequential
    /// row, if both succeeded.
    pub(crate) fn speedup(&self, row: &Row) -> Option<f64> {
        if row.failed() {
            return None;
        }
        let base = self.rows.iter().find(|r| {
            r.workload == row.workload
                && r.implementation == row.implementation
                && r.mode == "sequential"
                && !r.failed()
        })?;
        Some(base.wall.as_secs_f64() / row.wall.as_secs_f64().max(1e-9))
    }

    /// The standard deviation of [`speedup`](Self::speedup) over the runs,
    /// from the spread of both rows (relative errors added in quadrature).
    pub(crate) fn speedup_spread(&self, row: &Row) -> Option<f64> {
        let speedup = self.speedup(row)?;
        let base = self.rows.iter().find(|r| {
            r.workload == row.workload
                && r.implementation == row.implementation
                && r.mode == "sequential"
        })?;
        let rel = |r: &Row| r.stddev().as_secs_f64() / r.wall.as_secs_f64().max(1e-9);
        Some(speedup * (rel(base).powi(2) + rel(row).powi(2)).sqrt())
    }

    /// The `ClusterExecutor` row beside the `ProcessPoolExecutor` row of
    /// `workload` (both threadkit's, both succeeded), as one line: how the
    /// cluster's local workers compare with a process pool on the same work.
    fn cluster_ratio(&self, workload: Workload) -> Option<String> {
        let find = |mode: &str| {
            self.rows.iter().find(|r| {
                r.workload == workload
                    && r.implementation == "threadkit"
                    && r.mode == mode
                    && !r.failed()
            })
        };
        let (cluster, pool) = (find("ClusterExecutor")?, find("ProcessPoolExecutor")?);
        let ratio = pool.wall.as_secs_f64() / cluster.wall.as_secs_f64().max(1e-9);
        let over_sequential = self
            .speedup(cluster)
            .map_or_else(String::new, |s| format!(", {s:.2}x sequential"));
        Some(format!(
            "ClusterExecutor (2 local workers{over_sequential}) vs ProcessPoolExecutor: \
             {ratio:.2}x its speed (wall {} vs {})",
            fmt_duration(cluster.wall),
            fmt_duration(pool.wall)
        ))
    }

    /// Whether any task failed or anything went wrong.
    pub(crate) fn has_errors(&self) -> bool {
        self.rows.iter().any(Row::failed)
    }

    fn describe(&self, workload: Workload) -> String {
        let s = &self.meta.sizes;
        match workload {
            Workload::Sleep => format!("{} tasks × sleep {}", s.tasks, fmt_duration(s.sleep)),
            Workload::Download => format!(
                "{} × HTTP GET of {} from a loopback server, {} latency per request",
                s.tasks,
                fmt_bytes(s.file_bytes as u64),
                fmt_duration(s.latency)
            ),
            Workload::Cpu => format!(
                "{} tasks × `total += i` for i in range({}) (CPython: range({}))",
                s.tasks, s.cpu_iters, s.py_cpu_iters
            ),
        }
    }

    fn python_text(&self) -> String {
        match &self.meta.python {
            Ok(v) => format!("CPython {v}"),
            Err(why) => format!("no CPython ({why})"),
        }
    }

    /// The human-readable tables.
    pub(crate) fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "threadkit bench: {} cores ({}), {}/{}, load average {}, {}; pool max_workers = {}",
            cores(),
            cpu_model(),
            std::env::consts::OS,
            std::env::consts::ARCH,
            self.meta.load.as_deref().unwrap_or("unknown"),
            self.python_text(),
            self.meta.max_workers
        );
        let _ = writeln!(
            out,
            "{} measured run{} per row{}; wall is their mean ± standard deviation, speedup the ratio of means",
            self.meta.runs,
            if self.meta.runs == 1 { "" } else { "s" },
            match self.meta.warmup {
                0 => String::new(),
                1 => ", after 1 warm-up run".to_owned(),
                n => format!(", after {n} warm-up runs"),
            }
        );
        let width = self
            .rows
            .iter()
            .map(|r| r.label().chars().count())
            .max()
            .unwrap_or(0)
            .max("implementation".len());
        for &workload in &self.meta.workloads {
            let rows: Vec<&Row> = self
                .rows
                .iter()
                .filter(|r| r.workload == workload)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let download = workload == Workload::Download;
            let _ = writeln!(out, "\n{workload}: {}", self.describe(workload));
            let _ = write!(
                out,
                "  {:<width$}  {:>21}  {:>9}  {:>9}  {:>9}  {:>8}  {:>7}",
                "implementation", "wall (mean ± σ)", "min", "max", "CPU", "speedup", "tasks ok"
            );
            if download {
                let _ = write!(out, "  {:>10}", "checked");
            }
            out.push('\n');
            for row in &rows {
                let speedup = self
                    .speedup(row)
                    .map_or_else(|| "-".to_owned(), |s| format!("{s:.2}x"));
                let ok = if row.failed() {
                    format!("{}/{} ERR", row.ok, row.tasks)
                } else {
                    format!("{}/{}", row.ok, row.tasks)
                };
                let wall = format!(
                    "{} ± {}",
                    fmt_duration(row.wall),
                    fmt_duration(row.stddev())
                );
                let _ = write!(
                    out,
                    "  {:<width$}  {:>21}  {:>9}  {:>9}  {:>9}  {:>8}  {:>8}",
                    row.label(),
                    wall,
                    fmt_duration(row.min()),
                    fmt_duration(row.max()),
                    fmt_duration(row.cpu),
                    speedup,
                    ok
                );
                if download {
                    let _ = write!(out, "  {:>10}", fmt_bytes(row.bytes));
                }
                out.push('\n');
            }
            if let Some(line) = self.cluster_ratio(workload) {
                let _ = writeln!(out, "  {line}");
            }
            for row in rows.iter().filter(|r| r.failed()) {
                for e in row.errors.iter().take(5) {
                    let _ = writeln!(out, "  error ({}): {e}", row.label());
                }
                if row.errors.len() > 5 {
                    let _ = writeln!(out, "  ... and {} more", row.errors.len() - 5);
                }
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\nnote: {note}");
        }
        out
    }

    /// One line per row (`--csv`), with a header line; times in seconds.
    pub(crate) fn csv(&self) -> String {
        let mut out = String::from(
            "workload,implementation,mode,runs,wall_mean_s,wall_stddev_s,wall_min_s,wall_max_s,cpu_mean_s,speedup,tasks,ok,bytes,errors\n",
        );
        for r in &self.rows {
            let speedup = self
                .speedup(r)
                .map_or_else(String::new, |s| format!("{s:.4}"));
            let _ = writeln!(
                out,
                "{},{},{},{},{:.6},{:.6},{:.6},{:.6},{:.6},{},{},{},{},{}",
                r.workload.name(),
                csv_field(r.implementation),
                csv_field(&r.mode),
                r.samples.len(),
                r.wall.as_secs_f64(),
                r.stddev().as_secs_f64(),
                r.min().as_secs_f64(),
                r.max().as_secs_f64(),
                r.cpu.as_secs_f64(),
                speedup,
                r.tasks,
                r.ok,
                r.bytes,
                csv_field(&r.errors.join("; "))
            );
        }
        out
    }

    /// The tables as Markdown (`--markdown`), with the run's header.
    pub(crate) fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "`threadkit bench`: {} cores ({}), {}/{}, load average {}, {}; pool max_workers = {}; \
             {} measured run(s) per row after {} warm-up run(s); wall is mean ± standard deviation.",
            cores(),
            cpu_model(),
            std::env::consts::OS,
            std::env::consts::ARCH,
            self.meta.load.as_deref().unwrap_or("unknown"),
            self.python_text(),
            self.meta.max_workers,
            self.meta.runs,
            self.meta.warmup
        );
        for &workload in &self.meta.workloads {
            let rows: Vec<&Row> = self
                .rows
                .iter()
                .filter(|r| r.workload == workload)
                .collect();
            if rows.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n**{workload}**: {}\n", self.describe(workload));
            out.push_str(
                "| implementation | wall (mean ± σ) | min | max | CPU | speedup | tasks ok |\n",
            );
            out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            for r in rows {
                let speedup = self
                    .speedup(r)
                    .map_or_else(|| "-".to_owned(), |s| format!("{s:.2}x"));
                let ok = if r.failed() {
                    format!("{}/{} ERR", r.ok, r.tasks)
                } else {
                    format!("{}/{}", r.ok, r.tasks)
                };
                let _ = writeln!(
                    out,
                    "| {} | {} ± {} | {} | {} | {} | {} | {} |",
                    r.label().replace('|', "\\|"),
                    fmt_duration(r.wall),
                    fmt_duration(r.stddev()),
                    fmt_duration(r.min()),
                    fmt_duration(r.max()),
                    fmt_duration(r.cpu),
                    speedup,
                    ok
                );
            }
            if let Some(line) = self.cluster_ratio(workload) {
                let _ = writeln!(out, "\n{line}");
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "\nNote: {note}");
        }
        out
    }

    /// The machine-readable form (`--json`).
    pub(crate) fn json(&self) -> Value {
        let s = &self.meta.sizes;
        let results: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                json!({
                    "workload": r.workload.name(),
                    "implementation": r.implementation,
                    "mode": r.mode,
                    "label": r.label(),
                    "wall_s": r.wall.as_secs_f64(),
                    "wall_stddev_s": r.stddev().as_secs_f64(),
                    "wall_min_s": r.min().as_secs_f64(),
                    "wall_max_s": r.max().as_secs_f64(),
                    "wall_samples_s": r.samples.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
                    "cpu_s": r.cpu.as_secs_f64(),
                    "cpu_samples_s": r.cpu_samples.iter().map(Duration::as_secs_f64).collect::<Vec<_>>(),
                    "speedup": self.speedup(r),
                    "tasks": r.tasks,
                    "ok": r.ok,
                    "bytes": r.bytes,
                    "errors": r.errors,
                })
            })
            .collect();
        json!({
            "schema_version": JSON_SCHEMA_VERSION,
            "machine": {
                "cores": cores(),
                "cpu": cpu_model(),
                "os": std::env::consts::OS,
                "arch": std::env::consts::ARCH,
                "load_average": self.meta.load,
            },
            "cpython": match &self.meta.python {
                Ok(v) => json!({"available": true, "version": v}),
                Err(why) => json!({"available": false, "reason": why}),
            },
            "config": {
                "workloads": self.meta.workloads.iter().map(|w| w.name()).collect::<Vec<_>>(),
                "tasks": s.tasks,
                "sleep_ms": s.sleep.as_secs_f64() * 1e3,
                "latency_ms": s.latency.as_secs_f64() * 1e3,
                "file_bytes": s.file_bytes,
                "cpu_iters": s.cpu_iters,
                "cpython_cpu_iters": s.py_cpu_iters,
                "max_workers": self.meta.max_workers,
                "runs": self.meta.runs,
                "warmup": self.meta.warmup,
            },
            "results": results,
            "notes": self.notes,
            "ok": !self.has_errors(),
        })
    }

    /// A grouped bar chart of the speedups, one group per workload, as SVG
    /// (drawn with plotters): a distinct colour per series, the speedup's
    /// spread over the runs as an error bar, each value written upwards
    /// above its bar (so narrow bars' labels cannot overlap) and the legend
    /// beside the plot, never over it.
    pub(crate) fn svg(&self) -> String {
        let mut buf = String::new();
        match self.draw_svg(&mut buf) {
            Ok(()) => tidy_svg(&buf),
            // plotters writing into a String cannot fail in practice; if it
            // ever does, the file still says what happened.
            Err(e) => format!(
                "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"600\" height=\"40\">\
                 <text x=\"10\" y=\"25\">cannot draw the chart: {}</text></svg>\n",
                e.replace('&', "&amp;").replace('<', "&lt;")
            ),
        }
    }

    fn draw_svg(&self, buf: &mut String) -> Result<(), String> {
        use plotters::prelude::*;
        use plotters::style::text_anchor::{HPos, Pos, VPos};

        let workloads: Vec<Workload> = self
            .meta
            .workloads
            .iter()
            .copied()
            .filter(|w| self.rows.iter().any(|r| r.workload == *w))
            .collect();
        // threadkit's series, then CPython's, each in table order: a mode
        // that runs only some workloads (ClusterExecutor) stays with its
        // implementation in the groups and the legend.
        let mut ordered: Vec<&Row> = self.rows.iter().collect();
        ordered.sort_by_key(|r| r.implementation != "threadkit");
        let mut series: Vec<(String, String)> = Vec::new();
        for row in ordered {
            if !series.iter().any(|(label, _)| *label == row.label()) {
                let colour = series_colour(row.implementation, &row.mode, series.len());
                series.push((row.label(), colour));
            }
        }
        let top_of = |row: &Row| {
            self.speedup(row)
                .map(|s| s + self.speedup_spread(row).unwrap_or(0.0))
        };
        let max = self.rows.iter().filter_map(top_of).fold(1.0f64, f64::max);
        // Head room for the values written above the bars.
        let top = max * 1.25;

        let err = |e: &dyn std::fmt::Display| e.to_string();
        let (width, height) = (1000u32, 560u32);
        let root = SVGBackend::with_string(buf, (width, height)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let (plot_area, legend_area) = root.split_horizontally(width - 270);
        let mut chart = ChartBuilder::on(&plot_area)
            .caption(
                format!(
                    "threadkit bench: speedup over sequential ({} tasks, {} cores)",
                    self.meta.sizes.tasks,
                    cores()
                ),
                ("sans-serif", 20),
            )
            .margin(12)
            .x_label_area_size(50)
            .y_label_area_size(70)
            .build_cartesian_2d(0f64..workloads.len().max(1) as f64, 0f64..top)
            .map_err(|e| err(&e))?;
        let y_label = |v: &f64| format!("{v}x");
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .x_labels(0)
            .y_labels(8)
            .y_label_formatter(&y_label)
            .x_desc("workload")
            .y_desc("speedup over the same implementation's sequential run (×)")
            .axis_desc_style(("sans-serif", 15))
            .label_style(("sans-serif", 13))
            .draw()
            .map_err(|e| err(&e))?;
        // The 1x line: at or above it, faster than sequential.
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(0.0, 1.0), (workloads.len() as f64, 1.0)],
                RGBColor(68, 68, 68).stroke_width(1),
            )))
            .map_err(|e| err(&e))?;

        let bar_w = 0.8 / series.len().max(1) as f64;
        let value_style = TextStyle::from(("sans-serif", 11).into_font())
            .transform(FontTransform::Rotate270)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let err_style = TextStyle::from(("sans-serif", 11).into_font())
            .color(&RED)
            .pos(Pos::new(HPos::Center, VPos::Bottom));
        for (g, workload) in workloads.iter().enumerate() {
            let x0 = g as f64 + 0.1;
            for (s, (label, colour)) in series.iter().enumerate() {
                let Some(row) = self
                    .rows
                    .iter()
                    .find(|r| r.workload == *workload && r.label() == *label)
                else {
                    continue;
                };
                let (left, right) = (x0 + s as f64 * bar_w, x0 + (s as f64 + 0.9) * bar_w);
                let centre = (left + right) / 2.0;
                let Some(speedup) = self.speedup(row) else {
                    chart
                        .draw_series(std::iter::once(Text::new(
                            "err",
                            (centre, top * 0.01),
                            err_style.clone(),
                        )))
                        .map_err(|e| err(&e))?;
                    continue;
                };
                let fill = hex_colour(colour);
                chart
                    .draw_series([
                        Rectangle::new([(left, 0.0), (right, speedup)], fill.filled()),
                        Rectangle::new(
                            [(left, 0.0), (right, speedup)],
                            RGBColor(51, 51, 51).stroke_width(1),
                        ),
                    ])
                    .map_err(|e| err(&e))?;
                // The error bar: ± the speedup's standard deviation over the
                // runs (from both rows' spreads).
                let spread = self.speedup_spread(row).unwrap_or(0.0);
                if spread > 0.0 {
                    let (lo, hi) = ((speedup - spread).max(0.0), speedup + spread);
                    let cap = bar_w * 0.2;
                    chart
                        .draw_series([
                            PathElement::new(vec![(centre, lo), (centre, hi)], BLACK),
                            PathElement::new(vec![(centre - cap, lo), (centre + cap, lo)], BLACK),
                            PathElement::new(vec![(centre - cap, hi), (centre + cap, hi)], BLACK),
                        ])
                        .map_err(|e| err(&e))?;
                }
                chart
                    .draw_series(std::iter::once(Text::new(
                        format!("{speedup:.2}"),
                        (centre, speedup + spread + top * 0.01),
                        value_style.clone(),
                    )))
                    .map_err(|e| err(&e))?;
            }
        }
        // The workloads' names under their groups (the x axis has no ticks:
        // its positions are groups, not numbers).
        let (px, py) = plot_area.get_base_pixel();
        let name_style =
            TextStyle::from(("sans-serif", 15).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
        for (g, workload) in workloads.iter().enumerate() {
            let (x, y) = chart.backend_coord(&(g as f64 + 0.5, 0.0));
            plot_area
                .draw(&Text::new(
                    workload.name().to_owned(),
                    (x - px, y - py + 6),
                    name_style.clone(),
                ))
                .map_err(|e| err(&e))?;
        }
        // The legend, beside the plot.
        let label_style =
            TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Left, VPos::Center));
        for (s, (label, colour)) in series.iter().enumerate() {
            let y = 70 + 22 * s as i32;
            legend_area
                .draw(&Rectangle::new(
                    [(10, y - 7), (24, y + 7)],
                    hex_colour(colour).filled(),
                ))
                .map_err(|e| err(&e))?;
            legend_area
                .draw(&Text::new(label.clone(), (32, y), label_style.clone()))
                .map_err(|e| err(&e))?;
        }
        root.present().map_err(|e| err(&e))?;
        Ok(())
    }
}

/// `#rrggbb` as a plotters colour (black if malformed).
fn hex_colour(hex: &str) -> plotters::style::RGBColor {
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|c| u8::from_str_radix(c, 16).ok())
            .unwrap_or(0)
    };
    plotters::style::RGBColor(channel(1), channel(3), channel(5))
}

/// plotters' SVG, tidied: the root element opens with its namespace (as
/// XML tools and our tests look for it), and each text's content sits
/// inside its element without the surrounding line breaks plotters writes,
/// so it renders and greps as `<text ...>cpu</text>`.
fn tidy_svg(svg: &str) -> String {
    const XMLNS: &str = " xmlns=\"http://www.w3.org/2000/svg\"";
    let mut out = String::with_capacity(svg.len());
    let mut lines = svg.lines();
    while let Some(line) = lines.next() {
        if line.starts_with("<svg ") {
            out.push_str("<svg");
            out.push_str(XMLNS);
            out.push_str(&line[4..].replacen(XMLNS, "", 1));
            out.push('\n');
        } else if line.starts_with("<text") && line.ends_with('>') && !line.ends_with("/>") {
            // `<text ...>`, then its content, then `</text>`, a line each.
            out.push_str(line);
            for inner in lines.by_ref() {
                if inner == "</text>" {
                    break;
                }
                out.push_str(inner);
            }
            out.push_str("</text>\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(workload: Workload, implementation: &'static str, mode: &str, wall_ms: u64) -> Row {
        Row::new(workload, implementation, mode, 2).with_run(
            Duration::from_millis(wall_ms),
            Duration::from_millis(1),
            2,
            0,
            Vec::new(),
        )
    }

    fn report(rows: Vec<Row>) -> Report {
        Report {
            meta: Meta {
                sizes: Sizes {
                    tasks: 2,
                    sleep: Duration::from_millis(1),
                    latency: Duration::ZERO,
                    file_bytes: 1,
                    cpu_iters: 1,
                    py_cpu_iters: 1,
                },
                workloads: vec![Workload::Sleep, Workload::Cpu],
                max_workers: 2,
                runs: 1,
                warmup: 0,
                python: Err("skipped".into()),
                load: None,
            },
            rows,
            notes: Vec::new(),
        }
    }

    #[test]
    fn runs_add_up_to_a_mean_a_spread_and_every_sample() {
        let mut rows = Vec::new();
        for ms in [100, 120, 110] {
            add_sample(&mut rows, row(Workload::Cpu, "threadkit", "threads", ms));
        }
        let mut failing = row(Workload::Cpu, "threadkit", "threads", 90);
        failing.ok = 1;
        failing.errors.push("boom".into());
        add_sample(&mut rows, failing);
        assert_eq!(rows.len(), 1);
        let r = &rows[0];
        assert_eq!(r.samples.len(), 4);
        assert_eq!(r.wall, Duration::from_millis(105));
        assert_eq!(
            (r.min(), r.max()),
            (Duration::from_millis(90), Duration::from_millis(120))
        );
        // Sample standard deviation of 100, 120, 110, 90: sqrt(500/3) ms.
        let sd = r.stddev().as_secs_f64() * 1e3;
        assert!((sd - (500.0f64 / 3.0).sqrt()).abs() < 1e-6, "{sd}");
        assert_eq!((r.ok, r.errors.as_slice()), (1, &["boom".to_owned()][..]));
        assert!(r.failed());
    }

    #[test]
    fn speedup_is_over_the_same_implementations_sequential_row() {
        let mut failed = row(Workload::Cpu, "threadkit", "gil-sim", 10);
        failed.ok = 1;
        failed.errors.push("boom".into());
        let r = report(vec![
            row(Workload::Cpu, "threadkit", "sequential", 100),
            row(Workload::Cpu, "threadkit", "threads", 50),
            row(Workload::Cpu, "CPython", "sequential", 1000),
            row(Workload::Cpu, "CPython", "threads", 1000),
            failed,
        ]);
        assert_eq!(r.speedup(&r.rows[1]), Some(2.0));
        assert_eq!(r.speedup(&r.rows[3]), Some(1.0));
        assert_eq!(r.speedup(&r.rows[4]), None);
        assert!(r.has_errors());
        let table = r.table();
        assert!(
            table.contains("1/2 ERR") && table.contains("boom"),
            "{table}"
        );
        let csv = r.csv();
        assert_eq!(csv.lines().count(), 1 + 5, "{csv}");
        assert!(
            csv.lines()
                .nth(2)
                .unwrap()
                .starts_with("cpu,threadkit,threads,1,0.050000,"),
            "{csv}"
        );
        assert!(csv.contains(",2,1,0,boom\n"), "{csv}");
        assert_eq!(csv_field("a, \"b\""), "\"a, \"\"b\"\"\"");
        let md = r.markdown();
        assert!(
            md.contains("| threadkit threads | 50.0 ms ± 0 µs |"),
            "{md}"
        );
        assert!(md.contains("1/2 ERR"), "{md}");
        let svg = r.svg();
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("threadkit threads") && svg.contains(">err<"));
        // Every series has its own colour.
        let colours: std::collections::BTreeSet<String> = [
            "sequential",
            "threads",
            "gil-sim",
            "ThreadPoolExecutor",
            "ProcessPoolExecutor",
            "asyncio",
        ]
        .iter()
        .flat_map(|m| {
            [
                series_colour("threadkit", m, 0),
                series_colour("CPython", m, 0),
            ]
        })
        .collect();
        assert_eq!(colours.len(), 12);
    }
}
