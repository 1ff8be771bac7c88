//! `threadkit which NAME`: the threadkit equivalent of a Python name.
//!
//! The answers come from the Python → threadkit table of the README and the
//! crate docs (`threadkit::PYTHON_API_TABLE`, the file both include), so the
//! lookup says what the docs say. A row pairs Python's names with
//! threadkit's in order (`q.get()`, `get_nowait`, `get(timeout=t)` with
//! `get()`, `try_get()`, `get_timeout(d)`); where the two lists differ in
//! length the whole row is shown.

use std::process::ExitCode;

/// The Python modules the table covers, and where each lives in threadkit.
const MODULES: [(&str, &str); 8] = [
    ("concurrent.futures", "threadkit::futures"),
    ("threading", "threadkit::threading"),
    ("queue", "threadkit::queue"),
    ("asyncio", "threadkit::asyncio"),
    ("multiprocessing", "threadkit::multiprocessing"),
    ("faulthandler", "threadkit::debug"),
    ("gevent", "threadkit::green"),
    ("time", "threadkit"),
];

/// One row of the table.
#[derive(Debug)]
struct Row {
    /// The Python module the row is about (from its first name, or the rows
    /// before it).
    module: Option<&'static str>,
    python: Vec<String>,
    threadkit: Vec<String>,
    /// The threadkit cell as written, without backticks.
    threadkit_text: String,
    notes: String,
}

/// Splits a table line into its cells, honouring `\|` escapes.
fn cells(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = line.trim().trim_start_matches('|').chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cur.push('|');
                chars.next();
            }
            '|' => out.push(std::mem::take(&mut cur).trim().to_owned()),
            _ => cur.push(c),
        }
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_owned());
    }
    out
}

/// The `code spans` of a cell.
fn spans(cell: &str) -> Vec<String> {
    cell.split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// The dotted name a Python span writes: `await asyncio.sleep(d)` →
/// `asyncio.sleep`, `q.maxsize = n` → `q.maxsize`.
fn python_key(span: &str) -> &str {
    let mut s = span.trim();
    for prefix in ["await ", "async with ", "with "] {
        s = s.strip_prefix(prefix).unwrap_or(s);
    }
    let end = s
        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.'))
        .unwrap_or(s.len());
    s[..end].trim_end_matches('.')
}

fn module_of(key: &str) -> Option<&'static str> {
    MODULES
        .iter()
        .map(|(m, _)| *m)
        .find(|m| key == *m || key.starts_with(&format!("{m}.")))
}

fn threadkit_module(python_module: &str) -> &'static str {
    MODULES
        .iter()
        .find(|(m, _)| *m == python_module)
        .map_or("threadkit", |(_, t)| t)
}

fn rows() -> Vec<Row> {
    let mut module = None;
    let mut rows = Vec::new();
    for line in threadkit::PYTHON_API_TABLE.lines().skip(2) {
        let c = cells(line);
        if c.len() < 2 {
            continue;
        }
        let python = spans(&c[0]);
        if let Some(m) = python.first().and_then(|s| module_of(python_key(s))) {
            module = Some(m);
        } else if let Some(m) = module_of(c[0].trim_start_matches("asyncio ")) {
            module = Some(m);
        } else if c[0].starts_with("asyncio ") {
            module = Some("asyncio");
        }
        rows.push(Row {
            module,
            python,
            threadkit: spans(&c[1]),
            threadkit_text: c[1].replace('`', ""),
            notes: c.get(2).map(|n| n.replace('`', "")).unwrap_or_default(),
        });
    }
    rows
}

/// A Python name as asked: `queue.Queue.get_nowait()` → module `queue`,
/// owner `Queue`, name `get_nowait`.
#[derive(Debug)]
struct Query<'a> {
    module: Option<&'static str>,
    owner: Option<&'a str>,
    name: &'a str,
}

fn parse_query(raw: &str) -> Option<Query<'_>> {
    let s = raw.trim();
    let s = s.find('(').map_or(s, |i| &s[..i]);
    let module = module_of(s);
    let rest = match module {
        Some(m) => s[m.len()..].trim_start_matches('.'),
        None => s,
    };
    let mut parts: Vec<&str> = rest.split('.').filter(|p| !p.is_empty()).collect();
    let name = match parts.pop() {
        Some(n) => n,
        // `threadkit which threading`: the module itself.
        None => module?.rsplit('.').next()?,
    };
    let owner = parts.pop();
    Some(Query {
        module,
        owner,
        name,
    })
}

/// One answer: a row and, when the row pairs names one to one, the index.
struct Hit<'r> {
    row: &'r Row,
    index: usize,
}

fn lookup<'r>(rows: &'r [Row], q: &Query<'_>) -> Vec<Hit<'r>> {
    let mut hits: Vec<Hit<'r>> = Vec::new();
    for row in rows {
        for (index, span) in row.python.iter().enumerate() {
            let key = python_key(span);
            if key.rsplit('.').next() == Some(q.name) {
                hits.push(Hit { row, index });
                break;
            }
        }
    }
    // Narrow to the module asked for, when that leaves anything.
    if let Some(m) = q.module {
        if hits.iter().any(|h| h.row.module == Some(m)) {
            hits.retain(|h| h.row.module == Some(m));
        }
    }
    hits
}

