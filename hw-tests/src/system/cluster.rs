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

use failover_core::wire::Controller;
use failover_linux::api::types::UnlockJson;
use nix::sys::signal::Signal;

use super::wire::{Impairment, Wire};
use crate::firmware::bmc::{Bmc, PtyHost};
use crate::firmware::image::{Images, TEST_KEY};
use crate::firmware::link::LinkRelay;
use crate::suites::rig::{Binaries, Host, Pair, PairOptions, Seen, poll_until, run_cmd};

/// The hosts' heartbeat interval on the dedicated link (path H) and to their BMC.
pub const HEARTBEAT_MS: u64 = 20;
/// The hosts' failover timeout. Above the BMCs' 100 ms host-hang and peer timeouts
/// ([`crate::firmware::image::TEST_TIMINGS`]), so a dead host is reported by its BMC before path H times out,
/// as on real hardware with the production 50 ms BMC timings.
pub const TIMEOUT_MS: u64 = 300;
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
    pub fn bmc(&mut self, c: Controller) -> Result<&mut Bmc<PtyHost>, String> {
        self.bmcs[c.index()].as_mut().ok_or_else(|| format!("{c}'s BMC is not running"))
    }

    /// Whether `c`'s BMC drives its fence line to the peer's enclosure port (GPIOA0).
    pub fn bmc_fencing(&mut self, c: Controller) -> Result<bool, String> {
        self.bmc(c)?.qmp.gpio("gpioA0")
    }

    /// The last status line `c`'s BMC printed (it prints one at every change): what it
    /// knows of its host, the peer BMC and the peer host.
    pub fn bmc_status(&mut self, c: Controller) -> Result<Option<String>, String> {
        let since = self.started;
        Ok(self.bmc(c)?.console("status", since).pop().map(|(_, l)| l))
    }

    /// Poll `f` every 20 ms until it gives a value, for at most `limit` (as
    /// [`Pair::wait_for`], for checks that need the BMCs too).
    pub fn wait_for<T>(
        &mut self,
        limit: Duration,
        what: &str,
        mut f: impl FnMut(&mut Self) -> Result<Option<T>, String>,
    ) -> Result<T, String> {
        poll_until(limit, Duration::from_millis(20), what, || f(self))
    }

    /// SIGKILL `c`'s BMC (its QEMU).
    pub fn kill_bmc(&mut self, c: Controller) -> Result<Instant, String> {
        let mut bmc = self.bmcs[c.index()].take().ok_or_else(|| format!("{c}'s BMC is not running"))?;
        Ok(bmc.kill())
    }

    /// Boot `c`'s BMC again (after [`Self::kill_bmc`]) and splice it into the link.
    pub fn start_bmc(&mut self, c: Controller) -> Result<(), String> {
        if let Some(mut old) = self.bmcs[c.index()].take() {
            old.kill();
        }
        let (bmc, link) = Bmc::launch_pty(c, self.images.of(c), &self.bmc_dir, &self.pair.bmc_tty(c))?;
        self.link.replace(c, link)?;
        self.bmcs[c.index()] = Some(bmc);
        Ok(())
    }

    /// Cut (or restore) the BMC link in the direction `from` sends.
    pub fn cut_bmc_link(&self, from: Controller, cut: bool) {
        self.link.set_cut(from, cut);
    }

    /// Forget the BMC link's record of frames (kept for nothing here).
    pub fn forget_frames(&self) {
        self.link.forget();
    }

    /// Start `c`'s `failoverd`.
    pub fn start(&mut self, c: Controller) -> Result<(), String> {
        self.pair.start(c)
    }

    /// Stop `c`'s `failoverd` in order (SIGTERM) and wait for it to exit.
    pub fn stop(&mut self, c: Controller) -> Result<(), String> {
        self.pair.signal(c, Signal::SIGTERM)?;
        self.pair.wait_for(
            Duration::from_secs(5),
            &format!("{c}'s failoverd to exit after SIGTERM"),
            |p| Ok(p.exit_status(c)),
        )?;
        Ok(())
    }

    /// Whether `c`'s `failoverd` runs.
    pub fn running(&mut self, c: Controller) -> bool {
        !matches!(self.pair.seen(c), Seen::Exited(_))
    }

    /// Take the dedicated link (path H) down or up at `c`'s end.
    pub fn set_host_link(&self, c: Controller, up: bool) -> Result<(), String> {
        self.pair.rig.set_link(c, up)
    }

    /// Impair what `from` sends on the dedicated link.
    pub fn impair(&self, from: Controller, imp: Impairment) {
        self.wire.set(from, imp);
    }

    /// Restore everything a scenario may have broken: links up, no shaping, both BMCs
    /// and both daemons running (one stopped by SIGSTOP is continued; one that is not
    /// running, or stands fenced in ERROR, is started).
    pub fn heal(&mut self) -> Result<(), String> {
        for c in [Controller::A, Controller::B] {
            self.cut_bmc_link(c, false);
            self.impair(c, Impairment::NONE);
            self.set_host_link(c, true)?;
            run_cmd(
                "ip",
                &["-n", &self.pair.rig.ctrl_ns(c), "link", "set", crate::suites::rig::PUB_IF, "up"],
            )?;
            if self.bmcs[c.index()].is_none() {
                self.start_bmc(c)?;
            }
            let _ = self.pair.signal(c, Signal::SIGCONT);
        }
        for c in [Controller::A, Controller::B] {
            // A daemon that found itself fenced stays in ERROR until restarted, as an
            // administrator would after looking at it.
            let fenced = matches!(self.pair.seen(c), Seen::Up(s) if s.status == "ERROR");
            if fenced || !self.running(c) {
                self.start(c)?;
            }
        }
        self.unlock_if_needed()
    }

    /// Once settled: if the pool key is still missing on either controller (both
    /// restarted, so no peer escrowed it), unlock it on the active as an administrator
    /// would.
    pub fn unlock_if_needed(&mut self) -> Result<(), String> {
        let (active, _) = self.pair.settled()?;
        let escrowed = self.pair.wait_for(Duration::from_secs(2), "the pool key on both", both_hold_the_key);
        if escrowed.is_ok() {
            return Ok(());
        }
        self.unlock(active).map(|_| ())
    }

    /// Give the pool passphrase to `c`; how long until both controllers held it (the
    /// peer's copy comes by escrow over the link).
    pub fn unlock(&mut self, c: Controller) -> Result<Duration, String> {
        let u = UnlockJson { passphrase: PASSPHRASE.into() };
        self.pair.block_on(self.pair.client(c).unlock(&u)).map_err(|e| format!("{c}: unlock: {e}"))?;
        let t0 = Instant::now();
        self.pair.wait_for(
            Duration::from_secs(5),
            "both controllers to hold the pool key",
            both_hold_the_key,
        )?;
        Ok(t0.elapsed())
    }

    /// Start both hosts (the designated primary A last, as the netns suite does) and
    /// unlock the pool: the pair as an administrator leaves it after installation.
    pub fn up(&mut self) -> Result<(), String> {
        self.start(Controller::B)?;
        self.start(Controller::A)?;
        self.unlock_if_needed()
    }

    /// The last `n` console lines of both BMCs, for a failure report.
    pub fn bmc_tails(&self, n: usize) -> String {
        self.bmcs.iter().flatten().map(|b| b.tail(n)).collect()
    }
}

/// A [`Pair::wait_for`] check: neither controller needs the pool passphrase.
fn both_hold_the_key(p: &mut Pair) -> Result<Option<()>, String> {
    let (a, b) = (p.status(Controller::A)?, p.status(Controller::B)?);
    Ok((!a.passphrase_needed && !b.passphrase_needed).then_some(()))
}
