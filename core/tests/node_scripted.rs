//! Scripted-clock tests of the HA state machine: every seed feature (disabled, designated
//! primary, timeout, forced takeover, failover groups, giveback, become passive,
//! disabled reasons) and the failure handling, each on the simulated world with its
//! safety checks running after every step.

use failover_core::node::{
    AdminCommand, AdminError, EventKind, PeerVerdict, ReservationKey, Settings, StateName, TakeoverCause,
};
use failover_core::sim::{Fault, Link, NodeId, SimConfig, World};
use failover_core::status::{DisabledReason, Status};
use failover_core::time::Duration;
use failover_core::wire::Controller::{self, A, B};
use failover_core::wire::{Digest, GroupState, HostLiveness};

mod common;
use common::{assert_no_violation, assert_pair, ms, settled, takeovers_after, world_with};

fn reasons(w: &World, c: Controller) -> Vec<DisabledReason> {
    w.host(c).expect("host runs").disabled_reasons(local(w, c)).iter().collect()
}

fn local(w: &World, c: Controller) -> failover_core::time::Instant {
    w.local_now(NodeId::Host(c))
}

// ----- designated primary --------------------------------------------------------------

#[test]
fn designated_primary_wins_a_simultaneous_boot() {
    for primary in [A, B] {
        let mut w = world_with(Settings { primary, ..Settings::default() });
        w.boot_all();
        w.run_for(ms(500));
        assert_pair(&w, primary, primary.peer());
        assert_eq!(w.takeovers.len(), 1);
        assert_eq!(w.takeovers[0].cause, TakeoverCause::Election);
        assert_eq!(w.takeovers[0].epoch, 1);
    }
}

#[test]
fn the_other_controller_wins_when_the_primary_cannot_fence() {
    let mut w = world_with(Settings::default());
    w.hosts[0].health.fencing_available = false;
    w.boot_all();
    w.run_for(ms(500));
    assert_pair(&w, B, A);
}

#[test]
fn no_automatic_failback_to_the_primary() {
    let mut w = settled();
    w.crash_host(A, Some(ms(300)));
    w.run_for(ms(2_000));
    assert_pair(&w, B, A);
    assert_eq!(w.host(B).map(|n| n.epoch()), Some(2));
}

#[test]
fn a_lone_controller_becomes_active_after_listening_and_reports_single() {
    let mut w = world_with(Settings::default());
    w.boot_host(B);
    w.run_for(ms(150));
    assert_eq!(w.host(B).map(|n| n.status()), Some(Status::Electing), "still listening at boot");
    w.run_for(ms(500));
    let b = w.host(B).expect("runs");
    assert_eq!(b.state_name(), StateName::Active);
    assert_eq!(b.status(), Status::Single, "never heard a peer: HA protects nothing");
    assert!(reasons(&w, B).contains(&DisabledReason::NoPeer));
    w.boot_host(A);
    w.run_for(ms(500));
    assert_pair(&w, B, A);
}

// ----- timeout ---------------------------------------------------------------------------

#[test]
fn failover_timeout_sets_the_detection_time() {
    for timeout_ms in [50u64, 200, 1_000] {
        let settings = Settings { failover_timeout: ms(timeout_ms), ..Settings::default() };
        let mut w = world_with(settings);
        w.cfg.has_bmc = false;
        w.boot_all();
        w.run_for(ms(1_500));
        assert_pair(&w, A, B);
        let crash = w.now;
        w.crash_host(A, None);
        w.run_for(ms(timeout_ms + 500));
        let t = w.takeovers.last().expect("a takeover");
        assert_eq!((t.by, t.cause), (B, TakeoverCause::PeerSilent));
        let detect = t.at.saturating_since(crash);
        let interval = settings.heartbeat_interval;
        assert!(detect + interval >= ms(timeout_ms), "detected after {detect} with timeout {timeout_ms} ms");
        assert!(
            detect <= ms(timeout_ms) + interval + ms(1),
            "detected after {detect} with timeout {timeout_ms} ms"
        );
        assert_eq!(w.host(B).map(|n| n.state_name()), Some(StateName::Active));
        let tl = w.host(B).and_then(|n| n.last_failover()).expect("timeline");
        assert!(tl.total().is_some() && tl.fence().is_some() && tl.import().is_some());
    }
}

