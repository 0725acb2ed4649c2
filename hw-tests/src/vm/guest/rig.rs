//! The guest rig: the devices two controllers share or own, on real drivers.
//!
//! ```text
//!   ctl-a (netns)                                   ctl-b (netns)
//!   ha0 169.254.10.1/30 ====== veth (link) ====== ha0 169.254.10.2/30
//!   watchdog: softdog                               watchdog: i6300esb (QEMU device)
//!            \                                     /
//!             disk i: /dev/sdX + /dev/sgN (A) / (B)   LIO fileio + 2 x tcm_loop
//!             gpio-sim gpiochipN: fence-a fence-b reset-a reset-b led-a led-b
//!             i2c-stub /dev/i2c-N, chip at 0x1c (enclosure CPLD registers)
//! ```
//!
//! Modules come from the guest kernel's own tree (the host's `/lib/modules/<kver>`,
//! which the guest sees through the shared root) via kmod's `modprobe`; gpio-sim is
//! the module built on the host (`HWTEST_GPIO_SIM`). Backing files and LIO's PR state
//! live on a tmpfs under `/run/hwtest`.

use std::path::{Path, PathBuf};

use failover_core::wire::Controller;

use super::gpio::{self, GpioSim};
use super::i2c::I2cStub;
use super::lio::{self, Disk};
use super::{Ctx, net, watchdog};
use crate::suites::rig::{Binaries, Daemon, run_cmd};

/// What to build.
#[derive(Clone, Debug)]
pub struct RigOptions {
    /// Dual-ported disks.
    pub disks: usize,
    /// Size of each, MiB.
    pub disk_mib: u64,
    /// Load softdog with `soft_noboot=1`: when it fires it logs "Triggered - Reboot
    /// ignored" instead of rebooting the VM (which would end the run).
    pub softdog_noboot: bool,
    /// The i2c-stub chip's address.
    pub i2c_address: u8,
}

impl Default for RigOptions {
    fn default() -> Self {
        Self { disks: 2, disk_mib: 64, softdog_noboot: true, i2c_address: 0x1c }
    }
}

/// The identity the softdog driver reports.
pub const SOFTDOG_IDENTITY: &str = "Software Watchdog";
/// The identity the i6300esb driver reports.
pub const I6300ESB_IDENTITY: &str = "i6300ESB timer";

/// The rig, set up.
#[derive(Debug)]
pub struct Rig {
    /// Scratch directory on tmpfs (backing files, LIO's PR state).
    pub scratch: PathBuf,
    /// The run's output directory (shared with the host: logs, configs).
    pub out: PathBuf,
    /// The dual-ported disks.
    pub disks: Vec<Disk>,
    /// softdog's device (controller A's watchdog).
    pub softdog: PathBuf,
    /// i6300esb's device (controller B's watchdog).
    pub i6300esb: PathBuf,
    /// The GPIO chip.
    pub gpio: GpioSim,
    /// The I2C bus and chip.
    pub i2c: I2cStub,
}

/// `modprobe <module> [params]`.
pub fn modprobe(module: &str, params: &[&str]) -> Result<(), String> {
    let mut args = vec![module];
    args.extend_from_slice(params);
    run_cmd("modprobe", &args).map(|_| ())
}

/// Load a module file that is not in the kernel's tree: its dependencies with
/// modprobe, then the file with insmod.
pub fn insmod_file(ko: &Path) -> Result<(), String> {
    let k = ko.to_string_lossy();
    let deps = run_cmd("modinfo", &["-F", "depends", &k])?;
    for d in deps.trim().split(',').filter(|d| !d.is_empty()) {
        modprobe(d, &[])?;
    }
    run_cmd("insmod", &[&k]).map(|_| ())
}

impl Rig {
    /// Load the drivers and build everything.
    pub fn setup(ctx: &Ctx, o: &RigOptions) -> Result<Self, String> {
        let scratch = PathBuf::from("/run/hwtest");
        std::fs::create_dir_all(&scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;

        ctx.step("loading LIO, tcm_loop, sd, sg");
        for m in ["target_core_mod", "target_core_file", "tcm_loop", "sd_mod", "sg"] {
            modprobe(m, &[])?;
        }
        lio::set_dbroot(&scratch.join("lio"))?;
        let disks = (0..o.disks)
            .map(|i| lio::create_disk(i, &scratch, o.disk_mib << 20))
            .collect::<Result<Vec<_>, _>>()?;
        ctx.step(&format!("{} dual-ported disks: {disks:?}", disks.len()));

        ctx.step("loading watchdogs");
        modprobe("softdog", if o.softdog_noboot { &["soft_noboot=1"] } else { &[] })?;
        modprobe("i6300esb", &[])?;
        let softdog = watchdog::find(SOFTDOG_IDENTITY)?;
        let i6300esb = watchdog::find(I6300ESB_IDENTITY)?;

        ctx.step("loading i2c-dev, i2c-stub");
        modprobe("i2c-dev", &[])?;
        modprobe("i2c-stub", &[&format!("chip_addr={:#04x}", o.i2c_address)])?;
        let i2c = I2cStub::find(o.i2c_address)?;

        ctx.step("loading gpio-sim");
        let ko = ctx.gpio_sim.as_deref().ok_or("HWTEST_GPIO_SIM is not set: no gpio-sim module to load")?;
        insmod_file(ko)?;
        let gpio = GpioSim::create("hwtest", gpio::LINES)?;

        ctx.step("network namespaces");
        modprobe("veth", &[])?;
        modprobe("sch_netem", &[])?;
        net::create()?;

        ctx.step("rig ready");
        Ok(Self { scratch, out: ctx.out.clone(), disks, softdog, i6300esb, gpio, i2c })
    }

    /// A controller's watchdog device: softdog for A, the i6300esb for B (one kernel
    /// has only one softdog).
    pub fn watchdog(&self, c: Controller) -> &Path {
        match c {
            Controller::A => &self.softdog,
            Controller::B => &self.i6300esb,
        }
    }

    /// Every disk's SCSI generic device on a controller's path, in disk order (the
    /// `devices` list of a `[backends] disk = { kind = "scsi" }` configuration).
    pub fn sg_devices(&self, c: Controller) -> Vec<PathBuf> {
        self.disks.iter().map(|d| d.sg(c).to_owned()).collect()
    }

    /// A controller's directory in the output share (configuration, log, state).
    pub fn controller_dir(&self, c: Controller) -> Result<PathBuf, String> {
        let d = self.out.join(net::ns(c));
        std::fs::create_dir_all(&d).map_err(|e| format!("{}: {e}", d.display()))?;
        Ok(d)
    }

    /// Start `failoverd run --config <config>` in a controller's namespace, output
    /// appended to `log`; killed when the returned guard drops.
    pub fn spawn_failoverd(&self, c: Controller, config: &Path, log: &Path) -> Result<Daemon, String> {
        let bins = Binaries::locate()?;
        Daemon::spawn(&bins.failoverd, net::ns(c), config, log)
    }
}
