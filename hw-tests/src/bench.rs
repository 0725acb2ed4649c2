//! `hw-tests bench failover-netns [--n N] [--stress-seconds S]`: takeover latency of
//! two real `failoverd` processes on the namespace rig ([`crate::suites::rig`]), and
//! false takeovers under full CPU load.
//!
//! **Takeover.** N times: let the pair settle, SIGKILL the active, and record
//! - `detect` and `total` as the survivor measured them (`last_failover` in its
//!   status: the peer's last heartbeat to the takeover decision, and to active, that is
//!   fenced, imported, VIP raised and announced, reservation verified);
//! - `wall ARP`: SIGKILL to the first ARP reply for the VIP from the survivor's MAC,
//!   seen from the client namespace, which asks for the VIP every millisecond;
//! - `wall API`: SIGKILL to the survivor reporting MASTER over its API (polled every
//!   5 ms).
//!
//! Then the killed controller is restarted as a rebooted host would come back (the
//! address its kernel still held is removed first, as a reset would) and must come
//! back BACKUP without failback; the next round kills the other one.
//!
//! **Stress.** With both running, `stress-ng --cpu 0` (every core, 100 %) for S
//! seconds (installed with apt-get when missing); both APIs are polled throughout and
//! every change of the active controller or of the epoch is a false takeover. A
//! SCHED_FIFO probe thread per CPU, at the heartbeat threads' priority, records how
//! long each CPU itself stalled (a vCPU not running), and the daemons' own notes on the peer,
//! their stalls and any takeover are copied from their logs into the report, so a
//! takeover caused by the platform freezing an active past the timeout can be told
//! from one caused by the service.
//!
//! Prints a Markdown table and writes it to `target/bench/failover-netns.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use failover_core::wire::Controller::{self, A, B};

use crate::stats::{Summary, summarize};
use crate::suites::rig::{self, HEARTBEAT_MS, Pair, SETTLE_LIMIT, TIMEOUT_MS, status_line};

/// Options of the failover bench.
#[derive(Clone, Copy, Debug)]
pub struct BenchOpts {
    /// Takeovers to measure.
    pub n: usize,
    /// Seconds of CPU stress (0: skip).
    pub stress_seconds: u64,
}

impl Default for BenchOpts {
    fn default() -> Self {
        Self { n: 20, stress_seconds: 60 }
    }
}

/// ARP probe period of the wall-clock measurement.
pub(crate) const PROBE_PERIOD: Duration = Duration::from_millis(1);
/// Status poll period during the stress run.
const STRESS_POLL: Duration = Duration::from_millis(20);

/// One measured takeover.
#[derive(Clone, Debug)]
pub(crate) struct Round {
    pub(crate) killed: Controller,
    pub(crate) epoch: u64,
    pub(crate) detect_ms: f64,
    pub(crate) total_ms: f64,
    pub(crate) wall_arp_ms: f64,
    pub(crate) wall_api_ms: f64,
}

/// What the stress run saw.
#[derive(Clone, Debug, Default)]
pub(crate) struct StressOutcome {
    pub(crate) skipped: Option<String>,
    active_before: Option<(Controller, u64)>,
    active_after: Option<(Controller, u64)>,
    pub(crate) changes: Vec<String>,
    verdict_changes: usize,
    pub(crate) max_heartbeat_age_ms: u64,
    polls: usize,
    failed_polls: usize,
    max_poll_ms: f64,
    /// What the daemons logged about the peer, stalls and takeovers meanwhile.
    log_lines: Vec<String>,
    /// Late wake-ups of the per-CPU SCHED_FIFO probes.
    stalls: Vec<Stall>,
    /// Whether every probe got SCHED_FIFO and its CPU.
    probes_ok: bool,
}

impl StressOutcome {
    /// Epoch increments over the run (false takeovers); `None` when skipped or when
    /// there was no single MASTER afterwards.
    pub(crate) fn false_takeovers(&self) -> Option<u64> {
        match (self.active_before, self.active_after) {
            (Some((_, e0)), Some((_, e1))) => Some(e1.saturating_sub(e0)),
            _ => None,
        }
    }
}

/// A late wake-up of a CPU's probe.
#[derive(Clone, Copy, Debug)]
struct Stall {
    cpu: usize,
    /// Seconds into the stress run.
    at: f64,
    /// How late, in milliseconds.
    gap_ms: f64,
}

