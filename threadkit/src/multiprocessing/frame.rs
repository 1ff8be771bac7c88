//! Length-prefixed frames: a little-endian `u32` byte count, then the bytes.
//!
//! Every message between a parent and its workers, and on a
//! [`Connection`](super::Connection), is one frame. A reader refuses a frame
//! longer than its limit *before* allocating for it, so a corrupted length
//! is an error, never a huge allocation or a hang.

use std::io::{self, Read, Write};

use super::error::FrameError;

/// The default largest frame: 64 MiB.
pub(crate) const DEFAULT_MAX_FRAME: usize = 64 << 20;

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
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(ReadError::Frame(FrameError::Truncated)),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(e)),
        }
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > max {
        return Err(ReadError::Frame(FrameError::Oversized { len, max }));
    }
    let mut buf = vec![0u8; len];
    match r.read_exact(&mut buf) {
        Ok(()) => Ok(Some(buf)),
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
            Err(ReadError::Frame(FrameError::Truncated))
        }
        Err(e) => Err(ReadError::Io(e)),
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
}
