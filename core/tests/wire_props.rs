//! Property tests for the wire protocol.
//!
//! Strategies generate every message type (with every enum variant and the full range
//! of every field, biased towards varint edges) and the properties check the contract
//! stated in `wire/mod.rs`: frames round-trip exactly and fit [`MAX_FRAME_LEN`],
//! frames open only for the recipient they were sealed for, endpoints round-trip across
//! two stations with per-recipient sequence numbers, the replay rule (monotonic boot ids,
//! `forget`) holds and no replayed frame locks out a live sender, the COBS stream framing
//! round-trips under any split of the input, decoding never panics on any byte string,
//! whatever decodes is the canonical encoding of what it decodes to, and no single bit
//! flip of a valid frame is ever accepted.

use failover_core::status::{DisabledReasons, Status};
use failover_core::wire::{
    AGE_NEVER, BmcHeartbeat, CONFIG_CHUNK_LEN, ConfigChunk, Control, Controller, DecodeError, Digest,
    EncodeError, Endpoint, FenceMethod, FenceOutcome, FenceReport, FencingState, Freshness, GroupState,
    HEADER_LEN, Header, Health, Heartbeat, HostLiveness, KEY_CHUNK_LEN, KeyEscrowChunk, Kind, MAX_FRAME_LEN,
    MAX_GROUPS, MAX_PAYLOAD_LEN, MAX_STREAM_FRAME_LEN, MacKey, Message, Received, Relay, Sender,
    SoftwareVersion, Station, StreamDecoder, TAG_LEN, decode_frame, encode_frame, encode_stream_frame,
    version,
};
use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::{Index, select};

// ---------------------------------------------------------------------------------
// Every enum variant, listed once. The exhaustive `match`es below stop compiling when
// a variant is appended, so the strategies cannot silently miss it.
// ---------------------------------------------------------------------------------

const STATUSES: [Status; 6] =
    [Status::Master, Status::Backup, Status::Electing, Status::Importing, Status::Error, Status::Single];
const FENCING_STATES: [FencingState; 4] =
    [FencingState::Unavailable, FencingState::Ready, FencingState::Holding, FencingState::Fenced];
const HOST_LIVENESSES: [HostLiveness; 4] =
    [HostLiveness::Unknown, HostLiveness::Alive, HostLiveness::Hung, HostLiveness::Dead];
const FENCE_METHODS: [FenceMethod; 3] =
    [FenceMethod::Reservation, FenceMethod::Enclosure, FenceMethod::HostReset];
const FENCE_OUTCOMES: [FenceOutcome; 4] =
    [FenceOutcome::Done, FenceOutcome::Partial, FenceOutcome::Failed, FenceOutcome::Lifted];
const CONTROLLERS: [Controller; 2] = [Controller::A, Controller::B];

fn status_is_listed(s: Status) -> bool {
    match s {
        Status::Master
        | Status::Backup
        | Status::Electing
        | Status::Importing
        | Status::Error
        | Status::Single => STATUSES.contains(&s),
    }
}

fn fencing_state_is_listed(s: FencingState) -> bool {
    match s {
        FencingState::Unavailable | FencingState::Ready | FencingState::Holding | FencingState::Fenced => {
            FENCING_STATES.contains(&s)
        }
    }
}

fn host_liveness_is_listed(h: HostLiveness) -> bool {
    match h {
        HostLiveness::Unknown | HostLiveness::Alive | HostLiveness::Hung | HostLiveness::Dead => {
            HOST_LIVENESSES.contains(&h)
        }
    }
}

fn fence_method_is_listed(m: FenceMethod) -> bool {
    match m {
        FenceMethod::Reservation | FenceMethod::Enclosure | FenceMethod::HostReset => {
            FENCE_METHODS.contains(&m)
        }
    }
}

fn fence_outcome_is_listed(o: FenceOutcome) -> bool {
    match o {
        FenceOutcome::Done | FenceOutcome::Partial | FenceOutcome::Failed | FenceOutcome::Lifted => {
            FENCE_OUTCOMES.contains(&o)
        }
    }
}

fn controller_is_listed(c: Controller) -> bool {
    match c {
        Controller::A | Controller::B => CONTROLLERS.contains(&c),
    }
}

/// The variant index of a control message (exhaustive, so a new variant must be added
/// to [`control`] as well).
fn control_variant(c: &Control) -> usize {
    match c {
        Control::TakeoverRequest { .. } => 0,
        Control::TakeoverAck { .. } => 1,
        Control::GivebackRequest { .. } => 2,
        Control::GivebackAck { .. } => 3,
        Control::BecomePassive { .. } => 4,
        Control::FencePeer { .. } => 5,
        Control::UnfencePeer { .. } => 6,
        Control::SyncRequest { .. } => 7,
    }
}
const CONTROL_VARIANTS: usize = 8;

fn message_variant(m: &Message) -> usize {
    match m {
        Message::Heartbeat(_) => 0,
        Message::BmcHeartbeat(_) => 1,
        Message::Relay(_) => 2,
        Message::Control(_) => 3,
        Message::ConfigChunk(_) => 4,
        Message::KeyEscrowChunk(_) => 5,
        Message::FenceReport(_) => 6,
    }
}
const MESSAGE_VARIANTS: usize = 7;

// ---------------------------------------------------------------------------------
// Strategies
// ---------------------------------------------------------------------------------

/// A `u64` biased towards the varint length boundaries and the extremes.
fn u64_edge() -> impl Strategy<Value = u64> {
    prop_oneof![
        1 => Just(0u64),
        1 => Just(u64::MAX),
        2 => (0u32..64).prop_map(|s| 1u64 << s),
        2 => (1u32..64).prop_map(|s| (1u64 << s) - 1),
        1 => 0u64..=300,
        4 => any::<u64>(),
    ]
}

