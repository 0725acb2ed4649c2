//! What the scenarios and the audit need from a pair of controllers, whatever the pair
//! is: the emulated rig ([`super::cluster::Cluster`]) or real controllers reached by
//! commands ([`super::remote::Remote`]). The scenarios and the audit are written once,
//! against [`Target`]; the waits they share are the free functions below.

use std::time::{Duration, Instant};

use failover_core::node::ReservationKey;
use failover_core::wire::Controller;
use failover_linux::api::types::StatusJson;
use nix::sys::signal::Signal;

use super::wire::Impairment;
use crate::suites::rig::{SETTLE_LIMIT, Seen, poll_until, settled_pair, status_line};

/// Something a scenario needs that a target may not offer (a real pair offers what its
/// configuration names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// Delay, jitter, loss or a cut on the dedicated link with its carrier up.
    Impair,
    /// Taking a BMC down and bringing it back.
    BmcPower,
    /// Cutting the BMC-to-BMC link (path B).
    BmcLinkCut,
    /// Reading a BMC's own status line (what it knows of its host and the peer).
    BmcStatus,
    /// Reading whether a BMC drives its fence line to the peer's enclosure port.
    BmcFenceLine,
}

impl Capability {
    /// Every capability.
    pub const ALL: [Self; 5] =
        [Self::Impair, Self::BmcPower, Self::BmcLinkCut, Self::BmcStatus, Self::BmcFenceLine];
}

/// A pair of controllers under test.
pub trait Target {
    /// One line: what this target is.
    fn describe(&self) -> String;
    /// The pair's failover timeout (the scenarios' windows scale with it).
    fn timeout(&self) -> Duration;
    /// `Ok` if `cap` is available, else why not (naming the configuration to add).
    fn supports(&self, cap: Capability) -> Result<(), String>;

    /// `c`'s status from its own API.
    fn status(&mut self, c: Controller) -> Result<StatusJson, String>;
    /// Whether `c`'s `failoverd` runs.
    fn running(&mut self, c: Controller) -> Result<bool, String>;
    /// Start `c`'s `failoverd` (killing a leftover one first).
    fn start(&mut self, c: Controller) -> Result<(), String>;
    /// Send `sig` to `c`'s `failoverd`. SIGKILL returns once the process is gone.
    fn signal(&mut self, c: Controller, sig: Signal) -> Result<(), String>;

    /// Ask the active `c` to hand over to its peer.
    fn giveback(&mut self, c: Controller) -> Result<(), String>;
    /// Make `c` active although failover is disabled.
    fn force_takeover(&mut self, c: Controller) -> Result<(), String>;
    /// Give `c` the pool's passphrase.
    fn unlock(&mut self, c: Controller) -> Result<(), String>;
    /// Disable or enable failover through `c`'s API; whether it is now disabled.
    fn set_disabled(&mut self, c: Controller, disabled: bool) -> Result<bool, String>;
    /// `c`'s configuration file.
    fn read_config(&mut self, c: Controller) -> Result<String, String>;
    /// Replace `c`'s configuration file (as an administrator editing it by hand).
    fn write_config(&mut self, c: Controller, text: &str) -> Result<(), String>;

    /// Who holds the reservation on each shared disk, read past the daemons.
    fn holders(&mut self) -> Result<Vec<Option<ReservationKey>>, String>;
    /// Check that no controller but `active` (at `epoch`) can have written to the
    /// disks, and that the active's writes land, by the best evidence the target has;
    /// what was checked.
    fn audit_fencing(&mut self, active: Controller, epoch: u64) -> Result<String, String>;
    /// Writes from `c` that reached the disks so far, where the target can count them.
    fn writes_by(&mut self, c: Controller) -> Result<Option<usize>, String>;

    /// Whether the VIP is configured on `c`.
    fn has_vip(&mut self, c: Controller) -> Result<bool, String>;
    /// Wait until the client reaches the VIP on `active` (and, when `exclusive`, only
    /// there); what was seen.
    fn expect_serving(&mut self, active: Controller, exclusive: bool) -> Result<String, String>;
    /// Take `c`'s end of the dedicated link down or up.
    fn set_host_link(&mut self, c: Controller, up: bool) -> Result<(), String>;
    /// Take `c`'s critical (public) interface down or up.
    fn set_public_link(&mut self, c: Controller, up: bool) -> Result<(), String>;
    /// Impair what `from` sends on the dedicated link ([`Capability::Impair`]).
    fn impair(&mut self, from: Controller, imp: Impairment) -> Result<(), String>;
    /// Frames `from` has sent on the dedicated link so far.
    fn link_frames(&mut self, from: Controller) -> Result<u64, String>;

    /// Take `c`'s BMC down or bring it back ([`Capability::BmcPower`]).
    fn set_bmc_power(&mut self, c: Controller, on: bool) -> Result<(), String>;
    /// Cut or restore the BMC link in the direction `from` sends ([`Capability::BmcLinkCut`]).
    fn cut_bmc_link(&mut self, from: Controller, cut: bool) -> Result<(), String>;
    /// The last status line `c`'s BMC printed ([`Capability::BmcStatus`]).
    fn bmc_status(&mut self, c: Controller) -> Result<Option<String>, String>;
    /// Whether `c`'s BMC drives its fence line to the peer ([`Capability::BmcFenceLine`]).
    fn bmc_fencing(&mut self, c: Controller) -> Result<bool, String>;

