//! A thread dump on SIGUSR1, and the process keeps running. Its own test
//! binary: signal dispositions are process-wide.
#![cfg(target_os = "linux")]

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use threadkit::debug::{self, DumpSignal};
use threadkit::threading::{Event, Thread};

#[test]
fn usr1_dumps_and_the_process_goes_on() {
    let (tx, rx) = mpsc::channel();
    debug::install_dump_signal_with(DumpSignal::Usr1, move |dump| {
        let _ = tx.send(dump.to_string());
    })
    .unwrap();
    let go = Arc::new(Event::new());
    let waiter = {
        let go = Arc::clone(&go);
        Thread::builder()
            .name("signal-waiter")
            .spawn(move || go.wait())
            .unwrap()
    };
    for round in 0..2 {
        // SAFETY: sending a signal to our own process; its handler is set.
        assert_eq!(unsafe { libc::kill(libc::getpid(), libc::SIGUSR1) }, 0);
        let text = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert!(
            text.contains("threadkit thread dump"),
            "round {round}: {text}"
        );
        assert!(text.contains("\"signal-waiter\""), "{text}");
    }
    go.set();
    waiter.join().unwrap();
}
