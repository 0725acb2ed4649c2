//! Running one VM: QEMU with the PVH vmlinux and our initramfs, the host's / shared
//! read-only and the run directory read-write, the console captured to a file, an
//! overall time limit, and the guest's verdict taken from QEMU's exit status.
//!
//! Exit status (with `-device isa-debug-exit,iobase=0xf4` and `-no-reboot`):
//! - `rc*2+1`: the guest wrote `rc` to port 0xf4. `/init` writes the guest program's
//!   exit code there, 42 for the KVM probe, 100..=104 for its own failures. QEMU's own
//!   start-up errors also exit 1, so a 1 only counts as rc 0 when the console shows
//!   that the guest program ran and exited with 0.
//! - `0`: the guest reset or panicked (`panic=-1` reboots at once), for instance a
//!   watchdog fired with its default action, which `-no-reboot` turns into an exit.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufReader, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::initramfs::GUEST_START_MARKER;

/// The rc `/init` exits with for the `probe` scenario.
pub const PROBE_RC: u8 = 42;

/// How the guest executes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Accel {
    /// Hardware virtualisation (`-accel kvm -cpu host`).
    Kvm,
    /// QEMU's translator (`-accel tcg,thread=multi -cpu max`).
    Tcg,
}

impl Accel {
    /// The name used in logs and the probe cache.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kvm => "kvm",
            Self::Tcg => "tcg",
        }
    }

    /// From [`Self::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim() {
            "kvm" => Some(Self::Kvm),
            "tcg" => Some(Self::Tcg),
            _ => None,
        }
    }
}

/// A 9p share.
#[derive(Clone, Debug)]
pub struct Share {
    /// The mount tag the guest mounts.
    pub tag: &'static str,
    /// The host directory.
    pub path: PathBuf,
    /// Read-only for the guest.
    pub readonly: bool,
}

/// One VM to run.
#[derive(Clone, Debug)]
pub struct VmSpec {
    /// A name for QEMU's process title (`-name`).
    pub name: String,
    /// The PVH kernel.
    pub vmlinux: PathBuf,
    /// The initramfs.
    pub initrd: PathBuf,
    /// Kernel command line.
    pub append: Vec<String>,
    /// The 9p shares.
    pub shares: Vec<Share>,
    /// Guest memory in MiB.
    pub mem_mib: u32,
    /// vCPUs.
    pub smp: u32,
    /// KVM or TCG.
    pub accel: Accel,
    /// Kill QEMU after this long.
    pub timeout: Duration,
    /// The console log.
    pub console_log: PathBuf,
    /// QEMU's own stderr.
    pub stderr_log: PathBuf,
    /// `-action watchdog=...` for the i6300esb (QEMU's default is `reset`; with
    /// `debug` the guest runs on and QEMU prints `watchdog: timer fired` on stderr).
    pub watchdog_action: Option<&'static str>,
    /// QEMU supports `multidevs=remap` on 9p shares (QEMU 4.2 and later).
    pub multidevs: bool,
}

/// How the VM ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GuestExit {
    /// The guest wrote this rc to the isa-debug-exit port.
    Code(u8),
    /// QEMU exited 0: the guest reset or panicked (a watchdog fired?).
    Reset,
    /// QEMU failed by itself (bad arguments, missing device, killed by a signal).
    QemuFailed(String),
    /// Still running at the time limit: killed.
    TimedOut(Duration),
}

/// A finished VM.
#[derive(Debug)]
pub struct VmRun {
    /// How it ended.
    pub exit: GuestExit,
    /// QEMU start to the guest program's start (the console marker), if it got there.
    pub boot: Option<Duration>,
    /// QEMU start to QEMU exit.
    pub wall: Duration,
}

/// QEMU's version `(major, minor)` from `qemu-system-x86_64 --version`.
pub fn parse_version(out: &str) -> Option<(u32, u32)> {
    let rest = out.split("version ").nth(1)?;
    let mut parts = rest.split(|c: char| !c.is_ascii_digit()).filter(|p| !p.is_empty());
    Some((parts.next()?.parse().ok()?, parts.next()?.parse().ok()?))
}

/// The installed QEMU's version.
pub fn version() -> Result<(u32, u32), String> {
    let out = super::run_tool("qemu-system-x86_64", &["--version"])?;
    parse_version(&out).ok_or_else(|| format!("cannot read QEMU's version from `{}`", out.trim()))
}

