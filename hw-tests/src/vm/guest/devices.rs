//! `vm/devices`: the rig on real drivers, asserted device by device (no failoverd).
//!
//! - every disk: both paths report the same unit serial; A registers and reserves
//!   (Write Exclusive, Registrants Only); B cannot write before it registers; B
//!   registers and PREEMPTs A's key; then a write through A fails with a reservation
//!   conflict (EBADE), a read through A still works, a write through B lands;
//! - softdog and i6300esb are present with their identities, accept a timeout, stop
//!   on the magic close, and softdog (soft_noboot) fires when abandoned;
//! - the i2c-stub chip keeps a register written over SMBus;
//! - a gpio-sim line held by `gpioset` through the character device reads 1 in
//!   sysfs, and falls back when released; a pulled input reads through `gpioget`;
//! - the two namespaces ping each other over the link;
//! - the workspace's `failoverd` (the host build, by its host path) runs in both.

use std::time::{Duration, Instant};

use failover_core::wire::Controller::{A, B};

use super::rig::{I6300ESB_IDENTITY, Rig, RigOptions, SOFTDOG_IDENTITY};
use super::watchdog::Watchdog;
use super::{Ctx, ensure, kmsg, net, scsi};
use crate::suites::rig::{Binaries, run_cmd};

/// Controller A's and B's reservation keys.
const KEY_A: u64 = 0xa1;
const KEY_B: u64 = 0xb1;
/// Write Exclusive, Registrants Only.
const WERO: u8 = 5;
/// strerror(EBADE): what a block-layer write that met RESERVATION CONFLICT fails with.
const EBADE_TEXT: &str = "Invalid exchange";

/// Run the scenario.
pub fn run(ctx: &Ctx) -> Result<String, String> {
    let t0 = Instant::now();
    let rig = Rig::setup(ctx, &RigOptions::default())?;
    let setup = t0.elapsed();
    let mut facts = vec![format!("rig {:.1} s", setup.as_secs_f64())];
    for (i, d) in rig.disks.iter().enumerate() {
        ctx.step(&format!("disk {i}: serials and reservations"));
        disk(i, d)?;
    }
    facts.push(format!("{} disks fenced A->B", rig.disks.len()));
    facts.push(watchdogs(ctx, &rig)?);
    facts.push(i2c(ctx, &rig)?);
    facts.push(gpio(ctx, &rig)?);
    ctx.step("ping over the link");
    net::ping_peer(A).map_err(|e| format!("ctl-a -> ctl-b: {e}"))?;
    net::ping_peer(B).map_err(|e| format!("ctl-b -> ctl-a: {e}"))?;
    facts.push("link pings both ways".into());
    let bins = Binaries::locate()?;
    for c in [A, B] {
        let v = net::exec(c, &bins.failoverd.to_string_lossy(), &["--version"])
            .map_err(|e| format!("failoverd in {}: {e}", net::ns(c)))?;
        ensure(v.starts_with("failover"), || {
            format!("`failoverd --version` in {} printed {v:?}", net::ns(c))
        })?;
    }
    facts.push("failoverd runs in ctl-a and ctl-b".into());
    Ok(facts.join(", "))
}

fn disk(i: usize, d: &super::lio::Disk) -> Result<(), String> {
    let ctx = |e: String| format!("disk {i} ({}): {e}", d.serial);
    let (sa, sb) = (scsi::unit_serial(&d.a_sg).map_err(ctx)?, scsi::unit_serial(&d.b_sg).map_err(ctx)?);
    ensure(sa == d.serial && sb == d.serial, || {
        ctx(format!(
            "unit serials {sa:?} ({}) and {sb:?} ({}), expected {:?} on both",
            d.a_sg.display(),
            d.b_sg.display(),
            d.serial
        ))
    })?;
    for p in [&d.a_sg, &d.b_sg] {
        scsi::drain_unit_attentions(p).map_err(ctx)?;
    }
    scsi::register(&d.a_sg, KEY_A).map_err(ctx)?;
    scsi::reserve(&d.a_sg, KEY_A, WERO).map_err(ctx)?;
    let r = scsi::read_reservation(&d.b_sg).map_err(ctx)?;
    ensure(r == Some(scsi::Reservation { key: KEY_A, ty: WERO }), || {
        ctx(format!("after A's RESERVE, B reads reservation {r:?}, expected key {KEY_A:#x} type {WERO}"))
    })?;
    match scsi::write_block(&d.b_sd, 1, 0xbb) {
        Ok(()) => {
            return Err(ctx(format!("{} (B, not registered) wrote under A's reservation", d.b_sd.display())));
        }
        Err(e) => ensure(e.contains(EBADE_TEXT), || {
            ctx(format!("B's unregistered write failed, but not with EBADE: {e}"))
        })?,
    }
    scsi::register(&d.b_sg, KEY_B).map_err(ctx)?;
    scsi::preempt(&d.b_sg, KEY_B, KEY_A, WERO).map_err(ctx)?;
    let r = scsi::read_reservation(&d.a_sg).map_err(ctx)?;
    ensure(r == Some(scsi::Reservation { key: KEY_B, ty: WERO }), || {
        ctx(format!("after B's PREEMPT, A reads reservation {r:?}, expected key {KEY_B:#x} type {WERO}"))
    })?;
    let keys = scsi::read_keys(&d.b_sg).map_err(ctx)?;
    ensure(keys == [KEY_B], || {
        ctx(format!("after B's PREEMPT the registered keys are {keys:x?}, expected [{KEY_B:#x}]"))
    })?;
    match scsi::write_block(&d.a_sd, 0, 0xaa) {
        Ok(()) => return Err(ctx(format!("{} (A, preempted) could still write", d.a_sd.display()))),
        Err(e) => ensure(e.contains(EBADE_TEXT), || {
            ctx(format!("A's write after the PREEMPT failed, but not with EBADE: {e}"))
        })?,
    }
    scsi::write_block(&d.b_sd, 0, 0xbb)
        .map_err(|e| ctx(format!("B holds the reservation but cannot write: {e}")))?;
    let block =
        scsi::read_block(&d.a_sd, 0).map_err(|e| ctx(format!("A may still read under type {WERO}: {e}")))?;
    ensure(block.iter().all(|&b| b == 0xbb), || {
        ctx(format!("A reads block 0 as {:02x?}.., not B's write", &block[..8]))
    })?;
    Ok(())
}

