//! The `netns` suite: two real `failoverd` processes in network namespaces, with real
//! virtual IPs on a bridged public segment and simulated disks, watchdogs and peer
//! reset (the rig is described in [`super::rig`]).
//!
//! Each case builds a fresh rig and directory (so no case inherits another's epoch,
//! reservation or addresses), starts both daemons, lets them settle (the designated
//! primary A active at epoch 1), injects one fault or admin action, and checks:
//! - each controller's status over its API (MASTER / BACKUP / ERROR, epoch, cause);
//! - who holds the reservation on every simulated disk (`read_reservation`);
//! - that no write through a fenced controller's port landed (`check_log` on every
//!   disk's log);
//! - where the VIP answers, from the client namespace: which controller's `pub0` holds
//!   it (`ip addr`), which MACs answer an ARP request for it, that an ICMP echo to it
//!   is answered, and that the client's neighbour entry for it holds the active's MAC.
//!
//! Waits are bounded polls (every 5 ms); the only fixed waits are the short
//! "nothing may happen" observations (ten failover timeouts). A failing case prints
//! both statuses, the disks, the addresses, the client's neighbour entry and the tail
//! of both daemons' logs.

use std::process::Command;
use std::time::{Duration, Instant};

use failover_core::node::ReservationKey;
use failover_core::wire::Controller::{self, A, B};
use failover_linux::api::types::TakeoverJson;
use nix::sys::signal::Signal;

use super::rig::{Binaries, Pair, SETTLE_LIMIT, Seen, TIMEOUT_MS, VIP, fmt_mac, owner_of, status_line};
use crate::report::{CaseResult, guarded};

type Case = fn(&mut Pair) -> Result<String, String>;

/// The cases, in the order they run.
const CASES: &[(&str, Case)] = &[
    ("simultaneous-start", simultaneous_start),
    ("kill-active", kill_active),
    ("sigstop-active", sigstop_active),
    ("link-cut", link_cut),
    ("failover-disabled", failover_disabled),
    ("giveback", giveback),
    ("interface-edit-refused", interface_edit_refused),
    ("restart-after-kill", restart_after_kill),
    ("config-pushed-to-standby", config_pushed_to_standby),
];

/// How long a "nothing may happen" observation lasts: ten failover timeouts.
const QUIET: Duration = Duration::from_millis(10 * TIMEOUT_MS);

fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg()) }
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1e3)
}

fn opt_ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |m| format!("{m:.1} ms"))
}

/// Run the suite.
pub fn run() -> Vec<CaseResult> {
    let t0 = Instant::now();
    let bins = match super::rig::preflight() {
        Ok(b) => b,
        Err(e) => {
            return vec![CaseResult {
                name: "netns/preflight".into(),
                outcome: Err(e),
                elapsed: t0.elapsed(),
            }];
        }
    };
    println!(
        "netns: rig fo-{}-{{a,b,pub,c}}, failoverd {}, heartbeat {} ms, timeout {} ms",
        std::process::id(),
        bins.failoverd.display(),
        super::rig::HEARTBEAT_MS,
        TIMEOUT_MS
    );
    let results: Vec<CaseResult> = CASES.iter().map(|(name, case)| run_case(&bins, name, *case)).collect();
    println!("netns: {} cases in {:.1} s", results.len(), t0.elapsed().as_secs_f64());
    results
}

fn run_case(bins: &Binaries, name: &str, case: Case) -> CaseResult {
    let t0 = Instant::now();
    let outcome = guarded(|| {
        let mut pair = Pair::new(bins)?;
        let r = case(&mut pair);
        r.map_err(|e| format!("{e}{}", pair.diagnostics()))
    });
    CaseResult { name: format!("netns/{name}"), outcome, elapsed: t0.elapsed() }
}

/// Start both (B a moment first), settle, and check the nominal start: A active at
/// epoch 1 holding the disks and serving the VIP alone. The epoch.
fn up(p: &mut Pair) -> Result<u64, String> {
    p.start(B)?;
    p.start(A)?;
    let (active, epoch) = p.settled()?;
    ensure(active == A, || format!("the designated primary A must win the start, but {active} is active"))?;
    ensure(epoch == 1, || format!("a fresh pair must start at epoch 1, not {epoch}"))?;
    p.wait_disks_held(A, epoch)?;
    p.expect_serving(A, true)?;
    p.wait_writes(A, 0, 3)?;
    Ok(epoch)
}

