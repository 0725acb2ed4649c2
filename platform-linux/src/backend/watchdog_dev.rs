//! The host's hardware watchdog through the kernel's watchdog device (`/dev/watchdogN`).
//!
//! Opening the device arms it (the kernel's watchdog core starts the timer on open).
//! [`DeviceWatchdog::open`] then asks the driver who it is (`WDIOC_GETSUPPORT`, logged),
//! sets the configured timeout (`WDIOC_SETTIMEOUT`) and refuses a driver that cannot set
//! it or sets another value than asked: the failover timing assumes a hung host is
//! reset within exactly that time. If opening fails after the device was armed it is
//! disarmed again (magic close), so a configuration problem never turns into a reset
//! loop.
//!
//! - [`Watchdog::kick`]: `WDIOC_KEEPALIVE` (a one-byte write for drivers without
//!   `WDIOF_KEEPALIVEPING`).
//! - [`Watchdog::stop`]: the magic close, `V` written then the device closed: the driver
//!   disarms it. With `nowayout` (module parameter, or `CONFIG_WATCHDOG_NOWAYOUT`) the
//!   kernel ignores that and the host is reset one timeout after the last kick; this is
//!   read from `/sys/class/watchdog/watchdogN/nowayout` and logged at open and at stop.
//! - Dropping a [`DeviceWatchdog`] without `stop` closes the device without `V`: it stays
//!   armed and fires one timeout after the last kick, as it does when `failoverd`
//!   crashes. (A driver without `WDIOF_MAGICCLOSE` stops on any close; that is logged at
//!   open, since it means a crash of `failoverd` disarms it.)
//!
//! A second opener gets `EBUSY`: usually systemd (`RuntimeWatchdogSec=`) or a watchdog
//! daemon already holds the device; the error says so.

use std::fs::{File, OpenOptions};
use std::io::{self, ErrorKind, Write as _};
use std::os::fd::AsRawFd as _;
use std::os::unix::fs::{FileTypeExt as _, MetadataExt as _};
use std::path::{Path, PathBuf};

use nix::errno::Errno;

use super::{BackendError, Watchdog};

/// `WATCHDOG_IOCTL_BASE` of `<linux/watchdog.h>`.
const WATCHDOG_IOCTL_BASE: u8 = b'W';
/// `WDIOC_GETSUPPORT = _IOR('W', 0, struct watchdog_info)`.
const NR_GETSUPPORT: u8 = 0;
/// `WDIOC_GETBOOTSTATUS = _IOR('W', 2, int)`.
const NR_GETBOOTSTATUS: u8 = 2;
/// `WDIOC_KEEPALIVE = _IOR('W', 5, int)`.
const NR_KEEPALIVE: u8 = 5;
/// `WDIOC_SETTIMEOUT = _IOWR('W', 6, int)`.
const NR_SETTIMEOUT: u8 = 6;
/// `WDIOC_GETTIMEOUT = _IOR('W', 7, int)`.
const NR_GETTIMEOUT: u8 = 7;

/// `WDIOF_CARDRESET`: the last reboot was caused by this watchdog.
pub const WDIOF_CARDRESET: u32 = 0x0020;
/// `WDIOF_SETTIMEOUT`: the timeout can be set.
pub const WDIOF_SETTIMEOUT: u32 = 0x0080;
/// `WDIOF_MAGICCLOSE`: writing `V` before close disarms it (otherwise any close does).
pub const WDIOF_MAGICCLOSE: u32 = 0x0100;
/// `WDIOF_KEEPALIVEPING`: `WDIOC_KEEPALIVE` is supported.
pub const WDIOF_KEEPALIVEPING: u32 = 0x8000;

/// The `WDIOF_*` option bits and their names, for the log.
const OPTION_NAMES: [(u32, &str); 12] = [
    (0x0001, "OVERHEAT"),
    (0x0002, "FANFAULT"),
    (0x0004, "EXTERN1"),
    (0x0008, "EXTERN2"),
    (0x0010, "POWERUNDER"),
    (WDIOF_CARDRESET, "CARDRESET"),
    (0x0040, "POWEROVER"),
    (WDIOF_SETTIMEOUT, "SETTIMEOUT"),
    (WDIOF_MAGICCLOSE, "MAGICCLOSE"),
    (0x0200, "PRETIMEOUT"),
    (0x0400, "ALARMONLY"),
    (WDIOF_KEEPALIVEPING, "KEEPALIVEPING"),
];

