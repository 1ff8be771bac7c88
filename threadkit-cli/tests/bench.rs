//! The `threadkit bench` command as a user runs it, with tiny sizes: every row
//! is in the table, `--json` parses and has the speedups, `--plot` writes an
//! SVG, downloads really move the bytes, and bad input gets a clear error.

mod common;

use common::threadkit;

use serde_json::Value;

/// Tiny sizes for every workload.
const TINY: [&str; 11] = [
    "bench",
    "--tasks",
    "3",
    "--sleep-ms",
    "20",
    "--latency-ms",
    "5",
    "--file-kb",
    "16",
    "--cpu-iters=200000",
    "--cpython-cpu-iters=20000",
];

fn python_available() -> bool {
    std::process::Command::new("python3")
        .args(["-c", "pass"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_table_has_every_row() {
    let (ok, stdout, stderr) = threadkit(&TINY);
    assert!(ok, "{stdout}\n{stderr}");
    let mut rows = vec![
        "threadkit sequential",
        "threadkit threads",
        "threadkit gil-sim",
        "threadkit ThreadPoolExecutor",
        "threadkit ProcessPoolExecutor",
        "threadkit asyncio",
    ];
    if python_available() {
        rows.extend([
            "CPython sequential",
            "CPython threads",
            "CPython ThreadPoolExecutor",
            "CPython ProcessPoolExecutor",
            "CPython asyncio",
        ]);
    } else {
        assert!(stderr.contains("no CPython rows"), "{stderr}");
    }
    for workload in ["sleep:", "download:", "cpu:"] {
        let section = stdout
            .split("\n\n")
            .find(|s| s.starts_with(workload))
            .unwrap_or_else(|| panic!("no {workload} table in\n{stdout}"));
        for row in &rows {
            assert!(section.contains(row), "no {row:?} in\n{section}");
        }
        assert!(section.contains("1.00x"), "{section}");
        assert!(!section.contains("ERR"), "{section}");
    }
}

#[test]
fn json_parses_and_has_speedups_and_the_downloaded_bytes() {
    let (ok, stdout, stderr) = threadkit(&[&TINY[..], &["--json"]].concat());
    assert!(ok, "{stdout}\n{stderr}");
    let v: Value = serde_json::from_str(&stdout).expect("--json prints JSON");
    assert_eq!(v["ok"], true);
    assert_eq!(v["config"]["tasks"], 3);
    let results = v["results"].as_array().unwrap();
    let expected_rows = if python_available() { 3 * 11 } else { 3 * 6 };
    assert_eq!(results.len(), expected_rows, "{stdout}");
    let mut labels = std::collections::BTreeSet::new();
    for r in results {
        // A speedup is a measurement: its presence is checked, not its size,
        // which depends on how busy the machine is.
        let speedup = r["speedup"].as_f64().expect("a speedup on every row");
        assert!(speedup > 0.0, "{r}");
        assert!(r["wall_s"].as_f64().unwrap() > 0.0, "{r}");
        assert!(r["cpu_s"].as_f64().unwrap() >= 0.0, "{r}");
        assert_eq!(r["tasks"], 3, "{r}");
        assert_eq!(r["ok"], 3, "{r}");
        assert_eq!(r["errors"], serde_json::json!([]), "{r}");
        if r["mode"] == "sequential" {
            assert!((speedup - 1.0).abs() < 1e-9, "{r}");
        }
        // Every download row really transferred tasks × size bytes.
        let bytes = r["bytes"].as_u64().unwrap();
        if r["workload"] == "download" {
            assert_eq!(bytes, 3 * 16 * 1024, "{r}");
        } else {
            assert_eq!(bytes, 0, "{r}");
        }
        let label = format!(
            "{} {}",
            r["implementation"].as_str().unwrap(),
            r["mode"].as_str().unwrap()
        );
        assert_eq!(r["label"], label.as_str(), "{r}");
        // Each (workload, implementation, mode) is measured once.
        assert!(
            labels.insert((r["workload"].to_string(), label)),
            "{r} twice"
        );
    }
}

#[test]
fn plot_writes_an_svg() {
    let dir = std::env::temp_dir().join(format!("threadkit-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("speedup.svg");
    let (ok, stdout, stderr) = threadkit(&[
        "bench",
        "--tasks=2",
        "--workloads=sleep,cpu",
        "--sleep-ms=5",
        "--cpu-iters=1000",
        "--no-cpython",
        "--plot",
        path.to_str().unwrap(),
    ]);
    assert!(ok, "{stdout}\n{stderr}");
    let svg = std::fs::read_to_string(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(
        svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{svg}"
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    for text in [
        "speedup",
        "workload",
        "threadkit threads",
        "gil-sim",
        ">sleep<",
        ">cpu<",
    ] {
        assert!(svg.contains(text), "no {text:?} in the SVG");
    }
    assert!(svg.matches("<rect").count() >= 2 * 3);
}

#[test]
fn modes_can_be_chosen_and_listed() {
    let (ok, stdout, _) = threadkit(&["bench", "--list-modes"]);
    assert!(ok);
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            "sequential",
            "threads",
            "gil-sim",
            "ThreadPoolExecutor",
            "ProcessPoolExecutor",
            "asyncio"
        ]
    );
    let (ok, stdout, stderr) = threadkit(&[
        "bench",
        "--workloads=sleep",
        "--tasks=2",
        "--sleep-ms=1",
        "--no-cpython",
        "--modes=sequential,gil-sim",
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("threadkit gil-sim") && !stdout.contains("threadkit threads"));
}

#[test]
fn bad_input_gets_a_clear_error() {
    let cases: [(&[&str], &str); 6] = [
        (&["bench", "--tasks", "0"], "--tasks must be between 1"),
        (
            &["bench", "--workloads", "sleep,fly"],
            "invalid value 'fly'",
        ),
        (&["bench", "--modes", "turbo"], "unknown mode \"turbo\""),
        (&["bench", "--threads", "0"], "--threads must be at least 1"),
        (
            &["bench", "--sleep-ms", "99999999"],
            "--sleep-ms must be at most",
        ),
        (
            &["bench", "--plot", "/nonexistent-dir/x/plot.svg"],
            "cannot write the plot to /nonexistent-dir/x/plot.svg",
        ),
    ];
    for (args, message) in cases {
        let (ok, stdout, stderr) = threadkit(args);
        assert!(!ok, "{args:?} succeeded: {stdout}");
        assert!(stderr.contains(message), "{args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
    }
}

#[test]
fn a_missing_python_is_reported_and_skipped() {
    let (ok, stdout, stderr) = threadkit(&[
        "bench",
        "--workloads=sleep",
        "--tasks=2",
        "--sleep-ms=1",
        "--python=no-such-python3",
    ]);
    assert!(ok, "{stderr}");
    assert!(stderr.contains("no CPython rows"), "{stderr}");
    assert!(stdout.contains("no CPython") && !stdout.contains("CPython sequential"));
}
