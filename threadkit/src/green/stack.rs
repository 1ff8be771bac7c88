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

use corosensei::stack::{Stack, StackPointer};

/// `MADV_GUARD_INSTALL` from linux/mman.h (Linux 6.13+).
#[cfg(target_os = "linux")]
const MADV_GUARD_INSTALL: libc::c_int = 102;

/// The system page size.
pub(crate) fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    usize::try_from(page).unwrap_or(4096)
}

/// One green thread's stack: `len` bytes mapped at `low`, the lowest page
/// of which is the guard page.
#[derive(Debug)]
pub(crate) struct GreenStack {
    low: usize,
    len: usize,
}

impl GreenStack {
    /// Maps a stack with `usable` bytes (rounded up to pages) above one
    /// guard page.
    pub(crate) fn new(usable: usize) -> io::Result<GreenStack> {
        let page = page_size();
        let usable = usable.max(page).div_ceil(page) * page;
        let len = usable + page;
        // SAFETY: a fresh anonymous private mapping; we own it until `drop`.
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
        let stack = GreenStack {
            low: p as usize,
            len,
        };
        stack.install_guard(page)?;
        Ok(stack)
    }

    fn install_guard(&self, page: usize) -> io::Result<()> {
        #[cfg(target_os = "linux")]
        {
            // SAFETY: the lowest page of our own mapping.
            if unsafe { libc::madvise(self.low as *mut libc::c_void, page, MADV_GUARD_INSTALL) }
                == 0
            {
                return Ok(());
            }
        }
        // SAFETY: the lowest page of our own mapping becomes inaccessible.
        if unsafe { libc::mprotect(self.low as *mut libc::c_void, page, libc::PROT_NONE) } != 0 {
            return Err(map_error(io::Error::last_os_error()));
        }
        Ok(())
    }

    /// Usable bytes (the guard page excluded).
    pub(crate) fn usable(&self) -> usize {
        self.len - page_size()
    }

    /// The guard page's address range.
    pub(crate) fn guard(&self) -> (usize, usize) {
        (self.low, self.low + page_size())
    }

    /// The whole mapping's address range, guard page included.
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

impl Drop for GreenStack {
    fn drop(&mut self) {
        // SAFETY: our own mapping, no longer used by any coroutine (the
        // pool only holds finished stacks).
        unsafe {
            libc::munmap(self.low as *mut libc::c_void, self.len);
        }
    }
}

// SAFETY: `base` and `limit` bound our own mapping, page aligned (so aligned
// to STACK_ALIGNMENT), and `limit` includes the guard page at the low end,
// which faults on any access.
unsafe impl Stack for GreenStack {
    fn base(&self) -> StackPointer {
        StackPointer::new(self.low + self.len).expect("a mapping is never at address 0")
    }

    fn limit(&self) -> StackPointer {
        StackPointer::new(self.low).expect("a mapping is never at address 0")
    }
}

/// Finished stacks of one hub, by size, kept for the next spawns.
#[derive(Debug, Default)]
pub(crate) struct StackPool {
    /// (usable size, stacks of that size); a handful of sizes at most.
    free: Vec<(usize, Vec<GreenStack>)>,
    kept: usize,
}

/// How many finished stacks a pool keeps with their pages.
const WARM: usize = 1024;
/// How many finished stacks a pool keeps at all.
const KEEP: usize = 16 * 1024;

/// `usable` rounded as [`GreenStack::new`] rounds it.
fn rounded(usable: usize) -> usize {
    let page = page_size();
    usable.max(page).div_ceil(page) * page
}

impl StackPool {
    /// A stack of `usable` bytes: a pooled one of that size or a new one.
    pub(crate) fn take(&mut self, usable: usize) -> io::Result<GreenStack> {
        let size = rounded(usable);
        if let Some((_, stacks)) = self.free.iter_mut().find(|(s, _)| *s == size) {
            if let Some(stack) = stacks.pop() {
                self.kept -= 1;
                return Ok(stack);
            }
        }
        GreenStack::new(size)
    }

    /// Takes back the stack of a finished green thread.
    pub(crate) fn put(&mut self, stack: GreenStack) {
        if self.kept >= KEEP {
            return;
        }
        if self.kept >= WARM {
            stack.release_pages();
        }
        self.kept += 1;
        let size = stack.usable();
        match self.free.iter_mut().find(|(s, _)| *s == size) {
            Some((_, stacks)) => stacks.push(stack),
            None => self.free.push((size, vec![stack])),
        }
    }
}
