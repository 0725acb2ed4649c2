//! The `sim` suite: seeded whole-system simulation in virtual time.
//!
//! Each seed builds a world of two hosts and (usually) two BMCs with its own link
//! latency, jitter, loss and disk speeds, lets the pair settle, then injects a random
//! sequence of faults: crashes and power-offs of the active or the standby, hangs
//! (SIGSTOP) short and long, BMC crashes, cuts of the host link, the BMC link or a
//! host-to-BMC link (one way or both), full partitions, link flapping, clock steps,
//! slow disks and lost disk paths. Safety is checked after every event (no two
//! writers, no stale writer, no re-activation after preemption). Timing is checked on
//! every clean failure of the active: detection (failure to takeover decision) must
//! be at most timeout + one heartbeat interval + the link jitter bound. At the end
//! everything is healed and the pair must settle with one active holding the
//! reservation and the VIP.
//!
//! A failing seed prints the command that replays it with a full trace.

use std::sync::Mutex;
use std::time::Instant as WallInstant;

use failover_core::node::{HostNode, StateName};
use failover_core::sim::{Fault, Link, Rng, SimConfig, Timings, World};
use failover_core::time::Duration;
use failover_core::wire::Controller::{self, A, B};

use crate::report::CaseResult;
use crate::stats::summarize;

/// Options of the seeded simulation.
#[derive(Clone, Copy, Debug)]
pub struct SimOpts {
    /// Seeds to run (0..seeds).
    pub seeds: u64,
    /// Replay only this seed, printing its trace.
    pub seed: Option<u64>,
}

/// Simulated time per seed.
const RUN_MS: u64 = 5_000;
/// When faults may start (the pair has settled by then).
const FAULTS_FROM_MS: u64 = 800;
/// Faults stop this long before the end, so the heal-and-settle audit has time.
const QUIET_TAIL_MS: u64 = 1_500;
/// Most link latency plus jitter the simulation draws: the jitter bound of the
/// detection-time property.
const MAX_LINK_LATENCY_US: u64 = 300;
const MAX_JITTER_US: u64 = 1_000;

/// What one seed measured.
#[derive(Debug, Default)]
struct SeedOutcome {
    error: Option<String>,
    detection_ms: Vec<f64>,
    takeover_ms: Vec<f64>,
    faults: u64,
}

/// A fault and its duration (0 for instantaneous ones).
#[derive(Clone, Copy, Debug)]
enum Planned {
    CrashActive,
    PowerCycleActive { off_ms: u64 },
    CrashStandby,
    Hang { active: bool, ms: u64 },
    CrashBmc { active_side: bool },
    CutHostLink { both: bool, ms: u64 },
    CutBmcLink { ms: u64 },
    CutLocal { active_side: bool, ms: u64 },
    Partition { ms: u64 },
    FlapHostLink { ms: u64 },
    ClockStep { active_side: bool, us: i64 },
    SlowDisks,
    LoseStandbyDiskPath { ms: u64 },
}

fn plan(rng: &mut Rng) -> Planned {
    let dur = |rng: &mut Rng| [20, 45, 80, 200, 600][rng.below(5) as usize];
    match rng.below(100) {
        0..=19 => Planned::CrashActive,
        20..=27 => Planned::PowerCycleActive { off_ms: 300 + rng.below(700) },
        28..=33 => Planned::CrashStandby,
        34..=45 => Planned::Hang { active: rng.chance(0.6), ms: dur(rng) },
        46..=51 => Planned::CrashBmc { active_side: rng.chance(0.5) },
        52..=61 => Planned::CutHostLink { both: rng.chance(0.7), ms: dur(rng) },
        62..=67 => Planned::CutBmcLink { ms: dur(rng) },
        68..=73 => Planned::CutLocal { active_side: rng.chance(0.5), ms: dur(rng) },
        74..=81 => Planned::Partition { ms: dur(rng) },
        82..=87 => Planned::FlapHostLink { ms: 100 + rng.below(300) },
        88..=92 => {
            let us = 1_000_000 + rng.below(4_000_000) as i64;
            Planned::ClockStep { active_side: rng.chance(0.5), us: if rng.chance(0.5) { us } else { -us } }
        }
        93..=96 => Planned::SlowDisks,
        _ => Planned::LoseStandbyDiskPath { ms: dur(rng) },
    }
}

