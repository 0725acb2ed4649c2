//! The `model` suite: exhaustive, deviation-bounded exploration of the real state
//! machines.
//!
//! The system is the simulated world of `failover_core::sim`: the real `HostNode`s and
//! `BmcNode`s, a PR disk, links and platform operations. From each scenario's start
//! state the explorer follows the *nominal* schedule (frames delivered in order, work
//! completed in order, timers on time) for free, and at every state also tries every
//! *deviation* while its budget lasts: lose, duplicate or reorder any frame in flight,
//! complete any operation out of order, let time pass with frames still in flight
//! (delay), or inject one of the scenario's faults (crash, power-off, hang, resume,
//! BMC crash, link cuts, partitions). So every execution with at most K deviations
//! within the horizon is covered (the idea behind delay- and preemption-bounded model
//! checking: most concurrency bugs need very few deviations). States are deduplicated
//! by hashing the whole world.
//!
//! Checked at every state: never two writers on the disk; a writer's epoch is the
//! highest ever reserved; a preempted node never becomes active again without a
//! higher epoch (all in `World::check`). Checked at every leaf (sampled): under fair
//! continuation (links healed, hangs resumed, no more faults) exactly one controller is
//! active if any can be, and then nothing moves while the active is healthy. Scenarios
//! with only message faults also check that no takeover happens at all.

use std::collections::HashSet;
use std::hash::{Hash, Hasher};
use std::time::Instant as WallInstant;

use failover_core::node::{Settings, StateName};
use failover_core::sim::{Choice, Fault, Link, SimConfig, Timings, World};
use failover_core::time::Duration;
use failover_core::wire::Controller::{A, B};

use crate::report::CaseResult;

/// How deep to look.
#[derive(Clone, Debug)]
pub struct ModelOpts {
    /// Extra deviations on top of each scenario's own budget.
    pub extra_deviations: u8,
    /// Multiply each scenario's horizon by this.
    pub horizon_factor: u64,
    /// Check liveness at one leaf in this many.
    pub liveness_every: u64,
    /// Run only the scenario with this name.
    pub only: Option<String>,
}

impl Default for ModelOpts {
    fn default() -> Self {
        Self { extra_deviations: 0, horizon_factor: 1, liveness_every: 16, only: None }
    }
}

/// A start state, what may go wrong, and for how long.
struct Scenario {
    name: &'static str,
    setup: fn() -> World,
    faults: Vec<Fault>,
    deviations: u8,
    horizon_ms: u64,
    /// Frame faults allowed as deviations.
    message_faults: bool,
    /// With only message faults, no takeover may happen after the start, as long as
    /// the deviations cannot silence a path for the whole timeout.
    expect_no_takeover: bool,
}

/// Heartbeat interval in the model.
const BEAT_MS: u64 = 10;

fn model_config(has_bmc: bool, timeout_ms: u64) -> SimConfig {
    // Coarse timing keeps executions short: 10 ms beats and a timeout of a few beats.
    let settings = Settings {
        failover_timeout: Duration::from_millis(timeout_ms),
        heartbeat_interval: Duration::from_millis(BEAT_MS),
        ..Settings::default()
    };
    SimConfig {
        settings,
        has_bmc,
        // Without BMCs the hosts drive the enclosure fence themselves.
        host_enclosure_fence: !has_bmc,
        boot_listen: Duration::from_millis(30),
        reservation_check: Duration::from_millis(10),
        bmc_interval: settings.heartbeat_interval,
        host_hang: settings.failover_timeout,
        watchdog: Duration::from_millis(60),
        reboot_delay: Duration::from_millis(40),
        timings: Timings::zero(),
    }
}

fn fresh(has_bmc: bool) -> World {
    fresh_with(has_bmc, 30)
}

fn fresh_with(has_bmc: bool, timeout_ms: u64) -> World {
    let mut w = World::new(model_config(has_bmc, timeout_ms), 0);
    w.max_in_flight_per_link = 2;
    w.boot_all();
    w
}

fn settled(has_bmc: bool) -> World {
    settled_with(has_bmc, 30)
}

