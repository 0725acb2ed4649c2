//! A simulated dual-ported JBOD that two `failoverd` processes on one machine share.
//!
//! The disk set is a directory; each disk is a subdirectory holding its persistent
//! reservation state and a data log; each [`SimDiskSet`] handle is one controller's
//! initiator port onto every disk. The PR rules are [`super::pr`]'s (SPC-4), so the
//! fence below issues the same command sequence the SG_IO backend issues.
//!
//! ```text
//! <dir>/disk-00/lock        flock(2)ed for the whole of every command on this disk
//! <dir>/disk-00/state.json  {"serial": "SIM-1a2b3c4d-00", "lu": <pr::LogicalUnit>}
//! <dir>/disk-00/data.log    one JSON LogEntry a line: writes, fence and release points
//! <dir>/enclosure/cut-A     exists while controller A's expander port is cut
//! ```
//!
//! Why this shape:
//! - **Atomicity.** A disk executes each command atomically; here every command holds
//!   an exclusive `flock` on the disk's `lock` file, which is never replaced, so two
//!   processes (or two handles in one process: `flock` locks belong to the open file
//!   description) see one disk. The composite fence of one disk (read keys, register,
//!   preempt, reserve) runs under one lock, as one step: that is the disk model of
//!   `failover_core::sim::PrDisk`, which the model checker explores.
//! - **Crash safety.** `failoverd` gets SIGKILLed on purpose (watchdog, peer reset).
//!   The state is replaced by write-to-temporary + `rename`, so a kill never leaves it
//!   half written; a log line is appended with a single `write`, and a torn last line
//!   (no newline) is ignored when reading. No `fsync`: process crashes are simulated,
//!   machine crashes are not.
//! - **Stopped initiators.** A process stopped (SIGSTOP) while holding a disk's lock
//!   would block every other command forever; waiting for a lock is bounded
//!   ([`LOCK_TIMEOUT`]) and ends in [`BackendError::Timeout`]. The watchdog kills such a
//!   process, which releases its locks.
//! - **Proof of fencing.** The data log records every WRITE with the writer's port and
//!   the key it believed it held, and every completed fence and release: [`check_log`]
//!   verifies that after a fence no write of the other port landed until the next fence
//!   or release.
//! - **Unit serials** (`SIM-<hash of the directory>-<n>`) are chosen when a disk is
//!   created and stored with it, so both handles report the same ones.

use std::fs::{self, File, OpenOptions};
use std::io::{ErrorKind, Write as _};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use failover_core::node::{FenceResult, ReservationKey};
use failover_core::wire::Controller;
use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::pr::{self, LogicalUnit, ReservationType, ServiceAction};
use super::{BackendError, DiskOwnership, EnclosureFence, FenceOutcome};

/// How long a command waits for a disk another process is using before it gives up
/// with [`BackendError::Timeout`]. Commands hold a disk for microseconds; only a
/// stopped or wedged process holds it longer, and the fence must not hang behind it.
pub const LOCK_TIMEOUT: Duration = Duration::from_secs(2);

/// The reservation type the fence establishes.
const FENCE_TYPE: ReservationType = ReservationType::WriteExclusiveRegistrantsOnly;

const STATE_FILE: &str = "state.json";
const STATE_TMP: &str = "state.json.tmp";
const LOG_FILE: &str = "data.log";
const LOCK_FILE: &str = "lock";
const ENCLOSURE_DIR: &str = "enclosure";

/// One entry of a disk's data log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum LogEntry {
    /// A WRITE that the disk accepted.
    Write {
        /// The initiator port it came through.
        port: Controller,
        /// The key the writer held (or believed it held) when it wrote.
        #[serde(with = "key_hex")]
        key: ReservationKey,
        /// What was written.
        payload: String,
    },
    /// A fence completed: from here `key` holds the reservation.
    Fence {
        /// The fencing port.
        port: Controller,
        /// Its key.
        #[serde(with = "key_hex")]
        key: ReservationKey,
    },
    /// The holder released the reservation.
    Release {
        /// The releasing port.
        port: Controller,
        /// Its key.
        #[serde(with = "key_hex")]
        key: ReservationKey,
    },
}

/// A write that landed after another port's fence (found by [`check_log`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("log entry {index}: a write through port {} landed while {owner} held the disk", entry_port(entry))]
pub struct FencingViolation {
    /// Position in the log.
    pub index: usize,
    /// The offending write.
    pub entry: LogEntry,
    /// The key holding the reservation then.
    pub owner: ReservationKey,
}

fn entry_port(e: &LogEntry) -> Controller {
    match e {
        LogEntry::Write { port, .. } | LogEntry::Fence { port, .. } | LogEntry::Release { port, .. } => *port,
    }
}

/// Verify one disk's log: between a `Fence` by one port and the next `Fence` or
/// `Release`, every `Write` came through that port.
pub fn check_log(entries: &[LogEntry]) -> Result<(), FencingViolation> {
    let mut owner: Option<ReservationKey> = None;
    for (index, entry) in entries.iter().enumerate() {
        match entry {
            LogEntry::Fence { key, .. } => owner = Some(*key),
            LogEntry::Release { .. } => owner = None,
            LogEntry::Write { port, .. } => {
                if let Some(o) = owner.filter(|o| o.controller() != *port) {
                    return Err(FencingViolation { index, entry: entry.clone(), owner: o });
                }
            }
        }
    }
    Ok(())
}