fn random_world(seed: u64, rng: &mut Rng) -> World {
    let mut cfg = SimConfig::realistic();
    cfg.has_bmc = rng.below(10) < 8;
    let t = Timings {
        link: Duration::from_micros(50 + rng.below(MAX_LINK_LATENCY_US - 50)),
        link_jitter: Duration::from_micros(rng.below(MAX_JITTER_US + 1)),
        loss_ppm: [0, 0, 1_000, 10_000, 30_000][rng.below(5) as usize],
        persist: Duration::from_micros(500 + rng.below(5_000)),
        fence: Duration::from_micros(1_000 + rng.below(30_000)),
        import: Duration::from_micros(5_000 + rng.below(100_000)),
        vips: Duration::from_micros(200 + rng.below(2_000)),
        export: Duration::from_micros(5_000 + rng.below(100_000)),
        release: Duration::from_micros(500 + rng.below(5_000)),
        check: Duration::from_micros(500 + rng.below(5_000)),
        bmc_fence: Duration::from_micros(200 + rng.below(2_000)),
    };
    cfg.timings = t;
    World::new(cfg, seed ^ 0x5EED)
}

fn the_active(w: &World) -> Option<Controller> {
    match w.actives().as_slice() {
        [c] => Some(*c),
        _ => None,
    }
}

/// The standby is in a state where a failure of the active must be detected in time:
/// running, standby, able and allowed to take over, every link up.
fn clean_for_timing(w: &World, active: Controller) -> bool {
    let s = active.peer();
    let standby_ok = w.host(s).is_some_and(|n: &HostNode| {
        n.state_name() == StateName::Standby && n.fenced_marker().is_none() && !n.settings().disabled
    });
    standby_ok && w.host_runs(s) && w.cut.is_empty() && !w.disk.is_cut(s)
}

