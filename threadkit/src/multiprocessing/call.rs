//! How a child finds the function to run: function-pointer offsets.
//!
//! A worker is the same executable file as its parent (`std::env::current_exe()`,
//! verified by the worker before it reads a call, see `trust.rs`). Address-space layout
//! randomisation moves the whole executable image by one offset, so the
//! distance between a function and a fixed anchor function is the same in
//! both processes. The parent sends, for a `fn(A) -> R`:
//!
//! - the offset of the function itself, and
//! - the offset of `trampoline::<A, R>`, the monomorphised glue that decodes
//!   an `A`, calls the function, catches a panic and encodes the `R`.
//!
//! The child adds its own anchor address back and calls the trampoline,
//! whose erased signature `fn(usize, &[u8]) -> Reply` is the same for every
//! `A` and `R`. This is sound because (1) both addresses were taken in the
//! parent from functions of exactly these types, (2) the child runs the same
//! file, so the same code sits at the same offsets, and (3) only this module
//! builds calls, and the child takes calls only from a parent it verified
//! (`trust.rs`), so no offset comes from anywhere else. The one way to break
//! it is a function in a dynamically loaded library: such a function is not
//! in the executable image; do not send those.
//!
//! The same trick is used by the `procspawn` crate; this is an independent
//! implementation.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::codec;
use crate::util::unwind::run_captured;

/// The fixed point offsets are measured from. Never inlined, never merged
/// with another function (it has a unique body).
#[inline(never)]
fn anchor() -> u64 {
    std::hint::black_box(0x7468_7265_6164_6b69)
}

fn anchor_addr() -> usize {
    anchor as fn() -> u64 as *const () as usize
}

/// The offset of the code at `addr` from the anchor.
fn offset_of(addr: usize) -> u64 {
    addr.wrapping_sub(anchor_addr()) as u64
}

/// The address in this process of the code at `offset` from the anchor.
fn addr_of(offset: u64) -> usize {
    anchor_addr().wrapping_add(offset as usize)
}

/// What running a call in the child produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Reply {
    /// The encoded result.
    Ok(Vec<u8>),
    /// The function panicked: its message and, when the worker's panic
    /// hook saw it, where (`file:line:column`).
    Panicked {
        message: String,
        location: Option<String>,
    },
    /// The argument did not decode.
    BadArgument(String),
    /// The result did not encode.
    BadResult(String),
}

impl Reply {
    /// A panic's reply. The backtrace, if one was captured, stays in the
    /// worker: it is symbols of this process, printed by its panic hook.
    fn panicked(report: crate::util::unwind::PanicReport) -> Reply {
        Reply::Panicked {
            message: report.message,
            location: report.location,
        }
    }
}

type Trampoline = fn(usize, &[u8]) -> Reply;

/// Decodes the argument, runs `f`, encodes the result.
fn trampoline<A: DeserializeOwned, R: Serialize>(f: usize, args: &[u8]) -> Reply {
    // SAFETY: `f` is the address of a `fn(A) -> R` taken by `Call::new::<A, R>`,
    // the only place that pairs this trampoline with a function, relocated to
    // this process by `Call::run` (see the module docs).
    let f = unsafe { std::mem::transmute::<*const (), fn(A) -> R>(f as *const ()) };
    let arg: A = match codec::decode(args) {
        Ok(arg) => arg,
        Err(e) => return Reply::BadArgument(e),
    };
    match run_captured(|| f(arg)) {
        Ok(result) => match codec::encode(&result) {
            Ok(bytes) => Reply::Ok(bytes),
            Err(e) => Reply::BadResult(e),
        },
        Err(report) => Reply::panicked(report),
    }
}

/// Decodes a chunk of arguments, runs `f` on each, encodes the results
/// (`ProcessPoolExecutor::map` with a `chunksize`). A panic fails the chunk.
fn chunk_trampoline<A: DeserializeOwned, R: Serialize>(f: usize, args: &[u8]) -> Reply {
    // SAFETY: as in `trampoline`; `Call::chunk::<A, R>` pairs them.
    let f = unsafe { std::mem::transmute::<*const (), fn(A) -> R>(f as *const ()) };
    let chunk: Vec<A> = match codec::decode(args) {
        Ok(chunk) => chunk,
        Err(e) => return Reply::BadArgument(e),
    };
    match run_captured(|| chunk.into_iter().map(f).collect::<Vec<R>>()) {
        Ok(results) => match codec::encode(&results) {
            Ok(bytes) => Reply::Ok(bytes),
            Err(e) => Reply::BadResult(e),
        },
        Err(report) => Reply::panicked(report),
    }
}