/// A gap of a stall probe longer than this is reported.
const STALL_REPORT: Duration = Duration::from_millis(15);

/// A SCHED_FIFO thread pinned to `cpu` (at the heartbeat threads' class and priority)
/// that sleeps 1 ms at a time and records every wake-up later than [`STALL_REPORT`].
/// Nothing of failoverd can delay it: when it stalls, that CPU did not run (a vCPU
/// descheduled by the hypervisor, say). A lone real-time thread on a stalled CPU is
/// not pulled to another one (Linux only pulls from CPUs with more than one runnable
/// real-time task), so a heartbeat thread there stalls with it. `Err` when the
/// scheduling class or the CPU was refused.
fn stall_probe(cpu: usize, t0: Instant, stop: &AtomicBool) -> Result<Vec<Stall>, String> {
    // SAFETY: cpu_set_t is plain old data; all zeroes is the empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid cpu_set_t and `cpu` is below the CPU count (at most 64).
    unsafe { libc::CPU_SET(cpu, &mut set) };
    // SAFETY: the calling thread (pid 0), a valid set and its size.
    if unsafe { libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) } != 0 {
        return Err(format!("CPU {cpu}: {}", std::io::Error::last_os_error()));
    }
    let param = libc::sched_param { sched_priority: 50 };
    // SAFETY: sched_setscheduler on the calling thread (pid 0) with a valid param.
    if unsafe { libc::sched_setscheduler(0, libc::SCHED_FIFO, &param) } != 0 {
        return Err(format!("SCHED_FIFO: {}", std::io::Error::last_os_error()));
    }
    let mut gaps = Vec::new();
    let mut last = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(1));
        let now = Instant::now();
        let gap = now.duration_since(last);
        if gap > STALL_REPORT {
            gaps.push(Stall {
                cpu,
                at: now.duration_since(t0).as_secs_f64(),
                gap_ms: gap.as_secs_f64() * 1e3,
            });
        }
        last = now;
    }
    Ok(gaps)
}

/// Log lines worth reporting from a stress run.
const NOTABLE: &[&str] = &[
    "peer verdict",
    "did not run",
    "takeover started",
    "superseded",
    "reservation lost",
    "stale claim",
    "watchdog fired",
    "state ",
];

pub(crate) fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg()) }
}

/// Run the bench; prints as it goes and writes the report.
pub fn failover_netns(o: BenchOpts) -> Result<(), String> {
    let bins = rig::preflight()?;
    println!(
        "failover-netns: {} takeovers, then {} s of CPU stress; heartbeat {HEARTBEAT_MS} ms, timeout {TIMEOUT_MS} ms",
        o.n, o.stress_seconds
    );
    let mut p = Pair::new(&bins)?;
    let r = measure(&mut p, o);
    match r {
        Ok(report) => {
            println!("\n{report}");
            let path = report_path("failover-netns.md");
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            }
            std::fs::write(&path, &report).map_err(|e| format!("{}: {e}", path.display()))?;
            println!("written to {}", path.display());
            Ok(())
        }
        Err(e) => Err(format!("{e}{}", p.diagnostics())),
    }
}

/// `<target>/bench/<name>`, under the cargo target dir of the running executable.
pub(crate) fn report_path(name: &str) -> PathBuf {
    // target/<profile>/hw-tests -> target/bench/
    let target = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().and_then(|d| d.parent()).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"));
    target.join("bench").join(name)
}

fn measure(p: &mut Pair, o: BenchOpts) -> Result<String, String> {
    p.start(B)?;
    p.start(A)?;
    let rounds = takeovers(p, o.n)?;
    let entries = p.audit_logs()?;
    let stress = if o.stress_seconds == 0 {
        StressOutcome { skipped: Some("--stress-seconds 0".into()), ..StressOutcome::default() }
    } else {
        stress(p, o.stress_seconds)?
    };
    Ok(report(o, &rounds, entries, &stress))
}

