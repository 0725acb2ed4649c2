//! One SCSI command's round trip, independent of how it travels: what goes to the
//! device (CDB, data buffer, timeout), what comes back (SCSI status, the HBA's and the
//! kernel's status, sense data, residue), and what that means ([`Completion::outcome`]).
//!
//! [`super::sg_io::SgIo`] carries commands through the SG_IO ioctl; tests carry them to
//! an in-memory device server. Everything above this trait is the same for both.

use std::fmt;
use std::time::Duration;

use super::parse::ParseError;
use super::sense::Sense;

/// The data phase of a command.
#[derive(Debug)]
pub enum Data<'a> {
    /// No data (TEST UNIT READY, a command with no parameter list).
    None,
    /// Data in: the device writes at most this many bytes.
    FromDevice(&'a mut [u8]),
    /// Data out: the parameter list or the blocks to write.
    ToDevice(&'a [u8]),
}

impl Data<'_> {
    /// The same buffer again, for a retry.
    pub fn reborrow(&mut self) -> Data<'_> {
        match self {
            Data::None => Data::None,
            Data::FromDevice(b) => Data::FromDevice(b),
            Data::ToDevice(b) => Data::ToDevice(b),
        }
    }

    /// Bytes the buffer holds.
    pub fn len(&self) -> usize {
        match self {
            Data::None => 0,
            Data::FromDevice(b) => b.len(),
            Data::ToDevice(b) => b.len(),
        }
    }

    /// Whether there is no data phase.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What came back from the device, the HBA driver and the SCSI midlayer.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// The SCSI status byte (SAM-5 table 39).
    pub status: u8,
    /// The HBA driver's status (Linux `DID_*`).
    pub host_status: u16,
    /// The midlayer's status (Linux `DRIVER_*`).
    pub driver_status: u16,
    /// Sense data, as much as was written.
    pub sense: Vec<u8>,
    /// Bytes requested but not transferred.
    pub resid: i32,
}

/// Carries commands to one logical unit over one path (one I_T nexus).
pub trait ScsiTransport: Send + Sync + fmt::Debug {
    /// Send `cdb` with `data`, waiting at most `timeout` for the device (the transport
    /// aborts the command after that). `Err` means the command could not be submitted or
    /// its fate is unknown to the OS (the device is gone, the fd is not a SCSI device).
    fn execute(&self, cdb: &[u8], data: Data<'_>, timeout: Duration) -> std::io::Result<Completion>;
}

/// SCSI status codes (SAM-5 table 39).
pub mod status {
    /// GOOD.
    pub const GOOD: u8 = 0x00;
    /// CHECK CONDITION: sense data says why.
    pub const CHECK_CONDITION: u8 = 0x02;
    /// CONDITION MET (a successful PRE-FETCH).
    pub const CONDITION_MET: u8 = 0x04;
    /// BUSY: the LU cannot accept a command now.
    pub const BUSY: u8 = 0x08;
    /// RESERVATION CONFLICT.
    pub const RESERVATION_CONFLICT: u8 = 0x18;
    /// TASK SET FULL: the LU's queue is full.
    pub const TASK_SET_FULL: u8 = 0x28;
    /// ACA ACTIVE.
    pub const ACA_ACTIVE: u8 = 0x30;
    /// TASK ABORTED.
    pub const TASK_ABORTED: u8 = 0x40;
}

/// Linux host (HBA driver) status codes, `include/scsi/scsi_status.h` (`DID_*`).
pub mod host {
    /// No error.
    pub const DID_OK: u16 = 0x00;
    /// Could not connect before the timeout.
    pub const DID_NO_CONNECT: u16 = 0x01;
    /// The command timed out.
    pub const DID_TIME_OUT: u16 = 0x03;
    /// The target is gone.
    pub const DID_BAD_TARGET: u16 = 0x04;
    /// The transport blocked the port while it recovers the link.
    pub const DID_TRANSPORT_DISRUPTED: u16 = 0x0E;
    /// The transport class failed the command fast (the remote port is gone).
    pub const DID_TRANSPORT_FAILFAST: u16 = 0x0F;
}

/// Linux driver status: the low nibble (`DRIVER_*`); the high nibble holds obsolete
/// "suggestions".
pub mod driver {
    /// Mask of the status proper.
    pub const MASK: u16 = 0x0F;
    /// The command timed out.
    pub const DRIVER_TIMEOUT: u16 = 0x06;
    /// Sense data was returned (not an error by itself).
    pub const DRIVER_SENSE: u16 = 0x08;
}

/// A SCSI status byte, named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ScsiStatus(pub u8);

impl fmt::Display for ScsiStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.0 {
            status::GOOD => "GOOD",
            status::CHECK_CONDITION => "CHECK CONDITION",
            status::CONDITION_MET => "CONDITION MET",
            status::BUSY => "BUSY",
            status::RESERVATION_CONFLICT => "RESERVATION CONFLICT",
            status::TASK_SET_FULL => "TASK SET FULL",
            status::ACA_ACTIVE => "ACA ACTIVE",
            status::TASK_ABORTED => "TASK ABORTED",
            _ => "status",
        };
        write!(f, "{name} ({:#04x})", self.0)
    }
}

