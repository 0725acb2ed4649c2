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
/// and the next sequence number for their recipient; opens incoming frames addressed to
/// it, refusing replays and reflections.
///
/// - **Recipients.** Every frame is sealed for one recipient, bound into its MAC
///   ([`super::frame`]); [`Self::open`] verifies with this endpoint's own identity, so
///   only frames meant for this station open here. A frame of ours reflected back at us
///   was meant for someone else and fails the MAC; a frame claiming our identity and
///   addressed to us is refused as [`DecodeError::FromSelf`].
/// - **Sequence numbers** are kept per recipient (`next_seq[to.index()]`), so each
///   receiver sees a gap-free sequence and [`Freshness::InOrder`]'s `lost` counts only
///   frames that were sent to it.
/// - **Replay state** is per sender and shared by every path of the station, so a frame
///   replayed from one path onto another is refused too ([`super::replay`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    key: MacKey,
    me: Sender,
    boot_id: u32,
    /// The sequence number of the next frame to each recipient, by [`Sender::index`].
    next_seq: [u64; 4],
    replay: ReplayGuard,
}

impl Endpoint {
    /// An endpoint for `me`, in the boot identified by `boot_id`.
    ///
    /// Boot ids must be monotonic per sender: greater than every boot id this station
    /// used before (hosts: a persisted counter incremented at every start; BMCs: a
    /// counter in reset-surviving RAM). Receivers refuse a lower boot id as a replay
    /// until they have judged this station silent and forgotten it ([`super::replay`]).
    pub fn new(key: MacKey, me: Sender, boot_id: u32) -> Self {
        Self { key, me, boot_id, next_seq: [1; 4], replay: ReplayGuard::new() }
    }

    /// Who this endpoint sends as (and the recipient identity it opens frames with).
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

    /// The sequence number the next frame sealed for `to` will carry.
    pub fn next_seq(&self, to: Sender) -> u64 {
        self.next_seq[to.index()]
    }

    /// Encode `message` as the next frame for recipient `to` into `out` (a buffer of
    /// [`super::MAX_FRAME_LEN`] always fits) and return its length. Only `to` can open
    /// it. The header carries [`version::CURRENT`], this endpoint's identity and boot id,
    /// and `to`'s next sequence number, which is consumed only if encoding succeeds.
    pub fn seal(&mut self, message: &Message, to: Sender, out: &mut [u8]) -> Result<usize, EncodeError> {
        let seq = &mut self.next_seq[to.index()];
        let header = Header {
            version: version::CURRENT,
            kind: message.kind(),
            sender: self.me,
            boot_id: self.boot_id,
            seq: *seq,
        };
        let n = encode_frame(&self.key, &header, message, to, out)?;
        *seq = seq.saturating_add(1);
        Ok(n)
    }

    /// Verify (as the recipient: this endpoint's own identity), decode and replay-check
    /// one frame. Replay state changes only when the frame is accepted.
    pub fn open(&mut self, bytes: &[u8]) -> Result<Received, DecodeError> {
        let frame = decode_frame(&self.key, self.me, bytes)?;
        if frame.header.sender == self.me {
            return Err(DecodeError::FromSelf);
        }
        let freshness = self.replay.check(&frame.header)?;
        self.replay.accept(&frame.header);
        Ok(Received { header: frame.header, message: frame.message, freshness })
    }

    /// Forget `sender`'s replay state: its next frame is accepted as
    /// [`Freshness::First`] whatever its boot id. The state machine calls this once it
    /// has judged `sender` silent for the failover timeout, so that a sender whose boot
    /// counter went backwards (a BMC after a cold power-on) is heard again. Idempotent.
    /// See [`super::replay`] for what replay can still do afterwards.
    pub fn forget(&mut self, sender: Sender) {
        self.replay.forget(sender);
    }

    /// The replay state (for status reporting).
    pub fn replay(&self) -> &ReplayGuard {
        &self.replay
    }
}
