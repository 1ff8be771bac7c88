//! The short spin a blocked `put` or `get` tries before it sleeps on one of
//! the queue's monitors.

/// Exponential spinning, then yielding, before a thread parks: a producer and
/// a consumer running at similar speeds then rarely need a futex sleep and
/// wake-up per item (crossbeam's `Backoff` does the same). It never sleeps, so
/// it is not a deadline loop; the queue's [`Monitor`](crate::util::monitor::Monitor)
/// does the real waiting.
#[derive(Debug, Default)]
pub(crate) struct Backoff {
    step: u32,
}

impl Backoff {
    /// Up to 2^6 spin hints per step while spinning.
    const SPIN_LIMIT: u32 = 6;
    /// Steps after which the caller should park instead.
    const YIELD_LIMIT: u32 = 10;

    /// The first step of a getter's backoff: `2^4` spin hints before its
    /// first re-check of an empty queue. A consumer that polls at once keeps
    /// pulling the store's tail and slot lines from the producer while it
    /// pushes, which halved 1-producer/1-consumer throughput; waiting a
    /// little longer lets the producer get a few items ahead (measured on 2
    /// cores: 12.8 -> 18.5 M items/s, unbounded).
    const GETTER_START: u32 = 4;

    /// A backoff for a getter that found the queue empty: see
    /// [`GETTER_START`](Self::GETTER_START).
    pub(crate) fn for_getter() -> Self {
        Backoff {
            step: Self::GETTER_START,
        }
    }

    /// Whether spinning is over and the caller should park.
    fn is_completed(&self) -> bool {
        // Under loom, spinning only multiplies the interleavings to explore.
        cfg!(loom) || self.step > Self::YIELD_LIMIT
    }

    /// Spins until `looks_ready()` (cheap reads only, so that the spinner
    /// does not steal cache lines from the thread it waits for) or the
    /// backoff is over; whether it looked ready. Once over, it stays over:
    /// the caller's later rounds go straight to sleep.
    pub(crate) fn spin_until(&mut self, mut looks_ready: impl FnMut() -> bool) -> bool {
        if Self::parks_at_once() {
            return false;
        }
        while !self.is_completed() {
            self.snooze();
            if looks_ready() {
                return true;
            }
        }
        false
    }

    /// Whether the caller is a green thread, which never spins: its peer
    /// runs on the same carrier only once it suspends, so spinning could
    /// only delay it.
    #[inline]
    pub(crate) fn parks_at_once() -> bool {
        #[cfg(feature = "green")]
        return crate::green::in_green();
        #[cfg(not(feature = "green"))]
        false
    }

    /// Waits a little, longer at each call.
    fn snooze(&mut self) {
        if self.step <= Self::SPIN_LIMIT {
            for _ in 0..(1u32 << self.step) {
                std::hint::spin_loop();
            }
        } else {
            yield_now();
        }
        self.step += 1;
    }
}

/// Lets another thread run; used while a short, lock-free step of another
/// thread (a pop still freeing its slot) must finish.
pub(crate) fn yield_now() {
    #[cfg(loom)]
    loom::thread::yield_now();
    #[cfg(not(loom))]
    std::thread::yield_now();
}