#[test]
fn settings_are_validated_and_name_the_bad_field() {
    let mut w = settled();
    let bad = Settings { failover_timeout: ms(5), ..Settings::default() };
    assert!(matches!(w.admin(A, AdminCommand::SetSettings(bad)), Err(AdminError::BadSettings(_))));
    let good = Settings { failover_timeout: ms(100), ..Settings::default() };
    assert_eq!(w.admin(A, AdminCommand::SetSettings(good)), Ok(()));
    assert_eq!(w.host(A).map(|n| n.settings()), Some(good));
}

// ----- disabled and forced takeover ----------------------------------------------------

#[test]
fn failover_disabled_both_boot_standby_and_nothing_moves() {
    let mut w = world_with(Settings { disabled: true, ..Settings::default() });
    w.boot_all();
    w.run_for(ms(2_000));
    for c in [A, B] {
        assert_eq!(w.host(c).map(|n| n.status()), Some(Status::Backup));
        assert!(reasons(&w, c).contains(&DisabledReason::AdminDisabled));
    }
    assert!(w.takeovers.is_empty());
    // Only an admin forced takeover makes one active.
    assert_eq!(w.admin(B, AdminCommand::ForceTakeover), Ok(()));
    w.run_for(ms(200));
    assert_pair(&w, B, A);
    assert_eq!(w.takeovers.last().map(|t| t.cause), Some(TakeoverCause::Forced));
    // Disabled: the active dying moves nothing.
    let t = w.now;
    w.crash_host(B, None);
    w.run_for(ms(2_000));
    assert!(takeovers_after(&w, t).is_empty());
    assert_eq!(w.host(A).map(|n| n.status()), Some(Status::Backup));
}

#[test]
fn forced_takeover_is_refused_while_the_peer_is_a_live_active() {
    let mut w = settled();
    assert_eq!(w.admin(B, AdminCommand::ForceTakeover), Err(AdminError::PeerActive));
    assert_eq!(w.admin(A, AdminCommand::ForceTakeover), Err(AdminError::AlreadyActive));
    w.run_for(ms(200));
    assert_pair(&w, A, B);
}

#[test]
fn disabling_failover_while_active_keeps_the_active() {
    let mut w = settled();
    let s = Settings { disabled: true, ..Settings::default() };
    for c in [A, B] {
        assert_eq!(w.admin(c, AdminCommand::SetSettings(s)), Ok(()));
    }
    w.run_for(ms(500));
    assert_pair(&w, A, B);
    assert!(reasons(&w, B).contains(&DisabledReason::AdminDisabled));
}

// ----- critical failover groups ----------------------------------------------------------

fn group(w: &mut World, c: Controller, up: u8, total: u8) {
    w.update_health(c, |h| {
        h.groups.clear();
        let _ = h.groups.push(GroupState { group: 1, up, total });
    });
}

#[test]
fn critical_group_down_for_the_timeout_hands_over_to_the_peer() {
    let mut w = settled();
    let t = w.now;
    group(&mut w, A, 0, 2);
    w.run_for(ms(30));
    assert_pair(&w, A, B); // not yet: the timeout has not passed
    w.run_for(ms(500));
    assert_pair(&w, B, A);
    assert_eq!(takeovers_after(&w, t), vec![(B, TakeoverCause::Handover)]);
}

#[test]
fn one_interface_of_a_group_still_up_keeps_the_active() {
    let mut w = settled();
    group(&mut w, A, 1, 2);
    w.run_for(ms(500));
    assert_pair(&w, A, B);
}

#[test]
fn a_group_down_on_both_controllers_moves_nothing() {
    let mut w = settled();
    group(&mut w, B, 0, 1);
    group(&mut w, A, 0, 1);
    w.run_for(ms(500));
    assert_pair(&w, A, B);
}

