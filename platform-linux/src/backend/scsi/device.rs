//! One path to one logical unit: typed commands with the retries a shared disk needs.
//!
//! - **Unit attentions.** A device reports each change (power on / reset, reservations
//!   or registrations preempted, parameters changed) once per I_T nexus, as CHECK
//!   CONDITION / UNIT ATTENTION on the next command, which it does not execute (LIO does
//!   exactly this with PR OUT). The preempted controller meets one on its first command
//!   after a takeover. Every command is retried after draining the pending attentions
//!   with TEST UNIT READY, at most [`MAX_RETRIES`] times.
//! - **BUSY / TASK SET FULL** are retried after a short pause, within the same budget.
//! - **Deadlines.** Every operation takes the instant by which it must be over; each
//!   command's timeout is the per-command timeout or what is left, whichever is less,
//!   and no command starts after the deadline.
//! - **Errors** name the unit (its NAA / T10 designator or serial) and the device path,
//!   the command, and the condition (sense, status, transport).

use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::backend::BackendError;
use crate::backend::pr::{self, ReadKeys, ReservationType, ServiceAction};
use crate::config::PreemptMode;

use super::cdb::{self, PrInAction, PrOutParams, VPD_DEVICE_ID, VPD_UNIT_SERIAL};
use super::parse::{self, Capacity, Designator, ParseError, ReservationStatus, StandardInquiry};
use super::sense::{Sense, SenseKey, asc};
use super::sg_io::SgIo;
use super::transport::{Data, Failure, ScsiTransport};

/// Retries per command for unit attentions and BUSY. A device queues one attention per
/// condition (power on, reservations preempted, registrations preempted, parameters
/// changed ...), so a handful may be pending at once; more than this means the device
/// keeps raising new ones and the command is failed.
pub const MAX_RETRIES: u32 = 8;

/// Pause before retrying after BUSY / TASK SET FULL, times the attempt number.
const BUSY_PAUSE: Duration = Duration::from_millis(10);

/// Initial allocation for PR IN: the header and 32 keys. A device with more
/// registrations (many paths) says so in ADDITIONAL LENGTH and the command is repeated
/// with the size it needs.
const PR_IN_ALLOC: u16 = 8 + 32 * 8;

/// Allocation for standard INQUIRY: the 36 bytes we parse and the usual 96 devices send.
const INQUIRY_ALLOC: u16 = 96;

/// Initial allocation for the VPD pages.
const VPD_ALLOC: u16 = 512;

/// The largest logical block the backend reads or writes (a lying READ CAPACITY must
/// not make it allocate gigabytes).
const MAX_BLOCK_LEN: u32 = 64 * 1024;

/// Who a device is: what both controllers compare, and what logs name.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct DiskIdentity {
    /// The logical unit's name: its NAA, EUI-64, T10 or SCSI name designator (VPD
    /// page 83h, as Linux names devices: `naa.6001405…`), else its unit serial number.
    /// Both ports of a dual-ported disk report the same one.
    pub id: String,
    /// The unit serial number (VPD page 80h), if reported.
    pub serial: Option<String>,
    /// T10 vendor identification.
    pub vendor: String,
    /// Product identification.
    pub product: String,
}

/// One path (I_T nexus) to one logical unit.
#[derive(Debug)]
pub struct ScsiDevice {
    path: PathBuf,
    transport: Box<dyn ScsiTransport>,
    identity: DiskIdentity,
    /// `<id> at <path>`: what every error and log line names.
    name: String,
    command_timeout: Duration,
    block_len: OnceLock<u32>,
}

