//! One test per rejection: each builds the smallest input that must be refused and
//! asserts the exact [`DecodeError`] (or [`EncodeError`]) it is refused with.
//!
//! Forged frames carry a valid tag (computed with [`MacKey::tag_parts`] over the recipient
//! byte, header and payload) so that each test reaches exactly the check it is about
//! rather than failing earlier on the MAC. Unless a test says otherwise, frames are
//! addressed to [`RX`], the station [`assert_rejected`] opens them as.

use failover_core::status::{DisabledReasons, Status};
use failover_core::wire::{
    BmcHeartbeat, CONFIG_CHUNK_LEN, ConfigChunk, Control, Controller, DecodeError, Digest, EncodeError,
    Endpoint, FencingState, Freshness, GroupState, HEADER_LEN, Header, Health, Heartbeat, HostLiveness, Kind,
    MAGIC, MAX_FRAME_LEN, MAX_GROUPS, MAX_STREAM_FRAME_LEN, MacKey, Message, Sender, SoftwareVersion,
    Station, TAG_LEN, decode_frame, encode_frame, encode_stream_frame, version,
};

const HOST_A: Sender = Sender::new(Controller::A, Station::Host);
const HOST_B: Sender = Sender::new(Controller::B, Station::Host);
const BMC_A: Sender = Sender::new(Controller::A, Station::Bmc);
const BMC_B: Sender = Sender::new(Controller::B, Station::Bmc);

/// The recipient of forged frames and the identity [`assert_rejected`] opens them as.
const RX: Sender = BMC_B;

fn key() -> MacKey {
    MacKey::new([0x42; 32])
}

fn other_key() -> MacKey {
    MacKey::new([0x24; 32])
}

fn heartbeat() -> Message {
    Message::Heartbeat(Heartbeat {
        status: Status::Master,
        epoch: 12,
        interval_ms: 250,
        disabled: DisabledReasons::NONE,
        health: Health {
            groups: heapless::Vec::from_slice(&[GroupState { group: 1, up: 2, total: 2 }])
                .expect("one group fits"),
            pools_imported: 1,
            pools_total: 1,
            fencing: FencingState::Holding,
            config_digest: Digest::of(b"config"),
            disk_set_digest: Digest::of(b"disks"),
            version: SoftwareVersion { major: 1, minor: 0, patch: 0 },
        },
    })
}

fn control() -> Message {
    Message::Control(Control::TakeoverRequest { epoch: 13 })
}

fn header(sender: Sender, boot_id: u32, seq: u64) -> Header {
    Header { version: version::CURRENT, kind: Kind::Heartbeat, sender, boot_id, seq }
}

/// `message` encoded with `header` under `key`, addressed to `to`.
fn frame_to(key: &MacKey, header: &Header, message: &Message, to: Sender) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME_LEN];
    let n = encode_frame(key, header, message, to, &mut buf).expect("a MAX_FRAME_LEN buffer always fits");
    buf[..n].to_vec()
}

/// `message` encoded with `header` under `key`, addressed to [`RX`].
fn frame_with(key: &MacKey, header: &Header, message: &Message) -> Vec<u8> {
    frame_to(key, header, message, RX)
}

/// A valid heartbeat frame from A's host.
fn valid_frame() -> Vec<u8> {
    frame_with(&key(), &header(HOST_A, 7, 1), &heartbeat())
}

/// Raw header bytes, laid out by hand as `header.rs` documents.
fn raw_header(magic: [u8; 2], version: u8, kind: u8, sender: u8, boot_id: u32, seq: u64) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[0..2].copy_from_slice(&magic);
    h[2] = version;
    h[3] = kind;
    h[4] = sender;
    h[5..9].copy_from_slice(&boot_id.to_le_bytes());
    h[9..17].copy_from_slice(&seq.to_le_bytes());
    h
}

/// A frame built by hand: `header | payload | tag`, with a valid tag under `key` for
/// recipient `to`: `MAC(to byte || header || payload)`.
fn forge_to(key: &MacKey, header: &[u8; HEADER_LEN], payload: &[u8], to: Sender) -> Vec<u8> {
    let mut f = header.to_vec();
    f.extend_from_slice(payload);
    let tag = key.tag_parts(&[&[to.to_byte()], &f]);
    f.extend_from_slice(&tag);
    f
}

/// A frame built by hand, addressed to [`RX`].
fn forge(key: &MacKey, header: &[u8; HEADER_LEN], payload: &[u8]) -> Vec<u8> {
    forge_to(key, header, payload, RX)
}

/// Replace the tag of `frame` by a valid one (for [`RX`]) for its (possibly edited) body.
fn retag(key: &MacKey, mut frame: Vec<u8>) -> Vec<u8> {
    let body = frame.len() - TAG_LEN;
    let tag = key.tag_parts(&[&[RX.to_byte()], &frame[..body]]);
    frame[body..].copy_from_slice(&tag);
    frame
}

/// The payload bytes of an encoded frame.
fn payload_of(frame: &[u8]) -> &[u8] {
    &frame[HEADER_LEN..frame.len() - TAG_LEN]
}

/// A forged frame from B's host with a valid tag over `payload` of kind `kind`.
fn forged_payload(kind: Kind, payload: &[u8]) -> Vec<u8> {
    forge(&key(), &raw_header(MAGIC, version::CURRENT, kind as u8, HOST_B.to_byte(), 3, 1), payload)
}

/// `decode_frame` and `Endpoint::open` must refuse `bytes` with the same error.
fn assert_rejected(bytes: &[u8], expected: DecodeError) {
    assert_eq!(decode_frame(&key(), RX, bytes), Err(expected), "decode_frame");
    let mut receiver = Endpoint::new(key(), RX, 99);
    assert_eq!(receiver.open(bytes).map(|r| r.message), Err(expected), "Endpoint::open");
    for s in Sender::ALL {
        assert_eq!(receiver.replay().last(s), None, "a rejected frame changed the replay state");
    }
}

fn seal(ep: &mut Endpoint, to: Sender, message: &Message) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME_LEN];
    let n = ep.seal(message, to, &mut buf).expect("a MAX_FRAME_LEN buffer always fits");
    buf[..n].to_vec()
}

// ---------------------------------------------------------------------------------
// Sanity: the forging helpers produce frames the decoder accepts.
// ---------------------------------------------------------------------------------

#[test]
fn forged_frame_with_a_valid_payload_is_accepted() {
    let real = valid_frame();
    let mut h = [0u8; HEADER_LEN];
    h.copy_from_slice(&real[..HEADER_LEN]);
    let forged = forge(&key(), &h, payload_of(&real));
    assert_eq!(forged, real);
    assert_eq!(decode_frame(&key(), RX, &forged).unwrap().message, heartbeat());
    assert_eq!(retag(&key(), real.clone()), real);
}

// ---------------------------------------------------------------------------------
// Truncated
// ---------------------------------------------------------------------------------

#[test]
fn truncated_empty_input() {
    assert_rejected(&[], DecodeError::Truncated);
}

