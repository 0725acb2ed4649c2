//! The firmware suite's cases, each on a fresh [`Pair`].
//!
//! Times are measured on the host: when the link relay forwarded a frame, when a test
//! host received a relay or report, when QMP announced an event. Bounds allow for
//! QEMU's scheduling on a shared 2-core machine (a guest can lose tens of
//! milliseconds), never for a missed deadline of the protocol itself.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use failover_core::wire::{
    Controller, Endpoint, FenceMethod, FenceOutcome, HostLiveness, Kind, MacKey, Sender, Station,
};

use super::bmc::Bmc;
use super::host::{DebugCommand, field, stream_frame};
use super::image::{TEST_KEY, TEST_TIMINGS};
use super::pair::{Pair, wait_for};

/// A case: the rig in, a one-line detail or the reason it failed out.
pub type Case = fn(&mut Pair) -> Result<String, String>;

/// The cases, in the order they run.
pub const CASES: &[(&str, Case)] = &[
    ("heartbeats", heartbeats),
    ("peer-lost", peer_lost),
    ("host-hung", host_hung),
    ("peer-fence", peer_fence),
    ("watchdog", watchdog),
    ("reset-causes", reset_causes),
    ("bad-frames", bad_frames),
];

/// Scheduling slack on top of a protocol bound.
const SLACK: Duration = Duration::from_millis(150);
/// A generous limit for things that must happen "soon".
const SOON: Duration = Duration::from_secs(5);

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

fn millis(v: u64) -> Duration {
    Duration::from_millis(v)
}

fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg()) }
}

/// Wait for a report line `word ...` from `bmc` after `since` that satisfies `pred`.
fn report(
    bmc: &Bmc,
    word: &str,
    since: Instant,
    limit: Duration,
    pred: impl Fn(&str) -> bool,
) -> Result<(Instant, String), String> {
    wait_for(limit, &format!("a `{word}` report from BMC {}", bmc.node), || {
        Ok(bmc.host.reports(word, since).into_iter().find(|(_, l)| pred(l)))
    })
}

/// What a BMC reports on a counters request.
struct Counters {
    /// Path L's counters.
    l: HashMap<String, u64>,
    /// Path B's counters.
    b: HashMap<String, u64>,
    /// The stack's high-water mark, in bytes.
    stack_peak: u64,
}

/// The counters of `c`'s BMC, asked for now.
fn counters(p: &mut Pair, c: Controller) -> Result<Counters, String> {
    let since = Instant::now();
    p.bmc(c).host.command(DebugCommand::Counters)?;
    let bmc = p.bmc(c);
    let parse = |l: &str| -> HashMap<String, u64> {
        super::host::fields(l)
            .into_iter()
            .filter_map(|(k, v)| Some((k.to_owned(), v.parse().ok()?)))
            .collect()
    };
    let (_, l) = report(bmc, "counters", since, SOON, |l| field(l, "path") == Some("L"))?;
    let (_, b) = report(bmc, "counters", since, SOON, |l| field(l, "path") == Some("B"))?;
    let (_, m) = report(bmc, "memory", since, SOON, |_| true)?;
    let stack_peak =
        field(&m, "stack_peak").and_then(|v| v.parse().ok()).ok_or_else(|| format!("bad report: {m}"))?;
    Ok(Counters { l: parse(&l), b: parse(&b), stack_peak })
}

fn delta(after: &HashMap<String, u64>, before: &HashMap<String, u64>, key: &str) -> u64 {
    after.get(key).copied().unwrap_or(0).saturating_sub(before.get(key).copied().unwrap_or(0))
}

/// Deterministic noise.
struct Noise(u64);

impl Noise {
    fn bytes(&mut self, n: usize, zeros: bool) -> Vec<u8> {
        (0..n)
            .map(|_| {
                self.0 ^= self.0 << 13;
                self.0 ^= self.0 >> 7;
                self.0 ^= self.0 << 17;
                let b = (self.0 >> 24) as u8;
                if zeros || b != 0 { b } else { 0x5A }
            })
            .collect()
    }
}

/// Statistics of the intervals between `times`: (median, p95, max).
fn intervals(times: &[Instant]) -> Option<(Duration, Duration, Duration)> {
    let mut gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return None;
    }
    gaps.sort();
    let at = |q: f64| gaps[((gaps.len() - 1) as f64 * q).round() as usize];
    Some((at(0.5), at(0.95), gaps[gaps.len() - 1]))
}