/// `struct watchdog_info` of `<linux/watchdog.h>`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
struct WatchdogInfo {
    options: u32,
    firmware_version: u32,
    identity: [u8; 32],
}

mod ioctl {
    use super::{
        NR_GETBOOTSTATUS, NR_GETSUPPORT, NR_GETTIMEOUT, NR_KEEPALIVE, NR_SETTIMEOUT, WATCHDOG_IOCTL_BASE,
        WatchdogInfo,
    };

    nix::ioctl_read!(getsupport, WATCHDOG_IOCTL_BASE, NR_GETSUPPORT, WatchdogInfo);
    nix::ioctl_read!(getbootstatus, WATCHDOG_IOCTL_BASE, NR_GETBOOTSTATUS, libc::c_int);
    nix::ioctl_read!(keepalive, WATCHDOG_IOCTL_BASE, NR_KEEPALIVE, libc::c_int);
    nix::ioctl_readwrite!(settimeout, WATCHDOG_IOCTL_BASE, NR_SETTIMEOUT, libc::c_int);
    nix::ioctl_read!(gettimeout, WATCHDOG_IOCTL_BASE, NR_GETTIMEOUT, libc::c_int);
}

/// Why the watchdog device could not be opened, set up or kicked. Every variant names
/// the device.
#[derive(Debug, thiserror::Error)]
pub enum WatchdogError {
    /// The device node does not exist (driver not loaded, wrong path).
    #[error("watchdog {}: no such device (is its driver loaded?)", path.display())]
    NoDevice {
        /// The device.
        path: PathBuf,
    },
    /// Someone else holds the device: the kernel allows one opener.
    #[error(
        "watchdog {}: in use by another process (another failoverd, a watchdog daemon, or systemd's RuntimeWatchdogSec)",
        path.display()
    )]
    Busy {
        /// The device.
        path: PathBuf,
    },
    /// The path is not a character device.
    #[error("watchdog {}: not a character device", path.display())]
    NotADevice {
        /// The path.
        path: PathBuf,
    },
    /// A system call failed.
    #[error("watchdog {}: {what}: {source}", path.display())]
    Os {
        /// The device.
        path: PathBuf,
        /// What was being done.
        what: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The driver has no settable timeout.
    #[error(
        "watchdog {} ({identity}): the driver cannot set a timeout (no WDIOF_SETTIMEOUT); {requested} s is configured",
        path.display()
    )]
    NoSetTimeout {
        /// The device.
        path: PathBuf,
        /// The driver's identity.
        identity: String,
        /// The configured timeout.
        requested: u32,
    },
    /// The driver refused the timeout (out of its range).
    #[error("watchdog {} ({identity}): the driver refuses a {requested} s timeout: {source}", path.display())]
    TimeoutRefused {
        /// The device.
        path: PathBuf,
        /// The driver's identity.
        identity: String,
        /// The configured timeout.
        requested: u32,
        /// The OS error (`EINVAL`).
        #[source]
        source: io::Error,
    },
    /// The driver set another timeout than asked (its granularity or limits).
    #[error(
        "watchdog {} ({identity}): asked for a {requested} s timeout, the driver set {actual} s",
        path.display()
    )]
    TimeoutMismatch {
        /// The device.
        path: PathBuf,
        /// The driver's identity.
        identity: String,
        /// The configured timeout.
        requested: u32,
        /// What the driver reports.
        actual: i64,
    },
}

/// A kernel watchdog device, armed and set to our timeout.
#[derive(Debug)]
pub struct DeviceWatchdog {
    path: PathBuf,
    /// `None` after the magic close.
    file: Option<File>,
    identity: String,
    firmware_version: u32,
    options: u32,
    timeout_s: u32,
    nowayout: Option<bool>,
}