fn settled_with(has_bmc: bool, timeout_ms: u64) -> World {
    let mut w = fresh_with(has_bmc, timeout_ms);
    w.run_for(Duration::from_millis(300));
    w
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "boot-race",
            setup: || fresh(false),
            faults: vec![Fault::CrashHost(A), Fault::CrashHost(B), Fault::PowerOff(A)],
            deviations: 3,
            horizon_ms: 100,
            message_faults: true,
            expect_no_takeover: false,
        },
        Scenario {
            // Five beats of timeout; three lost, duplicated, reordered or delayed frames
            // can silence a path for at most four beats: no takeover may follow.
            name: "steady-messages",
            setup: || settled_with(false, 50),
            faults: vec![],
            deviations: 3,
            horizon_ms: 120,
            message_faults: true,
            expect_no_takeover: true,
        },
        Scenario {
            name: "active-fails",
            setup: || settled(false),
            faults: vec![Fault::CrashHost(A), Fault::PowerOff(A), Fault::HangHost(A), Fault::ResumeHost(A)],
            deviations: 3,
            horizon_ms: 120,
            message_faults: true,
            expect_no_takeover: false,
        },
        Scenario {
            name: "standby-fails",
            setup: || settled(false),
            faults: vec![Fault::CrashHost(B), Fault::HangHost(B), Fault::ResumeHost(B)],
            deviations: 3,
            horizon_ms: 120,
            message_faults: true,
            expect_no_takeover: false,
        },
        Scenario {
            name: "partition",
            setup: || settled(false),
            faults: vec![Fault::Partition, Fault::HealAll, Fault::HangHost(B), Fault::ResumeHost(B)],
            deviations: 3,
            horizon_ms: 120,
            message_faults: true,
            expect_no_takeover: false,
        },
        Scenario {
            name: "bmc-paths",
            setup: || settled(true),
            faults: vec![
                Fault::HangHost(A),
                Fault::ResumeHost(A),
                Fault::CrashBmc(A),
                Fault::CrashBmc(B),
                Fault::Cut(Link::host_link()[0]),
                Fault::Cut(Link::host_link()[1]),
                Fault::Cut(Link::local(B)[1]),
                Fault::PowerOff(A),
                Fault::HealAll,
            ],
            deviations: 3,
            horizon_ms: 80,
            message_faults: false,
            expect_no_takeover: false,
        },
        Scenario {
            name: "bmc-messages",
            setup: || settled_with(true, 50),
            faults: vec![Fault::HangHost(A)],
            deviations: 2,
            horizon_ms: 80,
            message_faults: true,
            expect_no_takeover: false,
        },
        Scenario {
            name: "bmc-steady-messages",
            setup: || settled_with(true, 50),
            faults: vec![],
            deviations: 2,
            horizon_ms: 60,
            message_faults: true,
            expect_no_takeover: true,
        },
    ]
}

/// One explored node: the world, the budget left, and the deviations taken (for the
/// counterexample).
struct Node {
    world: World,
    budget: u8,
    /// Nominal steps taken since the last deviation.
    nominal_steps: u32,
    /// Each deviation, with the nominal steps before it.
    trail: Vec<(u32, Choice)>,
}

struct Explored {
    states: u64,
    leaves: u64,
    liveness_checked: u64,
    max_steps: u64,
}

fn fingerprint(w: &World, budget: u8) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    w.hash(&mut h);
    budget.hash(&mut h);
    h.finish()
}

fn deviations(w: &World, sc: &Scenario, nominal: Option<&Choice>) -> Vec<Choice> {
    let mut out: Vec<Choice> = w
        .enabled(sc.message_faults, sc.message_faults)
        .into_iter()
        .filter(|c| Some(c) != nominal)
        .filter(|c| sc.message_faults || matches!(c, Choice::Complete(_)))
        .collect();
    out.extend(sc.faults.iter().map(|f| Choice::Fault(*f)));
    out
}

fn explore(sc: &Scenario, opts: &ModelOpts) -> Result<Explored, String> {
    let root = (sc.setup)();
    let horizon = Duration::from_millis(sc.horizon_ms * opts.horizon_factor);
    let end = root.now + horizon;
    let start = root.now;
    let takeovers_at_start = root.takeovers.len();
    let budget = sc.deviations + opts.extra_deviations;
    let timeout_beats = root.cfg.settings.failover_timeout.millis() / BEAT_MS;
    let expect_no_takeover = sc.expect_no_takeover && u64::from(budget) + 1 < timeout_beats;
    let mut seen: HashSet<u64> = HashSet::new();
    let mut stack = vec![Node { world: root, budget, nominal_steps: 0, trail: Vec::new() }];
    let mut stats = Explored { states: 0, leaves: 0, liveness_checked: 0, max_steps: 0 };
    while let Some(node) = stack.pop() {
        if !seen.insert(fingerprint(&node.world, node.budget)) {
            continue;
        }
        stats.states += 1;
        let w = &node.world;
        if let Some(v) = &w.violation {
            return Err(counterexample(sc, &node, &format!("safety: {} (at {})", v.what, v.at)));
        }
        if expect_no_takeover && w.takeovers.len() > takeovers_at_start {
            let t = w.takeovers[takeovers_at_start];
            return Err(counterexample(sc, &node, &format!("false takeover by {} ({:?})", t.by, t.cause)));
        }
        let nominal = w.nominal();
        let leaf = w.now >= end || nominal.is_none();
        if leaf {
            stats.leaves += 1;
            if stats.leaves % opts.liveness_every == 1 || opts.liveness_every == 1 {
                stats.liveness_checked += 1;
                if let Err(e) = fair_continuation(w) {
                    return Err(counterexample(sc, &node, &format!("liveness: {e}")));
                }
            }
            stats.max_steps = stats.max_steps.max(w.now.saturating_since(start).millis());
            continue;
        }
        if node.budget > 0 {
            for d in deviations(w, sc, nominal.as_ref().map(|(_, c)| c)) {
                let mut next = w.clone();
                next.apply(&d);
                let mut trail = node.trail.clone();
                trail.push((node.nominal_steps, d));
                stack.push(Node { world: next, budget: node.budget - 1, nominal_steps: 0, trail });
            }
        }
        let mut next = node.world;
        next.step();
        stack.push(Node {
            world: next,
            budget: node.budget,
            nominal_steps: node.nominal_steps + 1,
            trail: node.trail,
        });
    }
    Ok(stats)
}