#[test]
fn a_group_that_comes_back_within_the_timeout_moves_nothing() {
    let mut w = settled();
    group(&mut w, A, 0, 1);
    w.run_for(ms(30));
    group(&mut w, A, 1, 1);
    w.run_for(ms(500));
    assert_pair(&w, A, B);
}

// ----- giveback and become passive ---------------------------------------------------------

#[test]
fn giveback_hands_the_pool_to_the_standby() {
    let mut w = settled();
    assert_eq!(w.admin(B, AdminCommand::Giveback), Err(AdminError::NotActive));
    assert_eq!(w.admin(A, AdminCommand::Giveback), Ok(()));
    w.run_for(ms(300));
    assert_pair(&w, B, A);
    assert_eq!(w.host(B).map(|n| n.epoch()), Some(2));
    // And back again.
    assert_eq!(w.admin(B, AdminCommand::Giveback), Ok(()));
    w.run_for(ms(300));
    assert_pair(&w, A, B);
    assert_eq!(w.host(A).map(|n| n.epoch()), Some(3));
}

#[test]
fn a_host_driven_enclosure_fence_cuts_a_lost_peer_and_restores_it_at_giveback() {
    let mut w = world_with(Settings::default());
    w.cfg.has_bmc = false;
    w.cfg.host_enclosure_fence = true;
    w.boot_all();
    w.run_for(ms(1_500));
    assert_pair(&w, A, B);
    assert!(!w.disk.is_cut(A) && !w.disk.is_cut(B));
    // A hangs: B takes over behind the disk fence and cuts A's ports.
    w.crash_host(A, Some(ms(2_000)));
    w.run_for(ms(500));
    assert_eq!(w.host(B).map(|n| n.state_name()), Some(StateName::Active));
    assert!(w.disk.is_cut(A), "the lost peer's ports are cut");
    assert!(!w.disk.is_cut(B));
    // A comes back as a healthy standby: it gets its ports back (as a BMC would give
    // them), so it could take over again; a giveback then hands the pool back.
    w.run_for(ms(3_000));
    assert_pair(&w, B, A);
    assert!(!w.disk.is_cut(A), "a healthy standby is not left cut");
    assert_eq!(w.admin(B, AdminCommand::Giveback), Ok(()));
    w.run_for(ms(500));
    assert_pair(&w, A, B);
    assert!(!w.disk.is_cut(A) && !w.disk.is_cut(B), "a handover never cuts the healthy peer");
}

#[test]
fn a_peer_cut_by_the_host_can_take_over_again_once_restored() {
    let mut w = world_with(Settings::default());
    w.cfg.has_bmc = false;
    w.cfg.host_enclosure_fence = true;
    w.boot_all();
    w.run_for(ms(1_500));
    w.crash_host(A, Some(ms(2_000)));
    w.run_for(ms(3_500));
    assert_pair(&w, B, A);
    // Now B dies for good: A, restored as a healthy standby, can fence and take over.
    w.crash_host(B, None);
    w.run_for(ms(1_000));
    assert_eq!(w.host(A).map(|n| n.state_name()), Some(StateName::Active));
    assert!(w.disk.is_cut(B), "and it cuts B in turn");
}

#[test]
fn a_handover_does_not_cut_the_enclosure() {
    let mut w = world_with(Settings::default());
    w.cfg.has_bmc = false;
    w.cfg.host_enclosure_fence = true;
    w.boot_all();
    w.run_for(ms(1_500));
    assert_eq!(w.admin(A, AdminCommand::Giveback), Ok(()));
    w.run_for(ms(500));
    assert_pair(&w, B, A);
    assert!(!w.disk.is_cut(A) && !w.disk.is_cut(B));
}

