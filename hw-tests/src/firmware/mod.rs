//! The `firmware` suite: the BMC firmware (`failover-firmware`) on two emulated
//! AST1030s (QEMU 7.2's `ast1030-evb`), and the `size` command.
//!
//! Per run: install `qemu-system-arm` and the thumb target when missing
//! ([`image::preflight`]), build the A and B test images (test timings, `test-hooks`
//! for the debug frames on path L), then run every case on a fresh [`pair::Pair`]: two
//! QEMUs whose path-B UARTs the test relays to each other ([`link`]), each with a test
//! host on its path L ([`host`]) that heartbeats it with authenticated frames and reads
//! its relays, fence reports and debug reports, and a QMP session ([`qmp`]) for GPIO
//! levels and the `WATCHDOG` / `RESET` events. Every time is measured on the host.
//!
//! Each case leaves its consoles, QEMU logs and config in
//! `<target>/fw-tests/<case>/`. The firmware idles in `wfi` between 1 ms ticks, so the
//! two QEMUs use a few percent of a core each.
//!
//! `hw-tests size` builds the production image (`firmware/config/bmc-a.toml`, no test
//! hooks) and prints `flash_bytes=N ram_bytes=N` from its ELF section headers
//! ([`elf32`]), failing if over the budgets.

pub mod bmc;
pub mod cases;
pub mod elf32;
pub mod host;
pub mod image;
pub mod link;
pub mod pair;
pub mod qmp;

use std::fs;
use std::path::Path;
use std::time::Instant;

use crate::report::{CaseResult, guarded};
use image::{Images, TEST_TIMINGS};
use pair::Pair;

/// Flash budget: text + rodata (+ initial data).
pub const FLASH_BUDGET: u64 = 64 * 1024;
/// Static RAM budget: data + bss + uninit.
pub const RAM_BUDGET: u64 = 32 * 1024;

/// Options of `hw-tests run firmware`.
#[derive(Clone, Debug, Default)]
pub struct FirmwareOpts {
    /// Run only this case.
    pub only: Option<String>,
}

/// Run the suite.
pub fn run(opts: &FirmwareOpts) -> Vec<CaseResult> {
    let t0 = Instant::now();
    let fail = |name: &str, e: String| {
        vec![CaseResult { name: format!("firmware/{name}"), outcome: Err(e), elapsed: t0.elapsed() }]
    };
    let root = match image::target_dir() {
        Ok(t) => t.join("fw-tests"),
        Err(e) => return fail("preflight", e),
    };
    if let Err(e) = image::preflight()
        .and_then(|()| fs::create_dir_all(&root).map_err(|e| format!("{}: {e}", root.display())))
    {
        return fail("preflight", e);
    }
    let images = match image::build_test_images(&root) {
        Ok(i) => i,
        Err(e) => return fail("build", e),
    };
    let t = TEST_TIMINGS;
    println!(
        "firmware: test images built in {:.1} s; heartbeat {} ms, peer timeout {} ms, host hang {} ms, watchdog {} ms",
        t0.elapsed().as_secs_f64(),
        t.interval_ms,
        t.peer_timeout_ms,
        t.host_hang_ms,
        t.watchdog_ms
    );
    let cases: Vec<_> =
        cases::CASES.iter().filter(|(name, _)| opts.only.as_deref().is_none_or(|o| o == *name)).collect();
    if cases.is_empty() {
        let known: Vec<&str> = cases::CASES.iter().map(|(n, _)| *n).collect();
        return fail("select", format!("no case named {:?}; known: {}", opts.only, known.join(", ")));
    }
    let results: Vec<CaseResult> =
        cases.iter().map(|(name, case)| run_case(&images, &root, name, *case)).collect();
    println!("firmware: {} cases in {:.1} s", results.len(), t0.elapsed().as_secs_f64());
    results
}

fn run_case(images: &Images, root: &Path, name: &str, case: cases::Case) -> CaseResult {
    let t0 = Instant::now();
    let dir = root.join(name);
    let outcome = guarded(|| {
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let mut pair = Pair::start(images, &dir)?;
        let r = case(&mut pair);
        r.map_err(|e| format!("{e}{}\n  (logs in {})", pair.diagnostics(), dir.display()))
    });
    CaseResult { name: format!("firmware/{name}"), outcome, elapsed: t0.elapsed() }
}

/// `hw-tests size`: build the production image and print its footprint; the exit code.
pub fn size() -> i32 {
    let result = (|| -> Result<(u64, u64), String> {
        image::preflight()?;
        let dir = image::target_dir()?.join("fw-tests");
        fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let elf = image::build_production(&dir)?;
        let bytes = fs::read(&elf).map_err(|e| format!("{}: {e}", elf.display()))?;
        let fp = elf32::footprint(&bytes)?;
        Ok((fp.flash, fp.ram))
    })();
    match result {
        Ok((flash, ram)) => {
            println!("flash_bytes={flash} ram_bytes={ram}");
            let ok = flash <= FLASH_BUDGET && ram <= RAM_BUDGET;
            println!(
                "budgets: flash {flash} of {FLASH_BUDGET} ({:.0}%), static RAM {ram} of {RAM_BUDGET} ({:.0}%): {}",
                flash as f64 * 100.0 / FLASH_BUDGET as f64,
                ram as f64 * 100.0 / RAM_BUDGET as f64,
                if ok { "ok" } else { "OVER BUDGET" }
            );
            i32::from(!ok)
        }
        Err(e) => {
            eprintln!("size: {e}");
            1
        }
    }
}
