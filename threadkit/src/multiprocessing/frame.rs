//! Length-prefixed frames: a little-endian `u32` byte count, then the bytes.
//!
//! Every message between a parent and its workers, and on a
//! [`Connection`](super::Connection), is one frame. A reader refuses a frame
//! longer than its limit before reading it, and grows its buffer only as
//! bytes arrive: a 4-byte header announcing the limit costs nothing until
//! the bytes come, so a corrupted or hostile length is an error, never a
//! huge allocation or a hang.

use std::io::{self, Read, Write};

use super::error::FrameError;

/// The default largest frame: 64 MiB.
pub(crate) const DEFAULT_MAX_FRAME: usize = 64 << 20;

/// The largest frame any setting may allow: 1 GiB. Builder values and the
/// `THREADKIT_MP_MAX_FRAME` a worker inherits are clamped to it.
pub(crate) const MAX_FRAME_CAP: usize = 1 << 30;

/// The smallest frame limit a pool accepts: a message header, a call's two
/// offsets and a few bytes of argument.
pub(crate) const MIN_FRAME: usize = 64;

/// How much a reader allocates ahead of the bytes it has received.
pub(crate) const READ_CHUNK: usize = 64 << 10;

/// Writes `payload` as one frame (not flushed).
pub(crate) fn write_frame(w: &mut impl Write, payload: &[u8]) -> io::Result<()> {
    let len = u32::try_from(payload.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame over 4 GiB"))?;
    w.write_all(&len.to_le_bytes())?;
    w.write_all(payload)
}

/// What [`read_frame`] can fail with.
#[derive(Debug)]
pub(crate) enum ReadError {
    Frame(FrameError),
    Io(io::Error),
}

/// Reads one frame; `Ok(None)` at a clean end of stream (between frames).
pub(crate) fn read_frame(r: &mut impl Read, max: usize) -> Result<Option<Vec<u8>>, ReadError> {
    let mut reader = FrameReader::new(max);
    loop {
        match reader.advance(r)? {
            Progress::Frame(frame) => return Ok(Some(frame)),
            Progress::End => return Ok(None),
            Progress::Partial => {}
        }
    }
}

/// What one [`FrameReader::advance`] step produced.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Progress {
    /// A whole frame.
    Frame(Vec<u8>),
    /// Some bytes (or none: an interrupted read); the frame is not whole yet.
    Partial,
    /// The stream ended cleanly, between frames.
    End,
}

/// A frame being read, one `read` call at a time, so that a reader that
/// gives up between calls (a deadline) keeps what it has and the stream
/// stays in step. A bad frame breaks the reader: every later step returns
/// the same error and reads nothing, so body bytes are never taken for a
/// length.
#[derive(Debug)]
pub(crate) struct FrameReader {
    max: usize,
    head: [u8; 4],
    head_len: usize,
    /// The body so far, once the header is whole; `len` bytes are expected.
    body: Option<Vec<u8>>,
    filled: usize,
    len: usize,
    broken: Option<FrameError>,
}

impl FrameReader {
    /// A reader of frames of at most `max` bytes.
    pub(crate) fn new(max: usize) -> FrameReader {
        FrameReader {
            max,
            head: [0; 4],
            head_len: 0,
            body: None,
            filled: 0,
            len: 0,
            broken: None,
        }
    }

