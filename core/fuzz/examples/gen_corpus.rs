//! Seed corpus generator: valid frames of every message kind, sealed for the targets'
//! receiving identity, so the fuzzers start past the MAC.
//!
//! `cargo run --example gen_corpus [OUT_DIR]` (from core/fuzz; OUT_DIR defaults to
//! `core/fuzz/corpus`) writes `OUT_DIR/{frame_decode,stream_decode,payload_decode}/*`.

use std::fs;
use std::path::{Path, PathBuf};

use failover_core::wire::{
    Controller, HEADER_LEN, MAX_STREAM_FRAME_LEN, Sender, Station, TAG_LEN, encode_stream_frame,
};
use failover_core_fuzz::{PEER, RECEIVER, frame_bytes, header, sample_messages, stream_input};

fn stream_bytes(frame: &[u8]) -> Vec<u8> {
    let mut out = [0u8; MAX_STREAM_FRAME_LEN];
    let n = encode_stream_frame(frame, &mut out).expect("a frame fits a stream frame");
    out[..n].to_vec()
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    fs::write(dir.join(name), bytes).expect("write seed");
}

fn main() {
    let out: PathBuf = std::env::args_os()
        .nth(1)
        .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"), PathBuf::from);
    let dirs = ["frame_decode", "stream_decode", "payload_decode"].map(|t| out.join(t));
    for d in &dirs {
        fs::create_dir_all(d).expect("create corpus dir");
    }
    let [frames_dir, stream_dir, payload_dir] = &dirs;
    let messages = sample_messages();
    let mut count = 0;

    // One frame per message, from the peer host; plus a few other senders.
    let mut session = Vec::new();
    for (i, (name, msg)) in messages.iter().enumerate() {
        let frame = frame_bytes(&header(PEER, 0x1234_5678, i as u64 + 1), msg);
        write(frames_dir, &format!("{name}.bin"), &frame);
        write(stream_dir, &format!("{name}.bin"), &stream_input(&[255], &stream_bytes(&frame)));
        // payload_decode: [kind selector][sender selector][payload]
        let mut p = vec![msg.kind() as u8, PEER.to_byte()];
        p.extend_from_slice(&frame[HEADER_LEN..frame.len() - TAG_LEN]);
        write(payload_dir, &format!("{name}.bin"), &p);
        session.extend_from_slice(&stream_bytes(&frame));
        count += 3;
    }
    let first = &messages[0].1;
    for (name, sender) in [
        ("from_self", RECEIVER),
        ("from_bmc_a", Sender::new(Controller::A, Station::Bmc)),
        ("from_bmc_b", Sender::new(Controller::B, Station::Bmc)),
    ] {
        write(frames_dir, &format!("{name}.bin"), &frame_bytes(&header(sender, 1, u64::MAX), first));
        count += 1;
    }

    // Streams: a whole session in odd chunks; with a replayed frame, a sender restart
    // (higher boot id), line garbage, an oversize run, two frames glued together (lost
    // delimiter) and a replay from the earlier boot (refused: boot ids only go up).
    write(stream_dir, "session_chunked.bin", &stream_input(&[1, 7, 64, 3, 0, 200], &session));
    let f1 = frame_bytes(&header(PEER, 1, 10), first);
    let f2 = frame_bytes(&header(PEER, 1, 11), first);
    let restarted = frame_bytes(&header(PEER, 2, 1), first);
    let mut messy = Vec::new();
    messy.extend_from_slice(b"\x13\x37garbage");
    messy.extend_from_slice(&stream_bytes(&f1));
    messy.extend_from_slice(&stream_bytes(&f1)); // replay
    messy.extend_from_slice(&[0xAA; MAX_STREAM_FRAME_LEN + 3]); // oversize run
    let mut glued = stream_bytes(&f2);
    glued.pop(); // lose the trailing delimiter...
    messy.extend_from_slice(&glued);
    messy.extend_from_slice(&stream_bytes(&f2)[1..]); // ...and the next leading one
    messy.extend_from_slice(&stream_bytes(&restarted));
    messy.extend_from_slice(&stream_bytes(&f2)); // replay of the earlier, lower boot
    write(stream_dir, "session_messy.bin", &stream_input(&[5, 0, 33], &messy));
    count += 2;

    println!("wrote {count} seeds under {}", out.display());
}
