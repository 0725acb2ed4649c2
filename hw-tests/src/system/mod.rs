//! The `system` suite: the whole pair in the loop, scenario after scenario on one
//! cluster, each followed by an audit, as Pacemaker's Cluster Test Suite runs.
//!
//! The rig ([`cluster`]): two real `failoverd` in network namespaces (dedicated link
//! through a userspace netem ([`wire`]), public segment with a client and the VIP,
//! simulated PR disks with a write log),
//! each with its BMC running the production firmware on QEMU `ast1030-evb`, path L a
//! QEMU pty opened by `failoverd` as its serial port, path B the two BMCs' UARTs
//! relayed by the test. The pool is encrypted (passphrase after both restart).
//!
//! Modes:
//! - default (CI's short mode): every scenario once, in [`scenarios::SCENARIOS`] order;
//! - `--scenario S`: that one;
//! - `--random N --seed S`: N scenarios drawn in a seeded random order (the seed is
//!   printed, so a failing sequence can be replayed).
//!
//! After each scenario the rig is healed (links up, shaping off, every BMC and daemon
//! running) and [`audit::audit`] checks the pair. A failed scenario or audit is
//! reported and the cluster is rebuilt from scratch for the next one, so one failure
//! does not cascade. Each run's logs stay in the rig's directory until the next run.

pub mod audit;
pub mod ci_target;
pub mod cluster;
pub mod probe;
pub mod remote;
pub mod scenarios;
pub mod target;
pub mod wire;

use std::path::PathBuf;
use std::time::Instant;

use failover_core::sim::Rng;

use crate::firmware::image::{self, Images, TEST_TIMINGS};
use crate::report::{CaseResult, guarded};
use crate::suites::rig::{self, Binaries};
use cluster::Cluster;
use remote::{Remote, RemoteConfig};
use scenarios::{SCENARIOS, Scenario};
use target::{Capability, Target};

/// What the short mode runs through `--target` in a second process: a failover, a
/// hang, and a restart of both (the passphrase from the target file).
const TARGET_FILE_SCENARIOS: &str = "kill-failoverd,hang-host,both-reboot";

/// Options of `hw-tests run system`.
#[derive(Clone, Debug, Default)]
pub struct SystemOpts {
    /// Run only these scenarios (comma-separated names).
    pub only: Option<String>,
    /// Run this many scenarios in a random order.
    pub random: Option<usize>,
    /// The random order's seed (the time when not given).
    pub seed: Option<u64>,
    /// Run against the real controllers this target file names.
    pub target: Option<PathBuf>,
    /// Run on the emulated rig through the real-hardware path only (commands, a
    /// target file), as CI's short mode does after the emulated pass.
    pub via_commands: bool,
}

/// The scenarios to run, in order. The random mode draws only from those the target
/// offers (`offered`); named ones and the default list are taken as they are (one the
/// target cannot run fails, naming what to configure).
fn plan(
    opts: &SystemOpts,
    offered: impl Fn(&Scenario) -> bool,
) -> Result<(Vec<&'static Scenario>, Option<u64>), String> {
    if let Some(names) = &opts.only {
        let order = names.split(',').map(scenarios::by_name).collect::<Result<_, _>>()?;
        return Ok((order, None));
    }
    let Some(n) = opts.random else { return Ok((SCENARIOS.iter().collect(), None)) };
    let seed = opts.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let pool: Vec<&'static Scenario> = SCENARIOS.iter().filter(|s| offered(s)).collect();
    if pool.is_empty() {
        return Err("the target offers no scenario".into());
    }
    let mut rng = Rng::new(seed);
    Ok(((0..n).map(|_| pool[rng.below(pool.len() as u64) as usize]).collect(), Some(seed)))
}

/// What the emulated pair's own target file offers.
fn offered_by_ci_file(s: &Scenario) -> bool {
    s.needs.iter().all(|c| ci_target::OFFERS.contains(c))
}

/// One progress line per scenario as it ends (the full lines come in the tally).
fn progress(k: usize, n: usize, r: &CaseResult) {
    println!(
        "system: [{}/{n}] {} {} in {:.1} s",
        k + 1,
        r.name,
        if r.outcome.is_ok() { "passed" } else { "FAILED" },
        r.elapsed.as_secs_f64()
    );
}

fn fail(name: &str, e: String, t0: Instant) -> Vec<CaseResult> {
    vec![CaseResult { name: format!("system/{name}"), outcome: Err(e), elapsed: t0.elapsed() }]
}

/// A pair up and audited, with its diagnostics on failure.
type Ready = (Box<dyn Target>, audit::Audited);

/// `t` brought up by `bring_up` and audited.
fn ready(
    mut t: Box<dyn Target>,
    bring_up: fn(&mut dyn Target) -> Result<(), String>,
) -> Result<Ready, String> {
    match bring_up(t.as_mut()).and_then(|()| audit::audit(t.as_mut())) {
        Ok(a) => Ok((t, a)),
        Err(e) => Err(format!("{e}{}", t.diagnostics())),
    }
}

