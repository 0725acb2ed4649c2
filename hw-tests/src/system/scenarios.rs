//! The scenarios, modelled on Pacemaker's Cluster Test Suite. Each starts from a
//! healthy pair (the previous audit's `active` at `epoch`), does its damage, checks
//! what the pair did about it, and leaves the rig for [`Cluster::heal`] and the audit.

use std::time::{Duration, Instant};

use failover_core::wire::Controller;
use failover_linux::api::types::{StatusJson, TakeoverJson};
use nix::sys::signal::Signal;

use super::audit::Audited;
use super::cluster::{Cluster, TIMEOUT_MS};
use super::wire::Impairment;
use crate::suites::rig::{PUB_IF, Seen, run_cmd, status_line};

/// A scenario.
pub type Scenario = fn(&mut Cluster, &Audited) -> Result<String, String>;

/// Every scenario, in the order the short mode runs them.
pub const SCENARIOS: &[(&str, Scenario)] = &[
    ("flip", flip),
    ("restart", restart),
    ("standby", standby),
    ("maintenance", maintenance),
    ("kill-failoverd", kill_failoverd),
    ("kill-bmc", kill_bmc),
    ("hang-host", hang_host),
    ("host-link-cut", host_link_cut),
    ("both-links-cut", both_links_cut),
    ("link-flapping", link_flapping),
    ("asymmetric-loss", asymmetric_loss),
    ("netem-jitter", netem_jitter),
    ("critical-interface-loss", critical_interface_loss),
    ("standby-stall", standby_stall),
    ("config-drift", config_drift),
    ("simul-stop", simul_stop),
    ("simul-start", simul_start),
    ("both-reboot", both_reboot),
];

/// How long "nothing moves" is watched.
const QUIET: Duration = Duration::from_millis(6 * TIMEOUT_MS);
/// How long a takeover may take to show in the API.
const TAKEOVER_LIMIT: Duration = Duration::from_secs(5);

fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg()) }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".into(), |v| format!("{v:.1} ms"))
}

