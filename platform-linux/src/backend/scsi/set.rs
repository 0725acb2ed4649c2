//! The shared disks of one controller: [`DiskOwnership`] over SCSI-3 persistent
//! reservations, every disk in parallel.
//!
//! ## Per-disk threads
//!
//! Each disk but the first has a thread of its own, started with the set and fed jobs
//! over a channel (`DiskThreads`); the first disk runs on the calling thread, so a
//! one-disk set starts none. Not a thread per disk per operation (what this did first):
//! failoverd runs under `mlockall(MCL_CURRENT | MCL_FUTURE)`, so every new thread's
//! stack (2 MiB by default) is faulted in and locked whole, under the process's mmap
//! lock, before the thread runs; with a reservation check every ~100 ms and an INQUIRY
//! sweep every ~500 ms, that was most of the work. In the TCG VM a 32-disk check took
//! 101 ms so (32 ms without mlockall, 6 ms with these threads); the C library's cache
//! of thread stacks (40 MiB) hid most of it for a few disks. Threads started with the
//! set are locked once, by `MCL_CURRENT` (the service opens its disks before it locks
//! its memory), and have [`DISK_THREAD_STACK`]: 32 disks lock 8 MiB of stacks, not 64.
//!
//! A disk's jobs run in order, so an operation may wait for another's commands on the
//! same disk (milliseconds); every job keeps the deadline its operation set, so jobs
//! queued behind a hung disk fail by their deadlines, as before. The caller waits for
//! every disk's answer, as before.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
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

/// Stack of each per-disk thread (and of the threads that open the disks). The
/// per-disk work keeps its buffers on the heap ([`ScsiDevice`] allocates every data
/// buffer; on the stack are an `sg_io_hdr`, 64 bytes of sense, and the frames of the
/// retry loops and of logging): a debug build logging at TRACE level through unit
/// attentions, conflicts and errors runs in 32 KiB and overflows 24 KiB (a release
/// build needs less). The `disk_threads_do_with_a_small_stack` test runs that on a
/// quarter of this; the rest is margin, for a panic's message and backtrace and for
/// whatever the subscriber does.
pub const DISK_THREAD_STACK: usize = 256 * 1024;

