//! The `vm` suite: Debian's own 6.1 kernel booted in QEMU, with real drivers for the
//! devices the controllers share (LIO dual-ported disks with SCSI-3 persistent
//! reservations, softdog + i6300esb watchdogs, i2c-stub, gpio-sim, veth between two
//! network namespaces), running this workspace's binaries inside, one VM per scenario.
//!
//! Host side, per run (all cached under `<target>/vm/`, the cargo target directory
//! being the one this executable was built into):
//! 1. [`packages`]: install missing Debian packages, pick the newest 6.1 kernel;
//! 2. [`kernel`]: extract the PVH `vmlinux` from its bzImage;
//! 3. [`gpio_sim`]: build gpio-sim.ko for it out of tree;
//! 4. [`initramfs`]: busybox + the 9p module chain + `/init` ([`guest`]'s init.sh);
//! 5. [`qemu`]: probe KVM (cached), else TCG; boot one VM per scenario with the host's
//!    `/` shared read-only (the guest chroots into it, so it runs the host's tools and
//!    this very binary: `hw-tests vm-guest <scenario>`) and `runs/<scenario>/`
//!    shared read-write at the same path; the verdict comes back through QEMU's exit
//!    status, the details through `runs/<scenario>/result.txt`.
//!
//! A failing scenario prints the guest's reason, the tail of its log and of the
//! console. Everything a run leaves is in `<target>/vm/runs/<scenario>/`: `console.log`,
//! `qemu.stderr`, `guest.log`, `dmesg.txt`, `result.txt`.

pub mod cpio;
pub mod elf;
pub mod gpio_sim;
pub mod guest;
pub mod initramfs;
pub mod kernel;
pub mod packages;
pub mod qemu;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::report::CaseResult;
use qemu::{Accel, GuestExit, Share, VmSpec};

/// One scenario: a VM boot running `guest` inside.
#[derive(Debug)]
pub struct Scenario {
    /// `vm/<name>`.
    pub name: &'static str,
    /// One line on what it proves.
    pub what: &'static str,
    /// Kill the VM after this long (TCG; a quarter of it under KVM is still plenty).
    pub timeout: Duration,
    /// vCPUs. Under TCG on an idle 2-core host 1 and 2 take the same time for
    /// `devices` (8.1 vs 8.4 s per VM), but with other work on the host 2 vCPUs were
    /// 1.5-2x slower (each vCPU is a host thread next to QEMU's 9p I/O). Scenarios
    /// with two busy daemons may still want 2.
    pub smp: u32,
    /// QEMU's action when the i6300esb (controller B's watchdog) fires: `None` is
    /// QEMU's `reset`, which ends the VM (exit 0, reported as a reset); `debug` keeps
    /// the guest running and prints `watchdog: timer fired` to `qemu.stderr`.
    pub watchdog_action: Option<&'static str>,
    /// What runs in the guest.
    pub guest: fn(&guest::Ctx) -> Result<String, String>,
}

/// The scenarios, in the order they run.
pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "devices",
        what: "the rig on real drivers: dual-ported LUNs with PR fencing, watchdogs, i2c-stub, gpio-sim, veth",
        timeout: Duration::from_secs(240),
        smp: 1,
        watchdog_action: None,
        guest: guest::devices::run,
    },
    Scenario {
        name: "takeover-fences",
        what: "kill the active's service: the standby fences it on every disk (its host's writes conflict), I2C enclosure cut, softdog fires",
        timeout: Duration::from_secs(240),
        smp: 1,
        watchdog_action: Some("debug"),
        guest: guest::failover::takeover_fences,
    },
    Scenario {
        name: "sigstop-active",
        what: "freeze the active past the timeout: the standby takes over; resumed, the old active finds its key gone and its watchdog fires",
        timeout: Duration::from_secs(240),
        smp: 1,
        watchdog_action: Some("debug"),
        guest: guest::failover::sigstop_active,
    },
    Scenario {
        name: "fence-lines",
        what: "gpio fence lines and LEDs through takeover, rejoin and giveback both ways",
        timeout: Duration::from_secs(240),
        smp: 1,
        watchdog_action: Some("debug"),
        guest: guest::failover::fence_lines,
    },
    Scenario {
        name: "path-removed",
        what: "one disk path of the active deleted: reported, reservation kept, no self-fence",
        timeout: Duration::from_secs(240),
        smp: 1,
        watchdog_action: Some("debug"),
        guest: guest::failover::path_removed,
    },
    Scenario {
        name: "fence-32",
        what: "fencing 32 disks in parallel against one disk, through the backend and a real takeover",
        timeout: Duration::from_secs(300),
        smp: 2,
        watchdog_action: Some("debug"),
        guest: guest::failover::fence_32,
    },
];