#[test]
fn truncated_one_byte_short_of_a_header() {
    assert_rejected(&valid_frame()[..HEADER_LEN - 1], DecodeError::Truncated);
}

#[test]
fn truncated_header_only() {
    assert_rejected(&valid_frame()[..HEADER_LEN], DecodeError::Truncated);
}

#[test]
fn truncated_header_plus_15_bytes() {
    let frame = valid_frame();
    assert_eq!(TAG_LEN, 16);
    assert_rejected(&frame[..HEADER_LEN + 15], DecodeError::Truncated);
}

#[test]
fn truncated_every_prefix_shorter_than_header_plus_tag() {
    let frame = valid_frame();
    for len in 0..HEADER_LEN + TAG_LEN {
        assert_rejected(&frame[..len], DecodeError::Truncated);
    }
}

#[test]
fn short_input_with_a_foreign_header_reports_the_header_fault_not_truncation() {
    // Past a full header but short of a tag, a mangled header is named for what it is.
    let mut bytes = valid_frame()[..HEADER_LEN + 5].to_vec();
    bytes[0] = 0x00;
    assert_rejected(&bytes, DecodeError::BadMagic);
    // Shorter than a header, there is nothing to judge but the length.
    assert_rejected(&bytes[..HEADER_LEN - 1], DecodeError::Truncated);
}

// ---------------------------------------------------------------------------------
// Oversize
// ---------------------------------------------------------------------------------

#[test]
fn oversize_max_frame_len_plus_one() {
    // A valid header and a valid tag do not matter: length is checked first.
    let mut h = [0u8; HEADER_LEN];
    h.copy_from_slice(&valid_frame()[..HEADER_LEN]);
    let bytes = forge(&key(), &h, &[0u8; MAX_FRAME_LEN + 1 - HEADER_LEN - TAG_LEN]);
    assert_eq!(bytes.len(), MAX_FRAME_LEN + 1);
    assert_rejected(&bytes, DecodeError::Oversize);
}

#[test]
fn oversize_far_beyond_max_frame_len() {
    assert_rejected(&[0xAB; 4 * MAX_FRAME_LEN], DecodeError::Oversize);
}

#[test]
fn exactly_max_frame_len_is_not_oversize() {
    let mut h = [0u8; HEADER_LEN];
    h.copy_from_slice(&valid_frame()[..HEADER_LEN]);
    let mut bytes = forge(&key(), &h, &[0u8; MAX_FRAME_LEN - HEADER_LEN - TAG_LEN]);
    assert_eq!(bytes.len(), MAX_FRAME_LEN);
    // A valid tag: reaches payload parsing, which refuses 223 zero bytes as a heartbeat.
    assert_rejected(&bytes, DecodeError::BadPayload);
    bytes[HEADER_LEN] ^= 1;
    assert_rejected(&bytes, DecodeError::BadMac);
}

// ---------------------------------------------------------------------------------
// Header checks (each with a valid tag, so only the header is at fault)
// ---------------------------------------------------------------------------------

#[test]
fn bad_magic_first_byte() {
    let mut frame = valid_frame();
    frame[0] = 0xFB;
    assert_rejected(&retag(&key(), frame), DecodeError::BadMagic);
}

#[test]
fn bad_magic_second_byte() {
    let mut frame = valid_frame();
    frame[1] = 0x12;
    assert_rejected(&retag(&key(), frame), DecodeError::BadMagic);
}

#[test]
fn bad_magic_byte_swapped() {
    let mut frame = valid_frame();
    frame.swap(0, 1);
    assert_rejected(&retag(&key(), frame), DecodeError::BadMagic);
}

#[test]
fn unsupported_version_0() {
    let h = Header { version: 0, ..header(HOST_A, 7, 1) };
    assert_rejected(&frame_with(&key(), &h, &heartbeat()), DecodeError::UnsupportedVersion(0));
}

#[test]
fn unsupported_version_2() {
    let h = Header { version: 2, ..header(HOST_A, 7, 1) };
    assert_rejected(&frame_with(&key(), &h, &heartbeat()), DecodeError::UnsupportedVersion(2));
}

#[test]
fn unsupported_version_255() {
    let h = Header { version: 255, ..header(HOST_A, 7, 1) };
    assert_rejected(&frame_with(&key(), &h, &control()), DecodeError::UnsupportedVersion(255));
}

#[test]
fn unknown_kind_0() {
    let mut frame = valid_frame();
    frame[3] = 0;
    assert_rejected(&retag(&key(), frame), DecodeError::UnknownKind(0));
}

#[test]
fn unknown_kind_8() {
    let mut frame = valid_frame();
    frame[3] = 8;
    assert_rejected(&retag(&key(), frame), DecodeError::UnknownKind(8));
}

#[test]
fn unknown_kind_255() {
    let mut frame = valid_frame();
    frame[3] = 255;
    assert_rejected(&retag(&key(), frame), DecodeError::UnknownKind(255));
}

#[test]
fn bad_sender_4() {
    let mut frame = valid_frame();
    frame[4] = 4;
    assert_rejected(&retag(&key(), frame), DecodeError::BadSender(4));
}

#[test]
fn bad_sender_with_high_reserved_bit() {
    let mut frame = valid_frame();
    frame[4] = 0x81;
    assert_rejected(&retag(&key(), frame), DecodeError::BadSender(0x81));
}

#[test]
fn header_faults_are_reported_before_the_mac_is_checked() {
    // Wrong key and a bad version: the version is named (nothing is MACed yet).
    let h = Header { version: 2, ..header(HOST_A, 7, 1) };
    let frame = frame_with(&other_key(), &h, &heartbeat());
    assert_rejected(&frame, DecodeError::UnsupportedVersion(2));
    // Order among header checks: magic, version, kind, sender.
    let bad_all = forge(&key(), &raw_header([0, 0], 0, 0, 0xFF, 0, 0), &[]);
    assert_rejected(&bad_all, DecodeError::BadMagic);
    let bad_rest = forge(&key(), &raw_header(MAGIC, 0, 0, 0xFF, 0, 0), &[]);
    assert_rejected(&bad_rest, DecodeError::UnsupportedVersion(0));
    let bad_kind_sender = forge(&key(), &raw_header(MAGIC, version::CURRENT, 0, 0xFF, 0, 0), &[]);
    assert_rejected(&bad_kind_sender, DecodeError::UnknownKind(0));
    let bad_sender = forge(&key(), &raw_header(MAGIC, version::CURRENT, 1, 0xFF, 0, 0), &[]);
    assert_rejected(&bad_sender, DecodeError::BadSender(0xFF));
}

// ---------------------------------------------------------------------------------
// BadMac
// ---------------------------------------------------------------------------------

#[test]
fn bad_mac_wrong_key() {
    let frame = frame_with(&other_key(), &header(HOST_A, 7, 1), &heartbeat());
    assert_rejected(&frame, DecodeError::BadMac);
}

