//! Datagram framing: one frame per datagram (path H over UDP), and the core of every
//! other framing.
//!
//! A frame is `header (17 bytes) | payload (postcard) | tag (16 bytes)`, where the tag
//! is the keyed MAC of everything before it. Decoding checks, in this order: length,
//! magic, version, kind, sender, MAC, payload. Nothing is parsed past the header before
//! the MAC has been verified.

use super::{DecodeError, EncodeError, HEADER_LEN, Header, MAX_FRAME_LEN, MacKey, Message, TAG_LEN};

/// An authenticated frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The header (its kind matches the message).
    pub header: Header,
    /// The message.
    pub message: Message,
}

/// Encode and authenticate `message` with `header` into `out`, returning the frame
/// length. `header.kind` is ignored: the message determines it.
pub fn encode_frame(
    key: &MacKey,
    header: &Header,
    message: &Message,
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
    let tag = key.tag(&out[..body_len]);
    out[body_len..body_len + TAG_LEN].copy_from_slice(&tag);
    Ok(body_len + TAG_LEN)
}

/// Verify and decode one frame. This does not check for replay; see
/// [`super::Endpoint::open`], which does.
pub fn decode_frame(key: &MacKey, bytes: &[u8]) -> Result<Frame, DecodeError> {
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
    if !key.verify(&bytes[..body_len], &bytes[body_len..]) {
        return Err(DecodeError::BadMac);
    }
    let message = Message::decode_payload(header.kind, &bytes[HEADER_LEN..body_len])?;
    Ok(Frame { header, message })
}
