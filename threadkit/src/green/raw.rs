//! The stack switching, and the only place that touches corosensei: a green
//! thread is a [`Coroutine`] on a [`GreenStack`] that its hub resumes and
//! that suspends itself back to the hub from anywhere in its call stack.
//!
//! The audit in short:
//! - A `RawGreen` is `!Send` (corosensei's `Coroutine` is) and lives in its
//!   hub's thread-local slot table, so a started green thread is only ever
//!   resumed on the OS thread that started it.
//! - [`suspend`] reaches the running coroutine's `Yielder` through a
//!   thread-local pointer that [`RawGreen::resume`] sets before switching
//!   in and restores after switching out, so it is non-null exactly while
//!   code runs on a green stack of this thread, and then points at that
//!   green thread's own yielder (which lives on its stack, alive while it
//!   runs).
//! - A stack is taken back ([`RawGreen::into_stack`]) only from a finished
//!   coroutine; a suspended one that cannot be finished is leaked
//!   ([`RawGreen::leak`]), never freed or reused.

use std::cell::Cell;
use std::ptr;

use corosensei::{Coroutine, CoroutineResult, Yielder};

use super::stack::GreenStack;

/// What a hub passes in when it resumes a green thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Resume {
    /// Go on.
    Run,
    /// Unwind: the green thread was killed.
    Kill,
}

type GreenYielder = Yielder<Resume, ()>;

thread_local! {
    /// The yielder of the green thread running on this OS thread, or null.
    static YIELDER: Cell<*const GreenYielder> = const { Cell::new(ptr::null()) };
}

/// A green thread's coroutine.
pub(crate) struct RawGreen {
    co: Coroutine<Resume, (), (), GreenStack>,
    /// The coroutine's yielder, known once it has started.
    yielder: *const GreenYielder,
}

impl std::fmt::Debug for RawGreen {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RawGreen")
            .field("started", &self.co.started())
            .finish()
    }
}

impl RawGreen {
    /// A coroutine that runs `body(first input)` on `stack` once resumed.
    /// `body` must not unwind (the caller catches panics in it).
    pub(crate) fn new(stack: GreenStack, body: impl FnOnce(Resume) + 'static) -> RawGreen {
        // corosensei puts the closure on the new stack, up to a size: a
        // large one goes on the heap instead.
        let co = if std::mem::size_of_val(&body) <= 512 {
            Coroutine::with_stack(stack, move |y: &GreenYielder, first: Resume| {
                YIELDER.with(|c| c.set(y));
                body(first);
            })
        } else {
            let body: Box<dyn FnOnce(Resume)> = Box::new(body);
            Coroutine::with_stack(stack, move |y: &GreenYielder, first: Resume| {
                YIELDER.with(|c| c.set(y));
                body(first);
            })
        };
        RawGreen {
            co,
            yielder: ptr::null(),
        }
    }

    /// Switches to the coroutine until it suspends (false) or finishes
    /// (true).
    #[inline]
    pub(crate) fn resume(&mut self, input: Resume) -> bool {
        let prev = YIELDER.with(|c| c.replace(self.yielder));
        let result = self.co.resume(input);
        let mine = YIELDER.with(|c| c.replace(prev));
        match result {
            CoroutineResult::Yield(()) => {
                // The first switch-in set it from inside; keep it.
                self.yielder = mine;
                false
            }
            CoroutineResult::Return(()) => true,
        }
    }

    /// The stack of a finished coroutine, for reuse.
    pub(crate) fn into_stack(self) -> GreenStack {
        self.co.into_stack()
    }

    /// Gives up a coroutine that may still be suspended without unwinding
    /// it: its stack (and whatever lives on it) is leaked, never reused.
    /// Whether it was suspended (something on it now leaked).
    pub(crate) fn leak(self) -> bool {
        if self.co.done() || !self.co.started() {
            // Nothing lives on the stack: dropping cannot unwind.
            drop(self.co);
            false
        } else {
            std::mem::forget(self);
            true
        }
    }
}

/// Whether code on this OS thread runs on a green stack now.
#[inline]
pub(crate) fn in_green() -> bool {
    YIELDER.with(|c| !c.get().is_null())
}

/// Runs `f` on the stack of the carrier (the OS thread's own), from a green
/// thread; elsewhere just calls `f`. While `f` runs the caller is no green
/// thread ([`in_green`] is false), so a wait in it cannot switch stacks:
/// the hub's thread-local pointer must be hidden too (the caller does).
/// A panic in `f` propagates to the caller, on the green stack.
pub(crate) fn on_carrier_stack<F, R>(f: F) -> R
where
    F: FnOnce() -> R + Send,
{
    /// Puts the green thread's yielder back, also when `f` panics.
    struct Restore(*const GreenYielder);
    impl Drop for Restore {
        fn drop(&mut self) {
            YIELDER.with(|c| c.set(self.0));
        }
    }
    let y = YIELDER.with(|c| c.replace(ptr::null()));
    if y.is_null() {
        return f();
    }
    let _restore = Restore(y);
    // SAFETY: `y` was the running green thread's yielder (see the module
    // docs): it lives on this green thread's stack, alive while we run on
    // it. `on_parent_stack` runs `f` below the frames of the resume that
    // switched to us (the hub's carrier stack, idle until we suspend, which
    // we cannot do meanwhile: YIELDER is null until `f` has returned or
    // unwound), and carries `f`'s panic back here. `F: Send` keeps
    // references to the yielder out of `f`, as corosensei requires.
    unsafe { (*y).on_parent_stack(f) }
}

/// Switches from the running green thread back to its hub; returns what
/// the hub resumes it with.
///
/// # Panics
///
/// Outside a green thread (callers check [`in_green`] first).
#[inline]
pub(crate) fn suspend() -> Resume {
    let y = YIELDER.with(Cell::get);
    assert!(!y.is_null(), "suspend outside a green thread");
    // SAFETY: non-null only while a green thread of this OS thread runs,
    // and then it is that green thread's yielder, which lives on its stack
    // (see the module docs); we are that green thread.
    unsafe { (*y).suspend(()) }
}
