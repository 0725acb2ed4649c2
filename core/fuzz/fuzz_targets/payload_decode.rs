//! The payload parser (postcard) behind a valid MAC.
//!
//! Random bytes never get past the MAC in `frame_decode`, so this target builds the
//! frame itself: a hand-written header whose kind and sender bytes come from the input,
//! the rest of the input as payload, and the correct tag for `RECEIVER` (the MAC of the
//! recipient byte, header and payload). Mutations of the payload therefore reach
//! `Message::decode_payload`.
//!
//! Input layout: see `failover_core_fuzz::split_payload_input`. Properties: no panic;
//! kind 0 and sender byte 4 are refused with `UnknownKind` / `BadSender`; any other
//! refusal is `BadPayload`; a successful decode re-encodes to identical bytes (so every
//! over-long varint is refused) and opens the same way through `Endpoint::open`.
#![no_main]

use failover_core::wire::{
    DecodeError, Endpoint, Freshness, HEADER_LEN, Kind, MAX_FRAME_LEN, Sender, TAG_LEN, decode_frame,
};
use failover_core_fuzz::{
    MAX_PAYLOAD_IN_FRAME, RECEIVER, check_reencodes, key, raw_header, split_payload_input, tag_for_receiver,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((kind, sender, payload)) = split_payload_input(data) else {
        return;
    };
    let payload = &payload[..payload.len().min(MAX_PAYLOAD_IN_FRAME)];
    let key = key();
    let mut frame = [0u8; MAX_FRAME_LEN];
    frame[..HEADER_LEN].copy_from_slice(&raw_header(kind, sender, 7, 1));
    frame[HEADER_LEN..HEADER_LEN + payload.len()].copy_from_slice(payload);
    let body = HEADER_LEN + payload.len();
    let tag = tag_for_receiver(&key, &frame[..body]);
    frame[body..body + TAG_LEN].copy_from_slice(&tag);
    let frame = &frame[..body + TAG_LEN];

    let decoded = decode_frame(&key, RECEIVER, frame);
    match (&decoded, Kind::from_byte(kind), Sender::from_byte(sender)) {
        (Err(e), None, _) => assert_eq!(*e, DecodeError::UnknownKind(kind)),
        (Err(e), Some(_), None) => assert_eq!(*e, DecodeError::BadSender(sender)),
        (Err(e), Some(_), Some(_)) => assert_eq!(*e, DecodeError::BadPayload),
        (Ok(f), Some(k), Some(s)) => {
            assert_eq!((f.header.kind, f.header.sender, f.header.boot_id, f.header.seq), (k, s, 7, 1));
            check_reencodes(&key, f, frame);
        }
        (Ok(f), _, _) => panic!("accepted a frame with kind {kind} sender {sender}: {f:?}"),
    }

    let mut endpoint = Endpoint::new(key, RECEIVER, 0xB007);
    match (decoded, endpoint.open(frame)) {
        (Ok(f), Ok(r)) => {
            assert_eq!((f.header, f.message), (r.header, r.message));
            assert_eq!(r.freshness, Freshness::First);
        }
        (Ok(f), Err(e)) => assert!(f.header.sender == RECEIVER && e == DecodeError::FromSelf, "{e:?}"),
        (Err(e1), Err(e2)) => assert_eq!(e1, e2),
        (Err(e), Ok(r)) => panic!("open accepted what decode_frame refused ({e:?}): {r:?}"),
    }
});