/// Options of `hw-tests run vm`.
#[derive(Clone, Debug, Default)]
pub struct VmOpts {
    /// Run only this scenario.
    pub only: Option<String>,
    /// vCPUs for every scenario, instead of each scenario's own choice.
    pub smp: Option<u32>,
}

/// Print a progress line.
pub fn log(msg: &str) {
    println!("vm: {msg}");
}

/// The path of a tool, searched in `PATH` and the sbin directories (root's tools).
pub fn find_tool(name: &str) -> Result<PathBuf, String> {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .chain(["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"])
        .filter(|d| !d.is_empty())
        .map(|d| Path::new(d).join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| format!("`{name}` not found in PATH or the sbin directories"))
}

/// Run a tool; its stdout, or an error with its stderr.
pub fn run_tool(name: &str, args: &[&str]) -> Result<String, String> {
    crate::suites::rig::run_cmd(name, args)
}

/// Where things are: this executable, its cargo target directory, the VM cache.
#[derive(Clone, Debug)]
pub struct Layout {
    /// This executable (the guest runs it too, by the same path).
    pub exe: PathBuf,
    /// Its directory (`<target>/release`), where failoverd must be too.
    pub bin_dir: PathBuf,
    /// `<target>/vm`.
    pub cache: PathBuf,
}

impl Layout {
    /// From `current_exe`.
    pub fn locate() -> Result<Self, String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find the hw-tests executable: {e}"))?;
        let exe = exe.canonicalize().map_err(|e| format!("{}: {e}", exe.display()))?;
        let bin_dir = exe.parent().ok_or_else(|| format!("{} has no directory", exe.display()))?.to_owned();
        // <target>/release/hw-tests, or <target>/release/deps/hw_tests-<hash> for tests.
        let mut target = bin_dir.parent().ok_or_else(|| format!("{} has no parent", bin_dir.display()))?;
        if bin_dir.file_name().is_some_and(|n| n == "deps") {
            target = target.parent().unwrap_or(target);
        }
        Ok(Self { cache: target.join("vm"), exe, bin_dir })
    }

    /// Check the workspace binaries the scenarios run are built next to this one.
    pub fn check_binaries(&self) -> Result<(), String> {
        let profile = self.bin_dir.file_name().map_or("release".into(), |n| n.to_string_lossy().into_owned());
        let flag = if profile == "debug" { "" } else { " --release" };
        for b in ["failoverd", "failoverctl"] {
            let p = self.bin_dir.join(b);
            if !p.is_file() {
                return Err(format!(
                    "{} not found: the VM runs the workspace's binaries from next to hw-tests; build them \
                     with `cargo build{flag} -p failover-linux` (same target directory)",
                    p.display()
                ));
            }
        }
        Ok(())
    }
}

/// Whether `s` can be one word of the kernel command line (and a 9p share path).
pub fn cmdline_safe(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._+-=@:".contains(c))
}

/// Everything a scenario's VM needs, prepared once per run.
#[derive(Debug)]
struct Prepared {
    layout: Layout,
    vmlinux: PathBuf,
    initrd: PathBuf,
    gpio_sim: PathBuf,
    accel: Accel,
    multidevs: bool,
    smp: Option<u32>,
}

fn prepare(opts: &VmOpts) -> Result<Prepared, String> {
    let t0 = Instant::now();
    let layout = Layout::locate()?;
    layout.check_binaries()?;
    for p in [&layout.exe, &layout.cache] {
        let s = p.to_string_lossy();
        if !cmdline_safe(&s) {
            return Err(format!(
                "{s}: the VM passes this path on the kernel command line; use a path without spaces or commas"
            ));
        }
    }
    fs::create_dir_all(&layout.cache).map_err(|e| format!("{}: {e}", layout.cache.display()))?;
    let host = packages::ensure()?;
    let vmlinux = kernel::vmlinux(&host.vmlinuz, &host.kver, &layout.cache)?;
    let gpio_sim = gpio_sim::build(&host, &layout.cache)?;
    let initrd = layout.cache.join(format!("initramfs-{}.cpio", host.kver));
    let size = initramfs::build(&host, &initrd)?;
    let (major, minor) = qemu::version()?;
    let multidevs = (major, minor) >= (4, 2);
    log(&format!(
        "kernel {} ({}), initramfs {} KiB, gpio-sim {}, QEMU {major}.{minor}; prepared in {:.1} s",
        host.kver,
        vmlinux.display(),
        size / 1024,
        gpio_sim.display(),
        t0.elapsed().as_secs_f64()
    ));
    let mut p = Prepared { layout, vmlinux, initrd, gpio_sim, accel: Accel::Tcg, multidevs, smp: opts.smp };
    let host_release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    let probe_dir = p.layout.cache.join("runs").join("kvm-probe");
    fresh_dir(&probe_dir)?;
    let probe = spec(&p, "probe", &probe_dir, Duration::from_secs(15), 1);
    let cache_file = p.layout.cache.join(format!("accel-{}-{}", host_release.trim(), host.kver));
    p.accel = qemu::choose_accel(&probe, &cache_file);
    Ok(p)
}

