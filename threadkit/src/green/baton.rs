//! The baton backend: `raw.rs`'s interface without stack switching, for
//! `cfg(loom)` and `cfg(miri)`, which cannot follow a switch of stacks.
//!
//! Each green thread is an OS thread of its own (a `loom::thread` under
//! loom, a `std::thread` under Miri), started at its first resume. One
//! baton per hub decides who runs: the hub's root or exactly one of its
//! green threads. [`RawGreen::resume`] hands the baton to the green thread
//! and waits until it comes back; [`suspend`] hands it back to the hub and
//! waits to be resumed. The hand-over is a `Mutex` and a `Condvar` (loom's
//! under loom), so loom explores the interleavings at every switch point
//! and Miri sees every access the hub and its green threads share ordered
//! by them. The hub, the waiting core's green waiter and the kill protocol
//! then run unchanged, one OS thread per green thread.
//!
//! Kill: the green thread is resumed with [`Resume::Kill`], unwinds its own
//! OS thread's stack up to its root (where the panic is caught, as on a
//! green stack), and ends; the hub joins that OS thread before it goes on.
//!
//! What it cannot check: the stack switch itself, guard pages and the
//! overflow report (`raw.rs`, `stack.rs`, `overflow.rs` are compiled out
//! here); those are checked by the soundness tests on the real backend.
//!
//! The hub's thread-local ([`CarrierLocal`]) is shared with the green
//! threads' OS threads: in one, it reads its carrier's value, as a green
//! thread on a real stack would.

use std::cell::{Cell, RefCell};
use std::ptr;

#[cfg(loom)]
use loom::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(loom)]
use loom::thread::{self, JoinHandle, LocalKey};
#[cfg(not(loom))]
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
#[cfg(not(loom))]
use std::thread::{self, JoinHandle, LocalKey};

/// `thread_local!`, loom's under loom (its threads share one OS thread).
macro_rules! baton_local {
    ($($decl:tt)*) => {
        #[cfg(loom)]
        loom::thread_local! { $($decl)* }
        #[cfg(not(loom))]
        std::thread_local! { $($decl)* }
    };
}

/// Declares the hub's thread-local as a [`CarrierLocal`].
macro_rules! carrier_local {
    (static $name:ident: $t:ty = $init:expr;) => {
        static $name: $crate::green::raw::CarrierLocal<$t> = {
            #[cfg(loom)]
            loom::thread_local! { static KEY: $t = $init; }
            #[cfg(not(loom))]
            std::thread_local! { static KEY: $t = $init; }
            $crate::green::raw::CarrierLocal::new(&KEY)
        };
    };
}
pub(crate) use carrier_local;

/// What a hub passes in when it resumes a green thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Go on.
    Run,
    /// Unwind: the green thread was killed.
    Kill,
}

/// Who holds the baton.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    /// The hub (its root).
    Hub,
    /// The green thread, resumed with this.
    Green(Resume),
    /// The green thread has finished; the hub runs.
    Done,
}

/// One green thread's side of its hub's baton.
#[derive(Debug)]
struct Baton {
    turn: Mutex<Turn>,
    changed: Condvar,
}

impl Baton {
    fn lock(&self) -> MutexGuard<'_, Turn> {
        self.turn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Waits for a change. (loom's `Condvar` is its `park`: a thread may
    /// see spurious wake-ups and leave stale entries that a `notify_one`
    /// would be spent on, so every change wakes all, and waits loop.)
    fn wait<'a>(&self, guard: MutexGuard<'a, Turn>) -> MutexGuard<'a, Turn> {
        self.changed.wait(guard).unwrap_or_else(|e| e.into_inner())
    }

    /// Hands the baton to `to` and waits until it comes back to the hub;
    /// whether the green thread finished.
    fn to_green(&self, input: Resume) -> bool {
        let mut turn = self.lock();
        *turn = Turn::Green(input);
        self.changed.notify_all();
        loop {
            match *turn {
                Turn::Hub => return false,
                Turn::Done => return true,
                Turn::Green(_) => turn = self.wait(turn),
            }
        }
    }

    /// Waits for the baton as the green thread.
    fn wait_green(&self) -> Resume {
        let mut turn = self.lock();
        loop {
            match *turn {
                Turn::Green(input) => return input,
                _ => turn = self.wait(turn),
            }
        }
    }

    /// Hands the baton back to the hub and waits for it as the green thread.
    fn to_hub(&self) -> Resume {
        {
            let mut turn = self.lock();
            *turn = Turn::Hub;
            self.changed.notify_all();
        }
        self.wait_green()
    }

    fn finish(&self) {
        *self.lock() = Turn::Done;
        self.changed.notify_all();
    }
}

