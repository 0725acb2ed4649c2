//! The full rig: two `failoverd` in network namespaces (the netns [`Pair`]: dedicated
//! link through a middlebox that can delay, jitter, drop or cut it ([`Wire`]), public
//! segment with a client, simulated PR disks), each with its BMC running
//! the production firmware on QEMU `ast1030-evb`, reached over path L as a QEMU pty
//! that `failoverd` opens as its serial port, and the two BMCs' path-B UARTs relayed
//! to each other by the test ([`LinkRelay`], which can cut either direction).
//!
//! The BMCs start first: `failoverd` refuses to start without its serial port. A
//! restarted BMC gets a new pty; the link in `<dir>/<x>/bmc.tty` is moved to it and
//! `failoverd` reopens it after the old one hangs up.

use std::fs;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use failover_core::node::ReservationKey;
use failover_core::wire::Controller;
use failover_linux::api::types::{StatusJson, TakeoverJson, UnlockJson};
use nix::sys::signal::Signal;

use super::target::{self, Capability, Target};
use super::wire::{Impairment, Wire};
use crate::firmware::bmc::{Bmc, PtyHost};
use crate::firmware::image::{Images, TEST_KEY};
use crate::firmware::link::LinkRelay;
use crate::suites::rig::{Binaries, Host, PUB_IF, Pair, PairOptions, run_cmd};

/// The hosts' heartbeat interval on the dedicated link (path H) and to their BMC.
pub const HEARTBEAT_MS: u64 = 20;
/// The hosts' failover timeout. Above the BMCs' 100 ms host-hang and peer timeouts
/// ([`crate::firmware::image::TEST_TIMINGS`]), so a dead host is reported by its BMC before path H times out,
/// as on real hardware with the production 50 ms BMC timings.
pub const TIMEOUT_MS: u64 = 300;
/// The hosts' simulated watchdog: well above the longest stall a scenario makes a
/// healthy host go through (`standby-stall`: 3 timeouts; `hang-host` resumes the old
/// active once the takeover is seen), so it fires only on a host that stays hung.
pub const WATCHDOG_MS: u64 = 3_000;
/// The pool's passphrase.
pub const PASSPHRASE: &str = "correct horse battery staple";

/// Both controllers: hosts, BMCs and the BMC link.
#[derive(Debug)]
pub struct Cluster {
    /// The hosts (dropped first: daemons, namespaces, directory).
    pub pair: Pair,
    /// The dedicated link's middlebox.
    pub wire: Wire,
    bmcs: [Option<Bmc<PtyHost>>; 2],
    link: LinkRelay,
    images: Images,
    bmc_dir: PathBuf,
    started: Instant,
}

impl Cluster {
    /// Build the rig and boot both BMCs; no host runs yet.
    pub fn new(bins: &Binaries, images: &Images) -> Result<Self, String> {
        let o = PairOptions {
            key: Some(TEST_KEY),
            bmc: true,
            heartbeat_ms: HEARTBEAT_MS,
            timeout_ms: TIMEOUT_MS,
            encrypted: true,
            wire: true,
            workload: true,
            watchdog_ms: WATCHDOG_MS,
        };
        let pair = Pair::with_options(bins, &o)?;
        let wire = Wire::start(&pair.rig.ns(Host::Wire), u64::from(std::process::id()))?;
        let bmc_dir = pair.dir().join("bmc");
        fs::create_dir_all(&bmc_dir).map_err(|e| format!("{}: {e}", bmc_dir.display()))?;
        let (a, link_a) = Bmc::launch_pty(Controller::A, &images.a, &bmc_dir, &pair.bmc_tty(Controller::A))?;
        let (b, link_b) = Bmc::launch_pty(Controller::B, &images.b, &bmc_dir, &pair.bmc_tty(Controller::B))?;
        let link = LinkRelay::start(link_a, link_b)?;
        Ok(Self {
            pair,
            wire,
            bmcs: [Some(a), Some(b)],
            link,
            images: images.clone(),
            bmc_dir,
            started: Instant::now(),
        })
    }

    /// `c`'s BMC, if it runs.
    fn bmc(&mut self, c: Controller) -> Result<&mut Bmc<PtyHost>, String> {
        self.bmcs[c.index()].as_mut().ok_or_else(|| format!("{c}'s BMC is not running"))
    }

    /// Boot `c`'s BMC (again) and splice it into the BMC link.
    fn start_bmc(&mut self, c: Controller) -> Result<(), String> {
        if let Some(mut old) = self.bmcs[c.index()].take() {
            old.kill();
        }
        let (bmc, link) = Bmc::launch_pty(c, self.images.of(c), &self.bmc_dir, &self.pair.bmc_tty(c))?;
        self.link.replace(c, link)?;
        self.bmcs[c.index()] = Some(bmc);
        Ok(())
    }

    /// The last `n` console lines of both BMCs, for a failure report.
    pub fn bmc_tails(&self, n: usize) -> String {
        self.bmcs.iter().flatten().map(|b| b.tail(n)).collect()
    }

    /// Where `c`'s BMC console is logged (rewritten at each boot).
    pub fn bmc_console_log(&self, c: Controller) -> PathBuf {
        self.bmc_dir.join(format!("{}.console.log", crate::firmware::bmc::name_of(c)))
    }
}