/// Keys in the log as `sg_persist` prints them (`0x4641000000000003`).
mod key_hex {
    use failover_core::node::ReservationKey;
    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(key: &ReservationKey, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(key)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<ReservationKey, D::Error> {
        let s = String::deserialize(d)?;
        let raw = s
            .strip_prefix("0x")
            .and_then(|h| u64::from_str_radix(h, 16).ok())
            .ok_or_else(|| D::Error::custom(format!("bad key {s:?}")))?;
        ReservationKey::from_u64(raw).ok_or_else(|| D::Error::custom(format!("not a failover key: {s}")))
    }
}

/// What a disk keeps across commands.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct DiskState {
    serial: String,
    lu: LogicalUnit,
}

/// One disk of the set.
#[derive(Clone, Debug)]
struct Disk {
    serial: String,
    dir: PathBuf,
}

/// A command in progress on one disk, under its lock.
struct Txn {
    lu: LogicalUnit,
    log: Vec<LogEntry>,
}

/// One controller's port onto the simulated JBOD in a directory.
#[derive(Debug)]
pub struct SimDiskSet {
    dir: PathBuf,
    port: Controller,
    disks: Vec<Disk>,
    enclosure: SimEnclosure,
}

impl SimDiskSet {
    /// Open the JBOD in `dir` (created if missing) with `disks` disks, creating the
    /// missing ones (empty PR state, empty log), as seen through `port`.
    pub fn open(dir: impl AsRef<Path>, disks: usize, port: Controller) -> Result<Self, BackendError> {
        let dir = dir.as_ref();
        fs::create_dir_all(dir).map_err(|e| BackendError::io(dir, e))?;
        let dir = dir.canonicalize().map_err(|e| BackendError::io(dir, e))?;
        if disks == 0 {
            return Err(BackendError::NoSuchDisk { index: 0, path: dir, count: 0 });
        }
        let enclosure = SimEnclosure::open(&dir)?;
        let tag = fnv1a(dir.as_os_str().as_encoded_bytes());
        let disks = (0..disks)
            .map(|n| {
                let disk_dir = dir.join(format!("disk-{n:02}"));
                fs::create_dir_all(&disk_dir).map_err(|e| BackendError::io(&disk_dir, e))?;
                let name = disk_dir.display().to_string();
                let _lock = lock_disk(&disk_dir, &name)?;
                let state_path = disk_dir.join(STATE_FILE);
                let serial = match read_state(&disk_dir) {
                    Ok(state) => state.serial,
                    Err(BackendError::Io { source, .. }) if source.kind() == ErrorKind::NotFound => {
                        let state =
                            DiskState { serial: format!("SIM-{tag:08x}-{n:02}"), lu: LogicalUnit::new() };
                        write_state(&disk_dir, &state)?;
                        state.serial
                    }
                    Err(e) => return Err(e),
                };
                if serial.is_empty() {
                    return Err(BackendError::Corrupt {
                        path: state_path,
                        reason: "empty unit serial".into(),
                    });
                }
                Ok(Disk { serial, dir: disk_dir })
            })
            .collect::<Result<Vec<_>, BackendError>>()?;
        Ok(Self { dir, port, disks, enclosure })
    }

    /// [`Self::open`] of a JBOD whose `disks` disks all exist already: `failoverctl
    /// inspect` only looks, so a missing disk is an error (naming its state file)
    /// rather than a blank disk made up on the spot.
    pub fn open_existing(
        dir: impl AsRef<Path>,
        disks: usize,
        port: Controller,
    ) -> Result<Self, BackendError> {
        let dir = dir.as_ref();
        for n in 0..disks {
            let state = dir.join(format!("disk-{n:02}")).join(STATE_FILE);
            match state.try_exists() {
                Ok(true) => {}
                Ok(false) => {
                    let why = "no such file: no disk set here, or fewer disks than configured";
                    return Err(BackendError::io(state, std::io::Error::new(ErrorKind::NotFound, why)));
                }
                Err(e) => return Err(BackendError::io(state, e)),
            }
        }
        Self::open(dir, disks, port)
    }

    /// Our initiator port.
    pub fn port(&self) -> Controller {
        self.port
    }

    /// The JBOD directory (canonical).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many disks.
    pub fn disk_count(&self) -> usize {
        self.disks.len()
    }

    /// The unit serial of disk `index`.
    pub fn serial(&self, index: usize) -> Result<&str, BackendError> {
        Ok(&self.disk(index)?.serial)
    }

    /// The enclosure this JBOD sits in (its cut bits are consulted by every command).
    pub fn enclosure(&self) -> &SimEnclosure {
        &self.enclosure
    }

    fn disk(&self, index: usize) -> Result<&Disk, BackendError> {
        self.disks.get(index).ok_or_else(|| BackendError::NoSuchDisk {
            index,
            path: self.dir.clone(),
            count: self.disks.len(),
        })
    }