impl DeviceWatchdog {
    /// Open (and so arm) the watchdog at `path` with a timeout of `timeout_s` seconds.
    /// Any failure after the device was armed disarms it again (magic close).
    pub fn open(path: impl AsRef<Path>, timeout_s: u32) -> Result<Self, BackendError> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new().write(true).open(&path).map_err(|e| open_error(&path, e))?;
        // Before anything is written to it: a regular file named by mistake must not
        // get a 'V'.
        let meta = file.metadata().map_err(|source| WatchdogError::Os {
            path: path.clone(),
            what: "fstat",
            source,
        })?;
        if !meta.file_type().is_char_device() {
            return Err(WatchdogError::NotADevice { path }.into());
        }
        match Self::set_up(&path, &file, timeout_s) {
            Ok((info, nowayout)) => {
                let this = Self {
                    identity: identity(&info.identity),
                    firmware_version: info.firmware_version,
                    options: info.options,
                    timeout_s,
                    nowayout,
                    path,
                    file: Some(file),
                };
                tracing::info!(watchdog = %this.describe(), "watchdog armed");
                Ok(this)
            }
            Err(e) => {
                // Opening armed it: disarm, or a configuration problem becomes a reset.
                if let Err(close) = magic_close(file) {
                    tracing::error!(device = %path.display(), error = %close, "could not disarm the watchdog");
                }
                if read_nowayout(&path, meta.rdev()) == Some(true) {
                    tracing::error!(
                        device = %path.display(),
                        "the watchdog has nowayout set: it stays armed and will reset this host"
                    );
                }
                Err(e.into())
            }
        }
    }

    fn set_up(
        path: &Path,
        file: &File,
        timeout_s: u32,
    ) -> Result<(WatchdogInfo, Option<bool>), WatchdogError> {
        let os = |what, e: Errno| WatchdogError::Os { path: path.to_owned(), what, source: e.into() };
        let fd = file.as_raw_fd();
        let mut info = WatchdogInfo { options: 0, firmware_version: 0, identity: [0; 32] };
        // SAFETY: `fd` is open for the duration of the call; `info` is a valid, writable
        // `struct watchdog_info`, the type this request transfers.
        unsafe { ioctl::getsupport(fd, &mut info) }.map_err(|e| {
            os(if e == Errno::ENOTTY { "WDIOC_GETSUPPORT (not a watchdog?)" } else { "WDIOC_GETSUPPORT" }, e)
        })?;
        let name = identity(&info.identity);
        tracing::info!(
            device = %path.display(),
            identity = %name,
            firmware_version = info.firmware_version,
            options = %option_names(info.options).join("|"),
            "watchdog driver"
        );
        let mut boot_status: libc::c_int = 0;
        // SAFETY: as above; the request transfers one `int`.
        if unsafe { ioctl::getbootstatus(fd, &mut boot_status) }.is_ok()
            && (boot_status as u32) & WDIOF_CARDRESET != 0
        {
            tracing::warn!(device = %path.display(), "the last reset of this host was caused by this watchdog");
        }
        if info.options & WDIOF_SETTIMEOUT == 0 {
            return Err(WatchdogError::NoSetTimeout {
                path: path.to_owned(),
                identity: name,
                requested: timeout_s,
            });
        }
        let mut timeout = libc::c_int::try_from(timeout_s).unwrap_or(libc::c_int::MAX);
        // SAFETY: as above; the driver reads the timeout and writes back the one it set.
        match unsafe { ioctl::settimeout(fd, &mut timeout) } {
            Ok(_) => {}
            Err(e) if e == Errno::EINVAL => {
                return Err(WatchdogError::TimeoutRefused {
                    path: path.to_owned(),
                    identity: name,
                    requested: timeout_s,
                    source: e.into(),
                });
            }
            Err(e) => return Err(os("WDIOC_SETTIMEOUT", e)),
        }
        let mismatch = |actual| WatchdogError::TimeoutMismatch {
            path: path.to_owned(),
            identity: name.clone(),
            requested: timeout_s,
            actual,
        };
        if i64::from(timeout) != i64::from(timeout_s) {
            return Err(mismatch(i64::from(timeout)));
        }
        // Confirm with the getter where there is one (not every driver has it).
        let mut now: libc::c_int = 0;
        // SAFETY: as above; the request transfers one `int`.
        if unsafe { ioctl::gettimeout(fd, &mut now) }.is_ok() && i64::from(now) != i64::from(timeout_s) {
            return Err(mismatch(i64::from(now)));
        }
        let nowayout = file.metadata().ok().and_then(|m| read_nowayout(path, m.rdev()));
        if info.options & WDIOF_MAGICCLOSE == 0 {
            tracing::warn!(
                device = %path.display(),
                "the driver has no magic close: any close disarms it, so a crash of failoverd does too (set nowayout to prevent that)"
            );
        }
        if nowayout == Some(true) {
            tracing::warn!(
                device = %path.display(),
                "nowayout is set: a clean stop cannot disarm the watchdog; the host resets one timeout after the last kick"
            );
        }
        Ok((info, nowayout))
    }

    /// The driver's identity (`WDIOC_GETSUPPORT`).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The driver's `WDIOF_*` options.
    pub fn options(&self) -> u32 {
        self.options
    }

    /// The timeout in force, in seconds.
    pub fn timeout_s(&self) -> u32 {
        self.timeout_s
    }

    /// Whether the kernel ignores the magic close (`None`: not known, no sysfs entry).
    pub fn nowayout(&self) -> Option<bool> {
        self.nowayout
    }

    fn device(&self) -> String {
        self.path.display().to_string()
    }
}

