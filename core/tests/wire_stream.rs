//! Byte-stream (UART) framing scenarios: how [`StreamDecoder`] behaves on split reads,
//! line noise, overlong runs, lost delimiters and invalid COBS, and what it costs.
//!
//! Every frame the decoder hands out is checked with [`decode_frame`] / an
//! [`Endpoint`], as a receiver would: the stream layer only has to resynchronise, the
//! MAC decides what is real.

use failover_core::status::{DisabledReasons, Status};
use failover_core::wire::{
    CONFIG_CHUNK_LEN, ConfigChunk, Control, Controller, DecodeError, Digest, Endpoint, FencingState, Health,
    Heartbeat, MAX_FRAME_LEN, MAX_STREAM_FRAME_LEN, MacKey, Message, Sender, SoftwareVersion, Station,
    StreamDecoder, decode_frame, encode_stream_frame,
};
use proptest::collection::vec;
use proptest::prelude::*;

const BMC_A: Sender = Sender::new(Controller::A, Station::Bmc);
const HOST_A: Sender = Sender::new(Controller::A, Station::Host);

type Event = Result<Vec<u8>, DecodeError>;

fn key() -> MacKey {
    MacKey::new([0x17; 32])
}

fn control(epoch: u64) -> Message {
    Message::Control(Control::FencePeer { epoch, reset_host: true })
}

fn heartbeat(epoch: u64) -> Message {
    Message::Heartbeat(Heartbeat {
        status: Status::Backup,
        epoch,
        interval_ms: 100,
        disabled: DisabledReasons::NONE,
        health: Health {
            groups: heapless::Vec::new(),
            pools_imported: 0,
            pools_total: 1,
            fencing: FencingState::Ready,
            config_digest: Digest::of(b"cfg"),
            disk_set_digest: Digest::of(b"disks"),
            version: SoftwareVersion { major: 1, minor: 2, patch: 3 },
        },
    })
}

/// A config chunk with `len` data bytes of `fill` (0x00 gives many COBS blocks, a
/// non-zero fill long runs).
fn config(len: usize, fill: u8) -> Message {
    Message::ConfigChunk(ConfigChunk {
        digest: Digest::of(b"whole config"),
        total_len: 0,
        offset: 0,
        data: heapless::Vec::from_slice(&vec![fill; len]).expect("at most CONFIG_CHUNK_LEN bytes"),
    })
}

/// The BMC side of path L: seals frames for its host.
fn bmc() -> Endpoint {
    Endpoint::new(key(), BMC_A, 0xB0C)
}

/// The host side of path L.
fn host() -> Endpoint {
    Endpoint::new(key(), HOST_A, 0x40C)
}

/// `m` sealed by `ep` for A's host, the receiving end of path L in every test here.
fn seal(ep: &mut Endpoint, m: &Message) -> Vec<u8> {
    let mut buf = [0u8; MAX_FRAME_LEN];
    let n = ep.seal(m, HOST_A, &mut buf).expect("a MAX_FRAME_LEN buffer always fits");
    buf[..n].to_vec()
}

fn stream(frame: &[u8]) -> Vec<u8> {
    let mut buf = [0u8; MAX_STREAM_FRAME_LEN];
    let n = encode_stream_frame(frame, &mut buf).expect("a MAX_STREAM_FRAME_LEN buffer always fits");
    buf[..n].to_vec()
}

/// Feed `input` until consumed, collecting events; every call must make progress.
fn feed_all(dec: &mut StreamDecoder, mut input: &[u8], events: &mut Vec<Event>) {
    while !input.is_empty() {
        let (used, event) = dec.feed(input);
        assert!((1..=input.len()).contains(&used), "feed consumed {used} of {}", input.len());
        if let Some(event) = event {
            events.push(event.map(<[u8]>::to_vec));
        }
        input = &input[used..];
    }
}

fn events_of(chunks: &[&[u8]]) -> Vec<Event> {
    let mut dec = StreamDecoder::new();
    let mut events = Vec::new();
    for c in chunks {
        feed_all(&mut dec, c, &mut events);
    }
    events
}

/// The messages a host would accept from the stream events, in order.
fn accepted(events: &[Event]) -> Vec<Message> {
    let mut rx = host();
    events.iter().filter_map(|e| e.as_ref().ok()).filter_map(|f| rx.open(f).ok()).map(|r| r.message).collect()
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
fn noise(len: usize, seed: u64, allow_zero: bool) -> Vec<u8> {
    let mut x = seed | 1;
    let mut out = Vec::with_capacity(len);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let b = (x >> 24) as u8;
        if allow_zero || b != 0 {
            out.push(b);
        }
    }
    out
}

