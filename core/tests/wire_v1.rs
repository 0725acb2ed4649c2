//! Golden byte vectors for wire protocol version 1.
//!
//! If this fails, do not edit the vector: you broke the wire.
//!
//! The protocol is append-only (see `core/src/wire/mod.rs`): message kinds, enum variants
//! and struct fields are never renumbered, reordered or removed, and a new version only
//! adds. Controllers and BMCs in the field run different builds during a rolling upgrade
//! (and BMC firmware is updated far less often than the host), so every byte below is a
//! promise to a peer that already shipped. A change that makes one of these vectors fail
//! changes what version 1 means on the wire; instead, add the new thing (a new kind, a new
//! variant at the end, a new version) and add vectors for it, here for version 1 or in a
//! new `wire_vN.rs`.
//!
//! Every vector is a whole frame as `encode_frame` produces it:
//! `header (17 bytes) | payload (postcard) | tag (16 bytes)`. The header is laid out by
//! hand (`header.rs`); the payload is postcard: unsigned integers (u16, u32, u64) are
//! LEB128 varints (7 bits a byte, least significant group first, high bit = "more"), `u8`
//! is one raw byte, `bool` one byte (0 or 1), an enum is its variant index as a varint
//! followed by the variant's fields, a struct is its fields in declaration order with
//! nothing around them, a `heapless::Vec` is a varint length then its items, and a fixed
//! array (`[u8; N]`, `Digest`) is its raw bytes with no length. The tag is the keyed
//! BLAKE2s-128, under [`MAC_KEY`], of the recipient's sender byte followed by everything
//! before the tag: `MAC(recipient || header || payload)`. The recipient byte is bound into
//! the tag but is not on the wire; every vector is addressed to [`RECIPIENT`] (A's host,
//! byte 0x00), and [`tag_is_the_mac_of_the_recipient_byte_then_the_frame`] checks that it
//! opens nowhere else. (Cross-check of any tag: Python's
//! `hashlib.blake2s(bytes([0x00]) + frame[:-16], key=bytes(range(32)), digest_size=16)`.)
//!
//! Each test checks both directions: encoding the value gives exactly the vector, and
//! decoding the vector gives back the value and the header. [`golden`] and
//! [`control_vector`] match exhaustively, so a new message kind or a new `Control`
//! variant does not compile until it has a vector here.

use failover_core::status::{DisabledReason, DisabledReasons, Status};
use failover_core::wire::{
    AGE_NEVER, BmcHeartbeat, ConfigChunk, Control, Controller, DecodeError, Digest, EscrowKey, FenceMethod,
    FenceOutcome, FenceReport, FencingState, GroupState, HEADER_LEN, Header, Health, Heartbeat, HostLiveness,
    KeyEscrowChunk, Kind, MAX_FRAME_LEN, MAX_GROUPS, MacKey, Message, Relay, Sender, SoftwareVersion,
    Station, TAG_LEN, decode_frame, encode_frame, version,
};
use heapless::Vec;

// ---------------------------------------------------------------------------------------
// Fixed inputs
// ---------------------------------------------------------------------------------------

/// The link key of every vector: the bytes 0x00, 0x01, .., 0x1F.
const MAC_KEY: [u8; 32] = [
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1D, 0x1E, 0x1F,
];

/// The protocol version these vectors pin. Deliberately not `version::CURRENT`: when a
/// version 2 exists, version 1 frames must still encode and decode exactly like this.
const V1: u8 = 1;

const _: () = assert!(version::MIN <= V1 && V1 <= version::CURRENT, "version 1 frames must still decode");

/// The sender of every vector: controller B's host (header byte 0x01). The frame layer
/// does not tie kinds to senders; one sender keeps the vectors comparable, and
/// [`header_layout_is_as_documented`] covers the other three.
const SENDER: Sender = Sender::new(Controller::B, Station::Host);

/// The recipient of every vector: controller A's host (sender byte 0x00), the peer of
/// [`SENDER`] on the host link. Bound into the tag, not written on the wire.
const RECIPIENT: Sender = Sender::new(Controller::A, Station::Host);

/// Boot id of every vector; its four bytes are distinct so the byte order shows.
const BOOT_ID: u32 = 0x0A0B_0C0D;

/// Sequence number of every vector; its eight bytes are distinct so the byte order shows.
const SEQ: u64 = 0x0102_0304_0506_0708;

fn key() -> MacKey {
    MacKey::new(MAC_KEY)
}

fn header(kind: Kind) -> Header {
    Header { version: V1, kind, sender: SENDER, boot_id: BOOT_ID, seq: SEQ }
}

// ---------------------------------------------------------------------------------------
// Sample values
// ---------------------------------------------------------------------------------------

/// The configuration digest the heartbeats and the config chunk carry.
const CONFIG_DIGEST: Digest = Digest([0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7]);
/// The disk-set digest the heartbeats carry.
const DISK_SET_DIGEST: Digest = Digest([0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7]);
/// The software version the heartbeats carry.
const SOFTWARE: SoftwareVersion = SoftwareVersion { major: 1, minor: 4, patch: 2 };

/// Failover group 1: both of its two interfaces up.
const GROUP_1_UP: GroupState = GroupState { group: 1, up: 2, total: 2 };
/// Failover group 1: both of its two interfaces down.
const GROUP_1_DOWN: GroupState = GroupState { group: 1, up: 0, total: 2 };
/// Failover group 2: one of its two interfaces up.
const GROUP_2_DEGRADED: GroupState = GroupState { group: 2, up: 1, total: 2 };

fn groups(items: &[GroupState]) -> Vec<GroupState, MAX_GROUPS> {
    Vec::from_slice(items).expect("at most MAX_GROUPS groups")
}

fn reasons(items: &[DisabledReason]) -> DisabledReasons {
    items.iter().fold(DisabledReasons::NONE, |set, r| set.with(*r))
}