#[test]
fn bad_mac_altered_payload() {
    let mut frame = valid_frame();
    frame[HEADER_LEN + 1] ^= 0x01;
    assert_rejected(&frame, DecodeError::BadMac);
}

#[test]
fn bad_mac_altered_tag() {
    let mut frame = valid_frame();
    let last = frame.len() - 1;
    frame[last] ^= 0x80;
    assert_rejected(&frame, DecodeError::BadMac);
}

#[test]
fn bad_mac_altered_sequence_number() {
    // Anti-replay rests on the MAC covering the header.
    let mut frame = valid_frame();
    frame[9] ^= 0x02;
    assert_rejected(&frame, DecodeError::BadMac);
}

#[test]
fn bad_mac_kind_relabelled_without_retagging() {
    let mut frame = frame_with(&key(), &header(HOST_A, 7, 1), &control());
    frame[3] = Kind::FenceReport as u8;
    assert_rejected(&frame, DecodeError::BadMac);
}

#[test]
fn bad_mac_sender_relabelled_without_retagging() {
    let mut frame = valid_frame();
    frame[4] = HOST_B.to_byte();
    assert_rejected(&frame, DecodeError::BadMac);
}

#[test]
fn bad_mac_tag_dropped_and_body_shifted() {
    // Dropping the last byte makes the last payload byte part of the "tag".
    let frame = valid_frame();
    assert_rejected(&frame[..frame.len() - 1], DecodeError::BadMac);
    let mut longer = frame.clone();
    longer.push(0);
    assert_rejected(&longer, DecodeError::BadMac);
}

#[test]
fn bad_mac_all_zero_tag() {
    let mut frame = valid_frame();
    let body = frame.len() - TAG_LEN;
    frame[body..].fill(0);
    assert_rejected(&frame, DecodeError::BadMac);
}

// ---------------------------------------------------------------------------------
// BadPayload: validly MACed frames whose payload does not parse as the kind says
// ---------------------------------------------------------------------------------

#[test]
fn bad_payload_garbage_bytes() {
    assert_rejected(&forged_payload(Kind::Heartbeat, &[0xFF; 32]), DecodeError::BadPayload);
}

#[test]
fn bad_payload_trailing_byte_after_a_valid_payload() {
    let real = valid_frame();
    let mut payload = payload_of(&real).to_vec();
    // Without the extra byte the forged frame is accepted.
    assert!(decode_frame(&key(), RX, &forged_payload(Kind::Heartbeat, &payload)).is_ok());
    payload.push(0x00);
    assert_rejected(&forged_payload(Kind::Heartbeat, &payload), DecodeError::BadPayload);
}

#[test]
fn bad_payload_trailing_bytes_after_every_kind() {
    let messages = [
        heartbeat(),
        Message::BmcHeartbeat(BmcHeartbeat {
            host: HostLiveness::Alive,
            host_age_ms: 5,
            host_status: Status::Backup,
            host_epoch: 2,
            fencing_peer: false,
        }),
        control(),
        Message::ConfigChunk(ConfigChunk {
            digest: Digest::of(b"c"),
            total_len: 3,
            offset: 0,
            data: heapless::Vec::from_slice(b"abc").unwrap(),
        }),
    ];
    for m in messages {
        let real = frame_with(&key(), &header(HOST_B, 3, 1), &m);
        for extra in [&[0u8][..], &[1, 2, 3], &[0xFF; 8]] {
            let mut payload = payload_of(&real).to_vec();
            payload.extend_from_slice(extra);
            assert_rejected(&forged_payload(m.kind(), &payload), DecodeError::BadPayload);
        }
    }
}

#[test]
fn bad_payload_empty_for_every_kind() {
    for kind in Kind::ALL {
        assert_rejected(&forged_payload(kind, &[]), DecodeError::BadPayload);
    }
}

#[test]
fn bad_payload_truncated_valid_payload() {
    let real = valid_frame();
    let payload = payload_of(&real);
    for len in 0..payload.len() {
        assert_rejected(&forged_payload(Kind::Heartbeat, &payload[..len]), DecodeError::BadPayload);
    }
}

#[test]
fn bad_payload_payload_of_another_kind() {
    // A heartbeat payload labelled as a control message: its first bytes parse as
    // `TakeoverRequest { epoch: 12 }`, the rest are trailing bytes.
    let real = valid_frame();
    assert_rejected(&forged_payload(Kind::Control, payload_of(&real)), DecodeError::BadPayload);
}

#[test]
fn bad_payload_unknown_control_variant() {
    assert!(decode_frame(&key(), RX, &forged_payload(Kind::Control, &[6, 1])).is_ok()); // UnfencePeer
    // SyncRequest (the last variant): digest (8 bytes), push.
    let sync_request = [7, 1, 2, 3, 4, 5, 6, 7, 8, 1];
    assert!(decode_frame(&key(), RX, &forged_payload(Kind::Control, &sync_request)).is_ok());
    assert_rejected(&forged_payload(Kind::Control, &[8, 1]), DecodeError::BadPayload);
    assert_rejected(&forged_payload(Kind::Control, &[8, 1, 2, 3, 4, 5, 6, 7, 8, 1]), DecodeError::BadPayload);
}

#[test]
fn bad_payload_unknown_status_variant() {
    // BmcHeartbeat: host, host_age_ms, host_status, host_epoch, fencing_peer.
    assert!(decode_frame(&key(), RX, &forged_payload(Kind::BmcHeartbeat, &[0, 0, 5, 0, 0])).is_ok());
    assert_rejected(&forged_payload(Kind::BmcHeartbeat, &[0, 0, 6, 0, 0]), DecodeError::BadPayload);
}

#[test]
fn bad_payload_non_boolean_byte() {
    assert!(decode_frame(&key(), RX, &forged_payload(Kind::BmcHeartbeat, &[0, 0, 0, 0, 1])).is_ok());
    assert_rejected(&forged_payload(Kind::BmcHeartbeat, &[0, 0, 0, 0, 2]), DecodeError::BadPayload);
}

#[test]
fn bad_payload_overlong_varint() {
    // A u32 varint may take at most 5 bytes, the last holding 4 bits.
    let mut payload = vec![0, 0xFF, 0xFF, 0xFF, 0xFF, 0x1F]; // host_age_ms overflows u32
    payload.extend_from_slice(&[0, 0, 0]);
    assert_rejected(&forged_payload(Kind::BmcHeartbeat, &payload), DecodeError::BadPayload);
    let mut payload = vec![0, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]; // six bytes
    payload.extend_from_slice(&[0, 0, 0]);
    assert_rejected(&forged_payload(Kind::BmcHeartbeat, &payload), DecodeError::BadPayload);
}

/// `ConfigChunk` payload with `n` data bytes declared and present.
fn config_chunk_payload(n: usize) -> Vec<u8> {
    let mut p = vec![0x11; 8]; // digest
    p.push(0); // total_len
    p.push(0); // offset
    // data length, varint
    if n < 128 {
        p.push(n as u8);
    } else {
        p.push((n as u8 & 0x7F) | 0x80);
        p.push((n >> 7) as u8);
    }
    p.extend(std::iter::repeat_n(0xAB, n));
    p
}

