//! What thread dumps see of green threads: one board per hub, listed in a
//! process-wide registry, each holding the wait records of its green
//! threads.
//!
//! A hub's own state (`Rc`, `RefCell`) never leaves its carrier, so the
//! dumping thread reads only these `Sync` copies. A green thread gets its
//! record (a [`waits::Slot`] of its own, as an OS thread has) on its first
//! recorded wait, the slow path; it writes it when a wait begins and clears
//! it when the wait ends, and drops it when it finishes. A green thread
//! that never waited in a recorded wait is counted, not listed.
//!
//! Recording costs a switch-heavy program a fifth of its queue round trip,
//! so green threads record their waits only once dumps are *armed*: by the
//! first [`dump_threads`](crate::debug::dump_threads) or
//! [`find_deadlocks`](crate::debug::find_deadlocks) (a watchdog's first
//! look), or [`arm`] itself. OS threads always record.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock, Weak};

use parking_lot::Mutex;

use crate::debug::waits::{self, Slot};

static ARMED: AtomicBool = AtomicBool::new(false);

/// Makes green threads record their waits from now on (see the module
/// docs).
pub(crate) fn arm() {
    ARMED.store(true, Relaxed);
}

/// Whether green threads record their waits.
#[inline]
pub(crate) fn armed() -> bool {
    ARMED.load(Relaxed)
}

/// One hub's part of the registry.
#[derive(Debug)]
pub(crate) struct HubBoard {
    carrier: String,
    carrier_ident: u64,
    /// Its live green threads, published as they spawn and finish.
    live: AtomicUsize,
    /// (id, name, record) of its green threads that have waited.
    greens: Mutex<Greens>,
}

/// The listed green threads; the entries of finished ones are pruned
/// when the list has doubled since the last pruning (amortized O(1)).
#[derive(Debug, Default)]
struct Greens {
    list: Vec<(u64, Option<Arc<str>>, Weak<Slot>)>,
    prune_at: usize,
}

fn registry() -> &'static Mutex<Vec<Weak<HubBoard>>> {
    static HUBS: OnceLock<Mutex<Vec<Weak<HubBoard>>>> = OnceLock::new();
    HUBS.get_or_init(Mutex::default)
}

impl HubBoard {
    /// The board of a hub made on the calling thread, listed.
    pub(crate) fn new() -> Arc<HubBoard> {
        // Under loom the thread registry's records would outlive the model
        // (as in `waits::enter`): no carrier record there.
        let (carrier, carrier_ident) = if cfg!(loom) {
            (String::new(), 0)
        } else {
            let carrier = crate::threading::current_thread();
            (carrier.name().to_string(), carrier.ident().unwrap_or(0))
        };
        let board = Arc::new(HubBoard {
            carrier,
            carrier_ident,
            live: AtomicUsize::new(0),
            greens: Mutex::default(),
        });
        let mut hubs = registry().lock();
        hubs.retain(|h| h.strong_count() > 0);
        hubs.push(Arc::downgrade(&board));
        board
    }

    /// Publishes how many green threads the hub has.
    #[inline]
    pub(crate) fn set_live(&self, live: usize) {
        self.live.store(live, Relaxed);
    }

    /// A wait record for green thread `id`, listed on this board.
    pub(crate) fn slot(&self, id: u64, name: Option<Arc<str>>) -> Arc<Slot> {
        let slot = waits::unlisted_slot(crate::threading::get_ident());
        let mut greens = self.greens.lock();
        if greens.list.len() >= greens.prune_at {
            greens.list.retain(|(_, _, s)| s.strong_count() > 0);
            greens.prune_at = (greens.list.len() * 2).max(64);
        }
        greens.list.push((id, name, Arc::downgrade(&slot)));
        slot
    }
}

/// A green thread as a dump sees it.
pub(crate) struct Seen {
    pub(crate) id: u64,
    pub(crate) name: Option<Arc<str>>,
    pub(crate) slot: Arc<Slot>,
}

/// A hub as a dump sees it: its carrier, live count, and the green
/// threads that have a record.
pub(crate) struct SeenHub {
    pub(crate) carrier: String,
    pub(crate) carrier_ident: u64,
    pub(crate) live: usize,
    pub(crate) greens: Vec<Seen>,
}

/// Every live hub, for a dump.
pub(crate) fn snapshot() -> Vec<SeenHub> {
    let hubs: Vec<Arc<HubBoard>> = registry().lock().iter().filter_map(Weak::upgrade).collect();
    hubs.iter()
        .map(|h| SeenHub {
            carrier: h.carrier.clone(),
            carrier_ident: h.carrier_ident,
            live: h.live.load(Relaxed),
            greens: h
                .greens
                .lock()
                .list
                .iter()
                .filter_map(|(id, name, slot)| {
                    Some(Seen {
                        id: *id,
                        name: name.clone(),
                        slot: slot.upgrade()?,
                    })
                })
                .collect(),
        })
        .collect()
}