/// The heartbeat vector for each status (one per status, so a new status needs a vector):
/// a healthy standby, changed where the status calls for it.
fn heartbeat(status: Status) -> Heartbeat {
    let mut hb = Heartbeat {
        status,
        epoch: 300,
        interval_ms: 1000,
        disabled: DisabledReasons::NONE,
        health: Health {
            groups: groups(&[GROUP_1_UP]),
            pools_imported: 0,
            pools_total: 3,
            fencing: FencingState::Ready,
            config_digest: CONFIG_DIGEST,
            disk_set_digest: DISK_SET_DIGEST,
            version: SOFTWARE,
        },
    };
    match status {
        Status::Master => {
            hb.health.groups = groups(&[GROUP_1_UP, GROUP_2_DEGRADED]);
            hb.health.pools_imported = 3;
            hb.health.fencing = FencingState::Holding;
        }
        Status::Backup => {}
        Status::Electing => {
            hb.epoch = 0;
            hb.disabled = reasons(&[DisabledReason::NoPeer]);
            hb.health.groups = groups(&[]);
        }
        Status::Importing => {
            hb.epoch = 301;
            hb.disabled = reasons(&[DisabledReason::LocalFailoverInProgress]);
            hb.health.groups = groups(&[GROUP_1_UP, GROUP_2_DEGRADED]);
            hb.health.pools_imported = 1;
            hb.health.fencing = FencingState::Holding;
        }
        Status::Error => {
            hb.disabled = reasons(&[DisabledReason::DiskSetMismatch]);
            hb.health.groups = groups(&[GROUP_1_DOWN]);
            hb.health.fencing = FencingState::Fenced;
        }
        Status::Single => {
            hb.epoch = 7;
            hb.interval_ms = 2000;
            hb.disabled = reasons(&[
                DisabledReason::AdminDisabled,
                DisabledReason::NoPeer,
                DisabledReason::FencingUnavailable,
                DisabledReason::RemoteFailoverInProgress,
            ]);
            hb.health.groups = groups(&[]);
            hb.health.pools_total = 0;
            hb.health.fencing = FencingState::Unavailable;
        }
    }
    hb
}

/// The BMC heartbeat vector for each host liveness.
fn bmc_heartbeat(host: HostLiveness) -> BmcHeartbeat {
    let (host_age_ms, host_status, host_epoch, fencing_peer) = match host {
        HostLiveness::Unknown => (AGE_NEVER, Status::Electing, 0, false),
        HostLiveness::Alive => (120, Status::Master, 300, false),
        HostLiveness::Hung => (4500, Status::Master, 300, false),
        HostLiveness::Dead => (60_000, Status::Backup, 299, true),
    };
    BmcHeartbeat { host, host_age_ms, host_status, host_epoch, fencing_peer }
}

/// The relay vector: the peer BMC is alive and reports its host hung.
fn relay() -> Relay {
    Relay {
        peer_bmc_alive: true,
        peer_bmc_age_ms: 80,
        peer_host: HostLiveness::Hung,
        peer_host_age_ms: 4580,
        peer_host_status: Status::Master,
        peer_host_epoch: 300,
    }
}

/// The configuration chunk vector: the last 8 bytes of a 168-byte configuration.
fn config_chunk() -> ConfigChunk {
    ConfigChunk {
        digest: CONFIG_DIGEST,
        total_len: 168,
        offset: 160,
        data: Vec::from_slice(b"mode=ha\n").expect("fits a chunk"),
    }
}

/// The pool GUID of the escrow vector (nine bytes as a varint).
const POOL_GUID: u64 = 0x1234_5678_9ABC_DEF0;

/// The pool key of the escrow vector: 0x80, 0x81, .., 0x9F.
fn pool_key() -> [u8; 32] {
    core::array::from_fn(|i| 0x80 + i as u8)
}

/// The escrow nonce: boot id then sequence number, both little endian, as `sync.rs`
/// tells senders to build it.
fn escrow_nonce() -> [u8; 12] {
    let mut nonce = [0u8; 12];
    nonce[..4].copy_from_slice(&BOOT_ID.to_le_bytes());
    nonce[4..].copy_from_slice(&SEQ.to_le_bytes());
    nonce
}

/// The key escrow vector: the whole 32-byte pool key in one chunk, sealed with the escrow
/// key derived from [`MAC_KEY`] for the sender ([`SENDER`]: escrow keys are per sender).
/// This pins the escrow key derivation and the AEAD too.
fn key_escrow_chunk() -> KeyEscrowChunk {
    EscrowKey::derive(&key(), SENDER)
        .seal(POOL_GUID, 32, 0, escrow_nonce(), &pool_key())
        .expect("a key fits a chunk")
}

/// The fence report vector for each outcome.
fn fence_report(outcome: FenceOutcome) -> FenceReport {
    let (epoch, target, method, done, total, elapsed_ms) = match outcome {
        FenceOutcome::Done => (301, Controller::A, FenceMethod::Reservation, 12, 12, 850),
        FenceOutcome::Partial => (301, Controller::B, FenceMethod::Enclosure, 3, 4, 120),
        FenceOutcome::Failed => (301, Controller::A, FenceMethod::HostReset, 0, 1, 5000),
        FenceOutcome::Lifted => (302, Controller::A, FenceMethod::Enclosure, 4, 4, 40),
    };
    FenceReport { epoch, target, method, outcome, done, total, elapsed_ms }
}

/// One control message per variant.
const CONTROLS: [Control; 8] = [
    Control::TakeoverRequest { epoch: 301 },
    Control::TakeoverAck { epoch: 301 },
    Control::GivebackRequest { epoch: 301 },
    Control::GivebackAck { epoch: 301 },
    Control::BecomePassive { epoch: 301 },
    Control::FencePeer { epoch: 302, reset_host: true },
    Control::UnfencePeer { epoch: 302 },
    Control::SyncRequest { digest: CONFIG_DIGEST, push: true },
];

const STATUSES: [Status; 6] =
    [Status::Master, Status::Backup, Status::Electing, Status::Importing, Status::Error, Status::Single];
const LIVENESSES: [HostLiveness; 4] =
    [HostLiveness::Unknown, HostLiveness::Alive, HostLiveness::Hung, HostLiveness::Dead];
const OUTCOMES: [FenceOutcome; 4] =
    [FenceOutcome::Done, FenceOutcome::Partial, FenceOutcome::Failed, FenceOutcome::Lifted];
const FENCING_STATES: [FencingState; 4] =
    [FencingState::Unavailable, FencingState::Ready, FencingState::Holding, FencingState::Fenced];
const FENCE_METHODS: [FenceMethod; 3] =
    [FenceMethod::Reservation, FenceMethod::Enclosure, FenceMethod::HostReset];

/// Every sample that has a vector.
fn all_samples() -> std::vec::Vec<Message> {
    let mut all = std::vec::Vec::new();
    all.extend(STATUSES.map(|s| Message::Heartbeat(heartbeat(s))));
    all.extend(LIVENESSES.map(|h| Message::BmcHeartbeat(bmc_heartbeat(h))));
    all.push(Message::Relay(relay()));
    all.extend(CONTROLS.map(Message::Control));
    all.push(Message::ConfigChunk(config_chunk()));
    all.push(Message::KeyEscrowChunk(key_escrow_chunk()));
    all.extend(OUTCOMES.map(|o| Message::FenceReport(fence_report(o))));
    all
}

// ---------------------------------------------------------------------------------------
// Which vector belongs to which value (exhaustive: no wildcard arms)
// ---------------------------------------------------------------------------------------