baton_local! {
    /// The baton of the green thread this OS thread is, if it is one.
    static CURRENT: RefCell<Option<Arc<Baton>>> = RefCell::new(None);
    /// In a green thread's OS thread: its carrier's [`CarrierLocal`] key and
    /// value (type-erased). Null elsewhere.
    static CARRIER: Cell<(*const (), *const ())> = Cell::new((ptr::null(), ptr::null()));
    /// On a carrier: its own [`CarrierLocal`] key and value, noted on
    /// access, for the green threads it starts.
    static OWN: Cell<(*const (), *const ())> = Cell::new((ptr::null(), ptr::null()));
}

/// A `!Send` value moved to the green thread's OS thread.
struct AssertSend<T>(T);

// SAFETY: the value (a green thread's body, with whatever `!Send` state it
// captured, and the carrier's pointers) is used only on the green
// thread's OS thread and only while that thread holds its hub's baton: the
// hub's root and its other green threads are then blocked on the baton's
// mutex, whose hand-overs order every access before and after. So no two
// threads ever touch it at once, which is what `!Send` types such as `Rc`
// need; Miri and loom check that ordering.
unsafe impl<T> Send for AssertSend<T> {}

impl<T> AssertSend<T> {
    fn into_inner(self) -> T {
        self.0
    }
}

/// A thread-local of the hub (its `HUB`), shared by the OS threads of its
/// green threads: read there, it is the carrier's value. Only one per
/// program (checked).
pub(crate) struct CarrierLocal<T: 'static> {
    key: &'static LocalKey<T>,
}

/// A [`CarrierLocal`] read during or after its thread's destruction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct AccessError;

impl<T: 'static> CarrierLocal<T> {
    /// Wraps the thread-local `key`.
    pub(crate) const fn new(key: &'static LocalKey<T>) -> Self {
        CarrierLocal { key }
    }

    fn id(&'static self) -> *const () {
        ptr::from_ref(self).cast()
    }

    /// `LocalKey::try_with`, with the carrier's value in a green thread.
    pub(crate) fn try_with<R>(&'static self, f: impl FnOnce(&T) -> R) -> Result<R, AccessError> {
        let (key, value) = CARRIER
            .try_with(Cell::get)
            .unwrap_or((ptr::null(), ptr::null()));
        if !value.is_null() {
            assert_eq!(key, self.id(), "one carrier-local per program");
            // SAFETY: `value` points at the carrier's `T` of this very key
            // (checked above), noted by the carrier when it started this
            // green thread. The carrier's thread-locals live while it waits
            // for the baton, which it does whenever this thread runs; a
            // hub never resumes a green thread from its thread-local
            // destructors. Accesses are ordered by the baton (see
            // `AssertSend`).
            return Ok(f(unsafe { &*value.cast::<T>() }));
        }
        self.key
            .try_with(|v| {
                let _ = OWN.try_with(|own| own.set((self.id(), ptr::from_ref(v).cast())));
                f(v)
            })
            .map_err(|_| AccessError)
    }

    /// `LocalKey::with`, with the carrier's value in a green thread.
    ///
    /// # Panics
    ///
    /// During or after the thread-local's destruction.
    pub(crate) fn with<R>(&'static self, f: impl FnOnce(&T) -> R) -> R {
        self.try_with(f)
            .expect("carrier-local used during or after its destruction")
    }
}

/// The carrier-local this thread reads: its carrier's, or its own.
fn carrier_of_caller() -> (*const (), *const ()) {
    let carrier = CARRIER.with(Cell::get);
    if carrier.1.is_null() {
        OWN.with(Cell::get)
    } else {
        carrier
    }
}

/// A green thread's "stack": only its size (the OS thread has its own).
pub(crate) mod stack {
    use std::io;

    /// The page size assumed for rounding stack sizes.
    const PAGE: usize = 4096;

    /// A green thread's stack: nothing under the baton backend (the OS
    /// thread has its own), once its size has been checked.
    #[derive(Debug)]
    pub(crate) struct GreenStack;

    impl GreenStack {
        /// No mapping here.
        pub(crate) fn range(&self) -> (usize, usize) {
            (0, 0)
        }
    }

    /// Hands out stack sizes.
    #[derive(Debug, Default)]
    pub(crate) struct StackPool;

    impl StackPool {
        /// A "stack" of `usable` bytes: fails, as the real pool does, when
        /// `usable` rounded up to whole pages overflows.
        pub(crate) fn take(&mut self, usable: usize) -> io::Result<GreenStack> {
            usable
                .max(1)
                .checked_next_multiple_of(PAGE)
                .ok_or_else(|| io::Error::other("green thread stack size too large"))?;
            Ok(GreenStack)
        }

        /// [`take`](Self::take) for a slot that may hold a stack.
        pub(crate) fn take_for(
            &mut self,
            usable: usize,
            held: &mut Option<GreenStack>,
        ) -> io::Result<GreenStack> {
            *held = None;
            self.take(usable)
        }

        /// Takes a stack back into a freed slot (nothing to keep).
        pub(crate) fn keep(&mut self, _stack: GreenStack, _held: &mut Option<GreenStack>) {}
    }
}