fn run_seed(seed: u64, trace: bool) -> (SeedOutcome, Option<Vec<String>>) {
    let mut rng = Rng::new(seed);
    let mut w = random_world(seed, &mut rng);
    if trace {
        w.trace = Some(Vec::new());
    }
    let mut out = SeedOutcome::default();
    let start = w.now;
    let at = |ms: u64| start + Duration::from_millis(ms);
    w.boot_all();
    w.run_until(at(FAULTS_FROM_MS));
    let settings = w.cfg.settings;
    let bound = settings.failover_timeout
        + settings.heartbeat_interval
        + Duration::from_micros(MAX_LINK_LATENCY_US + MAX_JITTER_US);
    let mut powered_off: Vec<Controller> = Vec::new();
    let mut slow = false;
    let end_faults = at(RUN_MS - QUIET_TAIL_MS);
    while w.now < end_faults && w.violation.is_none() {
        let gap = Duration::from_millis(300 + rng.below(700));
        w.run_for(gap);
        if w.now >= end_faults || w.violation.is_some() {
            break;
        }
        let p = plan(&mut rng);
        out.faults += 1;
        let active = the_active(&w);
        let act = active.unwrap_or(A);
        let measured = matches!(p, Planned::CrashActive | Planned::PowerCycleActive { .. })
            && active.is_some()
            && clean_for_timing(&w, act);
        let t0 = w.now;
        let takeovers_before = w.takeovers.len();
        w.log(|| format!("plan {p:?} (active {active:?})"));
        match p {
            Planned::CrashActive => w.inject(Fault::CrashHost(act)),
            Planned::PowerCycleActive { off_ms } => {
                w.inject(Fault::PowerOff(act));
                powered_off.push(act);
                w.run_for(Duration::from_millis(off_ms));
                w.boot_host(act);
                powered_off.retain(|c| *c != act);
            }
            Planned::CrashStandby => w.inject(Fault::CrashHost(act.peer())),
            Planned::Hang { active: on_active, ms } => {
                let c = if on_active { act } else { act.peer() };
                w.inject(Fault::HangHost(c));
                w.run_for(Duration::from_millis(ms));
                w.inject(Fault::ResumeHost(c));
            }
            Planned::CrashBmc { active_side } => {
                if w.cfg.has_bmc {
                    w.inject(Fault::CrashBmc(if active_side { act } else { act.peer() }));
                }
            }
            Planned::CutHostLink { both, ms } => {
                let links = Link::host_link();
                let cut: &[Link] = if both { &links } else { &links[..1] };
                for l in cut {
                    w.inject(Fault::Cut(*l));
                }
                w.run_for(Duration::from_millis(ms));
                for l in cut {
                    w.inject(Fault::Heal(*l));
                }
            }
            Planned::CutBmcLink { ms } => {
                for l in Link::bmc_link() {
                    w.inject(Fault::Cut(l));
                }
                w.run_for(Duration::from_millis(ms));
                for l in Link::bmc_link() {
                    w.inject(Fault::Heal(l));
                }
            }
            Planned::CutLocal { active_side, ms } => {
                let c = if active_side { act } else { act.peer() };
                for l in Link::local(c) {
                    w.inject(Fault::Cut(l));
                }
                w.run_for(Duration::from_millis(ms));
                for l in Link::local(c) {
                    w.inject(Fault::Heal(l));
                }
            }
            Planned::Partition { ms } => {
                w.inject(Fault::Partition);
                w.run_for(Duration::from_millis(ms));
                w.inject(Fault::HealAll);
            }
            Planned::FlapHostLink { ms } => {
                let until = w.now + Duration::from_millis(ms);
                let mut up = false;
                while w.now < until {
                    for l in Link::host_link() {
                        w.set_link(l, up);
                    }
                    up = !up;
                    w.run_for(Duration::from_millis(15));
                }
                w.inject(Fault::HealAll);
            }
            Planned::ClockStep { active_side, us } => {
                w.inject(Fault::ClockStep(if active_side { act } else { act.peer() }, us));
            }
            Planned::SlowDisks => {
                if !slow {
                    slow = true;
                    let t = &mut w.cfg.timings;
                    t.fence = t.fence.saturating_mul(10);
                    t.import = t.import.saturating_mul(5);
                    t.check = t.check.saturating_mul(10);
                }
            }
            Planned::LoseStandbyDiskPath { ms } => {
                let c = act.peer();
                w.disk.set_cut(c, true);
                w.run_for(Duration::from_millis(ms));
                w.disk.set_cut(c, false);
            }
        }
        if measured {
            // Give the standby time to take over, then measure.
            w.run_for(Duration::from_millis(600));
            let s = act.peer();
            let tk = w.takeovers[takeovers_before..].iter().find(|t| t.by == s).copied();
            match tk {
                Some(t) => {
                    let detect = t.at.saturating_since(t0);
                    out.detection_ms.push(detect.micros() as f64 / 1e3);
                    if detect > bound {
                        out.error = Some(format!(
                            "detection took {detect} after {p:?} at {t0}, above the bound {bound}"
                        ));
                        break;
                    }
                    if let Some((ta, _, _)) =
                        w.activations.iter().find(|(ta, c, _)| *c == s && *ta >= t.at).copied()
                    {
                        out.takeover_ms.push(ta.saturating_since(t0).micros() as f64 / 1e3);
                    }
                }
                None => {
                    out.error = Some(format!("no takeover after {p:?} at {t0}: {}", w.summary()));
                    break;
                }
            }
        }
    }
    if out.error.is_none() && w.violation.is_none() {
        // Heal everything and audit the settled pair.
        w.inject(Fault::HealAll);
        for c in [A, B] {
            w.resume_host(c);
            w.disk.set_cut(c, false);
        }
        for c in powered_off.drain(..) {
            w.boot_host(c);
        }
        w.run_until(at(RUN_MS));
        // A failover still under way (slow disks) gets up to 5 s more to finish.
        let mut extra = 0;
        while extra < 50 && w.violation.is_none() && [A, B].iter().any(|c| in_transition(&w, *c)) {
            w.run_for(Duration::from_millis(100));
            extra += 1;
        }
        if w.violation.is_none() {
            out.error = audit(&w).err();
        }
    }
    if let Some(v) = &w.violation {
        out.error = Some(format!("safety: {} at {}", v.what, v.at));
    }
    (out, w.trace.take())
}

fn in_transition(w: &World, c: Controller) -> bool {
    w.host(c).is_some_and(|n| {
        let name = n.state_name().name();
        name.starts_with("takeover") || name.starts_with("giveback") || name == "electing"
    })
}