    /// Undo whatever a scenario may have broken: links up, no impairment, both BMCs
    /// up, both daemons running (one continued if stopped, one restarted if it stands
    /// fenced in ERROR or has exited).
    fn heal(&mut self) -> Result<(), String>;
    /// Everything useful for a failure report.
    fn diagnostics(&mut self) -> String;
}

/// What is known about `c` now.
pub fn seen(t: &mut dyn Target, c: Controller) -> Seen {
    match t.running(c) {
        Ok(false) => return Seen::Exited("not running".into()),
        Err(e) => return Seen::Silent(e),
        Ok(true) => {}
    }
    match t.status(c) {
        Ok(s) => Seen::Up(Box::new(s)),
        Err(e) => Seen::Silent(e),
    }
}

/// Poll `f` every 10 ms until it gives a value, for at most `limit`.
pub fn wait_for<T>(
    t: &mut dyn Target,
    limit: Duration,
    what: &str,
    mut f: impl FnMut(&mut dyn Target) -> Result<Option<T>, String>,
) -> Result<T, String> {
    poll_until(limit, Duration::from_millis(10), what, || f(t))
}

/// Wait until `c`'s status satisfies `want`.
pub fn wait_status(
    t: &mut dyn Target,
    c: Controller,
    limit: Duration,
    what: &str,
    want: impl Fn(&StatusJson) -> bool,
) -> Result<StatusJson, String> {
    wait_for(t, limit, &format!("{c} {what}"), |t| Ok(t.status(c).ok().filter(|s| want(s))))
}

/// Wait until one controller is MASTER and the other BACKUP at one epoch, each seeing
/// the other alive: `(active, epoch)`.
pub fn settled(t: &mut dyn Target) -> Result<(Controller, u64), String> {
    wait_for(t, SETTLE_LIMIT, "the pair to settle (one MASTER, one BACKUP, peers alive)", |t| {
        let (Ok(a), Ok(b)) = (t.status(Controller::A), t.status(Controller::B)) else { return Ok(None) };
        Ok(settled_pair(&a, &b))
    })
}

/// Wait until every disk is reserved by `c` with `epoch`.
pub fn wait_disks_held(t: &mut dyn Target, c: Controller, epoch: u64) -> Result<(), String> {
    let want = ReservationKey::new(c, epoch);
    wait_for(t, Duration::from_secs(3), &format!("every disk reserved by {want} ({c}, epoch {epoch})"), |t| {
        Ok(t.holders()?.iter().all(|h| *h == Some(want)).then_some(()))
    })
}

/// Stop `c`'s `failoverd` in order (SIGTERM) and wait for it to exit.
pub fn stop(t: &mut dyn Target, c: Controller) -> Result<(), String> {
    t.signal(c, Signal::SIGTERM)?;
    wait_gone(t, c)
}

/// Wait (5 s at most) until `c`'s `failoverd` has exited.
pub fn wait_gone(t: &mut dyn Target, c: Controller) -> Result<(), String> {
    wait_for(t, Duration::from_secs(5), &format!("{c}'s failoverd to exit"), |t| {
        Ok((!t.running(c)?).then_some(()))
    })
}

/// Whether neither controller needs the pool passphrase.
fn both_hold_the_key(t: &mut dyn Target) -> Result<Option<()>, String> {
    let (a, b) = (t.status(Controller::A)?, t.status(Controller::B)?);
    Ok((!a.passphrase_needed && !b.passphrase_needed).then_some(()))
}

/// Give the passphrase to `c`; how long until both controllers held the key (the
/// peer's copy comes by escrow over the link).
pub fn unlock_both(t: &mut dyn Target, c: Controller) -> Result<Duration, String> {
    t.unlock(c)?;
    let t0 = Instant::now();
    wait_for(t, Duration::from_secs(5), "both controllers to hold the pool key", both_hold_the_key)?;
    Ok(t0.elapsed())
}

/// Once settled: if the pool key is still missing on either controller (both
/// restarted, so no peer escrowed it), unlock it on the active as an administrator
/// would.
pub fn unlock_if_needed(t: &mut dyn Target) -> Result<(), String> {
    let (active, _) = settled(t)?;
    if wait_for(t, Duration::from_secs(2), "the pool key on both", both_hold_the_key).is_ok() {
        return Ok(());
    }
    unlock_both(t, active).map(|_| ())
}

/// Start both controllers (the designated primary A last) and unlock the pool: the
/// pair as an administrator leaves it after installation.
pub fn up(t: &mut dyn Target) -> Result<(), String> {
    t.start(Controller::B)?;
    t.start(Controller::A)?;
    unlock_if_needed(t)
}

/// After the links and BMCs are healed: restart a daemon that stands fenced in ERROR
/// (as an administrator would after looking at it) or has exited, then unlock.
pub fn restart_the_fallen(t: &mut dyn Target) -> Result<(), String> {
    for c in [Controller::A, Controller::B] {
        let fallen = match seen(t, c) {
            Seen::Up(s) => s.status == "ERROR",
            Seen::Exited(_) => true,
            Seen::Silent(_) => false,
        };
        if fallen {
            t.start(c)?;
        }
    }
    unlock_if_needed(t)
}

/// Both controllers' status lines, for failure reports.
pub fn status_lines(t: &mut dyn Target) -> String {
    [Controller::A, Controller::B]
        .map(|c| match seen(t, c) {
            Seen::Up(s) => status_line(&s),
            Seen::Exited(e) => format!("{c} exited: {e}"),
            Seen::Silent(e) => format!("{c} not answering: {e}"),
        })
        .join(" / ")
}
