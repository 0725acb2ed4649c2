//! keepalived on the namespace rig ([`crate::suites::rig`]), for `bench failover`:
//! the Debian package (installed when missing), a VRRPv3 configuration per controller
//! and the daemon run in the foreground in a controller's namespace, in its own
//! process group so that a SIGKILL takes the parent and its VRRP child at once.
//!
//! The VRRP adverts go over the dedicated link `ha0` (`interface ha0`, multicast to
//! 224.0.0.18 from `ha0`'s address), the link failoverd's heartbeats cross, so that
//! the same impairment reaches both; the VIP is raised on the public segment
//! (`virtual_ipaddress { VIP/24 dev pub0 }`), where keepalived also sends its
//! gratuitous ARPs (on the interface of each address).

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use failover_core::wire::Controller;
use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::suites::rig::{LINK_IF, PUB_IF, VIP};

/// The VRRP router id (any; only this pair is on the segment).
pub const VRID: u8 = 10;

/// One keepalived setup: the advertisement interval, whether it preempts, and how
/// the VRRP process is scheduled.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KaConf {
    /// `advert_int`, seconds (VRRPv3: centisecond resolution, 0.01 at least).
    pub advert_s: f64,
    /// `nopreempt` on both.
    pub nopreempt: bool,
    /// `vrrp_rt_priority` (the VRRP process runs SCHED_RR at this priority); 0: not
    /// set, default scheduling.
    pub rt_priority: u8,
    /// `vrrp_no_swap` (the VRRP process locks its memory, `mlockall`).
    pub lock_memory: bool,
}

impl KaConf {
    /// The VRRP priority of a controller: A 150, B 100.
    pub fn priority(c: Controller) -> u8 {
        match c {
            Controller::A => 150,
            Controller::B => 100,
        }
    }

    /// RFC 5798 Master_Down_Interval of a backup of priority `prio`: 3 adverts plus
    /// the skew `(256 - prio) * advert / 256`.
    pub fn master_down(&self, prio: u8) -> Duration {
        let adv = self.advert_s;
        Duration::from_secs_f64(3.0 * adv + f64::from(256 - u16::from(prio)) * adv / 256.0)
    }
}

/// The `keepalived.conf` of controller `c`.
pub fn config(c: Controller, k: KaConf) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# hw-tests bench failover: keepalived on controller {c}");
    let _ = writeln!(s, "global_defs {{");
    let _ = writeln!(s, "    router_id fo_{}", c.letter().to_ascii_lowercase());
    let _ = writeln!(s, "    vrrp_version 3");
    if k.rt_priority > 0 {
        let _ = writeln!(s, "    vrrp_rt_priority {}", k.rt_priority);
    }
    if k.lock_memory {
        let _ = writeln!(s, "    vrrp_no_swap");
    }
    let _ = writeln!(s, "}}");
    let _ = writeln!(s, "vrrp_instance VI_1 {{");
    let _ = writeln!(s, "    state BACKUP");
    // The adverts cross the dedicated link; the VIP lives on the public segment.
    let _ = writeln!(s, "    interface {LINK_IF}");
    let _ = writeln!(s, "    virtual_router_id {VRID}");
    let _ = writeln!(s, "    priority {}", KaConf::priority(c));
    let _ = writeln!(s, "    advert_int {:.2}", k.advert_s);
    if k.nopreempt {
        let _ = writeln!(s, "    nopreempt");
    }
    let _ = writeln!(s, "    garp_master_delay 0");
    let _ = writeln!(s, "    garp_master_repeat 1");
    let _ = writeln!(s, "    virtual_ipaddress {{");
    let _ = writeln!(s, "        {VIP}/24 dev {PUB_IF}");
    let _ = writeln!(s, "    }}");
    let _ = writeln!(s, "}}");
    s
}

/// The keepalived executable, installed with apt-get when missing.
pub fn ensure_installed() -> Result<PathBuf, String> {
    crate::vm::packages::find_or_install(
        &["/usr/sbin/keepalived", "/sbin/keepalived", "/usr/local/sbin/keepalived"],
        "keepalived",
    )
}

/// `keepalived --version`'s first line.
pub fn version(exe: &Path) -> String {
    Command::new(exe)
        .arg("--version")
        .output()
        .map(|o| {
            let text = [o.stdout, o.stderr].concat();
            String::from_utf8_lossy(&text).lines().next().unwrap_or_default().trim().to_owned()
        })
        .unwrap_or_default()
}

/// One keepalived (parent and VRRP child) in a controller's namespace, leader of its
/// own process group; SIGKILLed (the whole group) on drop.
#[derive(Debug)]
pub struct Keepalived {
    child: Child,
    done: bool,
    /// Its log (stdout and stderr).
    pub log: PathBuf,
    /// Length of the log when this instance started.
    pub log_from: u64,
}