#[test]
fn a_reservation_check_that_ends_during_the_release_does_not_fence_the_giver() {
    // Found in the vm suite: a check started while active came back "key gone" after
    // the giveback had released the key itself, and the giver fenced itself, leaving
    // nobody active. Slow checks and a fast release make that overlap likely.
    for offset in 0..20u64 {
        let mut cfg = SimConfig::realistic();
        cfg.timings.check = ms(30);
        cfg.timings.release = ms(1);
        cfg.timings.export = ms(1);
        cfg.reservation_check = ms(5);
        let mut w = World::new(cfg, offset);
        w.boot_all();
        w.run_for(ms(500 + offset));
        assert_pair(&w, A, B);
        assert_eq!(w.admin(A, AdminCommand::Giveback), Ok(()));
        w.run_for(ms(400));
        assert_no_violation(&w);
        assert_pair(&w, B, A);
        assert_ne!(w.host(A).map(|n| n.state_name()), Some(StateName::Fenced), "offset {offset}");
    }
}

#[test]
fn giveback_is_refused_without_a_reachable_standby() {
    let mut w = settled();
    w.crash_host(B, None);
    w.run_for(ms(200));
    assert_eq!(w.admin(A, AdminCommand::Giveback), Err(AdminError::PeerUnavailable));
    assert_eq!(w.host(A).map(|n| n.state_name()), Some(StateName::Active));
}

#[test]
fn become_passive_lets_the_standby_take_over() {
    let mut w = settled();
    assert_eq!(w.admin(A, AdminCommand::BecomePassive), Ok(()));
    w.run_for(ms(300));
    assert_pair(&w, B, A);
}

#[test]
fn a_takeover_request_from_the_standby_moves_the_role() {
    let mut w = settled();
    assert_eq!(w.admin(A, AdminCommand::RequestTakeover), Err(AdminError::AlreadyActive));
    assert_eq!(w.admin(B, AdminCommand::RequestTakeover), Ok(()));
    w.run_for(ms(300));
    assert_pair(&w, B, A);
}

#[test]
fn a_failed_export_on_demotion_reboots_the_node() {
    let mut w = settled();
    w.hosts[0].fail_export = true;
    let boots = w.hosts[0].boots;
    assert_eq!(w.admin(A, AdminCommand::Giveback), Ok(()));
    w.run_for(ms(2_000));
    assert!(w.hosts[0].boots > boots, "A rebooted (STCNITH)");
    assert_pair(&w, B, A);
}

// ----- disabled reasons ----------------------------------------------------------------------

#[test]
fn a_healthy_pair_reports_no_disabled_reason() {
    let w = settled();
    assert_eq!(reasons(&w, A), vec![]);
    assert_eq!(reasons(&w, B), vec![]);
}

#[test]
fn each_local_health_problem_is_reported_as_its_reason() {
    type Edit = fn(&mut failover_core::node::LocalHealth);
    let cases: [(Edit, DisabledReason); 6] = [
        (|h| h.groups.clear(), DisabledReason::NoCriticalInterfaces),
        (|h| h.vip_count = 0, DisabledReason::NoVip),
        (|h| h.pools_total = 0, DisabledReason::NoPools),
        (|h| h.fencing_available = false, DisabledReason::FencingUnavailable),
        (|h| h.watchdog_available = false, DisabledReason::WatchdogUnavailable),
        (|h| h.heartbeat_carrier = false, DisabledReason::NoCarrierOnHeartbeat),
    ];
    for (edit, reason) in cases {
        let mut w = settled();
        w.update_health(B, edit);
        w.run_for(ms(50));
        assert_eq!(reasons(&w, B), vec![reason]);
    }
}

#[test]
fn mismatches_with_the_peer_are_reported_on_both_sides() {
    let mut w = settled();
    w.update_health(B, |h| h.config_digest = Digest::of(b"other config"));
    w.run_for(ms(50));
    for c in [A, B] {
        assert_eq!(reasons(&w, c), vec![DisabledReason::ConfigMismatch]);
    }
    // The snapshot names the peer's digest (what config sync compares).
    let a = w.host(A).expect("A runs").snapshot(local(&w, A));
    assert_eq!(a.peer_config_digest, Some(Digest::of(b"other config")));
    assert_eq!(a.peer_epoch, Some(1));
    w.update_health(B, |h| {
        h.config_digest = Digest::default();
        h.disk_set_digest = Digest::of(b"disk serials");
    });
    w.run_for(ms(50));
    for c in [A, B] {
        assert_eq!(reasons(&w, c), vec![DisabledReason::DiskSetMismatch]);
    }
}