fn u32_edge() -> impl Strategy<Value = u32> {
    prop_oneof![
        1 => Just(0u32),
        1 => Just(u32::MAX),
        1 => Just(AGE_NEVER),
        2 => (0u32..32).prop_map(|s| 1u32 << s),
        2 => (1u32..32).prop_map(|s| (1u32 << s) - 1),
        4 => any::<u32>(),
    ]
}

fn u16_edge() -> impl Strategy<Value = u16> {
    prop_oneof![
        1 => Just(0u16),
        1 => Just(u16::MAX),
        2 => (0u32..16).prop_map(|s| 1u16 << s),
        2 => (1u32..16).prop_map(|s| ((1u32 << s) - 1) as u16),
        4 => any::<u16>(),
    ]
}

fn status() -> impl Strategy<Value = Status> {
    select(STATUSES.to_vec())
}

fn fencing_state() -> impl Strategy<Value = FencingState> {
    select(FENCING_STATES.to_vec())
}

fn host_liveness() -> impl Strategy<Value = HostLiveness> {
    select(HOST_LIVENESSES.to_vec())
}

fn fence_method() -> impl Strategy<Value = FenceMethod> {
    select(FENCE_METHODS.to_vec())
}

fn fence_outcome() -> impl Strategy<Value = FenceOutcome> {
    select(FENCE_OUTCOMES.to_vec())
}

fn controller() -> impl Strategy<Value = Controller> {
    select(CONTROLLERS.to_vec())
}

fn sender() -> impl Strategy<Value = Sender> {
    select(Sender::ALL.to_vec())
}

fn kind() -> impl Strategy<Value = Kind> {
    select(Kind::ALL.to_vec())
}

/// Unknown bits are kept on the wire, so any `u32` is a valid set.
fn disabled_reasons() -> impl Strategy<Value = DisabledReasons> {
    u32_edge().prop_map(DisabledReasons::from_bits)
}

fn digest() -> impl Strategy<Value = Digest> {
    any::<[u8; 8]>().prop_map(Digest)
}

fn software_version() -> impl Strategy<Value = SoftwareVersion> {
    any::<(u8, u8, u8)>().prop_map(|(major, minor, patch)| SoftwareVersion { major, minor, patch })
}

fn group_state() -> impl Strategy<Value = GroupState> {
    any::<(u8, u8, u8)>().prop_map(|(group, up, total)| GroupState { group, up, total })
}

fn health() -> impl Strategy<Value = Health> {
    (
        vec(group_state(), 0..=MAX_GROUPS),
        u16_edge(),
        u16_edge(),
        fencing_state(),
        digest(),
        digest(),
        software_version(),
    )
        .prop_map(
            |(groups, pools_imported, pools_total, fencing, config_digest, disk_set_digest, version)| {
                Health {
                    groups: heapless::Vec::from_slice(&groups).expect("at most MAX_GROUPS groups"),
                    pools_imported,
                    pools_total,
                    fencing,
                    config_digest,
                    disk_set_digest,
                    version,
                }
            },
        )
}

fn heartbeat() -> impl Strategy<Value = Heartbeat> {
    (status(), u64_edge(), u32_edge(), disabled_reasons(), health()).prop_map(
        |(status, epoch, interval_ms, disabled, health)| Heartbeat {
            status,
            epoch,
            interval_ms,
            disabled,
            health,
        },
    )
}

fn bmc_heartbeat() -> impl Strategy<Value = BmcHeartbeat> {
    (host_liveness(), u32_edge(), status(), u64_edge(), any::<bool>()).prop_map(
        |(host, host_age_ms, host_status, host_epoch, fencing_peer)| BmcHeartbeat {
            host,
            host_age_ms,
            host_status,
            host_epoch,
            fencing_peer,
        },
    )
}

fn relay() -> impl Strategy<Value = Relay> {
    (any::<bool>(), u32_edge(), host_liveness(), u32_edge(), status(), u64_edge()).prop_map(
        |(
            peer_bmc_alive,
            peer_bmc_age_ms,
            peer_host,
            peer_host_age_ms,
            peer_host_status,
            peer_host_epoch,
        )| {
            Relay {
                peer_bmc_alive,
                peer_bmc_age_ms,
                peer_host,
                peer_host_age_ms,
                peer_host_status,
                peer_host_epoch,
            }
        },
    )
}

fn control() -> impl Strategy<Value = Control> {
    prop_oneof![
        u64_edge().prop_map(|epoch| Control::TakeoverRequest { epoch }),
        u64_edge().prop_map(|epoch| Control::TakeoverAck { epoch }),
        u64_edge().prop_map(|epoch| Control::GivebackRequest { epoch }),
        u64_edge().prop_map(|epoch| Control::GivebackAck { epoch }),
        u64_edge().prop_map(|epoch| Control::BecomePassive { epoch }),
        (u64_edge(), any::<bool>()).prop_map(|(epoch, reset_host)| Control::FencePeer { epoch, reset_host }),
        u64_edge().prop_map(|epoch| Control::UnfencePeer { epoch }),
        (digest(), any::<bool>()).prop_map(|(digest, push)| Control::SyncRequest { digest, push }),
    ]
}

/// Chunk data: any length up to the capacity, sometimes exactly full, sometimes free of
/// zero bytes (long non-zero runs exercise the COBS block boundaries).
fn chunk_bytes(max: usize) -> impl Strategy<Value = std::vec::Vec<u8>> {
    prop_oneof![
        3 => vec(any::<u8>(), 0..=max),
        1 => vec(any::<u8>(), max..=max),
        1 => vec(1u8..=255, 0..=max),
        1 => vec(1u8..=255, max..=max),
    ]
}