/// The golden frame of `message`. Adding a message kind (or a status, host liveness or
/// fence outcome, which select among a family's vectors) does not compile until the new
/// value has a vector.
fn golden(message: &Message) -> &'static [u8] {
    match message {
        Message::Heartbeat(hb) => match hb.status {
            Status::Master => HEARTBEAT_MASTER,
            Status::Backup => HEARTBEAT_BACKUP,
            Status::Electing => HEARTBEAT_ELECTING,
            Status::Importing => HEARTBEAT_IMPORTING,
            Status::Error => HEARTBEAT_ERROR,
            Status::Single => HEARTBEAT_SINGLE,
        },
        Message::BmcHeartbeat(b) => match b.host {
            HostLiveness::Unknown => BMC_HEARTBEAT_UNKNOWN,
            HostLiveness::Alive => BMC_HEARTBEAT_ALIVE,
            HostLiveness::Hung => BMC_HEARTBEAT_HUNG,
            HostLiveness::Dead => BMC_HEARTBEAT_DEAD,
        },
        Message::Relay(_) => RELAY,
        Message::Control(c) => control_vector(c),
        Message::ConfigChunk(_) => CONFIG_CHUNK,
        Message::KeyEscrowChunk(_) => KEY_ESCROW_CHUNK,
        Message::FenceReport(r) => match r.outcome {
            FenceOutcome::Done => FENCE_REPORT_DONE,
            FenceOutcome::Partial => FENCE_REPORT_PARTIAL,
            FenceOutcome::Failed => FENCE_REPORT_FAILED,
            FenceOutcome::Lifted => FENCE_REPORT_LIFTED,
        },
    }
}

/// The golden frame of each control variant.
fn control_vector(control: &Control) -> &'static [u8] {
    match control {
        Control::TakeoverRequest { .. } => CONTROL_TAKEOVER_REQUEST,
        Control::TakeoverAck { .. } => CONTROL_TAKEOVER_ACK,
        Control::GivebackRequest { .. } => CONTROL_GIVEBACK_REQUEST,
        Control::GivebackAck { .. } => CONTROL_GIVEBACK_ACK,
        Control::BecomePassive { .. } => CONTROL_BECOME_PASSIVE,
        Control::FencePeer { .. } => CONTROL_FENCE_PEER,
        Control::UnfencePeer { .. } => CONTROL_UNFENCE_PEER,
        Control::SyncRequest { .. } => CONTROL_SYNC_REQUEST,
    }
}

/// The kind byte of each kind, as `header.rs` numbers them.
fn kind_byte(kind: Kind) -> u8 {
    match kind {
        Kind::Heartbeat => 1,
        Kind::BmcHeartbeat => 2,
        Kind::Relay => 3,
        Kind::Control => 4,
        Kind::ConfigChunk => 5,
        Kind::KeyEscrowChunk => 6,
        Kind::FenceReport => 7,
    }
}

/// The sender byte of each sender: bit 0 the controller, bit 1 the station.
fn sender_byte(sender: Sender) -> u8 {
    match (sender.controller, sender.station) {
        (Controller::A, Station::Host) => 0b00,
        (Controller::B, Station::Host) => 0b01,
        (Controller::A, Station::Bmc) => 0b10,
        (Controller::B, Station::Bmc) => 0b11,
    }
}

/// Which fence outcome's vector carries each fence method.
fn fence_method_witness(method: FenceMethod) -> FenceOutcome {
    match method {
        FenceMethod::Reservation => FenceOutcome::Done,
        FenceMethod::Enclosure => FenceOutcome::Partial,
        FenceMethod::HostReset => FenceOutcome::Failed,
    }
}

/// Which fence outcome's vector carries each target controller.
fn fence_target_witness(target: Controller) -> FenceOutcome {
    match target {
        Controller::A => FenceOutcome::Done,
        Controller::B => FenceOutcome::Partial,
    }
}

/// Which status's heartbeat vector carries each fencing state.
fn fencing_state_witness(fencing: FencingState) -> Status {
    match fencing {
        FencingState::Unavailable => Status::Single,
        FencingState::Ready => Status::Backup,
        FencingState::Holding => Status::Master,
        FencingState::Fenced => Status::Error,
    }
}

// ---------------------------------------------------------------------------------------
// The check
// ---------------------------------------------------------------------------------------

/// Encoding `message` gives exactly its golden frame, and decoding the golden frame gives
/// back `message` with the fixed header.
fn check(message: Message) {
    let want = golden(&message);
    let mut buf = [0u8; MAX_FRAME_LEN];
    let n = encode_frame(&key(), &header(message.kind()), &message, RECIPIENT, &mut buf).expect("encodes");
    let got = &buf[..n];
    assert!(
        got == want,
        "{message:?} no longer encodes to its v1 vector: you broke the wire\n got: {got:02X?}\nwant: {want:02X?}"
    );

    let frame = decode_frame(&key(), RECIPIENT, want).expect("the v1 vector decodes");
    assert_eq!(frame.header, header(message.kind()), "header of the v1 vector");
    assert_eq!(frame.message, message, "message of the v1 vector");
}

// ---------------------------------------------------------------------------------------
// Header
// ---------------------------------------------------------------------------------------

const _: () = assert!(HEADER_LEN == 17 && TAG_LEN == 16, "header and tag lengths are part of v1");

#[test]
fn header_layout_is_as_documented() {
    for sender in Sender::ALL {
        let s = sender_byte(sender);
        let head = Header { sender, ..header(Kind::Control) };
        let message = Message::Control(Control::TakeoverRequest { epoch: 301 });
        let mut buf = [0u8; MAX_FRAME_LEN];
        let n = encode_frame(&key(), &head, &message, RECIPIENT, &mut buf).expect("encodes");
        #[rustfmt::skip]
        let want: [u8; HEADER_LEN] = [
            0xFA, 0x11,             // offset 0: magic
            0x01,                   // offset 2: protocol version 1
            0x04,                   // offset 3: kind 4 = Control
            s,                      // offset 4: sender (bit 0 controller, bit 1 BMC)
            0x0D, 0x0C, 0x0B, 0x0A, // offset 5: boot id 0x0A0B_0C0D, u32 little endian
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // offset 9: seq 0x0102_0304_0506_0708, u64 LE
        ];
        assert_eq!(buf[..HEADER_LEN], want, "header of a frame from {sender}");
        assert_eq!(n, HEADER_LEN + 3 + TAG_LEN, "header | 3-byte payload | tag");
        assert_eq!(Sender::from_byte(s), Some(sender));
        let frame = decode_frame(&key(), RECIPIENT, &buf[..n]).expect("decodes");
        assert_eq!(frame.header, head);
    }
    assert_eq!(Sender::ALL.map(sender_byte), [0, 1, 2, 3], "Sender::ALL is in byte order");

    for kind in Kind::ALL {
        assert_eq!(kind as u8, kind_byte(kind), "kind numbers are append-only");
        assert_eq!(Kind::from_byte(kind_byte(kind)), Some(kind));
    }
}