#[test]
fn bad_payload_config_chunk_data_over_capacity() {
    let full = forged_payload(Kind::ConfigChunk, &config_chunk_payload(CONFIG_CHUNK_LEN));
    let Message::ConfigChunk(chunk) = decode_frame(&key(), RX, &full).unwrap().message else {
        panic!("not a config chunk");
    };
    assert_eq!(chunk.data.len(), CONFIG_CHUNK_LEN);
    let over = forged_payload(Kind::ConfigChunk, &config_chunk_payload(CONFIG_CHUNK_LEN + 1));
    assert!(over.len() <= MAX_FRAME_LEN);
    assert_rejected(&over, DecodeError::BadPayload);
}

#[test]
fn bad_payload_config_chunk_length_prefix_beyond_the_payload() {
    let mut payload = config_chunk_payload(10);
    payload.truncate(payload.len() - 1);
    assert_rejected(&forged_payload(Kind::ConfigChunk, &payload), DecodeError::BadPayload);
}

/// `Heartbeat` payload with `groups` group entries.
fn heartbeat_payload(groups: usize) -> Vec<u8> {
    let mut p = vec![0, 0, 0, 0]; // status, epoch, interval_ms, disabled
    p.push(groups as u8);
    for g in 0..groups {
        p.extend_from_slice(&[g as u8, 1, 1]);
    }
    p.extend_from_slice(&[0, 0, 0]); // pools_imported, pools_total, fencing
    p.extend_from_slice(&[0; 16]); // config and disk-set digests
    p.extend_from_slice(&[1, 2, 3]); // version
    p
}

#[test]
fn bad_payload_more_than_max_groups() {
    let full = forged_payload(Kind::Heartbeat, &heartbeat_payload(MAX_GROUPS));
    let Message::Heartbeat(hb) = decode_frame(&key(), RX, &full).unwrap().message else {
        panic!("not a heartbeat");
    };
    assert_eq!(hb.health.groups.len(), MAX_GROUPS);
    assert_rejected(
        &forged_payload(Kind::Heartbeat, &heartbeat_payload(MAX_GROUPS + 1)),
        DecodeError::BadPayload,
    );
}

// ---------------------------------------------------------------------------------
// BadPayload: non-canonical encodings. A frame means one thing: the payload must be
// exactly the encoding of the message it decodes to. postcard alone accepts over-long
// varints (`80 00` for 0) in every integer, enum discriminant and length prefix.
// ---------------------------------------------------------------------------------

/// `canonical` decodes (and re-encodes to itself); every `padded` variant of it, the same
/// message with one varint over-long, is refused.
fn assert_only_canonical(kind: Kind, canonical: &[u8], padded: &[&[u8]]) {
    let frame = forged_payload(kind, canonical);
    let decoded = decode_frame(&key(), RX, &frame).expect("the canonical payload decodes");
    assert_eq!(frame_with(&key(), &decoded.header, &decoded.message), frame, "canonical re-encodes");
    for p in padded {
        assert_ne!(p, &canonical, "not padded");
        assert_rejected(&forged_payload(kind, p), DecodeError::BadPayload);
    }
}

#[test]
fn non_canonical_overlong_u64_epoch() {
    // Control::TakeoverRequest { epoch: 0 }, then { epoch: 301 }.
    assert_only_canonical(Kind::Control, &[0x00, 0x00], &[&[0x00, 0x80, 0x00], &[0x00, 0x80, 0x80, 0x00]]);
    assert_only_canonical(Kind::Control, &[0x00, 0xAD, 0x02], &[&[0x00, 0xAD, 0x82, 0x00]]);
}

#[test]
fn non_canonical_overlong_enum_discriminant() {
    // Control::UnfencePeer { epoch: 1 } with the variant index 6 padded.
    assert_only_canonical(Kind::Control, &[0x06, 0x01], &[&[0x86, 0x00, 0x01]]);
    // BmcHeartbeat: host, host_age_ms, host_status, host_epoch, fencing_peer; status padded.
    assert_only_canonical(Kind::BmcHeartbeat, &[1, 0, 5, 0, 0], &[&[1, 0, 0x85, 0x00, 0, 0]]);
}

#[test]
fn non_canonical_overlong_u32_at_the_maximum_varint_length() {
    // BmcHeartbeat host_age_ms = 0 in five bytes: as long as a u32 varint may be, and
    // still over-long.
    assert_only_canonical(
        Kind::BmcHeartbeat,
        &[0, 0, 0, 0, 0],
        &[&[0, 0x80, 0x00, 0, 0, 0], &[0, 0x80, 0x80, 0x80, 0x80, 0x00, 0, 0, 0]],
    );
}

#[test]
fn non_canonical_overlong_u16() {
    // FenceReport: epoch, target, method, outcome, done, total, elapsed_ms; `done` padded.
    let canonical = [0x01, 0x00, 0x01, 0x00, 0x0C, 0x0C, 0x28];
    assert_only_canonical(
        Kind::FenceReport,
        &canonical,
        &[&[0x01, 0x00, 0x01, 0x00, 0x8C, 0x00, 0x0C, 0x28]],
    );
}

#[test]
fn non_canonical_overlong_vec_length() {
    // ConfigChunk data length 3 as `83 00`, and heartbeat groups length 0 as `80 00`.
    let canonical = config_chunk_payload(3);
    let mut padded = canonical.clone();
    padded.splice(10..11, [0x83, 0x00]);
    assert_only_canonical(Kind::ConfigChunk, &canonical, &[&padded]);
    let canonical = heartbeat_payload(0);
    let mut padded = canonical.clone();
    padded.splice(4..5, [0x80, 0x00]);
    assert_only_canonical(Kind::Heartbeat, &canonical, &[&padded]);
}

#[test]
fn non_canonical_overlong_bit_set() {
    // Heartbeat `disabled` (a u32 bit set) = {} as `80 00`.
    let canonical = heartbeat_payload(1);
    let mut padded = canonical.clone();
    padded.splice(3..4, [0x80, 0x00]);
    assert_only_canonical(Kind::Heartbeat, &canonical, &[&padded]);
}

// ---------------------------------------------------------------------------------
// The fuzz crate's reproducers (core/fuzz/regressions/), copied here so `cargo test`
// keeps them refused. They use the fuzz crate's fixed key and receiving identity.
// ---------------------------------------------------------------------------------

/// `failover_core_fuzz::KEY`.
const FUZZ_KEY: [u8; 32] = *b"failover-core fuzz link key 0001";
/// `failover_core_fuzz::RECEIVER`: the identity the fuzz targets open frames as.
const FUZZ_RECEIVER: Sender = HOST_A;

fn fuzz_key() -> MacKey {
    MacKey::new(FUZZ_KEY)
}

