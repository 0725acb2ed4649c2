//! Shared fixtures and oracles for the `failover-core` fuzz targets and the seed
//! corpus generator (`examples/gen_corpus.rs`).
//!
//! Everything here is deterministic: one fixed link key, one fixed receiving identity
//! (every frame the targets and seeds build is addressed to it: the recipient is bound
//! into the MAC), and a fixed set of sample messages covering every message kind.

use failover_core::status::{DisabledReason, DisabledReasons, Status};
use failover_core::wire::{
    AGE_NEVER, BmcHeartbeat, ConfigChunk, Control, Controller, DecodeError, Digest, EscrowKey, FenceMethod,
    FenceOutcome, FenceReport, FencingState, Frame, GroupState, HEADER_LEN, Header, Health, Heartbeat,
    HostLiveness, MAGIC, MAX_FRAME_LEN, MAX_GROUPS, MacKey, Message, Relay, Sender, SoftwareVersion, Station,
    TAG_LEN, decode_frame, encode_frame, version,
};

/// The fixed link key every target and seed uses.
pub const KEY: [u8; 32] = *b"failover-core fuzz link key 0001";

/// The identity of the receiving endpoint in the targets (controller A's host), and the
/// recipient every frame here is sealed for.
pub const RECEIVER: Sender = Sender::new(Controller::A, Station::Host);

/// The usual peer (controller B's host).
pub const PEER: Sender = Sender::new(Controller::B, Station::Host);

/// The fixed link key.
pub fn key() -> MacKey {
    MacKey::new(KEY)
}

/// Largest payload that still fits a frame.
pub const MAX_PAYLOAD_IN_FRAME: usize = MAX_FRAME_LEN - HEADER_LEN - TAG_LEN;

/// A realistic heartbeat: active controller, two critical groups, two pools.
pub fn heartbeat_2x2() -> Heartbeat {
    let mut groups = heapless::Vec::new();
    groups.push(GroupState { group: 1, up: 2, total: 2 }).expect("room for 2 groups");
    groups.push(GroupState { group: 2, up: 1, total: 2 }).expect("room for 2 groups");
    Heartbeat {
        status: Status::Master,
        epoch: 42,
        interval_ms: 500,
        disabled: DisabledReasons::NONE,
        health: Health {
            groups,
            pools_imported: 2,
            pools_total: 2,
            fencing: FencingState::Holding,
            config_digest: Digest::of(b"config v7"),
            disk_set_digest: Digest::of_parts([b"5000c500a1b2c3d4".as_slice(), b"5000c500a1b2c3d5"]),
            version: SoftwareVersion { major: 1, minor: 4, patch: 2 },
        },
    }
}

/// The largest heartbeat: every group slot used, every field at its widest varint.
pub fn heartbeat_max() -> Heartbeat {
    let mut groups = heapless::Vec::new();
    for g in 0..MAX_GROUPS {
        groups.push(GroupState { group: 255 - g as u8, up: 255, total: 255 }).expect("MAX_GROUPS fit");
    }
    let mut disabled = DisabledReasons::from_bits(u32::MAX);
    disabled.insert(DisabledReason::AdminDisabled);
    Heartbeat {
        status: Status::Single,
        epoch: u64::MAX,
        interval_ms: u32::MAX,
        disabled,
        health: Health {
            groups,
            pools_imported: u16::MAX,
            pools_total: u16::MAX,
            fencing: FencingState::Fenced,
            config_digest: Digest([0xff; 8]),
            disk_set_digest: Digest([0; 8]),
            version: SoftwareVersion { major: 255, minor: 255, patch: 255 },
        },
    }
}