/// After healing: one active with the VIP and the reservation at the highest epoch.
fn audit(w: &World) -> Result<(), String> {
    let actives = w.actives();
    let [a] = actives.as_slice() else {
        let any_error = [A, B].iter().any(|c| w.host(*c).is_some_and(|n| n.state_name() == StateName::Error));
        if actives.is_empty() && any_error {
            // A controller that failed to fence or import stays in ERROR for an
            // administrator; that is the designed outcome, not a hang.
            return Ok(());
        }
        return Err(format!("after healing, actives = {actives:?}: {}", w.summary()));
    };
    let a = *a;
    if w.vip_owner != Some(a) || w.disk.holder() != Some(a) || w.writers() != vec![a] {
        return Err(format!("active {a} must hold VIP, reservation and be the only writer: {}", w.summary()));
    }
    let epoch = w.host(a).and_then(HostNode::held_epoch);
    if epoch != Some(w.disk.max_reserved_epoch) {
        return Err(format!(
            "active epoch {epoch:?} is not the highest reserved {}",
            w.disk.max_reserved_epoch
        ));
    }
    Ok(())
}

/// Run the simulation: one case with the seeds, one with the timing bound.
pub fn run(opts: SimOpts) -> Vec<CaseResult> {
    if let Some(seed) = opts.seed {
        let t0 = WallInstant::now();
        let (o, trace) = run_seed(seed, true);
        for line in trace.unwrap_or_default() {
            println!("{line}");
        }
        let outcome = match o.error {
            None => Ok(format!("faults={} detections_ms={:?}", o.faults, o.detection_ms)),
            Some(e) => Err(e),
        };
        return vec![CaseResult { name: format!("sim/seed-{seed}"), outcome, elapsed: t0.elapsed() }];
    }
    let t0 = WallInstant::now();
    let next = Mutex::new(0u64);
    let results = Mutex::new(Vec::new());
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get()).min(8);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let seed = {
                        let mut n = next.lock().expect("seed counter");
                        if *n >= opts.seeds {
                            break;
                        }
                        *n += 1;
                        *n - 1
                    };
                    let (o, _) = run_seed(seed, false);
                    results.lock().expect("results").push((seed, o));
                }
            });
        }
    });
    let mut results = results.into_inner().expect("results");
    results.sort_by_key(|(s, _)| *s);
    let failures: Vec<_> = results.iter().filter_map(|(s, o)| o.error.as_ref().map(|e| (*s, e))).collect();
    let detection: Vec<f64> = results.iter().flat_map(|(_, o)| o.detection_ms.iter().copied()).collect();
    let takeover: Vec<f64> = results.iter().flat_map(|(_, o)| o.takeover_ms.iter().copied()).collect();
    let faults: u64 = results.iter().map(|(_, o)| o.faults).sum();
    let elapsed = t0.elapsed();
    let fmt = |v: &[f64]| match summarize(v) {
        Some(s) => format!("n={} p50={:.1} p99={:.1} max={:.1}", s.count, s.p50, s.p99, s.max),
        None => "n=0".to_string(),
    };
    let settings = SimConfig::realistic().settings;
    println!(
        "sim: {} seeds, {faults} faults, {:.1} s of simulated time, {:.1} s wall",
        opts.seeds,
        opts.seeds as f64 * RUN_MS as f64 / 1e3,
        elapsed.as_secs_f64()
    );
    println!(
        "sim: settings interval={} timeout={}; detection bound = timeout + interval + {} us jitter",
        settings.heartbeat_interval,
        settings.failover_timeout,
        MAX_LINK_LATENCY_US + MAX_JITTER_US
    );
    println!("sim: detection latency (ms, simulated): {}", fmt(&detection));
    println!("sim: takeover latency, failure to active (ms, simulated): {}", fmt(&takeover));
    let mut out = Vec::new();
    let seeds_outcome = if failures.is_empty() {
        Ok(format!("seeds={} faults={faults}", opts.seeds))
    } else {
        let mut msg = format!("{} of {} seeds failed", failures.len(), opts.seeds);
        for (s, e) in failures.iter().take(5) {
            msg.push_str(&format!(
                "\n  seed {s}: {e}\n  replay: cargo run --release -p hw-tests -- run sim --seed {s}"
            ));
        }
        Err(msg)
    };
    out.push(CaseResult { name: "sim/seeds".into(), outcome: seeds_outcome, elapsed });
    let timing = if detection.is_empty() {
        Err("no clean failure of the active was measured".to_string())
    } else {
        Ok(format!("detection {}", fmt(&detection)))
    };
    out.push(CaseResult {
        name: "sim/detection-bound".into(),
        outcome: timing,
        elapsed: std::time::Duration::ZERO,
    });
    out
}