/// One controller's paths to the shared disks, one per logical unit.
#[derive(Debug)]
pub struct ScsiDiskSet {
    port: Controller,
    preempt: PreemptMode,
    timeouts: Timeouts,
    disks: DiskThreads,
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
        let opened = open_all(devices, |path| ScsiDevice::open(path, timeouts.command, deadline));
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
        let disks = DiskThreads::start(disks, DISK_THREAD_STACK);
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
        &self.disks.disks
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
    fn each_disk<R: Send + 'static>(
        &self,
        op: &'static str,
        f: impl Fn(&ScsiDevice, Instant) -> Result<R, BackendError> + Send + Sync + 'static,
    ) -> Vec<Result<R, BackendError>> {
        let deadline = Instant::now() + self.timeouts.disk;
        self.disks.run(move |d| {
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
        let mode = self.preempt;
        Ok(self.each_disk("fence", move |d, deadline| fence_disk(d, key, mode, deadline)))
    }
}

/// A job for one disk's thread.
type Job = Box<dyn FnOnce(&ScsiDevice) + Send>;

/// The disks and their threads (see the module's documentation): disk 0 runs on the
/// caller; every other disk has a thread, started once, that runs the jobs sent to it
/// in order until the set is dropped. If the OS will not start a disk's thread, that
/// disk runs on the caller too.
#[derive(Debug)]
struct DiskThreads {
    disks: Arc<[ScsiDevice]>,
    /// `jobs[i]` feeds disk `i + 1`'s thread.
    jobs: Vec<Option<mpsc::Sender<Job>>>,
}

impl DiskThreads {
    fn start(disks: Vec<ScsiDevice>, stack: usize) -> Self {
        let disks: Arc<[ScsiDevice]> = disks.into();
        let jobs = (1..disks.len())
            .map(|i| {
                let (tx, rx) = mpsc::channel::<Job>();
                let mine = Arc::clone(&disks);
                let spawned = std::thread::Builder::new()
                    .name("scsi-disk".into())
                    .stack_size(stack)
                    .spawn(move || {
                        // Ends when the set is dropped (and the jobs queued before are done).
                        for job in rx {
                            job(&mine[i]);
                        }
                    });
                match spawned {
                    Ok(_) => Some(tx),
                    Err(e) => {
                        tracing::warn!(disk = %disks[i].name(), error = %e, "cannot start the disk's thread; it runs with the first disk's");
                        None
                    }
                }
            })
            .collect();
        Self { disks, jobs }
    }

    /// `f` on every disk at once, results in disk order. A panic in `f` is carried to
    /// the caller once every disk is done.
    fn run<R: Send + 'static>(
        &self,
        f: impl Fn(&ScsiDevice) -> Result<R, BackendError> + Send + Sync + 'static,
    ) -> Vec<Result<R, BackendError>> {
        let f = Arc::new(f);
        let (tx, rx) = mpsc::channel();
        // Jobs come back through the channel whoever runs them; the caller runs those
        // with no thread, after the threads have theirs.
        let job = |i: usize| -> Job {
            let (f, tx) = (Arc::clone(&f), tx.clone());
            // The caller's subscriber, if it has its own (tests): the disk logs where
            // the operation does.
            let dispatch = tracing::dispatcher::get_default(Clone::clone);
            Box::new(move |d: &ScsiDevice| {
                let r =
                    catch_unwind(AssertUnwindSafe(|| tracing::dispatcher::with_default(&dispatch, || f(d))));
                // The caller is waiting for it: it does not hang up before every disk answered.
                let _ = tx.send((i, r));
            })
        };
        let mut on_caller = vec![0];
        for (i, thread) in self.jobs.iter().enumerate().map(|(i, t)| (i + 1, t)) {
            match thread.as_ref().map(|t| t.send(job(i))) {
                Some(Ok(())) => {}
                // A thread gone (it cannot end while the set lives) or never started.
                Some(Err(_)) | None => on_caller.push(i),
            }
        }
        for i in on_caller {
            job(i)(&self.disks[i]);
        }
        drop(tx);
        let mut results: Vec<Option<Result<R, BackendError>>> = self.disks.iter().map(|_| None).collect();
        let mut panic = None;
        for (i, r) in rx.iter().take(self.disks.len()) {
            match r {
                Ok(r) => results[i] = Some(r),
                Err(p) => {
                    panic.get_or_insert(p);
                }
            }
        }
        if let Some(p) = panic {
            resume_unwind(p);
        }
        results
            .into_iter()
            .zip(self.disks.iter())
            // Cannot happen: every job answers, even one that panics.
            .map(|(r, d)| r.unwrap_or_else(|| Err(BackendError::Timeout { disk: d.name().to_owned() })))
            .collect()
    }
}