/// The survivor's takeover after the active went away: MASTER at `epoch`, with `cause`.
fn took_over(p: &mut Pair, c: Controller, epoch: u64, cause: &str) -> Result<String, String> {
    let s = p.wait_status(c, SETTLE_LIMIT, "to become MASTER", |s| s.status == "MASTER")?;
    ensure(s.epoch == epoch, || format!("{c} took over at epoch {}, expected {epoch}", s.epoch))?;
    let lf = s.last_failover.ok_or_else(|| format!("{c} is MASTER but reports no last failover"))?;
    ensure(lf.cause == cause, || format!("{c}'s takeover cause is {}, expected {cause}", lf.cause))?;
    ensure(lf.epoch == epoch, || format!("{c}'s last failover is at epoch {}, expected {epoch}", lf.epoch))?;
    Ok(format!("detect {}, total {}", opt_ms(lf.detect_ms), opt_ms(lf.total_ms)))
}

fn vip_gone(p: &mut Pair, c: Controller) -> Result<(), String> {
    p.wait_for(Duration::from_secs(3), &format!("the VIP to leave {c}'s pub0"), |p| {
        Ok((!p.rig.has_vip(c)?).then_some(()))
    })
}

// ---------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------

/// Both start together: the designated primary A wins the election, B is standby.
fn simultaneous_start(p: &mut Pair) -> Result<String, String> {
    let t0 = Instant::now();
    p.start(B)?;
    p.start(A)?;
    let (active, epoch) = p.settled()?;
    let settle = t0.elapsed();
    ensure(active == A, || {
        format!("the designated primary A must win a simultaneous start, but {active} did")
    })?;
    ensure(epoch == 1, || format!("a fresh pair must settle at epoch 1, not {epoch}"))?;
    let a = p.status(A)?;
    let cause = a.last_failover.as_ref().map(|f| f.cause.clone());
    ensure(cause.as_deref() == Some("election"), || {
        format!("A became active by {cause:?}, expected election")
    })?;
    let b = p.status(B)?;
    ensure(b.last_failover.is_none(), || format!("B must not have taken over: {}", status_line(&b)))?;
    p.wait_disks_held(A, 1)?;
    let serving = p.expect_serving(A, true)?;
    p.wait_writes(A, 0, 3)?;
    let n = p.audit_logs()?;
    Ok(format!(
        "A MASTER, B BACKUP at epoch 1 after {} (election); disks A@1; {serving}; {n} log entries ok",
        ms(settle)
    ))
}

/// SIGKILL the active: the standby takes over and serves the VIP.
fn kill_active(p: &mut Pair) -> Result<String, String> {
    let e = up(p)?;
    let t0 = Instant::now();
    p.kill(A)?;
    let timing = took_over(p, B, e + 1, "peer_silent")?;
    let wall = t0.elapsed();
    p.wait_disks_held(B, e + 1)?;
    p.wait_writes(B, 0, 3)?;
    let counted = metrics_count_the_takeover(p, B)?;
    // The killed daemon's host is still up in this rig, and its kernel keeps the
    // address it had (on hardware its watchdog would reset it): the VIP must answer
    // from B, and the client's traffic must go to B.
    let serving = p.expect_serving(B, false)?;
    let n = p.audit_logs()?;
    Ok(format!(
        "B MASTER at epoch {} ({timing}; SIGKILL to MASTER seen over the API {}); disks B@{}; {serving}; {n} log entries ok; {counted}",
        e + 1,
        ms(wall),
        e + 1
    ))
}

/// One sample of a Prometheus text, by its full name with labels.
fn sample(text: &str, name: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
}

/// `/metrics` of the new active counts its one completed takeover and the heartbeats
/// it took from the peer before.
fn metrics_count_the_takeover(p: &mut Pair, c: Controller) -> Result<String, String> {
    let text = p.block_on(p.client(c).metrics()).map_err(|e| format!("{c}: GET /metrics: {e}"))?;
    let get =
        |name: &str| sample(&text, name).ok_or_else(|| format!("{c}'s /metrics has no `{name}`:\n{text}"));
    let completed = get("failover_takeovers_total{outcome=\"completed\"}")?;
    let failed = get("failover_takeovers_total{outcome=\"failed\"}")?;
    let accepted = get("failover_frames_accepted_total{path=\"host_link\"}")?;
    let lost = get("failover_frames_lost_total{path=\"host_link\"}")?;
    let total = get("failover_last_takeover_seconds{phase=\"total\"}")?;
    ensure(completed == 1.0 && failed == 0.0, || {
        format!("{c}'s /metrics counts {completed} completed and {failed} failed takeovers, expected 1 and 0")
    })?;
    ensure(accepted > 0.0, || format!("{c}'s /metrics counts no heartbeat frame from the peer"))?;
    ensure(total > 0.0 && total < 5.0, || format!("{c}'s /metrics reports a last takeover of {total} s"))?;
    Ok(format!("/metrics: 1 takeover ({:.1} ms), {accepted} frames in, {lost} lost", total * 1e3))
}