#[test]
fn every_vector_starts_with_the_v1_header_and_its_kind() {
    let samples = all_samples();
    assert_eq!(samples.len(), 6 + 4 + 1 + 8 + 1 + 1 + 4);
    for message in &samples {
        let frame = golden(message);
        let kind = kind_byte(message.kind());
        #[rustfmt::skip]
        let want: [u8; HEADER_LEN] = [
            0xFA, 0x11,             // magic
            V1,                     // version 1
            kind,                   // the message's kind
            sender_byte(SENDER),    // 0x01: B host
            0x0D, 0x0C, 0x0B, 0x0A, // boot id (u32 LE)
            0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq (u64 LE)
        ];
        assert_eq!(frame[..HEADER_LEN], want, "header of the {:?} vector", message.kind());
    }
    // No two samples share a vector.
    for (i, a) in samples.iter().enumerate() {
        for b in &samples[i + 1..] {
            assert_ne!(golden(a), golden(b), "{a:?} and {b:?} share a vector");
        }
    }
}

#[test]
fn vectors_only_decode_under_their_key() {
    let mut other = MAC_KEY;
    other[0] ^= 1;
    for message in all_samples() {
        let frame = golden(&message);
        assert_eq!(decode_frame(&MacKey::new(other), RECIPIENT, frame), Err(DecodeError::BadMac));
        let mut flipped = frame.to_vec();
        flipped[HEADER_LEN] ^= 0x80;
        assert_eq!(decode_frame(&key(), RECIPIENT, &flipped), Err(DecodeError::BadMac));
    }
}

#[test]
fn tag_is_the_mac_of_the_recipient_byte_then_the_frame() {
    for message in all_samples() {
        let frame = golden(&message);
        let (body, tag) = frame.split_at(frame.len() - TAG_LEN);
        for recipient in Sender::ALL {
            // Built by hand: one contiguous MAC input, `recipient byte | header | payload`.
            let mut mac_input = vec![sender_byte(recipient)];
            mac_input.extend_from_slice(body);
            let matches = key().tag(&mac_input) == tag;
            assert_eq!(matches, recipient == RECIPIENT, "{message:?} for {recipient}");
            if recipient != RECIPIENT {
                // A frame sealed for A's host opens nowhere else.
                assert_eq!(decode_frame(&key(), recipient, frame), Err(DecodeError::BadMac));
            }
        }
        // The recipient is not on the wire: sealed for any other station, the same frame
        // differs in the tag only.
        for recipient in Sender::ALL {
            let mut buf = [0u8; MAX_FRAME_LEN];
            let n = encode_frame(&key(), &header(message.kind()), &message, recipient, &mut buf)
                .expect("encodes");
            assert_eq!(n, frame.len());
            assert_eq!(&buf[..n - TAG_LEN], body, "{message:?} for {recipient}");
        }
    }
}

#[test]
fn every_variant_of_every_wire_enum_has_a_vector() {
    for fencing in FENCING_STATES {
        assert_eq!(heartbeat(fencing_state_witness(fencing)).health.fencing, fencing);
    }
    for method in FENCE_METHODS {
        assert_eq!(fence_report(fence_method_witness(method)).method, method);
    }
    for target in [Controller::A, Controller::B] {
        assert_eq!(fence_report(fence_target_witness(target)).target, target);
    }
    // Status, HostLiveness, FenceOutcome and Control select vectors in `golden`.
    for s in STATUSES {
        assert_eq!(heartbeat(s).status, s);
    }
    for h in LIVENESSES {
        assert_eq!(bmc_heartbeat(h).host, h);
    }
    for o in OUTCOMES {
        assert_eq!(fence_report(o).outcome, o);
    }
}

// ---------------------------------------------------------------------------------------
// Heartbeat (kind 1)
// ---------------------------------------------------------------------------------------

#[test]
fn heartbeat_master() {
    check(Message::Heartbeat(heartbeat(Status::Master)));
}

#[test]
fn heartbeat_backup() {
    check(Message::Heartbeat(heartbeat(Status::Backup)));
}

#[test]
fn heartbeat_electing() {
    check(Message::Heartbeat(heartbeat(Status::Electing)));
}

#[test]
fn heartbeat_importing() {
    check(Message::Heartbeat(heartbeat(Status::Importing)));
}

#[test]
fn heartbeat_error() {
    check(Message::Heartbeat(heartbeat(Status::Error)));
}

#[test]
fn heartbeat_single() {
    check(Message::Heartbeat(heartbeat(Status::Single)));
}

/// Heartbeat of the active: MASTER, holding the reservation, two groups. 68 bytes.
#[rustfmt::skip]
const HEARTBEAT_MASTER: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x01,                   // kind 1 = Heartbeat
    0x01,                   // sender 0b01 = B host (bit 0 set: controller B; bit 1 clear: host)
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Heartbeat
    0x00,                   // status = Status::Master (variant 0)
    0xAC, 0x02,             // epoch = 300 (varint)
    0xE8, 0x07,             // interval_ms = 1000 (varint)
    0x00,                   // disabled = {} (u32 bit set, varint)
    // health: Health
    0x02,                   // groups: length 2 (varint)
    0x01, 0x02, 0x02,       // groups[0]: group 1, up 2, total 2 (u8 each)
    0x02, 0x01, 0x02,       // groups[1]: group 2, up 1, total 2
    0x03,                   // pools_imported = 3 (varint)
    0x03,                   // pools_total = 3 (varint)
    0x02,                   // fencing = FencingState::Holding (variant 2)
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, // config_digest (8 raw bytes, no length)
    0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, // disk_set_digest (8 raw bytes, no length)
    0x01, 0x04, 0x02,       // version = 1.4.2 (major, minor, patch: u8 each)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 52 bytes above
    0x13, 0x7E, 0x77, 0x4C, 0x64, 0x88, 0x63, 0xB4, // tag[0..8]
    0x48, 0x13, 0x45, 0x4E, 0xA3, 0xE3, 0x09, 0x49, // tag[8..16]
];