/// Run `order` on pairs from `make` (a new one after a failure), each scenario
/// followed by a heal and an audit; cases are named `<prefix>/<scenario>`.
fn run_scenarios(
    prefix: &str,
    order: &[&Scenario],
    seed: Option<u64>,
    mut make: impl FnMut() -> Result<Ready, String>,
) -> Vec<CaseResult> {
    let mut results = Vec::new();
    let mut current: Option<Ready> = None;
    // A pair that will not come up twice in a row will not come up for the rest.
    let mut start_failures = 0;
    for (k, sc) in order.iter().enumerate() {
        let name = sc.name;
        let label =
            if seed.is_some() { format!("{prefix}/{k:03}-{name}") } else { format!("{prefix}/{name}") };
        let started = Instant::now();
        let mut finish = |outcome| {
            let r = CaseResult { name: label.clone(), outcome, elapsed: started.elapsed() };
            progress(k, order.len(), &r);
            results.push(r);
        };
        if current.is_none() {
            let attempt = if start_failures < 2 {
                guarded(&mut make)
            } else {
                Err("not run: the pair failed to come up twice (see the first failures)".into())
            };
            match attempt {
                Ok(c) => {
                    start_failures = 0;
                    current = Some(c);
                }
                Err(e) => {
                    start_failures += 1;
                    finish(Err(format!("pair start: {e}")));
                    continue;
                }
            }
        }
        let Some((t, before)) = current.as_mut() else { continue };
        let t = t.as_mut();
        if let Some(why) = sc.needs.iter().find_map(|c| t.supports(*c).err()) {
            finish(Err(format!("not run on {}: {why}", t.describe())));
            continue;
        }
        let outcome = guarded(|| {
            let line = (sc.run)(t, before).map_err(|e| format!("scenario: {e}"))?;
            t.heal().map_err(|e| format!("heal: {e}"))?;
            let after = audit::audit(t).map_err(|e| format!("audit: {e}"))?;
            Ok((line, after))
        });
        match outcome {
            Ok((line, after)) => {
                let msg = format!("{line}; audit ok: {} MASTER@{}", after.active, after.epoch);
                *before = after;
                finish(Ok(msg));
            }
            Err(e) => {
                let e = format!("{e}{}", t.diagnostics());
                current = None;
                finish(Err(e));
            }
        }
    }
    results
}

/// A fresh emulated cluster.
fn emulated(bins: &Binaries, images: &Images) -> Result<Ready, String> {
    ready(Box::new(Cluster::new(bins, images)?), target::up)
}

/// A fresh emulated cluster behind the real-hardware path, up and checked by the
/// target's preflight.
fn via_commands(bins: &Binaries, images: &Images) -> Result<Ready, String> {
    let mut r = ci_target::remote_on_rig(bins, images)?;
    for c in Capability::ALL {
        if r.supports(c).is_ok() != ci_target::OFFERS.contains(&c) {
            return Err(format!("the rig's target file offers {c:?} contrary to ci_target::OFFERS"));
        }
    }
    let up = target::up(&mut r).and_then(|()| r.preflight());
    match up {
        Ok(line) => println!("system: via commands: preflight: {line}"),
        Err(e) => return Err(format!("{e}{}", r.diagnostics())),
    }
    ready(Box::new(r), |_| Ok(()))
}

