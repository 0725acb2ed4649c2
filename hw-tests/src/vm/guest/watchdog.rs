//! Kernel watchdog devices (`/dev/watchdogN`): which driver each is, and opening one.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// `_IOR('W', 0, struct watchdog_info)` (40 bytes).
const WDIOC_GETSUPPORT: libc::c_ulong = 0x8028_5700;
/// `_IOWR('W', 6, int)`.
const WDIOC_SETTIMEOUT: libc::c_ulong = 0xc004_5706;
/// `_IOR('W', 7, int)`.
const WDIOC_GETTIMEOUT: libc::c_ulong = 0x8004_5707;

/// `struct watchdog_info`.
#[repr(C)]
struct WatchdogInfo {
    options: u32,
    firmware_version: u32,
    identity: [u8; 32],
}

/// The `/dev/watchdogN` devices with their identity (`/sys/class/watchdog/*/identity`).
pub fn list() -> Result<Vec<(PathBuf, String)>, String> {
    let class = Path::new("/sys/class/watchdog");
    let mut out = Vec::new();
    for e in fs::read_dir(class).map_err(|e| format!("{}: {e}", class.display()))? {
        let e = e.map_err(|e| format!("{}: {e}", class.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let id_path = e.path().join("identity");
        let identity = fs::read_to_string(&id_path).map_err(|e| format!("{}: {e}", id_path.display()))?;
        out.push((Path::new("/dev").join(&name), identity.trim().to_owned()));
    }
    out.sort();
    Ok(out)
}

/// The device whose identity contains `needle`.
pub fn find(needle: &str) -> Result<PathBuf, String> {
    let all = list()?;
    all.iter().find(|(_, id)| id.contains(needle)).map(|(p, _)| p.clone()).ok_or_else(|| {
        format!(
            "no watchdog with identity containing {needle:?}; present: {}",
            if all.is_empty() { "none".into() } else { format!("{all:?}") }
        )
    })
}

/// An open watchdog. It runs from the open on; dropping it stops it with the magic
/// close (`V`), [`Watchdog::abandon`] closes without, so it fires.
#[derive(Debug)]
pub struct Watchdog {
    file: Option<File>,
    path: PathBuf,
}

impl Watchdog {
    /// Open (and so start) it.
    pub fn open(path: &Path) -> Result<Self, String> {
        let file =
            OpenOptions::new().write(true).open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
        Ok(Self { file: Some(file), path: path.to_owned() })
    }

    fn fd(&self) -> Result<i32, String> {
        self.file.as_ref().map(AsRawFd::as_raw_fd).ok_or_else(|| format!("{} is closed", self.path.display()))
    }

    /// `WDIOC_GETSUPPORT`: the driver's identity.
    pub fn identity(&self) -> Result<String, String> {
        let mut info = WatchdogInfo { options: 0, firmware_version: 0, identity: [0; 32] };
        // SAFETY: a valid fd and a pointer to a struct of the size the ioctl writes.
        let rc = unsafe { libc::ioctl(self.fd()?, WDIOC_GETSUPPORT, &raw mut info) };
        if rc < 0 {
            return Err(format!(
                "{}: WDIOC_GETSUPPORT: {}",
                self.path.display(),
                std::io::Error::last_os_error()
            ));
        }
        let end = info.identity.iter().position(|&b| b == 0).unwrap_or(info.identity.len());
        Ok(String::from_utf8_lossy(&info.identity[..end]).into_owned())
    }

    /// `WDIOC_SETTIMEOUT`; the timeout the driver settled on.
    pub fn set_timeout(&self, seconds: i32) -> Result<i32, String> {
        let mut t = seconds;
        // SAFETY: a valid fd and a pointer to an int.
        let rc = unsafe { libc::ioctl(self.fd()?, WDIOC_SETTIMEOUT, &raw mut t) };
        if rc < 0 {
            return Err(format!(
                "{}: WDIOC_SETTIMEOUT({seconds}): {}",
                self.path.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(t)
    }

    /// `WDIOC_GETTIMEOUT`.
    pub fn timeout(&self) -> Result<i32, String> {
        let mut t = 0i32;
        // SAFETY: a valid fd and a pointer to an int.
        let rc = unsafe { libc::ioctl(self.fd()?, WDIOC_GETTIMEOUT, &raw mut t) };
        if rc < 0 {
            return Err(format!(
                "{}: WDIOC_GETTIMEOUT: {}",
                self.path.display(),
                std::io::Error::last_os_error()
            ));
        }
        Ok(t)
    }

    /// Kick it (any write does).
    pub fn kick(&mut self) -> Result<(), String> {
        let path = self.path.display().to_string();
        let f = self.file.as_mut().ok_or_else(|| format!("{path} is closed"))?;
        f.write_all(b"k").map_err(|e| format!("kick {path}: {e}"))
    }

    /// Stop it: magic close.
    pub fn stop(mut self) -> Result<(), String> {
        self.magic_close()
    }

    fn magic_close(&mut self) -> Result<(), String> {
        match self.file.take() {
            Some(mut f) => {
                f.write_all(b"V").map_err(|e| format!("magic close of {}: {e}", self.path.display()))
            }
            None => Ok(()),
        }
    }

    /// Close without the magic character: it fires at the last kick plus its timeout.
    pub fn abandon(mut self) {
        drop(self.file.take());
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        if let Err(e) = self.magic_close() {
            eprintln!("{e}");
        }
    }
}