fn config_chunk() -> impl Strategy<Value = ConfigChunk> {
    (digest(), u32_edge(), u32_edge(), chunk_bytes(CONFIG_CHUNK_LEN)).prop_map(
        |(digest, total_len, offset, data)| ConfigChunk {
            digest,
            total_len,
            offset,
            data: heapless::Vec::from_slice(&data).expect("at most CONFIG_CHUNK_LEN bytes"),
        },
    )
}

fn key_escrow_chunk() -> impl Strategy<Value = KeyEscrowChunk> {
    (u64_edge(), u16_edge(), u16_edge(), any::<[u8; 12]>(), chunk_bytes(KEY_CHUNK_LEN), any::<[u8; 16]>())
        .prop_map(|(pool, total_len, offset, nonce, ciphertext, tag)| KeyEscrowChunk {
            pool,
            total_len,
            offset,
            nonce,
            ciphertext: heapless::Vec::from_slice(&ciphertext).expect("at most KEY_CHUNK_LEN bytes"),
            tag,
        })
}

fn fence_report() -> impl Strategy<Value = FenceReport> {
    (u64_edge(), controller(), fence_method(), fence_outcome(), u16_edge(), u16_edge(), u32_edge()).prop_map(
        |(epoch, target, method, outcome, done, total, elapsed_ms)| FenceReport {
            epoch,
            target,
            method,
            outcome,
            done,
            total,
            elapsed_ms,
        },
    )
}

/// Any message. Each family is boxed: the unboxed strategy's value tree is large enough
/// to overflow a test thread's stack in debug builds.
fn message() -> BoxedStrategy<Message> {
    prop_oneof![
        heartbeat().prop_map(Message::Heartbeat).boxed(),
        bmc_heartbeat().prop_map(Message::BmcHeartbeat).boxed(),
        relay().prop_map(Message::Relay).boxed(),
        control().prop_map(Message::Control).boxed(),
        config_chunk().prop_map(Message::ConfigChunk).boxed(),
        key_escrow_chunk().prop_map(Message::KeyEscrowChunk).boxed(),
        fence_report().prop_map(Message::FenceReport).boxed(),
    ]
    .boxed()
}

fn mac_key() -> impl Strategy<Value = MacKey> {
    any::<[u8; 32]>().prop_map(MacKey::new)
}

/// A header as a sender would fill it in. The kind is arbitrary on purpose:
/// `encode_frame` must replace it with the message's kind.
fn header() -> impl Strategy<Value = Header> {
    (kind(), sender(), u32_edge(), u64_edge()).prop_map(|(kind, sender, boot_id, seq)| Header {
        version: version::CURRENT,
        kind,
        sender,
        boot_id,
        seq,
    })
}

/// Two different senders.
fn sender_pair() -> impl Strategy<Value = (Sender, Sender)> {
    (0usize..4, 1usize..4).prop_map(|(i, d)| (Sender::ALL[i], Sender::ALL[(i + d) % 4]))
}

/// Arbitrary frame-sized byte strings for the stream framing, some without zeros.
fn frame_bytes() -> impl Strategy<Value = std::vec::Vec<u8>> {
    prop_oneof![
        2 => vec(any::<u8>(), 0..=MAX_FRAME_LEN),
        1 => vec(1u8..=255, 0..=MAX_FRAME_LEN),
        1 => vec(1u8..=255, (MAX_FRAME_LEN - 4)..=MAX_FRAME_LEN),
        1 => vec(prop_oneof![Just(0u8), Just(1u8), Just(0xFFu8)], 0..=MAX_FRAME_LEN),
    ]
}

// ---------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------

const HOST_A: Sender = Sender::new(Controller::A, Station::Host);
const HOST_B: Sender = Sender::new(Controller::B, Station::Host);

fn encode(key: &MacKey, header: &Header, message: &Message, to: Sender) -> std::vec::Vec<u8> {
    let mut buf = [0u8; MAX_FRAME_LEN];
    let n = encode_frame(key, header, message, to, &mut buf).expect("a MAX_FRAME_LEN buffer always fits");
    buf[..n].to_vec()
}

fn seal(ep: &mut Endpoint, to: Sender, message: &Message) -> std::vec::Vec<u8> {
    let mut buf = [0u8; MAX_FRAME_LEN];
    let n = ep.seal(message, to, &mut buf).expect("a MAX_FRAME_LEN buffer always fits");
    buf[..n].to_vec()
}

/// A station other than `s` (the receiver of frames `s` sends in tests that need one).
fn other_than(s: Sender) -> Sender {
    Sender::ALL[(s.index() + 1) % 4]
}

fn stream_encode(frame: &[u8]) -> std::vec::Vec<u8> {
    let mut buf = [0u8; MAX_STREAM_FRAME_LEN];
    let n = encode_stream_frame(frame, &mut buf).expect("a MAX_STREAM_FRAME_LEN buffer always fits");
    buf[..n].to_vec()
}

type Event = Result<std::vec::Vec<u8>, DecodeError>;

/// Feed `chunk` to `dec` until it is consumed, collecting every event. Checks that
/// every call makes progress and that the decoder's bounds hold.
fn feed_all(dec: &mut StreamDecoder, mut chunk: &[u8], events: &mut std::vec::Vec<Event>) {
    while !chunk.is_empty() {
        let (used, event) = dec.feed(chunk);
        assert!(used >= 1, "feed made no progress on {} bytes", chunk.len());
        assert!(used <= chunk.len(), "feed consumed {used} of {} bytes", chunk.len());
        if let Some(event) = event {
            if let Ok(frame) = event {
                assert!(frame.len() <= MAX_FRAME_LEN, "stream frame of {} bytes handed out", frame.len());
            }
            events.push(event.map(<[u8]>::to_vec));
        }
        assert!(dec.pending() <= MAX_STREAM_FRAME_LEN);
        chunk = &chunk[used..];
    }
}