#[test]
fn a_disk_set_mismatch_blocks_an_automatic_takeover() {
    let mut w = settled();
    w.update_health(B, |h| h.disk_set_digest = Digest::of(b"missing a disk"));
    w.run_for(ms(50));
    let t = w.now;
    w.crash_host(A, None);
    w.run_for(ms(1_000));
    assert!(takeovers_after(&w, t).is_empty());
    assert!(reasons(&w, B).contains(&DisabledReason::NoPeer));
}

#[test]
fn link_faults_are_reported_per_path() {
    let mut w = settled();
    for l in Link::bmc_link() {
        w.set_link(l, false);
    }
    w.run_for(ms(200));
    assert_eq!(reasons(&w, A), vec![DisabledReason::NoBmcLink]);
    w.cut.clear();
    for l in Link::host_link() {
        w.set_link(l, false);
    }
    w.run_for(ms(200));
    assert_eq!(reasons(&w, B), vec![DisabledReason::NoHostLink]);
}

#[test]
fn failover_in_progress_is_reported_locally_and_remotely() {
    let mut w = settled();
    w.cfg.timings.export = ms(300);
    assert_eq!(w.admin(A, AdminCommand::Giveback), Ok(()));
    w.run_for(ms(100));
    assert!(reasons(&w, A).contains(&DisabledReason::LocalFailoverInProgress), "{:?}", reasons(&w, A));
    assert!(reasons(&w, B).contains(&DisabledReason::RemoteFailoverInProgress), "{:?}", reasons(&w, B));
    w.run_for(ms(500));
    assert_pair(&w, B, A);
}

// ----- liveness over several paths -----------------------------------------------------------

#[test]
fn host_link_cut_with_the_bmc_path_alive_is_a_link_fault_not_a_takeover() {
    let mut w = settled();
    let t = w.now;
    for l in Link::host_link() {
        w.set_link(l, false);
    }
    w.run_for(ms(2_000));
    assert_pair(&w, A, B);
    assert!(takeovers_after(&w, t).is_empty());
    assert_eq!(w.host(B).map(|n| n.peer_verdict()), Some(PeerVerdict::AliveViaBmcOnly));
}

#[test]
fn a_hung_active_is_taken_over_and_fenced_and_never_writes_again() {
    let mut w = settled();
    let t = w.now;
    w.hang_host(A);
    w.run_for(ms(200));
    let tk = takeovers_after(&w, t);
    assert_eq!(tk.len(), 1);
    assert!(matches!(tk[0], (B, TakeoverCause::PeerHung | TakeoverCause::PeerSilent)));
    assert_eq!(w.host(B).map(|n| n.state_name()), Some(StateName::Active));
    w.resume_host(A);
    w.run_for(ms(2_000));
    assert_no_violation(&w);
    assert_pair(&w, B, A);
}

/// Run `w` for `d` in small steps; whether `c`'s enclosure port was cut at any step,
/// and whether BMC `seer` heard its peer BMC call its host hung or dead at any step.
fn watch_cut(w: &mut World, d: Duration, c: Controller, seer: Controller) -> (bool, bool) {
    let (mut cut, mut reported) = (false, false);
    let end = w.now + d;
    while w.now < end {
        w.run_for(ms(5));
        cut |= w.disk.is_cut(c);
        let s = w.bmc(seer).expect("BMC runs").snapshot(local(w, seer));
        reported |= matches!(s.peer_host, HostLiveness::Hung | HostLiveness::Dead);
    }
    (cut, reported)
}

