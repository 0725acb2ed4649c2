//! Two emulated BMCs (A and B) with their path-B UARTs relayed to each other and a
//! test host on each path L: the rig every case starts from.

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use failover_core::wire::{Controller, HostLiveness};

use super::bmc::Bmc;
use super::image::Images;
use super::link::LinkRelay;

/// How often a wait polls.
const POLL: Duration = Duration::from_millis(2);

/// The rig.
#[derive(Debug)]
pub struct Pair {
    /// Controller A's BMC.
    pub a: Bmc,
    /// Controller B's BMC.
    pub b: Bmc,
    /// The BMC link between them.
    pub link: LinkRelay,
    /// When the first QEMU was started.
    pub started: Instant,
}

impl Pair {
    /// Boot both images with their sockets in `dir` and link them.
    pub fn start(images: &Images, dir: &Path) -> Result<Self, String> {
        let started = Instant::now();
        let (a, link_a) = Bmc::launch(Controller::A, &images.a, dir)?;
        let (b, link_b) = Bmc::launch(Controller::B, &images.b, dir)?;
        let link = LinkRelay::start(link_a, link_b)?;
        Ok(Self { a, b, link, started })
    }

    /// `c`'s BMC.
    pub fn bmc(&mut self, c: Controller) -> &mut Bmc {
        match c {
            Controller::A => &mut self.a,
            Controller::B => &mut self.b,
        }
    }

    /// The usual start: both boot reports seen, host A heartbeating as the active at
    /// `epoch`, host B as the standby, and each host told by its BMC that the peer
    /// BMC and the peer host are alive. When that was reached.
    pub fn up(&mut self, epoch: u64) -> Result<Instant, String> {
        let t0 = self.started;
        for c in [Controller::A, Controller::B] {
            wait_for(Duration::from_secs(10), &format!("{c}'s boot report on path L"), || {
                Ok((!self.bmc(c).host.reports("boot", t0).is_empty()).then_some(()))
            })?;
        }
        self.a.host.set_heartbeat(true, true, epoch);
        self.b.host.set_heartbeat(true, false, epoch);
        let since = Instant::now();
        for c in [Controller::A, Controller::B] {
            wait_for(
                Duration::from_secs(5),
                &format!("host {c} to hear that the peer BMC and host are alive"),
                || {
                    Ok(self.bmc(c).host.with(|r| {
                        r.relays
                            .iter()
                            .any(|(t, r)| {
                                *t >= since && r.peer_bmc_alive && r.peer_host == HostLiveness::Alive
                            })
                            .then_some(())
                    }))
                },
            )?;
        }
        Ok(Instant::now())
    }

    /// Both consoles' tails, for a failure report.
    pub fn diagnostics(&self) -> String {
        format!("{}{}", self.a.tail(12), self.b.tail(12))
    }
}

/// Poll `f` until it yields a value, for at most `limit`.
pub fn wait_for<T>(
    limit: Duration,
    what: &str,
    mut f: impl FnMut() -> Result<Option<T>, String>,
) -> Result<T, String> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f()? {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(format!("timed out after {limit:?} waiting for {what}"));
        }
        thread::sleep(POLL);
    }
}
