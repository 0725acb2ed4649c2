//! The shared disks of one controller: [`DiskOwnership`] over SCSI-3 persistent
//! reservations, every disk in parallel.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use failover_core::node::{FenceResult, ReservationKey};
use failover_core::wire::Controller;

use crate::backend::{BackendError, DiskOwnership, FenceOutcome};
use crate::config::PreemptMode;

use super::device::ScsiDevice;
use super::fence::{self, Actions, FENCE_TYPE, FencePlan};

/// Rounds of read-decide-act per disk before the fence gives up on it. A takeover
/// needs two (act, then confirm); each change the other controller makes between our
/// commands (it backs off and unregisters, or registers late) costs one or two more.
/// More than this means two fences keep undoing each other: the disk fails, and the
/// core retries with a new epoch.
pub const MAX_ROUNDS: usize = 6;

/// Per-command and per-disk time limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Timeouts {
    /// One SCSI command. Disks answer PR commands in milliseconds; a command that takes
    /// seconds has met a path problem, and the fence must report instead of waiting on
    /// it (TrueNAS fenced uses 5 s too).
    pub command: Duration,
    /// Everything one operation (fence, check, release, opening) does on one disk,
    /// retries included: a fence is up to [`MAX_ROUNDS`] rounds of a few commands.
    pub disk: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self { command: Duration::from_secs(5), disk: Duration::from_secs(15) }
    }
}

/// One controller's paths to the shared disks, one per logical unit.
#[derive(Debug)]
pub struct ScsiDiskSet {
    port: Controller,
    preempt: PreemptMode,
    timeouts: Timeouts,
    disks: Vec<ScsiDevice>,
}

impl ScsiDiskSet {
    /// Open and identify every device in `devices` (in parallel) as `port`'s paths,
    /// with the default [`Timeouts`].
    pub fn open(devices: &[PathBuf], preempt: PreemptMode, port: Controller) -> Result<Self, BackendError> {
        Self::open_with(devices, preempt, port, Timeouts::default())
    }

    /// [`Self::open`] with other time limits. Fails on the first device (in list order)
    /// that cannot be opened or identified, and if two paths lead to one unit.
    pub fn open_with(
        devices: &[PathBuf],
        preempt: PreemptMode,
        port: Controller,
        timeouts: Timeouts,
    ) -> Result<Self, BackendError> {
        let deadline = Instant::now() + timeouts.disk;
        let opened = parallel(devices, |path| ScsiDevice::open(path, timeouts.command, deadline));
        let disks = opened.into_iter().collect::<Result<Vec<_>, _>>()?;
        Self::from_devices(disks, preempt, port, timeouts)
    }

    /// A set of devices opened already (over any transport). Fails if there are none,
    /// or if two of them are the same unit.
    pub fn from_devices(
        disks: Vec<ScsiDevice>,
        preempt: PreemptMode,
        port: Controller,
        timeouts: Timeouts,
    ) -> Result<Self, BackendError> {
        if disks.is_empty() {
            return Err(BackendError::NoSuchDisk {
                index: 0,
                path: PathBuf::from("backends.disk.devices"),
                count: 0,
            });
        }
        for (i, d) in disks.iter().enumerate() {
            if let Some(other) = disks[..i].iter().find(|o| o.id() == d.id()) {
                return Err(BackendError::DuplicateDisk {
                    id: d.id().to_owned(),
                    first: other.path().to_path_buf(),
                    second: d.path().to_path_buf(),
                });
            }
        }
        Ok(Self { port, preempt, timeouts, disks })
    }

    /// Our controller (initiator port).
    pub fn port(&self) -> Controller {
        self.port
    }

    /// How the fence removes other keys.
    pub fn preempt_mode(&self) -> PreemptMode {
        self.preempt
    }

    /// The time limits.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// The devices, in configuration order.
    pub fn devices(&self) -> &[ScsiDevice] {
        &self.disks
    }

    fn check_key(&self, key: ReservationKey) -> Result<(), BackendError> {
        if key.controller() == self.port {
            Ok(())
        } else {
            Err(BackendError::ForeignKey { key, port: self.port })
        }
    }