/// Heartbeat of a healthy standby: BACKUP, registered and ready, one group. 65 bytes.
#[rustfmt::skip]
const HEARTBEAT_BACKUP: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x01,                   // kind 1 = Heartbeat
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Heartbeat
    0x01,                   // status = Status::Backup (variant 1)
    0xAC, 0x02,             // epoch = 300 (varint)
    0xE8, 0x07,             // interval_ms = 1000 (varint)
    0x00,                   // disabled = {} (varint)
    // health: Health
    0x01,                   // groups: length 1 (varint)
    0x01, 0x02, 0x02,       // groups[0]: group 1, up 2, total 2
    0x00,                   // pools_imported = 0 (varint)
    0x03,                   // pools_total = 3 (varint)
    0x01,                   // fencing = FencingState::Ready (variant 1)
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, // config_digest (8 raw bytes)
    0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, // disk_set_digest (8 raw bytes)
    0x01, 0x04, 0x02,       // version = 1.4.2
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 49 bytes above
    0xE0, 0x85, 0xF0, 0x9C, 0xE3, 0x04, 0x1D, 0x10, // tag[0..8]
    0xB4, 0x64, 0xF7, 0xF7, 0xDA, 0xFC, 0x1E, 0x27, // tag[8..16]
];

/// Heartbeat of a booting host: ELECTING, epoch 0, no peer heard yet, no groups. 61 bytes.
#[rustfmt::skip]
const HEARTBEAT_ELECTING: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x01,                   // kind 1 = Heartbeat
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Heartbeat
    0x02,                   // status = Status::Electing (variant 2)
    0x00,                   // epoch = 0 (varint)
    0xE8, 0x07,             // interval_ms = 1000 (varint)
    0x02,                   // disabled = {NoPeer} = bit 1 = 0x2 (varint)
    // health: Health
    0x00,                   // groups: length 0 (varint), no items
    0x00,                   // pools_imported = 0 (varint)
    0x03,                   // pools_total = 3 (varint)
    0x01,                   // fencing = FencingState::Ready (variant 1)
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, // config_digest (8 raw bytes)
    0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, // disk_set_digest (8 raw bytes)
    0x01, 0x04, 0x02,       // version = 1.4.2
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 45 bytes above
    0x3E, 0xA4, 0xD7, 0x40, 0x78, 0x20, 0x29, 0x0D, // tag[0..8]
    0xC7, 0x90, 0xEA, 0x85, 0xA8, 0x37, 0x4B, 0x2C, // tag[8..16]
];

/// Heartbeat during a takeover: IMPORTING with the new epoch, failover in progress.
/// 69 bytes.
#[rustfmt::skip]
const HEARTBEAT_IMPORTING: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x01,                   // kind 1 = Heartbeat
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Heartbeat
    0x03,                   // status = Status::Importing (variant 3)
    0xAD, 0x02,             // epoch = 301 (varint)
    0xE8, 0x07,             // interval_ms = 1000 (varint)
    0x80, 0x40,             // disabled = {LocalFailoverInProgress} = bit 13 = 0x2000 (varint)
    // health: Health
    0x02,                   // groups: length 2 (varint)
    0x01, 0x02, 0x02,       // groups[0]: group 1, up 2, total 2
    0x02, 0x01, 0x02,       // groups[1]: group 2, up 1, total 2
    0x01,                   // pools_imported = 1 (varint)
    0x03,                   // pools_total = 3 (varint)
    0x02,                   // fencing = FencingState::Holding (variant 2)
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, // config_digest (8 raw bytes)
    0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, // disk_set_digest (8 raw bytes)
    0x01, 0x04, 0x02,       // version = 1.4.2
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 53 bytes above
    0x51, 0xC2, 0x2D, 0x7C, 0x67, 0xD1, 0x8B, 0x87, // tag[0..8]
    0xF8, 0x88, 0x40, 0x82, 0x77, 0x9D, 0x2C, 0x9B, // tag[8..16]
];

/// Heartbeat of a fenced host: ERROR, key preempted, a group down, disks differ.
/// 65 bytes.
#[rustfmt::skip]
const HEARTBEAT_ERROR: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x01,                   // kind 1 = Heartbeat
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Heartbeat
    0x04,                   // status = Status::Error (variant 4)
    0xAC, 0x02,             // epoch = 300 (varint)
    0xE8, 0x07,             // interval_ms = 1000 (varint)
    0x40,                   // disabled = {DiskSetMismatch} = bit 6 = 0x40 (varint)
    // health: Health
    0x01,                   // groups: length 1 (varint)
    0x01, 0x00, 0x02,       // groups[0]: group 1, up 0, total 2 (down)
    0x00,                   // pools_imported = 0 (varint)
    0x03,                   // pools_total = 3 (varint)
    0x03,                   // fencing = FencingState::Fenced (variant 3)
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, // config_digest (8 raw bytes)
    0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, // disk_set_digest (8 raw bytes)
    0x01, 0x04, 0x02,       // version = 1.4.2
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 49 bytes above
    0xB2, 0x8C, 0x38, 0x9A, 0xFC, 0xB1, 0xB2, 0x07, // tag[0..8]
    0xF3, 0x64, 0x94, 0xD6, 0x6A, 0x49, 0x8C, 0xC0, // tag[8..16]
];

/// Heartbeat of a host running alone: SINGLE, four disabled reasons, no fence, no pools.
/// 63 bytes.
#[rustfmt::skip]
const HEARTBEAT_SINGLE: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x01,                   // kind 1 = Heartbeat
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Heartbeat
    0x05,                   // status = Status::Single (variant 5)
    0x07,                   // epoch = 7 (varint)
    0xD0, 0x0F,             // interval_ms = 2000 (varint)
    0x83, 0x90, 0x01,       // disabled = bits 0, 1, 11, 14 = 0x4803 (varint): AdminDisabled,
                            //   NoPeer, FencingUnavailable, RemoteFailoverInProgress
    // health: Health
    0x00,                   // groups: length 0 (varint)
    0x00,                   // pools_imported = 0 (varint)
    0x00,                   // pools_total = 0 (varint)
    0x00,                   // fencing = FencingState::Unavailable (variant 0)
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, // config_digest (8 raw bytes)
    0xD0, 0xD1, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, // disk_set_digest (8 raw bytes)
    0x01, 0x04, 0x02,       // version = 1.4.2
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 47 bytes above
    0x02, 0x11, 0x26, 0x73, 0x4E, 0x69, 0x01, 0xC9, // tag[0..8]
    0x98, 0xFA, 0x97, 0xC3, 0x71, 0xBA, 0x3F, 0x9A, // tag[8..16]
];

// ---------------------------------------------------------------------------------------
// BMC heartbeat (kind 2)
// ---------------------------------------------------------------------------------------

#[test]
fn bmc_heartbeat_unknown() {
    check(Message::BmcHeartbeat(bmc_heartbeat(HostLiveness::Unknown)));
}

#[test]
fn bmc_heartbeat_alive() {
    check(Message::BmcHeartbeat(bmc_heartbeat(HostLiveness::Alive)));
}

