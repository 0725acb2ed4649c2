//! [`Endpoint`]: one station's sending identity and receiving replay state.

use super::{
    DecodeError, EncodeError, Freshness, Header, MacKey, Message, ReplayGuard, Sender, decode_frame,
    encode_frame, version,
};

/// A frame that passed every check, with how it relates to the sender's earlier ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    /// The frame's header.
    pub header: Header,
    /// The message.
    pub message: Message,
    /// First frame, next in order (with loss count), or a sender restart.
    pub freshness: Freshness,
}

/// A station's end of the protocol: seals outgoing frames with its identity, boot id
/// and next sequence number; opens incoming frames, refusing replays and reflections.
///
/// One endpoint serves every path of a station, so sequence numbers are shared across
/// paths and a frame replayed from one path onto another is refused too.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    key: MacKey,
    me: Sender,
    boot_id: u32,
    next_seq: u64,
    replay: ReplayGuard,
}

impl Endpoint {
    /// An endpoint for `me`, in the boot identified by `boot_id` (fresh at every start:
    /// random, or a persisted counter).
    pub fn new(key: MacKey, me: Sender, boot_id: u32) -> Self {
        Self { key, me, boot_id, next_seq: 1, replay: ReplayGuard::new() }
    }

    /// Who this endpoint sends as.
    pub fn sender(&self) -> Sender {
        self.me
    }

    /// This boot's id.
    pub fn boot_id(&self) -> u32 {
        self.boot_id
    }

    /// The link key.
    pub fn key(&self) -> &MacKey {
        &self.key
    }

    /// The sequence number the next sealed frame will carry.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Encode `message` as the next frame into `out` (a buffer of
    /// [`super::MAX_FRAME_LEN`] always fits) and return its length.
    pub fn seal(&mut self, message: &Message, out: &mut [u8]) -> Result<usize, EncodeError> {
        let header = Header {
            version: version::CURRENT,
            kind: message.kind(),
            sender: self.me,
            boot_id: self.boot_id,
            seq: self.next_seq,
        };
        let n = encode_frame(&self.key, &header, message, out)?;
        self.next_seq = self.next_seq.saturating_add(1);
        Ok(n)
    }

    /// Verify, decode and replay-check one frame. Replay state changes only when the
    /// frame is accepted.
    pub fn open(&mut self, bytes: &[u8]) -> Result<Received, DecodeError> {
        let frame = decode_frame(&self.key, bytes)?;
        if frame.header.sender == self.me {
            return Err(DecodeError::FromSelf);
        }
        let freshness = self.replay.check(&frame.header)?;
        self.replay.accept(&frame.header);
        Ok(Received { header: frame.header, message: frame.message, freshness })
    }

    /// The replay state (for status reporting).
    pub fn replay(&self) -> &ReplayGuard {
        &self.replay
    }
}
