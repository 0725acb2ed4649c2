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
pub mod cluster;
pub mod scenarios;
pub mod wire;

use std::time::Instant;

use failover_core::sim::Rng;

use crate::firmware::image::{self, Images, TEST_TIMINGS};
use crate::report::{CaseResult, guarded};
use crate::suites::rig::{self, Binaries};
use cluster::Cluster;

/// Options of `hw-tests run system`.
#[derive(Clone, Debug, Default)]
pub struct SystemOpts {
    /// Run only this scenario.
    pub only: Option<String>,
    /// Run this many scenarios in a random order.
    pub random: Option<usize>,
    /// The random order's seed (the time when not given).
    pub seed: Option<u64>,
}

/// The scenarios to run, by index into [`scenarios::SCENARIOS`].
fn plan(opts: &SystemOpts) -> Result<(Vec<usize>, Option<u64>), String> {
    let all = scenarios::SCENARIOS;
    if let Some(name) = &opts.only {
        let i = all.iter().position(|(n, _)| n == name).ok_or_else(|| {
            format!(
                "no scenario `{name}`; known: {}",
                all.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
            )
        })?;
        return Ok((vec![i], None));
    }
    let Some(n) = opts.random else { return Ok(((0..all.len()).collect(), None)) };
    let seed = opts.seed.unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(1, |d| d.as_nanos() as u64)
    });
    let mut rng = Rng::new(seed);
    Ok(((0..n).map(|_| rng.below(all.len() as u64) as usize).collect(), Some(seed)))
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

/// A fresh cluster, up and audited.
fn fresh(bins: &Binaries, images: &Images) -> Result<(Cluster, audit::Audited), String> {
    let mut cl = Cluster::new(bins, images)?;
    match cl.up().and_then(|()| audit::audit(&mut cl)) {
        Ok(a) => Ok((cl, a)),
        Err(e) => Err(format!("{e}{}{}", cl.pair.diagnostics(), cl.bmc_tails(10))),
    }
}

/// Run the suite.
pub fn run(opts: &SystemOpts) -> Vec<CaseResult> {
    let t0 = Instant::now();
    let (order, seed) = match plan(opts) {
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
    let mut current: Option<(Cluster, audit::Audited)> = None;
    // A cluster that will not start twice in a row will not start for the rest.
    let mut start_failures = 0;
    for (k, &i) in order.iter().enumerate() {
        let (name, scenario) = scenarios::SCENARIOS[i];
        let label = if seed.is_some() { format!("system/{k:03}-{name}") } else { format!("system/{name}") };
        let started = Instant::now();
        if current.is_none() {
            let attempt = if start_failures < 2 {
                guarded(|| fresh(&bins, &images))
            } else {
                Err("not run: the cluster failed to start twice (see the first failures)".into())
            };
            match attempt {
                Ok(c) => {
                    start_failures = 0;
                    current = Some(c);
                }
                Err(e) => {
                    start_failures += 1;
                    let r = CaseResult {
                        name: label,
                        outcome: Err(format!("cluster start: {e}")),
                        elapsed: started.elapsed(),
                    };
                    progress(k, order.len(), &r);
                    results.push(r);
                    continue;
                }
            }
        }
        let Some((cl, before)) = current.as_mut() else { continue };
        let outcome = guarded(|| {
            let line = scenario(cl, before).map_err(|e| format!("scenario: {e}"))?;
            cl.heal().map_err(|e| format!("heal: {e}"))?;
            let after = audit::audit(cl).map_err(|e| format!("audit: {e}"))?;
            Ok((line, after))
        });
        let outcome = match outcome {
            Ok((line, after)) => {
                let msg = format!("{line}; audit ok: {} MASTER@{}", after.active, after.epoch);
                *before = after;
                cl.forget_frames();
                Ok(msg)
            }
            Err(e) => {
                let e = format!("{e}{}{}", cl.pair.diagnostics(), cl.bmc_tails(10));
                current = None;
                Err(e)
            }
        };
        let r = CaseResult { name: label, outcome, elapsed: started.elapsed() };
        progress(k, order.len(), &r);
        results.push(r);
    }
    println!("system: {} scenario(s) in {:.1} s", results.len(), t0.elapsed().as_secs_f64());
    results
}