impl Watchdog for DeviceWatchdog {
    fn kick(&mut self) -> Result<(), BackendError> {
        let Some(file) = &self.file else {
            return Err(BackendError::WatchdogStopped { device: self.device() });
        };
        let os = |what, source| WatchdogError::Os { path: self.path.clone(), what, source };
        if self.options & WDIOF_KEEPALIVEPING != 0 {
            let mut unused: libc::c_int = 0;
            // SAFETY: the fd is open while `self.file` holds it; the request transfers
            // one `int` (which the kernel ignores).
            unsafe { ioctl::keepalive(file.as_raw_fd(), &mut unused) }
                .map_err(|e| os("WDIOC_KEEPALIVE", e.into()))?;
        } else {
            // Any write but 'V' is a kick.
            let mut f: &File = file;
            f.write_all(b"\0").map_err(|e| os("write (kick)", e))?;
        }
        Ok(())
    }

    /// The magic close. On a write error the device is kept (still armed), so the
    /// caller may go on kicking.
    fn stop(&mut self) -> Result<(), BackendError> {
        let Some(file) = self.file.take() else { return Ok(()) };
        let mut f: &File = &file;
        if let Err(source) = f.write_all(b"V") {
            self.file = Some(file);
            return Err(
                WatchdogError::Os { path: self.path.clone(), what: "write (magic close)", source }.into()
            );
        }
        drop(file);
        if self.nowayout == Some(true) {
            tracing::warn!(
                device = %self.path.display(),
                timeout_s = self.timeout_s,
                "watchdog closed, but nowayout keeps it armed: the host resets one timeout after the last kick"
            );
        } else {
            tracing::info!(device = %self.path.display(), "watchdog stopped (magic close)");
        }
        Ok(())
    }

    fn describe(&self) -> String {
        let mut s = format!(
            "watchdog device {} ({}, firmware {}), timeout {} s",
            self.path.display(),
            self.identity,
            self.firmware_version,
            self.timeout_s
        );
        if self.nowayout == Some(true) {
            s.push_str(", nowayout");
        }
        if self.options & WDIOF_MAGICCLOSE == 0 {
            s.push_str(", no magic close");
        }
        if self.file.is_none() {
            s.push_str(", stopped");
        }
        s
    }
}

impl Drop for DeviceWatchdog {
    fn drop(&mut self) {
        if self.file.is_some() {
            tracing::warn!(
                device = %self.path.display(),
                timeout_s = self.timeout_s,
                "watchdog closed without stop: it stays armed and resets the host one timeout after the last kick"
            );
        }
    }
}

fn open_error(path: &Path, e: io::Error) -> BackendError {
    let path = path.to_owned();
    match (e.kind(), e.raw_os_error()) {
        (ErrorKind::NotFound, _) => WatchdogError::NoDevice { path },
        (_, Some(libc::ENXIO | libc::ENODEV)) => WatchdogError::NoDevice { path },
        (_, Some(libc::EBUSY)) => WatchdogError::Busy { path },
        _ => WatchdogError::Os { path, what: "open", source: e },
    }
    .into()
}

/// Write the magic character and close.
fn magic_close(file: File) -> io::Result<()> {
    let mut f: &File = &file;
    f.write_all(b"V")
}