/// Cut `bytes` at the (sorted, deduplicated) positions picked by `cuts`.
fn split_at_indices<'a>(bytes: &'a [u8], cuts: &[Index]) -> std::vec::Vec<&'a [u8]> {
    let mut at: std::vec::Vec<usize> = cuts.iter().map(|c| c.index(bytes.len() + 1)).collect();
    at.sort_unstable();
    at.dedup();
    let mut pieces = std::vec::Vec::new();
    let mut start = 0;
    for cut in at {
        pieces.push(&bytes[start..cut]);
        start = cut;
    }
    pieces.push(&bytes[start..]);
    pieces
}

/// Which errors a flip of bit `bit` of byte `byte` of a valid frame may produce.
fn acceptable_flip_error(byte: usize, err: DecodeError) -> bool {
    match byte {
        0 | 1 => err == DecodeError::BadMagic,
        2 => matches!(err, DecodeError::UnsupportedVersion(v) if v != version::CURRENT),
        3 => matches!(err, DecodeError::UnknownKind(_) | DecodeError::BadMac),
        4 => matches!(err, DecodeError::BadSender(_) | DecodeError::BadMac),
        _ => err == DecodeError::BadMac,
    }
}

// ---------------------------------------------------------------------------------
// Deterministic coverage checks for the strategies
// ---------------------------------------------------------------------------------

#[test]
fn enum_variant_lists_are_complete_and_distinct() {
    assert!(STATUSES.iter().all(|s| status_is_listed(*s)));
    assert!(FENCING_STATES.iter().all(|s| fencing_state_is_listed(*s)));
    assert!(HOST_LIVENESSES.iter().all(|h| host_liveness_is_listed(*h)));
    assert!(FENCE_METHODS.iter().all(|m| fence_method_is_listed(*m)));
    assert!(FENCE_OUTCOMES.iter().all(|o| fence_outcome_is_listed(*o)));
    assert!(CONTROLLERS.iter().all(|c| controller_is_listed(*c)));
    let names: std::collections::HashSet<_> = STATUSES.iter().map(|s| s.name()).collect();
    assert_eq!(names.len(), STATUSES.len());
}

#[test]
fn every_enum_variant_round_trips_in_a_frame() {
    let key = MacKey::new([0x5A; 32]);
    let header =
        Header { version: version::CURRENT, kind: Kind::Heartbeat, sender: HOST_B, boot_id: 9, seq: 3 };
    let to = HOST_A;
    let mut messages = std::vec::Vec::new();
    for status in STATUSES {
        for fencing in FENCING_STATES {
            let health = Health {
                groups: heapless::Vec::new(),
                pools_imported: 1,
                pools_total: 2,
                fencing,
                config_digest: Digest::of(b"config"),
                disk_set_digest: Digest::of(b"disks"),
                version: SoftwareVersion { major: 1, minor: 2, patch: 3 },
            };
            messages.push(Message::Heartbeat(Heartbeat {
                status,
                epoch: 7,
                interval_ms: 500,
                disabled: DisabledReasons::NONE,
                health,
            }));
        }
        for host in HOST_LIVENESSES {
            messages.push(Message::BmcHeartbeat(BmcHeartbeat {
                host,
                host_age_ms: AGE_NEVER,
                host_status: status,
                host_epoch: 1,
                fencing_peer: true,
            }));
            messages.push(Message::Relay(Relay {
                peer_bmc_alive: false,
                peer_bmc_age_ms: 10,
                peer_host: host,
                peer_host_age_ms: AGE_NEVER,
                peer_host_status: status,
                peer_host_epoch: u64::MAX,
            }));
        }
    }
    for epoch in [0, u64::MAX] {
        for reset_host in [false, true] {
            for c in [
                Control::TakeoverRequest { epoch },
                Control::TakeoverAck { epoch },
                Control::GivebackRequest { epoch },
                Control::GivebackAck { epoch },
                Control::BecomePassive { epoch },
                Control::FencePeer { epoch, reset_host },
                Control::UnfencePeer { epoch },
                Control::SyncRequest { digest: Digest([epoch as u8; 8]), push: reset_host },
            ] {
                messages.push(Message::Control(c));
            }
        }
    }
    for target in CONTROLLERS {
        for method in FENCE_METHODS {
            for outcome in FENCE_OUTCOMES {
                messages.push(Message::FenceReport(FenceReport {
                    epoch: 4,
                    target,
                    method,
                    outcome,
                    done: 1,
                    total: 2,
                    elapsed_ms: 3,
                }));
            }
        }
    }
    let control_seen: std::collections::HashSet<_> = messages
        .iter()
        .filter_map(|m| if let Message::Control(c) = m { Some(control_variant(c)) } else { None })
        .collect();
    assert_eq!(control_seen.len(), CONTROL_VARIANTS);
    for message in messages {
        let bytes = encode(&key, &header, &message, to);
        let frame = decode_frame(&key, to, &bytes).expect("valid frame");
        assert_eq!(frame.message, message);
        assert_eq!(frame.header.kind, message.kind());
    }
}