/// The frame the `payload_decode` target builds from `input`: `[kind selector][sender
/// selector][payload]`, kind byte `selector % 8`, sender byte `selector % 5`, boot id 7,
/// sequence 1, tagged for [`FUZZ_RECEIVER`] under the fuzz key.
fn payload_decode_frame(input: &[u8]) -> Vec<u8> {
    let h = raw_header(MAGIC, version::CURRENT, input[0] % 8, input[1] % 5, 7, 1);
    forge_to(&fuzz_key(), &h, &input[2..], FUZZ_RECEIVER)
}

/// `decode_frame` and `Endpoint::open` (as the fuzz receiver) both refuse `frame`.
fn assert_fuzz_rejected(frame: &[u8], expected: DecodeError) {
    assert_eq!(decode_frame(&fuzz_key(), FUZZ_RECEIVER, frame), Err(expected), "decode_frame");
    let mut ep = Endpoint::new(fuzz_key(), FUZZ_RECEIVER, 0xB007);
    assert_eq!(ep.open(frame).map(|r| r.message), Err(expected), "Endpoint::open");
}

#[test]
fn fuzz_regression_frame_decode_overlong_varint() {
    // Control::TakeoverRequest { epoch: 0 } from B's host with the epoch encoded `80 00`
    // instead of `00`, validly tagged for A's host. (The reproducer as first saved was
    // tagged before the recipient was bound into the MAC; it was re-tagged so that it
    // still reaches the payload check.)
    #[rustfmt::skip]
    const REPRO: [u8; 36] = [
        0xFA, 0x11,             // magic
        0x01,                   // version 1
        0x04,                   // kind 4 = Control
        0x01,                   // sender B host
        0x07, 0x00, 0x00, 0x00, // boot id 7
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // seq 1
        0x00,                   // Control::TakeoverRequest
        0x80, 0x00,             // epoch = 0 as an over-long varint (canonical: 0x00)
        0x88, 0x45, 0x90, 0x09, 0xF1, 0x74, 0x2D, 0x0F, // tag over recipient 0x00 (A host) |
        0x10, 0x51, 0xDE, 0x11, 0xC7, 0xB9, 0x19, 0xCB, //   the 20 bytes above
    ];
    assert_eq!(&REPRO[..], include_bytes!("../fuzz/regressions/frame_decode-overlong-varint.bin"));
    assert_fuzz_rejected(&REPRO, DecodeError::BadPayload);
    // The canonical frame for the same message is accepted.
    let mut h = [0u8; HEADER_LEN];
    h.copy_from_slice(&REPRO[..HEADER_LEN]);
    let canonical = forge_to(&fuzz_key(), &h, &[0x00, 0x00], FUZZ_RECEIVER);
    let frame = decode_frame(&fuzz_key(), FUZZ_RECEIVER, &canonical).expect("canonical decodes");
    assert_eq!(frame.message, Message::Control(Control::TakeoverRequest { epoch: 0 }));
}

#[test]
fn fuzz_regression_payload_decode_overlong_varint() {
    // kind 4 (Control), sender 1 (B host), payload `00 80 00`: as above, built by the
    // payload_decode target.
    const REPRO: [u8; 5] = [0x04, 0x01, 0x00, 0x80, 0x00];
    assert_eq!(&REPRO[..], include_bytes!("../fuzz/regressions/payload_decode-overlong-varint.bin"));
    assert_fuzz_rejected(&payload_decode_frame(&REPRO), DecodeError::BadPayload);
    assert!(
        decode_frame(&fuzz_key(), FUZZ_RECEIVER, &payload_decode_frame(&[0x04, 0x01, 0x00, 0x00])).is_ok()
    );
}

#[test]
fn fuzz_regression_payload_decode_overlong_varint_fuzzer_found() {
    // kind 0x07 % 8 = 7 (FenceReport), sender 0x0A % 5 = 0 (A host): epoch 0, target A,
    // Reservation, Done, done 24, total 24, elapsed_ms = 0x36 as `B6 00` (over-long).
    const REPRO: [u8; 10] = [0x07, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x18, 0x18, 0xB6, 0x00];
    assert_eq!(
        &REPRO[..],
        include_bytes!("../fuzz/regressions/payload_decode-overlong-varint-fuzzer-found.bin")
    );
    assert_fuzz_rejected(&payload_decode_frame(&REPRO), DecodeError::BadPayload);
    let canonical = payload_decode_frame(&[0x07, 0x0A, 0x00, 0x00, 0x00, 0x00, 0x18, 0x18, 0x36]);
    assert!(decode_frame(&fuzz_key(), FUZZ_RECEIVER, &canonical).is_ok());
}

// ---------------------------------------------------------------------------------
// Endpoint: replay, freshness, reflection
// ---------------------------------------------------------------------------------

fn pair() -> (Endpoint, Endpoint) {
    (Endpoint::new(key(), HOST_A, 100), Endpoint::new(key(), HOST_B, 200))
}

#[test]
fn replayed_same_frame_twice() {
    let (mut a, mut b) = pair();
    let f = seal(&mut a, HOST_B, &heartbeat());
    assert_eq!(b.open(&f).unwrap().freshness, Freshness::First);
    assert_eq!(b.open(&f), Err(DecodeError::Replayed));
    assert_eq!(b.open(&f), Err(DecodeError::Replayed));
}

#[test]
fn replayed_lower_sequence_number() {
    let (mut a, mut b) = pair();
    let f1 = seal(&mut a, HOST_B, &heartbeat());
    let f2 = seal(&mut a, HOST_B, &heartbeat());
    assert_eq!(b.open(&f2).unwrap().header.seq, 2);
    assert_eq!(b.open(&f1), Err(DecodeError::Replayed));
}

#[test]
fn replayed_lower_boot_id_after_a_restart() {
    let (mut a, mut b) = pair();
    let old1 = seal(&mut a, HOST_B, &heartbeat());
    let old2 = seal(&mut a, HOST_B, &heartbeat()); // captured, never delivered
    b.open(&old1).unwrap();
    // A restarts with a higher boot id: its sequence starts over and is accepted.
    let mut a2 = Endpoint::new(key(), HOST_A, 101);
    let new1 = seal(&mut a2, HOST_B, &heartbeat());
    let got = b.open(&new1).unwrap();
    assert_eq!(got.header.seq, 1);
    assert_eq!(got.freshness, Freshness::Restarted { previous_boot: 100 });
    // The old boot's later frame must not flip B back to the old boot.
    assert_eq!(b.open(&old2), Err(DecodeError::Replayed));
    assert_eq!(b.replay().last(HOST_A), Some((101, 1)));
}