// ---------------------------------------------------------------------------------
// Split reads
// ---------------------------------------------------------------------------------

#[test]
fn split_read_at_every_offset_yields_the_frames() {
    let mut tx = bmc();
    let frames =
        [seal(&mut tx, &heartbeat(1)), seal(&mut tx, &control(2)), seal(&mut tx, &config(150, 0x33))];
    let bytes: Vec<u8> = frames.iter().flat_map(|f| stream(f)).collect();
    let expected: Vec<Event> = frames.iter().cloned().map(Ok).collect();
    for at in 0..=bytes.len() {
        let (head, tail) = bytes.split_at(at);
        assert_eq!(events_of(&[head, tail]), expected, "split at {at}");
    }
}

#[test]
fn split_read_at_every_pair_of_offsets_yields_the_frame() {
    let frame = seal(&mut bmc(), &heartbeat(5));
    let bytes = stream(&frame);
    for i in 0..=bytes.len() {
        for j in i..=bytes.len() {
            let events = events_of(&[&bytes[..i], &bytes[i..j], &bytes[j..]]);
            assert_eq!(events, vec![Ok(frame.clone())], "split at {i} and {j}");
        }
    }
}

#[test]
fn byte_at_a_time_yields_each_frame_on_its_closing_delimiter() {
    let mut tx = bmc();
    let frames =
        [seal(&mut tx, &config(CONFIG_CHUNK_LEN, 0xFF)), seal(&mut tx, &config(CONFIG_CHUNK_LEN, 0))];
    let mut dec = StreamDecoder::new();
    let mut rx = host();
    for frame in &frames {
        let bytes = stream(frame);
        for (i, b) in bytes.iter().enumerate() {
            let (used, event) = dec.feed(std::slice::from_ref(b));
            assert_eq!(used, 1);
            if i + 1 < bytes.len() {
                assert!(event.is_none(), "event at byte {i} of {}", bytes.len());
            } else {
                let got = event.expect("frame at the closing delimiter").unwrap();
                assert_eq!(got, &frame[..]);
                assert!(rx.open(got).is_ok());
            }
        }
    }
}

#[test]
fn one_feed_call_stops_at_the_first_frame_and_reports_bytes_consumed() {
    let mut tx = bmc();
    let f1 = seal(&mut tx, &control(1));
    let f2 = seal(&mut tx, &control(2));
    let s1 = stream(&f1);
    let s2 = stream(&f2);
    let bytes = [s1.clone(), s2.clone()].concat();
    let mut dec = StreamDecoder::new();
    let (used, event) = dec.feed(&bytes);
    assert_eq!(used, s1.len());
    assert_eq!(event, Some(Ok(&f1[..])));
    let (used2, event) = dec.feed(&bytes[used..]);
    assert_eq!(used2, s2.len());
    assert_eq!(event, Some(Ok(&f2[..])));
}

#[test]
fn back_to_back_delimiters_and_empty_input_produce_nothing() {
    let mut dec = StreamDecoder::new();
    assert_eq!(dec.feed(&[]), (0, None));
    assert_eq!(dec.feed(&[0; 100]), (100, None));
    assert_eq!(dec.pending(), 0);
    // Idle line noise of zeros around a frame does not disturb it.
    let frame = seal(&mut bmc(), &control(3));
    let bytes = [vec![0; 10], stream(&frame), vec![0; 10]].concat();
    assert_eq!(events_of(&[&bytes]), vec![Ok(frame)]);
}

#[test]
fn maximum_length_frames_round_trip() {
    // Frames of MAX_FRAME_LEN bytes in the worst (no zeros) and best (all zeros) COBS
    // cases; the stream layer does not care that they are not authenticated.
    for fill in [0x00u8, 0x01, 0xFF] {
        let frame = vec![fill; MAX_FRAME_LEN];
        let bytes = stream(&frame);
        assert!(bytes.len() <= MAX_STREAM_FRAME_LEN);
        assert_eq!(events_of(&[&bytes]), vec![Ok(frame)]);
    }
}

// ---------------------------------------------------------------------------------
// Line noise
// ---------------------------------------------------------------------------------

