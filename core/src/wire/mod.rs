//! The wire protocol: authenticated, versioned frames shared by every path.
//!
//! # Contract
//! - **Decoding never panics** on any byte string, of any length, on any path. Every
//!   rejection is a [`DecodeError`] naming what failed.
//! - **Encoding never panics**; into a buffer of [`MAX_FRAME_LEN`] bytes (or
//!   [`MAX_STREAM_FRAME_LEN`] for the byte-stream framing) it always succeeds.
//! - **Append-only**: message kinds, enum variants and struct fields are never
//!   reordered or removed; a new version only adds. Golden bytes for each version live
//!   in `core/tests/wire_vN.rs`.
//! - **Authenticated and addressed**: every frame ends in a 16-byte keyed BLAKE2s tag
//!   over the intended recipient's sender byte, the header and the payload ([`auth`],
//!   [`frame`]). The recipient is bound into the tag but never sent, so a frame opens only
//!   at the station it was sealed for. Nothing past the header is parsed before the tag
//!   verifies.
//! - **Canonical**: a frame means one thing. A payload must be exactly the encoding of the
//!   message it decodes to (no trailing bytes, no over-long varints), so one message has
//!   one byte string ([`Message`]).
//! - **Fresh**: [`Endpoint::open`] refuses replayed and reflected frames. Boot ids are
//!   monotonic per sender and sequence numbers strictly increase within a boot; a sender
//!   judged silent for the failover timeout is forgotten ([`Endpoint::forget`]) so it is
//!   heard again even if its boot counter went backwards ([`replay`]).
//! - **Versioned**: [`Endpoint::seal`] always sends [`version::CURRENT`];
//!   [`encode_frame`] writes whatever version its header says (tests forge other versions
//!   with it) and [`decode_frame`] accepts [`version::MIN`]..=[`version::CURRENT`].
//!
//! # Layout
//! `header (17 bytes, fixed) | payload (postcard) | tag (16 bytes)`, see [`header`], with
//! `tag = MAC(recipient_byte || header || payload)`, see [`frame`].
//! Message families, one file each: [`heartbeat`], [`relay`] (BMC), [`control`],
//! [`sync`] (configuration and key escrow), [`fence`].
//!
//! # Framings
//! UDP carries one frame per datagram ([`encode_frame`] / [`Endpoint::open`]); UARTs
//! carry COBS-delimited frames ([`stream`]).

pub mod auth;
pub mod control;
pub mod digest;
pub mod endpoint;
pub mod error;
pub mod fence;
pub mod frame;
pub mod header;
pub mod heartbeat;
pub mod message;
pub mod relay;
pub mod replay;
pub mod stream;
pub mod sync;

pub use auth::{MacKey, TAG_LEN};
pub use control::Control;
pub use digest::Digest;
pub use endpoint::{Endpoint, Received};
pub use error::{DecodeError, EncodeError};
pub use fence::{FenceMethod, FenceOutcome, FenceReport};
pub use frame::{Frame, decode_frame, encode_frame};
pub use header::{Controller, HEADER_LEN, Header, Kind, MAGIC, Sender, Station, version};
pub use heartbeat::{FencingState, GroupState, Health, Heartbeat, MAX_GROUPS, SoftwareVersion};
pub use message::{MAX_PAYLOAD_LEN, Message};
pub use relay::{AGE_NEVER, BmcHeartbeat, HostLiveness, Relay};
pub use replay::{Freshness, ReplayGuard};
pub use stream::{MAX_STREAM_FRAME_LEN, StreamDecoder, encode_stream_frame};
pub use sync::{CONFIG_CHUNK_LEN, ConfigChunk, EscrowError, EscrowKey, KEY_CHUNK_LEN, KeyEscrowChunk};

/// The largest frame on any path, in bytes. Small enough for one UART burst and for a
/// stack buffer on the BMC; large enough for the largest message (checked below).
pub const MAX_FRAME_LEN: usize = 256;

const _: () = assert!(
    HEADER_LEN + MAX_PAYLOAD_LEN + TAG_LEN <= MAX_FRAME_LEN,
    "a message kind can outgrow MAX_FRAME_LEN"
);