impl ScsiDevice {
    /// Open `path` (`/dev/sgN` or `/dev/sdX`) and identify the unit behind it (standard
    /// INQUIRY, VPD pages 83h and 80h) within `deadline`.
    pub fn open(
        path: impl AsRef<Path>,
        command_timeout: Duration,
        deadline: Instant,
    ) -> Result<Self, BackendError> {
        let path = path.as_ref();
        let transport = SgIo::open(path).map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO | libc::ENODEV) => BackendError::NoPath { disk: path.display().to_string() },
            _ => BackendError::io(path, e),
        })?;
        Self::with_transport(path, Box::new(transport), command_timeout, deadline)
    }

    /// Identify the unit behind `transport` (reached through `path`), as [`Self::open`].
    /// Refuses anything but a connected direct-access block device, and a unit without
    /// an identity.
    pub fn with_transport(
        path: impl Into<PathBuf>,
        transport: Box<dyn ScsiTransport>,
        command_timeout: Duration,
        deadline: Instant,
    ) -> Result<Self, BackendError> {
        let path = path.into();
        let name = path.display().to_string();
        let identity =
            DiskIdentity { id: String::new(), serial: None, vendor: String::new(), product: String::new() };
        let mut dev = Self { path, transport, identity, name, command_timeout, block_len: OnceLock::new() };
        let inquiry = dev.inquiry(deadline)?;
        if inquiry.qualifier != 0 || inquiry.device_type != 0 {
            return Err(BackendError::NotADisk {
                disk: dev.name,
                qualifier: inquiry.qualifier,
                device_type: inquiry.device_type,
            });
        }
        // A device without a page says ILLEGAL REQUEST (INVALID FIELD IN CDB).
        let unsupported = |e: &BackendError| matches!(e, BackendError::Sense { sense, .. } if sense.key == SenseKey::IllegalRequest);
        let designators = match dev.device_identification(deadline) {
            Err(e) if unsupported(&e) => Vec::new(),
            r => r?,
        };
        let serial = match dev.unit_serial(deadline) {
            Err(e) if unsupported(&e) => None,
            r => r?,
        };
        let id = parse::logical_unit_name(&designators)
            .or_else(|| serial.clone())
            .ok_or_else(|| BackendError::NoIdentity { disk: dev.name.clone() })?;
        dev.name = format!("{id} at {}", dev.path.display());
        dev.identity = DiskIdentity { id, serial, vendor: inquiry.vendor, product: inquiry.product };
        Ok(dev)
    }

    /// The device path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The unit's identity.
    pub fn identity(&self) -> &DiskIdentity {
        &self.identity
    }

    /// The unit's name ([`DiskIdentity::id`]).
    pub fn id(&self) -> &str {
        &self.identity.id
    }

    /// `<id> at <path>`, as errors and logs name the disk.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// TEST UNIT READY.
    pub fn test_unit_ready(&self, deadline: Instant) -> Result<(), BackendError> {
        self.run(&cdb::test_unit_ready(), Data::None, deadline).map(drop)
    }

    /// Standard INQUIRY.
    pub fn inquiry(&self, deadline: Instant) -> Result<StandardInquiry, BackendError> {
        self.fetch(|n| cdb::inquiry(None, n), INQUIRY_ALLOC, parse::standard_inquiry, deadline)
    }

    /// The unit serial number (VPD page 80h); `None` if blank.
    pub fn unit_serial(&self, deadline: Instant) -> Result<Option<String>, BackendError> {
        self.fetch(|n| cdb::inquiry(Some(VPD_UNIT_SERIAL), n), VPD_ALLOC, parse::unit_serial, deadline)
    }

    /// The designation descriptors (VPD page 83h).
    pub fn device_identification(&self, deadline: Instant) -> Result<Vec<Designator>, BackendError> {
        self.fetch(
            |n| cdb::inquiry(Some(VPD_DEVICE_ID), n),
            VPD_ALLOC,
            parse::device_identification,
            deadline,
        )
    }

    /// PR IN READ KEYS: PRgeneration and every registered key.
    pub fn read_keys(&self, deadline: Instant) -> Result<ReadKeys, BackendError> {
        self.fetch(|n| cdb::pr_in(PrInAction::ReadKeys, n), PR_IN_ALLOC, parse::read_keys, deadline)
    }

    /// PR IN READ RESERVATION: PRgeneration and the reservation, if any.
    pub fn read_reservation(&self, deadline: Instant) -> Result<ReservationStatus, BackendError> {
        self.fetch(
            |n| cdb::pr_in(PrInAction::ReadReservation, n),
            PR_IN_ALLOC,
            parse::read_reservation,
            deadline,
        )
    }

    /// PR OUT REGISTER: replace `key` (zero if unregistered) with `new_key` (zero:
    /// unregister, which releases a registrants-only reservation we hold).
    pub fn register(&self, key: u64, new_key: u64, deadline: Instant) -> Result<(), BackendError> {
        let params = PrOutParams { key, service_action_key: new_key, aptpl: false };
        self.pr_out(ServiceAction::Register, None, params, deadline)
    }

    /// PR OUT REGISTER AND IGNORE EXISTING KEY: register `new_key` for this path whatever
    /// it had (zero: unregister).
    pub fn register_ignore(&self, new_key: u64, deadline: Instant) -> Result<(), BackendError> {
        let params = PrOutParams { key: 0, service_action_key: new_key, aptpl: false };
        self.pr_out(ServiceAction::RegisterAndIgnoreExistingKey, None, params, deadline)
    }

    /// PR OUT RESERVE with type `kind`, registered with `key`.
    pub fn reserve(&self, key: u64, kind: ReservationType, deadline: Instant) -> Result<(), BackendError> {
        let params = PrOutParams { key, ..PrOutParams::default() };
        self.pr_out(ServiceAction::Reserve, Some(kind), params, deadline)
    }

    /// PR OUT RELEASE of a `kind` reservation, registered with `key`.
    pub fn release(&self, key: u64, kind: ReservationType, deadline: Instant) -> Result<(), BackendError> {
        let params = PrOutParams { key, ..PrOutParams::default() };
        self.pr_out(ServiceAction::Release, Some(kind), params, deadline)
    }

    /// PR OUT CLEAR: every registration and the reservation go.
    pub fn clear(&self, key: u64, deadline: Instant) -> Result<(), BackendError> {
        let params = PrOutParams { key, ..PrOutParams::default() };
        self.pr_out(ServiceAction::Clear, None, params, deadline)
    }

    /// PR OUT PREEMPT or PREEMPT AND ABORT (`mode`) of `victim`, registered with `key`;
    /// if `victim` held the reservation, it becomes ours with type `kind`.
    pub fn preempt(
        &self,
        key: u64,
        victim: u64,
        kind: ReservationType,
        mode: PreemptMode,
        deadline: Instant,
    ) -> Result<(), BackendError> {
        let action = match mode {
            PreemptMode::Preempt => ServiceAction::Preempt,
            PreemptMode::PreemptAndAbort => ServiceAction::PreemptAndAbort,
        };
        let params = PrOutParams { key, service_action_key: victim, aptpl: false };
        self.pr_out(action, Some(kind), params, deadline)
    }

    /// READ CAPACITY (10).
    pub fn read_capacity(&self, deadline: Instant) -> Result<Capacity, BackendError> {
        self.fetch(|_| cdb::read_capacity_10(), cdb::READ_CAPACITY_10_LEN as u16, parse::capacity, deadline)
    }

    /// READ (10) of the block at `lba`.
    pub fn read_block(&self, lba: u32, deadline: Instant) -> Result<Vec<u8>, BackendError> {
        let len = self.block_len(deadline)?;
        let mut block = vec![0u8; len];
        let cdb = cdb::read_10(lba, 1);
        let got = self.run(&cdb, Data::FromDevice(&mut block), deadline)?;
        if got < len {
            let error = ParseError::Short { field: "READ (10) data", need: len, got };
            return Err(BackendError::BadResponse {
                disk: self.name.clone(),
                command: cdb::command_name(&cdb),
                error,
            });
        }
        Ok(block)
    }

    /// WRITE (10) of `data`, zero-padded to one block, at `lba`. The write is refused
    /// (RESERVATION CONFLICT) once another controller has fenced this path.
    pub fn write_block(&self, lba: u32, data: &[u8], deadline: Instant) -> Result<(), BackendError> {
        let len = self.block_len(deadline)?;
        let Some(mut block) = (data.len() <= len).then(|| data.to_vec()) else {
            let reason = format!("{} bytes do not fit one {len}-byte block", data.len());
            return Err(BackendError::io(
                &self.path,
                std::io::Error::new(std::io::ErrorKind::InvalidInput, reason),
            ));
        };
        block.resize(len, 0);
        self.run(&cdb::write_10(lba, 1), Data::ToDevice(&block), deadline).map(drop)
    }

    /// The logical block length, read once.
    fn block_len(&self, deadline: Instant) -> Result<usize, BackendError> {
        let len = match self.block_len.get() {
            Some(&n) => n,
            None => {
                let c = self.read_capacity(deadline)?;
                if c.block_len > MAX_BLOCK_LEN {
                    let error = ParseError::Invalid {
                        field: "READ CAPACITY LOGICAL BLOCK LENGTH",
                        value: u64::from(c.block_len),
                    };
                    let command = cdb::command_name(&cdb::read_capacity_10());
                    return Err(BackendError::BadResponse { disk: self.name.clone(), command, error });
                }
                *self.block_len.get_or_init(|| c.block_len)
            }
        };
        Ok(len as usize)
    }

    /// A PR OUT command; the statuses the PR model names map to its errors, as the
    /// simulated disk reports them.
    fn pr_out(
        &self,
        action: ServiceAction,
        kind: Option<ReservationType>,
        params: PrOutParams,
        deadline: Instant,
    ) -> Result<(), BackendError> {
        let bytes = params.to_bytes();
        match self.run(&cdb::pr_out(action, kind), Data::ToDevice(&bytes), deadline) {
            Ok(_) => Ok(()),
            Err(BackendError::Sense { sense, .. })
                if sense.is(SenseKey::IllegalRequest, asc::INVALID_RELEASE) =>
            {
                Err(BackendError::pr(&self.name, action, pr::PrError::InvalidRelease))
            }
            Err(BackendError::Sense { sense, .. })
                if sense.is(SenseKey::IllegalRequest, asc::INVALID_FIELD_IN_PARAMETER_LIST) =>
            {
                Err(BackendError::pr(&self.name, action, pr::PrError::InvalidFieldInParameterList))
            }
            Err(e) => Err(e),
        }
    }

    /// A data-in command parsed by `parse`. If the data says it is longer than the
    /// allocation (ADDITIONAL LENGTH, PAGE LENGTH), the command is repeated once with
    /// the length it needs (at most 65535 bytes, the largest allocation length).
    fn fetch<const N: usize, T>(
        &self,
        cdb_for: impl Fn(u16) -> [u8; N],
        alloc: u16,
        parse: impl Fn(&[u8]) -> Result<T, ParseError>,
        deadline: Instant,
    ) -> Result<T, BackendError> {
        let mut alloc = alloc;
        loop {
            let cdb = cdb_for(alloc);
            let mut buf = vec![0u8; usize::from(alloc)];
            let got = self.run(&cdb, Data::FromDevice(&mut buf), deadline)?;
            match parse(buf.get(..got).unwrap_or_default()) {
                Err(ParseError::Truncated { need, .. }) if need > usize::from(alloc) && alloc < u16::MAX => {
                    alloc = u16::try_from(need).unwrap_or(u16::MAX);
                }
                r => {
                    return r.map_err(|error| BackendError::BadResponse {
                        disk: self.name.clone(),
                        command: cdb::command_name(&cdb),
                        error,
                    });
                }
            }
        }
    }

    /// Send `cdb`, retrying unit attentions and BUSY; the bytes transferred.
    fn run(&self, cdb: &[u8], mut data: Data<'_>, deadline: Instant) -> Result<usize, BackendError> {
        let command = cdb::command_name(cdb);
        let requested = data.len();
        let mut retries = 0;
        loop {
            let completion = self.submit(cdb, data.reborrow(), deadline)?;
            let failure = match completion.outcome() {
                Ok(()) => return Ok(completion.transferred(requested)),
                Err(f) => f,
            };
            match failure {
                Failure::CheckCondition(sense) if sense.is_unit_attention() && retries < MAX_RETRIES => {
                    retries += 1;
                    self.log_attention(command, &sense);
                    self.drain_attentions(deadline)?;
                }
                Failure::Busy(status) if retries < MAX_RETRIES => {
                    retries += 1;
                    tracing::debug!(disk = %self.name, command, %status, retries, "device busy; retrying");
                    let left = deadline.saturating_duration_since(Instant::now());
                    std::thread::sleep((BUSY_PAUSE * retries).min(left));
                }
                f => return Err(self.failure(command, f)),
            }
        }
    }

    /// TEST UNIT READY until no unit attention is left (at most [`MAX_RETRIES`]). Any
    /// other answer ends the drain: the command's own retry reports it if it persists.
    fn drain_attentions(&self, deadline: Instant) -> Result<(), BackendError> {
        let tur = cdb::test_unit_ready();
        for _ in 0..MAX_RETRIES {
            match self.submit(&tur, Data::None, deadline)?.outcome() {
                Err(Failure::CheckCondition(sense)) if sense.is_unit_attention() => {
                    self.log_attention("TEST UNIT READY", &sense);
                }
                _ => break,
            }
        }
        Ok(())
    }

    fn log_attention(&self, command: &'static str, sense: &Sense) {
        let code = (sense.asc, sense.ascq);
        if [asc::RESERVATIONS_PREEMPTED, asc::REGISTRATIONS_PREEMPTED, asc::RESERVATIONS_RELEASED]
            .contains(&code)
        {
            tracing::info!(disk = %self.name, command, %sense, "unit attention: another initiator changed the reservation");
        } else {
            tracing::debug!(disk = %self.name, command, %sense, "unit attention");
        }
    }

    /// One command through the transport, with the timeout the deadline leaves.
    fn submit(
        &self,
        cdb: &[u8],
        mut data: Data<'_>,
        deadline: Instant,
    ) -> Result<super::transport::Completion, BackendError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(BackendError::Timeout { disk: self.name.clone() });
            }
            match self.transport.execute(cdb, data.reborrow(), self.command_timeout.min(left)) {
                Ok(c) => return Ok(c),
                // A signal ended the wait; the command may or may not have run. Every
                // command the backend sends may be repeated.
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(cdb, e)),
            }
        }
    }

    fn io_error(&self, cdb: &[u8], e: std::io::Error) -> BackendError {
        match e.raw_os_error() {
            Some(libc::ENODEV | libc::ENXIO) => BackendError::NoPath { disk: self.name.clone() },
            _ => {
                let context = format!("{}: {}: {e}", self.identity.id, cdb::command_name(cdb));
                BackendError::io(&self.path, std::io::Error::new(e.kind(), context))
            }
        }
    }

    fn failure(&self, command: &'static str, f: Failure) -> BackendError {
        let disk = self.name.clone();
        match f {
            Failure::ReservationConflict => BackendError::ReservationConflict { disk },
            Failure::CheckCondition(sense) => BackendError::Sense { disk, command, sense },
            Failure::BadSense(error) => BackendError::BadResponse { disk, command, error },
            Failure::Busy(status) | Failure::Status(status) => {
                BackendError::ScsiStatus { disk, command, status }
            }
            Failure::Timeout => BackendError::Timeout { disk },
            Failure::NoPath(host) => {
                tracing::debug!(disk = %self.name, command, %host, "no path");
                BackendError::NoPath { disk }
            }
            Failure::Transport(host_status, driver_status) => {
                BackendError::Transport { disk, command, host_status, driver_status }
            }
        }
    }
}