/// What an exit status means, given the console output.
pub fn decode_exit(status: ExitStatus, console: &str) -> GuestExit {
    match status.code() {
        None => GuestExit::QemuFailed(format!("QEMU was killed ({status})")),
        Some(0) => GuestExit::Reset,
        Some(1) if !console.contains("hwtest: guest program exited with 0") => {
            GuestExit::QemuFailed("QEMU exited 1 without the guest reporting an exit code".into())
        }
        Some(c) if c % 2 == 1 && (1..=511).contains(&c) => {
            GuestExit::Code(u8::try_from((c - 1) / 2).unwrap_or(0))
        }
        Some(c) => GuestExit::QemuFailed(format!("QEMU exited with {c}")),
    }
}

fn args(spec: &VmSpec) -> Vec<String> {
    let mut a: Vec<String> = Vec::new();
    let mut push = |xs: &[&str]| a.extend(xs.iter().map(|s| (*s).to_owned()));
    push(&["-name", &spec.name, "-machine", "pc"]);
    match spec.accel {
        Accel::Kvm => push(&["-accel", "kvm", "-cpu", "host"]),
        Accel::Tcg => push(&["-accel", "tcg,thread=multi", "-cpu", "max"]),
    }
    push(&["-m", &spec.mem_mib.to_string(), "-smp", &spec.smp.to_string()]);
    push(&["-nodefaults", "-no-user-config", "-no-reboot", "-display", "none", "-serial", "stdio"]);
    push(&["-kernel", &spec.vmlinux.to_string_lossy(), "-initrd", &spec.initrd.to_string_lossy()]);
    push(&["-append", &spec.append.join(" ")]);
    push(&["-device", "isa-debug-exit,iobase=0xf4,iosize=4", "-device", "i6300esb"]);
    if let Some(action) = spec.watchdog_action {
        push(&["-action", &format!("watchdog={action}")]);
    }
    for s in &spec.shares {
        let mut v = format!("local,path={},mount_tag={},security_model=none", s.path.display(), s.tag);
        if s.readonly {
            v.push_str(",readonly=on");
        }
        if spec.multidevs {
            v.push_str(",multidevs=remap");
        }
        push(&["-virtfs", &v]);
    }
    a
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Boot the VM and wait for it to end (or kill it at the time limit).
pub fn run(spec: &VmSpec) -> Result<VmRun, String> {
    for s in &spec.shares {
        // QEMU splits -virtfs options at commas.
        if s.path.to_string_lossy().contains(',') {
            return Err(format!("{}: a 9p share path cannot contain a comma", s.path.display()));
        }
    }
    let console =
        File::create(&spec.console_log).map_err(|e| format!("{}: {e}", spec.console_log.display()))?;
    let stderr = File::create(&spec.stderr_log).map_err(|e| format!("{}: {e}", spec.stderr_log.display()))?;
    let mut cmd = Command::new("qemu-system-x86_64");
    cmd.args(args(spec)).stdin(Stdio::null()).stdout(Stdio::piped()).stderr(stderr);
    crate::process::dies_with_runner(&mut cmd);
    let t0 = Instant::now();
    let mut child = cmd.spawn().map_err(|e| format!("cannot start qemu-system-x86_64: {e}"))?;
    let stdout = child.stdout.take().ok_or("QEMU has no stdout pipe")?;
    let marker: Arc<Mutex<Option<Instant>>> = Arc::default();
    let seen = Arc::clone(&marker);
    let copier = std::thread::spawn(move || copy_console(stdout, console, &seen));
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if t0.elapsed() >= spec.timeout => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("waiting for QEMU: {e}"));
            }
        }
    };
    let wall = t0.elapsed();
    let _ = copier.join();
    let boot = marker.lock().ok().and_then(|m| *m).map(|t| t.duration_since(t0));
    let exit = match status {
        None => GuestExit::TimedOut(spec.timeout),
        Some(s) => decode_exit(s, &fs::read_to_string(&spec.console_log).unwrap_or_default()),
    };
    Ok(VmRun { exit, boot, wall })
}

fn copy_console(stdout: impl io::Read, mut log: File, marker: &Mutex<Option<Instant>>) {
    let mut r = BufReader::new(stdout);
    let mut line = Vec::new();
    loop {
        line.clear();
        match r.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {
                if line.windows(GUEST_START_MARKER.len()).any(|w| w == GUEST_START_MARKER.as_bytes())
                    && let Ok(mut m) = marker.lock()
                {
                    m.get_or_insert_with(Instant::now);
                }
                let _ = log.write_all(&line);
            }
        }
    }
}