/// Heal everything, stop injecting faults, and see the pair settle and then stay put.
fn fair_continuation(w: &World) -> Result<(), String> {
    let mut w = w.clone();
    w.inject(Fault::HealAll);
    for c in [A, B] {
        w.resume_host(c);
    }
    w.run_for(Duration::from_millis(1_500));
    if let Some(v) = &w.violation {
        return Err(format!("safety during continuation: {}", v.what));
    }
    let up: Vec<_> = [A, B].into_iter().filter(|c| w.host_runs(*c)).collect();
    let can_serve = |c| !w.disk.is_cut(c) && w.host(c).is_some_and(|n| n.fenced_marker().is_none());
    let actives = w.actives();
    if actives.len() > 1 {
        return Err(format!("two actives after settling: {}", w.summary()));
    }
    if actives.is_empty() && up.iter().any(|&c| can_serve(c)) {
        let stuck = up.iter().any(|&c| w.host(c).is_some_and(|n| n.state_name() == StateName::Error));
        if !stuck {
            return Err(format!("no active although a controller could serve: {}", w.summary()));
        }
    }
    if let Some(&a) = actives.first()
        && (w.vip_owner != Some(a) || w.disk.holder() != Some(a))
    {
        return Err(format!("active {a} without the VIP or the reservation: {}", w.summary()));
    }
    let before = w.takeovers.len();
    w.run_for(Duration::from_millis(1_000));
    if w.takeovers.len() != before || w.actives() != actives {
        return Err(format!("takeover with a healthy active and working paths: {}", w.summary()));
    }
    Ok(())
}

/// Describe a failure: the deviations taken, and the tail of a traced replay.
fn counterexample(sc: &Scenario, node: &Node, what: &str) -> String {
    let mut s = format!("{what}\n  scenario {}; deviations (after N nominal steps):", sc.name);
    for (n, c) in &node.trail {
        s.push_str(&format!("\n    +{n}: {c:?}"));
    }
    let mut w = (sc.setup)();
    w.trace = Some(Vec::new());
    for (n, c) in &node.trail {
        for _ in 0..*n {
            w.step();
        }
        w.apply(c);
    }
    for _ in 0..node.nominal_steps {
        w.step();
    }
    // Then the fair continuation, traced, so a liveness failure shows what happened.
    let mut cont = w.clone();
    cont.inject(Fault::HealAll);
    for c in [A, B] {
        cont.resume_host(c);
    }
    cont.run_for(Duration::from_millis(1_500));
    let trace = cont.trace.take().unwrap_or_default();
    s.push_str("\n  replay and fair-continuation trace (last 80 lines, heartbeat checks left out):");
    let interesting: Vec<&String> = trace.iter().filter(|l| !l.contains("CheckReservation")).collect();
    for line in interesting.iter().rev().take(80).rev() {
        s.push_str(&format!("\n    {line}"));
    }
    s.push_str(&format!("\n  final: {}", w.summary()));
    s
}

/// Run every scenario; one case each.
pub fn run(opts: &ModelOpts) -> Vec<CaseResult> {
    let mut out = Vec::new();
    let mut total_states = 0;
    for sc in scenarios() {
        if opts.only.as_deref().is_some_and(|o| o != sc.name) {
            continue;
        }
        let t0 = WallInstant::now();
        let r = explore(&sc, opts);
        let elapsed = t0.elapsed();
        let outcome = r.map(|e| {
            total_states += e.states;
            format!(
                "states={} depth={} deviations horizon={}ms leaves={} liveness_checked={}",
                e.states,
                sc.deviations + opts.extra_deviations,
                e.max_steps,
                e.leaves,
                e.liveness_checked
            )
        });
        out.push(CaseResult { name: format!("model/{}", sc.name), outcome, elapsed });
    }
    println!("model: {total_states} states explored in total");
    out
}