/// The identity field: NUL-terminated (or not, when it fills all 32 bytes), and not
/// always UTF-8.
fn identity(raw: &[u8; 32]) -> String {
    let len = raw.iter().position(|&b| b == 0).unwrap_or(raw.len());
    String::from_utf8_lossy(&raw[..len]).trim().to_owned()
}

/// The names of the `WDIOF_*` bits set in `options` (unknown bits as hex).
fn option_names(options: u32) -> Vec<String> {
    let mut names: Vec<String> =
        OPTION_NAMES.iter().filter(|(bit, _)| options & bit != 0).map(|(_, n)| (*n).to_owned()).collect();
    let known = OPTION_NAMES.iter().fold(0, |acc, (bit, _)| acc | bit);
    if options & !known != 0 {
        names.push(format!("{:#x}", options & !known));
    }
    names
}

/// Where the `nowayout` attribute of the device may be: the device's own sysfs node
/// (`/sys/dev/char/MAJ:MIN`, for `/dev/watchdogN`), then `/sys/class/watchdog/<name>`
/// (the legacy `/dev/watchdog` is a misc device aliasing `watchdog0`).
fn nowayout_candidates(path: &Path, rdev: u64) -> Vec<PathBuf> {
    let mut out = Vec::with_capacity(2);
    if rdev != 0 {
        let (major, minor) = (nix::sys::stat::major(rdev), nix::sys::stat::minor(rdev));
        out.push(PathBuf::from(format!("/sys/dev/char/{major}:{minor}/nowayout")));
    }
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let class = match name {
        "watchdog" => Some("watchdog0".to_owned()),
        n if n
            .strip_prefix("watchdog")
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit())) =>
        {
            Some(n.to_owned())
        }
        _ => None,
    };
    if let Some(class) = class {
        out.push(PathBuf::from(format!("/sys/class/watchdog/{class}/nowayout")));
    }
    out
}

fn parse_nowayout(text: &str) -> Option<bool> {
    match text.trim() {
        "0" => Some(false),
        "1" => Some(true),
        _ => None,
    }
}

