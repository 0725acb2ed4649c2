//! `decode_frame` and `Endpoint::open` on arbitrary bytes with the fixed key.
//!
//! Properties: no panic; `open` agrees with `decode_frame` (same frame, or the same
//! error, or `FromSelf` for our own identity); an accepted frame is refused when
//! replayed, and accepted again as `First` once its sender is forgotten; no other
//! recipient can decode it; every successful decode re-encodes to identical bytes.
#![no_main]

use failover_core::wire::{DecodeError, Endpoint, Freshness, Sender, decode_frame};
use failover_core_fuzz::{RECEIVER, check_reencodes, is_frame_error, key};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let key = key();
    let decoded = decode_frame(&key, RECEIVER, data);
    match &decoded {
        Ok(frame) => {
            check_reencodes(&key, frame, data);
            // Bound to RECEIVER: no other station can decode it.
            for other in Sender::ALL.into_iter().filter(|s| *s != RECEIVER) {
                assert_eq!(decode_frame(&key, other, data), Err(DecodeError::BadMac), "decodes for {other}");
            }
        }
        Err(e) => assert!(is_frame_error(*e), "decode_frame returned {e:?}"),
    }

    let mut endpoint = Endpoint::new(key, RECEIVER, 0xB007);
    let opened = endpoint.open(data);
    match (decoded, opened) {
        (Ok(frame), Ok(received)) => {
            assert_ne!(frame.header.sender, RECEIVER);
            assert_eq!(received.header, frame.header);
            assert_eq!(received.message, frame.message);
            assert_eq!(received.freshness, Freshness::First);
            assert_eq!(
                endpoint.replay().last(frame.header.sender),
                Some((frame.header.boot_id, frame.header.seq))
            );
            // The same bytes again are a replay, and refusing them changes nothing.
            assert_eq!(endpoint.open(data), Err(DecodeError::Replayed));
            assert_eq!(
                endpoint.replay().last(frame.header.sender),
                Some((frame.header.boot_id, frame.header.seq))
            );
            // Forgotten (judged silent), the sender is heard again whatever its boot id.
            endpoint.forget(frame.header.sender);
            assert_eq!(endpoint.replay().last(frame.header.sender), None);
            assert_eq!(endpoint.open(data).map(|r| r.freshness), Ok(Freshness::First));
        }
        (Ok(frame), Err(e)) => {
            assert_eq!(frame.header.sender, RECEIVER, "open refused a good frame with {e:?}");
            assert_eq!(e, DecodeError::FromSelf);
        }
        (Err(e1), Err(e2)) => assert_eq!(e1, e2, "open and decode_frame disagree"),
        (Err(e), Ok(r)) => panic!("open accepted what decode_frame refused ({e:?}): {r:?}"),
    }
});
