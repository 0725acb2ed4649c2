//! Errors of encoding and decoding, small and `Copy` so the firmware can count them.

use core::fmt;

/// Why a received frame was rejected. Every variant is a normal event on a hostile or
/// noisy link: count it, log it, drop the frame; never panic.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// Shorter than a header plus a tag.
    Truncated,
    /// Longer than [`super::MAX_FRAME_LEN`] (or a stream frame overflowed its buffer).
    Oversize,
    /// The first two bytes are not [`super::MAGIC`].
    BadMagic,
    /// A protocol version outside [`super::version::MIN`]..=[`super::version::CURRENT`].
    UnsupportedVersion(u8),
    /// A message kind this version does not know.
    UnknownKind(u8),
    /// A sender byte with reserved bits set.
    BadSender(u8),
    /// The authentication tag does not match: wrong key, corruption, forgery, or a frame
    /// sealed for another recipient.
    BadMac,
    /// A sequence number not above the last one accepted from this sender and boot, or
    /// a boot id below the sender's current one (boot ids only go up).
    Replayed,
    /// A frame claiming to come from ourselves (reflected back at us).
    FromSelf,
    /// The payload does not decode as the kind the header names, has trailing bytes, or
    /// is not the canonical encoding of what it decodes to (e.g. an over-long varint).
    BadPayload,
    /// A byte-stream frame whose COBS encoding is invalid.
    BadFraming,
}

impl DecodeError {
    /// Every variant (with placeholder fields), for counters indexed by [`Self::index`].
    pub const COUNT: usize = 11;

    /// A dense index for per-error counters.
    pub const fn index(self) -> usize {
        match self {
            Self::Truncated => 0,
            Self::Oversize => 1,
            Self::BadMagic => 2,
            Self::UnsupportedVersion(_) => 3,
            Self::UnknownKind(_) => 4,
            Self::BadSender(_) => 5,
            Self::BadMac => 6,
            Self::Replayed => 7,
            Self::FromSelf => 8,
            Self::BadPayload => 9,
            Self::BadFraming => 10,
        }
    }

    /// A short stable name (log fields, metrics labels).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Truncated => "truncated",
            Self::Oversize => "oversize",
            Self::BadMagic => "bad_magic",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::UnknownKind(_) => "unknown_kind",
            Self::BadSender(_) => "bad_sender",
            Self::BadMac => "bad_mac",
            Self::Replayed => "replayed",
            Self::FromSelf => "from_self",
            Self::BadPayload => "bad_payload",
            Self::BadFraming => "bad_framing",
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Truncated => f.write_str("frame truncated"),
            Self::Oversize => f.write_str("frame oversize"),
            Self::BadMagic => f.write_str("bad magic"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported protocol version {v}"),
            Self::UnknownKind(k) => write!(f, "unknown message kind {k}"),
            Self::BadSender(s) => write!(f, "bad sender byte {s:#04x}"),
            Self::BadMac => f.write_str("bad MAC"),
            Self::Replayed => f.write_str("replayed frame"),
            Self::FromSelf => f.write_str("frame from ourselves"),
            Self::BadPayload => f.write_str("bad payload"),
            Self::BadFraming => f.write_str("bad COBS framing"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for DecodeError {}

/// Why a frame could not be encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncodeError {
    /// The output buffer is smaller than the encoded frame (a buffer of
    /// [`super::MAX_FRAME_LEN`], or [`super::MAX_STREAM_FRAME_LEN`] for streams, always fits).
    BufferTooSmall,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("output buffer too small for the frame")
    }
}

#[cfg(feature = "std")]
impl std::error::Error for EncodeError {}
