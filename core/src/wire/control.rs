//! Control: requests and acknowledgements that move the active role on purpose.
//!
//! Every control message carries the epoch it is about, so a delayed or replayed
//! request from an earlier reign is recognisably stale.

use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use super::Digest;

/// A control message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub enum Control {
    /// Standby to active: "I intend to take over with `epoch`; stand down".
    TakeoverRequest {
        /// The new epoch the sender will hold.
        epoch: u64,
    },
    /// Active to standby: "I have stood down from the reign below `epoch`".
    TakeoverAck {
        /// The epoch of the request being acknowledged.
        epoch: u64,
    },
    /// Active to standby: "I am exporting; take over after my ack" (planned giveback).
    GivebackRequest {
        /// The epoch the active holds while giving back.
        epoch: u64,
    },
    /// Standby to active: "ready to take over from `epoch`".
    GivebackAck {
        /// The epoch of the giveback being acknowledged.
        epoch: u64,
    },
    /// Active to standby: "I became passive by request; you are free to take over".
    BecomePassive {
        /// The epoch the sender held.
        epoch: u64,
    },
    /// Host to own BMC (path L), or BMC to peer BMC (path B): cut the peer's enclosure
    /// ports, and reset its host when `reset_host` is set.
    FencePeer {
        /// The epoch on whose authority the fence is requested.
        epoch: u64,
        /// Also pulse the peer host's reset line.
        reset_host: bool,
    },
    /// Host to own BMC: lift the fence on the peer (after a giveback or repair).
    UnfencePeer {
        /// The epoch on whose authority the fence is lifted.
        epoch: u64,
    },
    /// Host to peer host, from an administrator's manual configuration sync (the
    /// reference's "sync to peer" / "sync from peer" troubleshooting buttons). An
    /// automatic push ([`super::ConfigChunk`]s from the active when the heartbeat digests
    /// differ) is applied only by a standby; this request is what lets an active apply a
    /// pushed configuration too, because an administrator asked for it.
    ///
    /// - `push: false` ("sync from peer"): "push me your shared configuration now,
    ///   whatever your role; I asked for it and will apply it". `digest` is the sender's
    ///   own configuration digest (for the receiver's logs).
    /// - `push: true` ("sync to peer"): "I am pushing my shared configuration, whose
    ///   digest is `digest`, now: apply that one even if you are active".
    ///
    /// Carries no epoch: it moves no role, only says which configuration an
    /// administrator wants on both controllers; a receiver honours it for a few seconds.
    SyncRequest {
        /// The digest of the sender's shared configuration (the one it pushes when
        /// `push` is set).
        digest: Digest,
        /// `true`: the sender pushes and asks the receiver to apply; `false`: the sender
        /// asks the receiver to push.
        push: bool,
    },
}