#[test]
fn replaying_an_old_boot_does_not_lock_out_the_live_peer() {
    // The lock-out this rule exists for: with "any unknown boot id is a restart", one
    // recorded frame from an old boot retired the live boot, and every genuine frame
    // after it was refused as a replay.
    let mut old_boot = Endpoint::new(key(), HOST_A, 50);
    let recorded = seal(&mut old_boot, HOST_B, &control());
    let (mut a, mut b) = pair(); // A now runs boot 100
    assert_eq!(b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap().freshness, Freshness::First);
    assert_eq!(b.open(&recorded), Err(DecodeError::Replayed));
    for _ in 0..3 {
        let got = b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
        assert_eq!(got.freshness, Freshness::InOrder { lost: 0 }, "the live peer is still heard");
    }
    assert_eq!(b.replay().last(HOST_A), Some((100, 4)));
}

#[test]
fn replaying_a_frame_from_any_older_boot_is_refused() {
    // No window of remembered boots to fall out of: every lower boot id is refused.
    let mut first_boot = Endpoint::new(key(), HOST_A, 1);
    let recorded = seal(&mut first_boot, HOST_B, &control());
    let mut b = Endpoint::new(key(), HOST_B, 200);
    for boot in 2..=10 {
        let mut a = Endpoint::new(key(), HOST_A, boot);
        b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    }
    assert_eq!(b.open(&recorded), Err(DecodeError::Replayed));
    assert_eq!(b.replay().last(HOST_A), Some((10, 1)));
}

#[test]
fn replay_rejection_leaves_state_unchanged() {
    let (mut a, mut b) = pair();
    let f1 = seal(&mut a, HOST_B, &heartbeat());
    let f2 = seal(&mut a, HOST_B, &heartbeat());
    b.open(&f1).unwrap();
    assert_eq!(b.open(&f1), Err(DecodeError::Replayed));
    assert_eq!(b.open(&f2).unwrap().freshness, Freshness::InOrder { lost: 0 });
}

#[test]
fn restart_is_reported_as_restarted_with_the_previous_boot() {
    let (mut a, mut b) = pair();
    b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    for (boot, previous) in [(500, 100), (501, 500), (u32::MAX, 501)] {
        let mut restarted = Endpoint::new(key(), HOST_A, boot);
        let got = b.open(&seal(&mut restarted, HOST_B, &control())).unwrap();
        assert_eq!(got.freshness, Freshness::Restarted { previous_boot: previous });
        assert_eq!(got.message, control());
    }
}

#[test]
fn replayed_boot_id_below_the_current_one() {
    let (mut a, mut b) = pair();
    b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    for boot in [0, 7, 99] {
        let mut lower = Endpoint::new(key(), HOST_A, boot);
        assert_eq!(b.open(&seal(&mut lower, HOST_B, &control())), Err(DecodeError::Replayed), "boot {boot}");
    }
    assert_eq!(b.replay().last(HOST_A), Some((100, 1)));
}

#[test]
fn forget_hears_a_sender_whose_boot_counter_went_backwards() {
    // BMC A's boot counter lives in reset-surviving RAM; a cold power-on loses it.
    let mut host_a = Endpoint::new(key(), HOST_A, 100);
    let mut bmc = Endpoint::new(key(), BMC_A, 40);
    assert_eq!(host_a.open(&seal(&mut bmc, HOST_A, &control())).unwrap().freshness, Freshness::First);
    let mut cold = Endpoint::new(key(), BMC_A, 1);
    let after_power_on = seal(&mut cold, HOST_A, &control());
    assert_eq!(host_a.open(&after_power_on), Err(DecodeError::Replayed));
    // The host judged its BMC silent for the failover timeout and forgot it.
    host_a.forget(BMC_A);
    host_a.forget(BMC_A); // idempotent
    assert_eq!(host_a.replay().last(BMC_A), None);
    assert_eq!(host_a.open(&after_power_on).unwrap().freshness, Freshness::First);
    assert_eq!(
        host_a.open(&seal(&mut cold, HOST_A, &control())).unwrap().freshness,
        Freshness::InOrder { lost: 0 }
    );
}

#[test]
fn a_counter_that_went_backwards_can_be_locked_out_until_forgotten_again() {
    // The residual documented in wire::replay: after BMC A's counter went backwards, a
    // recorded frame from before the power-on outranks its new boot. Denial of service
    // against a station that lost its state, not a forgery; a forget (after a timeout of
    // silence) lets it be heard again.
    let mut host_a = Endpoint::new(key(), HOST_A, 100);
    let mut before_power_on = Endpoint::new(key(), BMC_A, 40);
    let recorded = seal(&mut before_power_on, HOST_A, &control());
    let mut cold = Endpoint::new(key(), BMC_A, 1);
    assert_eq!(host_a.open(&seal(&mut cold, HOST_A, &control())).unwrap().freshness, Freshness::First);
    assert_eq!(host_a.open(&recorded).unwrap().freshness, Freshness::Restarted { previous_boot: 1 });
    let refused = seal(&mut cold, HOST_A, &control());
    assert_eq!(host_a.open(&refused), Err(DecodeError::Replayed));
    host_a.forget(BMC_A);
    assert_eq!(host_a.open(&seal(&mut cold, HOST_A, &control())).unwrap().freshness, Freshness::First);
}

#[test]
fn forget_only_forgets_the_named_sender() {
    let (mut a, mut b) = pair();
    let mut bmc_a = Endpoint::new(key(), BMC_A, 3);
    b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    b.open(&seal(&mut bmc_a, HOST_B, &control())).unwrap();
    b.forget(BMC_A);
    assert_eq!(b.replay().last(BMC_A), None);
    assert_eq!(b.replay().last(HOST_A), Some((100, 1)));
    let before = b.clone();
    b.forget(BMC_B); // never heard: nothing changes
    assert_eq!(b, before);
}

#[test]
fn after_forget_a_replayed_old_frame_is_accepted_once_but_cannot_lock_out() {
    // What replay can still do after a forget (wire::replay): revive one stale frame.
    let mut old_boot = Endpoint::new(key(), HOST_A, 50);
    let recorded = seal(&mut old_boot, HOST_B, &control());
    let (mut a, mut b) = pair();
    b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    b.forget(HOST_A); // A's host link was silent for the failover timeout
    assert_eq!(b.open(&recorded).unwrap().freshness, Freshness::First);
    // The live peer's next frame outranks anything recorded: a restart, not a lock-out.
    let got = b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    assert_eq!(got.freshness, Freshness::Restarted { previous_boot: 50 });
    assert_eq!(b.open(&recorded), Err(DecodeError::Replayed));
    assert_eq!(
        b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap().freshness,
        Freshness::InOrder { lost: 0 }
    );
}

#[test]
fn loss_is_reported_as_in_order_with_the_number_lost() {
    let (mut a, mut b) = pair();
    assert_eq!(b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap().freshness, Freshness::First);
    assert_eq!(
        b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap().freshness,
        Freshness::InOrder { lost: 0 }
    );
    for _ in 0..3 {
        seal(&mut a, HOST_B, &heartbeat()); // lost on the path
    }
    let got = b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    assert_eq!(got.header.seq, 6);
    assert_eq!(got.freshness, Freshness::InOrder { lost: 3 });
}