/// A function and its encoded argument, ready to send to a worker.
#[derive(Debug, Clone)]
pub(crate) struct Call {
    trampoline: u64,
    function: u64,
    pub(crate) args: Vec<u8>,
}

/// Bytes of a call's header on the wire: the two offsets.
pub(crate) const CALL_HEADER: usize = 16;

impl Call {
    /// Encodes `arg` for `f`.
    pub(crate) fn new<A, R>(f: fn(A) -> R, arg: &A) -> Result<Call, String>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize + DeserializeOwned,
    {
        Ok(Call::with_args(f, codec::encode(arg)?))
    }

    /// A call of `f` on arguments already encoded.
    pub(crate) fn with_args<A, R>(f: fn(A) -> R, args: Vec<u8>) -> Call
    where
        A: DeserializeOwned,
        R: Serialize,
    {
        let tramp: Trampoline = trampoline::<A, R>;
        Call {
            trampoline: offset_of(tramp as *const () as usize),
            function: offset_of(f as *const () as usize),
            args,
        }
    }

    /// A call of `f` on each of `chunk`, whose result is a `Vec<R>`.
    pub(crate) fn chunk<A, R>(f: fn(A) -> R, chunk: &[A]) -> Result<Call, String>
    where
        A: Serialize + DeserializeOwned,
        R: Serialize,
    {
        let args = codec::encode(chunk)?;
        let tramp: Trampoline = chunk_trampoline::<A, R>;
        Ok(Call {
            trampoline: offset_of(tramp as *const () as usize),
            function: offset_of(f as *const () as usize),
            args,
        })
    }

    /// Appends the call to `out`: the two offsets, then the arguments.
    pub(crate) fn encode_into(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.trampoline.to_le_bytes());
        out.extend_from_slice(&self.function.to_le_bytes());
        out.extend_from_slice(&self.args);
    }

    /// Runs a call encoded by [`encode_into`](Call::encode_into), in the
    /// child.
    ///
    /// # Safety
    ///
    /// `bytes` must have been produced by `encode_into` in a process running
    /// the same executable file as this one (for a worker: its parent,
    /// verified by `trust::check_parent`).
    pub(crate) unsafe fn run(bytes: &[u8]) -> Reply {
        if bytes.len() < CALL_HEADER {
            return Reply::BadArgument("call header truncated".to_owned());
        }
        let (head, args) = bytes.split_at(CALL_HEADER);
        let word = |i: usize| u64::from_le_bytes(head[i..i + 8].try_into().expect("8 bytes"));
        let tramp = addr_of(word(0));
        let function = addr_of(word(8));
        // SAFETY: by the caller's contract the offset is that of a
        // `trampoline::<A, R>` in this same executable, whose type is
        // `Trampoline` (see the module docs).
        let tramp = unsafe { std::mem::transmute::<*const (), Trampoline>(tramp as *const ()) };
        tramp(function, args)
    }
}

// Miri runs neither sockets nor integer-to-function-pointer round trips.
#[cfg(all(test, not(miri)))]
mod tests {
    use super::*;

    fn square(x: u64) -> u64 {
        x * x
    }

    fn boom(msg: String) -> u8 {
        panic!("{msg}")
    }

    fn run(call: &Call) -> Reply {
        let mut bytes = Vec::new();
        call.encode_into(&mut bytes);
        // SAFETY: encoded just above, in this very process.
        unsafe { Call::run(&bytes) }
    }

    #[test]
    fn offsets_round_trip_in_process() {
        let reply = run(&Call::new(square, &12).unwrap());
        assert_eq!(reply, Reply::Ok(codec::encode(&144u64).unwrap()));
        let reply = run(&Call::new(boom, &"no".to_owned()).unwrap());
        let Reply::Panicked { message, location } = reply else {
            panic!("not a panic: {reply:?}");
        };
        assert_eq!(message, "no");
        if let Some(location) = location {
            assert!(location.contains("call.rs:"), "{location}");
        }
        let reply = run(&Call::chunk(square, &[1, 2, 3]).unwrap());
        assert_eq!(reply, Reply::Ok(codec::encode(&vec![1u64, 4, 9]).unwrap()));
        let bad = Call::with_args(square, vec![1, 2]);
        assert!(matches!(run(&bad), Reply::BadArgument(_)));
    }
}