/// A Linux host status, named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HostStatus(pub u16);

impl fmt::Display for HostStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 0x15] = [
            "DID_OK",
            "DID_NO_CONNECT",
            "DID_BUS_BUSY",
            "DID_TIME_OUT",
            "DID_BAD_TARGET",
            "DID_ABORT",
            "DID_PARITY",
            "DID_ERROR",
            "DID_RESET",
            "DID_BAD_INTR",
            "DID_PASSTHROUGH",
            "DID_SOFT_ERROR",
            "DID_IMM_RETRY",
            "DID_REQUEUE",
            "DID_TRANSPORT_DISRUPTED",
            "DID_TRANSPORT_FAILFAST",
            "DID_TARGET_FAILURE",
            "DID_NEXUS_FAILURE",
            "DID_ALLOC_FAILURE",
            "DID_MEDIUM_ERROR",
            "DID_TRANSPORT_MARGINAL",
        ];
        let name = NAMES.get(usize::from(self.0)).copied().unwrap_or("host status");
        write!(f, "{name} ({:#04x})", self.0)
    }
}

/// A Linux driver status, named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DriverStatus(pub u16);

impl fmt::Display for DriverStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [&str; 9] = [
            "DRIVER_OK",
            "DRIVER_BUSY",
            "DRIVER_SOFT",
            "DRIVER_MEDIA",
            "DRIVER_ERROR",
            "DRIVER_INVALID",
            "DRIVER_TIMEOUT",
            "DRIVER_HARD",
            "DRIVER_SENSE",
        ];
        let name = NAMES.get(usize::from(self.0 & driver::MASK)).copied().unwrap_or("driver status");
        write!(f, "{name} ({:#04x})", self.0)
    }
}

/// How a command failed, before it is tied to a device and a command name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// Status RESERVATION CONFLICT.
    ReservationConflict,
    /// CHECK CONDITION with this sense (never NO SENSE / RECOVERED ERROR: those succeed).
    CheckCondition(Sense),
    /// CHECK CONDITION without usable sense data.
    BadSense(ParseError),
    /// BUSY or TASK SET FULL: worth another try shortly.
    Busy(ScsiStatus),
    /// Any other status.
    Status(ScsiStatus),
    /// The command timed out (the HBA or the midlayer aborted it).
    Timeout,
    /// No path to the device: the target or its port is gone.
    NoPath(HostStatus),
    /// Any other HBA or midlayer failure.
    Transport(HostStatus, DriverStatus),
}

impl Completion {
    /// Bytes actually transferred of `requested`: `requested - resid`, clamped (a
    /// driver reporting a negative or oversized residue does not make the caller read
    /// past its buffer).
    pub fn transferred(&self, requested: usize) -> usize {
        let resid = usize::try_from(self.resid).unwrap_or(0);
        requested.saturating_sub(resid)
    }