/// With both daemons started: settle, then `n` times kill the active and measure the
/// takeover (restarting the killed one each time).
pub(crate) fn takeovers(p: &mut Pair, n: usize) -> Result<Vec<Round>, String> {
    let (mut active, mut epoch) = p.settled()?;
    let mut rounds = Vec::new();
    for i in 0..n {
        let r = round(p, active, epoch)?;
        println!(
            "  round {:>2}: killed {} -> epoch {}: detect {:.1} ms, total {:.1} ms, wall ARP {:.1} ms, wall API {:.1} ms",
            i + 1,
            r.killed,
            r.epoch,
            r.detect_ms,
            r.total_ms,
            r.wall_arp_ms,
            r.wall_api_ms
        );
        active = r.killed.peer();
        epoch = r.epoch;
        rounds.push(r);
    }
    Ok(rounds)
}

/// Kill `active` and measure the takeover; restart it and settle again.
fn round(p: &mut Pair, active: Controller, epoch: u64) -> Result<Round, String> {
    let survivor = active.peer();
    p.expect_serving(active, true)?;
    ensure(!p.rig.has_vip(survivor)?, || format!("{survivor} holds the VIP before the kill"))?;
    let client_ns = p.rig.client_ns();
    let (t_kill, status, arp) =
        rig::kill_and_watch_arp(&client_ns, survivor, PROBE_PERIOD, SETTLE_LIMIT, || {
            p.kill(active)?;
            let s = p.wait_status(survivor, SETTLE_LIMIT, "to become MASTER", |s| s.status == "MASTER")?;
            Ok((s, Instant::now()))
        });
    let (s, api_at) = status?;
    let api = api_at.saturating_duration_since(t_kill);
    let arp_at = arp?.ok_or_else(|| format!("{survivor} never answered ARP for the VIP"))?;
    ensure(s.epoch == epoch + 1, || {
        format!("{survivor} took over at epoch {}, expected {}", s.epoch, epoch + 1)
    })?;
    let lf = s.last_failover.clone().ok_or_else(|| format!("no last_failover: {}", status_line(&s)))?;
    let detect_ms = lf.detect_ms.ok_or("no detect_ms")?;
    let total_ms = lf.total_ms.ok_or("no total_ms")?;
    p.wait_disks_held(survivor, epoch + 1)?;
    rejoin(p, active, epoch + 1, || Ok(()))?;
    Ok(Round {
        killed: active,
        epoch: epoch + 1,
        detect_ms,
        total_ms,
        wall_arp_ms: arp_at.saturating_duration_since(t_kill).as_secs_f64() * 1e3,
        wall_api_ms: api.as_secs_f64() * 1e3,
    })
}

fn find_in_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).map(|d| d.join(name)).find(|f| f.is_file()))
        .unwrap_or(None)
}

pub(crate) fn stress_ng() -> Result<PathBuf, String> {
    if let Some(p) = find_in_path("stress-ng") {
        return Ok(p);
    }
    println!("  stress-ng not found: apt-get install -y stress-ng");
    let ok = Command::new("apt-get")
        .args(["install", "-y", "-q", "stress-ng"])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .status()
        .map_err(|e| format!("apt-get: {e}"))?;
    ensure(ok.success(), || format!("apt-get install stress-ng failed ({ok})"))?;
    find_in_path("stress-ng").ok_or_else(|| "stress-ng still not found after apt-get".into())
}

fn verdict_events(p: &Pair, c: Controller) -> usize {
    p.block_on(p.client(c).events())
        .map(|ev| ev.iter().filter(|e| e.what.starts_with("peer verdict")).count())
        .unwrap_or(0)
}

/// Both controllers under `stress-ng --cpu 0` for `seconds`: every change of the
/// active or the epoch is a false takeover.
pub(crate) fn stress(p: &mut Pair, seconds: u64) -> Result<StressOutcome, String> {
    let exe = match stress_ng() {
        Ok(e) => e,
        Err(e) => return Ok(StressOutcome { skipped: Some(e), ..StressOutcome::default() }),
    };
    watch(p, seconds, || spawn_stress(&exe, seconds).map(Some))
}

/// Whether a disturbance of `seconds` begun at `t0` is over: its process (`child`)
/// ended, or without one the time is up. An error once it overran by 30 s.
pub(crate) fn disturbance_over(child: &mut Option<Child>, t0: Instant, seconds: u64) -> Result<bool, String> {
    let over = match child.as_mut() {
        Some(c) => c.try_wait().ok().flatten().is_some(),
        None => t0.elapsed() >= Duration::from_secs(seconds),
    };
    let limit = Duration::from_secs(seconds + 30);
    if !over && t0.elapsed() > limit {
        return Err(format!("the disturbance did not end after {} s", limit.as_secs()));
    }
    Ok(over)
}

