//! Feature `tracing`: a span per threadkit thread, a span per pool task
//! whose parent is the submitter's span, and reports as `error!` events on
//! `threadkit::deadlock`, seen by a small capturing subscriber.
//! `cargo test -p threadkit --features tracing --test debug_tracing`.
#![cfg(feature = "tracing")]

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use threadkit::futures::ThreadPoolExecutor;
use threadkit::threading::Thread;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Metadata, Subscriber};
use tracing_core::span::Current;

/// One span as the subscriber saw it.
#[derive(Clone, Debug, Default)]
struct SpanSeen {
    name: &'static str,
    meta: Option<&'static Metadata<'static>>,
    target: String,
    parent: Option<u64>,
    follows_from: Vec<u64>,
    fields: HashMap<String, String>,
}

/// One event: its target, its fields, and the span it happened in.
#[derive(Clone, Debug)]
struct EventSeen {
    target: String,
    level: tracing::Level,
    fields: HashMap<String, String>,
    span: Option<u64>,
}

#[derive(Default)]
struct Capture {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, SpanSeen>>,
    events: Mutex<Vec<EventSeen>>,
}

thread_local! {
    /// The spans this thread is in, innermost last.
    static STACK: RefCell<Vec<u64>> = const { RefCell::new(Vec::new()) };
}

struct Fields<'a>(&'a mut HashMap<String, String>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
}

fn current() -> Option<u64> {
    STACK.with(|s| s.borrow().last().copied())
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }

    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let parent = if attrs.is_root() {
            None
        } else if let Some(parent) = attrs.parent() {
            Some(parent.into_u64())
        } else {
            current()
        };
        let mut seen = SpanSeen {
            name: attrs.metadata().name(),
            meta: Some(attrs.metadata()),
            target: attrs.metadata().target().to_string(),
            parent,
            ..SpanSeen::default()
        };
        attrs.record(&mut Fields(&mut seen.fields));
        self.spans.lock().unwrap().insert(id, seen);
        Id::from_u64(id)
    }

    fn record(&self, span: &Id, values: &Record<'_>) {
        if let Some(seen) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            values.record(&mut Fields(&mut seen.fields));
        }
    }

    fn record_follows_from(&self, span: &Id, follows: &Id) {
        if let Some(seen) = self.spans.lock().unwrap().get_mut(&span.into_u64()) {
            seen.follows_from.push(follows.into_u64());
        }
    }

    fn event(&self, event: &Event<'_>) {
        let mut fields = HashMap::new();
        event.record(&mut Fields(&mut fields));
        self.events.lock().unwrap().push(EventSeen {
            target: event.metadata().target().to_string(),
            level: *event.metadata().level(),
            fields,
            span: event.parent().map(Id::into_u64).or_else(current),
        });
    }

    fn enter(&self, span: &Id) {
        STACK.with(|s| s.borrow_mut().push(span.into_u64()));
    }

    fn exit(&self, span: &Id) {
        STACK.with(|s| {
            let mut s = s.borrow_mut();
            if let Some(at) = s.iter().rposition(|&i| i == span.into_u64()) {
                s.remove(at);
            }
        });
    }

    fn current_span(&self) -> Current {
        let meta = current().and_then(|id| Some((id, self.spans.lock().unwrap().get(&id)?.meta?)));
        match meta {
            Some((id, meta)) => Current::new(Id::from_u64(id), meta),
            None => Current::none(),
        }
    }
}

/// The subscriber, installed once for the whole binary (pool workers are
/// other threads, so a thread-scoped default would not see them).
fn capture() -> Arc<Capture> {
    static CAPTURE: OnceLock<Arc<Capture>> = OnceLock::new();
    CAPTURE
        .get_or_init(|| {
            let capture = Arc::new(Capture::default());
            tracing::subscriber::set_global_default(Shared(Arc::clone(&capture))).unwrap();
            capture
        })
        .clone()
}

/// `Subscriber` for a shared `Capture`.
struct Shared(Arc<Capture>);

impl Subscriber for Shared {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        self.0.enabled(m)
    }
    fn new_span(&self, a: &Attributes<'_>) -> Id {
        self.0.new_span(a)
    }
    fn record(&self, s: &Id, v: &Record<'_>) {
        self.0.record(s, v)
    }
    fn record_follows_from(&self, s: &Id, f: &Id) {
        self.0.record_follows_from(s, f)
    }
    fn event(&self, e: &Event<'_>) {
        self.0.event(e)
    }
    fn enter(&self, s: &Id) {
        self.0.enter(s)
    }
    fn exit(&self, s: &Id) {
        self.0.exit(s)
    }
    fn current_span(&self) -> Current {
        self.0.current_span()
    }
}

fn span_named(capture: &Capture, field: &str, value: &str) -> Option<(u64, SpanSeen)> {
    capture
        .spans
        .lock()
        .unwrap()
        .iter()
        .find(|(_, s)| s.fields.get(field).map(String::as_str) == Some(value))
        .map(|(id, s)| (*id, s.clone()))
}