#[test]
fn bmc_heartbeat_hung() {
    check(Message::BmcHeartbeat(bmc_heartbeat(HostLiveness::Hung)));
}

#[test]
fn bmc_heartbeat_dead() {
    check(Message::BmcHeartbeat(bmc_heartbeat(HostLiveness::Dead)));
}

/// A BMC that never heard its host (age "never", u32::MAX). 42 bytes.
#[rustfmt::skip]
const BMC_HEARTBEAT_UNKNOWN: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x02,                   // kind 2 = BmcHeartbeat
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: BmcHeartbeat
    0x00,                   // host = HostLiveness::Unknown (variant 0)
    0xFF, 0xFF, 0xFF, 0xFF, 0x0F, // host_age_ms = AGE_NEVER = u32::MAX (varint, 5 bytes)
    0x02,                   // host_status = Status::Electing (variant 2)
    0x00,                   // host_epoch = 0 (varint)
    0x00,                   // fencing_peer = false
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 26 bytes above
    0xC4, 0x02, 0xBE, 0xB7, 0x6A, 0x0B, 0x6C, 0x64, // tag[0..8]
    0x30, 0x1D, 0xD5, 0x87, 0x16, 0xD7, 0x2E, 0x9C, // tag[8..16]
];

/// A BMC whose host heartbeats on time. 39 bytes.
#[rustfmt::skip]
const BMC_HEARTBEAT_ALIVE: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x02,                   // kind 2 = BmcHeartbeat
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: BmcHeartbeat
    0x01,                   // host = HostLiveness::Alive (variant 1)
    0x78,                   // host_age_ms = 120 (varint)
    0x00,                   // host_status = Status::Master (variant 0)
    0xAC, 0x02,             // host_epoch = 300 (varint)
    0x00,                   // fencing_peer = false
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 23 bytes above
    0xCA, 0x74, 0x12, 0x3C, 0x04, 0x8C, 0xA5, 0x4E, // tag[0..8]
    0x37, 0x61, 0xA9, 0xB6, 0xF5, 0x14, 0x97, 0x3E, // tag[8..16]
];

/// A BMC whose powered host stopped heartbeating. 40 bytes.
#[rustfmt::skip]
const BMC_HEARTBEAT_HUNG: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x02,                   // kind 2 = BmcHeartbeat
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: BmcHeartbeat
    0x02,                   // host = HostLiveness::Hung (variant 2)
    0x94, 0x23,             // host_age_ms = 4500 (varint)
    0x00,                   // host_status = Status::Master (variant 0)
    0xAC, 0x02,             // host_epoch = 300 (varint)
    0x00,                   // fencing_peer = false
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 24 bytes above
    0x9D, 0xEE, 0xF9, 0x42, 0x04, 0x35, 0x63, 0x8F, // tag[0..8]
    0x57, 0xAE, 0x87, 0xDC, 0x3F, 0xD6, 0xD3, 0x82, // tag[8..16]
];

/// A BMC whose host is dead, holding the peer fenced. 41 bytes.
#[rustfmt::skip]
const BMC_HEARTBEAT_DEAD: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x02,                   // kind 2 = BmcHeartbeat
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: BmcHeartbeat
    0x03,                   // host = HostLiveness::Dead (variant 3)
    0xE0, 0xD4, 0x03,       // host_age_ms = 60000 (varint)
    0x01,                   // host_status = Status::Backup (variant 1)
    0xAB, 0x02,             // host_epoch = 299 (varint)
    0x01,                   // fencing_peer = true
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 25 bytes above
    0x7B, 0x7A, 0x6F, 0xA5, 0xC1, 0x07, 0xA6, 0x4B, // tag[0..8]
    0xAB, 0x8B, 0xB3, 0xBB, 0x3E, 0x38, 0x49, 0x59, // tag[8..16]
];

// ---------------------------------------------------------------------------------------
// Relay (kind 3)
// ---------------------------------------------------------------------------------------

#[test]
fn relay_peer_host_hung() {
    check(Message::Relay(relay()));
}

/// The peer BMC is alive and says its host hung. 41 bytes.
#[rustfmt::skip]
const RELAY: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x03,                   // kind 3 = Relay
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Relay
    0x01,                   // peer_bmc_alive = true
    0x50,                   // peer_bmc_age_ms = 80 (varint)
    0x02,                   // peer_host = HostLiveness::Hung (variant 2)
    0xE4, 0x23,             // peer_host_age_ms = 4580 (varint)
    0x00,                   // peer_host_status = Status::Master (variant 0)
    0xAC, 0x02,             // peer_host_epoch = 300 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 25 bytes above
    0xE0, 0xA9, 0x13, 0x35, 0x04, 0xF6, 0x8B, 0x69, // tag[0..8]
    0x29, 0x5D, 0x63, 0x2B, 0x1E, 0x2D, 0x40, 0x64, // tag[8..16]
];

// ---------------------------------------------------------------------------------------
// Control (kind 4): one vector per variant
// ---------------------------------------------------------------------------------------

#[test]
fn control_takeover_request() {
    check(Message::Control(Control::TakeoverRequest { epoch: 301 }));
}

#[test]
fn control_takeover_ack() {
    check(Message::Control(Control::TakeoverAck { epoch: 301 }));
}

#[test]
fn control_giveback_request() {
    check(Message::Control(Control::GivebackRequest { epoch: 301 }));
}

#[test]
fn control_giveback_ack() {
    check(Message::Control(Control::GivebackAck { epoch: 301 }));
}

#[test]
fn control_become_passive() {
    check(Message::Control(Control::BecomePassive { epoch: 301 }));
}

#[test]
fn control_fence_peer() {
    check(Message::Control(Control::FencePeer { epoch: 302, reset_host: true }));
}

#[test]
fn control_unfence_peer() {
    check(Message::Control(Control::UnfencePeer { epoch: 302 }));
}

#[test]
fn control_sync_request() {
    check(Message::Control(Control::SyncRequest { digest: CONFIG_DIGEST, push: true }));
}

/// TakeoverRequest { epoch: 301 }. 36 bytes.
#[rustfmt::skip]
const CONTROL_TAKEOVER_REQUEST: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x04,                   // kind 4 = Control
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Control
    0x00,                   // Control::TakeoverRequest (variant 0)
    0xAD, 0x02,             // epoch = 301 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 20 bytes above
    0x0E, 0xFA, 0xCD, 0x59, 0x7B, 0x1E, 0xBF, 0x3F, // tag[0..8]
    0x6D, 0xCB, 0x81, 0x69, 0xE9, 0xC0, 0xD2, 0xE2, // tag[8..16]
];

