//! A worker's replies on their way to the parent: batched while more
//! requests are queued, never held back for long.
//!
//! The serving loop writes each reply into a buffer and flushes it at once
//! when no request is waiting, so a burst of small tasks costs one write per
//! burst. While requests *are* waiting, the replies stay buffered; if the
//! next task is a long one, they would wait for it too, and a quick task's
//! future would complete only when the long task after it in the same worker
//! did (CPython's workers hand each result to a feeder thread at once). So a
//! flusher thread writes out any reply held back for [`FLUSH_AFTER`].

use std::io::{self, BufWriter, Write};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::frame;
use crate::util::Deadline;
use crate::util::monitor::{HasWaiters, Monitor, WaitList};

/// The longest a finished task's reply waits in the buffer.
pub(crate) const FLUSH_AFTER: Duration = Duration::from_millis(1);

/// The buffered replies and the flusher's wake-up; see the module docs.
#[derive(Debug)]
pub(crate) struct Outbox {
    state: Monitor<State>,
}

#[derive(Debug)]
struct State {
    writer: BufWriter<UnixStream>,
    /// When the oldest buffered reply was written, if one is held back.
    since: Option<Instant>,
    /// A write or flush failed: the parent is gone.
    failed: bool,
    /// The flusher, while it waits for a reply to be held back.
    flusher: WaitList,
}

impl HasWaiters for State {
    fn waiters(&mut self) -> &mut WaitList {
        &mut self.flusher
    }
}

impl Outbox {
    /// An outbox writing to `channel`, with its flusher thread started.
    pub(crate) fn start(channel: UnixStream) -> io::Result<Arc<Self>> {
        let outbox = Arc::new(Outbox {
            state: Monitor::new(State {
                writer: BufWriter::with_capacity(1 << 16, channel),
                since: None,
                failed: false,
                flusher: WaitList::default(),
            }),
        });
        let flusher = Arc::clone(&outbox);
        std::thread::Builder::new()
            .name("threadkit-worker-flusher".into())
            .spawn(move || flusher.flush_held_back())?;
        Ok(outbox)
    }

    /// Writes one frame; flushes it now unless `more_queued`, in which case
    /// the flusher writes it out within [`FLUSH_AFTER`] if nothing else does.
    pub(crate) fn send(&self, payload: &[u8], more_queued: bool) -> io::Result<()> {
        let mut st = self.state.lock();
        if st.failed {
            return Err(io::ErrorKind::BrokenPipe.into());
        }
        let mut written = frame::write_frame(&mut st.writer, payload);
        let mut woken = None;
        if written.is_ok() {
            if more_queued {
                if st.since.is_none() {
                    st.since = Some(Instant::now());
                    woken = Some(self.state.take_one(&mut st));
                }
            } else {
                written = st.writer.flush();
                st.since = None;
            }
        }
        st.failed |= written.is_err();
        drop(st);
        if let Some(woken) = woken {
            woken.wake();
        }
        written
    }

    /// Writes out whatever is buffered now.
    pub(crate) fn flush(&self) -> io::Result<()> {
        let mut st = self.state.lock();
        let flushed = st.writer.flush();
        st.since = None;
        st.failed |= flushed.is_err();
        flushed
    }

    /// The flusher thread: waits for a reply to be held back, then writes it
    /// out once it has waited [`FLUSH_AFTER`]. Ends when a write fails (the
    /// process exits when its serving loop ends, taking this thread along).
    fn flush_held_back(&self) {
        let mut st = self.state.lock();
        while !st.failed {
            match st.since {
                None => {
                    self.state
                        .wait_until(&mut st, Deadline::Never, |s| s.failed || s.since.is_some());
                }
                Some(since) => {
                    let due = since + FLUSH_AFTER;
                    let now = Instant::now();
                    if now < due {
                        // Nothing wakes it before `due`: a reply flushed
                        // meanwhile shows as a changed `since` then.
                        self.state.wait_until(&mut st, Deadline::At(due), |s| {
                            s.failed || s.since != Some(since)
                        });
                    } else {
                        st.failed |= st.writer.flush().is_err();
                        st.since = None;
                    }
                }
            }
        }
    }
}
