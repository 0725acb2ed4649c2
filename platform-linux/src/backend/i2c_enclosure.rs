//! The enclosure fence controller (a CPLD on an I2C bus) driven from Linux.
//!
//! The register protocol is [`failover_core::enclosure`]'s, shared with the BMC firmware;
//! this module gives it a [`RegisterBus`] made of SMBus "read / write byte data" on
//! `/dev/i2c-N` ([`SmbusDevice`]). SMBus rather than plain I2C transfers: every adapter
//! and `i2c-stub` support it, and it is how such CPLDs are driven.
//!
//! [`I2cEnclosure::open`] reads the `ID` and `VERSION` registers and refuses any other
//! device. There is no "initialise a blank device" mode, on purpose: a fence that writes
//! an identity into whatever answers at the configured address would fence nothing on a
//! wrong bus. A test rig with `i2c-stub` (whose registers start at zero) writes the
//! CPLD's reset values first, as the hardware would have them:
//!
//! ```text
//! modprobe i2c-dev; modprobe i2c-stub chip_addr=0x1c
//! i2cset -y 0 0x1c 0x00 0xfc   # ID
//! i2cset -y 0 0x1c 0x01 0x01   # VERSION
//! i2cset -y 0 0x1c 0x02 0x03   # PORT_ENABLE: both ports enabled
//! ```
//!
//! A blank device (`ID` reads `0x00`) gets an error that says this.
//!
//! Every error names the bus, the address and the register. The device sits behind a
//! `Mutex`: each operation is a read-modify-write sequence that must not interleave
//! with another thread's.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

use failover_core::enclosure::{FenceController, FenceError, PortState, RegisterBus};
use failover_core::wire::Controller;
use i2cdev::core::I2CDevice as _;
use i2cdev::linux::LinuxI2CDevice;

use super::{BackendError, EnclosureFence};

/// Why the enclosure fence controller could not be used. Names the bus and address; a
/// protocol error also names the register.
#[derive(Debug, thiserror::Error)]
pub enum I2cError {
    /// The bus device could not be opened or the address not claimed.
    #[error("enclosure fence on {} address {address:#04x}: {source}{}", bus.display(), open_hint(source))]
    Open {
        /// The bus device.
        bus: PathBuf,
        /// The 7-bit address.
        address: u8,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The device failed, misbehaved or is not a fence controller.
    #[error("enclosure fence on {} address {address:#04x}: {source}{}", bus.display(), fence_hint(source))]
    Fence {
        /// The bus device.
        bus: PathBuf,
        /// The 7-bit address.
        address: u8,
        /// What went wrong, naming the register.
        #[source]
        source: FenceError<io::Error>,
    },
}

fn open_hint(e: &io::Error) -> &'static str {
    match (e.kind(), e.raw_os_error()) {
        (io::ErrorKind::NotFound, _) => " (no such bus: is i2c-dev loaded?)",
        (_, Some(libc::EBUSY)) => " (the address is claimed by a kernel driver)",
        _ => "",
    }
}

fn fence_hint(e: &FenceError<io::Error>) -> &'static str {
    match e {
        FenceError::WrongDevice { id: 0 } => {
            " (a blank register file: an i2c-stub must get ID, VERSION and PORT_ENABLE written first)"
        }
        _ => "",
    }
}

/// One device on a Linux I2C bus, registers read and written with SMBus byte data.
#[derive(Debug)]
pub struct SmbusDevice(LinuxI2CDevice);

impl SmbusDevice {
    /// Open `bus` (`/dev/i2c-N`) and address the 7-bit `address` on it.
    pub fn open(bus: &Path, address: u8) -> io::Result<Self> {
        LinuxI2CDevice::new(bus, u16::from(address)).map(Self).map_err(io::Error::from)
    }
}

impl RegisterBus for SmbusDevice {
    type Error = io::Error;

    fn read_reg(&mut self, reg: u8) -> Result<u8, Self::Error> {
        self.0.smbus_read_byte_data(reg).map_err(io::Error::from)
    }

