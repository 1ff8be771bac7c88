//! The messages between a parent and a worker, each one frame.
//!
//! ```text
//! parent -> child   [kind: u8][id: u64 LE][call: see call.rs]
//!                   kind = TASK (pool task), INIT (pool initializer), RUN (Process target)
//! child -> parent   [kind: u8][id: u64 LE][body]
//!                   kind = HELLO (body: status u8, then a message), OK (body: encoded result),
//!                          PANICKED (body: message length u32 LE, UTF-8 message, UTF-8
//!                                    location, empty when unknown),
//!                          BAD_ARGUMENT / BAD_RESULT (body: UTF-8 message)
//! ```
//!
//! A worker says HELLO first; the parent gives up on one that has not said
//! it within the handshake timeout. The worker answers each TASK and INIT
//! with one reply carrying the same id, in order. A kind the worker's role
//! does not take (a pool worker takes TASK and INIT, a `Process` one RUN)
//! is a broken protocol: the worker answers nothing and exits.

use super::call::Reply;
use super::error::FrameError;

pub(crate) const TASK: u8 = 1;
pub(crate) const INIT: u8 = 2;
pub(crate) const RUN: u8 = 3;

pub(crate) const HELLO: u8 = 10;
pub(crate) const OK: u8 = 11;
pub(crate) const PANICKED: u8 = 12;
pub(crate) const BAD_ARGUMENT: u8 = 13;
pub(crate) const BAD_RESULT: u8 = 14;

/// HELLO status: ready. Any other status is a refusal (`trust.rs`).
pub(crate) const HELLO_READY: u8 = 0;

/// Bytes before a message's body.
pub(crate) const HEADER: usize = 9;

/// Starts a message of `kind` for `id` in `out` (cleared first).
pub(crate) fn begin(out: &mut Vec<u8>, kind: u8, id: u64) {
    out.clear();
    out.push(kind);
    out.extend_from_slice(&id.to_le_bytes());
}

/// Splits a message into kind, id and body.
pub(crate) fn split(msg: &[u8]) -> Result<(u8, u64, &[u8]), FrameError> {
    if msg.len() < HEADER {
        return Err(FrameError::Corrupt(format!(
            "message of {} bytes has no header",
            msg.len()
        )));
    }
    let id = u64::from_le_bytes(msg[1..HEADER].try_into().expect("8 bytes"));
    Ok((msg[0], id, &msg[HEADER..]))
}

/// Encodes a reply to the call `id`.
pub(crate) fn encode_reply(out: &mut Vec<u8>, id: u64, reply: &Reply) {
    let (kind, body): (u8, &[u8]) = match reply {
        Reply::Ok(bytes) => (OK, bytes),
        Reply::Panicked { message, location } => {
            begin(out, PANICKED, id);
            let len = u32::try_from(message.len()).unwrap_or(u32::MAX);
            out.extend_from_slice(&len.to_le_bytes());
            out.extend_from_slice(&message.as_bytes()[..len as usize]);
            out.extend_from_slice(location.as_deref().unwrap_or("").as_bytes());
            return;
        }
        Reply::BadArgument(msg) => (BAD_ARGUMENT, msg.as_bytes()),
        Reply::BadResult(msg) => (BAD_RESULT, msg.as_bytes()),
    };
    begin(out, kind, id);
    out.extend_from_slice(body);
}

/// Decodes a reply's kind and body.
pub(crate) fn decode_reply(kind: u8, body: &[u8]) -> Result<Reply, FrameError> {
    let text = || String::from_utf8_lossy(body).into_owned();
    Ok(match kind {
        OK => Reply::Ok(body.to_vec()),
        PANICKED => {
            let corrupt = || FrameError::Corrupt("a panic reply without its message".to_owned());
            let (len, rest) = body.split_first_chunk::<4>().ok_or_else(corrupt)?;
            let len = usize::try_from(u32::from_le_bytes(*len)).map_err(|_| corrupt())?;
            if len > rest.len() {
                return Err(corrupt());
            }
            let (message, location) = rest.split_at(len);
            Reply::Panicked {
                message: String::from_utf8_lossy(message).into_owned(),
                location: (!location.is_empty())
                    .then(|| String::from_utf8_lossy(location).into_owned()),
            }
        }
        BAD_ARGUMENT => Reply::BadArgument(text()),
        BAD_RESULT => Reply::BadResult(text()),
        other => return Err(FrameError::Corrupt(format!("unknown reply kind {other}"))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(reply: &Reply) -> Result<Reply, FrameError> {
        let mut out = Vec::new();
        encode_reply(&mut out, 7, reply);
        let (kind, id, body) = split(&out)?;
        assert_eq!(id, 7);
        decode_reply(kind, body)
    }

    #[test]
    fn a_panic_reply_keeps_its_message_and_location() {
        for location in [None, Some("src/lib.rs:3:5".to_owned())] {
            let reply = Reply::Panicked {
                message: "bad\0input".to_owned(),
                location,
            };
            assert_eq!(round_trip(&reply).unwrap(), reply);
        }
    }

    #[test]
    fn a_truncated_panic_reply_is_corrupt() {
        for body in [&[][..], &[1, 0, 0], &[9, 0, 0, 0, b'a']] {
            assert!(matches!(
                decode_reply(PANICKED, body),
                Err(FrameError::Corrupt(_))
            ));
        }
    }
}
