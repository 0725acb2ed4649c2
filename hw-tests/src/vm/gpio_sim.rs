//! gpio-sim for the guest kernel, built out of tree on the host.
//!
//! Debian's 6.1 kernel has the GPIO character device but no gpio-sim (and no
//! gpio-mockup or gpio-virtio). `drivers/gpio/gpio-sim.c` builds against the headers
//! package together with `kernel/irq/irq_sim.c` (which the kernel does not build:
//! `CONFIG_IRQ_SIM` is off), linked into one module `gpio-sim.ko`, with one change to
//! `irq_sim.c`: it calls `handle_simple_irq(irq_to_desc(n))`, and `irq_to_desc` is not
//! exported to modules, so it calls the exported `generic_handle_irq(n)` instead
//! (same effect: the descriptor's handler is `handle_simple_irq`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::log;
use super::packages::{HostKernel, LINUX_SOURCE};

/// Sources taken from the kernel tarball: (path in the tarball under its top
/// directory, file name in the build directory).
const SOURCES: &[(&str, &str)] = &[
    ("drivers/gpio/gpio-sim.c", "gpio_sim_main.c"),
    ("drivers/gpio/gpiolib.h", "gpiolib.h"),
    ("kernel/irq/irq_sim.c", "irq_sim.c"),
];

/// The call `irq_sim.c` makes that a module cannot, and its replacement.
const IRQ_SIM_FROM: &str = "handle_simple_irq(irq_to_desc(irqnum));";
const IRQ_SIM_TO: &str = "generic_handle_irq(irqnum);";

/// The module (the output file is `gpio-sim.ko`, its module name `gpio_sim`).
const KBUILD: &str = "obj-m := gpio-sim.o\ngpio-sim-y := gpio_sim_main.o irq_sim.o\n";

/// Bump when the recipe changes, to rebuild cached modules.
const RECIPE: &str = "gpio-sim recipe 1";

/// Apply the one change to `irq_sim.c`.
pub fn patch_irq_sim(src: &str) -> Result<String, String> {
    match src.matches(IRQ_SIM_FROM).count() {
        1 => Ok(src.replace(IRQ_SIM_FROM, IRQ_SIM_TO)),
        n => Err(format!(
            "kernel/irq/irq_sim.c: expected exactly one `{IRQ_SIM_FROM}` to replace, found {n} \
             (a different kernel source?)"
        )),
    }
}

/// The `#include "..."` names of a C file (local headers).
pub fn local_includes(src: &str) -> Vec<String> {
    src.lines()
        .filter_map(|l| l.trim().strip_prefix("#include"))
        .filter_map(|r| r.trim().strip_prefix('"')?.split('"').next().map(str::to_owned))
        .collect()
}

fn tar_top_dir() -> Result<String, String> {
    // `linux-source-6.1.tar.xz` unpacks into `linux-source-6.1/`.
    let stem = Path::new(LINUX_SOURCE)
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".tar.xz"))
        .ok_or_else(|| format!("{LINUX_SOURCE}: not a .tar.xz"))?;
    Ok(stem.to_owned())
}

fn run(cmd: &mut Command, what: &str) -> Result<String, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("{what}: cannot start: {e}"))?;
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(text)
    } else {
        Err(format!("{what} failed ({}):\n{}", out.status, super::qemu::tail(&text, 30)))
    }
}

/// `<cache>/gpio-sim/<kver>/gpio-sim.ko`, built unless already there.
pub fn build(host: &HostKernel, cache: &Path) -> Result<PathBuf, String> {
    let dir = cache.join("gpio-sim").join(&host.kver);
    let ko = dir.join("gpio-sim.ko");
    let stamp_path = dir.join("stamp");
    let stamp = format!("{RECIPE}\n{}\n", host.kver);
    if ko.is_file() && fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        return Ok(ko);
    }
    log(&format!("building gpio-sim.ko for {} in {} (once; cached)", host.kver, dir.display()));
    let _ = fs::remove_dir_all(&dir);
    let src = dir.join("src");
    fs::create_dir_all(&src).map_err(|e| format!("{}: {e}", src.display()))?;
    let top = tar_top_dir()?;
    let members: Vec<String> = SOURCES.iter().map(|(p, _)| format!("{top}/{p}")).collect();
    run(
        Command::new("tar").arg("-xJf").arg(LINUX_SOURCE).arg("-C").arg(&src).args(&members),
        &format!("extracting {} from {LINUX_SOURCE}", members.join(", ")),
    )?;
    for (path, name) in SOURCES {
        let from = src.join(&top).join(path);
        let text = fs::read_to_string(&from).map_err(|e| format!("{}: {e}", from.display()))?;
        let text = if *name == "irq_sim.c" { patch_irq_sim(&text)? } else { text };
        // Every local header the driver includes must be among the extracted ones.
        for inc in local_includes(&text) {
            if !SOURCES.iter().any(|(_, n)| *n == inc) {
                return Err(format!("{path} includes \"{inc}\", which the gpio-sim build does not extract"));
            }
        }
        fs::write(dir.join(name), text).map_err(|e| format!("{}: {e}", dir.join(name).display()))?;
    }
    fs::write(dir.join("Kbuild"), KBUILD).map_err(|e| format!("{}/Kbuild: {e}", dir.display()))?;
    let jobs = std::thread::available_parallelism().map_or(1, usize::from).to_string();
    run(
        Command::new("make")
            .arg("-C")
            .arg(&host.headers)
            .arg(format!("M={}", dir.display()))
            .args(["-j", &jobs, "modules"]),
        &format!("make -C {} M={} modules", host.headers.display(), dir.display()),
    )?;
    if !ko.is_file() {
        return Err(format!("the gpio-sim build finished but {} is missing", ko.display()));
    }
    let vermagic = run(Command::new("modinfo").args(["-F", "vermagic"]).arg(&ko), "modinfo gpio-sim.ko")?;
    if vermagic.split_whitespace().next() != Some(host.kver.as_str()) {
        return Err(format!("{} has vermagic `{}`, not {}", ko.display(), vermagic.trim(), host.kver));
    }
    fs::write(&stamp_path, stamp).map_err(|e| format!("{}: {e}", stamp_path.display()))?;
    Ok(ko)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irq_sim_patch_replaces_the_one_call() {
        let src = "static void f(void)\n{\n\t\thandle_simple_irq(irq_to_desc(irqnum));\n}\n";
        assert_eq!(
            patch_irq_sim(src).unwrap(),
            "static void f(void)\n{\n\t\tgeneric_handle_irq(irqnum);\n}\n"
        );
        assert!(patch_irq_sim("nothing here").is_err());
    }

    #[test]
    fn local_includes_are_the_quoted_ones() {
        let src = "#include <linux/irq.h>\n#include \"gpiolib.h\"\n  #include   \"x.h\" // c\nint a;\n";
        assert_eq!(local_includes(src), ["gpiolib.h", "x.h"]);
    }
}