/// A pool task's span is a child of the span current at `submit`, records
/// its queue wait and run time, and an event logged by the task is inside
/// it: the task's logs nest under the request that submitted it.
#[test]
fn a_task_span_nests_under_the_submitters_span() {
    let capture = capture();
    let pool = ThreadPoolExecutor::new(2).unwrap();
    let request = tracing::info_span!("request", request.id = "r-42");
    let request_id = request.id().unwrap().into_u64();
    let future = request.in_scope(|| {
        pool.submit(|| {
            tracing::info!(marker = "inside-the-task", "working");
            7
        })
        .unwrap()
    });
    assert_eq!(future.into_result(), Ok(7));
    let events = capture.events.lock().unwrap().clone();
    let event = events
        .iter()
        .find(|e| e.fields.get("marker").map(String::as_str) == Some("inside-the-task"))
        .expect("the task's event");
    let task_id = event.span.expect("the event is in the task's span");
    let spans = capture.spans.lock().unwrap();
    let task = &spans[&task_id];
    assert_eq!(task.name, "task");
    assert_eq!(task.target, "threadkit::futures");
    assert_eq!(task.parent, Some(request_id), "{task:?}");
    assert!(task.fields.contains_key("queue_wait_us"), "{task:?}");
    assert!(task.fields.contains_key("busy_us"), "{task:?}");
}

/// A threadkit thread runs in its own span, with its name, ident and
/// daemon flag, following from the span where it was started.
#[test]
fn a_thread_runs_in_its_own_span() {
    let capture = capture();
    let starter = tracing::info_span!("starter");
    let starter_id = starter.id().unwrap().into_u64();
    let t = starter.in_scope(|| {
        Thread::builder()
            .name("traced-thread")
            .spawn(|| tracing::info!(marker = "inside-the-thread", "hello"))
            .unwrap()
    });
    let ident = t.ident().unwrap();
    t.join().unwrap();
    let (id, span) = span_named(&capture, "thread.name", "traced-thread").expect("thread span");
    assert_eq!(span.name, "thread");
    assert_eq!(span.target, "threadkit::thread");
    assert_eq!(span.parent, None);
    assert_eq!(span.follows_from, [starter_id]);
    assert_eq!(span.fields["thread.ident"], ident.to_string());
    assert_eq!(span.fields["thread.daemon"], "false");
    let events = capture.events.lock().unwrap();
    let event = events
        .iter()
        .find(|e| e.fields.get("marker").map(String::as_str) == Some("inside-the-thread"))
        .unwrap();
    assert_eq!(event.span, Some(id));
    let exit = events
        .iter()
        .find(|e| {
            e.span == Some(id) && e.fields.get("message").map(String::as_str) == Some("thread.exit")
        })
        .expect("the thread.exit event");
    assert_eq!(exit.fields["outcome"], "returned");
}

/// The watchdog's reports are `error!` events on `threadkit::deadlock`: a
/// starved pool here.
#[test]
fn watchdog_reports_are_error_events_on_the_deadlock_target() {
    let capture = capture();
    let watchdog = threadkit::debug::Watchdog::new()
        .period(Duration::from_millis(10))
        .all_asleep(false)
        .on_alarm(|_| {})
        .start();
    let pool = Arc::new(
        ThreadPoolExecutor::builder()
            .max_workers(1)
            .thread_name_prefix("traced-starved")
            .build()
            .unwrap(),
    );
    let (tx, rx) = std::sync::mpsc::channel();
    let outer = {
        let pool2 = Arc::clone(&pool);
        pool.submit(move || {
            let inner = Arc::new(pool2.submit(|| ()).unwrap());
            tx.send(Arc::clone(&inner)).unwrap();
            let _ = inner.result();
        })
        .unwrap()
    };
    let inner = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let start = std::time::Instant::now();
    let event = loop {
        let found = capture
            .events
            .lock()
            .unwrap()
            .iter()
            .find(|e| {
                e.target == "threadkit::deadlock"
                    && e.fields.get("kind").map(String::as_str) == Some("starved pool")
            })
            .cloned();
        if let Some(event) = found {
            break event;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "no event");
        std::thread::sleep(Duration::from_millis(5));
    };
    assert_eq!(event.level, tracing::Level::ERROR);
    assert!(
        event.fields["message"].contains("traced-starved_0"),
        "{event:?}"
    );
    assert!(inner.cancel());
    outer.result().unwrap();
    watchdog.stop();
}

/// With `debug-locks`, a lock-order inversion in the default mode is an
/// `error!` event on `threadkit::deadlock` (and, a subscriber being
/// installed, is not printed to stderr as well).
#[test]
#[cfg(feature = "debug-locks")]
fn an_inversion_is_an_error_event() {
    use threadkit::threading::Lock;
    let capture = capture();
    threadkit::debug::set_mode(threadkit::debug::Mode::Report);
    let a = Lock::named("traced_a", ());
    let b = Lock::named("traced_b", ());
    {
        let _a = a.acquire();
        let _b = b.acquire();
    }
    {
        let _b = b.acquire();
        let _a = a.acquire();
    }
    let events = capture.events.lock().unwrap();
    let event = events
        .iter()
        .find(|e| {
            e.target == "threadkit::deadlock"
                && e.fields["message"].contains("is acquiring traced_a")
        })
        .expect("the inversion's event");
    assert_eq!(event.level, tracing::Level::ERROR);
    assert_eq!(event.fields["kind"], "lock-order inversion");
}