/// `stress-ng --cpu 0 --cpu-load 100` for `seconds`: every CPU busy.
pub(crate) fn spawn_stress(exe: &Path, seconds: u64) -> Result<Child, String> {
    println!("  stress: {} --cpu 0 --cpu-load 100 --timeout {seconds}s", exe.display());
    Command::new(exe)
        .args(["--cpu", "0", "--cpu-load", "100", "--timeout", &format!("{seconds}s")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", exe.display()))
}

/// Bring the killed `active` back as a rebooted host (its kernel forgot the VIP;
/// `revive` restores whatever else the bench took from it) and check it rejoins as
/// the standby of `survivor` at `epoch`. A restarted daemon may not take over before
/// its first health check has found its fencing (NO_FENCED meanwhile, some 500 ms):
/// the next round kills the survivor, so wait for that too, or the round would
/// measure the restarted standby's start-up instead of a takeover.
pub(crate) fn rejoin(
    p: &mut Pair,
    active: Controller,
    epoch: u64,
    revive: impl FnOnce() -> Result<(), String>,
) -> Result<(), String> {
    p.rig.flush_vip(active)?;
    revive()?;
    p.start(active)?;
    let (now_active, now_epoch) = p.settled()?;
    ensure(now_active == active.peer() && now_epoch == epoch, || {
        format!("after the restart of {active}, {now_active} is active at epoch {now_epoch} (failback?)")
    })?;
    p.wait_status(active, SETTLE_LIMIT, "to have fencing available", |s| {
        !s.disabled_reasons.iter().any(|r| r.contains("NO_FENCED") || r.contains("MISMATCH_DISKS"))
    })?;
    Ok(())
}

/// With the pair settled, start a disturbance with `start` and poll both APIs while it
/// lasts: until the process `start` returned exits, or for `seconds` if it returned
/// none. Every change of the active or the epoch is a false takeover.
pub(crate) fn watch(
    p: &mut Pair,
    seconds: u64,
    start: impl FnOnce() -> Result<Option<Child>, String>,
) -> Result<StressOutcome, String> {
    let mut out = StressOutcome::default();
    let before = p.settled()?;
    out.active_before = Some(before);
    let log_from = [A, B].map(|c| std::fs::metadata(p.log_path(c)).map_or(0, |m| m.len()));
    let verdicts_before = verdict_events(p, A) + verdict_events(p, B);
    let mut child = start()?;
    let t0 = Instant::now();
    let mut last = Some(before);
    let probe_stop = AtomicBool::new(false);
    let cpus = std::thread::available_parallelism().map_or(1, |n| n.get()).min(64);
    let (outcome, stalls) = std::thread::scope(|s| {
        let stop = &probe_stop;
        let probes: Vec<_> = (0..cpus).map(|cpu| s.spawn(move || stall_probe(cpu, t0, stop))).collect();
        let outcome = loop {
            match disturbance_over(&mut child, t0, seconds) {
                Ok(false) => {}
                Ok(true) => break Ok(()),
                Err(e) => break Err(e),
            }
            let q0 = Instant::now();
            let (sa, sb) = (p.status(A), p.status(B));
            out.max_poll_ms = out.max_poll_ms.max(q0.elapsed().as_secs_f64() * 1e3);
            out.polls += 1;
            let (Ok(sa), Ok(sb)) = (sa, sb) else {
                out.failed_polls += 1;
                std::thread::sleep(STRESS_POLL);
                continue;
            };
            for s in [&sa, &sb] {
                out.max_heartbeat_age_ms =
                    out.max_heartbeat_age_ms.max(s.peer.host_link.last_seen_ms.unwrap_or(0));
            }
            let masters: Vec<Controller> =
                [(A, &sa), (B, &sb)].iter().filter(|(_, s)| s.status == "MASTER").map(|(c, _)| *c).collect();
            let now = match masters.as_slice() {
                [m] => Some((*m, sa.epoch.max(sb.epoch))),
                _ => None,
            };
            if now != last {
                out.changes.push(format!(
                    "at {:.2} s: {} | {}",
                    t0.elapsed().as_secs_f64(),
                    status_line(&sa),
                    status_line(&sb)
                ));
                last = now;
            }
            std::thread::sleep(STRESS_POLL);
        };
        probe_stop.store(true, Ordering::Relaxed);
        let stalls: Vec<Result<Vec<Stall>, String>> =
            probes.into_iter().map(|p| p.join().unwrap_or_else(|_| Err("probe panicked".into()))).collect();
        (outcome, stalls)
    });
    out.probes_ok = stalls.iter().all(Result::is_ok);
    out.stalls = stalls.into_iter().flatten().flatten().collect();
    out.stalls.sort_by(|a, b| a.at.total_cmp(&b.at));
    if let Some(c) = child.as_mut() {
        if outcome.is_err() {
            let _ = c.kill();
        }
        let _ = c.wait();
    }
    outcome?;
    // One MASTER afterwards (a controller that lost its place may be fenced or gone).
    out.active_after = p
        .wait_for(Duration::from_secs(5), "one MASTER after the stress run", |p| {
            let masters: Vec<(Controller, u64)> = [A, B]
                .into_iter()
                .filter_map(|c| p.status(c).ok().filter(|s| s.status == "MASTER").map(|s| (c, s.epoch)))
                .collect();
            Ok(match masters.as_slice() {
                [one] => Some(*one),
                _ => None,
            })
        })
        .ok();
    out.verdict_changes = (verdict_events(p, A) + verdict_events(p, B)).saturating_sub(verdicts_before);
    for (c, from) in [A, B].into_iter().zip(log_from) {
        let text = std::fs::read(p.log_path(c)).unwrap_or_default();
        let tail =
            String::from_utf8_lossy(text.get(usize::try_from(from).unwrap_or(0)..).unwrap_or_default());
        out.log_lines.extend(
            tail.lines()
                .filter(|l| NOTABLE.iter().any(|n| l.contains(n)))
                .map(|l| format!("{c}| {}", l.trim())),
        );
    }
    if let Some((c, _)) = out.active_after
        && p.status(c.peer()).is_err()
    {
        out.changes
            .push(format!("after the run {} is not answering (fenced and reset by its watchdog?)", c.peer()));
    }
    Ok(out)
}

fn row(name: &str, s: Option<Summary>, how: &str) -> String {
    match s {
        Some(s) => format!("| {name} | {} | {:.1} | {:.1} | {:.1} | {how} |\n", s.count, s.p50, s.p99, s.max),
        None => format!("| {name} | 0 | - | - | - | {how} |\n"),
    }
}

pub(crate) fn host_line() -> String {
    let kernel = rig::run_cmd("uname", &["-r"]).unwrap_or_default();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("kernel {}, {cpus} CPUs", kernel.trim())
}

fn report(o: BenchOpts, rounds: &[Round], entries: usize, st: &StressOutcome) -> String {
    let mut md = String::new();
    let col = |f: fn(&Round) -> f64| summarize(&rounds.iter().map(f).collect::<Vec<_>>());
    let _ = writeln!(md, "# failover-netns benchmark\n");
    let _ = writeln!(
        md,
        "Two real `failoverd` processes in network namespaces (the hw-tests `netns` rig): dedicated \
         veth link, bridged public segment with a client namespace, real VIP (rtnetlink + gratuitous \
         ARP), simulated disks / watchdog / peer reset. Heartbeat {HEARTBEAT_MS} ms, failover \
         timeout {TIMEOUT_MS} ms; {}.\n",
        host_line()
    );
    let _ = writeln!(md, "## Takeover after SIGKILL of the active ({} rounds)\n", rounds.len());
    md.push_str("| metric | n | p50 (ms) | p99 (ms) | max (ms) | how measured |\n");
    md.push_str("|---|---:|---:|---:|---:|---|\n");
    md.push_str(&row(
        "detect",
        col(|r| r.detect_ms),
        "survivor's `last_failover.detect_ms`: the peer's last heartbeat to the takeover decision",
    ));
    md.push_str(&row(
        "total",
        col(|r| r.total_ms),
        "survivor's `last_failover.total_ms`: the peer's last heartbeat to active (epoch persisted, disks fenced, pool imported, VIP raised and announced, reservation verified)",
    ));
    md.push_str(&row(
        "wall, ARP",
        col(|r| r.wall_arp_ms),
        "SIGKILL to the first ARP reply for the VIP from the survivor's MAC; the client asks every 1 ms",
    ));
    md.push_str(&row(
        "wall, API",
        col(|r| r.wall_api_ms),
        "SIGKILL to the survivor reporting MASTER over its API (polled every 5 ms)",
    ));
    let _ = writeln!(
        md,
        "\nEvery round: the survivor held every disk at the new epoch; the killed controller, restarted \
         (its stale VIP removed as a host reset would), came back BACKUP with no failback. {entries} \
         disk-log entries passed `check_log` at the end.\n"
    );
    md.push_str("| round | killed | epoch | detect (ms) | total (ms) | wall ARP (ms) | wall API (ms) |\n");
    md.push_str("|---:|---|---:|---:|---:|---:|---:|\n");
    for (i, r) in rounds.iter().enumerate() {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.1} |",
            i + 1,
            r.killed,
            r.epoch,
            r.detect_ms,
            r.total_ms,
            r.wall_arp_ms,
            r.wall_api_ms
        );
    }
    let _ = writeln!(md, "\n## CPU stress: `stress-ng --cpu 0 --cpu-load 100` for {} s\n", o.stress_seconds);
    if let Some(why) = &st.skipped {
        let _ = writeln!(md, "Skipped: {why}.");
        return md;
    }
    let fmt = |x: Option<(Controller, u64)>| x.map_or("-".into(), |(c, e)| format!("{c} @ {e}"));
    let false_takeovers = match (st.active_before, st.active_after) {
        (Some((_, e0)), Some((_, e1))) => e1.saturating_sub(e0).to_string(),
        _ => "unknown (no single MASTER after the run)".to_string(),
    };
    md.push_str(
        "| false takeovers (epoch increments) | active/epoch changes seen | active before → after | peer-verdict changes | max heartbeat age seen (ms) | CPU stalls > 15 ms (max) | status polls (failed) | slowest poll (ms) |\n",
    );
    md.push_str("|---:|---:|---|---:|---:|---|---:|---:|\n");
    let max_stall = st.stalls.iter().map(|s| s.gap_ms).fold(0.0, f64::max);
    let _ = writeln!(
        md,
        "| {false_takeovers} | {} | {} → {} | {} | {} | {} ({max_stall:.1} ms){} | {} ({}) | {:.1} |",
        st.changes.len(),
        fmt(st.active_before),
        fmt(st.active_after),
        st.verdict_changes,
        st.max_heartbeat_age_ms,
        st.stalls.len(),
        if st.probes_ok { "" } else { ", a probe lacked SCHED_FIFO or its CPU" },
        st.polls,
        st.failed_polls,
        st.max_poll_ms
    );
    let _ = writeln!(
        md,
        "\nBoth APIs polled every {} ms during the run; \"max heartbeat age\" is the largest \
         `peer.host_link.last_seen_ms` either side reported (sampled at the polls); \
         \"peer-verdict changes\" counts the daemons' own `peer verdict` events during the run.",
        STRESS_POLL.as_millis()
    );
    let _ = writeln!(
        md,
        "\n\"CPU stalls\" are late wake-ups (more than {} ms) of SCHED_FIFO priority-50 probe threads, one \
         pinned to each CPU (the heartbeat threads' class and priority), sleeping 1 ms at a time. \
         Nothing of failoverd can delay them: a probe stalls when its CPU did not run (a vCPU \
         descheduled by the hypervisor). A lone real-time thread on a stalled CPU is not moved to \
         another, so a heartbeat thread there stalls with it; a stall of the active's CPU longer than \
         the failover timeout is, to the standby, a hang of the active.",
        STALL_REPORT.as_millis()
    );
    for t in &st.stalls {
        let _ = writeln!(md, "- CPU {} stalled at {:.2} s for {:.1} ms", t.cpu, t.at, t.gap_ms);
    }
    for c in &st.changes {
        let _ = writeln!(md, "- change {c}");
    }
    if !st.log_lines.is_empty() {
        let _ = writeln!(
            md,
            "\nWhat the daemons logged about the peer, stalls and takeovers during the run:\n\n```text"
        );
        for l in st.log_lines.iter().take(60) {
            let _ = writeln!(md, "{l}");
        }
        let _ = writeln!(md, "```");
    }
    md
}