#[test]
fn a_bmc_does_not_cut_an_active_its_host_still_hears() {
    // Path L of the active goes quiet past the BMC's host-hang time (a stalled UART or
    // BMC) while the host link shows it alive: its BMC reports it hung, and the peer
    // BMC must not cut it, since nobody takes over.
    let mut w = settled();
    let t = w.now;
    for l in Link::local(A) {
        w.set_link(l, false);
    }
    let (cut, reported) = watch_cut(&mut w, ms(400), A, B);
    for l in Link::local(A) {
        w.set_link(l, true);
    }
    let (cut_after, _) = watch_cut(&mut w, ms(1_000), A, B);
    assert!(reported, "BMC B never heard A called hung: the test tests nothing\n{}", w.summary());
    assert!(!cut && !cut_after, "the live active's enclosure port was cut\n{}", w.summary());
    assert!(takeovers_after(&w, t).is_empty(), "{:?}\n{}", takeovers_after(&w, t), w.summary());
    assert_pair(&w, A, B);
}

#[test]
fn a_bmc_does_not_cut_the_peer_when_its_host_cannot_take_over() {
    // Both the host link and the active's path L go quiet, but the standby cannot take
    // over (no disk fence): its BMC must leave the active, which nobody replaces, alone.
    let mut w = settled();
    let t = w.now;
    w.update_health(B, |h| h.fencing_available = false);
    w.run_for(ms(100));
    for l in Link::local(A).into_iter().chain(Link::host_link()) {
        w.set_link(l, false);
    }
    let (cut, reported) = watch_cut(&mut w, ms(1_000), A, B);
    assert!(reported, "BMC B never heard A called hung: the test tests nothing\n{}", w.summary());
    assert!(!cut, "A's port was cut though B cannot take over\n{}", w.summary());
    assert!(takeovers_after(&w, t).is_empty(), "{:?}", takeovers_after(&w, t));
    assert_eq!(w.actives(), vec![A], "{}", w.summary());
}

#[test]
fn a_stalled_standby_does_not_take_over_from_a_healthy_active() {
    let mut w = settled();
    let t = w.now;
    w.hang_host(B);
    w.run_for(ms(2_000));
    w.resume_host(B);
    w.run_for(ms(1_000));
    assert!(takeovers_after(&w, t).is_empty(), "{:?}", takeovers_after(&w, t));
    assert_pair(&w, A, B);
}

#[test]
fn a_clock_step_on_the_standby_does_not_cause_a_takeover() {
    let mut w = settled();
    let t = w.now;
    w.inject(Fault::ClockStep(B, 5_000_000));
    w.run_for(ms(500));
    w.inject(Fault::ClockStep(B, -7_000_000));
    w.run_for(ms(500));
    assert!(takeovers_after(&w, t).is_empty());
    assert_pair(&w, A, B);
}

#[test]
fn both_links_cut_lets_the_disk_decide_with_one_survivor() {
    let mut w = settled();
    w.inject(Fault::Partition);
    w.run_for(ms(3_000));
    assert_no_violation(&w);
    assert_eq!(w.actives(), vec![B], "{}", w.summary());
    assert_eq!(w.disk.holder(), Some(B));
    assert_eq!(w.writers(), vec![B]);
}

// ----- failure handling ----------------------------------------------------------------------

#[test]
fn a_failed_fence_goes_to_error_without_importing() {
    let mut w = settled();
    w.inject(Fault::LoseDiskPath(B));
    w.crash_host(A, None);
    w.run_for(ms(500));
    let b = w.host(B).expect("runs");
    assert_eq!(b.status(), Status::Error);
    assert_eq!(b.state_name(), StateName::Error);
    assert!(!b.io_allowed());
    assert_eq!(w.vip_owner, None);
}

#[test]
fn a_lost_reservation_fences_the_active_and_starves_its_watchdog() {
    let mut w = settled();
    // Someone else (here: a newer epoch on B's path) preempts A's key on the disk.
    let _ = w.disk.fence_and_reserve(B, ReservationKey::new(B, 9));
    let boots = w.hosts[0].boots;
    w.run_for(ms(100));
    let a = w.host(A).expect("runs until its watchdog fires");
    assert_eq!(a.state_name(), StateName::Fenced);
    assert_eq!(a.status(), Status::Error);
    assert!(w.hosts[0].io_stopped, "I/O stopped at once");
    assert_no_violation(&w);
    w.run_for(ms(1_000));
    assert!(w.hosts[0].boots > boots, "the watchdog reset the fenced host");
}

