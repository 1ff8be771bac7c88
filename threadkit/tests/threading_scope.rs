//! `threading::scope`: scoped threads that are threadkit threads.

use std::sync::Mutex;
use std::time::Duration;

use threadkit::queue::Queue;
use threadkit::threading::{self, Event, Lock, Thread, ThreadError};

#[test]
fn scoped_threads_borrow_a_queue_an_event_and_a_lock() {
    let q = Queue::new(2);
    let stop = Event::new();
    let total = Lock::new(0u32);
    threading::scope(|s| {
        let consumer = s
            .spawn(|| {
                while !stop.is_set() {
                    if let Ok(n) = q.get_timeout(Duration::from_millis(5)) {
                        *total.acquire() += n;
                        q.task_done().unwrap();
                    }
                }
            })
            .unwrap();
        for n in 1..=10 {
            q.put(n).unwrap();
        }
        q.join();
        stop.set();
        consumer.join().unwrap();
    });
    assert_eq!(*total.acquire(), 55);
}

#[test]
fn a_scoped_thread_is_named_listed_and_current() {
    let seen = Mutex::new(None);
    threading::scope(|s| {
        let t = Thread::builder()
            .name("scoped-worker")
            .spawn_scoped(s, || {
                let me = threading::current_thread();
                let listed = threading::enumerate().contains(&me);
                *seen.lock().unwrap() = Some((me.name().to_owned(), listed));
                7
            })
            .unwrap();
        assert_eq!(t.name(), "scoped-worker");
        assert!(t.ident().is_some());
        assert_eq!(t.join(), Ok(7));
    });
    assert_eq!(
        seen.into_inner().unwrap(),
        Some(("scoped-worker".to_owned(), true))
    );
}

#[test]
fn default_names_follow_python() {
    threading::scope(|s| {
        let t = s.spawn(|| ()).unwrap();
        assert!(t.name().starts_with("Thread-"), "{}", t.name());
        t.join().unwrap();
    });
}

#[test]
fn a_panic_goes_to_the_excepthook_and_to_join_not_out_of_scope() {
    static REPORTED: Mutex<Vec<String>> = Mutex::new(Vec::new());
    threading::set_excepthook(|args| {
        REPORTED
            .lock()
            .unwrap()
            .push(args.thread().name().to_owned());
    });
    let out = threading::scope(|s| {
        let t = Thread::builder()
            .name("boom")
            .spawn_scoped(s, || -> u8 { panic!("bad input") })
            .unwrap();
        t.join()
    });
    threading::reset_excepthook();
    assert_eq!(out, Err(ThreadError::Panicked("bad input".to_owned())));
    assert!(REPORTED.lock().unwrap().contains(&"boom".to_owned()));
}

#[test]
fn unjoined_threads_are_joined_when_the_scope_ends() {
    let done = Event::new();
    threading::scope(|s| {
        s.spawn(|| {
            std::thread::sleep(Duration::from_millis(20));
            done.set();
        })
        .unwrap();
    });
    assert!(done.is_set());
}
