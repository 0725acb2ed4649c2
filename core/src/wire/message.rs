//! [`Message`]: one value of any message family, and its payload encoding.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use super::{
    BmcHeartbeat, ConfigChunk, Control, DecodeError, FenceReport, Heartbeat, KeyEscrowChunk, Kind, Relay,
};

/// Any message the protocol carries. The header's kind byte says which.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// A host's status and health.
    Heartbeat(Heartbeat),
    /// A BMC's view of its own host, for the peer BMC.
    BmcHeartbeat(BmcHeartbeat),
    /// A BMC's view of the peer, for its own host.
    Relay(Relay),
    /// A takeover / giveback / fence request or acknowledgement.
    Control(Control),
    /// One chunk of a configuration push.
    ConfigChunk(ConfigChunk),
    /// One encrypted chunk of an escrowed pool key.
    KeyEscrowChunk(KeyEscrowChunk),
    /// The outcome of a fence.
    FenceReport(FenceReport),
}

const fn max(a: usize, b: usize) -> usize {
    if a > b { a } else { b }
}

/// The largest payload any message kind can encode to.
pub const MAX_PAYLOAD_LEN: usize = max(
    max(
        max(Heartbeat::POSTCARD_MAX_SIZE, BmcHeartbeat::POSTCARD_MAX_SIZE),
        max(Relay::POSTCARD_MAX_SIZE, Control::POSTCARD_MAX_SIZE),
    ),
    max(
        max(ConfigChunk::POSTCARD_MAX_SIZE, KeyEscrowChunk::POSTCARD_MAX_SIZE),
        FenceReport::POSTCARD_MAX_SIZE,
    ),
);

impl Message {
    /// The kind byte that announces this message.
    pub const fn kind(&self) -> Kind {
        match self {
            Self::Heartbeat(_) => Kind::Heartbeat,
            Self::BmcHeartbeat(_) => Kind::BmcHeartbeat,
            Self::Relay(_) => Kind::Relay,
            Self::Control(_) => Kind::Control,
            Self::ConfigChunk(_) => Kind::ConfigChunk,
            Self::KeyEscrowChunk(_) => Kind::KeyEscrowChunk,
            Self::FenceReport(_) => Kind::FenceReport,
        }
    }

    /// Write the payload (postcard) into `out`; `None` if it does not fit.
    pub(crate) fn encode_payload(&self, out: &mut [u8]) -> Option<usize> {
        fn put<T: Serialize>(v: &T, out: &mut [u8]) -> Option<usize> {
            postcard::to_slice(v, out).ok().map(|s| s.len())
        }
        match self {
            Self::Heartbeat(m) => put(m, out),
            Self::BmcHeartbeat(m) => put(m, out),
            Self::Relay(m) => put(m, out),
            Self::Control(m) => put(m, out),
            Self::ConfigChunk(m) => put(m, out),
            Self::KeyEscrowChunk(m) => put(m, out),
            Self::FenceReport(m) => put(m, out),
        }
    }

    /// Parse a payload of `kind`. Trailing bytes are an error: a frame means one thing.
    ///
    /// So is any non-canonical encoding. postcard's decoder accepts over-long varints
    /// (`80 00` for 0, padded enum discriminants and `Vec` lengths), so one message would
    /// have several byte strings, each with a valid tag: a second implementation that
    /// refuses them would disagree with this one, and "same message" would not mean
    /// "same bytes". The decoded message is therefore encoded again (into a stack buffer
    /// of [`MAX_PAYLOAD_LEN`] bytes, no allocation) and accepted only if that reproduces
    /// `bytes` exactly; anything else is [`DecodeError::BadPayload`].
    pub(crate) fn decode_payload(kind: Kind, bytes: &[u8]) -> Result<Self, DecodeError> {
        fn take<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, DecodeError> {
            match postcard::take_from_bytes::<T>(bytes) {
                Ok((v, [])) => Ok(v),
                _ => Err(DecodeError::BadPayload),
            }
        }
        let message = match kind {
            Kind::Heartbeat => Self::Heartbeat(take(bytes)?),
            Kind::BmcHeartbeat => Self::BmcHeartbeat(take(bytes)?),
            Kind::Relay => Self::Relay(take(bytes)?),
            Kind::Control => Self::Control(take(bytes)?),
            Kind::ConfigChunk => Self::ConfigChunk(take(bytes)?),
            Kind::KeyEscrowChunk => Self::KeyEscrowChunk(take(bytes)?),
            Kind::FenceReport => Self::FenceReport(take(bytes)?),
        };
        let mut canonical = [0u8; MAX_PAYLOAD_LEN];
        match message.encode_payload(&mut canonical) {
            Some(n) if canonical[..n] == *bytes => Ok(message),
            _ => Err(DecodeError::BadPayload),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Control;

    #[test]
    fn only_the_canonical_encoding_decodes() {
        // Control::TakeoverRequest { epoch: 0 }
        assert_eq!(
            Message::decode_payload(Kind::Control, &[0x00, 0x00]),
            Ok(Message::Control(Control::TakeoverRequest { epoch: 0 }))
        );
        // The same message with an over-long epoch, or an over-long discriminant.
        assert_eq!(Message::decode_payload(Kind::Control, &[0x00, 0x80, 0x00]), Err(DecodeError::BadPayload));
        assert_eq!(Message::decode_payload(Kind::Control, &[0x80, 0x00, 0x00]), Err(DecodeError::BadPayload));
    }
}
