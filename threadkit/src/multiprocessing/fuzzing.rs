//! Entry points for the fuzz targets in `fuzz/` (built only with
//! `--cfg fuzzing`, which `cargo fuzz` sets). Each feeds hostile bytes to
//! one decoder and checks its invariants: no panic, no allocation beyond
//! what arrived, a typed error for every bad input.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use super::codec;
use super::error::{ChannelError, FrameError};
use super::frame::{FrameReader, Progress, ReadError};
use super::pipe::Connection;
use super::queue::Queue;
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

/// Values as a `Connection`, a `Queue` or a pool decodes them: typed errors
/// only, and what decodes round-trips to itself.
pub fn value_decoder(data: &[u8]) {
    type Value = (u64, String, Vec<u8>, Option<i32>, bool, Vec<(u8, char)>);
    if let Ok(value) = codec::decode::<Value>(data) {
        let again: Value = codec::decode(&codec::encode(&value).unwrap()).unwrap();
        assert_eq!(again, value);
    }
    if let Ok(value) = codec::decode::<Vec<String>>(data) {
        let again: Vec<String> = codec::decode(&codec::encode(&value).unwrap()).unwrap();
        assert_eq!(again, value);
    }
}

/// A [`Connection`] receiving a hostile byte stream until it ends: every
/// outcome is a value or a typed error, a value that does not decode leaves
/// the stream in step, and a broken frame repeats its error.
pub fn connection_recv(data: &[u8]) {
    // Within one socket buffer, so the write cannot block.
    let data = &data[..data.len().min(64 << 10)];
    let (raw, end) = UnixStream::pair().expect("a socket pair");
    let conn = Connection::from_stream(end).expect("a connection");
    (&raw).write_all(data).expect("within the buffer");
    drop(raw);
    loop {
        match conn.recv_timeout::<(u32, String)>(Duration::from_secs(10)) {
            Ok(_) | Err(ChannelError::Frame(FrameError::Corrupt(_))) => {}
            Err(ChannelError::Closed) => return,
            Err(ChannelError::Frame(e)) => {
                let again = conn.recv_timeout::<(u32, String)>(Duration::ZERO);
                assert!(matches!(again, Err(ChannelError::Frame(ref f)) if *f == e));
                return;
            }
            Err(other) => panic!("unexpected error: {other}"),
        }
    }
}

/// A `multiprocessing` [`Queue`] receiving one hostile packet: a value or a
/// typed error, and the queue still works afterwards.
pub fn queue_get(data: &[u8]) {
    let data = &data[..data.len().min(32 << 10)];
    let q: Queue<(u32, String)> = Queue::with_maxsize(4).expect("a queue");
    if q.put_raw(data).is_err() {
        return;
    }
    match q.try_get() {
        Ok(_)
        | Err(ChannelError::Frame(FrameError::Corrupt(_)))
        | Err(ChannelError::Frame(FrameError::Truncated))
        | Err(ChannelError::Closed) => {}
        Err(other) => panic!("unexpected error: {other}"),
    }
    q.put(&(1, "after".to_owned()))
        .expect("the queue still takes values");
    assert_eq!(
        q.try_get().expect("and gives them"),
        (1, "after".to_owned())
    );
}