    /// Run `f` on every disk in parallel with one deadline, results in disk order;
    /// each disk's time is logged.
    fn each_disk<R: Send>(
        &self,
        op: &'static str,
        f: impl Fn(&ScsiDevice, Instant) -> Result<R, BackendError> + Sync,
    ) -> Vec<Result<R, BackendError>> {
        let deadline = Instant::now() + self.timeouts.disk;
        parallel(&self.disks, |d| {
            let t0 = Instant::now();
            let r = f(d, deadline);
            let ms = t0.elapsed().as_secs_f64() * 1e3;
            tracing::debug!(disk = %d.name(), op, ms, ok = r.is_ok(), "disk done");
            r
        })
    }

    /// [`DiskOwnership::fence_and_reserve`] with every disk's own result, in disk order.
    pub fn fence_disks(
        &self,
        key: ReservationKey,
    ) -> Result<Vec<Result<FenceResult, BackendError>>, BackendError> {
        self.check_key(key)?;
        Ok(self.each_disk("fence", |d, deadline| fence_disk(d, key, self.preempt, deadline)))
    }
}

/// Run `f` on every item in its own thread, results in item order. If the OS will not
/// start a thread, that item runs on the calling thread instead.
fn parallel<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, BackendError> + Sync,
) -> Vec<Result<R, BackendError>> {
    enum Job<'s, R> {
        Running(std::thread::ScopedJoinHandle<'s, R>),
        Finished(R),
    }
    std::thread::scope(|s| {
        let f = &f;
        let jobs: Vec<_> = items
            .iter()
            .map(|item| {
                match std::thread::Builder::new().name("scsi-disk".into()).spawn_scoped(s, move || f(item)) {
                    Ok(h) => Job::Running(h),
                    Err(_) => Job::Finished(f(item)),
                }
            })
            .collect();
        jobs.into_iter()
            .map(|j| match j {
                Job::Running(h) => h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Job::Finished(r) => r,
            })
            .collect()
    })
}

/// The fence on one disk: rounds of read keys and reservation, [`fence::plan`], act,
/// until done, superseded, or out of rounds or time.
fn fence_disk(
    dev: &ScsiDevice,
    key: ReservationKey,
    mode: PreemptMode,
    deadline: Instant,
) -> Result<FenceResult, BackendError> {
    let ours = key.as_u64();
    let mut registered = false;
    let mut conflict = None;
    for round in 0..MAX_ROUNDS {
        let keys = dev.read_keys(deadline)?.keys;
        let reservation = dev.read_reservation(deadline)?.reservation;
        let plan = fence::plan(key, &keys, reservation, registered);
        tracing::debug!(
            disk = %dev.name(),
            round,
            keys = ?keys.iter().map(|k| format!("{k:#018x}")).collect::<Vec<_>>(),
            ?reservation,
            ?plan,
            "fence round"
        );
        match plan {
            FencePlan::Done => return Ok(FenceResult::Done),
            FencePlan::Superseded { epoch } => {
                if registered {
                    // Leave nothing behind: a registered key may write under the
                    // registrants-only reservation of the newer reign. If it preempted
                    // us already, this conflicts, which is fine.
                    if let Err(e) = dev.register(ours, 0, deadline) {
                        tracing::debug!(disk = %dev.name(), error = %e, "unregistering after backing off");
                    }
                }
                return Ok(FenceResult::Superseded { epoch });
            }
            FencePlan::Blocked { type_code } => {
                tracing::warn!(
                    disk = %dev.name(),
                    type_code,
                    "disk holds an all-registrants reservation the fence does not take over; clear it by hand"
                );
                return Err(BackendError::ReservationConflict { disk: dev.name().to_owned() });
            }
            FencePlan::Act(actions) => match act(dev, ours, &actions, mode, &mut registered, deadline) {
                Ok(()) => {}
                // The other controller acted between our commands (preempted us, or
                // removed a key we meant to preempt): read again and decide again.
                Err(e @ BackendError::ReservationConflict { .. }) => {
                    tracing::debug!(disk = %dev.name(), round, error = %e, "fence round met a conflict");
                    conflict = Some(e);
                }
                Err(e) => return Err(e),
            },
        }
    }
    Err(conflict.unwrap_or_else(|| BackendError::ReservationConflict { disk: dev.name().to_owned() }))
}