fn read_nowayout(path: &Path, rdev: u64) -> Option<bool> {
    nowayout_candidates(path, rdev)
        .iter()
        .find_map(|p| std::fs::read_to_string(p).ok().and_then(|t| parse_nowayout(&t)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The request numbers the macros build, against `<linux/watchdog.h>` as compiled
    /// for the asm-generic ioctl layout (x86, arm, riscv).
    #[test]
    #[cfg(any(
        target_arch = "x86_64",
        target_arch = "x86",
        target_arch = "aarch64",
        target_arch = "arm",
        target_arch = "riscv64"
    ))]
    fn ioctl_numbers_match_linux_watchdog_h() {
        use std::mem::size_of;
        assert_eq!(size_of::<WatchdogInfo>(), 40);
        let int = size_of::<libc::c_int>();
        let code = |c: nix::sys::ioctl::ioctl_num_type| c as u32;
        assert_eq!(
            code(nix::request_code_read!(WATCHDOG_IOCTL_BASE, NR_GETSUPPORT, size_of::<WatchdogInfo>())),
            0x8028_5700
        );
        assert_eq!(code(nix::request_code_read!(WATCHDOG_IOCTL_BASE, NR_GETBOOTSTATUS, int)), 0x8004_5702);
        assert_eq!(code(nix::request_code_read!(WATCHDOG_IOCTL_BASE, NR_KEEPALIVE, int)), 0x8004_5705);
        assert_eq!(code(nix::request_code_readwrite!(WATCHDOG_IOCTL_BASE, NR_SETTIMEOUT, int)), 0xC004_5706);
        assert_eq!(code(nix::request_code_read!(WATCHDOG_IOCTL_BASE, NR_GETTIMEOUT, int)), 0x8004_5707);
    }

    #[test]
    fn option_bits_match_linux_watchdog_h() {
        assert_eq!(
            (WDIOF_CARDRESET, WDIOF_SETTIMEOUT, WDIOF_MAGICCLOSE, WDIOF_KEEPALIVEPING),
            (0x0020, 0x0080, 0x0100, 0x8000)
        );
        // softdog's set, as HIL-LINUX.md records it.
        assert_eq!(
            option_names(WDIOF_SETTIMEOUT | WDIOF_MAGICCLOSE | WDIOF_KEEPALIVEPING),
            ["SETTIMEOUT", "MAGICCLOSE", "KEEPALIVEPING"]
        );
        assert_eq!(option_names(0x0001 | 0x1_0000), ["OVERHEAT", "0x10000"]);
        assert!(option_names(0).is_empty());
    }

    #[test]
    fn identity_stops_at_nul_and_survives_junk() {
        let mut raw = [0u8; 32];
        raw[..17].copy_from_slice(b"Software Watchdog");
        assert_eq!(identity(&raw), "Software Watchdog");
        assert_eq!(identity(&[b'x'; 32]), "x".repeat(32));
        raw[0] = 0xFF;
        assert_eq!(identity(&raw), "\u{FFFD}oftware Watchdog");
        assert_eq!(identity(&[0; 32]), "");
    }

    #[test]
    fn nowayout_is_looked_up_by_device_number_then_by_name() {
        let rdev = nix::sys::stat::makedev(248, 0);
        assert_eq!(
            nowayout_candidates(Path::new("/dev/watchdog0"), rdev),
            [PathBuf::from("/sys/dev/char/248:0/nowayout"), "/sys/class/watchdog/watchdog0/nowayout".into()]
        );
        assert_eq!(
            nowayout_candidates(Path::new("/dev/watchdog"), nix::sys::stat::makedev(10, 130)),
            [PathBuf::from("/sys/dev/char/10:130/nowayout"), "/sys/class/watchdog/watchdog0/nowayout".into()]
        );
        assert_eq!(
            nowayout_candidates(Path::new("/dev/watchdog12"), 0),
            [PathBuf::from("/sys/class/watchdog/watchdog12/nowayout")]
        );
        assert!(nowayout_candidates(Path::new("/dev/wdt"), 0).is_empty());
        assert!(nowayout_candidates(Path::new("/dev/watchdogx"), 0).is_empty());
        assert_eq!(parse_nowayout("1\n"), Some(true));
        assert_eq!(parse_nowayout("0"), Some(false));
        assert_eq!(parse_nowayout("yes"), None);
    }

    #[test]
    fn a_missing_device_says_so() {
        let e = DeviceWatchdog::open("/nonexistent/watchdog7", 10).unwrap_err();
        assert!(
            matches!(&e, BackendError::WatchdogDevice(WatchdogError::NoDevice { path }) if path == Path::new("/nonexistent/watchdog7"))
        );
        assert_eq!(e.to_string(), "watchdog /nonexistent/watchdog7: no such device (is its driver loaded?)");
    }

    #[test]
    fn a_regular_file_is_refused_and_left_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("watchdog0");
        std::fs::write(&path, b"data").unwrap();
        let e = DeviceWatchdog::open(&path, 10).unwrap_err();
        assert!(matches!(e, BackendError::WatchdogDevice(WatchdogError::NotADevice { .. })), "{e}");
        assert_eq!(std::fs::read(&path).unwrap(), b"data");
    }

    #[test]
    fn a_character_device_that_is_no_watchdog_is_refused() {
        let e = DeviceWatchdog::open("/dev/null", 10).unwrap_err();
        match &e {
            BackendError::WatchdogDevice(WatchdogError::Os { what, .. }) => {
                assert_eq!(*what, "WDIOC_GETSUPPORT (not a watchdog?)");
            }
            other => panic!("{other}"),
        }
        assert!(e.to_string().starts_with("watchdog /dev/null: WDIOC_GETSUPPORT"), "{e}");
    }

    #[test]
    fn busy_and_refused_timeouts_read_well() {
        let e = open_error(Path::new("/dev/watchdog0"), io::Error::from_raw_os_error(libc::EBUSY));
        assert!(e.to_string().contains("in use by another process"), "{e}");
        let e = open_error(Path::new("/dev/watchdog0"), io::Error::from_raw_os_error(libc::EACCES));
        assert!(e.to_string().starts_with("watchdog /dev/watchdog0: open: "), "{e}");
        let e = WatchdogError::TimeoutMismatch {
            path: "/dev/watchdog0".into(),
            identity: "iTCO_wdt".into(),
            requested: 10,
            actual: 12,
        };
        assert_eq!(
            e.to_string(),
            "watchdog /dev/watchdog0 (iTCO_wdt): asked for a 10 s timeout, the driver set 12 s"
        );
    }
}