// ---------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------

/// Two BMCs linked by a UART exchange authenticated heartbeats; each tells its host
/// the peer is alive.
fn heartbeats(p: &mut Pair) -> Result<String, String> {
    let up = p.up(1)?;
    let (cpu_a, cpu_b, t0) = (p.a.cpu_time()?, p.b.cpu_time()?, Instant::now());
    std::thread::sleep(Duration::from_secs(1));
    let window = t0.elapsed().as_secs_f64();
    let load = |before: Duration, after: Duration| (after - before).as_secs_f64() * 100.0 / window;
    let (load_a, load_b) = (load(cpu_a, p.a.cpu_time()?), load(cpu_b, p.b.cpu_time()?));
    // Round trips of a debug command on path L: how soon the firmware wakes for input.
    let mut trips = Vec::new();
    for _ in 0..10 {
        let sent = Instant::now();
        p.a.host.command(DebugCommand::Status)?;
        let (at, _) = report(&p.a, "status", sent, SOON, |_| true)?;
        trips.push(at - sent);
    }
    trips.sort();
    let trip = trips[trips.len() / 2];
    let crossed: Vec<_> = p.link.crossed().into_iter().filter(|c| c.at >= up).collect();
    let mut authenticated = 0;
    for from in [Controller::A, Controller::B] {
        // Open every frame as its recipient would: the peer BMC, with the link key.
        let mut rx = Endpoint::new(MacKey::new(TEST_KEY), Sender::new(from.peer(), Station::Bmc), 0);
        for c in crossed.iter().filter(|c| c.from == from) {
            let received =
                rx.open(&c.frame).map_err(|e| format!("a frame from BMC {from} did not open: {e}"))?;
            ensure(received.header.sender == Sender::new(from, Station::Bmc), || {
                format!("a frame on the link claims to be from {}", received.header.sender)
            })?;
            authenticated += 1;
        }
    }
    let beats: Vec<Instant> = crossed
        .iter()
        .filter(|c| c.from == Controller::A && c.frame.get(3) == Some(&(Kind::BmcHeartbeat as u8)))
        .map(|c| c.at)
        .collect();
    let (median, p95, max) = intervals(&beats).ok_or("no heartbeats crossed the link")?;
    let interval = millis(TEST_TIMINGS.interval_ms);
    ensure(median >= interval.mul_f64(0.8) && median <= interval.mul_f64(1.5), || {
        format!("heartbeats every {} (median), configured {}", ms(median), ms(interval))
    })?;
    for c in [Controller::A, Controller::B] {
        let (n, alive) = p.bmc(c).host.with(|r| {
            let recent: Vec<_> = r.relays.iter().filter(|(t, _)| *t >= up).collect();
            (recent.len(), recent.iter().all(|(_, r)| r.peer_bmc_alive && r.peer_host == HostLiveness::Alive))
        });
        ensure(n > 10 && alive, || format!("host {c}: {n} relays since start, all peer-alive: {alive}"))?;
    }
    Ok(format!(
        "{authenticated} frames authenticated both ways; BMC link heartbeat every {} (p95 {}, max {}); both hosts told peer BMC and host alive; QEMU CPU A {load_a:.0}% B {load_b:.0}% of a core; path L command round trip {}",
        ms(median),
        ms(p95),
        ms(max),
        ms(trip)
    ))
}

/// Kill BMC A: B reports the peer BMC lost within its timeout.
fn peer_lost(p: &mut Pair) -> Result<String, String> {
    p.up(1)?;
    std::thread::sleep(Duration::from_millis(300));
    let killed = p.a.kill();
    let last = p
        .link
        .crossed()
        .iter()
        .filter(|c| c.from == Controller::A)
        .map(|c| c.at)
        .max()
        .ok_or("no frame from A crossed the link")?;
    let detected = wait_for(SOON, "host B to be told the peer BMC is lost", || {
        Ok(p.b.host.with(|r| {
            r.relays.iter().find(|(t, r)| *t >= killed && !r.peer_bmc_alive).map(|(t, r)| (*t, *r))
        }))
    })?;
    let (at, relay) = detected;
    let detection = at - last;
    let timeout = millis(TEST_TIMINGS.peer_timeout_ms);
    let bound = timeout + millis(2 * TEST_TIMINGS.interval_ms) + SLACK;
    ensure(detection + millis(5) >= timeout, || {
        format!(
            "B declared the peer lost {} after its last frame, before the {} timeout",
            ms(detection),
            ms(timeout)
        )
    })?;
    ensure(detection <= bound, || {
        format!(
            "B declared the peer lost {} after its last frame (timeout {}, bound {})",
            ms(detection),
            ms(timeout),
            ms(bound)
        )
    })?;
    ensure(relay.peer_host == HostLiveness::Unknown, || {
        format!("with the peer BMC lost, B reports the peer host {:?}, not Unknown", relay.peer_host)
    })?;
    Ok(format!(
        "B told its host the peer BMC is lost {} after A's last frame ({} after the kill; timeout {})",
        ms(detection),
        ms(at - killed),
        ms(timeout)
    ))
}