#[test]
fn the_largest_messages_fit_max_frame_len() {
    let key = MacKey::new([1; 32]);
    let header = Header {
        version: version::CURRENT,
        kind: Kind::Heartbeat,
        sender: HOST_A,
        boot_id: u32::MAX,
        seq: u64::MAX,
    };
    let full_groups = [GroupState { group: 255, up: 255, total: 255 }; MAX_GROUPS];
    let biggest = [
        Message::Heartbeat(Heartbeat {
            status: Status::Single,
            epoch: u64::MAX,
            interval_ms: u32::MAX,
            disabled: DisabledReasons::from_bits(u32::MAX),
            health: Health {
                groups: heapless::Vec::from_slice(&full_groups).unwrap(),
                pools_imported: u16::MAX,
                pools_total: u16::MAX,
                fencing: FencingState::Fenced,
                config_digest: Digest([0xFF; 8]),
                disk_set_digest: Digest([0xFF; 8]),
                version: SoftwareVersion { major: 255, minor: 255, patch: 255 },
            },
        }),
        Message::ConfigChunk(ConfigChunk {
            digest: Digest([0xFF; 8]),
            total_len: u32::MAX,
            offset: u32::MAX,
            data: heapless::Vec::from_slice(&[0xFF; CONFIG_CHUNK_LEN]).unwrap(),
        }),
        Message::KeyEscrowChunk(KeyEscrowChunk {
            pool: u64::MAX,
            total_len: u16::MAX,
            offset: u16::MAX,
            nonce: [0xFF; 12],
            ciphertext: heapless::Vec::from_slice(&[0xFF; KEY_CHUNK_LEN]).unwrap(),
            tag: [0xFF; 16],
        }),
    ];
    for message in biggest {
        let bytes = encode(&key, &header, &message, HOST_B);
        assert!(bytes.len() <= MAX_FRAME_LEN);
        assert!(bytes.len() - HEADER_LEN - TAG_LEN <= MAX_PAYLOAD_LEN);
        assert_eq!(decode_frame(&key, HOST_B, &bytes).unwrap().message, message);
        let stream = stream_encode(&bytes);
        assert!(stream.len() <= MAX_STREAM_FRAME_LEN);
    }
}