/// Watch for `dur` that `active` stays MASTER at `epoch` and its peer never becomes
/// active; the peer's statuses seen.
fn steady(
    cl: &mut Cluster,
    active: Controller,
    epoch: u64,
    dur: Duration,
) -> Result<Vec<StatusJson>, String> {
    let other = active.peer();
    let t0 = Instant::now();
    let mut seen = Vec::new();
    while t0.elapsed() < dur {
        let a = cl.pair.status(active)?;
        ensure(a.status == "MASTER" && a.epoch == epoch, || {
            format!("the active changed after {}: {}", ms(t0.elapsed()), status_line(&a))
        })?;
        if let Seen::Up(s) = cl.pair.seen(other) {
            ensure(s.status != "MASTER" && s.status != "IMPORTING", || {
                format!("{other} became active after {}: {}", ms(t0.elapsed()), status_line(&s))
            })?;
            seen.push(*s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(seen)
}

/// Wait until `c` is MASTER above `epoch`; its status.
fn took_over(cl: &mut Cluster, c: Controller, epoch: u64) -> Result<StatusJson, String> {
    cl.pair.wait_status(c, TAKEOVER_LIMIT, &format!("to take over above epoch {epoch}"), |s| {
        s.status == "MASTER" && s.epoch > epoch
    })
}

/// Wait until `c`, replaced by an active at `epoch`, is out of service (exited, or
/// neither MASTER nor IMPORTING); what it became. Claiming MASTER at `epoch` or above
/// is an error at once.
fn stood_down(cl: &mut Cluster, c: Controller, epoch: u64) -> Result<String, String> {
    cl.pair.wait_for(Duration::from_secs(4), &format!("the replaced {c} to stand down"), |p| {
        Ok(match p.seen(c) {
            Seen::Exited(e) => Some(format!("exited ({e})")),
            Seen::Up(x) if x.status == "MASTER" && x.epoch >= epoch => {
                return Err(format!("the replaced {c} is MASTER again: {}", status_line(&x)));
            }
            Seen::Up(x) if x.status != "MASTER" && x.status != "IMPORTING" => {
                Some(format!("{} ({})", x.status, x.state))
            }
            _ => None,
        })
    })
}

/// `detect / total` of `s`'s last failover, with its cause.
fn timing(s: &StatusJson) -> String {
    s.last_failover.as_ref().map_or_else(
        || "no failover recorded".into(),
        |f| format!("{}: detect {}, total {}", f.cause, opt_ms(f.detect_ms), opt_ms(f.total_ms)),
    )
}

/// Wait until `c` reports `reason` among its disabled reasons.
fn reports(cl: &mut Cluster, c: Controller, reason: &str) -> Result<StatusJson, String> {
    cl.pair.wait_status(c, Duration::from_secs(3), &format!("to report {reason}"), |s| {
        s.disabled_reasons.iter().any(|r| r == reason)
    })
}

/// Both must need the passphrase (both rebooted); unlock on the active, which escrows
/// it to the peer.
fn unlock_after_both_restarted(cl: &mut Cluster, active: Controller) -> Result<String, String> {
    for c in [Controller::A, Controller::B] {
        cl.pair
            .wait_status(c, Duration::from_secs(5), "to ask for the passphrase", |s| s.passphrase_needed)?;
    }
    let took = cl.unlock(active)?;
    Ok(format!("both asked for the passphrase; unlocked on {active}, escrowed to the peer in {}", ms(took)))
}

/// The settled pair after a start of both: (active, epoch).
fn settle_both(cl: &mut Cluster) -> Result<(Controller, u64), String> {
    cl.pair.settled()
}

// ---------------------------------------------------------------------------------

/// Stop the standby in order (nothing moves), start it again; then stop the active in
/// order: the standby takes over and alone answers for the VIP.
fn flip(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    cl.stop(standby)?;
    steady(cl, active, s.epoch, QUIET)?;
    let a = cl.pair.status(active)?;
    ensure(a.peer.verdict != "alive", || {
        format!("the stopped {standby} is still seen alive: {}", status_line(&a))
    })?;
    cl.start(standby)?;
    cl.pair.settled()?;
    let t0 = Instant::now();
    cl.stop(active)?;
    let st = took_over(cl, standby, s.epoch)?;
    let wall = t0.elapsed();
    let serving = cl.pair.expect_serving(standby, true)?;
    cl.start(active)?;
    Ok(format!(
        "{standby} stopped: {active} kept MASTER@{}; {active} stopped: {standby} MASTER@{} after {} ({}); {serving}",
        s.epoch,
        st.epoch,
        ms(wall),
        timing(&st)
    ))
}

/// SIGKILL the active and start it again at once (a crash and a restart quicker than
/// the timeout): the pair settles on one active at a newer epoch. If the standby saw
/// the silence it took over; if the restart came first, nobody was active and the
/// election decides (the designated primary wins it), which is no failback.
fn restart(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let active = s.active;
    cl.pair.kill(active)?;
    cl.start(active)?;
    let (now, epoch) = cl.pair.wait_for(TAKEOVER_LIMIT, "a new active above the old epoch", |p| {
        for c in [Controller::A, Controller::B] {
            if let Ok(x) = p.status(c)
                && x.status == "MASTER"
                && x.epoch > s.epoch
            {
                return Ok(Some((c, x.epoch)));
            }
        }
        Ok(None)
    })?;
    let st = cl.pair.status(now)?;
    let how = st.last_failover.as_ref().map_or("?", |f| f.cause.as_str()).to_owned();
    ensure(now != active || how == "election", || format!("the restarted {active} became active by {how}"))?;
    cl.pair.settled()?;
    Ok(format!("{active} killed and restarted: {now} MASTER@{epoch} ({})", timing(&st)))
}

/// Giveback on the active: the roles swap.
fn standby(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    let t0 = Instant::now();
    cl.pair.block_on(cl.pair.client(active).giveback()).map_err(|e| format!("giveback on {active}: {e}"))?;
    let st = took_over(cl, standby, s.epoch)?;
    let (now, epoch) = cl.pair.settled()?;
    ensure(now == standby, || format!("after the giveback {now} is active"))?;
    Ok(format!("{standby} MASTER@{epoch}, {active} BACKUP after {} ({})", ms(t0.elapsed()), timing(&st)))
}

/// Failover disabled: killing the active moves nothing; a forced takeover works.
fn maintenance(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    cl.pair.set_disabled(active, true)?;
    for c in [active, standby] {
        reports(cl, c, "NO_FAILOVER")?;
    }
    cl.pair.kill(active)?;
    let t0 = Instant::now();
    while t0.elapsed() < QUIET {
        let b = cl.pair.status(standby)?;
        ensure(b.status == "BACKUP" && b.epoch == s.epoch, || {
            format!("failover disabled, yet {}", status_line(&b))
        })?;
        std::thread::sleep(Duration::from_millis(10));
    }
    ensure(!cl.pair.rig.has_vip(standby)?, || format!("{standby} raised the VIP without a takeover"))?;
    cl.pair
        .block_on(cl.pair.client(standby).takeover(&TakeoverJson { force: true }))
        .map_err(|e| format!("forced takeover on {standby}: {e}"))?;
    let st = took_over(cl, standby, s.epoch)?;
    ensure(st.last_failover.as_ref().is_some_and(|f| f.cause == "forced"), || timing(&st))?;
    cl.pair.wait_disks_held(standby, st.epoch)?;
    cl.start(active)?;
    cl.pair.settled()?;
    let e = cl.pair.set_disabled(standby, false)?;
    ensure(!e.disabled, || "failover not enabled again".into())?;
    Ok(format!(
        "{active} killed with failover disabled: {standby} stayed BACKUP@{} for {}; forced takeover: MASTER@{} ({})",
        s.epoch,
        ms(QUIET),
        st.epoch,
        timing(&st)
    ))
}

/// SIGKILL the active's failoverd: its BMC reports its host dead, the standby takes
/// over, and the standby's BMC cuts the dead one's enclosure port.
fn kill_failoverd(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    let t0 = Instant::now();
    cl.pair.kill(active)?;
    let st = took_over(cl, standby, s.epoch)?;
    let wall = t0.elapsed();
    cl.pair.wait_disks_held(standby, st.epoch)?;
    cl.wait_for(
        Duration::from_secs(3),
        &format!("{standby}'s BMC to cut the dead {active}'s enclosure port"),
        |cl| Ok(cl.bmc_fencing(standby)?.then_some(())),
    )?;
    let serving = cl.pair.expect_serving(standby, false)?;
    cl.start(active)?;
    Ok(format!(
        "{standby} MASTER@{} {} after SIGKILL ({}); {standby}'s BMC cut {active}'s port; {serving}",
        st.epoch,
        ms(wall),
        timing(&st)
    ))
}

/// Kill the active's BMC: no takeover (path H is fine); both report the BMC path
/// down; the BMC boots again and the pair is whole.
fn kill_bmc(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let active = s.active;
    cl.kill_bmc(active)?;
    let seen = steady(cl, active, s.epoch, QUIET)?;
    let own = reports(cl, active, "NO_BMC_LINK")?;
    let peer = reports(cl, active.peer(), "NO_BMC_LINK")?;
    ensure(seen.iter().all(|p| p.peer.verdict == "alive"), || "the peer lost sight of the active".into())?;
    let t0 = Instant::now();
    cl.start_bmc(active)?;
    cl.pair.wait_for(Duration::from_secs(8), "both hosts to see the BMC path again", |p| {
        let (a, b) = (p.status(Controller::A)?, p.status(Controller::B)?);
        let ok = |s: &StatusJson| !s.disabled_reasons.iter().any(|r| r == "NO_BMC_LINK");
        Ok((ok(&a) && ok(&b)).then_some(()))
    })?;
    Ok(format!(
        "{active}'s BMC killed: no takeover for {}, {active} reports {:?}, {} reports {:?}; BMC rebooted, path L back in {}",
        ms(QUIET),
        own.disabled_reasons,
        active.peer(),
        peer.disabled_reasons,
        ms(t0.elapsed())
    ))
}

/// SIGSTOP the active's failoverd (a hung host): its BMC reports it hung, the standby
/// takes over; resumed, the old active finds itself fenced and stops.
fn hang_host(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    let t0 = Instant::now();
    cl.pair.signal(active, Signal::SIGSTOP)?;
    let st = took_over(cl, standby, s.epoch);
    let wall = t0.elapsed();
    std::thread::sleep(Duration::from_millis(2 * TIMEOUT_MS));
    cl.pair.signal(active, Signal::SIGCONT)?;
    let st = st?;
    cl.pair.wait_disks_held(standby, st.epoch)?;
    let fate = stood_down(cl, active, st.epoch)?;
    let serving = cl.pair.expect_serving(standby, true)?;
    cl.pair.audit_logs()?;
    Ok(format!(
        "{standby} MASTER@{} {} after SIGSTOP ({}); resumed {active}: {fate}; {serving}",
        st.epoch,
        ms(wall),
        timing(&st)
    ))
}

/// Cut the dedicated link with the BMC link alive: no takeover, both alerted.
fn host_link_cut(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let active = s.active;
    cl.set_host_link(active, false)?;
    let seen = steady(cl, active, s.epoch, QUIET)?;
    let a = reports(cl, active, "NO_HOST_LINK")?;
    let b = reports(cl, active.peer(), "NO_HOST_LINK")?;
    ensure(b.peer.verdict == "alive_via_bmc_only", || format!("the standby's verdict: {}", b.peer.verdict))?;
    cl.set_host_link(active, true)?;
    Ok(format!(
        "no takeover for {} ({} standby samples); {active}: {:?}, {}: {:?} verdict {}",
        ms(QUIET),
        seen.len(),
        a.disabled_reasons,
        active.peer(),
        b.disabled_reasons,
        b.peer.verdict
    ))
}

/// Cut both links: each side sees the peer gone; the disk fence decides, one survives.
fn both_links_cut(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    for c in [Controller::A, Controller::B] {
        cl.impair(c, Impairment::CUT);
        cl.cut_bmc_link(c, true);
    }
    let t0 = Instant::now();
    // The standby cannot tell this from a dead active: it takes over with a newer
    // epoch, and the disks decide which of the two keeps serving.
    let what = "one controller MASTER above the old epoch, holding every disk";
    let (winner, epoch) = cl.pair.wait_for(Duration::from_secs(6), what, |p| {
        let holders = p.holders()?;
        for c in [Controller::A, Controller::B] {
            if let Seen::Up(x) = p.seen(c)
                && x.status == "MASTER"
                && x.epoch > s.epoch
                && holders.iter().all(|h| h.is_some_and(|k| k.controller() == c && k.epoch() == x.epoch))
            {
                return Ok(Some((c, x.epoch)));
            }
        }
        Ok(None)
    })?;
    let loser = winner.peer();
    let fate = stood_down(cl, loser, epoch)?;
    let took = t0.elapsed();
    let serving = cl.pair.expect_serving(winner, true)?;
    cl.pair.audit_logs()?;
    Ok(format!("{winner} MASTER@{epoch} holding every disk after {}; {loser}: {fate}; {serving}", ms(took)))
}

/// Flap the dedicated link for a few seconds: the BMC path vouches for the peer, so
/// nothing moves.
fn link_flapping(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let active = s.active;
    let mut rng = failover_core::sim::Rng::new(s.epoch);
    let t0 = Instant::now();
    let mut flaps = 0;
    while t0.elapsed() < Duration::from_secs(3) {
        cl.set_host_link(active, false)?;
        std::thread::sleep(Duration::from_millis(50 + rng.below(150)));
        cl.set_host_link(active, true)?;
        std::thread::sleep(Duration::from_millis(20 + rng.below(100)));
        flaps += 1;
        let x = cl.pair.status(active)?;
        ensure(x.status == "MASTER" && x.epoch == s.epoch, || {
            format!("after {flaps} flaps: {}", status_line(&x))
        })?;
        let y = cl.pair.status(active.peer())?;
        ensure(y.status == "BACKUP", || format!("after {flaps} flaps: {}", status_line(&y)))?;
    }
    steady(cl, active, s.epoch, Duration::from_millis(2 * TIMEOUT_MS))?;
    Ok(format!("{flaps} flaps of 50-200 ms in {}: no takeover", ms(t0.elapsed())))
}

/// Lose everything the active sends on the dedicated link (its receive side works):
/// the standby hears the active only through the BMCs, and nothing moves.
fn asymmetric_loss(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let active = s.active;
    cl.impair(active, Impairment::CUT);
    let seen = steady(cl, active, s.epoch, QUIET)?;
    let b = reports(cl, active.peer(), "NO_HOST_LINK")?;
    cl.impair(active, Impairment::NONE);
    Ok(format!(
        "{active}'s sends on path H dropped for {}: no takeover; {} reports {:?}, verdict {} ({} samples)",
        ms(QUIET),
        active.peer(),
        b.disabled_reasons,
        b.peer.verdict,
        seen.len()
    ))
}

/// Delay with jitter near the timeout on the dedicated link, both ways: no takeover.
fn netem_jitter(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let active = s.active;
    // Up to 5/6 of the timeout per frame, so a gap between arrivals stays below it.
    let imp = Impairment {
        delay: Duration::from_millis(TIMEOUT_MS / 2),
        jitter: Duration::from_millis(TIMEOUT_MS / 3),
        loss_percent: 0,
    };
    let before = [cl.wire.counts(Controller::A), cl.wire.counts(Controller::B)];
    for c in [Controller::A, Controller::B] {
        cl.impair(c, imp);
    }
    let seen = steady(cl, active, s.epoch, Duration::from_secs(3))?;
    for c in [Controller::A, Controller::B] {
        cl.impair(c, Impairment::NONE);
    }
    let sent: u64 = [Controller::A, Controller::B]
        .iter()
        .map(|c| cl.wire.counts(*c).forwarded - before[c.index()].forwarded)
        .sum();
    ensure(sent > 100, || format!("only {sent} frames crossed the delayed link: the test tests nothing"))?;
    Ok(format!(
        "delay {} ± {} ms (uniform) both ways for 3 s, timeout {TIMEOUT_MS} ms: no takeover ({sent} frames delayed, {} samples)",
        imp.delay.as_millis(),
        imp.jitter.as_millis(),
        seen.len()
    ))
}

/// The active's critical interface loses its carrier: it hands over to the peer.
fn critical_interface_loss(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    let ns = cl.pair.rig.ctrl_ns(active);
    let t0 = Instant::now();
    run_cmd("ip", &["-n", &ns, "link", "set", PUB_IF, "down"])?;
    let st = took_over(cl, standby, s.epoch)?;
    let wall = t0.elapsed();
    cl.pair.wait_disks_held(standby, st.epoch)?;
    let serving = cl.pair.expect_serving(standby, true)?;
    run_cmd("ip", &["-n", &ns, "link", "set", PUB_IF, "up"])?;
    let (now, _) = cl.pair.settled()?;
    ensure(now == standby, || format!("after {PUB_IF} came back {now} is active"))?;
    Ok(format!(
        "{active}'s {PUB_IF} down: {standby} MASTER@{} after {} ({}); {serving}; {active} back as BACKUP",
        st.epoch,
        ms(wall),
        timing(&st)
    ))
}

/// Stall the standby past the timeout, then resume it: it must not take over from a
/// healthy active.
fn standby_stall(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    cl.pair.signal(standby, Signal::SIGSTOP)?;
    std::thread::sleep(Duration::from_millis(3 * TIMEOUT_MS));
    cl.pair.signal(standby, Signal::SIGCONT)?;
    steady(cl, active, s.epoch, QUIET)?;
    let x = cl.pair.status(standby)?;
    ensure(x.status == "BACKUP" && x.epoch == s.epoch, || status_line(&x))?;
    Ok(format!(
        "{standby} stopped {} ms and resumed: stayed BACKUP@{}, {active} kept MASTER",
        3 * TIMEOUT_MS,
        s.epoch
    ))
}

/// The standby's configuration file drifts (edited by hand) and it restarts: it
/// reports the mismatch and takes the active's configuration.
fn config_drift(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let standby = s.active.peer();
    cl.pair.kill(standby)?;
    let path = cl.pair.config_file(standby);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    ensure(text.contains("hostname_virtual = \"nas\""), || format!("unexpected config:\n{text}"))?;
    std::fs::write(&path, text.replace("hostname_virtual = \"nas\"", "hostname_virtual = \"drifted\""))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let t0 = Instant::now();
    cl.start(standby)?;
    cl.pair.wait_for(Duration::from_secs(8), "the drifted file to be synced from the active", |p| {
        let f = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let (a, b) = (p.status(Controller::A), p.status(Controller::B));
        let (Ok(a), Ok(b)) = (a, b) else { return Ok(None) };
        Ok((f.contains("hostname_virtual = \"nas\"") && a.config_digest == b.config_digest).then_some(()))
    })?;
    steady(cl, s.active, s.epoch, Duration::from_millis(200))?;
    Ok(format!(
        "{standby}'s hand-edited file replaced by the active's {} after its restart; digests equal",
        ms(t0.elapsed())
    ))
}

/// Stop both at once: both exit, the VIP goes, no write lands afterwards; then both
/// start again (the passphrase is needed).
fn simul_stop(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    for c in [Controller::A, Controller::B] {
        cl.pair.signal(c, Signal::SIGTERM)?;
    }
    for c in [Controller::A, Controller::B] {
        cl.pair.wait_for(Duration::from_secs(5), &format!("{c} to exit"), |p| Ok(p.exit_status(c)))?;
    }
    for c in [Controller::A, Controller::B] {
        ensure(!cl.pair.rig.has_vip(c)?, || format!("{c} left the VIP configured after an orderly stop"))?;
    }
    let w = cl.pair.writes_by(s.active)?;
    std::thread::sleep(Duration::from_millis(200));
    ensure(cl.pair.writes_by(s.active)? == w, || "writes landed after both stopped".into())?;
    cl.start(Controller::A)?;
    cl.start(Controller::B)?;
    let (active, epoch) = settle_both(cl)?;
    let unlocked = unlock_after_both_restarted(cl, active)?;
    Ok(format!("both stopped: VIP gone, no writes; restarted: {active} MASTER@{epoch}; {unlocked}"))
}

/// Kill both, start both at the same moment: exactly one becomes active.
fn simul_start(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    cl.pair.kill(Controller::A)?;
    cl.pair.kill(Controller::B)?;
    let t0 = Instant::now();
    cl.start(Controller::A)?;
    cl.start(Controller::B)?;
    let (active, epoch) = settle_both(cl)?;
    let took = t0.elapsed();
    ensure(epoch > s.epoch, || format!("{active} active at epoch {epoch}, not above {}", s.epoch))?;
    let unlocked = unlock_after_both_restarted(cl, active)?;
    Ok(format!("{active} MASTER@{epoch}, peer BACKUP {} after both started; {unlocked}", ms(took)))
}

/// Both controllers reboot (killed, both down, then started one after the other): the
/// pool's key is nowhere, both ask for it, and one unlock serves both.
fn both_reboot(cl: &mut Cluster, s: &Audited) -> Result<String, String> {
    let standby = s.active.peer();
    cl.pair.kill(s.active)?;
    cl.pair.kill(standby)?;
    cl.start(standby)?;
    std::thread::sleep(Duration::from_millis(200));
    cl.start(s.active)?;
    let (active, epoch) = settle_both(cl)?;
    let a = cl.pair.status(active)?;
    ensure(a.passphrase_needed, || "the pool key survived both controllers' restart".into())?;
    let unlocked = unlock_after_both_restarted(cl, active)?;
    Ok(format!("{active} MASTER@{epoch} after both rebooted; {unlocked}"))
}