/// A change made on the active (the virtual hostname) reaches the standby by itself:
/// its API shows it, its configuration file holds it, and both report one digest.
fn config_pushed_to_standby(p: &mut Pair) -> Result<String, String> {
    up(p)?;
    let before = p.status(B)?;
    let mut net = p.block_on(p.client(A).network()).map_err(|e| format!("A: GET network: {e}"))?;
    net.hostname_virtual = "pushed-by-a".into();
    p.block_on(p.client(A).set_network(&net)).map_err(|e| format!("A: PUT network: {e}"))?;
    let t0 = Instant::now();
    p.wait_for(Duration::from_secs(5), "B to receive A's new virtual hostname", |p| {
        let n = p.block_on(p.client(B).network()).map_err(|e| format!("B: GET network: {e}"))?;
        Ok((n.hostname_virtual == "pushed-by-a").then_some(()))
    })?;
    let took = t0.elapsed();
    let file = std::fs::read_to_string(p.config_file(B)).map_err(|e| format!("B's config file: {e}"))?;
    ensure(file.contains("pushed-by-a"), || {
        format!("B's config file does not hold the pushed hostname:\n{file}")
    })?;
    let (a, b) = (p.status(A)?, p.status(B)?);
    ensure(a.config_digest == b.config_digest && b.config_digest != before.config_digest, || {
        format!(
            "digests after the push: A {} B {} (B before {})",
            a.config_digest, b.config_digest, before.config_digest
        )
    })?;
    ensure(a.status == "MASTER" && b.status == "BACKUP", || {
        format!("a config push must not move anything: A {}, B {}", status_line(&a), status_line(&b))
    })?;
    Ok(format!("virtual hostname on B {} after the edit on A; B's file rewritten; digests equal", ms(took)))
}

/// SIGSTOP the active past the timeout, then SIGCONT: the standby takes over, the old
/// active finds itself fenced (or its watchdog kills it) and never writes again.
fn sigstop_active(p: &mut Pair) -> Result<String, String> {
    let e = up(p)?;
    p.signal(A, Signal::SIGSTOP)?;
    let t0 = Instant::now();
    let taken = took_over(p, B, e + 1, "peer_silent");
    // Stay stopped well past the timeout even if the takeover was quick.
    let min_stop = Duration::from_millis(4 * TIMEOUT_MS);
    if let Some(left) = min_stop.checked_sub(t0.elapsed()) {
        std::thread::sleep(left);
    }
    let stopped_for = t0.elapsed();
    if p.exit_status(A).is_none() {
        p.signal(A, Signal::SIGCONT)?;
    }
    let timing = taken?;
    let fate = p.wait_for(
        Duration::from_millis(3 * super::rig::WATCHDOG_MS),
        "A to find itself fenced (ERROR) or be killed by its watchdog",
        |p| {
            Ok(match p.seen(A) {
                Seen::Exited(st) => Some(format!("exited ({st})")),
                Seen::Up(s) if s.status == "ERROR" => Some(format!("{} ({})", s.status, s.state)),
                Seen::Up(s) if s.status == "MASTER" && s.epoch > e => {
                    return Err(format!("the resumed old active claims a newer epoch: {}", status_line(&s)));
                }
                _ => None,
            })
        },
    )?;
    let log = std::fs::read_to_string(p.log_path(A)).unwrap_or_default();
    let fate = if fate.starts_with("exited") && log.contains("watchdog fired") {
        format!("killed by its watchdog, {fate}")
    } else {
        fate
    };
    vip_gone(p, A)?;
    p.wait_disks_held(B, e + 1)?;
    p.wait_writes(B, 0, 3)?;
    let serving = p.expect_serving(B, true)?;
    let n = p.audit_logs()?;
    Ok(format!(
        "A stopped {}; B MASTER at epoch {} ({timing}); resumed A: {fate}, VIP dropped; disks B@{}; {serving}; {n} log entries ok (no write of A after the fence)",
        ms(stopped_for),
        e + 1,
        e + 1
    ))
}