fn fresh_dir(d: &Path) -> Result<(), String> {
    let _ = fs::remove_dir_all(d);
    fs::create_dir_all(d).map_err(|e| format!("{}: {e}", d.display()))
}

fn spec(p: &Prepared, scenario: &str, out: &Path, timeout: Duration, smp: u32) -> VmSpec {
    VmSpec {
        name: format!("hwtest-{scenario}"),
        vmlinux: p.vmlinux.clone(),
        initrd: p.initrd.clone(),
        append: vec![
            "console=ttyS0".into(),
            "quiet".into(),
            "panic=-1".into(),
            format!("HWTEST_SCENARIO={scenario}"),
            format!("HWTEST_EXE={}", p.layout.exe.display()),
            format!("HWTEST_OUT={}", out.display()),
            format!("HWTEST_GPIO_SIM={}", p.gpio_sim.display()),
        ],
        shares: vec![
            Share { tag: "hostroot", path: "/".into(), readonly: true },
            Share { tag: "out", path: out.to_owned(), readonly: false },
        ],
        mem_mib: 1024,
        smp,
        accel: p.accel,
        timeout,
        console_log: out.join("console.log"),
        stderr_log: out.join("qemu.stderr"),
        watchdog_action: None,
        multidevs: p.multidevs,
    }
}

fn read_tail(p: &Path, n: usize) -> String {
    match fs::read_to_string(p) {
        Ok(t) if t.trim().is_empty() => format!("({} is empty)", p.display()),
        Ok(t) => qemu::tail(&t, n),
        Err(e) => format!("({}: {e})", p.display()),
    }
}

fn secs(d: Duration) -> String {
    format!("{:.1} s", d.as_secs_f64())
}

/// A failed scenario during which the guest stopped running this long is run once more:
/// a pause of a second or more (the host starved the emulator) shifts every timing and
/// fires 1-2 s watchdogs, so the failure says nothing about the code.
const DISTURBING_PAUSE: Duration = Duration::from_millis(1000);

fn run_scenario(p: &Prepared, s: &Scenario) -> CaseResult {
    let first = run_scenario_once(p, s);
    match first {
        (r, Some(pause)) if r.outcome.is_err() && pause >= DISTURBING_PAUSE => {
            log(&format!(
                "{}: failed while the guest was paused for {} ms (host CPU starvation); running it once more",
                r.name,
                pause.as_millis()
            ));
            let (mut again, _) = run_scenario_once(p, s);
            let note =
                format!("second run: the first failed across a {} ms pause of the guest", pause.as_millis());
            again.outcome = match again.outcome {
                Ok(d) => Ok(format!("{d} ({note})")),
                Err(e) => Err(format!("{e}\n({note}, and this run failed too)")),
            };
            again.elapsed += r.elapsed;
            again
        }
        (r, _) => r,
    }
}