/// Host A stops heartbeating: BMC A declares it hung, raises its host-fault line and
/// tells BMC B. B leaves A alone until its own host takes over (a quiet path L is not
/// proof enough), then raises the fence line on A.
fn host_hung(p: &mut Pair) -> Result<String, String> {
    p.up(1)?;
    let stop = Instant::now();
    p.a.host.set_heartbeat(false, true, 1);
    let last_beat = p.a.host.sent().last().map(|(t, _)| *t).ok_or("host A never heartbeated")?;
    let (hung_at, _) = report(&p.a, "status", stop, SOON, |l| field(l, "host") == Some("hung"))?;
    let hang = hung_at - last_beat;
    let timeout = millis(TEST_TIMINGS.host_hang_ms);
    ensure(
        hang + millis(5) >= timeout && hang <= timeout + millis(TEST_TIMINGS.interval_ms) + SLACK,
        || {
            format!(
                "A declared its host hung {} after its last heartbeat (timeout {})",
                ms(hang),
                ms(timeout)
            )
        },
    )?;
    wait_for(SOON, "A's host-fault line (gpioA2) to rise", || Ok(p.a.qmp.gpio("gpioA2")?.then_some(())))?;
    let told = wait_for(SOON, "host B to be told the peer host is hung", || {
        Ok(p.b.host.with(|r| {
            r.relays.iter().find(|(t, r)| *t >= stop && r.peer_host == HostLiveness::Hung).map(|(t, _)| *t)
        }))
    })?;
    let held = hold_off(p)?;
    p.b.host.set_heartbeat(true, true, 2);
    wait_for(SOON, "B's fence line on A (gpioA0) to rise", || Ok(p.b.qmp.gpio("gpioA0")?.then_some(())))?;
    ensure(!p.a.qmp.gpio("gpioA0")?, || "A raised a fence line on B, whose host is fine".into())?;
    Ok(format!(
        "A declared its host hung {} after its last heartbeat (timeout {}), raised its host-fault line; B's host heard it {} later; B held off {held} while its host stayed standby, and raised the fence line on A once its host took over",
        ms(hang),
        ms(timeout),
        ms(told.saturating_duration_since(hung_at))
    ))
}

/// BMC B must not cut A while its own host has not taken over: watched for five BMC
/// intervals after B's host heard A called hung. How long it was watched.
fn hold_off(p: &mut Pair) -> Result<String, String> {
    let watch = millis(5 * TEST_TIMINGS.interval_ms);
    let t0 = Instant::now();
    while t0.elapsed() < watch {
        ensure(!p.b.qmp.gpio("gpioA0")?, || {
            "B cut A while B's host was still standby (nobody takes A's place)".into()
        })?;
    }
    Ok(ms(watch))
}