#[test]
fn garbage_without_zeros_between_frames_does_not_cost_the_next_frame() {
    let mut tx = bmc();
    let m1 = heartbeat(1);
    let m2 = control(2);
    let f1 = seal(&mut tx, &m1);
    let f2 = seal(&mut tx, &m2);
    for (seed, len) in [(1, 1), (2, 7), (3, 40), (4, 200), (5, MAX_STREAM_FRAME_LEN)] {
        let junk = noise(len, seed, false);
        let bytes = [stream(&f1), junk, stream(&f2)].concat();
        let events = events_of(&[&bytes]);
        assert_eq!(events.first(), Some(&Ok(f1.clone())));
        assert_eq!(events.last(), Some(&Ok(f2.clone())), "junk of {len} bytes");
        assert_eq!(events.len(), 3, "one event for the junk run: {events:?}");
        assert_eq!(accepted(&events), vec![m1.clone(), m2.clone()]);
    }
}

#[test]
fn garbage_with_zeros_between_frames_does_not_cost_the_next_frame() {
    let mut tx = bmc();
    let m1 = config(100, 0);
    let m2 = heartbeat(9);
    let f1 = seal(&mut tx, &m1);
    let f2 = seal(&mut tx, &m2);
    for seed in 1..40u64 {
        let junk = noise(5 + (seed as usize * 13) % 600, seed, true);
        let bytes = [stream(&f1), junk, stream(&f2)].concat();
        let events = events_of(&[&bytes]);
        assert_eq!(events.first(), Some(&Ok(f1.clone())));
        assert_eq!(events.last(), Some(&Ok(f2.clone())), "seed {seed}");
        assert_eq!(accepted(&events), vec![m1.clone(), m2.clone()], "seed {seed}");
    }
}

#[test]
fn garbage_before_the_first_frame_is_dropped() {
    let m = control(4);
    let f = seal(&mut bmc(), &m);
    for allow_zero in [false, true] {
        let bytes = [noise(77, 99, allow_zero), stream(&f)].concat();
        let events = events_of(&[&bytes]);
        assert_eq!(events.last(), Some(&Ok(f.clone())));
        assert_eq!(accepted(&events), vec![m.clone()]);
    }
}

#[test]
fn a_corrupted_byte_costs_only_the_frame_it_lands_in() {
    let mut tx = bmc();
    let (m1, m2, m3) = (control(1), heartbeat(2), control(3));
    let (f1, f2, f3) = (seal(&mut tx, &m1), seal(&mut tx, &m2), seal(&mut tx, &m3));
    let s2 = stream(&f2);
    for at in 1..s2.len() - 1 {
        for replacement in [0x00, s2[at] ^ 0x40] {
            let mut bad = s2.clone();
            bad[at] = replacement;
            let bytes = [stream(&f1), bad, stream(&f3)].concat();
            let events = events_of(&[&bytes]);
            assert_eq!(accepted(&events), vec![m1.clone(), m3.clone()], "byte {at} set to {replacement:#x}");
        }
    }
}

// ---------------------------------------------------------------------------------
// Oversize runs
// ---------------------------------------------------------------------------------

#[test]
fn oversize_run_without_delimiter_reports_oversize_once_and_the_next_frame_decodes() {
    let m = heartbeat(3);
    let f = seal(&mut bmc(), &m);
    for len in [MAX_STREAM_FRAME_LEN + 1, 1000, 10_000] {
        let bytes = [vec![0], vec![0x55; len], stream(&f)].concat();
        let events = events_of(&[&bytes]);
        assert_eq!(events, vec![Err(DecodeError::Oversize), Ok(f.clone())], "run of {len}");
        assert_eq!(accepted(&events), vec![m.clone()]);
    }
}

#[test]
fn oversize_run_fed_in_pieces_reports_oversize_once() {
    let f = seal(&mut bmc(), &control(8));
    let run = vec![0xA5; 5 * MAX_STREAM_FRAME_LEN];
    let mut dec = StreamDecoder::new();
    let mut events = Vec::new();
    for piece in run.chunks(37) {
        feed_all(&mut dec, piece, &mut events);
        assert!(dec.pending() <= MAX_STREAM_FRAME_LEN);
    }
    assert!(events.is_empty(), "nothing is reported before the run ends: {events:?}");
    feed_all(&mut dec, &stream(&f), &mut events);
    assert_eq!(events, vec![Err(DecodeError::Oversize), Ok(f)]);
}