    /// Makes one `read` call on `r` (none once broken).
    pub(crate) fn advance(&mut self, r: &mut impl Read) -> Result<Progress, ReadError> {
        if let Some(e) = &self.broken {
            return Err(ReadError::Frame(e.clone()));
        }
        let Some(body) = &mut self.body else {
            let n = match r.read(&mut self.head[self.head_len..]) {
                Ok(0) if self.head_len == 0 => return Ok(Progress::End),
                Ok(0) => return Err(self.fail(FrameError::Truncated)),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Progress::Partial),
                Err(e) => return Err(ReadError::Io(e)),
            };
            self.head_len += n;
            if self.head_len < 4 {
                return Ok(Progress::Partial);
            }
            let len = u32::from_le_bytes(self.head) as usize;
            if len > self.max {
                return Err(self.fail(FrameError::Oversized { len, max: self.max }));
            }
            self.len = len;
            self.filled = 0;
            self.body = Some(Vec::new());
            return if len == 0 {
                Ok(Progress::Frame(self.take()))
            } else {
                Ok(Progress::Partial)
            };
        };
        // Grow only as bytes arrive: at most doubling what came so far.
        let grow_to = self.len.min(self.filled + self.filled.max(READ_CHUNK));
        if body.len() < grow_to {
            body.resize(grow_to, 0);
        }
        let n = match r.read(&mut body[self.filled..]) {
            Ok(0) => return Err(self.fail(FrameError::Truncated)),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Ok(Progress::Partial),
            Err(e) => return Err(ReadError::Io(e)),
        };
        self.filled += n;
        if self.filled < self.len {
            return Ok(Progress::Partial);
        }
        Ok(Progress::Frame(self.take()))
    }

    /// Bytes allocated for the frame being read.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn buffered_capacity(&self) -> usize {
        self.body.as_ref().map_or(0, Vec::capacity)
    }

    fn take(&mut self) -> Vec<u8> {
        self.head_len = 0;
        let mut body = self.body.take().unwrap_or_default();
        body.truncate(self.filled);
        body
    }

    fn fail(&mut self, e: FrameError) -> ReadError {
        self.broken = Some(e.clone());
        self.body = None;
        ReadError::Frame(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let mut buf = Vec::new();
        write_frame(&mut buf, b"hello").unwrap();
        write_frame(&mut buf, b"").unwrap();
        let mut r = &buf[..];
        assert_eq!(read_frame(&mut r, 16).unwrap().unwrap(), b"hello");
        assert_eq!(read_frame(&mut r, 16).unwrap().unwrap(), b"");
        assert!(read_frame(&mut r, 16).unwrap().is_none());
        // truncated inside the length and inside the body
        assert!(matches!(
            read_frame(&mut &buf[..2], 16),
            Err(ReadError::Frame(FrameError::Truncated))
        ));
        assert!(matches!(
            read_frame(&mut &buf[..6], 16),
            Err(ReadError::Frame(FrameError::Truncated))
        ));
        // oversized: refused before reading the body
        assert!(matches!(
            read_frame(&mut &buf[..], 3),
            Err(ReadError::Frame(FrameError::Oversized { len: 5, max: 3 }))
        ));
        let huge = u32::MAX.to_le_bytes();
        assert!(matches!(
            read_frame(&mut &huge[..], DEFAULT_MAX_FRAME),
            Err(ReadError::Frame(FrameError::Oversized { .. }))
        ));
    }

    /// Counts the `read` calls made on it.
    struct Counting<'a>(&'a [u8], usize);

    impl Read for Counting<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            self.1 += 1;
            self.0.read(buf)
        }
    }

    #[test]
    fn a_header_announcing_the_maximum_allocates_only_what_arrives() {
        let max = MAX_FRAME_CAP;
        let mut bytes = (max as u32).to_le_bytes().to_vec();
        bytes.extend_from_slice(&[7; 1000]);
        let mut reader = FrameReader::new(max);
        let mut r = &bytes[..];
        let mut peak = 0;
        loop {
            match reader.advance(&mut r) {
                Ok(Progress::Partial) => {}
                Err(ReadError::Frame(FrameError::Truncated)) => break,
                other => panic!("{other:?}"),
            }
            peak = peak.max(reader.buffered_capacity());
        }
        assert!(
            peak <= READ_CHUNK,
            "allocated {peak} bytes for 1000 received"
        );
    }

    #[test]
    fn a_bad_frame_breaks_the_reader_for_good() {
        // an oversized header followed by what would be a valid frame
        let mut bytes = 1000u32.to_le_bytes().to_vec();
        write_frame(&mut bytes, b"ok").unwrap();
        let mut r = Counting(&bytes, 0);
        let mut reader = FrameReader::new(100);
        let first = reader.advance(&mut r);
        assert!(matches!(
            first,
            Err(ReadError::Frame(FrameError::Oversized {
                len: 1000,
                max: 100
            }))
        ));
        let reads = r.1;
        for _ in 0..3 {
            assert!(matches!(
                reader.advance(&mut r),
                Err(ReadError::Frame(FrameError::Oversized {
                    len: 1000,
                    max: 100
                }))
            ));
        }
        assert_eq!(r.1, reads, "a broken reader read again");
    }

    #[test]
    fn frames_arrive_in_pieces() {
        let mut bytes = Vec::new();
        write_frame(&mut bytes, &[1, 2, 3, 4, 5]).unwrap();
        write_frame(&mut bytes, &[]).unwrap();
        let mut reader = FrameReader::new(16);
        let mut frames = Vec::new();
        // one byte per read: every step but the last of a frame is Partial
        for b in &bytes {
            match reader.advance(&mut &[*b][..]).unwrap() {
                Progress::Frame(f) => frames.push(f),
                Progress::Partial => {}
                Progress::End => panic!("end inside the stream"),
            }
        }
        assert_eq!(frames, [vec![1, 2, 3, 4, 5], vec![]]);
        assert_eq!(reader.advance(&mut &[][..]).unwrap(), Progress::End);
    }
}