/// TakeoverAck { epoch: 301 }. 36 bytes.
#[rustfmt::skip]
const CONTROL_TAKEOVER_ACK: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x04,                   // kind 4 = Control
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Control
    0x01,                   // Control::TakeoverAck (variant 1)
    0xAD, 0x02,             // epoch = 301 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 20 bytes above
    0x5C, 0x32, 0xFB, 0x5E, 0xCB, 0x23, 0x26, 0x52, // tag[0..8]
    0x56, 0x30, 0x8E, 0x58, 0x2F, 0x82, 0x3E, 0xAB, // tag[8..16]
];

/// GivebackRequest { epoch: 301 }. 36 bytes.
#[rustfmt::skip]
const CONTROL_GIVEBACK_REQUEST: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x04,                   // kind 4 = Control
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Control
    0x02,                   // Control::GivebackRequest (variant 2)
    0xAD, 0x02,             // epoch = 301 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 20 bytes above
    0x8A, 0x35, 0x4C, 0xE2, 0xAE, 0xA0, 0x80, 0x95, // tag[0..8]
    0xE0, 0x6A, 0xE2, 0x33, 0xA6, 0x4C, 0x3F, 0x0B, // tag[8..16]
];

/// GivebackAck { epoch: 301 }. 36 bytes.
#[rustfmt::skip]
const CONTROL_GIVEBACK_ACK: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x04,                   // kind 4 = Control
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Control
    0x03,                   // Control::GivebackAck (variant 3)
    0xAD, 0x02,             // epoch = 301 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 20 bytes above
    0x4A, 0x00, 0x8A, 0xA0, 0xC9, 0x96, 0x1B, 0x1A, // tag[0..8]
    0xA3, 0xC1, 0xCC, 0xC6, 0x8A, 0xC3, 0x2A, 0x90, // tag[8..16]
];

/// BecomePassive { epoch: 301 }. 36 bytes.
#[rustfmt::skip]
const CONTROL_BECOME_PASSIVE: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x04,                   // kind 4 = Control
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Control
    0x04,                   // Control::BecomePassive (variant 4)
    0xAD, 0x02,             // epoch = 301 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 20 bytes above
    0x3E, 0xF5, 0x45, 0x18, 0xFC, 0x28, 0xEB, 0xDC, // tag[0..8]
    0x5C, 0xDB, 0xD5, 0x2D, 0x6D, 0x66, 0xED, 0x97, // tag[8..16]
];

/// FencePeer { epoch: 302, reset_host: true }. 37 bytes.
#[rustfmt::skip]
const CONTROL_FENCE_PEER: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x04,                   // kind 4 = Control
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Control
    0x05,                   // Control::FencePeer (variant 5)
    0xAE, 0x02,             // epoch = 302 (varint)
    0x01,                   // reset_host = true
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 21 bytes above
    0xB7, 0x64, 0x5F, 0x5B, 0x15, 0x08, 0x3B, 0x1C, // tag[0..8]
    0x28, 0x1D, 0xB5, 0x97, 0x13, 0xAF, 0x44, 0xD3, // tag[8..16]
];

/// UnfencePeer { epoch: 302 }. 36 bytes.
#[rustfmt::skip]
const CONTROL_UNFENCE_PEER: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x04,                   // kind 4 = Control
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Control
    0x06,                   // Control::UnfencePeer (variant 6)
    0xAE, 0x02,             // epoch = 302 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 20 bytes above
    0xB2, 0xB7, 0x23, 0xB1, 0x86, 0x93, 0x2D, 0x6B, // tag[0..8]
    0xB1, 0xDE, 0x39, 0x1E, 0xB7, 0xAB, 0xC6, 0xDF, // tag[8..16]
];

/// SyncRequest { digest: C0..C7, push: true }. 43 bytes.
#[rustfmt::skip]
const CONTROL_SYNC_REQUEST: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x04,                   // kind 4 = Control
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: Control
    0x07,                   // Control::SyncRequest (variant 7)
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, // digest (8 raw bytes, no length)
    0x01,                   // push = true
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 27 bytes above
    0x0E, 0x82, 0x45, 0x5D, 0x83, 0x1C, 0x23, 0xC6, // tag[0..8]
    0x85, 0xFB, 0x39, 0xFD, 0x00, 0x49, 0x87, 0x13, // tag[8..16]
];

// ---------------------------------------------------------------------------------------
// Configuration chunk (kind 5)
// ---------------------------------------------------------------------------------------

#[test]
fn config_chunk_last_chunk() {
    check(Message::ConfigChunk(config_chunk()));
}

/// The last 8 bytes (offset 160) of a 168-byte configuration. 54 bytes.
#[rustfmt::skip]
const CONFIG_CHUNK: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x05,                   // kind 5 = ConfigChunk
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: ConfigChunk
    0xC0, 0xC1, 0xC2, 0xC3, 0xC4, 0xC5, 0xC6, 0xC7, // digest (8 raw bytes, no length)
    0xA8, 0x01,             // total_len = 168 (varint)
    0xA0, 0x01,             // offset = 160 (varint)
    0x08,                   // data: length 8 (varint)
    0x6D, 0x6F, 0x64, 0x65, 0x3D, 0x68, 0x61, 0x0A, // data: b"mode=ha\n"
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 38 bytes above
    0x9B, 0x22, 0x11, 0xE2, 0x03, 0xA0, 0xD9, 0x3E, // tag[0..8]
    0xC5, 0x81, 0x8F, 0xA2, 0x3C, 0x54, 0x7D, 0x48, // tag[8..16]
];

// ---------------------------------------------------------------------------------------
// Key escrow chunk (kind 6)
// ---------------------------------------------------------------------------------------

#[test]
fn key_escrow_chunk_whole_key() {
    check(Message::KeyEscrowChunk(key_escrow_chunk()));

    // The vector's chunk opens to the pool key under the escrow key the receiver derives
    // for the sender named in the header, and under no other sender's escrow key.
    let frame = decode_frame(&key(), RECIPIENT, KEY_ESCROW_CHUNK).expect("decodes");
    let Message::KeyEscrowChunk(chunk) = frame.message else { panic!("not a key escrow chunk") };
    let mut plain = [0u8; 32];
    assert_eq!(EscrowKey::derive(&key(), frame.header.sender).open(&chunk, &mut plain), Ok(32));
    assert_eq!(plain, pool_key());
    for other in Sender::ALL.into_iter().filter(|s| *s != SENDER) {
        assert!(EscrowKey::derive(&key(), other).open(&chunk, &mut plain).is_err(), "opens for {other}");
    }
}