/// One round's commands.
fn act(
    dev: &ScsiDevice,
    ours: u64,
    a: &Actions,
    mode: PreemptMode,
    registered: &mut bool,
    deadline: Instant,
) -> Result<(), BackendError> {
    if a.register {
        dev.register_ignore(ours, deadline)?;
        *registered = true;
    }
    for &victim in &a.preempt {
        dev.preempt(ours, victim, FENCE_TYPE, mode, deadline)?;
    }
    if a.preempt_self {
        // Never with ABORT: that would abort our own commands.
        dev.preempt(ours, ours, FENCE_TYPE, PreemptMode::Preempt, deadline)?;
    }
    if a.reserve {
        dev.reserve(ours, FENCE_TYPE, deadline)?;
    }
    Ok(())
}

/// Whether `key` is registered on the disk and holds a Write Exclusive - Registrants
/// Only reservation.
fn check_disk(dev: &ScsiDevice, key: ReservationKey, deadline: Instant) -> Result<bool, BackendError> {
    let ours = key.as_u64();
    let registered = dev.read_keys(deadline)?.keys.contains(&ours);
    let holds = dev
        .read_reservation(deadline)?
        .reservation
        .is_some_and(|r| r.key == ours && r.kind() == Some(FENCE_TYPE));
    Ok(registered && holds)
}