/// Run the suite.
pub fn run(opts: &SystemOpts) -> Vec<CaseResult> {
    let t0 = Instant::now();
    if let Some(path) = &opts.target {
        return run_remote(path, opts, t0);
    }
    let (order, seed) = match plan(opts, |_| true) {
        Ok(p) => p,
        Err(e) => return fail("plan", e, t0),
    };
    let bins = match rig::preflight() {
        Ok(b) => b,
        Err(e) => return fail("preflight", e, t0),
    };
    let root = match image::target_dir() {
        Ok(t) => t.join("system"),
        Err(e) => return fail("preflight", e, t0),
    };
    if let Err(e) = image::preflight()
        .and_then(|()| std::fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display())))
    {
        return fail("preflight", e, t0);
    }
    // The production firmware (no test hooks), with the test key and timings.
    let images = match image::build_images(&root, "system-bmc", &[]) {
        Ok(i) => i,
        Err(e) => return fail("build", e, t0),
    };
    println!(
        "system: BMC images built in {:.1} s (BMC heartbeat {} ms, host hang / peer timeout {} ms); hosts: heartbeat {} ms, timeout {} ms; {} scenario(s){}",
        t0.elapsed().as_secs_f64(),
        TEST_TIMINGS.interval_ms,
        TEST_TIMINGS.host_hang_ms,
        cluster::HEARTBEAT_MS,
        cluster::TIMEOUT_MS,
        order.len(),
        seed.map(|s| format!(", random order, --seed {s}")).unwrap_or_default()
    );
    let mut results = Vec::new();
    if !opts.via_commands {
        results = run_scenarios("system", &order, seed, || emulated(&bins, &images));
    }
    let short_mode = opts.only.is_none() && opts.random.is_none();
    if opts.via_commands || short_mode {
        // The real-hardware path (a target file, commands through a prefix, the
        // hardware read by `failoverctl inspect`, the VIP by `hw-tests probe`) on a
        // fresh emulated pair. In the short mode, the scenarios its file cannot offer
        // (BMC power and BMC link control, the fence line) ran in the pass above.
        let t1 = Instant::now();
        let (runnable, left): (Vec<&Scenario>, Vec<&Scenario>) = if opts.only.is_some() {
            (order.clone(), Vec::new())
        } else if opts.random.is_some() {
            match plan(opts, offered_by_ci_file) {
                Ok((o, _)) => (o, SCENARIOS.iter().filter(|s| !offered_by_ci_file(s)).collect()),
                Err(e) => return fail("plan", e, t0),
            }
        } else {
            order.iter().partition(|s| offered_by_ci_file(s))
        };
        println!(
            "system: via commands (target file, `ip netns exec` prefixes): {} scenario(s){}",
            runnable.len(),
            if left.is_empty() {
                String::new()
            } else {
                format!(
                    "; not offered by its file (the emulated pass runs them): {}",
                    left.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
                )
            }
        );
        results
            .extend(run_scenarios("system/via-commands", &runnable, seed, || via_commands(&bins, &images)));
        println!("system: via commands: {:.1} s", t1.elapsed().as_secs_f64());
    }
    if short_mode && !opts.via_commands {
        // The documented real-hardware command itself, end to end, against a pair that
        // another process serves.
        let t2 = Instant::now();
        let outcome = guarded(|| ci_target::target_file_end_to_end(TARGET_FILE_SCENARIOS));
        let r = CaseResult { name: "system/target-file".into(), outcome, elapsed: t2.elapsed() };
        progress(0, 1, &r);
        results.push(r);
    }
    println!("system: {} scenario(s) in {:.1} s", results.len(), t0.elapsed().as_secs_f64());
    results
}

/// Run the scenarios `opts` asks for against the real controllers named in the
/// target file at `path`.
fn run_remote(path: &std::path::Path, opts: &SystemOpts, t0: Instant) -> Vec<CaseResult> {
    let cfg = match RemoteConfig::load(path) {
        Ok(c) => c,
        Err(e) => return fail("target", e, t0),
    };
    let mut probe = match Remote::new(cfg.clone(), None) {
        Ok(r) => r,
        Err(e) => return fail("target", e, t0),
    };
    let (order, seed) = match plan(opts, |s| s.needs.iter().all(|c| probe.supports(*c).is_ok())) {
        Ok(p) => p,
        Err(e) => return fail("plan", e, t0),
    };
    let line = match probe.preflight() {
        Ok(l) => l,
        Err(e) => return fail("preflight", e, t0),
    };
    let mut results =
        vec![CaseResult { name: "system/preflight".into(), outcome: Ok(line), elapsed: t0.elapsed() }];
    println!(
        "system: target {} (timeout {} ms); {} scenario(s){}",
        path.display(),
        cfg.timeout_ms,
        order.len(),
        seed.map(|s| format!(", random order among those it offers, --seed {s}")).unwrap_or_default()
    );
    // A real pair is not rebuilt after a failure: it is healed and audited again.
    let heal = |t: &mut dyn Target| t.heal();
    results.extend(run_scenarios("system", &order, seed, || {
        let r = Remote::new(cfg.clone(), None)?;
        ready(Box::new(r), heal)
    }));
    println!("system: {} scenario(s) in {:.1} s", results.len(), t0.elapsed().as_secs_f64());
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_random_mode_draws_only_what_the_target_offers_and_replays_by_seed() {
        let opts = SystemOpts { random: Some(200), seed: Some(7), ..SystemOpts::default() };
        let (order, seed) = plan(&opts, offered_by_ci_file).expect("plan");
        assert_eq!(seed, Some(7));
        assert_eq!(order.len(), 200);
        assert!(order.iter().all(|s| offered_by_ci_file(s)));
        assert!(order.iter().all(|s| s.name != "kill-bmc" && s.name != "both-links-cut"));
        let again = plan(&opts, offered_by_ci_file).expect("plan").0;
        assert!(order.iter().zip(&again).all(|(a, b)| a.name == b.name), "the seed replays the order");
        let (all, _) = plan(&opts, |_| true).expect("plan");
        assert!(all.iter().any(|s| s.name == "kill-bmc"), "200 draws of 18 include kill-bmc");
        assert!(plan(&opts, |_| false).is_err());
    }

    #[test]
    fn named_scenarios_are_kept_in_order_and_unknown_ones_refused() {
        let opts = SystemOpts { only: Some("kill-bmc,flip".into()), ..SystemOpts::default() };
        let names: Vec<_> = plan(&opts, |_| false).expect("plan").0.iter().map(|s| s.name).collect();
        assert_eq!(names, ["kill-bmc", "flip"]);
        let bad = SystemOpts { only: Some("flip,flop".into()), ..SystemOpts::default() };
        assert!(plan(&bad, |_| true).expect_err("unknown").contains("no scenario `flop`"));
    }
}
