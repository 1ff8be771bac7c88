//! How values are encoded on the wire: one place, so every path decodes
//! the same strict way.
//!
//! The format is bincode 1's with fixed-size integers, written here: a
//! value is its fields in order, integers and floats little-endian at
//! their size, `bool` and `Option` one tag byte (0 or 1), `char` a `u32`,
//! strings, byte arrays, sequences and maps a `u64` length then their
//! contents, enum variants a `u32` index then their fields. It is not
//! self-describing, so types that need `deserialize_any` (untagged enums,
//! `flatten`) cannot be sent.
//!
//! Why by hand: bincode 1 is unmaintained (RUSTSEC-2025-0141). The
//! maintained serde codecs measured on this machine (rmp-serde, postcard)
//! took 3-5x as long on a 256-element record and several times as long on
//! a `u64`, which the process pool's round trip would have paid on every
//! task, and postcard and bitcode drop the message of a value's own
//! serialization error. This is about 400 plain lines, fuzzed
//! (`fuzz/fuzz_targets/value_decoder.rs`).
//!
//! Decoding is strict: bytes left over after a value are an error, so a
//! message that carries more than its type (a wrong type, a corrupt or
//! hostile frame) is never taken for a shorter value; `bool`, `Option` and
//! `char` accept only valid values. Every length is checked against the
//! bytes left before anything is read or allocated.

mod de;
mod ser;

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// Why a value could not be encoded or decoded, with serde's message (a
/// type's own `custom` error message is kept).
#[derive(Debug)]
pub(crate) struct Error(String);

impl Error {
    fn new(msg: impl Into<String>) -> Error {
        Error(msg.into())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

impl serde::ser::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

impl serde::de::Error for Error {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Error(msg.to_string())
    }
}

/// Encodes `value`: a first pass counts the bytes, so the result is
/// allocated once at its size.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    let mut size = 0usize;
    value
        .serialize(&mut ser::Encoder { out: &mut size })
        .map_err(|e| e.0)?;
    let mut out = Vec::with_capacity(size);
    encode_into(&mut out, value)?;
    Ok(out)
}

/// Appends the encoding of `value` to `out` (on an error, `out` is as it
/// was).
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), String> {
    let before = out.len();
    let encoded = value.serialize(&mut ser::Encoder { out: &mut *out });
    encoded.map_err(|e| {
        out.truncate(before);
        e.0
    })
}

/// Decodes exactly one `T` from all of `bytes`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let mut decoder = de::Decoder { input: bytes };
    let value = T::deserialize(&mut decoder).map_err(|e| e.0)?;
    match decoder.input.len() {
        0 => Ok(value),
        left => Err(format!("{left} bytes left over after the value")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_strictness() {
        let bytes = encode(&(7u32, "seven".to_owned())).unwrap();
        assert_eq!(
            decode::<(u32, String)>(&bytes).unwrap(),
            (7, "seven".to_owned())
        );
        // a value followed by anything more is an error
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode::<(u32, String)>(&longer).is_err());
        // a prefix that decodes as a shorter type is an error
        assert!(decode::<u32>(&bytes).is_err());
        // cut short
        assert!(decode::<(u32, String)>(&bytes[..bytes.len() - 1]).is_err());
        let mut out = vec![0x51];
        encode_into(&mut out, &1u8).unwrap();
        assert_eq!(out, [0x51, 1]);
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    enum Shape {
        Point,
        Circle(f64),
        Rect { w: u32, h: u32 },
        Pair(i8, char),
    }

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Everything {
        shapes: Vec<Shape>,
        names: std::collections::BTreeMap<String, Option<u16>>,
        unit: (),
        flag: bool,
        big: i128,
        bytes: Vec<u8>,
    }

    #[test]
    fn structs_enums_maps_round_trip() {
        let value = Everything {
            shapes: vec![
                Shape::Point,
                Shape::Circle(1.5),
                Shape::Rect { w: 3, h: 4 },
                Shape::Pair(-1, 'é'),
            ],
            names: [("a".to_owned(), Some(1)), ("b".to_owned(), None)].into(),
            unit: (),
            flag: true,
            big: -(1 << 100),
            bytes: vec![0, 255],
        };
        let bytes = encode(&value).unwrap();
        assert_eq!(decode::<Everything>(&bytes).unwrap(), value);
        assert_eq!(
            decode::<Vec<()>>(&encode(&vec![(); 1000]).unwrap())
                .unwrap()
                .len(),
            1000
        );
    }

    #[test]
    fn invalid_values_are_errors() {
        assert!(decode::<bool>(&[2]).is_err());
        assert!(decode::<Option<u8>>(&[7, 1]).is_err());
        assert!(decode::<char>(&0xD800u32.to_le_bytes()).is_err());
        assert!(decode::<String>(&[&2u64.to_le_bytes()[..], &[0xff, 0xfe]].concat()).is_err());
        assert!(decode::<Shape>(&9u32.to_le_bytes()).is_err());
        // a hostile length: an error, not an allocation or a long loop
        assert!(decode::<Vec<u8>>(&u64::MAX.to_le_bytes()).is_err());
        assert!(decode::<String>(&(1u64 << 40).to_le_bytes()).is_err());
        assert!(decode::<Vec<()>>(&u64::MAX.to_le_bytes()).is_err());
        // types that need a self-describing format say so
        let err = decode::<serde::de::IgnoredAny>(&[1]).unwrap_err();
        assert!(err.contains("self-describing"), "{err}");
    }

    #[test]
    fn a_types_own_error_message_is_kept() {
        struct Refuses;
        impl serde::Serialize for Refuses {
            fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
                Err(serde::ser::Error::custom("refuses to serialize"))
            }
        }
        let mut out = vec![9];
        assert_eq!(
            encode_into(&mut out, &(1u8, Refuses)).unwrap_err(),
            "refuses to serialize"
        );
        assert_eq!(out, [9], "a failed encoding leaves the buffer as it was");
        let err = encode(
            &std::iter::repeat_n(1, 3)
                .filter(|_| true)
                .collect::<Vec<u8>>(),
        );
        assert!(err.is_ok());
    }
}
