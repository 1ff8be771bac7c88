//! Entry points for the fuzz targets in `fuzz/` (built only with
//! `--cfg fuzzing`, which `cargo fuzz` sets). Each feeds hostile bytes to
//! one decoder and checks its invariants: no panic, no allocation beyond
//! what arrived, a typed error for every bad input.

use super::codec;
use super::frame::{FrameReader, Progress, ReadError};
use super::wire;
use super::worker::{Role, decode_request};

/// The frame reader, fed in pieces whose sizes come from the data itself:
/// every frame is within the limit, the buffer never runs ahead of the
/// bytes received, and a broken reader stays broken without reading.
pub fn frame_reader(data: &[u8]) {
    const MAX: usize = 1 << 16;
    let Some((&split, stream)) = data.split_first() else {
        return;
    };
    let piece = usize::from(split % 32) + 1;
    let mut reader = FrameReader::new(MAX);
    let mut received = 0;
    for chunk in stream.chunks(piece) {
        received += chunk.len();
        let mut r = chunk;
        while !r.is_empty() {
            match reader.advance(&mut r) {
                Ok(Progress::Frame(frame)) => assert!(frame.len() <= MAX),
                Ok(Progress::Partial) => {}
                Ok(Progress::End) => unreachable!("end with bytes left"),
                Err(ReadError::Frame(e)) => {
                    let mut more: &[u8] = &[0; 8];
                    let again = reader.advance(&mut more);
                    assert!(matches!(again, Err(ReadError::Frame(ref f)) if *f == e));
                    assert_eq!(more.len(), 8, "a broken reader read");
                    return;
                }
                Err(ReadError::Io(e)) => panic!("no i/o here: {e}"),
            }
            assert!(reader.buffered_capacity() <= 2 * received + super::frame::READ_CHUNK);
        }
    }
}

/// A message as a worker decodes a request and a parent a reply: typed
/// errors only, and an accepted request is one its role takes.
pub fn worker_message(data: &[u8]) {
    for role in [Role::Pool, Role::Process] {
        if let Ok(request) = decode_request(role, data) {
            let allowed = match role {
                Role::Pool => [wire::TASK, wire::INIT].contains(&request.kind),
                Role::Process => request.kind == wire::RUN,
            };
            assert!(allowed);
            assert!(request.call.len() >= super::call::CALL_HEADER);
        }
    }
    if let Ok((kind, _, body)) = wire::split(data) {
        let _ = wire::decode_reply(kind, body);
    }
}

/// Values as a `Connection`, a `Queue` or a pool decodes them: a value
/// decodes from all of the bytes or not at all, so an accepted input is
/// exactly the encoding of what it decoded to.
pub fn value_decoder(data: &[u8]) {
    type Value = (u64, String, Vec<u8>, Option<i32>, bool, Vec<(u8, char)>);
    if let Ok(value) = codec::decode::<Value>(data) {
        assert_eq!(codec::encode(&value).unwrap(), data);
    }
    if let Ok(value) = codec::decode::<Vec<String>>(data) {
        assert_eq!(codec::encode(&value).unwrap(), data);
    }
}