    fn write_reg(&mut self, reg: u8, value: u8) -> Result<(), Self::Error> {
        self.0.smbus_write_byte_data(reg, value).map_err(io::Error::from)
    }
}

/// The enclosure fence controller on an I2C bus.
#[derive(Debug)]
pub struct I2cEnclosure<B = SmbusDevice> {
    bus: PathBuf,
    address: u8,
    cpld: Mutex<FenceController<B>>,
}

impl I2cEnclosure {
    /// Open the fence controller at `address` on `bus` and check it is one.
    pub fn open(bus: impl AsRef<Path>, address: u8) -> Result<Self, BackendError> {
        let bus = bus.as_ref();
        let dev = SmbusDevice::open(bus, address).map_err(|source| I2cError::Open {
            bus: bus.to_owned(),
            address,
            source,
        })?;
        Self::probe(bus, address, dev)
    }
}

impl<B> I2cEnclosure<B>
where
    B: RegisterBus<Error = io::Error> + Send + 'static,
{
    /// Check that `dev` (reached as `address` on `bus`) is a fence controller speaking
    /// our register map, and take it.
    pub fn probe(bus: impl AsRef<Path>, address: u8, dev: B) -> Result<Self, BackendError> {
        let bus = bus.as_ref().to_owned();
        match FenceController::probe(dev) {
            Ok(cpld) => {
                let this = Self { bus, address, cpld: Mutex::new(cpld) };
                tracing::info!(enclosure = %this.describe(), "enclosure fence controller found");
                Ok(this)
            }
            Err(source) => Err(I2cError::Fence { bus, address, source }.into()),
        }
    }

    /// For logs and status.
    pub fn describe(&self) -> String {
        format!("enclosure fence controller on {} address {:#04x}", self.bus.display(), self.address)
    }

    /// The port registers as they are now.
    pub fn state(&self) -> Result<PortState, BackendError> {
        self.with(FenceController::state)
    }

    fn with<T>(
        &self,
        f: impl FnOnce(&mut FenceController<B>) -> Result<T, FenceError<io::Error>>,
    ) -> Result<T, BackendError> {
        // A panic while the lock was held left no state of ours behind: every
        // operation re-reads the registers it changes.
        let mut cpld = self.cpld.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut cpld)
            .map_err(|source| I2cError::Fence { bus: self.bus.clone(), address: self.address, source }.into())
    }
}

