//! Green-thread stacks: one anonymous mapping per stack with one guard page
//! at its low end, kept in a per-hub pool for reuse.
//!
//! The guard page is a lightweight guard region (`MADV_GUARD_INSTALL`,
//! Linux 6.13+) where the kernel has it, so neighbouring stacks stay one VMA
//! and the number of live green threads is not capped by
//! `vm.max_map_count`; elsewhere it is a `PROT_NONE` page (two VMAs per
//! stack, about 32k live stacks under the default sysctl, named in the
//! error when a spawn fails).

use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use corosensei::stack::{Stack, StackPointer};

/// `MADV_GUARD_INSTALL` from linux/mman.h (Linux 6.13+).
#[cfg(target_os = "linux")]
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// The system page size (asked once: it is on the spawn path).
#[inline]
pub(crate) fn page_size() -> usize {
    static PAGE: AtomicUsize = AtomicUsize::new(0);
    let page = PAGE.load(Ordering::Relaxed);
    if page != 0 {
        return page;
    }
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    let page = usize::try_from(page).unwrap_or(4096);
    PAGE.store(page, Ordering::Relaxed);
    page
}

/// One mapping cut into stacks (a *slab*): unmapped once every stack cut
/// from it has been dropped. A stack leaked with a suspended green thread
/// keeps its slab mapped for good.
#[derive(Debug)]
struct Slab {
    base: usize,
    len: usize,
}

impl Drop for Slab {
    fn drop(&mut self) {
        // SAFETY: our own mapping; every stack cut from it is gone (each
        // holds an `Rc` to the slab).
        unsafe {
            libc::munmap(self.base as *mut libc::c_void, self.len);
        }
    }
}

/// How many stacks one slab holds.
const PER_SLAB: usize = 64;

/// One green thread's stack: `len` bytes at `low`, the lowest page of which
/// is the guard page; a slice of a [`Slab`].
#[derive(Debug)]
pub(crate) struct GreenStack {
    low: usize,
    len: usize,
    _slab: Rc<Slab>,
}

/// Maps `len` bytes, readable and writable, reserving no swap.
fn map(len: usize) -> io::Result<usize> {
    // SAFETY: a fresh anonymous private mapping, owned by the caller.
    let p = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            len,
            libc::PROT_READ | libc::PROT_WRITE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
            -1,
            0,
        )
    };
    if p == libc::MAP_FAILED {
        return Err(map_error(io::Error::last_os_error()));
    }
    Ok(p as usize)
}

impl GreenStack {
    /// Cuts the stack at `low` (`len` bytes, guard page included) from
    /// `slab` and installs its guard page.
    fn cut(slab: &Rc<Slab>, low: usize, len: usize) -> io::Result<GreenStack> {
        let stack = GreenStack {
            low,
            len,
            _slab: Rc::clone(slab),
        };
        stack.install_guard(page_size())?;
        Ok(stack)
    }

    fn install_guard(&self, page: usize) -> io::Result<()> {
        /// Whether the kernel refused `MADV_GUARD_INSTALL` once (it then
        /// always will: no second try per stack).
        #[cfg(target_os = "linux")]
        static NO_GUARD_REGIONS: AtomicBool = AtomicBool::new(false);
        #[cfg(target_os = "linux")]
        if !NO_GUARD_REGIONS.load(Ordering::Relaxed) {
            // SAFETY: the lowest page of this stack, inside our own mapping.
            if unsafe { libc::madvise(self.low as *mut libc::c_void, page, MADV_GUARD_INSTALL) }
                == 0
            {
                return Ok(());
            }
            if io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
                NO_GUARD_REGIONS.store(true, Ordering::Relaxed);
            }
        }
        // SAFETY: the lowest page of this stack becomes inaccessible.
        if unsafe { libc::mprotect(self.low as *mut libc::c_void, page, libc::PROT_NONE) } != 0 {
            return Err(map_error(io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Usable bytes (the guard page excluded).
    #[inline]
    pub(crate) fn usable(&self) -> usize {
        self.len - page_size()
    }

    /// The whole stack's address range, guard page included.
    pub(crate) fn range(&self) -> (usize, usize) {
        (self.low, self.low + self.len)
    }

    /// Gives the touched pages back to the kernel (the stack stays mapped
    /// and guarded).
    fn release_pages(&self) {
        let page = page_size();
        // SAFETY: the usable part of our own mapping; nothing runs on it
        // (the stack is in the pool). MADV_DONTNEED keeps guard regions.
        unsafe {
            libc::madvise(
                (self.low + page) as *mut libc::c_void,
                self.len - page,
                libc::MADV_DONTNEED,
            );
        }
    }
}

/// Says what to do when a stack cannot be mapped.
fn map_error(e: io::Error) -> io::Error {
    io::Error::new(
        e.kind(),
        format!(
            "cannot map a green thread's stack ({e}); with guard pages made by mprotect each \
             stack takes two memory maps: raise the sysctl vm.max_map_count or use smaller \
             or fewer green threads"
        ),
    )
}

// SAFETY: `base` and `limit` bound this stack's part of a slab, page aligned
// (so aligned to STACK_ALIGNMENT), and `limit` includes the guard page at
// the low end, which faults on any access; the slab stays mapped while the
// stack exists.
unsafe impl Stack for GreenStack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.low + self.len).expect("a mapping is never at address 0")
    }

    fn limit(&self) -> StackPointer {
        StackPointer::new(self.low).expect("a mapping is never at address 0")
    }
}