#[test]
fn loss_count_across_a_large_sequence_gap() {
    let mut b = Endpoint::new(key(), HOST_B, 200);
    let f1 = frame_to(&key(), &header(HOST_A, 9, 1), &heartbeat(), HOST_B);
    let fmax = frame_to(&key(), &header(HOST_A, 9, u64::MAX), &heartbeat(), HOST_B);
    b.open(&f1).unwrap();
    assert_eq!(b.open(&fmax).unwrap().freshness, Freshness::InOrder { lost: u64::MAX - 2 });
    // Nothing can follow u64::MAX within that boot.
    assert_eq!(b.open(&fmax), Err(DecodeError::Replayed));
}

#[test]
fn replay_windows_are_per_sender() {
    let (mut a, mut b) = pair();
    let mut bmc_a = Endpoint::new(key(), BMC_A, 100);
    for _ in 0..5 {
        b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    }
    // A's BMC shares A's boot id here but is a different sender: its seq 1 is fresh.
    assert_eq!(b.open(&seal(&mut bmc_a, HOST_B, &control())).unwrap().freshness, Freshness::First);
}

#[test]
fn replay_across_paths_is_refused() {
    // One endpoint serves every path: a frame seen on path H and replayed on path L is
    // still a replay.
    let (mut a, mut b) = pair();
    let f = seal(&mut a, HOST_B, &heartbeat());
    b.open(&f).unwrap();
    assert_eq!(b.open(&f), Err(DecodeError::Replayed));
}

#[test]
fn sequence_numbers_are_per_recipient() {
    // A's host talks to B's host (path H) and to its own BMC (path L), interleaved: each
    // receiver sees its own gap-free sequence, so `lost` counts only its own frames.
    let mut a = Endpoint::new(key(), HOST_A, 100);
    let mut b = Endpoint::new(key(), HOST_B, 200);
    let mut bmc = Endpoint::new(key(), BMC_A, 300);
    for seq in 1..=4 {
        assert_eq!((a.next_seq(HOST_B), a.next_seq(BMC_A)), (seq, seq));
        let to_b = b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
        let to_bmc = bmc.open(&seal(&mut a, BMC_A, &heartbeat())).unwrap();
        assert_eq!((to_b.header.seq, to_bmc.header.seq), (seq, seq));
        if seq > 1 {
            assert_eq!(to_b.freshness, Freshness::InOrder { lost: 0 });
            assert_eq!(to_bmc.freshness, Freshness::InOrder { lost: 0 });
        }
    }
    assert_eq!((a.next_seq(HOST_A), a.next_seq(BMC_B)), (1, 1), "untouched recipients");
}

// ---------------------------------------------------------------------------------
// Recipient binding: a frame opens only at the station it was sealed for
// ---------------------------------------------------------------------------------

#[test]
fn wrong_recipient_fence_peer_for_bmc_a_replayed_to_host_b() {
    // Host A asks its BMC to fence B. Replayed to host B (same link key, and host B has
    // never seen a frame from host A with that sequence number), it must not open.
    let mut host_a = Endpoint::new(key(), HOST_A, 100);
    let fence = Message::Control(Control::FencePeer { epoch: 14, reset_host: true });
    let f = seal(&mut host_a, BMC_A, &fence);
    let mut host_b = Endpoint::new(key(), HOST_B, 200);
    assert_eq!(host_b.open(&f), Err(DecodeError::BadMac));
    assert_eq!(host_b.replay().last(HOST_A), None);
    assert_eq!(decode_frame(&key(), HOST_B, &f), Err(DecodeError::BadMac));
    // The intended recipient opens it.
    let mut bmc_a = Endpoint::new(key(), BMC_A, 300);
    assert_eq!(bmc_a.open(&f).unwrap().message, fence);
}

#[test]
fn wrong_recipient_every_other_station_refuses_the_frame() {
    for from in Sender::ALL {
        for to in Sender::ALL.into_iter().filter(|s| *s != from) {
            let f = frame_to(&key(), &header(from, 1, 1), &control(), to);
            for rx in Sender::ALL {
                let mut ep = Endpoint::new(key(), rx, 9);
                let got = ep.open(&f).map(|r| r.message);
                if rx == to {
                    assert_eq!(got, Ok(control()), "{from} -> {to}");
                } else {
                    assert_eq!(got, Err(DecodeError::BadMac), "{from} -> {to} opened at {rx}");
                }
            }
        }
    }
}

#[test]
fn wrong_recipient_is_not_on_the_wire() {
    // Same header and message for two recipients: identical bytes but for the tag.
    let h = header(HOST_A, 7, 1);
    let to_b = frame_to(&key(), &h, &heartbeat(), HOST_B);
    let to_bmc = frame_to(&key(), &h, &heartbeat(), BMC_A);
    let body = to_b.len() - TAG_LEN;
    assert_eq!(to_b.len(), to_bmc.len());
    assert_eq!(to_b[..body], to_bmc[..body]);
    assert_ne!(to_b[body..], to_bmc[body..]);
}

#[test]
fn from_self_reflected_frame_fails_the_mac() {
    // Our own frame bounced back at us was sealed for someone else.
    let (mut a, _) = pair();
    let f = seal(&mut a, HOST_B, &heartbeat());
    assert_eq!(a.open(&f), Err(DecodeError::BadMac));
    assert_eq!(a.replay().last(HOST_A), None);
}

#[test]
fn from_self_frame_addressed_to_ourselves() {
    let (mut a, _) = pair();
    let f = seal(&mut a, HOST_A, &heartbeat());
    assert_eq!(a.open(&f), Err(DecodeError::FromSelf));
    assert_eq!(a.replay().last(HOST_A), None);
}

#[test]
fn from_self_frame_from_another_boot_claiming_our_identity() {
    // A frame from an earlier boot of ourselves, addressed to us, is refused as well.
    let mut a = Endpoint::new(key(), HOST_A, 100);
    let f = frame_to(&key(), &header(HOST_A, 99, 50), &control(), HOST_A);
    assert_eq!(a.open(&f), Err(DecodeError::FromSelf));
}

#[test]
fn rejected_frames_do_not_advance_the_replay_state() {
    let (mut a, mut b) = pair();
    b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    // Forged future frames, each refused before the replay state is touched.
    let forged_mac = frame_to(&other_key(), &header(HOST_A, 100, 1_000), &heartbeat(), HOST_B);
    assert_eq!(b.open(&forged_mac), Err(DecodeError::BadMac));
    let mut h = raw_header(MAGIC, version::CURRENT, Kind::Heartbeat as u8, HOST_A.to_byte(), 100, 2_000);
    let bad_payload = forge_to(&key(), &h, &[0xFF; 4], HOST_B);
    assert_eq!(b.open(&bad_payload), Err(DecodeError::BadPayload));
    h[5] ^= 1; // a higher boot id (101), also with a bad payload: must not count as a restart
    assert_eq!(b.open(&forge_to(&key(), &h, &[0xFF; 4], HOST_B)), Err(DecodeError::BadPayload));
    // A valid future frame sealed for another station must not advance it either.
    let for_bmc = frame_to(&key(), &header(HOST_A, 101, 1), &heartbeat(), BMC_A);
    assert_eq!(b.open(&for_bmc), Err(DecodeError::BadMac));
    assert_eq!(b.replay().last(HOST_A), Some((100, 1)));
    assert_eq!(
        b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap().freshness,
        Freshness::InOrder { lost: 0 }
    );
}