    /// What the command's completion means.
    ///
    /// RESERVATION CONFLICT is the device's answer, whatever else is set; then the HBA
    /// (a timeout or a lost target means the status byte is not the device's), then the
    /// midlayer, then the status byte. CHECK CONDITION with NO SENSE or RECOVERED ERROR
    /// means the command completed.
    pub fn outcome(&self) -> Result<(), Failure> {
        if self.status == status::RESERVATION_CONFLICT {
            return Err(Failure::ReservationConflict);
        }
        match self.host_status {
            host::DID_OK => {}
            host::DID_TIME_OUT => return Err(Failure::Timeout),
            host::DID_NO_CONNECT | host::DID_BAD_TARGET | host::DID_TRANSPORT_FAILFAST => {
                return Err(Failure::NoPath(HostStatus(self.host_status)));
            }
            h => return Err(Failure::Transport(HostStatus(h), DriverStatus(self.driver_status))),
        }
        match self.driver_status & driver::MASK {
            0 | driver::DRIVER_SENSE => {}
            driver::DRIVER_TIMEOUT => return Err(Failure::Timeout),
            _ => {
                return Err(Failure::Transport(
                    HostStatus(self.host_status),
                    DriverStatus(self.driver_status),
                ));
            }
        }
        match self.status & 0x7E {
            status::GOOD | status::CONDITION_MET => Ok(()),
            status::CHECK_CONDITION => match Sense::decode(&self.sense) {
                Ok(s) if s.is_success() => Ok(()),
                Ok(s) => Err(Failure::CheckCondition(s)),
                Err(e) => Err(Failure::BadSense(e)),
            },
            status::BUSY | status::TASK_SET_FULL => Err(Failure::Busy(ScsiStatus(self.status))),
            _ => Err(Failure::Status(ScsiStatus(self.status))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::scsi::sense::{SenseFormat, SenseKey};

    fn ua_sense() -> Vec<u8> {
        vec![0x70, 0, 0x06, 0, 0, 0, 0, 0x0A, 0, 0, 0, 0, 0x29, 0x00, 0, 0, 0, 0]
    }

    #[test]
    fn outcomes() {
        let good = Completion::default();
        assert_eq!(good.outcome(), Ok(()));
        let conflict = Completion { status: 0x18, ..good.clone() };
        assert_eq!(conflict.outcome(), Err(Failure::ReservationConflict));
        // Conflict wins over a host status set alongside it (old kernels set
        // DID_NEXUS_FAILURE with it).
        let conflict_nexus = Completion { host_status: 0x11, ..conflict };
        assert_eq!(conflict_nexus.outcome(), Err(Failure::ReservationConflict));
        let ua = Completion { status: 0x02, driver_status: 0x08, sense: ua_sense(), ..good.clone() };
        let Err(Failure::CheckCondition(s)) = ua.outcome() else { panic!("{:?}", ua.outcome()) };
        assert_eq!((s.format, s.key, s.asc), (SenseFormat::Fixed, SenseKey::UnitAttention, 0x29));
        let recovered = Completion { sense: vec![0x72, 0x01, 0x17, 0x01], ..ua.clone() };
        assert_eq!(recovered.outcome(), Ok(()));
        let no_sense = Completion { sense: vec![], ..ua.clone() };
        assert!(matches!(no_sense.outcome(), Err(Failure::BadSense(ParseError::Short { .. }))));
        let busy = Completion { status: 0x08, ..good.clone() };
        assert_eq!(busy.outcome(), Err(Failure::Busy(ScsiStatus(0x08))));
        let full = Completion { status: 0x28, ..good.clone() };
        assert_eq!(full.outcome(), Err(Failure::Busy(ScsiStatus(0x28))));
        let aborted = Completion { status: 0x40, ..good.clone() };
        assert_eq!(aborted.outcome(), Err(Failure::Status(ScsiStatus(0x40))));
        assert_eq!(Completion { status: 0x04, ..good.clone() }.outcome(), Ok(()));
    }

    #[test]
    fn host_and_driver_failures() {
        let c =
            |host_status, driver_status| Completion { host_status, driver_status, ..Completion::default() };
        assert_eq!(c(0x03, 0).outcome(), Err(Failure::Timeout));
        assert_eq!(c(0, 0x06).outcome(), Err(Failure::Timeout));
        for h in [0x01, 0x04, 0x0F] {
            assert_eq!(c(h, 0).outcome(), Err(Failure::NoPath(HostStatus(h))));
        }
        assert_eq!(c(0x07, 0).outcome(), Err(Failure::Transport(HostStatus(7), DriverStatus(0))));
        assert_eq!(c(0, 0x04).outcome(), Err(Failure::Transport(HostStatus(0), DriverStatus(4))));
        // A timed-out command's status byte is not the device's.
        let stale = Completion { status: 0x02, host_status: 0x03, ..Completion::default() };
        assert_eq!(stale.outcome(), Err(Failure::Timeout));
        // Suggest bits in the high nibble do not matter.
        assert_eq!(c(0, 0x18).outcome(), Ok(()));
    }

    #[test]
    fn names_and_residue() {
        assert_eq!(ScsiStatus(0x18).to_string(), "RESERVATION CONFLICT (0x18)");
        assert_eq!(ScsiStatus(0x7E).to_string(), "status (0x7e)");
        assert_eq!(HostStatus(0x0F).to_string(), "DID_TRANSPORT_FAILFAST (0x0f)");
        assert_eq!(HostStatus(0x99).to_string(), "host status (0x99)");
        assert_eq!(DriverStatus(0x06).to_string(), "DRIVER_TIMEOUT (0x06)");
        let c = |resid| Completion { resid, ..Completion::default() };
        assert_eq!(c(0).transferred(24), 24);
        assert_eq!(c(16).transferred(24), 8);
        assert_eq!(c(100).transferred(24), 0);
        assert_eq!(c(-5).transferred(24), 24);
    }

    #[test]
    fn data_lengths() {
        let mut buf = [0u8; 4];
        let mut d = Data::FromDevice(&mut buf);
        assert_eq!(d.reborrow().len(), 4);
        assert!(Data::None.is_empty());
        assert_eq!(Data::ToDevice(&[1, 2]).len(), 2);
    }
}