impl<B> EnclosureFence for I2cEnclosure<B>
where
    B: RegisterBus<Error = io::Error> + Send + 'static,
{
    /// Latch and clear `target`'s port, verified by read back. The expander drops the
    /// port's link at once, so none of `target`'s commands is in flight afterwards.
    fn cut(&self, target: Controller) -> Result<(), BackendError> {
        self.with(|c| c.cut(target))?;
        tracing::info!(enclosure = %self.describe(), %target, "expander port cut");
        Ok(())
    }

    fn restore(&self, target: Controller) -> Result<(), BackendError> {
        self.with(|c| c.restore(target))?;
        tracing::info!(enclosure = %self.describe(), %target, "expander port restored");
        Ok(())
    }

    fn is_cut(&self, target: Controller) -> Result<bool, BackendError> {
        self.with(|c| c.is_cut(target))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use failover_core::enclosure::{ID_VALUE, PORT_ENABLE_RESET, Register, VERSION};
    use failover_core::wire::Controller::{A, B};

    /// A plain register file, as `i2c-stub` is; `drop_writes_to` loses writes to one
    /// register, `fail` makes every access an I/O error.
    #[derive(Debug)]
    struct Regs {
        regs: [u8; 256],
        drop_writes_to: Option<u8>,
        fail: bool,
    }

    impl Regs {
        fn blank() -> Self {
            Self { regs: [0; 256], drop_writes_to: None, fail: false }
        }

        fn initialised() -> Self {
            let mut r = Self::blank();
            r.regs[0] = ID_VALUE;
            r.regs[1] = VERSION;
            r.regs[2] = PORT_ENABLE_RESET;
            r
        }
    }

    impl RegisterBus for Regs {
        type Error = io::Error;

        fn read_reg(&mut self, reg: u8) -> io::Result<u8> {
            if self.fail {
                return Err(io::Error::from_raw_os_error(libc::EREMOTEIO));
            }
            Ok(self.regs[usize::from(reg)])
        }

        fn write_reg(&mut self, reg: u8, value: u8) -> io::Result<()> {
            if self.fail {
                return Err(io::Error::from_raw_os_error(libc::EREMOTEIO));
            }
            if self.drop_writes_to != Some(reg) {
                self.regs[usize::from(reg)] = value;
            }
            Ok(())
        }
    }

    fn enclosure(regs: Regs) -> I2cEnclosure<Regs> {
        I2cEnclosure::probe("/dev/i2c-0", 0x1c, regs).unwrap()
    }

    #[test]
    fn fences_through_the_core_protocol() {
        let enc = enclosure(Regs::initialised());
        assert!(!enc.is_cut(A).unwrap() && !enc.is_cut(B).unwrap());
        enc.cut(B).unwrap();
        assert!(enc.is_cut(B).unwrap() && !enc.is_cut(A).unwrap());
        let s = enc.state().unwrap();
        assert!(s.is_latched(B));
        enc.restore(B).unwrap();
        assert!(!enc.is_cut(B).unwrap());
        assert_eq!(enc.describe(), "enclosure fence controller on /dev/i2c-0 address 0x1c");
    }

    #[test]
    fn a_blank_stub_is_refused_with_a_hint() {
        let e = I2cEnclosure::probe("/dev/i2c-0", 0x1c, Regs::blank()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "enclosure fence on /dev/i2c-0 address 0x1c: register ID (0x00) reads 0x00, expected 0xfc: \
             not an enclosure fence controller (a blank register file: an i2c-stub must get ID, VERSION \
             and PORT_ENABLE written first)"
        );
        let mut other = Regs::initialised();
        other.regs[0] = 0x42;
        let e = I2cEnclosure::probe("/dev/i2c-0", 0x1c, other).unwrap_err();
        assert!(
            e.to_string().ends_with("reads 0x42, expected 0xfc: not an enclosure fence controller"),
            "{e}"
        );
    }

    #[test]
    fn errors_name_bus_address_and_register() {
        let mut regs = Regs::initialised();
        regs.drop_writes_to = Some(Register::FenceLatch.addr());
        let enc = enclosure(regs);
        let e = enc.cut(A).unwrap_err();
        assert_eq!(
            e.to_string(),
            "enclosure fence on /dev/i2c-0 address 0x1c: register FENCE_LATCH (0x03): wrote 0x01, read back 0x00"
        );
        assert!(matches!(e, BackendError::I2c(I2cError::Fence { address: 0x1c, .. })));
        let enc = enclosure(Regs::initialised());
        enc.cpld.lock().unwrap().bus_mut().fail = true;
        let e = enc.is_cut(A).unwrap_err();
        assert!(
            e.to_string().starts_with(
                "enclosure fence on /dev/i2c-0 address 0x1c: reading register PORT_ENABLE (0x02): "
            ),
            "{e}"
        );
        // The OS error is kept as the source.
        let source = std::error::Error::source(&e).and_then(std::error::Error::source);
        assert!(source.is_some_and(|s| s.to_string().contains("Remote I/O error")), "{source:?}");
    }

    #[test]
    fn opening_a_missing_bus_names_it() {
        let e = I2cEnclosure::open("/nonexistent/i2c-9", 0x1c).unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("enclosure fence on /nonexistent/i2c-9 address 0x1c: "), "{s}");
        assert!(s.ends_with("(no such bus: is i2c-dev loaded?)"), "{s}");
    }
}
