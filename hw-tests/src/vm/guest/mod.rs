//! The guest side: `hw-tests vm-guest <scenario> --out <dir>`, run by the VM's
//! `/init` inside the chroot of the host's root file system.
//!
//! It runs the scenario's guest function and writes `<dir>/result.txt`
//! ([`GuestReport`]) and `<dir>/dmesg.txt`; its own output (steps, errors) goes to
//! `<dir>/guest.log`. Exit code 0 when the scenario passed, 1 when it failed, 2 when
//! it could not run. It refuses to run anywhere but in the hw-tests VM: the rig loads
//! modules and rewires devices.

pub mod controllers;
pub mod devices;
pub mod failover;
pub mod gpio;
pub mod i2c;
pub mod kmsg;
pub mod lio;
pub mod net;
pub mod rig;
pub mod scsi;
pub mod watchdog;

use std::fs;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// What a guest function gets.
#[derive(Debug)]
pub struct Ctx {
    /// The output directory (shared with the host at the same path).
    pub out: PathBuf,
    /// The gpio-sim module built for this kernel (`HWTEST_GPIO_SIM`).
    pub gpio_sim: Option<PathBuf>,
    t0: Instant,
}

impl Ctx {
    /// Log a step to `guest.log` with the guest's uptime and the time into the scenario.
    pub fn step(&self, msg: &str) {
        println!("[{:8.3} +{:7.3}] {msg}", uptime().unwrap_or(0.0), self.t0.elapsed().as_secs_f64());
    }
}

/// `Err(msg())` unless `ok`.
pub fn ensure(ok: bool, msg: impl FnOnce() -> String) -> Result<(), String> {
    if ok { Ok(()) } else { Err(msg()) }
}

/// Write a sysfs / configfs attribute.
pub fn write_attr(path: &Path, value: &str) -> Result<(), String> {
    fs::write(path, value).map_err(|e| format!("writing {value:?} to {}: {e}", path.display()))
}

/// Read a sysfs / configfs attribute.
pub fn read_attr(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))
}

/// Poll `f` every 10 ms until it gives a value, for at most `limit`.
pub fn wait_until<T>(
    limit: Duration,
    what: &str,
    f: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    crate::suites::rig::poll_until(limit, Duration::from_millis(10), what, f)
}

/// Seconds since the guest kernel booted.
pub fn uptime() -> Option<f64> {
    fs::read_to_string("/proc/uptime").ok()?.split_whitespace().next()?.parse().ok()
}

/// What the guest reports to the host in `result.txt`.
#[derive(Clone, Debug, PartialEq)]
pub struct GuestReport {
    /// The scenario passed.
    pub passed: bool,
    /// Guest uptime when the guest program started, seconds.
    pub start_uptime_s: Option<f64>,
    /// The scenario's own run time.
    pub scenario: Option<Duration>,
    /// The longest the guest did not run during the scenario (its pause detector's
    /// longest gap between 20 ms sleeps): the host starving the emulator shows here.
    pub max_pause: Option<Duration>,
    /// The detail (pass) or reason (fail).
    pub message: String,
}

impl GuestReport {
    /// `key=value` lines, `--`, then the message.
    pub fn render(&self) -> String {
        format!(
            "status={}\nstart_uptime_s={}\nscenario_ms={}\nmax_pause_ms={}\n--\n{}\n",
            if self.passed { "pass" } else { "fail" },
            self.start_uptime_s.map_or("-".into(), |u| format!("{u:.3}")),
            self.scenario.map_or("-".into(), |d| d.as_millis().to_string()),
            self.max_pause.map_or("-".into(), |d| d.as_millis().to_string()),
            self.message
        )
    }

    /// From [`Self::render`]'s text.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (head, message) = text.split_once("\n--\n").ok_or("result.txt has no `--` line")?;
        let get = |k: &str| head.lines().find_map(|l| l.strip_prefix(k)?.strip_prefix('='));
        let passed = match get("status") {
            Some("pass") => true,
            Some("fail") => false,
            other => return Err(format!("result.txt: status {other:?}")),
        };
        Ok(Self {
            passed,
            start_uptime_s: get("start_uptime_s").and_then(|v| v.parse().ok()),
            scenario: get("scenario_ms").and_then(|v| v.parse().ok()).map(Duration::from_millis),
            max_pause: get("max_pause_ms").and_then(|v| v.parse().ok()).map(Duration::from_millis),
            message: message.trim_end().to_owned(),
        })
    }
}

/// Whether this process runs in the hw-tests VM (its kernel was booted by the suite).
fn in_vm() -> bool {
    fs::read_to_string("/proc/cmdline")
        .is_ok_and(|c| c.split_whitespace().any(|w| w.starts_with("HWTEST_SCENARIO=")))
}

