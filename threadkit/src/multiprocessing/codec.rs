//! How values are encoded on the wire: one place, so every path decodes
//! the same strict way.
//!
//! Values are bincode with fixed-size integers. Decoding is strict: bytes
//! left over after a value are an error, so a message that carries more
//! than its type (a wrong type, a corrupt or hostile frame) is never taken
//! for a shorter value.

use bincode::Options;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn options() -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .reject_trailing_bytes()
}

/// Encodes `value`.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    options().serialize(value).map_err(|e| e.to_string())
}

/// Appends the encoding of `value` to `out`.
pub(crate) fn encode_into<T: Serialize + ?Sized>(
    out: &mut Vec<u8>,
    value: &T,
) -> Result<(), String> {
    options()
        .serialize_into(out, value)
        .map_err(|e| e.to_string())
}

/// Decodes exactly one `T` from all of `bytes`.
pub(crate) fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    options().deserialize(bytes).map_err(|e| e.to_string())
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
}