#[test]
fn an_active_that_hears_a_newer_epoch_stops_at_once() {
    // Reservation checks so rare that only the peer's heartbeat can tell A.
    let mut cfg = SimConfig::realistic();
    cfg.reservation_check = Duration::from_secs(60);
    let mut w = World::new(cfg, 7);
    w.boot_all();
    w.run_for(ms(500));
    assert_pair(&w, A, B);
    w.inject(Fault::Partition);
    w.run_for(ms(150));
    assert_eq!(w.host(B).map(|n| n.state_name()), Some(StateName::Active));
    assert_eq!(w.host(A).map(|n| n.state_name()), Some(StateName::Active), "A has not noticed yet");
    assert_eq!(w.writers(), vec![B], "but the disk already refuses A");
    w.inject(Fault::HealAll);
    w.run_for(ms(30));
    let a = w.host(A).expect("runs");
    assert_eq!(a.state_name(), StateName::Fenced);
    assert!(w.hosts[0].io_stopped);
    assert_no_violation(&w);
}

#[test]
fn frames_from_a_forged_or_replayed_source_are_rejected_and_counted() {
    let mut w = settled();
    let frame = w.in_flight.iter().find(|f| f.link == Link::host_link()[0]).cloned();
    w.run_for(ms(20));
    let before = w.rejected_frames;
    if let Some(mut f) = frame {
        f.due = w.now;
        w.in_flight.push(f.clone()); // replay of an old frame
        f.bytes[20] ^= 0x40; // and a corrupted one
        w.in_flight.push(f);
    }
    w.run_for(ms(20));
    assert_eq!(w.rejected_frames, before + 2);
    assert_pair(&w, A, B);
}

#[test]
fn events_name_takeover_causes_and_state_changes() {
    let mut w = settled();
    w.crash_host(A, None);
    w.run_for(ms(200));
    assert!(w.takeovers.iter().any(|t| t.by == B && t.cause == TakeoverCause::PeerSilent));
    let _ = EventKind::ReservationLost;
}

// ----- data the platform handles -------------------------------------------------------

#[test]
fn sync_requests_and_sync_data_from_the_peer_host_are_delivered_to_the_platform() {
    use failover_core::node::{Delivered, HostConfig, HostNode, Path};
    use failover_core::time::Instant;
    use failover_core::wire::{CONFIG_CHUNK_LEN, ConfigChunk, Control, MAX_FRAME_LEN, MacKey, Message};

    let key = MacKey::new([9; 32]);
    let t0 = Instant::from_micros(1_000);
    let mut a = HostNode::new(HostConfig::new(A, key.clone(), 1), t0);
    let mut b = HostNode::new(HostConfig::new(B, key, 1), t0);
    let mut buf = [0u8; MAX_FRAME_LEN];
    let digest = Digest::of(b"shared config");

    let request = Message::Control(Control::SyncRequest { digest, push: true });
    let n = b.seal(&request, &mut buf).expect("seals");
    assert_eq!(
        a.handle_frame(t0, Path::HostLink, &buf[..n]),
        Ok(Some(Delivered::SyncRequest { digest, push: true }))
    );

    let data = heapless::Vec::<u8, CONFIG_CHUNK_LEN>::from_slice(b"x").expect("fits");
    let chunk = ConfigChunk { digest, total_len: 1, offset: 0, data };
    let n = b.seal(&Message::ConfigChunk(chunk.clone()), &mut buf).expect("seals");
    assert_eq!(a.handle_frame(t0, Path::HostLink, &buf[..n]), Ok(Some(Delivered::ConfigChunk(chunk))));
    assert_eq!(a.snapshot(t0).peer_config_digest, None, "no heartbeat heard yet");
}