/// Sample messages of every kind (and every enum variant where cheap), named.
pub fn sample_messages() -> Vec<(&'static str, Message)> {
    let mut standby = heartbeat_2x2();
    standby.status = Status::Backup;
    standby.health.groups.clear();
    standby.health.pools_imported = 0;
    standby.health.fencing = FencingState::Ready;
    standby.disabled =
        DisabledReasons::NONE.with(DisabledReason::NoPeer).with(DisabledReason::ConfigMismatch);

    let escrow = EscrowKey::derive(&key(), PEER);
    let key_chunk =
        escrow.seal(0x1122_3344_5566_7788, 32, 0, [9; 12], &[0xA5; 32]).expect("32-byte key chunk fits");
    let full_key_chunk = escrow.seal(u64::MAX, 64, 0, [0xff; 12], &[0; 64]).expect("64-byte chunk fits");

    let mut config = ConfigChunk {
        digest: Digest::of(b"config v7"),
        total_len: 300,
        offset: 160,
        data: heapless::Vec::new(),
    };
    config.data.extend_from_slice(&[b'x'; 140]).expect("140 bytes fit");
    let mut config_full = config.clone();
    config_full.offset = 0;
    config_full.data.clear();
    config_full.data.extend_from_slice(&[0; 160]).expect("160 bytes fit");

    vec![
        ("heartbeat_active", Message::Heartbeat(heartbeat_2x2())),
        ("heartbeat_standby", Message::Heartbeat(standby)),
        ("heartbeat_max", Message::Heartbeat(heartbeat_max())),
        (
            "bmc_heartbeat",
            Message::BmcHeartbeat(BmcHeartbeat {
                host: HostLiveness::Alive,
                host_age_ms: 120,
                host_status: Status::Master,
                host_epoch: 42,
                fencing_peer: false,
            }),
        ),
        (
            "bmc_heartbeat_hung",
            Message::BmcHeartbeat(BmcHeartbeat {
                host: HostLiveness::Hung,
                host_age_ms: AGE_NEVER,
                host_status: Status::Error,
                host_epoch: u64::MAX,
                fencing_peer: true,
            }),
        ),
        (
            "relay",
            Message::Relay(Relay {
                peer_bmc_alive: true,
                peer_bmc_age_ms: 80,
                peer_host: HostLiveness::Dead,
                peer_host_age_ms: AGE_NEVER,
                peer_host_status: Status::Importing,
                peer_host_epoch: 41,
            }),
        ),
        ("control_takeover_request", Message::Control(Control::TakeoverRequest { epoch: 43 })),
        ("control_takeover_ack", Message::Control(Control::TakeoverAck { epoch: 43 })),
        ("control_giveback_request", Message::Control(Control::GivebackRequest { epoch: 43 })),
        ("control_giveback_ack", Message::Control(Control::GivebackAck { epoch: 43 })),
        ("control_become_passive", Message::Control(Control::BecomePassive { epoch: 43 })),
        ("control_fence_peer", Message::Control(Control::FencePeer { epoch: 44, reset_host: true })),
        ("control_unfence_peer", Message::Control(Control::UnfencePeer { epoch: 45 })),
        (
            "control_sync_request",
            Message::Control(Control::SyncRequest { digest: Digest::of(b"config v7"), push: true }),
        ),
        ("config_chunk", Message::ConfigChunk(config)),
        ("config_chunk_full", Message::ConfigChunk(config_full)),
        ("key_escrow_chunk", Message::KeyEscrowChunk(key_chunk)),
        ("key_escrow_chunk_full", Message::KeyEscrowChunk(full_key_chunk)),
        (
            "fence_report",
            Message::FenceReport(FenceReport {
                epoch: 44,
                target: Controller::B,
                method: FenceMethod::Reservation,
                outcome: FenceOutcome::Done,
                done: 24,
                total: 24,
                elapsed_ms: 310,
            }),
        ),
        (
            "fence_report_partial",
            Message::FenceReport(FenceReport {
                epoch: 44,
                target: Controller::A,
                method: FenceMethod::HostReset,
                outcome: FenceOutcome::Partial,
                done: 1,
                total: u16::MAX,
                elapsed_ms: u32::MAX,
            }),
        ),
    ]
}

/// A current-version header from `sender`.
pub fn header(sender: Sender, boot_id: u32, seq: u64) -> Header {
    Header { version: version::CURRENT, kind: failover_core::wire::Kind::Heartbeat, sender, boot_id, seq }
}