fn watchdogs(ctx: &Ctx, rig: &Rig) -> Result<String, String> {
    ctx.step("watchdogs");
    for (path, want) in [(&rig.softdog, SOFTDOG_IDENTITY), (&rig.i6300esb, I6300ESB_IDENTITY)] {
        let wd = Watchdog::open(path)?;
        let id = wd.identity()?;
        ensure(id == want, || {
            format!("{}: WDIOC_GETSUPPORT identity {id:?}, expected {want:?}", path.display())
        })?;
        let t = wd.set_timeout(7)?;
        ensure(t == 7 && wd.timeout()? == 7, || {
            format!("{}: set timeout 7 s, driver says {t} s", path.display())
        })?;
        wd.stop()?;
    }
    // softdog with soft_noboot: abandoned, it fires one timeout later and only logs.
    let wd = Watchdog::open(&rig.softdog)?;
    wd.set_timeout(1)?;
    let t0 = Instant::now();
    wd.abandon();
    let line = kmsg::wait_for("softdog: Triggered - Reboot ignored", Duration::from_secs(10))
        .map_err(|e| format!("{} abandoned with a 1 s timeout: {e}", rig.softdog.display()))?;
    ctx.step(&format!("softdog fired after {:.2} s: {line}", t0.elapsed().as_secs_f64()));
    Ok(format!(
        "watchdogs {} (softdog, fired {:.1} s after abandon) {} (i6300esb)",
        rig.softdog.display(),
        t0.elapsed().as_secs_f64(),
        rig.i6300esb.display()
    ))
}

fn i2c(ctx: &Ctx, rig: &Rig) -> Result<String, String> {
    ctx.step("i2c-stub");
    let s = &rig.i2c;
    for (reg, val) in [(0x10u8, 0x5au8), (0x11, 0xa5), (0x10, 0x3c)] {
        s.set(reg, val)?;
        let got = s.get(reg)?;
        ensure(got == val, || {
            format!(
                "{} chip {:#04x} reg {reg:#04x}: wrote {val:#04x}, read back {got:#04x}",
                s.dev.display(),
                s.address
            )
        })?;
    }
    let other = s.get(0x11)?;
    ensure(other == 0xa5, || {
        format!("{} reg 0x11 changed to {other:#04x} by a write to 0x10", s.dev.display())
    })?;
    Ok(format!("i2c-stub {} @ {:#04x}", s.dev.display(), s.address))
}

fn gpio(ctx: &Ctx, rig: &Rig) -> Result<String, String> {
    ctx.step("gpio-sim");
    let g = &rig.gpio;
    for name in super::gpio::LINES {
        let found = run_cmd("gpiofind", &[name])?;
        let want = format!("{} {}", g.chip, g.offset(name)?);
        ensure(found.trim() == want, || {
            format!("gpiofind {name} printed {:?}, expected {want:?}", found.trim())
        })?;
    }
    let line = "fence-b";
    ensure(g.value(line)? == 0, || format!("{line} reads 1 before anyone drives it"))?;
    let mut holder = g.hold_with_gpioset(line, 1)?;
    let t0 = Instant::now();
    let seen = g.wait_value(line, 1, Duration::from_secs(5));
    holder.check()?;
    seen?;
    let rise = t0.elapsed();
    holder.release();
    g.wait_value(line, 0, Duration::from_secs(5)).map_err(|e| format!("after gpioset was killed: {e}"))?;
    // An input driven from the outside, read through the character device.
    let input = "reset-a";
    let off = g.offset(input)?.to_string();
    for (high, want) in [(true, "1"), (false, "0")] {
        g.set_pull(input, high)?;
        let got = run_cmd("gpioget", &[&g.chip, &off])?;
        ensure(got.trim() == want, || {
            format!(
                "gpioget {} {off} ({input}) printed {:?} with pull {}",
                g.chip,
                got.trim(),
                if high { "up" } else { "down" }
            )
        })?;
    }
    Ok(format!("gpio-sim {} ({line} seen high {:.0} ms after gpioset)", g.chip, rise.as_secs_f64() * 1e3))
}