// ---------------------------------------------------------------------------------
// EncodeError::BufferTooSmall
// ---------------------------------------------------------------------------------

#[test]
fn encode_frame_buffer_too_small_empty_buffer() {
    let h = header(HOST_A, 1, 1);
    assert_eq!(encode_frame(&key(), &h, &control(), RX, &mut []), Err(EncodeError::BufferTooSmall));
}

#[test]
fn encode_frame_buffer_too_small_below_header_plus_tag() {
    let h = header(HOST_A, 1, 1);
    for len in 0..HEADER_LEN + TAG_LEN {
        let mut buf = vec![0u8; len];
        assert_eq!(
            encode_frame(&key(), &h, &control(), RX, &mut buf),
            Err(EncodeError::BufferTooSmall),
            "{len}"
        );
    }
}

#[test]
fn encode_frame_buffer_too_small_by_one_byte() {
    let h = header(HOST_A, 1, 1);
    for m in [control(), heartbeat()] {
        let n = frame_with(&key(), &h, &m).len();
        let mut short = vec![0u8; n - 1];
        assert_eq!(encode_frame(&key(), &h, &m, RX, &mut short), Err(EncodeError::BufferTooSmall));
        let mut exact = vec![0u8; n];
        assert_eq!(encode_frame(&key(), &h, &m, RX, &mut exact), Ok(n));
    }
}

#[test]
fn endpoint_seal_buffer_too_small_does_not_consume_a_sequence_number() {
    let (mut a, mut b) = pair();
    let mut small = [0u8; 20];
    assert_eq!(a.seal(&heartbeat(), HOST_B, &mut small), Err(EncodeError::BufferTooSmall));
    assert_eq!(a.next_seq(HOST_B), 1);
    let got = b.open(&seal(&mut a, HOST_B, &heartbeat())).unwrap();
    assert_eq!(got.header.seq, 1);
}

#[test]
fn encode_stream_frame_buffer_too_small_empty_buffer() {
    assert_eq!(encode_stream_frame(&valid_frame(), &mut []), Err(EncodeError::BufferTooSmall));
    assert_eq!(encode_stream_frame(&[], &mut []), Err(EncodeError::BufferTooSmall));
}

#[test]
fn encode_stream_frame_buffer_too_small_by_one_byte() {
    for frame in [valid_frame(), frame_with(&key(), &header(HOST_B, 1, 1), &control()), vec![], vec![7; 10]] {
        let mut big = [0u8; MAX_STREAM_FRAME_LEN];
        let n = encode_stream_frame(&frame, &mut big).unwrap();
        assert!(n <= MAX_STREAM_FRAME_LEN);
        let mut short = vec![0u8; n - 1];
        assert_eq!(encode_stream_frame(&frame, &mut short), Err(EncodeError::BufferTooSmall));
        let mut exact = vec![0u8; n];
        assert_eq!(encode_stream_frame(&frame, &mut exact), Ok(n));
        assert_eq!(exact[..], big[..n]);
    }
}

#[test]
fn encode_stream_frame_rejects_a_frame_longer_than_max_frame_len() {
    let mut out = [0u8; 2 * MAX_STREAM_FRAME_LEN];
    assert_eq!(encode_stream_frame(&[1u8; MAX_FRAME_LEN + 1], &mut out), Err(EncodeError::BufferTooSmall));
    assert!(encode_stream_frame(&[1u8; MAX_FRAME_LEN], &mut out).is_ok());
}

#[test]
fn encode_stream_frame_always_fits_max_stream_frame_len() {
    // The documented guarantee, at every frame length and for the worst COBS case (no
    // zero byte at all) as well as the best (all zeros).
    for len in 0..=MAX_FRAME_LEN {
        for fill in [0x00u8, 0x01, 0xFF] {
            let mut out = [0u8; MAX_STREAM_FRAME_LEN];
            let n = encode_stream_frame(&vec![fill; len], &mut out).unwrap();
            assert!(n <= MAX_STREAM_FRAME_LEN);
        }
    }
}

// Regression test (fixed in core/src/wire/stream.rs, `encode_stream_frame`). The size
// check used to demand `frame.len() + frame.len() / 254 + 1 + 2` bytes, but COBS only
// needs the `len / 254` extra code byte when the frame holds a run of 254 non-zero bytes
// that does not end it, so for frames of 254..=256 bytes without such a run a buffer of
// exactly the returned length was refused with `BufferTooSmall` (smallest case:
// `[0x01; 254]` encodes to 257 bytes, 258 were demanded). `encode_stream_frame` now
// encodes into scratch space and copies out the exact length, so any buffer at least as
// long as the encoding fits, as `EncodeError::BufferTooSmall` documents.
#[test]
fn encode_stream_frame_fits_a_buffer_of_exactly_the_encoded_length() {
    let mut failures = Vec::new();
    for len in 0..=MAX_FRAME_LEN {
        for fill in [0x00u8, 0x01, 0xFF] {
            for lead in [None, Some(0u8)] {
                let mut frame = vec![fill; len];
                if let (Some(z), Some(first)) = (lead, frame.first_mut()) {
                    *first = z;
                }
                let mut big = [0u8; MAX_STREAM_FRAME_LEN];
                let n = encode_stream_frame(&frame, &mut big).unwrap();
                let mut exact = vec![0u8; n];
                if encode_stream_frame(&frame, &mut exact) != Ok(n) {
                    failures.push((len, fill, lead, n));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "exact-size buffer refused for (len, fill, lead, encoded len): {failures:?}"
    );
}

// ---------------------------------------------------------------------------------
// Error bookkeeping
// ---------------------------------------------------------------------------------

#[test]
fn decode_error_indices_are_dense_and_names_distinct() {
    let all = [
        DecodeError::Truncated,
        DecodeError::Oversize,
        DecodeError::BadMagic,
        DecodeError::UnsupportedVersion(0),
        DecodeError::UnknownKind(0),
        DecodeError::BadSender(4),
        DecodeError::BadMac,
        DecodeError::Replayed,
        DecodeError::FromSelf,
        DecodeError::BadPayload,
        DecodeError::BadFraming,
    ];
    assert_eq!(all.len(), DecodeError::COUNT);
    for (i, e) in all.iter().enumerate() {
        assert_eq!(e.index(), i);
        assert!(!e.to_string().is_empty());
    }
    let names: std::collections::HashSet<_> = all.iter().map(|e| e.name()).collect();
    assert_eq!(names.len(), DecodeError::COUNT);
    assert_eq!(DecodeError::UnsupportedVersion(2).index(), DecodeError::UnsupportedVersion(0).index());
}