/// Cut the dedicated link: both see the peer silent; without BMCs the disks decide.
fn link_cut(p: &mut Pair) -> Result<String, String> {
    let e = up(p)?;
    p.rig.set_link(A, false)?;
    let (winner, epoch, fate) = p.wait_for(
        Duration::from_secs(5),
        "exactly one controller MASTER holding every disk, the other fenced, standby or gone",
        |p| {
            let holders = p.holders()?;
            let seen = [p.seen(A), p.seen(B)];
            for (w, l) in [(0, 1), (1, 0)] {
                let wc = if w == 0 { A } else { B };
                let Seen::Up(ws) = &seen[w] else { continue };
                if ws.status != "MASTER" && ws.status != "SINGLE" {
                    continue;
                }
                let key = ReservationKey::new(wc, ws.epoch);
                if !holders.iter().all(|h| *h == Some(key)) {
                    continue;
                }
                // The loser is fenced (ERROR), gone (its watchdog), or back to standby
                // after the disk refused its own takeover (never merely the standby it
                // was before the cut).
                let fate = match &seen[l] {
                    Seen::Exited(st) => Some(format!("{} exited ({st})", wc.peer())),
                    Seen::Up(ls) if ls.status == "ERROR" => {
                        Some(format!("{} ERROR ({})", wc.peer(), ls.state))
                    }
                    Seen::Up(ls)
                        if ls.status == "BACKUP"
                            && ls.last_failover.as_ref().is_some_and(|f| f.epoch > e) =>
                    {
                        Some(format!("{} BACKUP after a refused takeover", wc.peer()))
                    }
                    _ => None,
                };
                if let Some(f) = fate {
                    return Ok(Some((wc, ws.epoch, f)));
                }
            }
            Ok(None)
        },
    )?;
    let loser = winner.peer();
    ensure(epoch > e || winner == A, || format!("{winner} is active at epoch {epoch}, not above {e}"))?;
    vip_gone(p, loser)?;
    let w0 = p.writes_by(winner)?;
    p.wait_writes(winner, w0, 3)?;
    let serving = p.expect_serving(winner, true)?;
    let n = p.audit_logs()?;
    // Heal the link: nothing may move.
    p.rig.set_link(A, true)?;
    let t0 = Instant::now();
    while t0.elapsed() < QUIET {
        if let Seen::Up(s) = p.seen(winner)
            && (s.status != "MASTER" || s.epoch != epoch)
        {
            return Err(format!("after the link came back the winner changed: {}", status_line(&s)));
        }
        if let Seen::Up(s) = p.seen(loser)
            && (s.status == "MASTER" || s.status == "IMPORTING")
        {
            return Err(format!("after the link came back the loser became active: {}", status_line(&s)));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    p.wait_disks_held(winner, epoch)?;
    let n2 = p.audit_logs()?;
    Ok(format!(
        "{winner} MASTER at epoch {epoch} holding every disk, {fate}; {serving}; {n} log entries ok; link healed: no change, {n2} entries ok"
    ))
}

/// Failover disabled on both: killing the active moves nothing; a forced takeover on
/// the survivor works.
fn failover_disabled(p: &mut Pair) -> Result<String, String> {
    let e = up(p)?;
    for c in [A, B] {
        let s = p.set_disabled(c, true)?;
        ensure(s.disabled, || format!("{c} did not apply disabled=true: {s:?}"))?;
    }
    for c in [A, B] {
        p.wait_status(c, Duration::from_secs(2), "to report NO_FAILOVER", |s| {
            s.disabled_reasons.iter().any(|r| r == "NO_FAILOVER")
        })?;
    }
    p.kill(A)?;
    let t0 = Instant::now();
    let mut last = None;
    while t0.elapsed() < QUIET {
        let s = p.status(B)?;
        ensure(s.status == "BACKUP" && s.epoch == e, || {
            format!("with failover disabled nobody may take over, but {}", status_line(&s))
        })?;
        last = Some(s);
        std::thread::sleep(Duration::from_millis(5));
    }
    let last = last.ok_or("no status of B")?;
    ensure(last.peer.verdict != "alive", || {
        format!("B still sees the killed A alive: {}", status_line(&last))
    })?;
    let held = p.holders()?;
    let a_key = ReservationKey::new(A, e);
    ensure(held.iter().all(|h| *h == Some(a_key)), || {
        format!("the disks moved without a takeover: {held:?}")
    })?;
    ensure(!p.rig.has_vip(B)?, || "B raised the VIP without a takeover".to_string())?;
    let t1 = Instant::now();
    p.block_on(p.client(B).takeover(&TakeoverJson { force: true }))
        .map_err(|e| format!("forced takeover on B refused: {e}"))?;
    let timing = took_over(p, B, e + 1, "forced")?;
    let wall = t1.elapsed();
    p.wait_disks_held(B, e + 1)?;
    p.wait_writes(B, 0, 3)?;
    let serving = p.expect_serving(B, false)?;
    let n = p.audit_logs()?;
    Ok(format!(
        "after SIGKILL of A, B stayed BACKUP at epoch {e} for {} (peer {}, disks still A@{e}); forced takeover: B MASTER at epoch {} in {} ({timing}); {serving}; {n} log entries ok",
        ms(QUIET),
        last.peer.verdict,
        e + 1,
        ms(wall)
    ))
}

/// Giveback on the active: the roles swap, the epoch grows, the VIP moves.
fn giveback(p: &mut Pair) -> Result<String, String> {
    let e = up(p)?;
    let t0 = Instant::now();
    p.block_on(p.client(A).giveback()).map_err(|e| format!("giveback on A refused: {e}"))?;
    let timing = took_over(p, B, e + 1, "handover")?;
    let (active, epoch) = p.settled()?;
    let wall = t0.elapsed();
    ensure(active == B && epoch == e + 1, || {
        format!("after the giveback {active} is active at epoch {epoch}")
    })?;
    p.wait_disks_held(B, e + 1)?;
    vip_gone(p, A)?;
    p.wait_writes(B, 0, 3)?;
    let serving = p.expect_serving(B, true)?;
    let n = p.audit_logs()?;
    Ok(format!(
        "B MASTER, A BACKUP at epoch {} after {} ({timing}); disks B@{}; {serving}; {n} log entries ok",
        e + 1,
        ms(wall),
        e + 1
    ))
}

/// `failoverctl interfaces set` is refused while failover is enabled.
fn interface_edit_refused(p: &mut Pair) -> Result<String, String> {
    up(p)?;
    let out = Command::new(&p.bins().failoverctl)
        .arg("--socket")
        .arg(p.socket(A))
        .args(["interfaces", "set", super::rig::PUB_IF, "--vhid", "11"])
        .output()
        .map_err(|e| format!("cannot run failoverctl: {e}"))?;
    let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
    ensure(out.status.code() == Some(1), || {
        format!("failoverctl interfaces set exited with {}, expected 1 (stderr: {stderr})", out.status)
    })?;
    ensure(stderr.contains("failover is enabled"), || {
        format!("the refusal does not say failover is enabled: {stderr}")
    })?;
    let ifs = p.block_on(p.client(A).interfaces()).map_err(|e| format!("GET interfaces: {e}"))?;
    let vhid = ifs.iter().find(|i| i.name == super::rig::PUB_IF).and_then(|i| i.vhid);
    ensure(vhid == Some(10), || format!("the refused edit changed the vhid to {vhid:?}"))?;
    Ok(format!("exit 1: {stderr}; pub0 vhid still 10"))
}

/// The killed active restarted (a daemon crash, then its restart): it comes back
/// BACKUP, no failback, and must not keep answering for the VIP with the address its
/// killed predecessor left on `pub0`.
fn restart_after_kill(p: &mut Pair) -> Result<String, String> {
    let e = up(p)?;
    p.kill(A)?;
    took_over(p, B, e + 1, "peer_silent")?;
    p.wait_disks_held(B, e + 1)?;
    // No BMC in this rig: B itself cut the lost A's enclosure ports behind its fence.
    ensure(p.enclosure_cut(A)?, || {
        "B took over from a dead A but left A's enclosure ports connected".into()
    })?;
    let stale = p.rig.has_vip(A)?;
    p.start(A)?;
    let (active, epoch) = p.settled()?;
    ensure(active == B && epoch == e + 1, || {
        format!("after A's restart {active} is active at epoch {epoch}")
    })?;
    // Back as a healthy standby, A gets its ports back (it could take over again).
    p.wait_for(Duration::from_secs(3), "B to give A's enclosure ports back", |p| {
        Ok((!p.enclosure_cut(A)?).then_some(()))
    })?;
    if let Err(wait) = vip_gone(p, A) {
        let macs = p.rig.arp_probe(Duration::from_millis(20)).unwrap_or_default();
        let names: Vec<String> =
            macs.iter().map(|m| owner_of(m).map_or_else(|| fmt_mac(m), |c| c.to_string())).collect();
        return Err(format!(
            "failoverd restarted as standby (BACKUP) keeps the VIP {VIP}/24 that its killed predecessor left on \
             pub0 (stale before restart: {stale}): ARP for the VIP is answered by [{}] ({wait})",
            names.join(",")
        ));
    }
    let serving = p.expect_serving(B, true)?;
    let n = p.audit_logs()?;
    Ok(format!(
        "A's ports cut by B, A back as BACKUP and its ports given back, B still MASTER at epoch {epoch}; {serving}; {n} log entries ok"
    ))
}