#[test]
fn the_overflow_threshold_is_max_stream_frame_len() {
    // A run of exactly MAX_STREAM_FRAME_LEN 0xFF bytes fits the buffer and is judged as
    // COBS (its second 0xFF block is cut short: BadFraming); one byte more overflows.
    let at_limit = [vec![0], vec![0xFF; MAX_STREAM_FRAME_LEN], vec![0]].concat();
    assert_eq!(events_of(&[&at_limit]), vec![Err(DecodeError::BadFraming)]);
    let over = [vec![0], vec![0xFF; MAX_STREAM_FRAME_LEN + 1], vec![0]].concat();
    assert_eq!(events_of(&[&over]), vec![Err(DecodeError::Oversize)]);
}

#[test]
fn valid_cobs_of_a_frame_longer_than_max_frame_len_is_oversize() {
    // encode_stream_frame refuses such frames, so encode the COBS by hand.
    for len in [MAX_FRAME_LEN + 1, MAX_FRAME_LEN + 3] {
        let frame: Vec<u8> = (0..len).map(|i| (i % 7) as u8).collect();
        let mut cobs = vec![0u8; cobs::max_encoding_length(len)];
        let n = cobs::encode(&frame, &mut cobs);
        assert!(n <= MAX_STREAM_FRAME_LEN, "fits the decoder buffer, so the decoded length is what fails");
        let bytes = [vec![0], cobs[..n].to_vec(), vec![0]].concat();
        assert_eq!(events_of(&[&bytes]), vec![Err(DecodeError::Oversize)], "frame of {len}");
    }
}

// ---------------------------------------------------------------------------------
// Lost delimiters
// ---------------------------------------------------------------------------------

/// `s1` and `s2` with the delimiters between them removed.
fn glue(s1: &[u8], s2: &[u8]) -> Vec<u8> {
    assert_eq!((s1.last(), s2.first()), (Some(&0), Some(&0)));
    [&s1[..s1.len() - 1], &s2[1..]].concat()
}

#[test]
fn lost_delimiter_between_short_frames_fails_the_mac_and_the_next_frame_decodes() {
    let mut tx = bmc();
    let (m1, m2, m3) = (control(1), control(2), control(3));
    let (f1, f2, f3) = (seal(&mut tx, &m1), seal(&mut tx, &m2), seal(&mut tx, &m3));
    let bytes = [glue(&stream(&f1), &stream(&f2)), stream(&f3)].concat();
    let events = events_of(&[&bytes]);
    assert_eq!(events.len(), 2);
    // The glued run is valid COBS for `f1 | 0 | f2`: it fits a frame, but its "tag" is
    // f2's tag over a different body.
    let glued = events[0].clone().unwrap();
    assert_eq!(glued, [f1.clone(), vec![0], f2.clone()].concat());
    assert_eq!(decode_frame(&key(), HOST_A, &glued), Err(DecodeError::BadMac));
    assert_eq!(events[1], Ok(f3));
    assert_eq!(accepted(&events), vec![m3]);
}

#[test]
fn lost_delimiter_between_frames_decoding_past_max_frame_len_is_oversize() {
    // Frame lengths chosen so the glued run fits the decoder buffer but decodes to more
    // than MAX_FRAME_LEN bytes: the stream layer reports Oversize.
    let mut tx = bmc();
    let m1 = config(84, 0x11);
    let m2 = config(85, 0x22);
    let m3 = control(3);
    let (f1, f2, f3) = (seal(&mut tx, &m1), seal(&mut tx, &m2), seal(&mut tx, &m3));
    let run = glue(&stream(&f1), &stream(&f2));
    assert!(run.len() - 2 <= MAX_STREAM_FRAME_LEN, "run of {} fits the buffer", run.len() - 2);
    assert!(f1.len() + 1 + f2.len() > MAX_FRAME_LEN);
    let events = events_of(&[&[run, stream(&f3)].concat()]);
    assert_eq!(events, vec![Err(DecodeError::Oversize), Ok(f3)]);
    assert_eq!(accepted(&events), vec![m3]);
}

#[test]
fn lost_delimiter_between_long_frames_overflows_and_the_next_frame_decodes() {
    let mut tx = bmc();
    let m1 = config(CONFIG_CHUNK_LEN, 0x11);
    let m2 = config(CONFIG_CHUNK_LEN, 0x22);
    let m3 = heartbeat(3);
    let (f1, f2, f3) = (seal(&mut tx, &m1), seal(&mut tx, &m2), seal(&mut tx, &m3));
    let run = glue(&stream(&f1), &stream(&f2));
    assert!(run.len() - 2 > MAX_STREAM_FRAME_LEN);
    let events = events_of(&[&[run, stream(&f3)].concat()]);
    assert_eq!(events, vec![Err(DecodeError::Oversize), Ok(f3)]);
    assert_eq!(accepted(&events), vec![m3]);
}

