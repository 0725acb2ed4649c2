//! The Debian packages the VM suite needs on the host, installed when missing, and the
//! guest kernel they provide.
//!
//! The guest runs Debian 12's own 6.1 kernel (`linux-image-amd64`) with the host's root
//! file system shared read-only, so every tool the guest uses (sg3-utils, i2c-tools,
//! gpiod, iproute2, kmod) is the host's: they are all installed here.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{find_tool, log};

/// The packages, with what each is for.
pub const PACKAGES: &[(&str, &str)] = &[
    ("qemu-system-x86", "the VM"),
    ("linux-image-amd64", "the guest kernel and its modules"),
    ("linux-headers-amd64", "building gpio-sim for the guest kernel"),
    ("linux-source-6.1", "gpio-sim.c and irq_sim.c"),
    ("busybox-static", "the initramfs shell, ping in the guest"),
    ("kmod", "modprobe (module order for the initramfs, loading in the guest)"),
    ("xz-utils", "unpacking the kernel image and the kernel source"),
    ("make", "building gpio-sim"),
    ("gcc", "building gpio-sim"),
    ("sg3-utils", "sg_inq, sg_persist in the guest"),
    ("i2c-tools", "i2cget, i2cset in the guest"),
    ("gpiod", "gpioset, gpiofind in the guest"),
    ("iproute2", "ip netns, veth in the guest"),
];

/// Tools that must be on the host (and so in the guest) once the packages are in:
/// (name, package).
const TOOLS: &[(&str, &str)] = &[
    ("qemu-system-x86_64", "qemu-system-x86"),
    ("busybox", "busybox-static"),
    ("modprobe", "kmod"),
    ("xz", "xz-utils"),
    ("make", "make"),
    ("gcc", "gcc"),
    ("sg_persist", "sg3-utils"),
    ("sg_inq", "sg3-utils"),
    ("i2cget", "i2c-tools"),
    ("gpioset", "gpiod"),
    ("ip", "iproute2"),
];

/// The kernel source tarball of `linux-source-6.1`.
pub const LINUX_SOURCE: &str = "/usr/src/linux-source-6.1.tar.xz";

/// What the host provides for the guest.
#[derive(Clone, Debug)]
pub struct HostKernel {
    /// The kernel release, such as `6.1.0-48-amd64`.
    pub kver: String,
    /// `/boot/vmlinuz-<kver>`.
    pub vmlinuz: PathBuf,
    /// `/usr/src/linux-headers-<kver>`.
    pub headers: PathBuf,
    /// The static busybox.
    pub busybox: PathBuf,
}

/// Which of `wanted` are not installed, from the output of
/// `dpkg-query -W -f '${Package}\t${db:Status-Abbrev}\n' <wanted...>` (packages dpkg
/// never heard of are simply absent from it).
pub fn missing_from_dpkg_query(out: &str, wanted: &[&str]) -> Vec<String> {
    let installed: Vec<&str> = out
        .lines()
        .filter_map(|l| {
            let (name, status) = l.split_once('\t')?;
            let name = name.split(':').next().unwrap_or(name);
            status.starts_with("ii").then_some(name)
        })
        .collect();
    wanted.iter().filter(|w| !installed.contains(w)).map(|w| (*w).to_owned()).collect()
}

fn missing(wanted: &[&str]) -> Result<Vec<String>, String> {
    let out = Command::new("dpkg-query")
        .args(["-W", "-f", "${Package}\t${db:Status-Abbrev}\n"])
        .args(wanted)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run dpkg-query ({e}): the vm suite needs a Debian 12 host"))?;
    // Exit status 1 only means some package is unknown: read stdout either way.
    Ok(missing_from_dpkg_query(&String::from_utf8_lossy(&out.stdout), wanted))
}

fn apt_get(args: &[&str]) -> Result<(), String> {
    let out = Command::new("apt-get")
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        let tail = |b: &[u8]| {
            let s = String::from_utf8_lossy(b);
            let lines: Vec<&str> = s.lines().collect();
            lines[lines.len().saturating_sub(15)..].join("\n")
        };
        Err(format!(
            "`apt-get {}` failed ({}):\n{}\n{}",
            args.join(" "),
            out.status,
            tail(&out.stdout),
            tail(&out.stderr)
        ))
    }
}

/// The first of `candidates` that exists, installing `package` first when none does.
pub fn find_or_install(candidates: &[&str], package: &str) -> Result<PathBuf, String> {
    let find = || candidates.iter().map(PathBuf::from).find(|p| p.is_file());
    if let Some(p) = find() {
        return Ok(p);
    }
    install_missing(&[package])?;
    find().ok_or_else(|| format!("none of {candidates:?} exists after installing {package}"))
}

