//! Datagram framing: one frame per datagram (path H over UDP), and the core of every
//! other framing.
//!
//! A frame is `header (17 bytes) | payload (postcard) | tag (16 bytes)`, where
//!
//! ```text
//! tag = MAC(recipient_byte || header || payload)
//! ```
//!
//! and `recipient_byte` is [`Sender::to_byte`] of the station the frame is meant for.
//! The recipient is **bound into the MAC but never sent**: the receiver supplies its own
//! identity when it verifies. All four stations share one link key, so without this a
//! frame sent to one station could be replayed to another that has never seen it (host
//! A's `FencePeer` meant for BMC A delivered to host B, say) and pass both the MAC and
//! that station's replay check. Bound to its recipient, such a frame fails the MAC
//! anywhere else ([`DecodeError::BadMac`]: a receiver cannot tell "meant for someone
//! else" from "forged", and does not try). It costs no byte on the wire.
//!
//! Decoding checks, in this order: length, magic, version, kind, sender, MAC (for the
//! given recipient), payload (which must be the canonical encoding of the message it
//! decodes to, see [`Message`]). Nothing is parsed past the header before the MAC has
//! been verified.

use super::{DecodeError, EncodeError, HEADER_LEN, Header, MAX_FRAME_LEN, MacKey, Message, Sender, TAG_LEN};

/// An authenticated frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The header (its kind matches the message).
    pub header: Header,
    /// The message.
    pub message: Message,
}

/// Encode and authenticate `message` with `header` for `recipient` into `out`,
/// returning the frame length. Only `recipient` can verify the frame.
///
/// `header.kind` is ignored: the message determines it. Every other header field is
/// written as given, `header.version` included, so tests can forge frames of other
/// versions with it; [`super::Endpoint::seal`], which every station uses to send, always
/// writes [`super::version::CURRENT`].
pub fn encode_frame(
    key: &MacKey,
    header: &Header,
    message: &Message,
    recipient: Sender,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    let out = match out.get_mut(..MAX_FRAME_LEN) {
        Some(o) => o,
        None => out,
    };
    if out.len() < HEADER_LEN + TAG_LEN {
        return Err(EncodeError::BufferTooSmall);
    }
    let header = Header { kind: message.kind(), ..*header };
    let (head, rest) = out.split_at_mut(HEADER_LEN);
    let mut h = [0u8; HEADER_LEN];
    header.write(&mut h);
    head.copy_from_slice(&h);
    let room = rest.len() - TAG_LEN;
    let payload_len = message.encode_payload(&mut rest[..room]).ok_or(EncodeError::BufferTooSmall)?;
    let body_len = HEADER_LEN + payload_len;
    let tag = key.tag_parts(&[&[recipient.to_byte()], &out[..body_len]]);
    out[body_len..body_len + TAG_LEN].copy_from_slice(&tag);
    Ok(body_len + TAG_LEN)
}

/// Verify and decode one frame addressed to `recipient` (the receiving station's own
/// identity). A frame sealed for any other station is [`DecodeError::BadMac`]. This does
/// not check for replay; see [`super::Endpoint::open`], which does.
pub fn decode_frame(key: &MacKey, recipient: Sender, bytes: &[u8]) -> Result<Frame, DecodeError> {
    if bytes.len() > MAX_FRAME_LEN {
        return Err(DecodeError::Oversize);
    }
    let Some((head, rest)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::Truncated);
    };
    if rest.len() < TAG_LEN {
        // Report a foreign or mangled prefix for what it is before calling it short.
        Header::read(head)?;
        return Err(DecodeError::Truncated);
    }
    let header = Header::read(head)?;
    let body_len = bytes.len() - TAG_LEN;
    if !key.verify_parts(&[&[recipient.to_byte()], &bytes[..body_len]], &bytes[body_len..]) {
        return Err(DecodeError::BadMac);
    }
    let message = Message::decode_payload(header.kind, &bytes[HEADER_LEN..body_len])?;
    Ok(Frame { header, message })
}
