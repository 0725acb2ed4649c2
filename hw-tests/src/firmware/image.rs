//! What the suite needs before anything boots: QEMU and the thumb target installed,
//! and the firmware images built.
//!
//! Images are built by invoking cargo on the `failover-firmware` crate with the
//! `firmware` profile, into their own target directory (`<target>/fw-images`, next to
//! this executable's), one configuration file per node (`FAILOVER_FW_CONFIG`, see
//! `firmware/build.rs`). Test images get the `test-hooks` feature (debug frames on
//! path L) and the test timings below; the `size` command builds the production image
//! from `firmware/config/bmc-a.toml`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use failover_core::wire::Controller;

/// The firmware's target.
pub const TARGET: &str = "thumbv7em-none-eabihf";
/// The QEMU binary and the Debian package that has it.
pub const QEMU: &str = "qemu-system-arm";
const QEMU_PACKAGE: &str = "qemu-system-arm";

/// The link key of the test images and the test hosts.
pub const TEST_KEY: [u8; 32] = *b"failover-firmware-test-link-key!";

/// The timings baked into the test images.
///
/// The production heartbeat interval (10 ms) with twice the production timeouts
/// (100 ms instead of 50): guest time in QEMU without `-icount` follows the host
/// clock, and two emulated SoCs share CI's two cores with everything else, so a guest
/// can be descheduled for a few tens of milliseconds (gaps of up to 26 ms were seen
/// with both cores saturated). The suite also passes with the production 50 ms
/// timeouts on an idle or moderately loaded machine.
#[derive(Clone, Copy, Debug)]
pub struct Timings {
    /// Heartbeat interval on path B, relay interval on path L.
    pub interval_ms: u64,
    /// Peer BMC silent this long: BMC link down.
    pub peer_timeout_ms: u64,
    /// Own host silent this long: hung.
    pub host_hang_ms: u64,
    /// WDT1 timeout.
    pub watchdog_ms: u64,
    /// Peer host reset pulse.
    pub reset_pulse_ms: u64,
}

/// The test images' timings.
pub const TEST_TIMINGS: Timings = Timings {
    interval_ms: 10,
    peer_timeout_ms: 100,
    host_hang_ms: 100,
    watchdog_ms: 1000,
    reset_pulse_ms: 100,
};

/// The workspace this runner belongs to.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map_or_else(|| PathBuf::from("."), Path::to_path_buf)
}

/// The cargo target directory this executable was built into (`<target>/release/hw-tests`).
pub fn target_dir() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this executable: {e}"))?;
    exe.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("{} is not in a cargo target directory", exe.display()))
}

fn on_path(tool: &str) -> bool {
    std::env::var("PATH")
        .unwrap_or_default()
        .split(':')
        .any(|d| !d.is_empty() && Path::new(d).join(tool).is_file())
}

fn run(cmd: &mut Command) -> Result<String, String> {
    let out = cmd.stdin(Stdio::null()).output().map_err(|e| format!("cannot run {cmd:?}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let err = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = err.lines().rev().take(30).collect();
        Err(format!(
            "{cmd:?} failed ({}):\n{}",
            out.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ))
    }
}

/// Install `qemu-system-arm` (apt) and the thumb target (rustup) when missing.
pub fn preflight() -> Result<(), String> {
    if !on_path(QEMU) {
        println!("firmware: installing {QEMU_PACKAGE} (apt-get)");
        let install =
            || run(Command::new("apt-get").args(["install", "-y", "--no-install-recommends", QEMU_PACKAGE]));
        if install().is_err() {
            run(Command::new("apt-get").arg("update"))?;
            install()?;
        }
        if !on_path(QEMU) {
            return Err(format!("{QEMU} is still not on PATH after installing {QEMU_PACKAGE}"));
        }
    }
    if on_path("rustup") {
        let root = workspace_root();
        let installed =
            run(Command::new("rustup").args(["target", "list", "--installed"]).current_dir(&root))?;
        if !installed.lines().any(|l| l.trim() == TARGET) {
            println!("firmware: adding the {TARGET} target (rustup)");
            run(Command::new("rustup").args(["target", "add", TARGET]).current_dir(&root))?;
        }
    }
    Ok(())
}

/// A node's configuration file for the test images.
fn test_config(node: Controller, t: &Timings) -> String {
    let key: String = TEST_KEY.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "# Written by hw-tests (firmware suite).\n\
         controller = \"{}\"\nkey = \"{key}\"\ninterval_ms = {}\npeer_timeout_ms = {}\n\
         host_hang_ms = {}\nwatchdog_ms = {}\nfence_hung_peer = true\nreset_hung_peer = true\n\
         reset_pulse_ms = {}\n",
        node.letter(),
        t.interval_ms,
        t.peer_timeout_ms,
        t.host_hang_ms,
        t.watchdog_ms,
        t.reset_pulse_ms
    )
}

/// Build one image from `config` (with `features`) and copy it to `out`.
fn build(config: &Path, features: &[&str], out: &Path) -> Result<(), String> {
    let target = target_dir()?.join("fw-images");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", "failover-firmware", "--target", TARGET, "--profile", "firmware"])
        .current_dir(workspace_root())
        .env("FAILOVER_FW_CONFIG", config)
        .env("CARGO_TARGET_DIR", &target)
        // The link script comes from .cargo/config.toml's target rustflags, which a
        // RUSTFLAGS in the environment would replace.
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    run(&mut cmd)?;
    let elf = target.join(TARGET).join("firmware").join("failover-firmware");
    fs::copy(&elf, out).map_err(|e| format!("copy {} to {}: {e}", elf.display(), out.display()))?;
    Ok(())
}

/// The two test images.
#[derive(Clone, Debug)]
pub struct Images {
    /// Controller A's BMC.
    pub a: PathBuf,
    /// Controller B's BMC.
    pub b: PathBuf,
}

impl Images {
    /// The image of `node`'s BMC.
    pub fn of(&self, node: Controller) -> &Path {
        match node {
            Controller::A => &self.a,
            Controller::B => &self.b,
        }
    }
}

/// Build the A and B test images into `dir`.
pub fn build_test_images(dir: &Path) -> Result<Images, String> {
    build_images(dir, "bmc", &["test-hooks"])
}

/// Build the A and B images with the test key and timings into `dir` as
/// `<prefix>-{a,b}.elf`, with `features`.
pub fn build_images(dir: &Path, prefix: &str, features: &[&str]) -> Result<Images, String> {
    let mut paths = Vec::new();
    for node in [Controller::A, Controller::B] {
        let name = format!("{prefix}-{}", node.letter().to_ascii_lowercase());
        let config = dir.join(format!("{name}.toml"));
        fs::write(&config, test_config(node, &TEST_TIMINGS))
            .map_err(|e| format!("write {}: {e}", config.display()))?;
        let elf = dir.join(format!("{name}.elf"));
        build(&config, features, &elf)?;
        paths.push(elf);
    }
    let b = paths.pop().unwrap_or_default();
    let a = paths.pop().unwrap_or_default();
    Ok(Images { a, b })
}

/// Build the production image (`firmware/config/bmc-a.toml`, no test hooks) into `dir`.
pub fn build_production(dir: &Path) -> Result<PathBuf, String> {
    let config = workspace_root().join("firmware/config/bmc-a.toml");
    let elf = dir.join("bmc-a-production.elf");
    build(&config, &[], &elf)?;
    Ok(elf)
}
