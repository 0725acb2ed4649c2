//! Wire protocol benchmarks: what one heartbeat costs to seal, verify and frame.
//!
//! - `heartbeat/encode_mac`: [`Endpoint::seal`] of a realistic heartbeat (2 groups,
//!   2 pools) into a `[u8; MAX_FRAME_LEN]`, from B's host to A's host: postcard encoding
//!   plus the BLAKE2s tag over recipient byte, header and payload.
//! - `heartbeat/verify_decode`: [`decode_frame`] of that frame as A's host: MAC check,
//!   postcard decoding and the canonical-encoding check (the decoded message is encoded
//!   again and compared), no replay state (the same frame every iteration).
//! - `heartbeat/open`: [`Endpoint::open`], i.e. verify, decode and replay check. `open`
//!   refuses replays, so every iteration gets a fresh frame with the next sequence
//!   number, sealed in an untimed `iter_batched` setup.
//! - `stream/encode`, `stream/decode`: the COBS byte-stream framing of a sealed
//!   heartbeat frame ([`encode_stream_frame`], [`StreamDecoder::feed`]), MAC excluded.
//!
//! Every benchmark handles one frame per iteration, so criterion's time is ns/frame.
//! Run: `cargo bench -p failover-core --bench wire`.

use std::hint::black_box;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use failover_core::status::{DisabledReasons, Status};
use failover_core::wire::{
    Controller, Digest, Endpoint, FencingState, GroupState, Health, Heartbeat, MAX_FRAME_LEN,
    MAX_STREAM_FRAME_LEN, MacKey, Message, Sender, SoftwareVersion, Station, StreamDecoder, decode_frame,
    encode_stream_frame,
};

const KEY: [u8; 32] = *b"failover-core bench link key 001";
const HOST_A: Sender = Sender::new(Controller::A, Station::Host);
const HOST_B: Sender = Sender::new(Controller::B, Station::Host);

/// An active controller's heartbeat: two critical groups, two pools imported.
fn heartbeat() -> Message {
    let mut groups = heapless::Vec::new();
    groups.push(GroupState { group: 1, up: 2, total: 2 }).expect("room for two groups");
    groups.push(GroupState { group: 2, up: 2, total: 2 }).expect("room for two groups");
    Message::Heartbeat(Heartbeat {
        status: Status::Master,
        epoch: 1_734_000_017,
        interval_ms: 500,
        disabled: DisabledReasons::NONE,
        health: Health {
            groups,
            pools_imported: 2,
            pools_total: 2,
            fencing: FencingState::Holding,
            config_digest: Digest::of(b"failover.toml generation 42"),
            disk_set_digest: Digest::of_parts([b"5000c500a1b2c3d4".as_slice(), b"5000c500a1b2c3d5"]),
            version: SoftwareVersion { major: 1, minor: 4, patch: 2 },
        },
    })
}

/// A heartbeat frame sealed by controller B's host (boot 7) for controller A's host.
fn sealed_frame(msg: &Message) -> ([u8; MAX_FRAME_LEN], usize) {
    let mut sender = Endpoint::new(MacKey::new(KEY), HOST_B, 7);
    let mut out = [0u8; MAX_FRAME_LEN];
    let n = sender.seal(msg, HOST_A, &mut out).expect("a heartbeat fits MAX_FRAME_LEN");
    (out, n)
}

fn heartbeat_benches(c: &mut Criterion) {
    let msg = heartbeat();
    let key = MacKey::new(KEY);
    let (frame_buf, frame_len) = sealed_frame(&msg);
    let frame = &frame_buf[..frame_len];
    let mut stream_buf = [0u8; MAX_STREAM_FRAME_LEN];
    let stream_len = encode_stream_frame(frame, &mut stream_buf).expect("a frame fits a stream frame");
    let stream = &stream_buf[..stream_len];
    println!("heartbeat_frame_bytes={frame_len} stream_frame_bytes={stream_len}");

    // Sanity: the frames decode to what was sealed, so the figures measure success paths.
    assert_eq!(decode_frame(&key, HOST_A, frame).expect("heartbeat decodes").message, msg);
    let mut check = StreamDecoder::new();
    let (used, event) = check.feed(stream);
    assert_eq!(used, stream.len());
    assert_eq!(event.expect("one frame").expect("valid framing"), frame);

    let mut g = c.benchmark_group("heartbeat");
    g.throughput(Throughput::Elements(1));

    let mut sender = Endpoint::new(key.clone(), HOST_B, 7);
    let mut out = [0u8; MAX_FRAME_LEN];
    g.bench_function("encode_mac", |b| {
        b.iter(|| sender.seal(black_box(&msg), HOST_A, black_box(&mut out)).expect("seal"));
    });

    g.bench_function("verify_decode", |b| {
        b.iter(|| decode_frame(black_box(&key), HOST_A, black_box(frame)).expect("decode"));
    });

    let mut sender = Endpoint::new(key.clone(), HOST_B, 7);
    let mut receiver = Endpoint::new(key.clone(), HOST_A, 9);
    g.bench_function("open", |b| {
        b.iter_batched(
            || {
                let mut buf = [0u8; MAX_FRAME_LEN];
                let n = sender.seal(&msg, HOST_A, &mut buf).expect("seal");
                (buf, n)
            },
            |(buf, n)| receiver.open(black_box(&buf[..n])).expect("fresh frame opens"),
            BatchSize::SmallInput,
        );
    });
    g.finish();

    let mut g = c.benchmark_group("stream");
    g.throughput(Throughput::Elements(1));
    let mut out = [0u8; MAX_STREAM_FRAME_LEN];
    g.bench_function("encode", |b| {
        b.iter(|| encode_stream_frame(black_box(frame), black_box(&mut out)).expect("encode"));
    });
    let mut decoder = StreamDecoder::new();
    g.bench_function("decode", |b| {
        b.iter(|| {
            // The whole stream frame, both delimiters: exactly one frame per feed.
            let (used, event) = decoder.feed(black_box(stream));
            black_box((used, event.map(|e| e.map(<[u8]>::len))))
        });
    });
    g.finish();
}

criterion_group!(benches, heartbeat_benches);
criterion_main!(benches);