/// A whole 32-byte pool key in one chunk, ChaCha20-Poly1305 under the escrow key derived
/// from MAC_KEY for the sender (B host, byte 0x01), plaintext 0x80..=0x9F. 105 bytes.
#[rustfmt::skip]
const KEY_ESCROW_CHUNK: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x06,                   // kind 6 = KeyEscrowChunk
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: KeyEscrowChunk
    0xF0, 0xBD, 0xF3, 0xD5, 0x89, 0xCF, 0x95, 0x9A, 0x12, // pool = 0x1234_5678_9ABC_DEF0 (varint, 9 bytes)
    0x20,                   // total_len = 32 (varint)
    0x00,                   // offset = 0 (varint)
    0x0D, 0x0C, 0x0B, 0x0A, // nonce[0..4]: boot id (12 raw bytes in all, no length)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // nonce[4..12]: seq
    0x20,                   // ciphertext: length 32 (varint)
    0xA7, 0x13, 0x32, 0xC7, 0xA0, 0x2A, 0x8E, 0x3E, // ciphertext[0..8]
    0xCB, 0xD1, 0x85, 0x3A, 0xB6, 0x09, 0x7D, 0xD6, // ciphertext[8..16]
    0xE5, 0x76, 0x45, 0x74, 0x1A, 0xCF, 0x7F, 0x34, // ciphertext[16..24]
    0x87, 0x34, 0xF0, 0xBA, 0x6C, 0xD3, 0x27, 0xE5, // ciphertext[24..32]
    0xC9, 0x6D, 0x65, 0x27, 0x7E, 0x50, 0xE9, 0xF4, // AEAD tag[0..8] (16 raw bytes, no length)
    0x75, 0x1F, 0x67, 0x55, 0x68, 0x43, 0x34, 0xAA, // AEAD tag[8..16]
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 89 bytes above
    0x4D, 0xD4, 0x3A, 0x9A, 0x03, 0x2F, 0x00, 0xB5, // tag[0..8]
    0x6B, 0xE7, 0x39, 0xFE, 0x9D, 0x4C, 0xA1, 0x51, // tag[8..16]
];

// ---------------------------------------------------------------------------------------
// Fence report (kind 7)
// ---------------------------------------------------------------------------------------

#[test]
fn fence_report_done() {
    check(Message::FenceReport(fence_report(FenceOutcome::Done)));
}

#[test]
fn fence_report_partial() {
    check(Message::FenceReport(fence_report(FenceOutcome::Partial)));
}

#[test]
fn fence_report_failed() {
    check(Message::FenceReport(fence_report(FenceOutcome::Failed)));
}

#[test]
fn fence_report_lifted() {
    check(Message::FenceReport(fence_report(FenceOutcome::Lifted)));
}

/// Reservation fence of controller A done on all 12 disks in 850 ms. 42 bytes.
#[rustfmt::skip]
const FENCE_REPORT_DONE: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x07,                   // kind 7 = FenceReport
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: FenceReport
    0xAD, 0x02,             // epoch = 301 (varint)
    0x00,                   // target = Controller::A (variant 0)
    0x00,                   // method = FenceMethod::Reservation (variant 0)
    0x00,                   // outcome = FenceOutcome::Done (variant 0)
    0x0C,                   // done = 12 (varint)
    0x0C,                   // total = 12 (varint)
    0xD2, 0x06,             // elapsed_ms = 850 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 26 bytes above
    0x9C, 0xEB, 0xE3, 0x9A, 0x3F, 0x57, 0x8F, 0xD0, // tag[0..8]
    0xF8, 0x74, 0x02, 0xB6, 0xCE, 0x38, 0x05, 0xCF, // tag[8..16]
];

/// Enclosure fence of controller B done on 3 of 4 ports in 120 ms. 41 bytes.
#[rustfmt::skip]
const FENCE_REPORT_PARTIAL: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x07,                   // kind 7 = FenceReport
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: FenceReport
    0xAD, 0x02,             // epoch = 301 (varint)
    0x01,                   // target = Controller::B (variant 1)
    0x01,                   // method = FenceMethod::Enclosure (variant 1)
    0x01,                   // outcome = FenceOutcome::Partial (variant 1)
    0x03,                   // done = 3 (varint)
    0x04,                   // total = 4 (varint)
    0x78,                   // elapsed_ms = 120 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 25 bytes above
    0x48, 0xB7, 0xD1, 0x1D, 0x57, 0xF4, 0x50, 0xA8, // tag[0..8]
    0xF6, 0x8E, 0xA9, 0x60, 0xAA, 0x21, 0x01, 0x30, // tag[8..16]
];

/// Host reset of controller A failed after 5000 ms. 42 bytes.
#[rustfmt::skip]
const FENCE_REPORT_FAILED: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x07,                   // kind 7 = FenceReport
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: FenceReport
    0xAD, 0x02,             // epoch = 301 (varint)
    0x00,                   // target = Controller::A (variant 0)
    0x02,                   // method = FenceMethod::HostReset (variant 2)
    0x02,                   // outcome = FenceOutcome::Failed (variant 2)
    0x00,                   // done = 0 (varint)
    0x01,                   // total = 1 (varint)
    0x88, 0x27,             // elapsed_ms = 5000 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 26 bytes above
    0x75, 0x46, 0x76, 0x36, 0x7A, 0x81, 0xDF, 0x42, // tag[0..8]
    0xB6, 0xAD, 0xA8, 0x40, 0xC0, 0x86, 0x37, 0x08, // tag[8..16]
];

/// Enclosure fence on controller A lifted on all 4 ports in 40 ms. 41 bytes.
#[rustfmt::skip]
const FENCE_REPORT_LIFTED: &[u8] = &[
    0xFA, 0x11,             // magic
    0x01,                   // version 1
    0x07,                   // kind 7 = FenceReport
    0x01,                   // sender 0b01 = B host
    0x0D, 0x0C, 0x0B, 0x0A, // boot id 0x0A0B_0C0D (u32 LE)
    0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01, // seq 0x0102_0304_0506_0708 (u64 LE)
    // payload: FenceReport
    0xAE, 0x02,             // epoch = 302 (varint)
    0x00,                   // target = Controller::A (variant 0)
    0x01,                   // method = FenceMethod::Enclosure (variant 1)
    0x03,                   // outcome = FenceOutcome::Lifted (variant 3)
    0x04,                   // done = 4 (varint)
    0x04,                   // total = 4 (varint)
    0x28,                   // elapsed_ms = 40 (varint)
    // tag: keyed BLAKE2s-128 over recipient 0x00 (A host) | the 25 bytes above
    0x85, 0xEA, 0x6C, 0x1E, 0x27, 0x31, 0x0C, 0xF3, // tag[0..8]
    0x76, 0x67, 0x8E, 0x11, 0xF4, 0xC1, 0x9D, 0x96, // tag[8..16]
];