    fn check_key(&self, key: ReservationKey) -> Result<(), BackendError> {
        if key.controller() == self.port {
            Ok(())
        } else {
            Err(BackendError::ForeignKey { key, port: self.port })
        }
    }

    /// Run one command on `disk`: lock it, refuse if our port is cut, run `f` on its PR
    /// state, then persist what `f` changed (state first, then log) even if `f` failed
    /// part way (each PR command of a compound is real once executed), and unlock.
    fn command<R>(
        &self,
        disk: &Disk,
        f: impl FnOnce(&mut Txn) -> Result<R, BackendError>,
    ) -> Result<R, BackendError> {
        let _lock = lock_disk(&disk.dir, &disk.serial)?;
        if self.enclosure.is_cut(self.port)? {
            return Err(BackendError::NoPath { disk: disk.serial.clone() });
        }
        let state = read_state(&disk.dir)?;
        let mut txn = Txn { lu: state.lu.clone(), log: Vec::new() };
        let result = f(&mut txn);
        if txn.lu != state.lu {
            write_state(&disk.dir, &DiskState { serial: state.serial, lu: txn.lu })?;
        }
        if !txn.log.is_empty() {
            append_log(&disk.dir, &txn.log)?;
        }
        result
    }

    /// Run `f` on every disk in parallel, results in disk order.
    fn each_disk<R: Send>(
        &self,
        f: impl Fn(&Disk) -> Result<R, BackendError> + Sync,
    ) -> Vec<Result<R, BackendError>> {
        std::thread::scope(|s| {
            let f = &f;
            let handles: Vec<_> = self.disks.iter().map(|d| s.spawn(move || f(d))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic)))
                .collect()
        })
    }

    /// The composite fence on one disk, as one atomic step (see the module doc).
    fn fence_disk(&self, disk: &Disk, key: ReservationKey) -> Result<FenceResult, BackendError> {
        let port = self.port;
        let ours = key.as_u64();
        self.command(disk, |t| {
            let pr_err = |action, e| BackendError::pr(&disk.serial, action, e);
            // PR IN READ KEYS: a newer reign (the other controller's key from our epoch
            // or later, or our own key from a later epoch) means back off.
            let newer = t
                .lu
                .read_keys()
                .keys
                .into_iter()
                .filter_map(ReservationKey::from_u64)
                .filter(|k| {
                    if k.controller() == port { k.epoch() > key.epoch() } else { k.epoch() >= key.epoch() }
                })
                .map(ReservationKey::epoch)
                .max();
            if let Some(epoch) = newer {
                return Ok(FenceResult::Superseded { epoch });
            }
            t.lu.register_and_ignore_existing_key(port, ours);
            // Every key but ours goes, whoever it belongs to.
            for victim in t.lu.read_keys().keys.into_iter().filter(|&k| k != ours) {
                t.lu.preempt_and_abort(port, ours, victim, FENCE_TYPE)
                    .map_err(|e| pr_err(ServiceAction::PreemptAndAbort, e))?;
            }
            t.lu.reserve(port, ours, FENCE_TYPE).map_err(|e| pr_err(ServiceAction::Reserve, e))?;
            // READ RESERVATION: verify, as the real backend must.
            let held = t.lu.read_reservation().reservation;
            if held != Some(pr::ReservationDescriptor { key: ours, kind: FENCE_TYPE }) {
                return Err(BackendError::ReservationConflict { disk: disk.serial.clone() });
            }
            t.log.push(LogEntry::Fence { port, key });
            Ok(FenceResult::Done)
        })
    }

    /// [`DiskOwnership::fence_and_reserve`] with every disk's own result, in disk order:
    /// `Done` or `Superseded` from the disk, or why the fence failed there.
    pub fn fence_disks(
        &self,
        key: ReservationKey,
    ) -> Result<Vec<Result<FenceResult, BackendError>>, BackendError> {
        self.check_key(key)?;
        Ok(self.each_disk(|d| self.fence_disk(d, key)))
    }

    fn release_disk(&self, disk: &Disk, key: ReservationKey) -> Result<(), BackendError> {
        let port = self.port;
        let ours = key.as_u64();
        self.command(disk, |t| {
            let was_holder = t.lu.read_reservation().reservation.is_some_and(|r| r.key == ours);
            match t.lu.release(port, ours, FENCE_TYPE) {
                Ok(()) => {}
                // Not registered with this key (preempted, or released already).
                Err(pr::PrError::ReservationConflict) => return Ok(()),
                Err(e) => return Err(BackendError::pr(&disk.serial, ServiceAction::Release, e)),
            }
            if was_holder {
                t.log.push(LogEntry::Release { port, key });
            }
            // REGISTER with a zero service action key: unregister.
            t.lu.register(port, ours, 0)
                .map_err(|e| BackendError::pr(&disk.serial, ServiceAction::Register, e))
        })
    }

    fn check_disk(&self, disk: &Disk, key: ReservationKey) -> Result<bool, BackendError> {
        self.command(disk, |t| {
            Ok(t.lu.read_reservation().reservation
                == Some(pr::ReservationDescriptor { key: key.as_u64(), kind: FENCE_TYPE }))
        })
    }

    /// A WRITE of `payload` through our port to every disk (a mirrored pool write),
    /// logged with `key`, the key the writer believes it holds. Each disk decides on
    /// its own under the SPC access rules (Write Exclusive - Registrants Only: while
    /// reserved, only registered ports write); the first refusal is returned
    /// ([`BackendError::ReservationConflict`] names the disk), after every disk was tried.
    pub fn append_record(&self, key: ReservationKey, payload: &str) -> Result<(), BackendError> {
        self.check_key(key)?;
        let port = self.port;
        let mut first_err = None;
        for disk in &self.disks {
            let r = self.command(disk, |t| {
                t.lu.check_write(port)
                    .map_err(|_| BackendError::ReservationConflict { disk: disk.serial.clone() })?;
                t.log.push(LogEntry::Write { port, key, payload: payload.to_owned() });
                Ok(())
            });
            if let Err(e) = r {
                first_err.get_or_insert(e);
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// READ disk `index`'s whole log through our port (fence and release points
    /// included), oldest first.
    pub fn read_records(&self, index: usize) -> Result<Vec<LogEntry>, BackendError> {
        let disk = self.disk(index)?;
        let port = self.port;
        self.command(disk, |t| {
            t.lu.check_read(port)
                .map_err(|_| BackendError::ReservationConflict { disk: disk.serial.clone() })?;
            read_log(&disk.dir)
        })
    }

    /// PR IN READ KEYS on disk `index`.
    pub fn read_keys(&self, index: usize) -> Result<pr::ReadKeys, BackendError> {
        let disk = self.disk(index)?;
        self.command(disk, |t| Ok(t.lu.read_keys()))
    }

    /// PR IN READ RESERVATION on disk `index`.
    pub fn read_reservation(&self, index: usize) -> Result<pr::ReadReservation, BackendError> {
        let disk = self.disk(index)?;
        self.command(disk, |t| Ok(t.lu.read_reservation()))
    }
}

impl DiskOwnership for SimDiskSet {
    fn describe(&self) -> String {
        format!("simulated JBOD {} ({} disks) via port {}", self.dir.display(), self.disks.len(), self.port)
    }

    fn disk_serials(&self) -> Result<Vec<String>, BackendError> {
        // INQUIRY needs a path like any other command.
        if self.enclosure.is_cut(self.port)? {
            let disk = self.disks.first().map(|d| d.serial.clone()).unwrap_or_default();
            return Err(BackendError::NoPath { disk });
        }
        let mut serials: Vec<String> = self.disks.iter().map(|d| d.serial.clone()).collect();
        serials.sort();
        Ok(serials)
    }

    fn fence_and_reserve(&self, key: ReservationKey) -> Result<FenceOutcome, BackendError> {
        let results = self.fence_disks(key)?;
        let total = results.len();
        let mut done = 0usize;
        let mut superseded: Option<u64> = None;
        for (disk, r) in self.disks.iter().zip(&results) {
            match r {
                Ok(FenceResult::Done) => done += 1,
                Ok(FenceResult::Superseded { epoch }) => {
                    tracing::info!(disk = %disk.serial, epoch, %key, "fence superseded by a newer key");
                    superseded = Some(superseded.map_or(*epoch, |e| e.max(*epoch)));
                }
                Ok(FenceResult::Failed) => {}
                Err(e) => tracing::warn!(disk = %disk.serial, error = %e, %key, "fence failed"),
            }
        }
        let result = match superseded {
            Some(epoch) => FenceResult::Superseded { epoch },
            None if done == total => FenceResult::Done,
            None => FenceResult::Failed,
        };
        let clamp = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        Ok(FenceOutcome { result, disks_done: clamp(done), disks_total: clamp(total) })
    }

    fn release(&self, key: ReservationKey) -> Result<(), BackendError> {
        self.check_key(key)?;
        self.each_disk(|d| self.release_disk(d, key)).into_iter().collect()
    }

    fn check(&self, key: ReservationKey) -> Result<bool, BackendError> {
        self.check_key(key)?;
        let held: Vec<bool> =
            self.each_disk(|d| self.check_disk(d, key)).into_iter().collect::<Result<_, _>>()?;
        Ok(held.into_iter().all(|h| h))
    }
}

/// The enclosure of the simulated JBOD: one cut bit per controller, each a marker file
/// (`<jbod>/enclosure/cut-A`), so setting one never races with the other. Every command
/// of a [`SimDiskSet`] checks its port's bit under the disk lock and fails with
/// [`BackendError::NoPath`] while it is set.
#[derive(Clone, Debug)]
pub struct SimEnclosure {
    jbod: PathBuf,
    dir: PathBuf,
}

impl SimEnclosure {
    /// The enclosure of the JBOD in `jbod_dir` (its `enclosure/` directory is created).
    pub fn open(jbod_dir: impl AsRef<Path>) -> Result<Self, BackendError> {
        let jbod = jbod_dir.as_ref().to_path_buf();
        let dir = jbod.join(ENCLOSURE_DIR);
        fs::create_dir_all(&dir).map_err(|e| BackendError::io(&dir, e))?;
        Ok(Self { jbod, dir })
    }

    fn marker(&self, c: Controller) -> PathBuf {
        self.dir.join(format!("cut-{}", c.letter()))
    }
}

impl EnclosureFence for SimEnclosure {
    /// Set the bit, then take and drop every disk's lock: a command of `target` that
    /// checked the bit before it was set has finished when this returns. A disk held
    /// past [`LOCK_TIMEOUT`] (its user is stopped mid-command) gives `Timeout`: the bit
    /// is set, but the in-flight command may still land.
    fn cut(&self, target: Controller) -> Result<(), BackendError> {
        let marker = self.marker(target);
        File::create(&marker).map_err(|e| BackendError::io(&marker, e))?;
        let entries = fs::read_dir(&self.jbod).map_err(|e| BackendError::io(&self.jbod, e))?;
        let mut disks: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with("disk-"))
            .map(|e| e.path())
            .filter(|p| p.join(LOCK_FILE).exists())
            .collect();
        disks.sort();
        for disk in disks {
            drop(lock_disk(&disk, &disk.display().to_string())?);
        }
        Ok(())
    }

    fn restore(&self, target: Controller) -> Result<(), BackendError> {
        let marker = self.marker(target);
        match fs::remove_file(&marker) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(BackendError::io(&marker, e)),
            _ => Ok(()),
        }
    }

    fn is_cut(&self, target: Controller) -> Result<bool, BackendError> {
        let marker = self.marker(target);
        marker.try_exists().map_err(|e| BackendError::io(&marker, e))
    }
}