/// BMC B, told A's host is hung and its own host taking over, cuts A: fence GPIO,
/// reset pulse, and the enclosure register over I2C (read back); it lifts the fence
/// when A's host is back as standby.
fn peer_fence(p: &mut Pair) -> Result<String, String> {
    p.up(1)?;
    let stop = Instant::now();
    p.a.host.set_heartbeat(false, true, 1);
    wait_for(SOON, "host B to be told the peer host is hung", || {
        Ok(p.b.host.with(|r| {
            r.relays.iter().any(|(t, r)| *t >= stop && r.peer_host == HostLiveness::Hung).then_some(())
        }))
    })?;
    hold_off(p)?;
    p.b.host.set_heartbeat(true, true, 2);
    // Watch B's lines while it happens: the reset pulse is short.
    let (mut cut_at, mut pulse_on, mut pulse_off) = (None, None, None);
    let deadline = stop + SOON;
    while Instant::now() < deadline && (cut_at.is_none() || pulse_off.is_none()) {
        let now = Instant::now();
        if cut_at.is_none() && p.b.qmp.gpio("gpioA0")? {
            cut_at = Some(now);
        }
        let reset = p.b.qmp.gpio("gpioA1")?;
        if pulse_on.is_none() && reset {
            pulse_on = Some(now);
        } else if pulse_on.is_some() && pulse_off.is_none() && !reset {
            pulse_off = Some(now);
        }
    }
    let cut_at = cut_at.ok_or("B never raised the fence line on A (gpioA0)")?;
    let (on, off) = pulse_on.zip(pulse_off).ok_or("no reset pulse seen on B's gpioA1")?;
    let (_, fence) = report(&p.b, "fence", stop, SOON, |l| field(l, "cuts") == Some("1"))?;
    // Peer A is bit 0 of PORT_ENABLE and FENCE_LATCH: latched, and disabled.
    let expect = |l: &str, enable: &str, latch: &str| {
        field(l, "enclosure") == Some("ok")
            && field(l, "port_enable") == Some(enable)
            && field(l, "fence_latch") == Some(latch)
    };
    ensure(expect(&fence, "0x02", "0x01"), || format!("after the cut B reports: {fence}"))?;
    let asked = Instant::now();
    p.b.host.command(DebugCommand::Fence)?;
    let (_, again) = report(&p.b, "fence", asked, SOON, |_| true)?;
    ensure(expect(&again, "0x02", "0x01") && field(&again, "cut_line") == Some("1"), || {
        format!("reading the registers back again: {again}")
    })?;
    wait_for(SOON, "host B's fence report (done)", || {
        Ok(p.b.host.with(|r| {
            r.fence_reports
                .iter()
                .find(|(t, f)| {
                    *t >= stop
                        && f.target == Controller::A
                        && f.method == FenceMethod::Enclosure
                        && f.outcome == FenceOutcome::Done
                })
                .map(|_| ())
        }))
    })?;

    // A's host comes back as a healthy standby: B gives A its ports back.
    let back = Instant::now();
    p.a.host.set_heartbeat(true, false, 2);
    let (_, lifted) = report(&p.b, "fence", back, SOON, |l| field(l, "restores") == Some("1"))?;
    ensure(expect(&lifted, "0x03", "0x00"), || format!("after the restore B reports: {lifted}"))?;
    wait_for(SOON, "B's fence line on A to fall", || Ok((!p.b.qmp.gpio("gpioA0")?).then_some(())))?;
    wait_for(SOON, "host B's fence report (lifted)", || {
        Ok(p.b.host.with(|r| {
            r.fence_reports.iter().any(|(t, f)| *t >= back && f.outcome == FenceOutcome::Lifted).then_some(())
        }))
    })?;
    Ok(format!(
        "B cut A {} after host A stopped: fence line up, reset pulse ~{}, PORT_ENABLE=0x02 FENCE_LATCH=0x01 read back over I2C, FenceReport done to host B; A back as standby: lifted (0x03/0x00); B's stack peak {} bytes",
        ms(cut_at - stop),
        ms(off - on),
        counters(p, Controller::B)?.stack_peak
    ))
}