// ---------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_frame_then_decode_frame_round_trips_exactly(
        key in mac_key(),
        header in header(),
        message in message(),
        to in sender(),
    ) {
        let mut buf = [0u8; MAX_FRAME_LEN];
        let n = encode_frame(&key, &header, &message, to, &mut buf).unwrap();
        prop_assert!(n <= MAX_FRAME_LEN);
        prop_assert!(n >= HEADER_LEN + TAG_LEN);
        prop_assert!(n - HEADER_LEN - TAG_LEN <= MAX_PAYLOAD_LEN);
        let frame = decode_frame(&key, to, &buf[..n]).unwrap();
        prop_assert_eq!(frame.header, Header { kind: message.kind(), ..header });
        prop_assert_eq!(frame.message, message);
    }

    #[test]
    fn frames_open_only_for_their_recipient(
        key in mac_key(),
        header in header(),
        message in message(),
        to in sender(),
    ) {
        let bytes = encode(&key, &header, &message, to);
        for rx in Sender::ALL {
            let decoded = decode_frame(&key, rx, &bytes);
            let opened = Endpoint::new(key.clone(), rx, 1).open(&bytes).map(|r| r.message);
            if rx == to {
                prop_assert_eq!(decoded.map(|f| f.message), Ok(message.clone()));
                let expected = if rx == header.sender { Err(DecodeError::FromSelf) } else { Ok(message.clone()) };
                prop_assert_eq!(opened, expected);
            } else {
                prop_assert_eq!(decoded, Err(DecodeError::BadMac));
                prop_assert_eq!(opened, Err(DecodeError::BadMac));
            }
        }
        // The recipient is not on the wire: only the tag differs between recipients.
        let other = encode(&key, &header, &message, other_than(to));
        let body = bytes.len() - TAG_LEN;
        prop_assert_eq!(&bytes[..body], &other[..body]);
        prop_assert_ne!(&bytes[body..], &other[body..]);
    }

    #[test]
    fn encoding_is_deterministic_and_independent_of_buffer_size_and_contents(
        key in mac_key(),
        header in header(),
        message in message(),
        to in sender(),
        fill in any::<u8>(),
        extra in 0usize..400,
    ) {
        let reference = encode(&key, &header, &message, to);
        let mut big = vec![fill; reference.len() + extra];
        let n = encode_frame(&key, &header, &message, to, &mut big).unwrap();
        prop_assert_eq!(&big[..n], &reference[..]);
        // Exactly the frame length fits; one byte less does not.
        let mut exact = vec![fill; reference.len()];
        prop_assert_eq!(encode_frame(&key, &header, &message, to, &mut exact), Ok(reference.len()));
        prop_assert_eq!(&exact[..], &reference[..]);
        let mut short = vec![fill; reference.len() - 1];
        prop_assert_eq!(
            encode_frame(&key, &header, &message, to, &mut short),
            Err(EncodeError::BufferTooSmall)
        );
    }

    #[test]
    fn frames_under_one_key_do_not_decode_under_another(
        key in any::<[u8; 32]>(),
        other in any::<[u8; 32]>(),
        header in header(),
        message in message(),
    ) {
        prop_assume!(key != other);
        let bytes = encode(&MacKey::new(key), &header, &message, HOST_A);
        prop_assert_eq!(decode_frame(&MacKey::new(other), HOST_A, &bytes), Err(DecodeError::BadMac));
    }

    #[test]
    fn endpoint_seal_then_open_round_trips_between_a_host_and_b_host(
        raw in any::<[u8; 32]>(),
        boot_a in any::<u32>(),
        boot_b in any::<u32>(),
        traffic in vec((message(), any::<bool>(), any::<bool>()), 1..16),
    ) {
        let mut a = Endpoint::new(MacKey::new(raw), HOST_A, boot_a);
        let mut b = Endpoint::new(MacKey::new(raw), HOST_B, boot_b);
        // Last delivered sequence number per direction, for the expected loss count.
        let (mut last_ab, mut last_ba): (Option<u64>, Option<u64>) = (None, None);
        for (i, (message, deliver_ab, deliver_ba)) in traffic.iter().enumerate() {
            let seq = i as u64 + 1;
            prop_assert_eq!(a.next_seq(HOST_B), seq);
            prop_assert_eq!(b.next_seq(HOST_A), seq);
            let from_a = seal(&mut a, HOST_B, message);
            let from_b = seal(&mut b, HOST_A, message);
            for (deliver, bytes, rx, tx_sender, tx_boot, last) in [
                (*deliver_ab, &from_a, &mut b, HOST_A, boot_a, &mut last_ab),
                (*deliver_ba, &from_b, &mut a, HOST_B, boot_b, &mut last_ba),
            ] {
                if !deliver {
                    continue;
                }
                let got = rx.open(bytes).unwrap();
                let freshness = match *last {
                    None => Freshness::First,
                    Some(prev) => Freshness::InOrder { lost: seq - prev - 1 },
                };
                let expected = Received {
                    header: Header {
                        version: version::CURRENT,
                        kind: message.kind(),
                        sender: tx_sender,
                        boot_id: tx_boot,
                        seq,
                    },
                    message: message.clone(),
                    freshness,
                };
                prop_assert_eq!(got, expected);
                prop_assert_eq!(rx.replay().last(tx_sender), Some((tx_boot, seq)));
                *last = Some(seq);
                // The same frame again is a replay.
                prop_assert_eq!(rx.open(bytes), Err(DecodeError::Replayed));
            }
        }
    }

    #[test]
    fn endpoint_seal_then_open_round_trips_between_any_two_senders(
        key in mac_key(),
        (tx, rx) in sender_pair(),
        boots in any::<(u32, u32)>(),
        message in message(),
    ) {
        let mut sender = Endpoint::new(key.clone(), tx, boots.0);
        let mut receiver = Endpoint::new(key, rx, boots.1);
        let bytes = seal(&mut sender, rx, &message);
        let got = receiver.open(&bytes).unwrap();
        prop_assert_eq!(got.header.sender, tx);
        prop_assert_eq!(got.header.boot_id, boots.0);
        prop_assert_eq!(got.header.seq, 1);
        prop_assert_eq!(got.freshness, Freshness::First);
        prop_assert_eq!(got.message, message.clone());
        // A station never accepts its own frames back: reflected, a frame sealed for
        // someone else fails the MAC; sealed for itself, it is refused as from itself.
        prop_assert_eq!(sender.open(&bytes), Err(DecodeError::BadMac));
        let to_self = seal(&mut sender, tx, &message);
        prop_assert_eq!(sender.open(&to_self), Err(DecodeError::FromSelf));
    }

    #[test]
    fn sequence_numbers_count_per_recipient(
        key in mac_key(),
        tx in sender(),
        boot in any::<u32>(),
        recipients in vec(sender(), 1..24),
    ) {
        let message = Message::Control(Control::BecomePassive { epoch: 3 });
        let mut ep = Endpoint::new(key.clone(), tx, boot);
        let mut receivers = Sender::ALL.map(|s| Endpoint::new(key.clone(), s, 0));
        let mut sent = [0u64; 4];
        for to in recipients {
            prop_assert_eq!(ep.next_seq(to), sent[to.index()] + 1);
            let bytes = seal(&mut ep, to, &message);
            sent[to.index()] += 1;
            let got = receivers[to.index()].open(&bytes);
            if to == tx {
                prop_assert_eq!(got, Err(DecodeError::FromSelf));
                continue;
            }
            let got = got.unwrap();
            prop_assert_eq!(got.header.seq, sent[to.index()]);
            // Frames to other recipients are not losses for this one.
            let expected = if sent[to.index()] == 1 { Freshness::First } else { Freshness::InOrder { lost: 0 } };
            prop_assert_eq!(got.freshness, expected);
        }
    }

    #[test]
    fn replay_rule_is_monotonic_boot_ids_then_sequence_numbers(
        key in mac_key(),
        (tx, rx) in sender_pair(),
        first in (u32_edge(), u64_edge()),
        second in (u32_edge(), u64_edge()),
        forget in any::<bool>(),
    ) {
        let message = Message::Control(Control::TakeoverRequest { epoch: 1 });
        let frame = |(boot_id, seq): (u32, u64)| {
            let header = Header { version: version::CURRENT, kind: Kind::Control, sender: tx, boot_id, seq };
            encode(&key, &header, &message, rx)
        };
        let mut ep = Endpoint::new(key.clone(), rx, 1);
        prop_assert_eq!(ep.open(&frame(first)).map(|r| r.freshness), Ok(Freshness::First));
        if forget {
            ep.forget(tx);
            ep.forget(tx);
        }
        let expected = if forget {
            Ok(Freshness::First)
        } else if second.0 > first.0 {
            Ok(Freshness::Restarted { previous_boot: first.0 })
        } else if second.0 < first.0 || second.1 <= first.1 {
            Err(DecodeError::Replayed)
        } else {
            Ok(Freshness::InOrder { lost: second.1 - first.1 - 1 })
        };
        prop_assert_eq!(ep.open(&frame(second)).map(|r| r.freshness), expected);
        let last = if expected.is_ok() { second } else { first };
        prop_assert_eq!(ep.replay().last(tx), Some(last));
    }

    /// However recorded frames (from older boots, or already delivered) are interleaved
    /// with a live sender's traffic, every live frame opens, and once one has, every
    /// recorded frame is refused.
    #[test]
    fn no_replayed_frame_locks_out_the_live_sender(
        key in mac_key(),
        (tx, rx) in sender_pair(),
        live_boot in 1u32..=u32::MAX,
        old_boots in vec((any::<Index>(), 1usize..4), 0..4),
        script in vec(prop_oneof![Just(None), any::<Index>().prop_map(Some)], 1..40),
    ) {
        let message = Message::Control(Control::GivebackAck { epoch: 9 });
        let mut recorded = std::vec::Vec::new();
        for (boot, frames) in old_boots {
            let mut old = Endpoint::new(key.clone(), tx, boot.index(live_boot as usize) as u32);
            for _ in 0..frames {
                recorded.push(seal(&mut old, rx, &message));
            }
        }
        let mut live = Endpoint::new(key.clone(), tx, live_boot);
        let mut receiver = Endpoint::new(key.clone(), rx, 7);
        let mut live_heard = 0u64;
        for step in script {
            match step {
                None => {
                    let bytes = seal(&mut live, rx, &message);
                    let got = receiver.open(&bytes);
                    prop_assert!(got.is_ok(), "live frame refused: {:?}", got);
                    live_heard += 1;
                    recorded.push(bytes);
                }
                Some(i) if !recorded.is_empty() => {
                    let got = receiver.open(&recorded[i.index(recorded.len())]);
                    if live_heard > 0 {
                        prop_assert_eq!(got.map(|r| r.freshness), Err(DecodeError::Replayed));
                    }
                }
                Some(_) => {}
            }
        }
        if live_heard > 0 {
            prop_assert_eq!(receiver.replay().last(tx), Some((live_boot, live_heard)));
        }
    }

    #[test]
    fn stream_frame_round_trips_under_arbitrary_split_points(
        frame in frame_bytes(),
        cuts in vec(any::<Index>(), 0..12),
    ) {
        let stream = stream_encode(&frame);
        prop_assert!(stream.len() <= MAX_STREAM_FRAME_LEN);
        prop_assert_eq!(stream[0], 0);
        prop_assert_eq!(stream[stream.len() - 1], 0);
        prop_assert!(!stream[1..stream.len() - 1].contains(&0), "COBS body contains a zero");

        let mut dec = StreamDecoder::new();
        let mut events = std::vec::Vec::new();
        for piece in split_at_indices(&stream, &cuts) {
            feed_all(&mut dec, piece, &mut events);
        }
        prop_assert_eq!(events, vec![Ok(frame)]);
        prop_assert_eq!(dec.pending(), 0);
    }

    #[test]
    fn stream_frame_round_trips_byte_at_a_time(frame in frame_bytes()) {
        let stream = stream_encode(&frame);
        let mut dec = StreamDecoder::new();
        let mut events = std::vec::Vec::new();
        for (i, byte) in stream.iter().enumerate() {
            let (used, event) = dec.feed(std::slice::from_ref(byte));
            prop_assert_eq!(used, 1);
            if let Some(event) = event {
                prop_assert_eq!(i, stream.len() - 1, "event before the closing delimiter");
                events.push(event.map(<[u8]>::to_vec));
            }
        }
        prop_assert_eq!(events, vec![Ok(frame)]);
    }

    #[test]
    fn stream_of_several_frames_round_trips_under_arbitrary_split_points(
        frames in vec(frame_bytes(), 1..6),
        cuts in vec(any::<Index>(), 0..24),
    ) {
        let stream: std::vec::Vec<u8> = frames.iter().flat_map(|f| stream_encode(f)).collect();
        let mut dec = StreamDecoder::new();
        let mut events = std::vec::Vec::new();
        for piece in split_at_indices(&stream, &cuts) {
            feed_all(&mut dec, piece, &mut events);
        }
        let expected: std::vec::Vec<Event> = frames.into_iter().map(Ok).collect();
        prop_assert_eq!(events, expected);
    }

    #[test]
    fn sealed_messages_round_trip_over_the_stream_framing(
        key in mac_key(),
        messages in vec(message(), 1..6),
        cuts in vec(any::<Index>(), 0..16),
    ) {
        let mut bmc = Endpoint::new(key.clone(), Sender::new(Controller::A, Station::Bmc), 77);
        let mut host = Endpoint::new(key, HOST_A, 78);
        let stream: std::vec::Vec<u8> =
            messages.iter().flat_map(|m| stream_encode(&seal(&mut bmc, HOST_A, m))).collect();
        let mut dec = StreamDecoder::new();
        let mut events = std::vec::Vec::new();
        for piece in split_at_indices(&stream, &cuts) {
            feed_all(&mut dec, piece, &mut events);
        }
        prop_assert_eq!(events.len(), messages.len());
        for (event, message) in events.into_iter().zip(&messages) {
            let got = host.open(&event.unwrap()).unwrap();
            prop_assert_eq!(&got.message, message);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2048))]

    #[test]
    fn decode_frame_never_panics_on_arbitrary_bytes(
        key in mac_key(),
        to in sender(),
        bytes in vec(any::<u8>(), 0..600),
    ) {
        let result = decode_frame(&key, to, &bytes);
        if bytes.len() > MAX_FRAME_LEN {
            prop_assert_eq!(result, Err(DecodeError::Oversize));
        } else if bytes.len() < HEADER_LEN {
            prop_assert_eq!(result, Err(DecodeError::Truncated));
        } else {
            // Random bytes never carry a valid tag.
            prop_assert!(result.is_err());
        }
    }

    #[test]
    fn endpoint_open_never_panics_on_arbitrary_bytes(
        key in mac_key(),
        me in sender(),
        inputs in vec(vec(any::<u8>(), 0..600), 1..4),
    ) {
        let mut ep = Endpoint::new(key, me, 1);
        for bytes in inputs {
            prop_assert!(ep.open(&bytes).is_err());
        }
        for s in Sender::ALL {
            prop_assert_eq!(ep.replay().last(s), None, "a rejected frame changed the replay state");
        }
    }

    #[test]
    fn stream_decoder_feed_never_panics_on_arbitrary_bytes(
        bytes in prop_oneof![
            3 => vec(any::<u8>(), 0..600),
            1 => vec(prop_oneof![Just(0u8), Just(1u8), Just(2u8), Just(0xFEu8), Just(0xFFu8)], 0..600),
            1 => vec(1u8..=255, 0..600),
        ],
        cuts in vec(any::<Index>(), 0..8),
    ) {
        let mut dec = StreamDecoder::new();
        let mut events = std::vec::Vec::new();
        for piece in split_at_indices(&bytes, &cuts) {
            feed_all(&mut dec, piece, &mut events);
        }
        // Never more events than delimiters.
        prop_assert!(events.len() <= bytes.iter().filter(|b| **b == 0).count());
        // And the decoder is still usable afterwards.
        let frame = [0xFA, 0x11, 0x00, 0x07];
        let mut tail = std::vec::Vec::new();
        feed_all(&mut dec, &stream_encode(&frame), &mut tail);
        prop_assert_eq!(tail.last().cloned(), Some(Ok(frame.to_vec())));
    }

    #[test]
    fn mangled_valid_frames_never_panic_and_are_rejected(
        key in mac_key(),
        header in header(),
        message in message(),
        edits in vec((any::<Index>(), any::<u8>()), 1..6),
        resize in prop_oneof![Just(None), (0usize..300).prop_map(Some)],
    ) {
        let to = other_than(header.sender);
        let original = encode(&key, &header, &message, to);
        let mut bytes = original.clone();
        for (at, value) in edits {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some(len) = resize {
            bytes.resize(len, 0xA5);
        }
        let result = decode_frame(&key, to, &bytes);
        if bytes == original {
            prop_assert!(result.is_ok());
        } else {
            prop_assert!(result.is_err(), "mangled frame accepted: {:?}", result);
        }
        let mut ep = Endpoint::new(key, to, 5);
        let _ = ep.open(&bytes);
    }

    /// A key holder can MAC any payload; payload parsing must still never panic, and
    /// whatever it accepts must be the canonical encoding of the message: re-encoding it
    /// gives back exactly the bytes that were accepted ("a frame means one thing").
    #[test]
    fn authenticated_arbitrary_payloads_never_panic_and_only_canonical_ones_decode(
        key in mac_key(),
        kind_byte in 1u8..=7,
        sender_byte in 0u8..4,
        to in sender(),
        payload in prop_oneof![
            vec(any::<u8>(), 0..=(MAX_FRAME_LEN - HEADER_LEN - TAG_LEN)),
            vec(0u8..4, 0..64),
            vec(prop_oneof![Just(0x00u8), Just(0x01u8), Just(0x80u8), Just(0x81u8)], 0..64),
        ],
    ) {
        let mut bytes = vec![0xFA, 0x11, version::CURRENT, kind_byte, sender_byte, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0];
        bytes.extend_from_slice(&payload);
        let tag = key.tag_parts(&[&[to.to_byte()], &bytes]);
        bytes.extend_from_slice(&tag);
        match decode_frame(&key, to, &bytes) {
            Ok(frame) => {
                prop_assert_eq!(frame.header.kind as u8, kind_byte);
                prop_assert_eq!(frame.message.kind() as u8, kind_byte);
                let again = encode(&key, &frame.header, &frame.message, to);
                prop_assert_eq!(&again, &bytes, "an accepted payload is not canonical");
            }
            Err(e) => prop_assert_eq!(e, DecodeError::BadPayload),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn flipping_any_single_bit_of_a_valid_frame_is_rejected(
        key in mac_key(),
        header in header(),
        message in message(),
    ) {
        let to = other_than(header.sender);
        let original = encode(&key, &header, &message, to);
        let mut receiver = Endpoint::new(key.clone(), to, 1);
        let mut bytes = original.clone();
        for byte in 0..bytes.len() {
            for bit in 0..8 {
                bytes[byte] ^= 1 << bit;
                match decode_frame(&key, to, &bytes) {
                    Ok(frame) => prop_assert!(false, "bit {bit} of byte {byte} flipped, still accepted: {frame:?}"),
                    Err(e) => prop_assert!(
                        acceptable_flip_error(byte, e),
                        "bit {} of byte {} flipped: unexpected {:?}", bit, byte, e
                    ),
                }
                prop_assert!(receiver.open(&bytes).is_err());
                bytes[byte] ^= 1 << bit;
            }
        }
        // None of the rejections disturbed the receiver: the genuine frame still opens.
        prop_assert_eq!(receiver.open(&original).map(|r| r.message), Ok(message));
    }

    #[test]
    fn flipping_any_single_bit_of_a_stream_frame_never_yields_a_different_frame(
        key in mac_key(),
        header in header(),
        message in message(),
    ) {
        let frame = encode(&key, &header, &message, HOST_B);
        let original = decode_frame(&key, HOST_B, &frame).unwrap();
        let mut stream = stream_encode(&frame);
        for byte in 0..stream.len() {
            for bit in 0..8 {
                stream[byte] ^= 1 << bit;
                let mut dec = StreamDecoder::new();
                let mut events = std::vec::Vec::new();
                feed_all(&mut dec, &stream, &mut events);
                for event in events.into_iter().flatten() {
                    if let Ok(decoded) = decode_frame(&key, HOST_B, &event) {
                        prop_assert_eq!(&decoded, &original, "bit {} of stream byte {} flipped", bit, byte);
                    }
                }
                stream[byte] ^= 1 << bit;
            }
        }
    }
}

#[test]
fn message_strategy_covers_every_kind() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let strategy = message();
    let mut seen = [false; MESSAGE_VARIANTS];
    let mut controls = [false; CONTROL_VARIANTS];
    for _ in 0..2000 {
        let m = strategy.new_tree(&mut runner).unwrap().current();
        seen[message_variant(&m)] = true;
        if let Message::Control(c) = &m {
            controls[control_variant(c)] = true;
        }
    }
    assert!(seen.iter().all(|s| *s), "message kinds generated: {seen:?}");
    assert!(controls.iter().all(|s| *s), "control variants generated: {controls:?}");
}