/// FNV-1a, 32 bits: a stable tag for the directory in the unit serials.
fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5_u32, |h, &b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193))
}

/// Take the exclusive lock of the disk in `disk_dir`, waiting at most [`LOCK_TIMEOUT`].
fn lock_disk(disk_dir: &Path, name: &str) -> Result<Flock<File>, BackendError> {
    let path = disk_dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| BackendError::io(&path, e))?;
    let deadline = Instant::now() + LOCK_TIMEOUT;
    let mut pause = Duration::from_micros(50);
    loop {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(lock),
            Err((f, Errno::EWOULDBLOCK | Errno::EINTR)) => {
                if Instant::now() >= deadline {
                    return Err(BackendError::Timeout { disk: name.to_owned() });
                }
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(2));
                file = f;
            }
            Err((_, errno)) => return Err(BackendError::io(&path, errno.into())),
        }
    }
}

fn read_state(disk_dir: &Path) -> Result<DiskState, BackendError> {
    let path = disk_dir.join(STATE_FILE);
    let bytes = fs::read(&path).map_err(|e| BackendError::io(&path, e))?;
    serde_json::from_slice(&bytes).map_err(|e| BackendError::Corrupt { path, reason: e.to_string() })
}

fn write_state(disk_dir: &Path, state: &DiskState) -> Result<(), BackendError> {
    let tmp = disk_dir.join(STATE_TMP);
    let path = disk_dir.join(STATE_FILE);
    let json = serde_json::to_vec(state)
        .map_err(|e| BackendError::Corrupt { path: path.clone(), reason: e.to_string() })?;
    fs::write(&tmp, json).map_err(|e| BackendError::io(&tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| BackendError::io(&path, e))
}

fn append_log(disk_dir: &Path, entries: &[LogEntry]) -> Result<(), BackendError> {
    let path = disk_dir.join(LOG_FILE);
    let mut buf = Vec::new();
    for e in entries {
        serde_json::to_writer(&mut buf, e)
            .map_err(|e| BackendError::Corrupt { path: path.clone(), reason: e.to_string() })?;
        buf.push(b'\n');
    }
    let mut f =
        OpenOptions::new().append(true).create(true).open(&path).map_err(|e| BackendError::io(&path, e))?;
    f.write_all(&buf).map_err(|e| BackendError::io(&path, e))
}

fn read_log(disk_dir: &Path) -> Result<Vec<LogEntry>, BackendError> {
    let path = disk_dir.join(LOG_FILE);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(BackendError::io(&path, e)),
    };
    // Only newline-terminated lines were written whole; a torn tail is not a write.
    let complete = text.rfind('\n').map_or("", |end| &text[..end]);
    complete
        .split('\n')
        .filter(|l| !l.is_empty())
        .enumerate()
        .map(|(n, line)| {
            serde_json::from_str(line).map_err(|e| BackendError::Corrupt {
                path: path.clone(),
                reason: format!("line {}: {e}", n + 1),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Controller::{A, B};

    fn key(c: Controller, epoch: u64) -> ReservationKey {
        ReservationKey::new(c, epoch)
    }

    fn pair(dir: &Path, disks: usize) -> (SimDiskSet, SimDiskSet) {
        (SimDiskSet::open(dir, disks, A).unwrap(), SimDiskSet::open(dir, disks, B).unwrap())
    }

    fn outcome(result: FenceResult, done: u16, total: u16) -> FenceOutcome {
        FenceOutcome { result, disks_done: done, disks_total: total }
    }

    #[test]
    fn both_ports_see_the_same_disks() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 3);
        let serials = a.disk_serials().unwrap();
        assert_eq!(serials.len(), 3);
        assert_eq!(serials, b.disk_serials().unwrap());
        assert!(serials.iter().all(|s| s.starts_with("SIM-")));
        // Reopening keeps the serials; the state survives the handles.
        drop(a);
        let a = SimDiskSet::open(tmp.path(), 3, A).unwrap();
        assert_eq!(a.disk_serials().unwrap(), serials);
        assert!(a.describe().contains("3 disks"));
        assert!(matches!(SimDiskSet::open(tmp.path(), 0, A), Err(BackendError::NoSuchDisk { .. })));
        assert!(matches!(a.read_records(3), Err(BackendError::NoSuchDisk { index: 3, .. })));
    }

    #[test]
    fn fence_takes_every_disk_and_blocks_the_other_port() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 3);
        // Unreserved disks: anyone writes.
        b.append_record(key(B, 1), "b before").unwrap();
        assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap(), outcome(FenceResult::Done, 3, 3));
        assert!(a.check(key(A, 1)).unwrap());
        assert!(!b.check(key(B, 1)).unwrap());
        a.append_record(key(A, 1), "a1").unwrap();
        assert!(matches!(
            b.append_record(key(B, 1), "b late"),
            Err(BackendError::ReservationConflict { .. })
        ));
        for i in 0..3 {
            let keys = a.read_keys(i).unwrap();
            assert_eq!(keys.keys, vec![key(A, 1).as_u64()]);
            let r = b.read_reservation(i).unwrap().reservation.unwrap();
            assert_eq!((r.key, r.kind), (key(A, 1).as_u64(), FENCE_TYPE));
            let log = b.read_records(i).unwrap();
            assert_eq!(
                log,
                vec![
                    LogEntry::Write { port: B, key: key(B, 1), payload: "b before".into() },
                    LogEntry::Fence { port: A, key: key(A, 1) },
                    LogEntry::Write { port: A, key: key(A, 1), payload: "a1".into() },
                ]
            );
            check_log(&log).unwrap();
        }
        // Fencing again with the same key is idempotent.
        assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
    }

    #[test]
    fn a_newer_epoch_preempts_and_the_old_holder_is_fenced() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 2);
        assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
        a.append_record(key(A, 1), "a before").unwrap();
        assert_eq!(b.fence_and_reserve(key(B, 2)).unwrap(), outcome(FenceResult::Done, 2, 2));
        assert!(!a.check(key(A, 1)).unwrap());
        assert!(b.check(key(B, 2)).unwrap());
        let err = a.append_record(key(A, 1), "a after").unwrap_err();
        assert!(matches!(&err, BackendError::ReservationConflict { disk } if disk == a.serial(0).unwrap()));
        b.append_record(key(B, 2), "b2").unwrap();
        for i in 0..2 {
            let log = a.read_records(i).unwrap();
            check_log(&log).unwrap();
            assert!(
                !log.iter().any(|e| matches!(e, LogEntry::Write { payload, .. } if payload == "a after"))
            );
            assert_eq!(a.read_keys(i).unwrap().keys, vec![key(B, 2).as_u64()]);
        }
        // The fenced node's release does nothing (its key is gone) and is no error.
        a.release(key(A, 1)).unwrap();
        assert!(b.check(key(B, 2)).unwrap());
    }

    #[test]
    fn supersede_rules_match_the_core_disk_model() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 2);
        assert_eq!(b.fence_and_reserve(key(B, 5)).unwrap().result, FenceResult::Done);
        // The other controller's key from a later epoch: superseded.
        assert_eq!(
            a.fence_and_reserve(key(A, 4)).unwrap(),
            outcome(FenceResult::Superseded { epoch: 5 }, 0, 2)
        );
        // ... and from the same epoch (a tie goes to whoever reached the disk first).
        assert_eq!(a.fence_and_reserve(key(A, 5)).unwrap().result, FenceResult::Superseded { epoch: 5 });
        assert!(b.check(key(B, 5)).unwrap());
        // Refused fences left nothing behind: A is not even registered.
        assert_eq!(a.read_keys(0).unwrap().keys, vec![key(B, 5).as_u64()]);
        // Our own older key is replaced; our own newer key supersedes us.
        assert_eq!(b.fence_and_reserve(key(B, 7)).unwrap().result, FenceResult::Done);
        assert_eq!(b.read_keys(1).unwrap().keys, vec![key(B, 7).as_u64()]);
        assert_eq!(b.fence_and_reserve(key(B, 6)).unwrap().result, FenceResult::Superseded { epoch: 7 });
        assert!(b.check(key(B, 7)).unwrap());
        // A strictly newer epoch wins.
        assert_eq!(a.fence_and_reserve(key(A, 8)).unwrap().result, FenceResult::Done);
        // A key is only usable through its own port.
        assert!(matches!(a.fence_and_reserve(key(B, 9)), Err(BackendError::ForeignKey { port: A, .. })));
        assert!(matches!(a.append_record(key(B, 9), "x"), Err(BackendError::ForeignKey { .. })));
    }

    #[test]
    fn a_partial_supersede_reports_the_newest_epoch() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 2);
        assert_eq!(b.fence_and_reserve(key(B, 3)).unwrap().result, FenceResult::Done);
        // Disk 1 alone gets a newer key of B's (a half-finished takeover of a later reign).
        b.command(&b.disks[1], |t| {
            t.lu.register_and_ignore_existing_key(B, key(B, 9).as_u64());
            Ok(())
        })
        .unwrap();
        let per_disk = a.fence_disks(key(A, 4)).unwrap();
        assert_eq!(per_disk[0].as_ref().unwrap(), &FenceResult::Done);
        assert_eq!(per_disk[1].as_ref().unwrap(), &FenceResult::Superseded { epoch: 9 });
        assert_eq!(
            a.fence_and_reserve(key(A, 4)).unwrap(),
            outcome(FenceResult::Superseded { epoch: 9 }, 1, 2)
        );
    }

    #[test]
    fn foreign_keys_are_preempted() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 1);
        // Another initiator's key that is not one of ours (say a previous installation).
        b.command(&b.disks[0], |t| {
            t.lu.register_and_ignore_existing_key(B, 0x1234);
            t.lu.reserve(B, 0x1234, FENCE_TYPE).unwrap();
            Ok(())
        })
        .unwrap();
        assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
        assert_eq!(a.read_keys(0).unwrap().keys, vec![key(A, 1).as_u64()]);
    }

    #[test]
    fn release_gives_the_disks_back() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 2);
        assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
        a.release(key(A, 1)).unwrap();
        assert!(!a.check(key(A, 1)).unwrap());
        for i in 0..2 {
            assert_eq!(b.read_keys(i).unwrap().keys, Vec::<u64>::new());
            assert_eq!(b.read_reservation(i).unwrap().reservation, None);
        }
        // Unreserved: both write; then B takes over a released set without a newer epoch.
        b.append_record(key(B, 1), "b").unwrap();
        a.append_record(key(A, 1), "a").unwrap();
        a.release(key(A, 1)).unwrap();
        assert_eq!(b.fence_and_reserve(key(B, 2)).unwrap().result, FenceResult::Done);
        let log = a.read_records(0).unwrap();
        assert!(matches!(log[1], LogEntry::Release { port: A, .. }));
        check_log(&log).unwrap();
    }

    #[test]
    fn enclosure_cut_means_no_path() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 2);
        assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
        let enc = SimEnclosure::open(tmp.path()).unwrap();
        enc.cut(A).unwrap();
        assert!(enc.is_cut(A).unwrap() && !enc.is_cut(B).unwrap());
        assert!(a.enclosure().is_cut(A).unwrap());
        assert!(matches!(a.append_record(key(A, 1), "x"), Err(BackendError::NoPath { .. })));
        assert!(matches!(a.check(key(A, 1)), Err(BackendError::NoPath { .. })));
        assert!(matches!(a.release(key(A, 1)), Err(BackendError::NoPath { .. })));
        assert!(matches!(a.disk_serials(), Err(BackendError::NoPath { .. })));
        assert!(matches!(a.read_records(0), Err(BackendError::NoPath { .. })));
        let per_disk = a.fence_disks(key(A, 2)).unwrap();
        assert!(per_disk.iter().all(|r| matches!(r, Err(BackendError::NoPath { .. }))));
        assert_eq!(a.fence_and_reserve(key(A, 2)).unwrap(), outcome(FenceResult::Failed, 0, 2));
        // B's path is intact: it takes over.
        assert_eq!(b.fence_and_reserve(key(B, 2)).unwrap().result, FenceResult::Done);
        enc.restore(A).unwrap();
        enc.restore(A).unwrap();
        assert!(!enc.is_cut(A).unwrap());
        assert!(!a.check(key(A, 1)).unwrap());
    }

    #[test]
    fn cut_waits_for_commands_in_flight() {
        use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
        let tmp = tempfile::tempdir().unwrap();
        let (a, _b) = pair(tmp.path(), 1);
        let enc = SimEnclosure::open(tmp.path()).unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        let finished = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                a.command(&a.disks[0], |_| {
                    tx.send(()).unwrap();
                    std::thread::sleep(Duration::from_millis(100));
                    finished.store(true, SeqCst);
                    Ok(())
                })
                .unwrap();
            });
            rx.recv().unwrap();
            enc.cut(A).unwrap();
            assert!(finished.load(SeqCst), "cut returned while a command was in flight");
        });
    }

    #[test]
    fn a_stuck_disk_times_out() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 1);
        // Hold disk 0's lock as a stopped process would.
        let _held = lock_disk(&a.disks[0].dir, "held").unwrap();
        let t0 = Instant::now();
        let err = b.check(key(B, 1)).unwrap_err();
        assert!(matches!(&err, BackendError::Timeout { disk } if disk == b.serial(0).unwrap()), "{err}");
        assert!(t0.elapsed() >= LOCK_TIMEOUT);
    }

    #[test]
    fn concurrent_fences_leave_one_holder() {
        for round in 0..20 {
            let tmp = tempfile::tempdir().unwrap();
            let (a, b) = pair(tmp.path(), 4);
            // Distinct epochs: the newer reign ends up holding every disk.
            let (ra, rb) = std::thread::scope(|s| {
                let ha = s.spawn(|| a.fence_and_reserve(key(A, 5)).unwrap());
                let hb = s.spawn(|| b.fence_and_reserve(key(B, 6)).unwrap());
                (ha.join().unwrap(), hb.join().unwrap())
            });
            assert_eq!(rb.result, FenceResult::Done, "round {round}");
            assert!(matches!(ra.result, FenceResult::Done | FenceResult::Superseded { epoch: 6 }));
            assert!(b.check(key(B, 6)).unwrap() && !a.check(key(A, 5)).unwrap());
            // Equal epochs: every disk has exactly one holder, at most one side got all.
            let (ra, rb) = std::thread::scope(|s| {
                let ha = s.spawn(|| a.fence_and_reserve(key(A, 7)).unwrap());
                let hb = s.spawn(|| b.fence_and_reserve(key(B, 7)).unwrap());
                (ha.join().unwrap(), hb.join().unwrap())
            });
            assert!(!(ra.result == FenceResult::Done && rb.result == FenceResult::Done));
            assert_eq!(ra.disks_done + rb.disks_done, 4, "round {round}: {ra:?} {rb:?}");
            for i in 0..4 {
                let keys = a.read_keys(i).unwrap().keys;
                let holder = a.read_reservation(i).unwrap().reservation.unwrap().key;
                assert_eq!(keys, vec![holder]);
            }
            assert_eq!(a.check(key(A, 7)).unwrap(), ra.result == FenceResult::Done);
            assert_eq!(b.check(key(B, 7)).unwrap(), rb.result == FenceResult::Done);
        }
    }

    #[test]
    fn no_write_lands_after_the_fence_point() {
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
        let tmp = tempfile::tempdir().unwrap();
        let (a, b) = pair(tmp.path(), 3);
        assert_eq!(a.fence_and_reserve(key(A, 1)).unwrap().result, FenceResult::Done);
        let (stop, landed, refused) = (AtomicBool::new(false), AtomicUsize::new(0), AtomicUsize::new(0));
        let wait_for = |counter: &AtomicUsize| {
            let deadline = Instant::now() + Duration::from_secs(20);
            while counter.load(Relaxed) < 5 {
                assert!(Instant::now() < deadline, "the writer does not progress");
                std::thread::sleep(Duration::from_millis(1));
            }
        };
        std::thread::scope(|s| {
            // A keeps writing through the takeover, as a wedged-but-alive active would.
            s.spawn(|| {
                for n in 0.. {
                    if stop.load(Relaxed) {
                        break;
                    }
                    match a.append_record(key(A, 1), &format!("a{n}")) {
                        Ok(()) => landed.fetch_add(1, Relaxed),
                        Err(BackendError::ReservationConflict { .. }) => refused.fetch_add(1, Relaxed),
                        Err(e) => panic!("{e}"),
                    };
                }
            });
            wait_for(&landed);
            assert_eq!(b.fence_and_reserve(key(B, 2)).unwrap().result, FenceResult::Done);
            wait_for(&refused);
            stop.store(true, Relaxed);
        });
        for i in 0..3 {
            let log = b.read_records(i).unwrap();
            check_log(&log).unwrap();
            let fence = log.iter().position(|e| matches!(e, LogEntry::Fence { port: B, .. })).unwrap();
            assert!(fence >= 5, "A's writes before the fence landed");
            assert!(log[fence..].iter().all(|e| entry_port(e) == B));
        }
    }

    #[test]
    fn check_log_finds_a_write_after_the_fence() {
        let w = |port, e| LogEntry::Write { port, key: key(port, e), payload: String::new() };
        let ok = [w(A, 1), LogEntry::Fence { port: B, key: key(B, 2) }, w(B, 2)];
        check_log(&ok).unwrap();
        let bad = [LogEntry::Fence { port: B, key: key(B, 2) }, w(B, 2), w(A, 1)];
        let v = check_log(&bad).unwrap_err();
        assert_eq!((v.index, v.owner), (2, key(B, 2)));
        let released = [
            LogEntry::Fence { port: B, key: key(B, 2) },
            LogEntry::Release { port: B, key: key(B, 2) },
            w(A, 1),
        ];
        check_log(&released).unwrap();
    }

    #[test]
    fn torn_and_corrupt_logs() {
        let tmp = tempfile::tempdir().unwrap();
        let (a, _b) = pair(tmp.path(), 1);
        a.append_record(key(A, 1), "whole").unwrap();
        let log = a.disks[0].dir.join(LOG_FILE);
        // A write cut short by a kill: not a write.
        OpenOptions::new().append(true).open(&log).unwrap().write_all(b"{\"kind\":\"wri").unwrap();
        assert_eq!(a.read_records(0).unwrap().len(), 1);
        OpenOptions::new().append(true).open(&log).unwrap().write_all(b"\n").unwrap();
        assert!(matches!(a.read_records(0), Err(BackendError::Corrupt { .. })));
        fs::write(a.disks[0].dir.join(STATE_FILE), b"{").unwrap();
        assert!(matches!(a.check(key(A, 1)), Err(BackendError::Corrupt { .. })));
    }

    #[test]
    fn log_keys_are_readable_hex() {
        let e = LogEntry::Fence { port: A, key: key(A, 3) };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"kind":"fence","port":"A","key":"0x4641000000000003"}"#);
        assert_eq!(serde_json::from_str::<LogEntry>(&json).unwrap(), e);
        assert!(serde_json::from_str::<LogEntry>(r#"{"kind":"fence","port":"A","key":"0x12"}"#).is_err());
    }
}