#[test]
fn lost_closing_delimiter_alone_is_recovered_by_the_next_leading_delimiter() {
    // Only the first frame's closing delimiter is lost: the next frame's leading
    // delimiter still closes it, so nothing is lost at all.
    let mut tx = bmc();
    let (m1, m2) = (heartbeat(1), control(2));
    let (f1, f2) = (seal(&mut tx, &m1), seal(&mut tx, &m2));
    let s1 = stream(&f1);
    let bytes = [&s1[..s1.len() - 1], &stream(&f2)[..]].concat();
    let events = events_of(&[&bytes]);
    assert_eq!(events, vec![Ok(f1), Ok(f2)]);
    assert_eq!(accepted(&events), vec![m1, m2]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Whatever two frames are glued together, the glued run never yields an accepted
    /// frame, it is rejected with one of the documented errors, and the next frame
    /// decodes.
    #[test]
    fn lost_delimiter_never_yields_a_frame_and_the_next_frame_decodes(
        len1 in 0usize..=CONFIG_CHUNK_LEN,
        len2 in 0usize..=CONFIG_CHUNK_LEN,
        fill1 in any::<u8>(),
        fill2 in any::<u8>(),
    ) {
        let mut tx = bmc();
        let (m1, m2, m3) = (config(len1, fill1), config(len2, fill2), control(3));
        let (f1, f2, f3) = (seal(&mut tx, &m1), seal(&mut tx, &m2), seal(&mut tx, &m3));
        let bytes = [glue(&stream(&f1), &stream(&f2)), stream(&f3)].concat();
        let events = events_of(&[&bytes]);
        prop_assert_eq!(events.len(), 2);
        match &events[0] {
            Ok(glued) => prop_assert_eq!(decode_frame(&key(), HOST_A, glued), Err(DecodeError::BadMac)),
            Err(e) => prop_assert!(matches!(e, DecodeError::Oversize | DecodeError::BadFraming), "{e:?}"),
        }
        prop_assert_eq!(&events[1], &Ok(f3));
        prop_assert_eq!(accepted(&events), vec![m3]);
    }

    #[test]
    fn arbitrary_noise_between_frames_never_costs_the_next_frame(
        junk in vec(any::<u8>(), 0..700),
        cut in any::<proptest::sample::Index>(),
    ) {
        let mut tx = bmc();
        let (m1, m2) = (heartbeat(1), control(2));
        let (f1, f2) = (seal(&mut tx, &m1), seal(&mut tx, &m2));
        let bytes = [stream(&f1), junk, stream(&f2)].concat();
        let at = cut.index(bytes.len() + 1);
        let events = events_of(&[&bytes[..at], &bytes[at..]]);
        prop_assert_eq!(events.first(), Some(&Ok(f1)));
        prop_assert_eq!(events.last(), Some(&Ok(f2)));
        prop_assert_eq!(accepted(&events), vec![m1, m2]);
    }
}

// ---------------------------------------------------------------------------------
// Invalid COBS
// ---------------------------------------------------------------------------------

#[test]
fn invalid_cobs_code_pointing_past_the_run_reports_bad_framing() {
    // Code 5 promises four data bytes; the run ends after one.
    assert_eq!(events_of(&[&[0, 5, 1, 0]]), vec![Err(DecodeError::BadFraming)]);
    // A 0xFF block promises 254 data bytes.
    assert_eq!(events_of(&[&[0, 0xFF, 1, 2, 3, 0]]), vec![Err(DecodeError::BadFraming)]);
    // A valid first block followed by a code running past the end.
    assert_eq!(events_of(&[&[0, 2, 9, 3, 1, 0]]), vec![Err(DecodeError::BadFraming)]);
}

#[test]
fn invalid_cobs_is_followed_by_a_decodable_frame() {
    let m = heartbeat(6);
    let f = seal(&mut bmc(), &m);
    let bytes = [vec![0, 0x30, 1, 2, 0], stream(&f)].concat();
    let events = events_of(&[&bytes]);
    assert_eq!(events, vec![Err(DecodeError::BadFraming), Ok(f)]);
    assert_eq!(accepted(&events), vec![m]);
}

#[test]
fn a_valid_cobs_run_that_is_not_a_frame_is_left_to_the_mac() {
    // The stream layer hands out any well-formed run; decode_frame refuses it.
    let events = events_of(&[&[0, 3, 0xFA, 0x11, 0]]);
    assert_eq!(events, vec![Ok(vec![0xFA, 0x11])]);
    assert_eq!(decode_frame(&key(), HOST_A, &[0xFA, 0x11]), Err(DecodeError::Truncated));
}

// ---------------------------------------------------------------------------------
// pending(), reset() and the memory bound
// ---------------------------------------------------------------------------------

#[test]
fn pending_reports_the_partial_frame_length() {
    let f = seal(&mut bmc(), &heartbeat(1));
    let bytes = stream(&f);
    let mut dec = StreamDecoder::new();
    assert_eq!(dec.pending(), 0);
    // After the leading delimiter, every body byte is held until the closing one.
    for k in 0..bytes.len() - 1 {
        let (used, event) = dec.feed(&bytes[k..=k]);
        assert_eq!((used, event), (1, None));
        assert_eq!(dec.pending(), k, "after {} bytes", k + 1);
    }
    let (_, event) = dec.feed(&bytes[bytes.len() - 1..]);
    assert_eq!(event, Some(Ok(&f[..])));
    assert_eq!(dec.pending(), 0, "a handed-out frame is not pending");
}

#[test]
fn pending_after_errors_is_zero() {
    let mut dec = StreamDecoder::new();
    let mut events = Vec::new();
    feed_all(&mut dec, &[0, 5, 1, 0], &mut events);
    assert_eq!(events, vec![Err(DecodeError::BadFraming)]);
    assert_eq!(dec.pending(), 0);
    feed_all(&mut dec, &[0x55; 2 * MAX_STREAM_FRAME_LEN], &mut events);
    assert!(dec.pending() > 0 && dec.pending() <= MAX_STREAM_FRAME_LEN);
    feed_all(&mut dec, &[0], &mut events);
    assert_eq!(events.last(), Some(&Err(DecodeError::Oversize)));
    assert_eq!(dec.pending(), 0);
}

#[test]
fn reset_drops_the_partial_frame() {
    let mut tx = bmc();
    let (m1, m2) = (config(120, 0x10), control(2));
    let (f1, f2) = (seal(&mut tx, &m1), seal(&mut tx, &m2));
    let s1 = stream(&f1);
    let half = s1.len() / 2;
    let mut dec = StreamDecoder::new();
    let mut events = Vec::new();
    feed_all(&mut dec, &s1[..half], &mut events);
    assert_eq!(dec.pending(), half - 1);
    dec.reset();
    assert_eq!(dec.pending(), 0);
    // The rest of f1 arrives (say, the port was reopened mid-frame), then f2.
    feed_all(&mut dec, &s1[half..], &mut events);
    feed_all(&mut dec, &stream(&f2), &mut events);
    assert_eq!(events.last(), Some(&Ok(f2)));
    assert_eq!(accepted(&events), vec![m2]);
}

#[test]
fn reset_clears_an_overflowed_run() {
    let f = seal(&mut bmc(), &control(1));
    let mut dec = StreamDecoder::new();
    let mut events = Vec::new();
    feed_all(&mut dec, &[0x77; 3 * MAX_STREAM_FRAME_LEN], &mut events);
    dec.reset();
    feed_all(&mut dec, &stream(&f), &mut events);
    assert_eq!(events, vec![Ok(f)], "no Oversize after a reset");
}

#[test]
fn default_decoder_is_empty() {
    let mut dec = StreamDecoder::default();
    assert_eq!(dec.pending(), 0);
    let f = seal(&mut bmc(), &control(1));
    let mut events = Vec::new();
    feed_all(&mut dec, &stream(&f), &mut events);
    assert_eq!(events, vec![Ok(f)]);
}

#[test]
fn stream_decoder_memory_is_bounded_by_one_stream_frame() {
    assert!(
        size_of::<StreamDecoder>() <= MAX_STREAM_FRAME_LEN + 64,
        "StreamDecoder is {} bytes",
        size_of::<StreamDecoder>()
    );
    assert!(MAX_STREAM_FRAME_LEN >= cobs::max_encoding_length(MAX_FRAME_LEN) + 2);
}