/// One run of `s`: its result, and the guest's longest pause when it reported one.
fn run_scenario_once(p: &Prepared, s: &Scenario) -> (CaseResult, Option<Duration>) {
    let t0 = Instant::now();
    let name = format!("vm/{}", s.name);
    let out = p.layout.cache.join("runs").join(s.name);
    let mut max_pause = None;
    let outcome = (|| {
        fresh_dir(&out)?;
        let timeout = if p.accel == Accel::Kvm { s.timeout / 4 } else { s.timeout };
        let mut spec = spec(p, s.name, &out, timeout, p.smp.unwrap_or(s.smp));
        spec.watchdog_action = s.watchdog_action;
        let run = qemu::run(&spec)?;
        let report = fs::read_to_string(out.join("result.txt")).ok().map(|t| guest::GuestReport::parse(&t));
        max_pause = report.as_ref().and_then(|r| r.as_ref().ok()).and_then(|r| r.max_pause);
        let boot = run.boot.map_or("-".into(), secs);
        let (scenario_time, guest_uptime) = match &report {
            Some(Ok(r)) => (
                r.scenario.map_or("-".into(), secs),
                r.start_uptime_s.map_or("-".into(), |u| format!("{u:.1} s")),
            ),
            _ => ("-".into(), "-".into()),
        };
        log(&format!(
            "{name}: boot {boot} (QEMU start to guest program; guest uptime {guest_uptime}), scenario {scenario_time}, \
             VM total {} [{} x{}]",
            secs(run.wall),
            p.accel.as_str(),
            spec.smp
        ));
        let timing = format!("boot {boot}, scenario {scenario_time}, VM {}", secs(run.wall));
        let diagnostics = |why: String| {
            format!(
                "{why}\n--- guest.log (tail) ---\n{}\n--- console.log (tail) ---\n{}\n--- qemu.stderr ---\n{}\n(all in {})",
                read_tail(&out.join("guest.log"), 25),
                read_tail(&out.join("console.log"), 25),
                read_tail(&out.join("qemu.stderr"), 10),
                out.display()
            )
        };
        match (run.exit, report) {
            (GuestExit::Code(0), Some(Ok(r))) if r.passed => Ok(format!("{timing}: {}", r.message)),
            (GuestExit::Code(rc @ 1..=2), Some(Ok(r))) => Err(diagnostics(format!("guest failed (rc {rc}): {}", r.message))),
            (GuestExit::Code(rc @ 100..=104), _) => Err(diagnostics(format!("the VM's /init failed (rc {rc}), see the console"))),
            (GuestExit::Code(rc), Some(Ok(r))) => Err(diagnostics(format!(
                "guest exit code {rc} disagrees with its report ({}): {}",
                if r.passed { "pass" } else { "fail" },
                r.message
            ))),
            (GuestExit::Code(rc), Some(Err(e))) => Err(diagnostics(format!("guest exit code {rc}; bad result.txt: {e}"))),
            (GuestExit::Code(rc), None) => {
                Err(diagnostics(format!("the guest program exited with {rc} without writing result.txt")))
            }
            (GuestExit::Reset, _) => Err(diagnostics(
                "the guest reset or panicked (QEMU exit 0 under -no-reboot: a watchdog fired, or a kernel panic)".into(),
            )),
            (GuestExit::QemuFailed(why), _) => Err(diagnostics(format!("QEMU failed: {why}"))),
            (GuestExit::TimedOut(limit), _) => Err(diagnostics(format!("the VM did not finish within {}; killed", secs(limit)))),
        }
    })();
    (CaseResult { name, outcome, elapsed: t0.elapsed() }, max_pause)
}

/// Run the suite.
pub fn run(opts: &VmOpts) -> Vec<CaseResult> {
    let t0 = Instant::now();
    let selected: Vec<&Scenario> =
        SCENARIOS.iter().filter(|s| opts.only.as_deref().is_none_or(|o| o == s.name)).collect();
    if selected.is_empty() {
        let known = SCENARIOS.iter().map(|s| s.name).collect::<Vec<_>>().join(", ");
        return vec![CaseResult {
            name: "vm/scenario".into(),
            outcome: Err(format!(
                "no scenario {:?}; known: {known}",
                opts.only.as_deref().unwrap_or_default()
            )),
            elapsed: t0.elapsed(),
        }];
    }
    let p = match prepare(opts) {
        Ok(p) => p,
        Err(e) => {
            return vec![CaseResult { name: "vm/prepare".into(), outcome: Err(e), elapsed: t0.elapsed() }];
        }
    };
    let results: Vec<CaseResult> = selected.into_iter().map(|s| run_scenario(&p, s)).collect();
    log(&format!("{} scenario(s) in {}", results.len(), secs(t0.elapsed())));
    results
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cmdline_words() {
        assert!(cmdline_safe("/work/target-vm/release/hw-tests"));
        assert!(!cmdline_safe("/home/a b/target"));
        assert!(!cmdline_safe("/x,y"));
        assert!(!cmdline_safe(""));
    }

    #[test]
    fn scenario_names_are_unique() {
        for (i, s) in SCENARIOS.iter().enumerate() {
            assert!(SCENARIOS[i + 1..].iter().all(|t| t.name != s.name), "{}", s.name);
            assert!(cmdline_safe(s.name));
        }
    }
}
