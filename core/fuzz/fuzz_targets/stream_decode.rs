//! `StreamDecoder` on arbitrary bytes, fed in chunks whose sizes come from the input;
//! every yielded frame goes into `Endpoint::open`.
//!
//! Input layout: see `failover_core_fuzz::split_stream_input`. Properties: no panic;
//! `pending()` never exceeds `MAX_STREAM_FRAME_LEN`; `feed` always makes progress and
//! never claims more than it was given; yielded frames are at most `MAX_FRAME_LEN`
//! (empty ones are possible and refused by `open` as `Truncated`);
//! the events do not depend on how the stream was chunked (compared with one `feed`
//! of the whole stream); accepted frames re-encode to identical bytes.
#![no_main]

use failover_core::wire::{
    DecodeError, Endpoint, MAX_FRAME_LEN, MAX_STREAM_FRAME_LEN, StreamDecoder, decode_frame,
};
use failover_core_fuzz::{RECEIVER, check_reencodes, key, split_stream_input};
use libfuzzer_sys::fuzz_target;

/// What the decoder reported, owned so it can be compared across chunkings.
#[derive(Debug, PartialEq, Eq)]
enum Event {
    Frame(Vec<u8>),
    Error(DecodeError),
}

/// Feed `stream` in chunks of `sizes` (cycled; 0 = one empty feed, then a 1-byte chunk;
/// no sizes = the whole stream at once), handing every frame to `on_frame`. Returns the
/// events in order.
fn run(stream: &[u8], sizes: &[u8], mut on_frame: impl FnMut(&[u8])) -> Vec<Event> {
    let mut dec = StreamDecoder::new();
    let mut events = Vec::new();
    let mut rest = stream;
    let mut i = 0usize;
    while !rest.is_empty() {
        let size = if sizes.is_empty() { rest.len() } else { usize::from(sizes[i % sizes.len()]) };
        i += 1;
        if size == 0 {
            let before = dec.pending();
            let (used, ev) = dec.feed(&[]);
            assert_eq!(used, 0);
            assert!(ev.is_none());
            assert_eq!(dec.pending(), before);
        }
        let take = size.clamp(1, rest.len());
        let mut chunk = &rest[..take];
        rest = &rest[take..];
        while !chunk.is_empty() {
            let (used, ev) = dec.feed(chunk);
            assert!(used >= 1 && used <= chunk.len(), "feed consumed {used} of {}", chunk.len());
            match ev {
                Some(Ok(frame)) => {
                    // May be empty: a run of a lone COBS code byte `0x01` decodes to
                    // zero bytes; `open` refuses that as `Truncated`.
                    assert!(frame.len() <= MAX_FRAME_LEN, "frame of {} bytes", frame.len());
                    on_frame(frame);
                    events.push(Event::Frame(frame.to_vec()));
                }
                Some(Err(e)) => {
                    assert!(
                        matches!(e, DecodeError::Oversize | DecodeError::BadFraming),
                        "stream error {e:?}"
                    );
                    events.push(Event::Error(e));
                }
                None => assert_eq!(used, chunk.len(), "feed stopped early without an event"),
            }
            assert!(dec.pending() <= MAX_STREAM_FRAME_LEN, "pending() = {}", dec.pending());
            chunk = &chunk[used..];
        }
    }
    events
}

fuzz_target!(|data: &[u8]| {
    let (sizes, stream) = split_stream_input(data);
    let key = key();
    let mut endpoint = Endpoint::new(key.clone(), RECEIVER, 0xB007);
    let chunked = run(stream, sizes, |frame| {
        let decoded = decode_frame(&key, RECEIVER, frame);
        let opened = endpoint.open(frame);
        match (&decoded, &opened) {
            (Ok(f), Ok(r)) => {
                assert_eq!((&f.header, &f.message), (&r.header, &r.message));
                check_reencodes(&key, f, frame);
            }
            (Ok(_), Err(e)) => assert!(matches!(e, DecodeError::Replayed | DecodeError::FromSelf), "{e:?}"),
            (Err(e1), Err(e2)) => assert_eq!(e1, e2),
            (Err(e), Ok(r)) => panic!("open accepted what decode_frame refused ({e:?}): {r:?}"),
        }
    });
    let whole = run(stream, &[], |_| {});
    let one_by_one = run(stream, &[1], |_| {});
    assert_eq!(chunked, whole, "events depend on chunking");
    assert_eq!(chunked, one_by_one, "events depend on chunking");
});