/// Finished stacks of one hub, by size, kept for the next spawns, and the
/// slab new stacks of each size are cut from.
#[derive(Debug, Default)]
pub(crate) struct StackPool {
    /// A handful of sizes at most.
    sizes: Vec<SizeClass>,
    kept: usize,
    /// Finished stacks left in their free slots ([`StackPool::keep`]):
    /// counted with `kept` against [`WARM`].
    in_slots: usize,
    /// The last size asked of [`take_for`](StackPool::take_for) and the
    /// length of its stacks (guard page included), to tell a held stack's
    /// fit without the rounding's division.
    last_ask: (usize, usize),
}

#[derive(Debug)]
struct SizeClass {
    usable: usize,
    free: Vec<GreenStack>,
    /// The slab being cut, and how many of its stacks are cut.
    slab: Option<(Rc<Slab>, usize)>,
}

/// How many finished stacks a pool keeps with their pages.
const WARM: usize = 1024;
/// How many finished stacks a pool keeps at all.
const KEEP: usize = 16 * 1024;

/// `usable` rounded as stacks are: whole pages, at least one. Fails (as
/// the baton backend does) for a size no machine maps, for which the
/// rounding, the guard page or a slab of such stacks would overflow.
fn rounded(usable: usize) -> io::Result<usize> {
    let page = page_size();
    if usable > isize::MAX as usize / (PER_SLAB + 1) - page {
        return Err(io::Error::other("green thread stack size too large"));
    }
    Ok(usable.max(page).div_ceil(page) * page)
}

impl StackPool {
    #[inline]
    fn sized(&mut self, usable: usize) -> &mut SizeClass {
        // Nearly every spawn asks for the first size seen (the default).
        if self.sizes.first().is_some_and(|s| s.usable == usable) {
            return &mut self.sizes[0];
        }
        let at = match self.sizes.iter().position(|s| s.usable == usable) {
            Some(at) => at,
            None => {
                self.sizes.push(SizeClass {
                    usable,
                    free: Vec::new(),
                    slab: None,
                });
                self.sizes.len() - 1
            }
        };
        &mut self.sizes[at]
    }

    /// A stack of `usable` bytes: a pooled one of that size or a new one.
    pub(crate) fn take(&mut self, usable: usize) -> io::Result<GreenStack> {
        let usable = rounded(usable)?;
        let sized = self.sized(usable);
        if let Some(stack) = sized.free.pop() {
            self.kept -= 1;
            return Ok(stack);
        }
        let len = usable + page_size();
        let (slab, cut) = match sized.slab.take() {
            Some((slab, cut)) if cut < PER_SLAB => (slab, cut),
            _ => {
                let total = len * PER_SLAB;
                let base = map(total)?;
                (Rc::new(Slab { base, len: total }), 0)
            }
        };
        let stack = GreenStack::cut(&slab, slab.base + cut * len, len);
        sized.slab = Some((slab, cut + 1));
        stack
    }

    /// A stack of `usable` bytes for a spawn into a free slot that may
    /// hold its last tenant's stack (`held`, see [`keep`](Self::keep)):
    /// that one if its size fits, with no trip through the pool (a spawn
    /// reuses slot and stack as one unit); else a pooled or new one, and
    /// the held one goes to the pool.
    #[inline(always)]
    pub(crate) fn take_for(
        &mut self,
        usable: usize,
        held: &mut Option<GreenStack>,
    ) -> io::Result<GreenStack> {
        match held.take() {
            // The common case: the size asked last time, which it has.
            Some(stack) if self.last_ask.0 == usable && stack.len == self.last_ask.1 => {
                self.in_slots -= 1;
                Ok(stack)
            }
            Some(stack) => self.take_for_other(usable, stack),
            None => self.take(usable),
        }
    }

    /// [`take_for`](Self::take_for) with a held stack of another size than
    /// asked last time (out of line: rare).
    #[cold]
    #[inline(never)]
    fn take_for_other(&mut self, usable: usize, stack: GreenStack) -> io::Result<GreenStack> {
        self.in_slots -= 1;
        let len = match rounded(usable) {
            Ok(rounded) => rounded + page_size(),
            Err(e) => {
                self.put(stack);
                return Err(e);
            }
        };
        self.last_ask = (usable, len);
        if stack.len == self.last_ask.1 {
            return Ok(stack);
        }
        self.put(stack);
        self.take(usable)
    }

    /// Takes back the stack of a finished green thread whose slot is being
    /// freed: left in the slot (`held`) while the warm stacks number fewer
    /// than [`WARM`], for the next spawn there ([`take_for`](Self::take_for));
    /// else into the pool.
    #[inline]
    pub(crate) fn keep(&mut self, stack: GreenStack, held: &mut Option<GreenStack>) {
        if held.is_none() && self.kept + self.in_slots < WARM {
            self.in_slots += 1;
            *held = Some(stack);
        } else {
            self.put(stack);
        }
    }

    /// Takes back the stack of a finished green thread.
    pub(crate) fn put(&mut self, stack: GreenStack) {
        if self.kept >= KEEP {
            // Dropped: its slab goes once all its stacks have.
            return;
        }
        // Stacks kept in free slots are warm too.
        if self.kept + self.in_slots >= WARM {
            stack.release_pages();
        }
        self.kept += 1;
        let usable = stack.usable();
        self.sized(usable).free.push(stack);
    }
}
