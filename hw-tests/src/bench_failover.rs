//! `hw-tests bench failover [--n N] [--stress-seconds S] [--idle-seconds I]`:
//! `failoverd` against keepalived on the same namespace rig, in the same run.
//!
//! Three subjects, one after the other on one [`Rig`] (the [`Pair`]'s namespaces,
//! `pub0`, the same VIP, the same client):
//! 1. `failoverd`, heartbeat 10 ms / timeout 50 ms, measured by
//!    [`crate::bench::takeovers`] and [`crate::bench::stress`];
//! 2. keepalived VRRPv3 with `advert_int 0.01` (its minimum);
//! 3. keepalived VRRPv3 with `advert_int 0.68` (the reference's).
//!
//! keepalived runs with `state BACKUP` on both, priorities A 150 / B 100 and
//! `nopreempt`: a restarted controller comes back as backup and the next round kills
//! the other one, exactly as the failoverd bench alternates (with preemption the
//! restarted A would take the VIP back, a second outage per round, and only B's
//! takeover would ever be measured).
//!
//! For each subject:
//! - idle CPU (utime + stime of every process in each controller's namespace, from
//!   `/proc/PID/stat`) over an idle window, and VmRSS of those processes;
//! - N times: SIGKILL the active (for keepalived, its whole process group: parent and
//!   VRRP child), time to the first ARP reply for the VIP from the survivor's MAC seen
//!   from the client namespace ([`rig::arp_watch`], a request every millisecond); then
//!   remove the VIP the killed host's kernel kept (as a reset would), restart it and let
//!   it settle as the backup;
//! - false takeovers during S s of `stress-ng --cpu 0 --cpu-load 100`: for failoverd
//!   epoch increments; for keepalived moves of the VIP (it appears on the standby, alone
//!   or on both), by polling `ip addr` in both namespaces every 20 ms, plus the
//!   `Entering MASTER STATE` lines keepalived logged meanwhile.
//!
//! Prints a Markdown table with the ratios (ours / keepalived) and writes it to
//! `<target>/bench/failover.md`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use failover_core::wire::Controller::{self, A, B};
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::bench::{self, PROBE_PERIOD, ensure};
use crate::keepalived::{self, KaConf, Keepalived};
use crate::stats::{Summary, summarize};
use crate::suites::rig::{self, HEARTBEAT_MS, Pair, Rig, SETTLE_LIMIT, TIMEOUT_MS, TempDir};

/// Options of `bench failover`.
#[derive(Clone, Copy, Debug)]
pub struct FailoverOpts {
    /// Kills of the active per subject.
    pub n: usize,
    /// Seconds of CPU stress per subject (0: skip).
    pub stress_seconds: u64,
    /// Seconds of the idle CPU window per subject.
    pub idle_seconds: u64,
}

impl Default for FailoverOpts {
    fn default() -> Self {
        Self { n: 50, stress_seconds: 60, idle_seconds: 10 }
    }
}

/// The keepalived setups measured.
const KA_CONFS: [KaConf; 2] =
    [KaConf { advert_s: 0.01, nopreempt: true }, KaConf { advert_s: 0.68, nopreempt: true }];

/// VIP poll period during keepalived's stress run.
const VIP_POLL: Duration = Duration::from_millis(20);

/// CPU and memory of one controller's daemon processes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Usage {
    /// CPU time used over the window, milliseconds.
    pub cpu_ms: f64,
    /// The window, seconds.
    pub window_s: f64,
    /// VmRSS summed over the processes at the end of the window, kB.
    pub rss_kb: u64,
    /// The processes' names (`/proc/PID/comm`).
    pub procs: Vec<String>,
}

/// The false takeovers a stress run saw.
#[derive(Clone, Debug, Default)]
struct Stress {
    /// `None`: not known (skipped, or no single holder after the run).
    false_takeovers: Option<u64>,
    /// What else to say.
    note: String,
}

/// Everything measured for one subject.
#[derive(Clone, Debug)]
struct Subject {
    name: String,
    wall_arp_ms: Vec<f64>,
    stress: Stress,
    idle: [Usage; 2],
}

/// `utime + stime` (clock ticks) from the text of `/proc/PID/stat`.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    // f[0] is field 3 (state); utime and stime are fields 14 and 15.
    Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
}