/// Encode `message` as a frame for [`RECEIVER`] (panics if it does not fit: every
/// message must).
pub fn frame_bytes(header: &Header, message: &Message) -> Vec<u8> {
    let mut out = [0u8; MAX_FRAME_LEN];
    let n =
        encode_frame(&key(), header, message, RECEIVER, &mut out).expect("every message fits MAX_FRAME_LEN");
    out[..n].to_vec()
}

/// The tag of a frame body (`header | payload`) for [`RECEIVER`]: the keyed MAC of the
/// recipient byte followed by the body.
pub fn tag_for_receiver(key: &MacKey, body: &[u8]) -> [u8; TAG_LEN] {
    key.tag_parts(&[&[RECEIVER.to_byte()], body])
}

/// The raw 17 header bytes, built by hand from the documented layout (independent of
/// the crate's own writer), with an arbitrary `kind` byte.
pub fn raw_header(kind: u8, sender: u8, boot_id: u32, seq: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..2].copy_from_slice(&MAGIC);
    h[2] = version::CURRENT;
    h[3] = kind;
    h[4] = sender;
    h[5..9].copy_from_slice(&boot_id.to_le_bytes());
    h[9..17].copy_from_slice(&seq.to_le_bytes());
    h
}

/// The oracle for every successful decode: re-encoding the decoded frame (for
/// [`RECEIVER`]) must give back exactly the bytes that were decoded ("a frame means one
/// thing"). Strict: no non-canonical form is tolerated (the over-long varints postcard
/// accepts are refused by `decode_frame` since the canonical-encoding check).
pub fn check_reencodes(key: &MacKey, frame: &Frame, original: &[u8]) {
    assert_eq!(frame.header.kind, frame.message.kind(), "header kind disagrees with the message");
    let mut out = [0u8; MAX_FRAME_LEN];
    let n = encode_frame(key, &frame.header, &frame.message, RECEIVER, &mut out)
        .expect("a decoded frame must re-encode into MAX_FRAME_LEN");
    let again = &out[..n];
    let redecoded = decode_frame(key, RECEIVER, again).expect("a re-encoded frame must decode");
    assert_eq!(&redecoded, frame, "re-encoded frame decodes to something else");
    if again == original {
        return;
    }
    panic!(
        "decoded frame does not re-encode identically\n original   ({} bytes) {original:02x?}\n re-encoded ({} bytes) {again:02x?}\n frame {frame:?}",
        original.len(),
        again.len()
    );
}

/// Errors `decode_frame` may return (the replay and framing ones belong to other layers).
pub fn is_frame_error(e: DecodeError) -> bool {
    !matches!(e, DecodeError::Replayed | DecodeError::FromSelf | DecodeError::BadFraming)
}

/// Layout of a `stream_decode` input: `[n][n chunk sizes][stream bytes]` where
/// `n = (first byte % 8) + 1`. Returns (chunk sizes, stream bytes).
pub fn split_stream_input(data: &[u8]) -> (&[u8], &[u8]) {
    let Some((&first, rest)) = data.split_first() else {
        return (&[], &[]);
    };
    let n = (usize::from(first) % 8 + 1).min(rest.len());
    rest.split_at(n)
}

/// Build a `stream_decode` input from chunk sizes (1..=8 of them) and stream bytes.
pub fn stream_input(sizes: &[u8], stream: &[u8]) -> Vec<u8> {
    assert!((1..=8).contains(&sizes.len()));
    let mut v = vec![(sizes.len() - 1) as u8];
    v.extend_from_slice(sizes);
    v.extend_from_slice(stream);
    v
}

/// Layout of a `payload_decode` input: `[kind selector][sender selector][payload]`.
/// The kind byte is `selector % 8` (0 is not a kind: it must be refused), the sender
/// byte is `selector % 5` (4 has a reserved bit set: it must be refused).
pub fn split_payload_input(data: &[u8]) -> Option<(u8, u8, &[u8])> {
    let (&k, rest) = data.split_first()?;
    let (&s, payload) = rest.split_first()?;
    Some((k % 8, s % 5, payload))
}