/// The main loop stalls: the watchdog resets the SoC, the firmware reports why at
/// boot and kept the epoch.
fn watchdog(p: &mut Pair) -> Result<String, String> {
    p.up(7)?;
    report(&p.a, "status", Instant::now() - SOON, SOON, |l| field(l, "epoch") == Some("7"))?;
    let sent = Instant::now();
    p.a.host.command(DebugCommand::Stall)?;
    report(&p.a, "stalling:", sent, SOON, |_| true)?;
    let limit = millis(TEST_TIMINGS.watchdog_ms) + SOON;
    let fired = wait_for(limit, "QMP event WATCHDOG from A", || {
        Ok(p.a.qmp.events().into_iter().find(|e| e.at >= sent && e.name == "WATCHDOG"))
    })?;
    ensure(fired.data.get("action").and_then(|a| a.as_str()) == Some("reset"), || {
        format!("WATCHDOG event with data {}", fired.data)
    })?;
    let after = fired.at - sent;
    let timeout = millis(TEST_TIMINGS.watchdog_ms);
    ensure(after + millis(50) >= timeout && after <= timeout + Duration::from_secs(1), || {
        format!("the watchdog fired {} after the stall (timeout {})", ms(after), ms(timeout))
    })?;
    let (booted, boot) = report(&p.a, "boot", fired.at, SOON, |_| true)?;
    for (k, v) in [("cause", "watchdog"), ("boot_id", "2"), ("epoch", "7"), ("warm_resets", "1")] {
        ensure(field(&boot, k) == Some(v), || {
            format!("boot report after the watchdog: {boot} ({k} should be {v})")
        })?;
    }
    // And it is back in service: its host hears the peer again.
    wait_for(SOON, "host A to get relays again", || {
        Ok(p.a.host.with(|r| r.relays.iter().any(|(t, r)| *t >= booted && r.peer_bmc_alive).then_some(())))
    })?;
    Ok(format!(
        "loop stalled; QMP WATCHDOG (reset) {} later (timeout {}); booted again with cause=watchdog boot_id=2, epoch 7 kept",
        ms(after),
        ms(timeout)
    ))
}

/// A panic and a requested reset are recorded as such (not as the watchdog).
fn reset_causes(p: &mut Pair) -> Result<String, String> {
    p.up(3)?;
    let mut found = Vec::new();
    for (command, cause, boot_id) in
        [(DebugCommand::Panic, "panic", "2"), (DebugCommand::Reset, "requested", "3")]
    {
        let sent = Instant::now();
        p.a.host.command(command)?;
        let reset = wait_for(SOON, "QMP event RESET from A", || {
            Ok(p.a.qmp.events().into_iter().find(|e| e.at >= sent && e.name == "RESET"))
        })?;
        let (_, boot) = report(&p.a, "boot", sent, SOON, |_| true)?;
        ensure(field(&boot, "cause") == Some(cause) && field(&boot, "boot_id") == Some(boot_id), || {
            format!("after {command:?}: {boot} (expected cause={cause} boot_id={boot_id})")
        })?;
        ensure(field(&boot, "epoch") == Some("3"), || format!("the epoch was not kept: {boot}"))?;
        found.push(format!(
            "{cause} (detail {}, reset {} after the command)",
            field(&boot, "detail").unwrap_or("?"),
            ms(reset.at - sent)
        ));
        report(&p.a, "status", sent, SOON, |l| field(l, "host") == Some("alive"))?;
    }
    ensure(!p.a.qmp.events().iter().any(|e| e.name == "WATCHDOG"), || "the watchdog fired".into())?;
    Ok(format!("boot reports: {}; no watchdog", found.join(", ")))
}