impl Keepalived {
    /// `ip netns exec <ns> keepalived -n -l -D -G -P -f <dir>/keepalived.conf -p .. -r ..`
    /// with `config(c, k)` written to `dir` first.
    pub fn spawn(exe: &Path, ns: &str, dir: &Path, c: Controller, k: KaConf) -> Result<Self, String> {
        fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let conf = dir.join("keepalived.conf");
        fs::write(&conf, config(c, k)).map_err(|e| format!("{}: {e}", conf.display()))?;
        let (pid, vrrp_pid) = (dir.join("keepalived.pid"), dir.join("vrrp.pid"));
        let _ = fs::remove_file(&pid);
        let _ = fs::remove_file(&vrrp_pid);
        let log = dir.join("keepalived.log");
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .map_err(|e| format!("{}: {e}", log.display()))?;
        let _ = writeln!(out, "==== hw-tests: starting keepalived in {ns} (advert {} s) ====", k.advert_s);
        let log_from = out.metadata().map_or(0, |m| m.len());
        let err = out.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = Command::new("ip");
        cmd.process_group(0);
        crate::process::dies_with_runner(&mut cmd);
        let child = cmd
            .args(["netns", "exec", ns])
            .arg(exe)
            .args(["-n", "-l", "-D", "-G", "-P", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(&pid)
            .arg("-r")
            .arg(&vrrp_pid)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .map_err(|e| format!("starting keepalived in {ns}: {e}"))?;
        Ok(Self { child, done: false, log, log_from })
    }

    /// The parent's pid (also the process group).
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// What it logged since it started.
    pub fn new_log(&self) -> String {
        let text = fs::read(&self.log).unwrap_or_default();
        String::from_utf8_lossy(text.get(usize::try_from(self.log_from).unwrap_or(0)..).unwrap_or_default())
            .into_owned()
    }

    /// Wait until its log says `what`, for at most `limit`.
    pub fn wait_log(&mut self, what: &str, limit: Duration) -> Result<(), String> {
        let t0 = Instant::now();
        loop {
            if self.new_log().contains(what) {
                return Ok(());
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                self.done = true;
                return Err(format!("keepalived exited ({st}) before `{what}`:\n{}", self.new_log()));
            }
            if t0.elapsed() > limit {
                return Err(format!("keepalived did not log `{what}` within {} ms", limit.as_millis()));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// SIGKILL the whole process group (parent and VRRP child in one call), and only
    /// that: [`kill`](Self::kill) reaps.
    pub fn signal_kill(&self) -> Result<(), String> {
        if self.done {
            return Err("keepalived has already ended".into());
        }
        nix::sys::signal::killpg(Pid::from_raw(self.pid()), Signal::SIGKILL)
            .map_err(|e| format!("kill -KILL -{}: {e}", self.pid()))
    }

    /// SIGKILL the whole process group (parent and VRRP child in one call), reap the
    /// parent and wait (up to a second) for the rest of the group to be gone or a
    /// zombie (the VRRP child is reparented to init, which may never reap it).
    pub fn kill(&mut self) {
        if self.done {
            return;
        }
        let _ = nix::sys::signal::killpg(Pid::from_raw(self.pid()), Signal::SIGKILL);
        let _ = self.child.wait();
        self.done = true;
        let t0 = Instant::now();
        while nix::sys::signal::killpg(Pid::from_raw(self.pid()), None).is_ok()
            && group_running(self.pid())
            && t0.elapsed() < Duration::from_secs(1)
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

/// `(state, process group)` (fields 3 and 5) from the text of `/proc/PID/stat`.
pub fn parse_state_pgrp(stat: &str) -> Option<(char, i32)> {
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    let f: Vec<&str> = stat[stat.rfind(')')? + 1..].split_whitespace().collect();
    Some((f.first()?.chars().next()?, f.get(2)?.parse().ok()?))
}

/// Whether a process of group `pgid` still runs (a zombie does not).
fn group_running(pgid: i32) -> bool {
    let Ok(dir) = fs::read_dir("/proc") else { return false };
    dir.filter_map(Result::ok).filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok()).any(|pid| {
        fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|s| parse_state_pgrp(&s))
            .is_some_and(|(state, pg)| pg == pgid && !matches!(state, 'Z' | 'X'))
    })
}

impl Drop for Keepalived {
    fn drop(&mut self) {
        self.kill();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_has_the_instance() {
        let a = config(
            Controller::A,
            KaConf { advert_s: 0.01, nopreempt: true, rt_priority: 50, lock_memory: true },
        );
        for want in [
            "vrrp_version 3",
            "vrrp_rt_priority 50",
            "vrrp_no_swap",
            "state BACKUP",
            "interface ha0",
            "virtual_router_id 10",
            "priority 150",
            "advert_int 0.01",
            "nopreempt",
            "garp_master_delay 0",
            "garp_master_repeat 1",
            "192.0.2.100/24 dev pub0",
        ] {
            assert!(a.contains(want), "missing `{want}` in:\n{a}");
        }
        assert_eq!(a.matches('{').count(), a.matches('}').count());
        let b = config(
            Controller::B,
            KaConf { advert_s: 0.68, nopreempt: false, rt_priority: 0, lock_memory: false },
        );
        assert!(b.contains("priority 100") && b.contains("advert_int 0.68"));
        assert!(!b.contains("nopreempt") && !b.contains("vrrp_rt_priority") && !b.contains("vrrp_no_swap"));
    }

    #[test]
    fn state_and_group() {
        assert_eq!(parse_state_pgrp("42 (keep (alived)) Z 1 40 40 0"), Some(('Z', 40)));
        assert_eq!(parse_state_pgrp("42 (x) S"), None);
        let own = fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
        let (_, pg) = parse_state_pgrp(&own).expect("own stat");
        assert!(group_running(pg));
    }

    #[test]
    fn master_down_interval() {
        let k = KaConf { advert_s: 1.0, nopreempt: true, rt_priority: 0, lock_memory: false };
        assert!((k.master_down(100).as_secs_f64() - (3.0 + 156.0 / 256.0)).abs() < 1e-9);
        assert!((k.master_down(150).as_secs_f64() - (3.0 + 106.0 / 256.0)).abs() < 1e-9);
    }
}
