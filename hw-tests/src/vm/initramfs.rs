//! The initramfs: a static busybox, the modules that reach the host's root file
//! system over 9p (and configfs, which the guest mounts before the rig), and `/init`
//! ([`INIT_SH`], embedded in this binary).
//!
//! ```text
//! /init            guest/init.sh
//! /bin/busybox     the host's busybox-static (/bin/sh -> busybox)
//! /mods/order      module file names, in load order
//! /mods/*.ko       from `modprobe -S <kver> --show-depends`, deduplicated, in order
//! /dev/console     so /init has a console before devtmpfs is mounted
//! /host            where /init mounts the host's / (read-only, 9p `hostroot`)
//! ```

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::cpio::CpioWriter;
use super::packages::HostKernel;

/// The guest's `/init`.
pub const INIT_SH: &str = include_str!("guest/init.sh");

/// What `/init` loads, in this order, before it mounts anything over 9p.
pub const BOOT_MODULES: &[&str] = &["virtio_pci", "9pnet_virtio", "9p", "configfs"];

/// The line `/init` prints on the console right before it starts the guest program;
/// the host times the boot to it.
pub const GUEST_START_MARKER: &str = "hwtest: guest program starting";

/// The module files in a `modprobe --show-depends` output, first occurrence only, in
/// order (`builtin` lines name modules built into the kernel: nothing to load).
pub fn parse_show_depends(out: &str) -> Result<Vec<PathBuf>, String> {
    let mut files: Vec<PathBuf> = Vec::new();
    for line in out.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let mut words = line.split_whitespace();
        match words.next() {
            Some("insmod") => {
                let path =
                    PathBuf::from(words.next().ok_or_else(|| format!("`{line}`: insmod without a file"))?);
                if !files.contains(&path) {
                    files.push(path);
                }
            }
            Some("builtin") => {}
            _ => return Err(format!("unexpected line in modprobe --show-depends output: `{line}`")),
        }
    }
    Ok(files)
}

/// The module files that load `modules` on kernel `kver`, dependencies first.
pub fn module_chain(kver: &str, modules: &[&str]) -> Result<Vec<PathBuf>, String> {
    let mut chain = Vec::new();
    for m in modules {
        let out = Command::new("modprobe")
            .args(["-S", kver, "--show-depends", m])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run modprobe: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`modprobe -S {kver} --show-depends {m}` failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        for f in parse_show_depends(&String::from_utf8_lossy(&out.stdout))? {
            if !chain.contains(&f) {
                chain.push(f);
            }
        }
    }
    Ok(chain)
}

/// A module's bytes, uncompressed (busybox insmod takes plain `.ko` only), and the
/// plain file name.
fn module_bytes(path: &Path) -> Result<(String, Vec<u8>), String> {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if let Some(stem) = name.strip_suffix(".xz") {
        let out = Command::new("xz")
            .arg("-dc")
            .arg(path)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run xz: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "xz -dc {}: {}",
                path.display(),
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        return Ok((stem.to_owned(), out.stdout));
    }
    if !name.ends_with(".ko") {
        return Err(format!("{}: only .ko and .ko.xz modules are supported", path.display()));
    }
    Ok((name, fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?))
}

/// Write the initramfs for `host`'s kernel to `out`; its size in bytes.
pub fn build(host: &HostKernel, out: &Path) -> Result<u64, String> {
    let mods = module_chain(&host.kver, BOOT_MODULES)?;
    let busybox = fs::read(&host.busybox).map_err(|e| format!("{}: {e}", host.busybox.display()))?;
    let tmp = out.with_extension("tmp");
    let file = fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let io = |e: std::io::Error| format!("writing {}: {e}", tmp.display());
    let mut w = CpioWriter::new(std::io::BufWriter::new(file));
    for d in ["bin", "dev", "proc", "sys", "mods", "host", "tmp"] {
        w.dir(d, 0o755).map_err(io)?;
    }
    w.char_dev("dev/console", 0o600, 5, 1).map_err(io)?;
    w.file("bin/busybox", 0o755, &busybox).map_err(io)?;
    w.symlink("bin/sh", "busybox").map_err(io)?;
    let mut order = String::new();
    for m in &mods {
        let (name, bytes) = module_bytes(m)?;
        w.file(&format!("mods/{name}"), 0o644, &bytes).map_err(io)?;
        order.push_str(&name);
        order.push('\n');
    }
    w.file("mods/order", 0o644, order.as_bytes()).map_err(io)?;
    w.file("init", 0o755, INIT_SH.as_bytes()).map_err(io)?;
    w.finish().map_err(io)?;
    fs::rename(&tmp, out).map_err(|e| format!("rename {} -> {}: {e}", tmp.display(), out.display()))?;
    fs::metadata(out).map(|m| m.len()).map_err(|e| format!("{}: {e}", out.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_depends_is_deduplicated_in_order() {
        let out = "insmod /lib/modules/k/kernel/drivers/virtio/virtio.ko \n\
                   insmod /lib/modules/k/kernel/drivers/virtio/virtio_ring.ko \n\
                   builtin crc32c\n\
                   insmod /lib/modules/k/kernel/drivers/virtio/virtio.ko \n\
                   insmod /lib/modules/k/kernel/drivers/watchdog/softdog.ko soft_noboot=1\n";
        let got = parse_show_depends(out).unwrap();
        let names: Vec<String> =
            got.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
        assert_eq!(names, ["virtio.ko", "virtio_ring.ko", "softdog.ko"]);
    }

    #[test]
    fn show_depends_rejects_what_it_does_not_know() {
        assert!(parse_show_depends("modprobe: FATAL: Module x not found").is_err());
        assert!(parse_show_depends("insmod").is_err());
        assert_eq!(parse_show_depends("\n").unwrap(), Vec::<PathBuf>::new());
    }

    #[test]
    fn init_prints_the_marker_the_host_waits_for() {
        assert!(INIT_SH.contains(GUEST_START_MARKER));
        assert!(INIT_SH.starts_with("#!/bin/sh\n"));
    }
}
