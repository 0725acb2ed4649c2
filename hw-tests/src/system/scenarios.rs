//! The scenarios, modelled on Pacemaker's Cluster Test Suite. Each starts from a
//! healthy pair (the previous audit's `active` at `epoch`), does its damage, checks
//! what the pair did about it, and leaves the pair for [`Target::heal`] and the audit.
//! They are written against [`Target`], so the same scenarios run on the emulated rig
//! and on real controllers.

use std::time::{Duration, Instant};

use failover_core::wire::Controller;
use failover_linux::api::types::StatusJson;
use nix::sys::signal::Signal;

use super::audit::Audited;
use super::target::{self, Capability, Target, seen, settled, wait_disks_held, wait_for, wait_status};
use super::wire::Impairment;
use crate::suites::rig::{Seen, status_line};

/// A scenario's body.
pub type Run = fn(&mut dyn Target, &Audited) -> Result<String, String>;

/// A scenario: its name, what it needs beyond a pair with a client, and its body.
#[derive(Clone, Copy, Debug)]
pub struct Scenario {
    /// The name `--scenario` takes.
    pub name: &'static str,
    /// Capabilities the target must offer.
    pub needs: &'static [Capability],
    /// The body.
    pub run: Run,
}

const fn sc(name: &'static str, needs: &'static [Capability], run: Run) -> Scenario {
    Scenario { name, needs, run }
}

/// Every scenario, in the order the short mode runs them.
pub const SCENARIOS: &[Scenario] = &[
    sc("flip", &[], flip),
    sc("restart", &[], restart),
    sc("standby", &[], standby),
    sc("maintenance", &[], maintenance),
    sc("kill-failoverd", &[], kill_failoverd),
    sc("kill-bmc", &[Capability::BmcPower], kill_bmc),
    sc("hang-host", &[], hang_host),
    sc("host-link-cut", &[], host_link_cut),
    sc("both-links-cut", &[Capability::Impair, Capability::BmcLinkCut], both_links_cut),
    sc("link-flapping", &[], link_flapping),
    sc("asymmetric-loss", &[Capability::Impair], asymmetric_loss),
    sc("netem-jitter", &[Capability::Impair], netem_jitter),
    sc("critical-interface-loss", &[], critical_interface_loss),
    sc("standby-stall", &[], standby_stall),
    sc("config-drift", &[], config_drift),
    sc("simul-stop", &[], simul_stop),
    sc("simul-start", &[], simul_start),
    sc("both-reboot", &[], both_reboot),
];

/// The scenario called `name`.
pub fn by_name(name: &str) -> Result<&'static Scenario, String> {
    SCENARIOS.iter().find(|s| s.name == name).ok_or_else(|| {
        format!(
            "no scenario `{name}`; known: {}",
            SCENARIOS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        )
    })
}

/// How long "nothing moves" is watched: six timeouts.
fn quiet(t: &dyn Target) -> Duration {
    6 * t.timeout()
}