/// Garbage, oversize, truncated and replayed frames on both of A's UARTs are counted
/// and dropped; a flood of noise does not crash it or stop its service.
fn bad_frames(p: &mut Pair) -> Result<String, String> {
    p.up(1)?;
    std::thread::sleep(Duration::from_millis(200));
    let Counters { l: l0, b: b0, .. } = counters(p, Controller::A)?;
    let mut noise = Noise(0x9E37_79B9_7F4A_7C15);

    // Path L (from the test host).
    let sent = p.a.host.sent();
    let old =
        sent.get(sent.len().saturating_sub(5)).map(|(_, f)| f.clone()).ok_or("no heartbeat to replay")?;
    let fresh = p.a.host.fresh_frame().ok_or("cannot seal a heartbeat")?;
    let wire = stream_frame(&fresh);
    let mut l_injected = 0;
    for bytes in [
        [&[0u8][..], &noise.bytes(64, false), &[0]].concat(), // garbage
        [&[0u8][..], &noise.bytes(600, false), &[0]].concat(), // longer than any frame
        [&wire[..wire.len() / 2], &[0]].concat(),             // truncated
        stream_frame(&old),                                   // replayed
        stream_frame(&[0xDB, 0x67, 0x99]),                    // unknown debug command
        stream_frame(&[0xFA, 0x11, 0x01]),                    // a bare header start
    ] {
        p.a.host.inject(&bytes)?;
        l_injected += 1;
    }
    // Path B (into A, between the frames B sends).
    let from_b: Vec<_> = p.link.crossed().into_iter().filter(|c| c.from == Controller::B).collect();
    let old_b =
        from_b.get(from_b.len().saturating_sub(5)).map(|c| c.frame.clone()).ok_or("no frame from B")?;
    let wire_b = stream_frame(&old_b);
    let mut b_injected = 0;
    for bytes in [
        [&[0u8][..], &noise.bytes(64, false), &[0]].concat(),
        [&[0u8][..], &noise.bytes(600, false), &[0]].concat(),
        [&wire_b[..wire_b.len() / 2], &[0]].concat(),
        wire_b.clone(),
    ] {
        p.link.inject(Controller::A, &bytes)?;
        b_injected += 1;
    }
    std::thread::sleep(Duration::from_millis(200));
    let Counters { l: l1, b: b1, .. } = counters(p, Controller::A)?;
    let (dl, db) = (delta(&l1, &l0, "rejected"), delta(&b1, &b0, "rejected"));
    for (path, after, before, total, injected) in
        [("L", &l1, &l0, dl, l_injected), ("B", &b1, &b0, db, b_injected)]
    {
        ensure(total >= injected, || {
            format!("path {path}: {injected} bad frames injected, {total} counted")
        })?;
        for key in ["replayed", "oversize"] {
            ensure(delta(after, before, key) >= 1, || {
                format!("path {path}: no {key} frame counted: {after:?}")
            })?;
        }
    }

    // A flood of noise (with delimiters) on both UARTs, in chunks between frames.
    let flood = Instant::now();
    for _ in 0..16 {
        p.a.host.inject(&noise.bytes(256, true))?;
        p.link.inject(Controller::A, &[&noise.bytes(255, true)[..], &[0]].concat())?;
        std::thread::sleep(Duration::from_millis(5));
    }
    p.a.host.inject(&[0])?;
    std::thread::sleep(millis(2 * TEST_TIMINGS.peer_timeout_ms));
    let Counters { l: l2, b: b2, stack_peak } = counters(p, Controller::A)?;
    ensure(!p.a.qmp.events().iter().any(|e| e.name == "RESET"), || "A reset during the test".into())?;
    ensure(p.a.host.reports("boot", flood).is_empty(), || "A booted again during the flood".into())?;
    let since = Instant::now();
    wait_for(SOON, "host A to be told the peer is alive after the flood", || {
        Ok(p.a.host.with(|r| {
            r.relays
                .iter()
                .any(|(t, r)| *t >= since && r.peer_bmc_alive && r.peer_host == HostLiveness::Alive)
                .then_some(())
        }))
    })?;
    wait_for(SOON, "host B to be told BMC A is alive after the flood", || {
        Ok(p.b.host.with(|r| r.relays.iter().any(|(t, r)| *t >= since && r.peer_bmc_alive).then_some(())))
    })?;
    let kinds = |a: &HashMap<String, u64>, b: &HashMap<String, u64>| {
        let mut k: Vec<String> = a
            .keys()
            .filter(|k| {
                !["path", "ok", "sent", "rejected", "line_errors", "tx_dropped"].contains(&k.as_str())
            })
            .filter_map(|k| Some(format!("{k} +{}", delta(a, b, k))).filter(|_| delta(a, b, k) > 0))
            .collect();
        k.sort();
        k.join(", ")
    };
    Ok(format!(
        "L: {l_injected} bad frames, {dl} counted ({}); B: {b_injected}, {db} counted ({}); after 8 KiB of noise: L +{} B +{} dropped, still up, peer alive both ways; stack peak {stack_peak} bytes",
        kinds(&l1, &l0),
        kinds(&b1, &b0),
        delta(&l2, &l1, "rejected"),
        delta(&b2, &b1, "rejected")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_statistics() {
        let t0 = Instant::now();
        let times: Vec<Instant> = [0, 20, 40, 61, 80, 100].iter().map(|&m| t0 + millis(m)).collect();
        let (median, p95, max) = intervals(&times).unwrap();
        assert_eq!(median, millis(20));
        assert_eq!(max, millis(21));
        assert!(p95 >= median);
        assert!(intervals(&times[..1]).is_none());
    }

    #[test]
    fn noise_without_zeros_has_none() {
        let mut n = Noise(1);
        assert!(!n.bytes(10_000, false).contains(&0));
        assert!(n.bytes(10_000, true).contains(&0));
    }
}