/// RELEASE, then unregister; a disk where `key` is not registered (RESERVATION
/// CONFLICT) is left alone.
fn release_disk(dev: &ScsiDevice, key: ReservationKey, deadline: Instant) -> Result<(), BackendError> {
    let ours = key.as_u64();
    match dev.release(ours, FENCE_TYPE, deadline) {
        Ok(()) => {}
        Err(BackendError::ReservationConflict { .. }) => return Ok(()),
        Err(e) => return Err(e),
    }
    match dev.register(ours, 0, deadline) {
        Ok(()) | Err(BackendError::ReservationConflict { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The set's outcome from each disk's: `Superseded` with the newest epoch if any disk
/// is; `Done` if every disk is; `Failed` otherwise.
fn summarize(results: &[Result<FenceResult, BackendError>]) -> FenceOutcome {
    let done = results.iter().filter(|r| matches!(r, Ok(FenceResult::Done))).count();
    let superseded = results
        .iter()
        .filter_map(|r| match r {
            Ok(FenceResult::Superseded { epoch }) => Some(*epoch),
            _ => None,
        })
        .max();
    let result = match superseded {
        Some(epoch) => FenceResult::Superseded { epoch },
        None if done == results.len() && done > 0 => FenceResult::Done,
        None => FenceResult::Failed,
    };
    let clamp = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
    FenceOutcome { result, disks_done: clamp(done), disks_total: clamp(results.len()) }
}

impl DiskOwnership for ScsiDiskSet {
    fn describe(&self) -> String {
        let paths: Vec<String> = self.disks.iter().map(|d| d.path().display().to_string()).collect();
        format!(
            "SCSI-3 PR on {} disks ({}) via port {}, {}",
            self.disks.len(),
            paths.join(", "),
            self.port,
            self.preempt.as_str()
        )
    }

    /// The identities found at open, once every disk has answered an INQUIRY now (a
    /// path to every disk is what makes fencing available; INQUIRY is allowed under any
    /// reservation and never reports a unit attention, so it disturbs nothing).
    /// The disks that answer now. A disk whose path is gone is left out (and logged):
    /// the set then differs from the peer's, which both report as MISMATCH_DISKS,
    /// rather than this controller claiming it has no fence at all.
    fn disk_serials(&self) -> Result<Vec<String>, BackendError> {
        let deadline = Instant::now() + self.timeouts.command;
        let answers = parallel(&self.disks, |d| d.inquiry(deadline));
        let mut ids = Vec::with_capacity(self.disks.len());
        let mut first_error = None;
        for (d, r) in self.disks.iter().zip(answers) {
            match r {
                Ok(_) => ids.push(d.id().to_owned()),
                Err(e) => {
                    tracing::warn!(disk = %d.name(), error = %e, "disk does not answer: left out of the disk set");
                    first_error.get_or_insert(e);
                }
            }
        }
        if ids.is_empty()
            && let Some(e) = first_error
        {
            return Err(e);
        }
        ids.sort();
        Ok(ids)
    }

    fn fence_and_reserve(&self, key: ReservationKey) -> Result<FenceOutcome, BackendError> {
        let t0 = Instant::now();
        let results = self.fence_disks(key)?;
        for (d, r) in self.disks.iter().zip(&results) {
            match r {
                Ok(FenceResult::Superseded { epoch }) => {
                    tracing::info!(disk = %d.name(), epoch, %key, "fence superseded by a newer key");
                }
                Err(e) => tracing::warn!(disk = %d.name(), error = %e, %key, "fence failed"),
                Ok(_) => {}
            }
        }
        let outcome = summarize(&results);
        tracing::info!(
            %key,
            result = ?outcome.result,
            disks = outcome.disks_done,
            of = outcome.disks_total,
            ms = t0.elapsed().as_secs_f64() * 1e3,
            "SCSI fence"
        );
        Ok(outcome)
    }

    fn release(&self, key: ReservationKey) -> Result<(), BackendError> {
        self.check_key(key)?;
        self.each_disk("release", |d, deadline| release_disk(d, key, deadline)).into_iter().collect()
    }

    /// `false` as soon as one disk that answers shows our key gone: the peer fenced us
    /// (it fences every disk, so any one disk tells). A disk that does not answer (its
    /// path removed) is logged and left out: it cannot show a preemption, and losing
    /// one path must not make a healthy active fence itself. `Err` only when no disk
    /// answers at all.
    fn check(&self, key: ReservationKey) -> Result<bool, BackendError> {
        self.check_key(key)?;
        let results = self.each_disk("check", |d, deadline| check_disk(d, key, deadline));
        judge_check(self.disks.iter().map(ScsiDevice::name), results)
    }
}

/// The reservation check's verdict from each disk's answer (see `check`).
fn judge_check<'a>(
    names: impl Iterator<Item = &'a str>,
    results: Vec<Result<bool, BackendError>>,
) -> Result<bool, BackendError> {
    let mut answered = 0;
    let mut first_error = None;
    for (name, r) in names.zip(results) {
        match r {
            Ok(true) => answered += 1,
            Ok(false) => {
                tracing::warn!(disk = %name, "our reservation key is gone from this disk");
                return Ok(false);
            }
            Err(e) => {
                tracing::warn!(disk = %name, error = %e, "reservation check: disk does not answer");
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) if answered == 0 => Err(e),
        _ => Ok(true),
    }
}

#[cfg(test)]
mod check_tests {
    use super::*;

    fn gone(disk: &str) -> BackendError {
        BackendError::NoPath { disk: disk.to_owned() }
    }

    #[test]
    fn one_disk_without_our_key_fails_the_check_a_missing_path_does_not() {
        let names = ["d0", "d1", "d2"];
        let judge = |r: Vec<Result<bool, BackendError>>| judge_check(names.iter().copied(), r);
        assert!(matches!(judge(vec![Ok(true), Ok(true), Ok(true)]), Ok(true)));
        assert!(matches!(judge(vec![Ok(true), Ok(false), Ok(true)]), Ok(false)));
        assert!(
            matches!(judge(vec![Ok(true), Err(gone("d1")), Ok(true)]), Ok(true)),
            "a lost path is not a fence"
        );
        assert!(matches!(judge(vec![Err(gone("d0")), Ok(false), Ok(true)]), Ok(false)));
        assert!(matches!(
            judge(vec![Err(gone("d0")), Err(gone("d1")), Err(gone("d2"))]),
            Err(BackendError::NoPath { disk }) if disk == "d0"
        ));
    }
}