/// `hw-tests vm-guest <scenario> --out <dir>`; the exit code.
pub fn main(args: &[String]) -> i32 {
    let start_uptime_s = uptime();
    let usage = "usage: hw-tests vm-guest <scenario> --out <dir> (runs inside the hw-tests VM only)";
    let (Some(name), Some("--out"), Some(out)) = (args.first(), args.get(1).map(String::as_str), args.get(2))
    else {
        eprintln!("{usage}");
        return 2;
    };
    if !in_vm() {
        eprintln!(
            "vm-guest: refusing to run outside the hw-tests VM (no HWTEST_SCENARIO= on /proc/cmdline)\n{usage}"
        );
        return 2;
    }
    let ctx = Ctx {
        out: PathBuf::from(out),
        gpio_sim: std::env::var_os("HWTEST_GPIO_SIM").map(PathBuf::from),
        t0: Instant::now(),
    };
    ctx.step(&format!(
        "vm-guest {name}: started at uptime {}",
        start_uptime_s.map_or("?".into(), |u| format!("{u:.3} s"))
    ));
    let pauses = PauseDetector::start();
    let outcome = match super::SCENARIOS.iter().find(|s| s.name == name) {
        None => Err(format!(
            "unknown scenario {name:?}; known: {}",
            super::SCENARIOS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ")
        )),
        Some(s) => crate::report::guarded(|| (s.guest)(&ctx)),
    };
    let scenario = ctx.t0.elapsed();
    let max_pause = pauses.longest();
    ctx.step(&format!("longest pause of the guest during the scenario: {} ms", max_pause.as_millis()));
    match &outcome {
        Ok(d) => ctx.step(&format!("PASS {d}")),
        Err(e) => ctx.step(&format!("FAIL {e}")),
    }
    let dmesg_path = ctx.out.join("dmesg.txt");
    match kmsg::dmesg() {
        Ok(lines) => {
            let _ = fs::write(&dmesg_path, lines.join("\n") + "\n");
        }
        Err(e) => ctx.step(&format!("cannot save the kernel log: {e}")),
    }
    let passed = outcome.is_ok();
    let report = GuestReport {
        passed,
        start_uptime_s,
        scenario: Some(scenario),
        max_pause: Some(max_pause),
        message: outcome.unwrap_or_else(|e| e),
    };
    let path = ctx.out.join("result.txt");
    if let Err(e) = fs::write(&path, report.render()) {
        eprintln!("vm-guest: cannot write {}: {e}", path.display());
        return 2;
    }
    i32::from(!passed)
}

/// A thread that sleeps 20 ms at a time and keeps the longest gap it saw between
/// wake-ups: when the host does not run the emulator (CPU starvation), the whole guest
/// stops and its clock jumps on resuming, which every timing in a scenario (and every
/// watchdog) feels. A scenario that fails across such a pause proves nothing either
/// way; the suite runs it again (see `run_scenario`).
struct PauseDetector {
    longest_us: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl PauseDetector {
    const SLEEP: Duration = Duration::from_millis(20);

    fn start() -> Self {
        let longest_us = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let l = std::sync::Arc::clone(&longest_us);
        let _ = std::thread::Builder::new().name("pause-detector".into()).spawn(move || {
            let mut last = Instant::now();
            loop {
                std::thread::sleep(Self::SLEEP);
                let now = Instant::now();
                let gap = now.saturating_duration_since(last).saturating_sub(Self::SLEEP);
                l.fetch_max(gap.as_micros() as u64, std::sync::atomic::Ordering::Relaxed);
                last = now;
            }
        });
        Self { longest_us }
    }

    fn longest(&self) -> Duration {
        Duration::from_micros(self.longest_us.load(std::sync::atomic::Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_round_trips() {
        let r = GuestReport {
            passed: false,
            start_uptime_s: Some(1.25),
            scenario: Some(Duration::from_millis(4321)),
            max_pause: Some(Duration::from_millis(1902)),
            message: "disk 0: conflict\nsecond line".into(),
        };
        assert_eq!(GuestReport::parse(&r.render()), Ok(r));
        let p = GuestReport {
            passed: true,
            start_uptime_s: None,
            scenario: None,
            max_pause: None,
            message: String::new(),
        };
        assert_eq!(GuestReport::parse(&p.render()), Ok(p));
    }

    #[test]
    fn bad_reports_are_errors() {
        assert!(GuestReport::parse("status=pass\n").is_err());
        assert!(GuestReport::parse("status=maybe\n--\nx").is_err());
    }
}