/// Whether `/dev/kvm` can be opened for reading and writing.
fn kvm_device_usable() -> bool {
    OpenOptions::new().read(true).write(true).open("/dev/kvm").is_ok()
}

/// KVM if it boots this kernel to `/init` within a few seconds, else TCG. The answer
/// is cached in `cache_file` (keyed by the caller on host and guest kernel releases);
/// `HWTEST_VM_ACCEL=kvm|tcg` overrides both.
pub fn choose_accel(probe: &VmSpec, cache_file: &Path) -> Accel {
    if let Ok(v) = std::env::var("HWTEST_VM_ACCEL") {
        if let Some(a) = Accel::parse(&v) {
            super::log(&format!("accelerator {} (HWTEST_VM_ACCEL)", a.as_str()));
            return a;
        }
        super::log(&format!("ignoring HWTEST_VM_ACCEL={v:?}: not kvm or tcg"));
    }
    if !kvm_device_usable() {
        super::log("accelerator tcg (no usable /dev/kvm)");
        return Accel::Tcg;
    }
    if let Some(a) = fs::read_to_string(cache_file).ok().as_deref().and_then(Accel::parse) {
        super::log(&format!("accelerator {} (probed before: {})", a.as_str(), cache_file.display()));
        return a;
    }
    let mut spec = probe.clone();
    spec.accel = Accel::Kvm;
    let t0 = Instant::now();
    let got = run(&spec);
    let accel = match &got {
        Ok(VmRun { exit: GuestExit::Code(PROBE_RC), .. }) => Accel::Kvm,
        _ => Accel::Tcg,
    };
    let why = match got {
        Ok(r) => format!("{:?}", r.exit),
        Err(e) => e,
    };
    super::log(&format!(
        "KVM probe: {why} after {:.1} s -> accelerator {}",
        t0.elapsed().as_secs_f64(),
        accel.as_str()
    ));
    let _ = fs::write(cache_file, accel.as_str());
    accel
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt as _;

    use super::*;

    fn code(c: i32) -> ExitStatus {
        ExitStatus::from_raw(c << 8)
    }

    #[test]
    fn exit_statuses_decode() {
        let ran = "hwtest: guest program starting\nhwtest: guest program exited with 0\n";
        assert_eq!(decode_exit(code(1), ran), GuestExit::Code(0));
        assert!(matches!(decode_exit(code(1), "qemu: could not open"), GuestExit::QemuFailed(_)));
        assert_eq!(decode_exit(code(3), ""), GuestExit::Code(1));
        assert_eq!(decode_exit(code(85), ""), GuestExit::Code(PROBE_RC));
        assert_eq!(decode_exit(code(0), ""), GuestExit::Reset);
        assert!(matches!(decode_exit(code(2), ""), GuestExit::QemuFailed(_)));
        assert!(matches!(decode_exit(ExitStatus::from_raw(9), ""), GuestExit::QemuFailed(_)));
    }

    #[test]
    fn versions_parse() {
        let v = "QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18+b2)\nCopyright (c) 2003-2022";
        assert_eq!(parse_version(v), Some((7, 2)));
        assert_eq!(parse_version("QEMU emulator version 10.0.0"), Some((10, 0)));
        assert_eq!(parse_version("nonsense"), None);
    }

    #[test]
    fn arguments_carry_the_shares_and_devices() {
        let spec = VmSpec {
            name: "t".into(),
            vmlinux: "/k".into(),
            initrd: "/i".into(),
            append: vec!["console=ttyS0".into(), "A=b".into()],
            shares: vec![Share { tag: "hostroot", path: "/".into(), readonly: true }],
            mem_mib: 1024,
            smp: 2,
            accel: Accel::Tcg,
            timeout: Duration::from_secs(1),
            console_log: "/c".into(),
            stderr_log: "/e".into(),
            watchdog_action: None,
            multidevs: true,
        };
        let a = args(&spec).join(" ");
        assert!(a.contains("-append console=ttyS0 A=b"));
        assert!(a.contains(
            "-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
        ));
        assert!(a.contains("-device isa-debug-exit,iobase=0xf4,iosize=4 -device i6300esb"));
        assert!(a.contains("-accel tcg,thread=multi -cpu max"));
        assert!(!a.contains("-action"));
    }
}