/// Install the packages of `wanted` that are missing (root only).
pub fn install_missing(wanted: &[&str]) -> Result<(), String> {
    let missing = missing(wanted)?;
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.join(" ");
    if !nix::unistd::geteuid().is_root() {
        return Err(format!(
            "missing Debian packages: {list}; run as root (the suite installs them) or \
             `apt-get install --no-install-recommends {list}`"
        ));
    }
    log(&format!("installing missing Debian packages: {list} (apt-get install -y --no-install-recommends)"));
    // A fresh machine may have no package lists yet; a failed update (offline mirror)
    // is not fatal by itself: the install says what is really wrong.
    if let Err(e) = apt_get(&["update", "-q"]) {
        log(&format!("apt-get update failed, trying the install anyway: {e}"));
    }
    let mut args = vec!["install", "-y", "-q", "--no-install-recommends"];
    args.extend(missing.iter().map(String::as_str));
    apt_get(&args)?;
    let still = self::missing(wanted)?;
    if still.is_empty() {
        Ok(())
    } else {
        Err(format!("still not installed after apt-get: {}", still.join(" ")))
    }
}

/// The numeric parts of a kernel release, for ordering (`6.1.0-48-amd64` -> 6,1,0,48).
pub fn kver_key(kver: &str) -> Vec<u64> {
    kver.split(['.', '-']).map_while(|p| p.parse().ok()).collect()
}

/// The newest `6.1` release among `/boot/vmlinuz-*` file names.
pub fn newest_61<'a>(names: impl IntoIterator<Item = &'a str>) -> Option<String> {
    names
        .into_iter()
        .filter_map(|n| n.strip_prefix("vmlinuz-"))
        .filter(|k| k.starts_with("6.1.") && kver_key(k).len() >= 3)
        .max_by_key(|k| kver_key(k))
        .map(str::to_owned)
}

fn pick_kernel() -> Result<String, String> {
    let names: Vec<String> = std::fs::read_dir("/boot")
        .map_err(|e| format!("/boot: {e}"))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.strip_prefix("vmlinuz-")
                .is_some_and(|k| Path::new("/lib/modules").join(k).join("modules.dep").is_file())
        })
        .collect();
    newest_61(names.iter().map(String::as_str)).ok_or_else(|| {
        "no /boot/vmlinuz-6.1.* with modules in /lib/modules/<release>: linux-image-amd64 \
         did not provide a Debian 12 kernel"
            .to_owned()
    })
}

/// Make sure everything is installed; the guest kernel to use.
pub fn ensure() -> Result<HostKernel, String> {
    let wanted: Vec<&str> = PACKAGES.iter().map(|p| p.0).collect();
    install_missing(&wanted)?;
    let kver = pick_kernel()?;
    let headers = PathBuf::from(format!("/usr/src/linux-headers-{kver}"));
    if !headers.join("Makefile").is_file() {
        // linux-headers-amd64 may follow a different kernel than the newest image.
        install_missing(&[&format!("linux-headers-{kver}")])?;
        if !headers.join("Makefile").is_file() {
            return Err(format!(
                "{}/Makefile missing after installing linux-headers-{kver}",
                headers.display()
            ));
        }
    }
    for (tool, package) in TOOLS {
        find_tool(tool).map_err(|e| format!("{e} (package {package})"))?;
    }
    if !Path::new(LINUX_SOURCE).is_file() {
        return Err(format!("{LINUX_SOURCE} missing (package linux-source-6.1)"));
    }
    let busybox = find_tool("busybox")?;
    let image = std::fs::read(&busybox).map_err(|e| format!("{}: {e}", busybox.display()))?;
    if !super::elf::is_static(&image).map_err(|e| format!("{}: {e}", busybox.display()))? {
        return Err(format!(
            "{} is dynamically linked: the initramfs needs busybox-static, not busybox",
            busybox.display()
        ));
    }
    Ok(HostKernel { vmlinuz: PathBuf::from(format!("/boot/vmlinuz-{kver}")), kver, headers, busybox })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_query_output_gives_the_missing_ones() {
        let out = "qemu-system-x86\tii \nkmod\tun \ngpiod:amd64\tii \nmake\trc \n";
        let wanted = ["qemu-system-x86", "kmod", "gpiod", "make", "never-heard-of"];
        assert_eq!(missing_from_dpkg_query(out, &wanted), ["kmod", "make", "never-heard-of"]);
        assert_eq!(missing_from_dpkg_query("", &["a"]), ["a"]);
    }

    #[test]
    fn newest_61_orders_numerically() {
        let names =
            ["vmlinuz-6.1.0-9-amd64", "vmlinuz-6.1.0-48-amd64", "vmlinuz-6.12.0-1-amd64", "config-6.1.0-50"];
        assert_eq!(newest_61(names).as_deref(), Some("6.1.0-48-amd64"));
        assert_eq!(newest_61(["vmlinuz-5.10.0-1-amd64", "initrd.img"]), None);
        assert_eq!(kver_key("6.1.0-48-amd64"), [6, 1, 0, 48]);
    }
}