impl Target for Cluster {
    fn describe(&self) -> String {
        format!(
            "emulated pair in {}: failoverd in namespaces, BMC firmware on QEMU ast1030-evb, userspace netem on ha0",
            self.pair.dir().display()
        )
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(TIMEOUT_MS)
    }

    fn supports(&self, _: Capability) -> Result<(), String> {
        Ok(())
    }

    fn status(&mut self, c: Controller) -> Result<StatusJson, String> {
        self.pair.status(c)
    }

    fn running(&mut self, c: Controller) -> Result<bool, String> {
        Ok(self.pair.running(c))
    }

    fn start(&mut self, c: Controller) -> Result<(), String> {
        self.pair.start(c)
    }

    fn signal(&mut self, c: Controller, sig: Signal) -> Result<(), String> {
        if sig == Signal::SIGKILL { self.pair.kill(c) } else { self.pair.signal(c, sig) }
    }

    fn giveback(&mut self, c: Controller) -> Result<(), String> {
        self.pair.block_on(self.pair.client(c).giveback()).map_err(|e| format!("giveback on {c}: {e}"))
    }

    fn force_takeover(&mut self, c: Controller) -> Result<(), String> {
        self.pair
            .block_on(self.pair.client(c).takeover(&TakeoverJson { force: true }))
            .map_err(|e| format!("forced takeover on {c}: {e}"))
    }

    fn unlock(&mut self, c: Controller) -> Result<(), String> {
        let u = UnlockJson { passphrase: PASSPHRASE.into() };
        self.pair.block_on(self.pair.client(c).unlock(&u)).map_err(|e| format!("{c}: unlock: {e}"))
    }

    fn set_disabled(&mut self, c: Controller, disabled: bool) -> Result<bool, String> {
        Ok(self.pair.set_disabled(c, disabled)?.disabled)
    }

    fn read_config(&mut self, c: Controller) -> Result<String, String> {
        let path = self.pair.config_file(c);
        fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn write_config(&mut self, c: Controller, text: &str) -> Result<(), String> {
        let path = self.pair.config_file(c);
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn holders(&mut self) -> Result<Vec<Option<ReservationKey>>, String> {
        self.pair.holders()
    }

    fn audit_fencing(&mut self, active: Controller, _epoch: u64) -> Result<String, String> {
        let w = self.pair.writes_by(active)?;
        self.pair.wait_writes(active, w, 2)?;
        let n = self.pair.audit_logs()?;
        Ok(format!("{n} disk log entries: no write from a port without the reservation"))
    }

    fn writes_by(&mut self, c: Controller) -> Result<Option<usize>, String> {
        self.pair.writes_by(c).map(Some)
    }

    fn has_vip(&mut self, c: Controller) -> Result<bool, String> {
        self.pair.rig.has_vip(c)
    }

    fn expect_serving(&mut self, active: Controller, exclusive: bool) -> Result<String, String> {
        self.pair.expect_serving(active, exclusive)
    }

    fn set_host_link(&mut self, c: Controller, up: bool) -> Result<(), String> {
        self.pair.rig.set_link(c, up)
    }

    fn set_public_link(&mut self, c: Controller, up: bool) -> Result<(), String> {
        let ns = self.pair.rig.ctrl_ns(c);
        run_cmd("ip", &["-n", &ns, "link", "set", PUB_IF, if up { "up" } else { "down" }]).map(|_| ())
    }

    fn impair(&mut self, from: Controller, imp: Impairment) -> Result<(), String> {
        self.wire.set(from, imp);
        Ok(())
    }

    fn link_frames(&mut self, from: Controller) -> Result<u64, String> {
        Ok(self.wire.counts(from).forwarded)
    }

    fn set_bmc_power(&mut self, c: Controller, on: bool) -> Result<(), String> {
        match (on, self.bmcs[c.index()].is_some()) {
            (true, true) => Ok(()),
            (true, false) => self.start_bmc(c),
            (false, _) => {
                let mut bmc =
                    self.bmcs[c.index()].take().ok_or_else(|| format!("{c}'s BMC is not running"))?;
                bmc.kill();
                Ok(())
            }
        }
    }

    fn cut_bmc_link(&mut self, from: Controller, cut: bool) -> Result<(), String> {
        self.link.set_cut(from, cut);
        Ok(())
    }

    fn bmc_status(&mut self, c: Controller) -> Result<Option<String>, String> {
        let since = self.started;
        Ok(self.bmc(c)?.console("status", since).pop().map(|(_, l)| l))
    }

    fn bmc_fencing(&mut self, c: Controller) -> Result<bool, String> {
        // GPIOA0 drives the peer's enclosure port cut.
        self.bmc(c)?.qmp.gpio("gpioA0")
    }

    fn heal(&mut self) -> Result<(), String> {
        // The BMC link's record of frames is kept for nothing here: a long random run
        // would keep them all.
        self.link.forget();
        for c in [Controller::A, Controller::B] {
            self.cut_bmc_link(c, false)?;
            self.impair(c, Impairment::NONE)?;
            self.set_host_link(c, true)?;
            self.set_public_link(c, true)?;
            self.set_bmc_power(c, true)?;
            if self.pair.running(c) {
                self.pair.signal(c, Signal::SIGCONT)?;
            }
        }
        target::restart_the_fallen(self)
    }

    fn diagnostics(&mut self) -> String {
        format!("{}{}", self.pair.diagnostics(), self.bmc_tails(10))
    }
}