/// No overflow handler under the baton backend (no guard pages).
pub(crate) mod overflow {
    use crate::green::hub::Meta;

    /// Nothing to install.
    pub(crate) fn install() {}

    /// Nothing to note: the overflow handler is compiled out.
    pub(crate) fn enter(_meta: *const Meta) -> *const Meta {
        std::ptr::null()
    }
}

/// A green thread: its body until its first resume, then its OS thread.
pub(crate) struct RawGreen {
    stack: stack::GreenStack,
    body: Option<Box<dyn FnOnce(Resume)>>,
    baton: Arc<Baton>,
    thread: Option<JoinHandle<()>>,
    done: bool,
}

impl std::fmt::Debug for RawGreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawGreen")
            .field("started", &self.body.is_none())
            .field("done", &self.done)
            .finish()
    }
}

/// Ends a green thread's turn for good, also if its body unwinds.
struct Finish(Arc<Baton>);

impl Drop for Finish {
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.borrow_mut().take());
        let _ = CARRIER.try_with(|c| c.set((ptr::null(), ptr::null())));
        self.0.finish();
    }
}

impl RawGreen {
    /// A green thread that runs `body(first input)` once resumed. `body`
    /// must not unwind (the caller catches panics in it).
    pub(crate) fn new(stack: stack::GreenStack, body: impl FnOnce(Resume) + 'static) -> RawGreen {
        RawGreen {
            stack,
            body: Some(Box::new(body)),
            baton: Arc::new(Baton {
                turn: Mutex::new(Turn::Hub),
                changed: Condvar::new(),
            }),
            thread: None,
            done: false,
        }
    }

    /// Hands the baton to the green thread until it suspends (false) or
    /// finishes (true; its OS thread has ended then).
    pub(crate) fn resume(&mut self, input: Resume) -> bool {
        assert!(!self.done, "resumed a finished green thread");
        if let Some(body) = self.body.take() {
            let carried = AssertSend((body, carrier_of_caller()));
            let baton = Arc::clone(&self.baton);
            let spawned = thread::Builder::new()
                .name("green (baton)".into())
                .spawn(move || {
                    let (body, carrier) = carried.into_inner();
                    CARRIER.with(|c| c.set(carrier));
                    CURRENT.with(|c| *c.borrow_mut() = Some(Arc::clone(&baton)));
                    let _finish = Finish(Arc::clone(&baton));
                    let first = baton.wait_green();
                    body(first);
                });
            self.thread = Some(spawned.expect("failed to start a green thread's OS thread"));
        }
        self.done = self.baton.to_green(input);
        if self.done {
            if let Some(thread) = self.thread.take() {
                if let Err(payload) = thread.join() {
                    std::panic::resume_unwind(payload);
                }
            }
        }
        self.done
    }

    /// The stack of a finished green thread, for reuse.
    pub(crate) fn into_stack(self) -> stack::GreenStack {
        self.stack
    }

    /// Gives up a green thread that may still be suspended without
    /// unwinding it: its OS thread is left waiting for the baton forever.
    /// Whether it was suspended (something on it now leaked).
    pub(crate) fn leak(self) -> bool {
        if self.done || self.body.is_some() {
            drop(self);
            false
        } else {
            std::mem::forget(self);
            true
        }
    }
}

/// Whether the caller is a green thread.
#[inline]
pub(crate) fn in_green() -> bool {
    CURRENT.try_with(|c| c.borrow().is_some()).unwrap_or(false)
}

/// Runs `f` as no green thread: on the green thread's own OS thread (which
/// has a full stack), with its baton and its carrier's hub hidden, so a
/// wait in `f` blocks (holding the baton, as the real backend blocks the
/// carrier) instead of switching. Elsewhere just calls `f`.
pub(crate) fn on_carrier_stack<F, R>(f: F) -> R
where
    F: FnOnce() -> R + Send,
{
    /// Puts the baton and the carrier back, also when `f` panics.
    struct Restore(Option<Arc<Baton>>, (*const (), *const ()));
    impl Drop for Restore {
        fn drop(&mut self) {
            let baton = self.0.take();
            let _ = CURRENT.try_with(|c| *c.borrow_mut() = baton);
            let _ = CARRIER.try_with(|c| c.set(self.1));
        }
    }
    let baton = CURRENT.try_with(|c| c.borrow_mut().take()).ok().flatten();
    if baton.is_none() {
        return f();
    }
    let carrier = CARRIER.with(|c| c.replace((ptr::null(), ptr::null())));
    let _restore = Restore(baton, carrier);
    f()
}

/// Hands the baton from the running green thread back to its hub; returns
/// what the hub resumes it with.
///
/// # Panics
///
/// Outside a green thread (callers check [`in_green`] first).
pub(crate) fn suspend() -> Resume {
    let baton = CURRENT
        .with(|c| c.borrow().clone())
        .expect("suspend outside a green thread");
    baton.to_hub()
}
