//! Stack overflow in a green thread: a SIGSEGV/SIGBUS handler, on the
//! carrier's alternate signal stack, that recognises a fault in the running
//! green thread's guard page and prints the green thread's name and stack
//! size before aborting, instead of a bare "Segmentation fault". Other
//! faults go on to the handler that was there before (std's, which reports
//! overflows of OS-thread stacks).

use std::cell::Cell;
use std::ptr;
use std::sync::Once;

use super::hub::Meta;

thread_local! {
    /// The green thread running on this OS thread (null in the root). A
    /// const-initialised thread-local without destructor: a plain TLS slot,
    /// readable from a signal handler.
    static RUNNING: Cell<*const Meta> = const { Cell::new(ptr::null()) };
}

/// Notes the green thread about to run (null: the root); returns the
/// previous one.
#[inline]
pub(crate) fn enter(meta: *const Meta) -> *const Meta {
    RUNNING.with(|c| c.replace(meta))
}

/// The running green thread's record (null in the root).
#[inline]
pub(crate) fn running() -> *const Meta {
    RUNNING.with(Cell::get)
}

static INSTALL: Once = Once::new();
/// The handlers found at install time, for SIGSEGV and SIGBUS.
static mut PREVIOUS: [Option<libc::sigaction>; 2] = [None, None];

/// Installs the handler (once per process) and makes sure the calling
/// thread has an alternate signal stack to run it on.
pub(crate) fn install() {
    INSTALL.call_once(|| {
        for (i, sig) in [libc::SIGSEGV, libc::SIGBUS].into_iter().enumerate() {
            // SAFETY: plain sigaction calls with zeroed, then filled, structs;
            // PREVIOUS is written only here, inside `call_once`, before the
            // handler that reads it is installed for this signal.
            unsafe {
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = handler as *const () as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(sig, ptr::null(), &mut old) == 0 {
                    (*ptr::addr_of_mut!(PREVIOUS))[i] = Some(old);
                    libc::sigaction(sig, &new, ptr::null_mut());
                }
            }
        }
    });
    ensure_alt_stack();
}

/// Gives the calling thread an alternate signal stack if it has none (std
/// gives one to the threads it starts; a carrier may be a foreign thread).
fn ensure_alt_stack() {
    // SAFETY: querying and setting this thread's alternate stack; the new
    // stack is a fresh mapping leaked on purpose (it must outlive the thread's
    // last signal).
    unsafe {
        let mut old: libc::stack_t = std::mem::zeroed();
        if libc::sigaltstack(ptr::null(), &mut old) != 0 || old.ss_flags & libc::SS_DISABLE == 0 {
            return;
        }
        let size = 64 * 1024;
        let p = libc::mmap(
            ptr::null_mut(),
            size,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        if p == libc::MAP_FAILED {
            return;
        }
        let new = libc::stack_t {
            ss_sp: p,
            ss_flags: 0,
            ss_size: size,
        };
        libc::sigaltstack(&new, ptr::null_mut());
    }
}

/// Appends `n` in decimal to `buf` at `*at`.
fn put_num(buf: &mut [u8], at: &mut usize, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (n % 10) as u8;
        len += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for d in digits[..len].iter().rev() {
        put(buf, at, &[*d]);
    }
}

fn put(buf: &mut [u8], at: &mut usize, bytes: &[u8]) {
    let n = bytes.len().min(buf.len() - *at);
    buf[*at..*at + n].copy_from_slice(&bytes[..n]);
    *at += n;
}

extern "C" fn handler(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
    // SAFETY: the kernel passes a valid siginfo for SA_SIGINFO handlers.
    let addr = unsafe { (*info).si_addr() } as usize;
    let meta = RUNNING.try_with(Cell::get).unwrap_or(ptr::null());
    if !meta.is_null() {
        // SAFETY: RUNNING points at the running green thread's metadata,
        // owned by its hub slot while it runs.
        let meta = unsafe { &*meta };
        // A fault at or below the guard page (a big frame may skip past it
        // into the page below) and inside or near the stack's mapping.
        // The page size was asked (and kept) when the stack was made.
        let (low, high) = meta.stack;
        let page = super::stack::page_size();
        if addr >= low.saturating_sub(64 * 1024) && addr < low + page {
            let mut buf = [0u8; 512];
            let mut at = 0;
            put(&mut buf, &mut at, b"\ngreen thread '");
            let name = meta.name.as_deref().unwrap_or("<unnamed>");
            put(&mut buf, &mut at, name.as_bytes());
            put(&mut buf, &mut at, b"' (id ");
            put_num(&mut buf, &mut at, meta.id);
            put(&mut buf, &mut at, b") has overflowed its stack of ");
            put_num(
                &mut buf,
                &mut at,
                ((high - low).saturating_sub(page) / 1024) as u64,
            );
            put(
                &mut buf,
                &mut at,
                b" KiB\nfatal runtime error: green thread stack overflow (give it a larger \
                  stack with green::Builder::stack_size), aborting\n",
            );
            // SAFETY: write(2) and abort(3) are async-signal-safe.
            unsafe {
                libc::write(2, buf.as_ptr().cast(), at);
                libc::abort();
            }
        }
    }
    let i = usize::from(sig == libc::SIGBUS);
    // SAFETY: PREVIOUS was written before this handler was installed and
    // never since.
    let prev = unsafe { (*ptr::addr_of!(PREVIOUS))[i] };
    match prev {
        Some(prev) if prev.sa_sigaction != libc::SIG_DFL && prev.sa_sigaction != libc::SIG_IGN => {
            if prev.sa_flags & libc::SA_SIGINFO != 0 {
                let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                    // SAFETY: an SA_SIGINFO handler has this signature.
                    unsafe { std::mem::transmute(prev.sa_sigaction) };
                f(sig, info, ctx);
            } else {
                // SAFETY: a plain handler has this signature.
                let f: extern "C" fn(libc::c_int) =
                    unsafe { std::mem::transmute(prev.sa_sigaction) };
                f(sig);
            }
        }
        _ => {
            // Back to the default action: returning re-runs the faulting
            // instruction, which then kills the process as usual.
            // SAFETY: resetting a signal to its default disposition.
            unsafe {
                let mut dfl: libc::sigaction = std::mem::zeroed();
                dfl.sa_sigaction = libc::SIG_DFL;
                libc::sigaction(sig, &dfl, ptr::null_mut());
            }
        }
    }
}