/// How long a takeover may take to show in the API.
fn takeover_limit(t: &dyn Target) -> Duration {
    (10 * t.timeout()).max(Duration::from_secs(5))
}

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
    t: &mut dyn Target,
    active: Controller,
    epoch: u64,
    dur: Duration,
) -> Result<Vec<StatusJson>, String> {
    let other = active.peer();
    let t0 = Instant::now();
    let mut samples = Vec::new();
    while t0.elapsed() < dur {
        let a = t.status(active)?;
        ensure(a.status == "MASTER" && a.epoch == epoch, || {
            format!("the active changed after {}: {}", ms(t0.elapsed()), status_line(&a))
        })?;
        if let Seen::Up(s) = seen(t, other) {
            ensure(s.status != "MASTER" && s.status != "IMPORTING", || {
                format!("{other} became active after {}: {}", ms(t0.elapsed()), status_line(&s))
            })?;
            samples.push(*s);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    Ok(samples)
}

/// [`steady`] for six timeouts: "nothing moves".
fn steady_quiet(t: &mut dyn Target, active: Controller, epoch: u64) -> Result<Vec<StatusJson>, String> {
    let window = quiet(t);
    steady(t, active, epoch, window)
}

/// Wait until `c` is MASTER above `epoch`; its status.
fn took_over(t: &mut dyn Target, c: Controller, epoch: u64) -> Result<StatusJson, String> {
    let limit = takeover_limit(t);
    wait_status(t, c, limit, &format!("to take over above epoch {epoch}"), |s| {
        s.status == "MASTER" && s.epoch > epoch
    })
}

/// Wait until `c`, replaced by an active at `epoch`, is out of service (exited, or
/// neither MASTER nor IMPORTING); what it became. Claiming MASTER at `epoch` or above
/// is an error at once.
fn stood_down(t: &mut dyn Target, c: Controller, epoch: u64) -> Result<String, String> {
    wait_for(t, Duration::from_secs(4), &format!("the replaced {c} to stand down"), |t| {
        Ok(match seen(t, c) {
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
fn reports(t: &mut dyn Target, c: Controller, reason: &str) -> Result<StatusJson, String> {
    wait_status(t, c, Duration::from_secs(3), &format!("to report {reason}"), |s| {
        s.disabled_reasons.iter().any(|r| r == reason)
    })
}

/// Both must need the passphrase (both rebooted); unlock on the active, which escrows
/// it to the peer.
fn unlock_after_both_restarted(t: &mut dyn Target, active: Controller) -> Result<String, String> {
    for c in [Controller::A, Controller::B] {
        wait_status(t, c, Duration::from_secs(5), "to ask for the passphrase", |s| s.passphrase_needed)?;
    }
    let took = target::unlock_both(t, active)?;
    Ok(format!("both asked for the passphrase; unlocked on {active}, escrowed to the peer in {}", ms(took)))
}

// ---------------------------------------------------------------------------------

/// Stop the standby in order (nothing moves), start it again; then stop the active in
/// order: the standby takes over and alone answers for the VIP.
fn flip(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    target::stop(t, standby)?;
    steady_quiet(t, active, s.epoch)?;
    let a = t.status(active)?;
    ensure(a.peer.verdict != "alive", || {
        format!("the stopped {standby} is still seen alive: {}", status_line(&a))
    })?;
    t.start(standby)?;
    settled(t)?;
    let t0 = Instant::now();
    target::stop(t, active)?;
    let st = took_over(t, standby, s.epoch)?;
    let wall = t0.elapsed();
    let serving = t.expect_serving(standby, true)?;
    t.start(active)?;
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
fn restart(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let active = s.active;
    t.signal(active, Signal::SIGKILL)?;
    t.start(active)?;
    let limit = takeover_limit(t);
    let (now, epoch) = wait_for(t, limit, "a new active above the old epoch", |t| {
        for c in [Controller::A, Controller::B] {
            if let Ok(x) = t.status(c)
                && x.status == "MASTER"
                && x.epoch > s.epoch
            {
                return Ok(Some((c, x.epoch)));
            }
        }
        Ok(None)
    })?;
    let st = t.status(now)?;
    let how = st.last_failover.as_ref().map_or("?", |f| f.cause.as_str()).to_owned();
    ensure(now != active || how == "election", || format!("the restarted {active} became active by {how}"))?;
    settled(t)?;
    Ok(format!("{active} killed and restarted: {now} MASTER@{epoch} ({})", timing(&st)))
}

/// Giveback on the active: the roles swap.
fn standby(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    let t0 = Instant::now();
    t.giveback(active)?;
    let st = took_over(t, standby, s.epoch)?;
    let (now, epoch) = settled(t)?;
    ensure(now == standby, || format!("after the giveback {now} is active"))?;
    Ok(format!("{standby} MASTER@{epoch}, {active} BACKUP after {} ({})", ms(t0.elapsed()), timing(&st)))
}

/// Failover disabled: killing the active moves nothing; a forced takeover works.
fn maintenance(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    t.set_disabled(active, true)?;
    for c in [active, standby] {
        reports(t, c, "NO_FAILOVER")?;
    }
    t.signal(active, Signal::SIGKILL)?;
    let t0 = Instant::now();
    let window = quiet(t);
    while t0.elapsed() < window {
        let b = t.status(standby)?;
        ensure(b.status == "BACKUP" && b.epoch == s.epoch, || {
            format!("failover disabled, yet {}", status_line(&b))
        })?;
        std::thread::sleep(Duration::from_millis(10));
    }
    ensure(!t.has_vip(standby)?, || format!("{standby} raised the VIP without a takeover"))?;
    t.force_takeover(standby)?;
    let st = took_over(t, standby, s.epoch)?;
    ensure(st.last_failover.as_ref().is_some_and(|f| f.cause == "forced"), || timing(&st))?;
    wait_disks_held(t, standby, st.epoch)?;
    t.start(active)?;
    settled(t)?;
    let disabled = t.set_disabled(standby, false)?;
    ensure(!disabled, || "failover not enabled again".into())?;
    Ok(format!(
        "{active} killed with failover disabled: {standby} stayed BACKUP@{} for {}; forced takeover: MASTER@{} ({})",
        s.epoch,
        ms(quiet(t)),
        st.epoch,
        timing(&st)
    ))
}

/// SIGKILL the active's failoverd: its BMC reports its host dead, the standby takes
/// over, and the standby's BMC cuts the dead one's enclosure port.
fn kill_failoverd(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    let t0 = Instant::now();
    t.signal(active, Signal::SIGKILL)?;
    let st = took_over(t, standby, s.epoch)?;
    let wall = t0.elapsed();
    wait_disks_held(t, standby, st.epoch)?;
    let cut = if t.supports(Capability::BmcFenceLine).is_ok() {
        wait_for(
            t,
            Duration::from_secs(3),
            &format!("{standby}'s BMC to cut the dead {active}'s enclosure port"),
            |t| Ok(t.bmc_fencing(standby)?.then_some(())),
        )?;
        format!("{standby}'s BMC cut {active}'s port")
    } else {
        "BMC fence line not observable here".into()
    };
    let serving = t.expect_serving(standby, false)?;
    t.start(active)?;
    Ok(format!(
        "{standby} MASTER@{} {} after SIGKILL ({}); {cut}; {serving}",
        st.epoch,
        ms(wall),
        timing(&st)
    ))
}

/// Kill the active's BMC: no takeover (path H is fine); both report the BMC path
/// down; the BMC boots again and the pair is whole.
fn kill_bmc(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let active = s.active;
    t.set_bmc_power(active, false)?;
    let samples = steady_quiet(t, active, s.epoch)?;
    let own = reports(t, active, "NO_BMC_LINK")?;
    let peer = reports(t, active.peer(), "NO_BMC_LINK")?;
    ensure(samples.iter().all(|p| p.peer.verdict == "alive"), || "the peer lost sight of the active".into())?;
    let t0 = Instant::now();
    t.set_bmc_power(active, true)?;
    wait_for(t, Duration::from_secs(8), "both hosts to see the BMC path again", |t| {
        let (a, b) = (t.status(Controller::A)?, t.status(Controller::B)?);
        let ok = |s: &StatusJson| !s.disabled_reasons.iter().any(|r| r == "NO_BMC_LINK");
        Ok((ok(&a) && ok(&b)).then_some(()))
    })?;
    Ok(format!(
        "{active}'s BMC killed: no takeover for {}, {active} reports {:?}, {} reports {:?}; BMC rebooted, path L back in {}",
        ms(quiet(t)),
        own.disabled_reasons,
        active.peer(),
        peer.disabled_reasons,
        ms(t0.elapsed())
    ))
}

/// SIGSTOP the active's failoverd (a hung host): its BMC reports it hung, the standby
/// takes over; resumed, the old active finds itself fenced and stops.
fn hang_host(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    let t0 = Instant::now();
    t.signal(active, Signal::SIGSTOP)?;
    let st = took_over(t, standby, s.epoch);
    let wall = t0.elapsed();
    // Resumed once replaced, within its watchdog's timeout: it must find out by itself.
    t.signal(active, Signal::SIGCONT)?;
    let st = st?;
    wait_disks_held(t, standby, st.epoch)?;
    let fate = stood_down(t, active, st.epoch)?;
    let serving = t.expect_serving(standby, true)?;
    let fencing = t.audit_fencing(standby, st.epoch)?;
    Ok(format!(
        "{standby} MASTER@{} {} after SIGSTOP ({}); resumed {active}: {fate}; {serving}; {fencing}",
        st.epoch,
        ms(wall),
        timing(&st)
    ))
}

/// Cut the dedicated link with the BMC link alive: no takeover, both alerted.
fn host_link_cut(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let active = s.active;
    t.set_host_link(active, false)?;
    let samples = steady_quiet(t, active, s.epoch)?;
    let a = reports(t, active, "NO_HOST_LINK")?;
    let b = reports(t, active.peer(), "NO_HOST_LINK")?;
    ensure(b.peer.verdict == "alive_via_bmc_only", || format!("the standby's verdict: {}", b.peer.verdict))?;
    t.set_host_link(active, true)?;
    Ok(format!(
        "no takeover for {} ({} standby samples); {active}: {:?}, {}: {:?} verdict {}",
        ms(quiet(t)),
        samples.len(),
        a.disabled_reasons,
        active.peer(),
        b.disabled_reasons,
        b.peer.verdict
    ))
}

/// Cut both links: each side sees the peer gone; the disk fence decides, one survives.
fn both_links_cut(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    for c in [Controller::A, Controller::B] {
        t.impair(c, Impairment::CUT)?;
        t.cut_bmc_link(c, true)?;
    }
    let t0 = Instant::now();
    // The standby cannot tell this from a dead active: it takes over with a newer
    // epoch, and the disks decide which of the two keeps serving.
    let what = "one controller MASTER above the old epoch, holding every disk";
    let (winner, epoch) = wait_for(t, Duration::from_secs(6), what, |t| {
        let holders = t.holders()?;
        for c in [Controller::A, Controller::B] {
            if let Seen::Up(x) = seen(t, c)
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
    let fate = stood_down(t, loser, epoch)?;
    let took = t0.elapsed();
    let serving = t.expect_serving(winner, true)?;
    let fencing = t.audit_fencing(winner, epoch)?;
    Ok(format!(
        "{winner} MASTER@{epoch} holding every disk after {}; {loser}: {fate}; {serving}; {fencing}",
        ms(took)
    ))
}

/// Flap the dedicated link for a few seconds: the BMC path vouches for the peer, so
/// nothing moves.
fn link_flapping(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let active = s.active;
    let mut rng = failover_core::sim::Rng::new(s.epoch);
    let t0 = Instant::now();
    let mut flaps = 0;
    while t0.elapsed() < Duration::from_secs(3) {
        t.set_host_link(active, false)?;
        std::thread::sleep(Duration::from_millis(50 + rng.below(150)));
        t.set_host_link(active, true)?;
        std::thread::sleep(Duration::from_millis(20 + rng.below(100)));
        flaps += 1;
        let x = t.status(active)?;
        ensure(x.status == "MASTER" && x.epoch == s.epoch, || {
            format!("after {flaps} flaps: {}", status_line(&x))
        })?;
        let y = t.status(active.peer())?;
        ensure(y.status == "BACKUP", || format!("after {flaps} flaps: {}", status_line(&y)))?;
    }
    let two = 2 * t.timeout();
    steady(t, active, s.epoch, two)?;
    Ok(format!("{flaps} flaps of 50-200 ms in {}: no takeover", ms(t0.elapsed())))
}

/// Lose everything the active sends on the dedicated link (its receive side works):
/// the standby hears the active only through the BMCs, and nothing moves.
fn asymmetric_loss(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let active = s.active;
    t.impair(active, Impairment::CUT)?;
    let samples = steady_quiet(t, active, s.epoch)?;
    let b = reports(t, active.peer(), "NO_HOST_LINK")?;
    t.impair(active, Impairment::NONE)?;
    Ok(format!(
        "{active}'s sends on path H dropped for {}: no takeover; {} reports {:?}, verdict {} ({} samples)",
        ms(quiet(t)),
        active.peer(),
        b.disabled_reasons,
        b.peer.verdict,
        samples.len()
    ))
}

/// Delay with jitter near the timeout on the dedicated link, both ways: no takeover.
fn netem_jitter(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let active = s.active;
    // Up to 5/6 of the timeout per frame, so a gap between arrivals stays below it.
    let imp = Impairment { delay: t.timeout() / 2, jitter: t.timeout() / 3, loss_percent: 0 };
    let before = [t.link_frames(Controller::A)?, t.link_frames(Controller::B)?];
    for c in [Controller::A, Controller::B] {
        t.impair(c, imp)?;
    }
    let watch = (10 * t.timeout()).max(Duration::from_secs(3));
    let samples = steady(t, active, s.epoch, watch);
    for c in [Controller::A, Controller::B] {
        t.impair(c, Impairment::NONE)?;
    }
    let samples = samples?;
    let mut sent = 0;
    for c in [Controller::A, Controller::B] {
        sent += t.link_frames(c)?.saturating_sub(before[c.index()]);
    }
    ensure(sent > 100, || format!("only {sent} frames crossed the delayed link: the test tests nothing"))?;
    Ok(format!(
        "delay {} ± {} ms (uniform) both ways for {}, timeout {} ms: no takeover ({sent} frames delayed, {} samples)",
        imp.delay.as_millis(),
        imp.jitter.as_millis(),
        ms(watch),
        t.timeout().as_millis(),
        samples.len()
    ))
}

/// The active's critical interface loses its carrier: it hands over to the peer.
fn critical_interface_loss(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    let t0 = Instant::now();
    t.set_public_link(active, false)?;
    let st = took_over(t, standby, s.epoch)?;
    let wall = t0.elapsed();
    wait_disks_held(t, standby, st.epoch)?;
    let serving = t.expect_serving(standby, true)?;
    t.set_public_link(active, true)?;
    let (now, _) = settled(t)?;
    ensure(now == standby, || format!("after its critical interface came back {now} is active"))?;
    Ok(format!(
        "{active}'s critical interface down: {standby} MASTER@{} after {} ({}); {serving}; {active} back as BACKUP",
        st.epoch,
        ms(wall),
        timing(&st)
    ))
}

/// Stall the standby past the timeout, then resume it: it must not take over from a
/// healthy active.
fn standby_stall(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let (active, standby) = (s.active, s.active.peer());
    t.signal(standby, Signal::SIGSTOP)?;
    std::thread::sleep(3 * t.timeout());
    t.signal(standby, Signal::SIGCONT)?;
    steady_quiet(t, active, s.epoch)?;
    let x = t.status(standby)?;
    ensure(x.status == "BACKUP" && x.epoch == s.epoch, || status_line(&x))?;
    Ok(format!(
        "{standby} stopped {} ms and resumed: stayed BACKUP@{}, {active} kept MASTER",
        3 * t.timeout().as_millis(),
        s.epoch
    ))
}

/// The standby's configuration file drifts (its virtual hostname edited by hand) and
/// it restarts: it reports the mismatch and takes the active's configuration.
fn config_drift(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let standby = s.active.peer();
    t.signal(standby, Signal::SIGKILL)?;
    let text = t.read_config(standby)?;
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("hostname_virtual"))
        .ok_or_else(|| format!("{standby}'s configuration has no hostname_virtual line"))?
        .to_owned();
    let drifted = format!("{}-drifted\"", line.trim_end().trim_end_matches('"'));
    t.write_config(standby, &text.replacen(&line, &drifted, 1))?;
    let t0 = Instant::now();
    t.start(standby)?;
    wait_for(t, Duration::from_secs(8), "the drifted file to be synced from the active", |t| {
        let f = t.read_config(standby)?;
        let (a, b) = (t.status(Controller::A), t.status(Controller::B));
        let (Ok(a), Ok(b)) = (a, b) else { return Ok(None) };
        Ok((f.lines().any(|l| l == line) && a.config_digest == b.config_digest).then_some(()))
    })?;
    steady(t, s.active, s.epoch, Duration::from_millis(200))?;
    Ok(format!(
        "{standby}'s hand-edited `{}` replaced by the active's `{line}` {} after its restart; digests equal",
        drifted.trim(),
        ms(t0.elapsed())
    ))
}

/// Stop both at once: both exit, the VIP goes, no write lands afterwards; then both
/// start again (the passphrase is needed).
fn simul_stop(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    for c in [Controller::A, Controller::B] {
        t.signal(c, Signal::SIGTERM)?;
    }
    for c in [Controller::A, Controller::B] {
        target::wait_gone(t, c)?;
    }
    for c in [Controller::A, Controller::B] {
        ensure(!t.has_vip(c)?, || format!("{c} left the VIP configured after an orderly stop"))?;
    }
    let w = t.writes_by(s.active)?;
    std::thread::sleep(Duration::from_millis(200));
    ensure(t.writes_by(s.active)? == w, || "writes landed after both stopped".into())?;
    let writes = if w.is_some() { "no writes" } else { "writes not observable here" };
    t.start(Controller::A)?;
    t.start(Controller::B)?;
    let (active, epoch) = settled(t)?;
    let unlocked = unlock_after_both_restarted(t, active)?;
    Ok(format!("both stopped: VIP gone, {writes}; restarted: {active} MASTER@{epoch}; {unlocked}"))
}

/// Kill both, start both at the same moment: exactly one becomes active.
fn simul_start(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    t.signal(Controller::A, Signal::SIGKILL)?;
    t.signal(Controller::B, Signal::SIGKILL)?;
    let t0 = Instant::now();
    t.start(Controller::A)?;
    t.start(Controller::B)?;
    let (active, epoch) = settled(t)?;
    let took = t0.elapsed();
    ensure(epoch > s.epoch, || format!("{active} active at epoch {epoch}, not above {}", s.epoch))?;
    let unlocked = unlock_after_both_restarted(t, active)?;
    Ok(format!("{active} MASTER@{epoch}, peer BACKUP {} after both started; {unlocked}", ms(took)))
}

/// Both controllers reboot (killed, both down, then started one after the other): the
/// pool's key is nowhere, both ask for it, and one unlock serves both.
fn both_reboot(t: &mut dyn Target, s: &Audited) -> Result<String, String> {
    let standby = s.active.peer();
    t.signal(s.active, Signal::SIGKILL)?;
    t.signal(standby, Signal::SIGKILL)?;
    t.start(standby)?;
    std::thread::sleep(Duration::from_millis(200));
    t.start(s.active)?;
    let (active, epoch) = settled(t)?;
    let a = t.status(active)?;
    ensure(a.passphrase_needed, || "the pool key survived both controllers' restart".into())?;
    let unlocked = unlock_after_both_restarted(t, active)?;
    Ok(format!("{active} MASTER@{epoch} after both rebooted; {unlocked}"))
}
