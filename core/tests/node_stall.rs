//! A standby that did not run for a while (process stopped, VM descheduled, clock
//! jump) must not judge the peer on that gap, whichever input it handles first after
//! it runs again. The Linux loop drains frames, completions, health reports and admin
//! commands *before* it runs deadlines, so the first input after a pause is often not
//! `handle_timeout`: every entry point that judges the peer must notice the stall
//! first and listen afresh.

use failover_core::node::{AdminCommand, Completion, PeerVerdict, Settings, StateName};
use failover_core::sim::{Fault, Link, NodeId, World};
use failover_core::time::Instant;
use failover_core::wire::Controller::{A, B};

mod common;
use common::{assert_pair, ms, settled, takeovers_after};

/// Longer than the failover timeout (50 ms), shorter than the hardware watchdog
/// (500 ms), so the stalled standby is neither reset nor taken for a stall it was not.
const STALL_MS: u64 = 300;

/// Stall standby B for [`STALL_MS`] while A stays healthy, then let it run again. Its
/// timer has not fired yet: nothing has been handed to it since it stopped.
fn stalled_standby(w: &mut World) -> Instant {
    let t = w.now;
    w.trace = Some(Vec::new());
    w.inject(Fault::HangHost(B));
    w.run_for(ms(STALL_MS));
    w.inject(Fault::ResumeHost(B));
    assert!(w.host_runs(B), "B was reset during its stall: {}", w.summary());
    assert_eq!(w.host(B).map(|n| n.state_name()), Some(StateName::Standby));
    t
}

/// Right after B's first input: B is still standby, did not judge A silent, did not
/// start a takeover, and (when the world has drained B's events, `drained`) noticed
/// its own stall. Then the pair runs on unchanged.
#[track_caller]
fn assert_no_false_takeover(w: &mut World, t: Instant, first_input: &str, drained: bool) {
    let b = w.host(B).expect("B runs");
    assert_eq!(b.state_name(), StateName::Standby, "after {first_input}: {}", w.summary());
    assert_ne!(b.peer_verdict(), PeerVerdict::Silent, "B judged A silent on its own stall ({first_input})");
    assert!(
        takeovers_after(w, t).is_empty(),
        "false takeover after {first_input}: {:?}",
        takeovers_after(w, t)
    );
    if drained {
        assert!(stall_noticed(w), "the stall went unnoticed by {first_input}");
    }
    w.run_for(ms(1_000));
    assert!(
        takeovers_after(w, t).is_empty(),
        "false takeover after {first_input}: {:?}\n{}",
        takeovers_after(w, t),
        w.trace.as_deref().unwrap_or_default().join("\n")
    );
    assert_pair(w, A, B);
}

fn stall_noticed(w: &World) -> bool {
    w.trace.as_deref().unwrap_or_default().iter().any(|l| l.contains("host-B: SelfStall"))
}

#[test]
fn a_health_report_first_after_a_stall_does_not_take_over() {
    let mut w = settled();
    let t = stalled_standby(&mut w);
    // The platform's health poller ran as soon as the guest did: same health again.
    w.update_health(B, |_| {});
    assert_no_false_takeover(&mut w, t, "a health report", true);
}

#[test]
fn an_admin_command_first_after_a_stall_does_not_take_over() {
    let mut w = settled();
    let t = stalled_standby(&mut w);
    assert_eq!(w.admin(B, AdminCommand::SetSettings(Settings::default())), Ok(()));
    assert_no_false_takeover(&mut w, t, "an admin command", true);
}

#[test]
fn a_completion_first_after_a_stall_does_not_take_over() {
    let mut w = settled();
    let t = stalled_standby(&mut w);
    // An action's result that was waiting when the process stopped (stale here: the
    // standby holds nothing, so only the judging of the peer can change its state).
    let local = w.local_now(NodeId::Host(B));
    let n = w.hosts[B.index()].node.as_mut().expect("B runs");
    n.handle_completion(local, Completion::ReservationChecked { epoch: 1, held: false });
    assert_no_false_takeover(&mut w, t, "a completion", false);
}

#[test]
fn a_bmc_frame_first_after_a_stall_does_not_take_over() {
    let mut w = settled();
    // The BMC link is down: a link fault that alone moves nothing, but our BMC's relay
    // then vouches for nobody, so B's verdict rests on the host link alone.
    for l in Link::bmc_link() {
        w.inject(Fault::Cut(l));
    }
    w.run_for(ms(200));
    assert!(takeovers_after(&w, w.now - ms(200)).is_empty(), "{:?}", w.takeovers);
    assert_pair(&w, A, B);
    let t = stalled_standby(&mut w);
    // The serial line is read before the peer's queued heartbeats reach the socket:
    // the oldest frame from B's own BMC comes first.
    let own_bmc = Link { from: NodeId::Bmc(B), to: NodeId::Host(B) };
    let i = (0..w.in_flight.len())
        .filter(|&i| w.in_flight[i].link == own_bmc)
        .min_by_key(|&i| w.in_flight[i].due)
        .expect("B's BMC sent to its stalled host");
    w.deliver(i, false);
    assert_no_false_takeover(&mut w, t, "a frame from our own BMC", true);
}

#[test]
fn a_stall_is_noticed_once_and_a_timer_first_still_works() {
    // The path that always worked: the timer is the first input after the stall.
    let mut w = settled();
    let t = stalled_standby(&mut w);
    w.run_for(ms(1_000));
    let stalls =
        w.trace.as_deref().unwrap_or_default().iter().filter(|l| l.contains("host-B: SelfStall")).count();
    assert_eq!(stalls, 1, "one stall, one SelfStall event");
    assert!(takeovers_after(&w, t).is_empty(), "{:?}", takeovers_after(&w, t));
    assert_pair(&w, A, B);
}