/// Open every item at once, one thread each but the first, results in item order. If
/// the OS will not start a thread, that item is opened on the calling thread instead.
fn open_all<T: Sync, R: Send>(
    items: &[T],
    f: impl Fn(&T) -> Result<R, BackendError> + Sync,
) -> Vec<Result<R, BackendError>> {
    enum Job<'s, R> {
        Running(std::thread::ScopedJoinHandle<'s, R>),
        Finished(R),
    }
    std::thread::scope(|s| {
        let f = &f;
        let Some((first, rest)) = items.split_first() else { return Vec::new() };
        let jobs: Vec<_> = rest
            .iter()
            .map(|item| {
                let thread =
                    std::thread::Builder::new().name("scsi-disk".into()).stack_size(DISK_THREAD_STACK);
                match thread.spawn_scoped(s, move || f(item)) {
                    Ok(h) => Job::Running(h),
                    Err(_) => Job::Finished(f(item)),
                }
            })
            .collect();
        let first = f(first);
        std::iter::once(first)
            .chain(jobs.into_iter().map(|j| match j {
                Job::Running(h) => h.join().unwrap_or_else(|panic| resume_unwind(panic)),
                Job::Finished(r) => r,
            }))
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
        let paths: Vec<String> = self.devices().iter().map(|d| d.path().display().to_string()).collect();
        format!(
            "SCSI-3 PR on {} disks ({}) via port {}, {}",
            paths.len(),
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
        let answers = self.disks.run(move |d| d.inquiry(deadline));
        let mut ids = Vec::with_capacity(answers.len());
        let mut first_error = None;
        for (d, r) in self.devices().iter().zip(answers) {
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
        for (d, r) in self.devices().iter().zip(&results) {
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
        self.each_disk("release", move |d, deadline| release_disk(d, key, deadline)).into_iter().collect()
    }

    /// `false` as soon as one disk that answers shows our key gone: the peer fenced us
    /// (it fences every disk, so any one disk tells). A disk that does not answer (its
    /// path removed) is logged and left out: it cannot show a preemption, and losing
    /// one path must not make a healthy active fence itself. `Err` only when no disk
    /// answers at all.
    fn check(&self, key: ReservationKey) -> Result<bool, BackendError> {
        self.check_key(key)?;
        let results = self.each_disk("check", move |d, deadline| check_disk(d, key, deadline));
        judge_check(self.devices().iter().map(ScsiDevice::name), results)
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

#[cfg(test)]
mod thread_tests {
    use std::sync::Arc;
    use std::thread::ThreadId;

    use failover_core::wire::Controller::{A, B};

    use super::*;
    use crate::backend::scsi::fake::{FakeLun, Fault};

    const LIMITS: Timeouts = Timeouts { command: Duration::from_secs(2), disk: Duration::from_secs(5) };

    fn devices(luns: &[Arc<FakeLun>], port: Controller) -> Vec<ScsiDevice> {
        let deadline = Instant::now() + LIMITS.disk;
        luns.iter()
            .enumerate()
            .map(|(i, l)| {
                ScsiDevice::with_transport(
                    format!("/dev/sg{port}{i}"),
                    l.path(port),
                    LIMITS.command,
                    deadline,
                )
                .unwrap()
            })
            .collect()
    }

    fn luns(n: usize) -> Vec<Arc<FakeLun>> {
        (0..n).map(|i| FakeLun::new(&format!("serial{i:02}"))).collect()
    }

    /// This thread's stack size, as the C library reports it.
    fn stack_size() -> usize {
        // SAFETY: `attr` is initialised by pthread_getattr_np before it is read and
        // destroyed once; the out-pointers are valid locals.
        unsafe {
            let mut attr: libc::pthread_attr_t = std::mem::zeroed();
            assert_eq!(libc::pthread_getattr_np(libc::pthread_self(), &mut attr), 0);
            let mut size = 0;
            assert_eq!(libc::pthread_attr_getstacksize(&attr, &mut size), 0);
            libc::pthread_attr_destroy(&mut attr);
            size
        }
    }

    #[test]
    fn many_disks_one_thread_each_started_once_with_a_small_stack() {
        const N: usize = 40;
        let luns = luns(N);
        let (a, b) = (
            ScsiDiskSet::from_devices(devices(&luns, A), PreemptMode::Preempt, A, LIMITS).unwrap(),
            ScsiDiskSet::from_devices(devices(&luns, B), PreemptMode::Preempt, B, LIMITS).unwrap(),
        );
        let threads = || a.disks.run(|_| Ok((std::thread::current().id(), stack_size())));
        let first: Vec<(ThreadId, usize)> = threads().into_iter().map(Result::unwrap).collect();
        let again: Vec<(ThreadId, usize)> = threads().into_iter().map(Result::unwrap).collect();
        assert_eq!(first, again, "every operation runs on the same threads");
        let me = std::thread::current().id();
        assert_eq!(first[0].0, me, "the first disk runs on the caller");
        let mut ids: Vec<ThreadId> = first.iter().map(|&(id, _)| id).collect();
        ids.sort_by_key(|id| format!("{id:?}"));
        ids.dedup();
        assert_eq!(ids.len(), N, "one thread per disk");
        for &(_, stack) in &first[1..] {
            assert!(
                (DISK_THREAD_STACK..=DISK_THREAD_STACK + 64 * 1024).contains(&stack),
                "a disk thread's stack is {stack} bytes, not {DISK_THREAD_STACK}"
            );
        }
        // The operations, in disk order on every disk.
        let ka = ReservationKey::new(A, 1);
        let kb = ReservationKey::new(B, 2);
        assert_eq!(a.fence_and_reserve(ka).unwrap().disks_done as usize, N);
        assert!(a.check(ka).unwrap());
        assert_eq!(b.fence_and_reserve(kb).unwrap().disks_done as usize, N);
        assert!(!a.check(ka).unwrap() && b.check(kb).unwrap());
        let mut ids: Vec<String> = a.devices().iter().map(|d| d.id().to_owned()).collect();
        ids.sort();
        assert_eq!(a.disk_serials().unwrap(), ids);
        luns[N - 1].inject(B, Fault::Os(libc::ENODEV));
        let per_disk = b.fence_disks(kb).unwrap();
        assert!(per_disk[..N - 1].iter().all(|r| matches!(r, Ok(FenceResult::Done))));
        assert!(
            matches!(&per_disk[N - 1], Err(BackendError::NoPath { disk }) if disk == b.devices()[N - 1].name())
        );
        b.release(kb).unwrap();
        assert!(luns.iter().all(|l| l.state().lu.read_keys().keys.is_empty()));
        assert_eq!(threads().into_iter().map(Result::unwrap).collect::<Vec<_>>(), first);
        // Dropped, the set's threads end and let go of the devices.
        drop((a, b));
        let t0 = Instant::now();
        while luns.iter().any(|l| Arc::strong_count(l) > 1) {
            assert!(t0.elapsed() < Duration::from_secs(5), "the disk threads outlive their set");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn a_panic_reaches_the_caller_and_the_threads_live_on() {
        let set = DiskThreads::start(devices(&luns(3), A), DISK_THREAD_STACK);
        let caught = catch_unwind(AssertUnwindSafe(|| {
            set.run(|d| if d.path().ends_with("sgA2") { panic!("disk 2") } else { Ok(()) })
        }));
        let msg = caught.unwrap_err().downcast::<&str>().map(|s| *s).unwrap_or_default();
        assert_eq!(msg, "disk 2");
        assert!(set.run(|_| Ok(())).iter().all(Result::is_ok));
    }

    /// The per-disk work fits a quarter of [`DISK_THREAD_STACK`]: in a debug build,
    /// logging everything at TRACE level, through unit attentions, conflicts and errors.
    #[test]
    fn disk_threads_do_with_a_small_stack() {
        let stack = DISK_THREAD_STACK / 4;
        // Counts the lines the disk threads log.
        #[derive(Clone, Default)]
        struct Lines(Arc<std::sync::atomic::AtomicUsize>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                if std::thread::current().name() == Some("scsi-disk") {
                    self.0.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let lines = Lines::default();
        let writer = lines.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_thread_names(true)
            .with_writer(move || writer.clone())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let luns = luns(4);
            let a = DiskThreads::start(devices(&luns, A), stack);
            let b = DiskThreads::start(devices(&luns, B), stack);
            let mode = PreemptMode::Preempt;
            for epoch in 1..4 {
                let deadline = Instant::now() + LIMITS.disk;
                let (ka, kb) = (ReservationKey::new(A, epoch * 2), ReservationKey::new(B, epoch * 2 + 1));
                luns[1].inject(A, Fault::Os(libc::EIO));
                let fenced = a.run(move |d| fence_disk(d, ka, mode, deadline));
                assert!(matches!(fenced[1], Err(BackendError::Io { .. })), "{:?}", fenced[1]);
                assert_eq!(fenced.iter().filter(|r| r.is_ok()).count(), 3);
                assert!(b.run(move |d| fence_disk(d, kb, mode, deadline)).iter().all(Result::is_ok));
                assert!(a.run(move |d| check_disk(d, ka, deadline)).iter().all(|r| matches!(r, Ok(false))));
                assert!(a.run(move |d| release_disk(d, ka, deadline)).iter().all(Result::is_ok));
                assert!(b.run(move |d| d.inquiry(deadline)).iter().all(Result::is_ok));
            }
        });
        let logged = lines.0.load(std::sync::atomic::Ordering::Relaxed);
        assert!(logged > 20, "the disk threads logged {logged} lines");
    }
}