/// The threadkit name a hit stands for, as one line.
fn answer(hit: &Hit<'_>, q: &Query<'_>) -> String {
    let row = hit.row;
    if row.python.len() == row.threadkit.len() {
        let span = row.threadkit[hit.index].trim();
        let simple = span
            .split('(')
            .next()
            .is_some_and(|head| head.chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        return match q.owner {
            Some(owner) if simple && owner.starts_with(char::is_uppercase) => {
                format!("{owner}::{}", span.split('(').next().unwrap_or(span))
            }
            _ => span.to_owned(),
        };
    }
    if row.threadkit_text.starts_with("same name") {
        let module = row
            .threadkit
            .iter()
            .find(|s| s.starts_with("threadkit::"))
            .map(String::as_str)
            .or(row.module.map(threadkit_module))
            .unwrap_or("threadkit");
        return match q.owner {
            Some(owner) if owner.starts_with(char::is_uppercase) => {
                format!("{module}::{owner}::{}", q.name)
            }
            _ => format!("{module}::{}", q.name),
        };
    }
    row.threadkit_text.clone()
}

/// A docs.rs search for the answer's last name (always a valid link).
fn docs_link(answer: &str) -> String {
    let word = answer
        .split(['(', ' ', '<', '!', '?', ','])
        .next()
        .unwrap_or(answer)
        .trim_start_matches("threadkit::")
        .trim_end_matches(':');
    let word: String = word
        .chars()
        .map(|c| match c {
            ':' => "%3A".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!("https://docs.rs/threadkit/latest/threadkit/?search={word}")
}

fn show(raw: &str, hit: &Hit<'_>, q: &Query<'_>) {
    let row = hit.row;
    let answer = answer(hit, q);
    println!("{raw} → {answer}");
    if let Some(m) = row.module {
        println!("  module: {}", threadkit_module(m));
    }
    println!("  docs:   {}", docs_link(&answer));
    let python: Vec<String> = row.python.iter().map(|s| format!("`{s}`")).collect();
    println!("  row:    {} → {}", python.join(", "), row.threadkit_text);
    if !row.notes.is_empty() {
        println!("  differs: {}", row.notes);
    }
}

/// Every Python name the table knows, as the table writes it.
fn all_names(rows: &[Row]) -> Vec<String> {
    let mut names = Vec::new();
    for row in rows {
        for span in &row.python {
            let key = python_key(span);
            if key.is_empty() || !key.starts_with(|c: char| c.is_alphabetic()) {
                continue;
            }
            // Module-level names (`Lock`) get their module; methods stay
            // as the table writes them (`q.put`, `get_nowait`).
            let name = match (row.module, module_of(key)) {
                (Some(m), None) if !key.contains('.') && key.starts_with(char::is_uppercase) => {
                    format!("{m}.{key}")
                }
                _ => key.to_owned(),
            };
            if !names.contains(&name) {
                names.push(name);
            }
        }
    }
    names
}

/// Runs `threadkit which`: prints each name's equivalent; fails if any name
/// is not in the table.
pub(crate) fn run(names: &[String], list: bool) -> ExitCode {
    let rows = rows();
    if list {
        for name in all_names(&rows) {
            println!("{name}");
        }
        return ExitCode::SUCCESS;
    }
    let mut status = ExitCode::SUCCESS;
    for (i, raw) in names.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let Some(q) = parse_query(raw) else {
            eprintln!("threadkit: {raw:?} is not a Python name");
            status = ExitCode::FAILURE;
            continue;
        };
        let hits = lookup(&rows, &q);
        if hits.is_empty() {
            eprintln!(
                "threadkit: {raw} is not in the Python → threadkit table \
                 (`threadkit which --list` lists the names it knows)"
            );
            let close: Vec<String> = all_names(&rows)
                .into_iter()
                .filter(|n| n.to_lowercase().contains(&q.name.to_lowercase()))
                .take(5)
                .collect();
            if !close.is_empty() {
                eprintln!("  did you mean: {}", close.join(", "));
            }
            status = ExitCode::FAILURE;
            continue;
        }
        if q.module.is_some() && hits.iter().all(|h| h.row.module != q.module) {
            println!("({raw}: no row of its own; the rows with this name elsewhere)");
        }
        for hit in &hits {
            show(raw, hit, &q);
        }
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_honour_escaped_bars() {
        assert_eq!(
            cells("| `a` | `move \\|\\| f()` | n |"),
            ["`a`", "`move || f()`", "n"]
        );
    }

    #[test]
    fn python_keys() {
        assert_eq!(python_key("await asyncio.sleep(d)"), "asyncio.sleep");
        assert_eq!(python_key("q.maxsize = n"), "q.maxsize");
        assert_eq!(python_key("with lock:"), "lock");
    }

    #[test]
    fn get_nowait_is_queue_try_get() {
        let rows = rows();
        let q = parse_query("queue.Queue.get_nowait").unwrap();
        let hits = lookup(&rows, &q);
        assert_eq!(hits.len(), 1);
        assert_eq!(answer(&hits[0], &q), "Queue::try_get");
    }
}