/// VmRSS in kB from the text of `/proc/PID/status` (`None` for a kernel thread or zombie).
pub fn parse_vm_rss_kb(status: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// The processes in namespace `ns`.
fn ns_pids(ns: &str) -> Vec<i32> {
    rig::run_cmd("ip", &["netns", "pids", ns])
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn clock_ticks() -> f64 {
    // SAFETY: sysconf has no preconditions.
    let t = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if t > 0 { t as f64 } else { 100.0 }
}

fn ticks_of(pid: i32) -> Option<u64> {
    parse_stat_ticks(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// CPU time and RSS of the processes in each controller's namespace over `window`.
fn idle_usage(r: &Rig, window: Duration) -> [Usage; 2] {
    let before: [HashMap<i32, u64>; 2] =
        [A, B].map(|c| ns_pids(&r.ctrl_ns(c)).into_iter().filter_map(|p| Some((p, ticks_of(p)?))).collect());
    let t0 = Instant::now();
    std::thread::sleep(window);
    let secs = t0.elapsed().as_secs_f64();
    let hz = clock_ticks();
    let mut out = [Usage::default(), Usage::default()];
    for (i, c) in [A, B].into_iter().enumerate() {
        let u = &mut out[i];
        u.window_s = secs;
        for pid in ns_pids(&r.ctrl_ns(c)) {
            let Some(t1) = ticks_of(pid) else { continue };
            // A process born during the window counts from zero.
            let t0 = before[i].get(&pid).copied().unwrap_or(0);
            u.cpu_ms += t1.saturating_sub(t0) as f64 * 1e3 / hz;
            u.rss_kb += std::fs::read_to_string(format!("/proc/{pid}/status"))
                .ok()
                .and_then(|s| parse_vm_rss_kb(&s))
                .unwrap_or(0);
            if let Ok(name) = std::fs::read_to_string(format!("/proc/{pid}/comm")) {
                u.procs.push(name.trim().to_owned());
            }
        }
    }
    out
}

/// SIGKILL whatever still runs in the controllers' namespaces and remove the VIP.
fn clear_controllers(r: &Rig) -> Result<(), String> {
    for c in [A, B] {
        let ns = r.ctrl_ns(c);
        for pid in ns_pids(&ns) {
            let _ = nix::sys::signal::kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        let t0 = Instant::now();
        while !ns_pids(&ns).is_empty() && t0.elapsed() < Duration::from_secs(2) {
            std::thread::sleep(Duration::from_millis(5));
        }
        r.flush_vip(c)?;
    }
    Ok(())
}

/// Run the bench; prints as it goes and writes the report.
pub fn run(o: FailoverOpts) -> Result<(), String> {
    let bins = rig::preflight()?;
    let ka = keepalived::ensure_installed()?;
    let ka_version = keepalived::version(&ka);
    println!(
        "failover: failoverd (heartbeat {HEARTBEAT_MS} ms) vs {ka_version} (advert {} s and {} s): \
         {} kills each, {} s of CPU stress each, {} s idle window each",
        KA_CONFS[0].advert_s, KA_CONFS[1].advert_s, o.n, o.stress_seconds, o.idle_seconds
    );
    let mut p = Pair::new(&bins)?;
    let ours = match failoverd(&mut p, o) {
        Ok(s) => s,
        Err(e) => return Err(format!("failoverd: {e}{}", p.diagnostics())),
    };
    let _ = p.kill(A);
    let _ = p.kill(B);
    clear_controllers(&p.rig)?;
    let dir = TempDir::new("bench-ka")?;
    let mut subjects = vec![ours];
    for k in KA_CONFS {
        let d = dir.path().join(format!("adv{}", (k.advert_s * 100.0).round()));
        subjects.push(keepalived_subject(&p.rig, &ka, &d, k, o)?);
        clear_controllers(&p.rig)?;
    }
    let md = report(o, &ka_version, &subjects);
    println!("\n{md}");
    let path = bench::report_path("failover.md");
    if let Some(d) = path.parent() {
        std::fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))?;
    }
    std::fs::write(&path, &md).map_err(|e| format!("{}: {e}", path.display()))?;
    println!("written to {}", path.display());
    Ok(())
}

fn failoverd(p: &mut Pair, o: FailoverOpts) -> Result<Subject, String> {
    println!("== failoverd, heartbeat {HEARTBEAT_MS} ms, timeout {TIMEOUT_MS} ms");
    p.start(B)?;
    p.start(A)?;
    p.settled()?;
    let idle = idle_usage(&p.rig, Duration::from_secs(o.idle_seconds));
    let rounds = bench::takeovers(p, o.n)?;
    let stress = if o.stress_seconds == 0 {
        Stress { false_takeovers: None, note: "skipped".into() }
    } else {
        let st = bench::stress(p, o.stress_seconds)?;
        if let Some(why) = st.skipped {
            Stress { false_takeovers: None, note: format!("skipped: {why}") }
        } else {
            Stress {
                false_takeovers: st.false_takeovers(),
                note: format!("epoch increments; {} active/epoch changes seen", st.changes.len()),
            }
        }
    };
    Ok(Subject {
        name: format!("failoverd, heartbeat {HEARTBEAT_MS} ms / timeout {TIMEOUT_MS} ms"),
        wall_arp_ms: rounds.iter().map(|r| r.wall_arp_ms).collect(),
        stress,
        idle,
    })
}

/// Who holds the VIP: (A, B).
fn holders(r: &Rig) -> Result<(bool, bool), String> {
    Ok((r.has_vip(A)?, r.has_vip(B)?))
}

fn only(c: Controller) -> (bool, bool) {
    (c == A, c == B)
}

/// The keepalived pair on the rig.
struct KaPair<'a> {
    rig: &'a Rig,
    exe: &'a Path,
    dir: &'a Path,
    k: KaConf,
    daemons: [Option<Keepalived>; 2],
}

impl KaPair<'_> {
    fn start(&mut self, c: Controller) -> Result<(), String> {
        if let Some(mut old) = self.daemons[c.index()].take() {
            old.kill();
        }
        let sub = self.dir.join(c.letter().to_ascii_lowercase().to_string());
        let mut d = Keepalived::spawn(self.exe, &self.rig.ctrl_ns(c), &sub, c, self.k)?;
        d.wait_log("Entering BACKUP STATE", SETTLE_LIMIT).map_err(|e| format!("{c}: {e}"))?;
        self.daemons[c.index()] = Some(d);
        Ok(())
    }

    fn kill(&mut self, c: Controller) -> Result<(), String> {
        self.daemons[c.index()].as_mut().ok_or_else(|| format!("{c} is not running"))?.kill();
        Ok(())
    }

    fn master_lines(&self) -> usize {
        self.daemons.iter().flatten().map(|d| d.new_log().matches("Entering MASTER STATE").count()).sum()
    }

    /// Wait until exactly `c` holds the VIP.
    fn wait_holder(&self, c: Controller, limit: Duration) -> Result<(), String> {
        let t0 = Instant::now();
        loop {
            let h = holders(self.rig)?;
            if h == only(c) {
                return Ok(());
            }
            if t0.elapsed() > limit {
                return Err(format!(
                    "VIP holders (A, B) = {h:?} after {} ms, wanted only {c}",
                    limit.as_millis()
                ));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// After (re)starting `backup`: let a few Master_Down_Intervals pass and check it
    /// stayed backup with the VIP on `active` alone.
    fn settle(&self, active: Controller, backup: Controller) -> Result<(), String> {
        let prio = KaConf::priority(backup);
        std::thread::sleep((self.k.master_down(prio) * 2).max(Duration::from_millis(200)));
        let d = self.daemons[backup.index()].as_ref().ok_or("not running")?;
        ensure(!d.new_log().contains("Entering MASTER STATE"), || {
            format!("the restarted {backup} became MASTER:\n{}", d.new_log())
        })?;
        self.wait_holder(active, Duration::from_millis(500))
    }

    /// Kill `active`, time to the survivor's first ARP reply; restart and settle.
    fn round(&mut self, active: Controller) -> Result<(f64, Controller), String> {
        let survivor = active.peer();
        ensure(holders(self.rig)? == only(active), || format!("{active} is not the only VIP holder"))?;
        let client_ns = self.rig.client_ns();
        let (t_kill, killed, arp) =
            rig::kill_and_watch_arp(&client_ns, survivor, PROBE_PERIOD, SETTLE_LIMIT, || self.kill(active));
        killed?;
        let at = arp?.ok_or_else(|| format!("{survivor} never answered ARP for the VIP"))?;
        let ms = at.saturating_duration_since(t_kill).as_secs_f64() * 1e3;
        // The killed host comes back as after a reset: its kernel forgot the VIP.
        self.rig.flush_vip(active)?;
        self.wait_holder(survivor, SETTLE_LIMIT)?;
        self.start(active)?;
        let now_active = if self.k.nopreempt { survivor } else { A };
        if now_active == survivor {
            self.settle(survivor, active)?;
        } else {
            self.wait_holder(now_active, SETTLE_LIMIT)?;
            self.settle(now_active, now_active.peer())?;
        }
        Ok((ms, now_active))
    }

    /// Both under `stress-ng --cpu 0` for `seconds`; VIP holders polled.
    fn stress(&self, active: Controller, seconds: u64) -> Result<Stress, String> {
        let exe = match bench::stress_ng() {
            Ok(e) => e,
            Err(e) => return Ok(Stress { false_takeovers: None, note: format!("skipped: {e}") }),
        };
        let masters_before = self.master_lines();
        println!("  stress: {} --cpu 0 --cpu-load 100 --timeout {seconds}s", exe.display());
        let mut child = Command::new(&exe)
            .args(["--cpu", "0", "--cpu-load", "100", "--timeout", &format!("{seconds}s")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let t0 = Instant::now();
        let limit = Duration::from_secs(seconds + 30);
        let (mut moves, mut dual, mut none, mut polls) = (0u64, 0u64, 0u64, 0u64);
        let mut last = only(active);
        let mut changes = Vec::new();
        let outcome = loop {
            if child.try_wait().ok().flatten().is_some() {
                break Ok(());
            }
            if t0.elapsed() > limit {
                break Err(format!("stress-ng did not end after {} s", limit.as_secs()));
            }
            let h = holders(self.rig)?;
            polls += 1;
            if h != last {
                let standby_has = if active == A { h.1 } else { h.0 };
                let standby_had = if active == A { last.1 } else { last.0 };
                if standby_has && !standby_had {
                    moves += 1;
                }
                if h.0 && h.1 {
                    dual += 1;
                }
                if !h.0 && !h.1 {
                    none += 1;
                }
                changes.push(format!("{:.2} s: (A, B) = {h:?}", t0.elapsed().as_secs_f64()));
                last = h;
            }
            std::thread::sleep(VIP_POLL);
        };
        if outcome.is_err() {
            let _ = child.kill();
        }
        let _ = child.wait();
        outcome?;
        let masters = self.master_lines().saturating_sub(masters_before);
        let mut note = format!(
            "VIP appeared on the standby {moves}× (on both {dual}×, on neither {none}×) in {polls} polls; \
             `Entering MASTER STATE` logged {masters}×"
        );
        for c in changes.iter().take(10) {
            let _ = write!(note, "; {c}");
        }
        Ok(Stress { false_takeovers: Some(moves), note })
    }
}

fn keepalived_subject(
    r: &Rig,
    exe: &Path,
    dir: &Path,
    k: KaConf,
    o: FailoverOpts,
) -> Result<Subject, String> {
    println!("== keepalived VRRPv3, advert_int {} s, nopreempt {}", k.advert_s, k.nopreempt);
    let mut kp = KaPair { rig: r, exe, dir, k, daemons: [None, None] };
    let res = (|| -> Result<Subject, String> {
        kp.start(A)?;
        kp.wait_holder(A, SETTLE_LIMIT)?;
        kp.start(B)?;
        kp.settle(A, B)?;
        let idle = idle_usage(r, Duration::from_secs(o.idle_seconds));
        let mut active = A;
        let mut wall = Vec::new();
        for i in 0..o.n {
            let (ms, now) = kp.round(active)?;
            println!(
                "  round {:>2}: killed {active} -> {} answers ARP after {ms:.1} ms",
                i + 1,
                active.peer()
            );
            wall.push(ms);
            active = now;
        }
        let stress = if o.stress_seconds == 0 {
            Stress { false_takeovers: None, note: "skipped".into() }
        } else {
            kp.stress(active, o.stress_seconds)?
        };
        Ok(Subject {
            name: format!("keepalived VRRPv3, advert_int {} s", k.advert_s),
            wall_arp_ms: wall,
            stress,
            idle,
        })
    })();
    res.map_err(|e| {
        let logs: String = kp
            .daemons
            .iter()
            .flatten()
            .map(|d| format!("\n--- {}:\n{}", d.log.display(), d.new_log()))
            .collect();
        format!("keepalived advert {} s: {e}{logs}", k.advert_s)
    })
}

fn ratio(ours: f64, theirs: f64) -> String {
    if theirs > 0.0 { format!("{:.3}", ours / theirs) } else { "-".into() }
}

fn report(o: FailoverOpts, ka_version: &str, s: &[Subject]) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# failover benchmark: failoverd vs keepalived\n");
    let _ = writeln!(
        md,
        "Same namespace rig, same run: controllers A and B in network namespaces, bridged public \
         segment `pub0`, VIP 192.0.2.100/24, a client namespace. {ka_version} (Debian package), \
         VRRPv3, `state BACKUP` on both, priorities A 150 / B 100, `nopreempt` (a restarted \
         controller comes back as backup and the next round kills the other one, as in the failoverd \
         bench), `garp_master_delay 0`, `garp_master_repeat 1`, default scheduling. {}.\n",
        bench::host_line()
    );
    let _ = writeln!(
        md,
        "**Not the same job:** keepalived only moves the IP. failoverd, on a takeover, also fences \
         (persistent reservations on the simulated PR disks, epoch persisted) and imports the pool \
         (a no-op pool hook here) before raising the VIP, and verifies the reservation afterwards.\n"
    );
    let sums: Vec<Option<Summary>> = s.iter().map(|x| summarize(&x.wall_arp_ms)).collect();
    md.push_str("| metric |");
    for x in s {
        let _ = write!(md, " {} |", x.name);
    }
    for x in &s[1..] {
        let _ = write!(md, " ours / {} |", x.name.replace("keepalived VRRPv3, ", "keepalived "));
    }
    md.push_str("\n|---|");
    for _ in 0..(2 * s.len() - 1) {
        md.push_str("---:|");
    }
    md.push('\n');
    type Pick = fn(&Summary) -> f64;
    let picks: [(&str, Pick); 3] = [("p50", |x| x.p50), ("p99", |x| x.p99), ("max", |x| x.max)];
    for (label, f) in picks {
        let _ = write!(md, "| SIGKILL → VIP answers ARP, {label} (ms) |");
        for x in &sums {
            match x {
                Some(x) => {
                    let _ = write!(md, " {:.1} |", f(x));
                }
                None => md.push_str(" - |"),
            }
        }
        for x in &sums[1..] {
            let r = match (sums[0], x) {
                (Some(a), Some(b)) => ratio(f(&a), f(b)),
                _ => "-".into(),
            };
            let _ = write!(md, " {r} |");
        }
        md.push('\n');
    }
    let _ = write!(md, "| kills measured |");
    for x in s {
        let _ = write!(md, " {} |", x.wall_arp_ms.len());
    }
    for _ in &s[1..] {
        md.push_str(" |");
    }
    let _ = write!(md, "\n| false takeovers, {} s of 100 % CPU on both |", o.stress_seconds);
    let ft = |x: &Subject| x.stress.false_takeovers.map_or("-".into(), |v| v.to_string());
    for x in s {
        let _ = write!(md, " {} |", ft(x));
    }
    for x in &s[1..] {
        let _ = write!(md, " {} vs {} |", ft(&s[0]), ft(x));
    }
    let cpu =
        |x: &Subject| x.idle.iter().map(|u| u.cpu_ms).sum::<f64>() / x.idle[0].window_s.max(1e-9) * 10.0;
    let rss = |x: &Subject| x.idle.iter().map(|u| u.rss_kb as f64).sum::<f64>() / 2.0;
    let _ = write!(md, "\n| idle CPU, both controllers (ms per 10 s) |");
    for x in s {
        let _ = write!(
            md,
            " {:.0} (A {:.0}, B {:.0}) |",
            cpu(x),
            x.idle[0].cpu_ms * 10.0 / x.idle[0].window_s.max(1e-9),
            x.idle[1].cpu_ms * 10.0 / x.idle[1].window_s.max(1e-9)
        );
    }
    for x in &s[1..] {
        let _ = write!(md, " {} |", ratio(cpu(&s[0]), cpu(x)));
    }
    let _ = write!(md, "\n| idle RSS per controller (kB, all its processes) |");
    for x in s {
        let _ = write!(md, " {:.0} (A {}, B {}) |", rss(x), x.idle[0].rss_kb, x.idle[1].rss_kb);
    }
    for x in &s[1..] {
        let _ = write!(md, " {} |", ratio(rss(&s[0]), rss(x)));
    }
    md.push_str("\n| on takeover |");
    md.push_str(" fence (PR disks) + epoch + import (no-op hook) + VIP + GARP |");
    for _ in &s[1..] {
        md.push_str(" VIP + GARP only |");
    }
    for _ in &s[1..] {
        md.push_str(" |");
    }
    md.push('\n');
    let _ = writeln!(
        md,
        "\nSIGKILL → ARP: from the SIGKILL of the active (keepalived: its whole process group, \
         parent and VRRP child) to the first ARP reply for the VIP from the survivor's MAC, seen from \
         the client namespace, which asks every {} ms. The killed host's stale VIP is removed before \
         it restarts (as a reset would). Idle CPU: utime + stime from `/proc/PID/stat` of every \
         process in the controller's namespace over a {} s window with the pair settled; RSS: their \
         VmRSS summed.\n",
        PROBE_PERIOD.as_millis(),
        o.idle_seconds
    );
    for x in s {
        let _ = writeln!(
            md,
            "- {}: processes A {:?}, B {:?}; stress: {}",
            x.name, x.idle[0].procs, x.idle[1].procs, x.stress.note
        );
    }
    let _ = writeln!(md, "\nPer-kill SIGKILL → ARP (ms):\n");
    for x in s {
        let v: Vec<String> = x.wall_arp_ms.iter().map(|v| format!("{v:.1}")).collect();
        let _ = writeln!(md, "- {}: {}", x.name, v.join(", "));
    }
    md
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_ticks() {
        let stat = "1234 (keep alived) (x)) S 1 1234 1234 0 -1 4194560 300 0 0 0 17 5 0 0 20 0 2 0 \
                    4242 12345678 900 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat_ticks(stat), Some(22));
        assert_eq!(parse_stat_ticks("1 (x) S 1"), None);
        assert_eq!(parse_stat_ticks("garbage"), None);
        let own = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
        assert!(parse_stat_ticks(&own).is_some());
    }

    #[test]
    fn vm_rss() {
        let status = "Name:\tkeepalived\nVmPeak:\t   9000 kB\nVmRSS:\t    2468 kB\nThreads:\t1\n";
        assert_eq!(parse_vm_rss_kb(status), Some(2468));
        assert_eq!(parse_vm_rss_kb("Name:\tkthreadd\n"), None);
        let own = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
        assert!(parse_vm_rss_kb(&own).is_some_and(|kb| kb > 0));
    }

    #[test]
    fn report_has_ratios_and_the_caveat() {
        let u = |cpu_ms, rss_kb| Usage { cpu_ms, window_s: 10.0, rss_kb, procs: vec!["x".into()] };
        let subj = |name: &str, ms: f64, ft| Subject {
            name: name.into(),
            wall_arp_ms: vec![ms, ms * 2.0],
            stress: Stress { false_takeovers: Some(ft), note: String::new() },
            idle: [u(100.0, 4000), u(100.0, 4000)],
        };
        let md = report(
            FailoverOpts::default(),
            "Keepalived v2.2.7",
            &[subj("failoverd", 10.0, 0), subj("keepalived VRRPv3, advert_int 0.01 s", 40.0, 1)],
        );
        assert!(md.contains("| SIGKILL → VIP answers ARP, p50 (ms) | 10.0 | 40.0 | 0.250 |"), "{md}");
        assert!(md.contains("keepalived only moves the IP"));
        assert!(md.contains("| 0 | 1 | 0 vs 1 |"), "{md}");
    }
}
