//! Benchmark: one heartbeat through a standby's state machine.
//!
//! `node/handle_heartbeat` is `HostNode::handle_frame` of a peer heartbeat (MAC verify,
//! replay check, decode, liveness, evaluation) plus draining every resulting action,
//! transmit and event, on a settled standby. The node is cloned outside the timed
//! section so every iteration sees the same fresh frame.

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use failover_core::node::Path;
use failover_core::sim::{Link, NodeId, SimConfig, World};
use failover_core::time::Duration;
use failover_core::wire::Controller::B;
use failover_core::wire::MAX_FRAME_LEN;

fn bench(c: &mut Criterion) {
    let mut w = World::new(SimConfig::realistic(), 1);
    w.boot_all();
    w.run_for(Duration::from_millis(500));
    // Step until a heartbeat from A to B is on the wire, and keep B as it is then.
    let link = Link::host_link()[0];
    while !w.in_flight.iter().any(|f| f.link == link) {
        w.step();
    }
    let frame = w.in_flight.iter().find(|f| f.link == link).map(|f| f.bytes.clone()).expect("frame");
    let standby = w.host(B).expect("B runs").clone();
    let now = w.local_now(NodeId::Host(B));
    println!("heartbeat_frame_bytes={}", frame.len());

    // Sanity: the frame is accepted by the standby as it is.
    let mut check = standby.clone();
    assert!(check.handle_frame(now, Path::HostLink, &frame).is_ok());

    c.bench_function("node/handle_heartbeat", |b| {
        b.iter_batched(
            || standby.clone(),
            |mut node| {
                let r = node.handle_frame(now, Path::HostLink, &frame);
                let mut n = 0usize;
                while node.poll_action().is_some() {
                    n += 1;
                }
                let mut buf = [0u8; MAX_FRAME_LEN];
                while node.poll_transmit(now, &mut buf).is_some() {
                    n += 1;
                }
                while node.poll_event().is_some() {
                    n += 1;
                }
                (r.is_ok(), n)
            },
            BatchSize::SmallInput,
        )
    });

    // The same with the timer tick that follows (heartbeat sends, watchdog kick).
    c.bench_function("node/tick", |b| {
        b.iter_batched(
            || standby.clone(),
            |mut node| {
                let at = node.poll_timeout().unwrap_or(now);
                node.handle_timeout(at);
                let mut buf = [0u8; MAX_FRAME_LEN];
                let mut n = 0usize;
                while node.poll_transmit(at, &mut buf).is_some() {
                    n += 1;
                }
                while node.poll_action().is_some() {
                    n += 1;
                }
                n
            },
            BatchSize::SmallInput,
        )
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
