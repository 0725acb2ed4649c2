//! The enclosure fence controller's register protocol, written once for every host of it.
//!
//! The enclosure's SAS expander has one port per controller; a small CPLD next to it
//! enables or cuts each port. Cutting a controller's port is the hard fence behind the
//! persistent reservations: no command of a cut controller reaches any disk. The Linux
//! service drives the CPLD over SMBus (`failover-linux`'s `I2cEnclosure`); the BMC
//! firmware drives the same CPLD with its own I2C driver. Both go through
//! [`FenceController`] over a [`RegisterBus`], so the register map and the
//! write-then-verify discipline below exist once.
//!
//! # Register map (version 1)
//!
//! 8-bit registers, accessed as SMBus "byte data" (command byte = register address):
//! plain register access works on every I2C master, including Linux's `i2c-stub`, which
//! has no combined `I2C_RDWR` transfers.
//!
//! | addr   | name          | access | reset  | meaning |
//! |--------|---------------|--------|--------|---------|
//! | `0x00` | `ID`          | RO     | `0xFC` | [`ID_VALUE`]: this is an enclosure fence controller |
//! | `0x01` | `VERSION`     | RO     | `0x01` | register map version ([`VERSION`]); another is refused |
//! | `0x02` | `PORT_ENABLE` | RW     | `0x03` | bit 0: A's expander port, bit 1: B's; 1 = enabled |
//! | `0x03` | `FENCE_LATCH` | RW     | `0x00` | bit 0: A, bit 1: B; 1 = port held cut whatever `PORT_ENABLE` says |
//! | `0x04` | `STATUS`      | RO     | `0x00` | bit 7: `FAULT`, the CPLD cannot drive a port as commanded |
//!
//! Bits 2..=7 of `PORT_ENABLE` and `FENCE_LATCH` and bits 0..=6 of `STATUS` are
//! reserved: written as 0, read as 0. A port is cut when its `FENCE_LATCH` bit is set
//! or its `PORT_ENABLE` bit is clear.
//!
//! Why two registers: a controller's reset (its power-on sequencing) sets its own
//! `PORT_ENABLE` bit again, so that a controller that was never fenced comes up with
//! its disks. `FENCE_LATCH` lives in the CPLD's always-on domain and is cleared only by
//! writing it: a fenced controller that is reset (by its BMC, its watchdog, or power
//! cycled) stays cut until the surviving side restores it on purpose.
//!
//! # Operations
//!
//! Every write is read back and compared; a difference is
//! [`FenceError::Mismatch`] naming the register, the value written and the value read
//! (a CPLD that did not take the write, a dropped bus transaction, another writer).
//! After every change `STATUS` is read and a set `FAULT` bit is an error.
//!
//! - [`FenceController::cut`]: set the target's `FENCE_LATCH` bit (from then on the port
//!   is cut whatever happens to `PORT_ENABLE`), then clear its `PORT_ENABLE` bit.
//! - [`FenceController::restore`]: clear the latch bit, then set the enable bit (the
//!   port stays cut in between, because the enable bit is still clear).
//! - [`FenceController::is_cut`]: read both registers (and `STATUS`).
//!
//! The bits of both controllers share a register, so a change is read-modify-write.
//! Only one side writes at a time in this system: the side that won the persistent
//! reservation fence cuts its peer and later restores it. The read back would also show
//! a write by another party that landed between our read and our write.
//!
//! `STATUS` carries only a fault flag, so that a plain register file (`i2c-stub`, which
//! starts all-zero) behaves exactly like a healthy CPLD once `ID`, `VERSION` and
//! `PORT_ENABLE` are written with their reset values; the read back of `PORT_ENABLE`
//! and `FENCE_LATCH` is the CPLD's driven state, which is what gets verified.

use core::fmt;

use crate::wire::Controller;

/// What the `ID` register of an enclosure fence controller reads ("fence controller").
pub const ID_VALUE: u8 = 0xFC;
/// The register map version this code speaks.
pub const VERSION: u8 = 1;
/// The port bits of `PORT_ENABLE` and `FENCE_LATCH`.
pub const PORT_MASK: u8 = 0b0000_0011;
/// `PORT_ENABLE` after the CPLD's reset: both ports enabled.
pub const PORT_ENABLE_RESET: u8 = PORT_MASK;
/// `STATUS`: the CPLD cannot drive a port as commanded.
pub const STATUS_FAULT: u8 = 0b1000_0000;

/// The bit of `target`'s port in `PORT_ENABLE` and `FENCE_LATCH`.
pub const fn port_bit(target: Controller) -> u8 {
    match target {
        Controller::A => 0b01,
        Controller::B => 0b10,
    }
}

/// Byte-wide register access on one device: SMBus read / write byte data on Linux,
/// the BMC's own I2C driver in the firmware.
pub trait RegisterBus {
    /// The transport's error.
    type Error;
    /// Read register `reg`.
    fn read_reg(&mut self, reg: u8) -> Result<u8, Self::Error>;
    /// Write `value` to register `reg`.
    fn write_reg(&mut self, reg: u8, value: u8) -> Result<(), Self::Error>;
}

impl<T: RegisterBus + ?Sized> RegisterBus for &mut T {
    type Error = T::Error;

    fn read_reg(&mut self, reg: u8) -> Result<u8, Self::Error> {
        (**self).read_reg(reg)
    }

    fn write_reg(&mut self, reg: u8, value: u8) -> Result<(), Self::Error> {
        (**self).write_reg(reg, value)
    }
}

/// The registers of the fence controller (see the module doc for the map).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Register {
    /// `0x00`, read-only: [`ID_VALUE`].
    Id = 0x00,
    /// `0x01`, read-only: [`VERSION`].
    Version = 0x01,
    /// `0x02`: one enable bit per port.
    PortEnable = 0x02,
    /// `0x03`: one cut latch bit per port.
    FenceLatch = 0x03,
    /// `0x04`, read-only: [`STATUS_FAULT`].
    Status = 0x04,
}

impl Register {
    /// Every register, by address.
    pub const ALL: [Self; 5] = [Self::Id, Self::Version, Self::PortEnable, Self::FenceLatch, Self::Status];

    /// The register's address (the SMBus command byte).
    pub const fn addr(self) -> u8 {
        self as u8
    }

    /// The register's name in the register map.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Id => "ID",
            Self::Version => "VERSION",
            Self::PortEnable => "PORT_ENABLE",
            Self::FenceLatch => "FENCE_LATCH",
            Self::Status => "STATUS",
        }
    }
}

impl fmt::Display for Register {
    /// `PORT_ENABLE (0x02)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({:#04x})", self.name(), self.addr())
    }
}

/// A bus transfer's direction, for errors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Access {
    /// A register read.
    Read,
    /// A register write.
    Write,
}

/// Why a fence controller operation failed. `E` is the bus's error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FenceError<E> {
    /// The bus transfer failed.
    Bus {
        /// The register addressed.
        register: Register,
        /// Reading or writing it.
        access: Access,
        /// The bus's error.
        error: E,
    },
    /// The `ID` register does not read [`ID_VALUE`]: another device, or a blank one.
    WrongDevice {
        /// What `ID` reads.
        id: u8,
    },
    /// A register map version this code does not speak.
    UnsupportedVersion {
        /// What `VERSION` reads.
        version: u8,
    },
    /// A register does not read back what was written.
    Mismatch {
        /// The register.
        register: Register,
        /// The value written.
        wrote: u8,
        /// The value read back.
        read: u8,
    },
    /// `STATUS` reports a fault.
    Fault {
        /// What `STATUS` reads.
        status: u8,
    },
}

impl<E> FenceError<E> {
    /// The same error with the bus error converted (into a host's error type).
    pub fn map_bus<F>(self, f: impl FnOnce(E) -> F) -> FenceError<F> {
        match self {
            Self::Bus { register, access, error } => FenceError::Bus { register, access, error: f(error) },
            Self::WrongDevice { id } => FenceError::WrongDevice { id },
            Self::UnsupportedVersion { version } => FenceError::UnsupportedVersion { version },
            Self::Mismatch { register, wrote, read } => FenceError::Mismatch { register, wrote, read },
            Self::Fault { status } => FenceError::Fault { status },
        }
    }

    /// The register the error concerns.
    pub const fn register(&self) -> Register {
        match self {
            Self::Bus { register, .. } | Self::Mismatch { register, .. } => *register,
            Self::WrongDevice { .. } => Register::Id,
            Self::UnsupportedVersion { .. } => Register::Version,
            Self::Fault { .. } => Register::Status,
        }
    }
}

impl<E: fmt::Display> fmt::Display for FenceError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bus { register, access: Access::Read, error } => {
                write!(f, "reading register {register}: {error}")
            }
            Self::Bus { register, access: Access::Write, error } => {
                write!(f, "writing register {register}: {error}")
            }
            Self::WrongDevice { id } => write!(
                f,
                "register {} reads {id:#04x}, expected {ID_VALUE:#04x}: not an enclosure fence controller",
                Register::Id
            ),
            Self::UnsupportedVersion { version } => write!(
                f,
                "register {} reads {version}, this version speaks register map {VERSION}",
                Register::Version
            ),
            Self::Mismatch { register, wrote, read } => {
                write!(f, "register {register}: wrote {wrote:#04x}, read back {read:#04x}")
            }
            Self::Fault { status } => write!(
                f,
                "register {} reads {status:#04x}: FAULT, the controller cannot drive a port as commanded",
                Register::Status
            ),
        }
    }
}

#[cfg(feature = "std")]
impl<E: std::error::Error + 'static> std::error::Error for FenceError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bus { error, .. } => Some(error),
            _ => None,
        }
    }
}

/// The port registers as read in one pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PortState {
    /// `PORT_ENABLE`.
    pub enable: u8,
    /// `FENCE_LATCH`.
    pub latch: u8,
    /// `STATUS`.
    pub status: u8,
}

impl PortState {
    /// Whether `target`'s port is cut: latched, or not enabled.
    pub const fn is_cut(&self, target: Controller) -> bool {
        let bit = port_bit(target);
        self.latch & bit != 0 || self.enable & bit == 0
    }

    /// Whether `target`'s cut is latched (survives `target`'s reset).
    pub const fn is_latched(&self, target: Controller) -> bool {
        self.latch & port_bit(target) != 0
    }

    /// Whether `STATUS` reports a fault.
    pub const fn fault(&self) -> bool {
        self.status & STATUS_FAULT != 0
    }
}

/// One enclosure fence controller on a [`RegisterBus`].
#[derive(Debug)]
pub struct FenceController<B> {
    bus: B,
}

impl<B: RegisterBus> FenceController<B> {
    /// Check that `bus` leads to a fence controller speaking this register map
    /// ([`Self::identify`]) and take it.
    pub fn probe(bus: B) -> Result<Self, FenceError<B::Error>> {
        let mut this = Self { bus };
        this.identify()?;
        Ok(this)
    }

    /// Take `bus` without looking at the device (the caller has probed it before).
    pub const fn new_unchecked(bus: B) -> Self {
        Self { bus }
    }

    /// Read `ID` and `VERSION`: `Ok(version)` if this is a fence controller whose
    /// register map we speak.
    pub fn identify(&mut self) -> Result<u8, FenceError<B::Error>> {
        let id = self.read(Register::Id)?;
        if id != ID_VALUE {
            return Err(FenceError::WrongDevice { id });
        }
        let version = self.read(Register::Version)?;
        if version != VERSION {
            return Err(FenceError::UnsupportedVersion { version });
        }
        Ok(version)
    }

    /// Cut `target`'s port: latch it cut, then clear its enable bit; each write read
    /// back, then `STATUS` checked. Cutting a cut port is harmless.
    pub fn cut(&mut self, target: Controller) -> Result<(), FenceError<B::Error>> {
        let bit = port_bit(target);
        self.update(Register::FenceLatch, |latch| latch | bit)?;
        self.update(Register::PortEnable, |enable| enable & !bit)?;
        self.check_status().map(drop)
    }

    /// Give `target` its port back: clear its latch bit, then set its enable bit; each
    /// write read back, then `STATUS` checked. Restoring an enabled port is harmless.
    pub fn restore(&mut self, target: Controller) -> Result<(), FenceError<B::Error>> {
        let bit = port_bit(target);
        self.update(Register::FenceLatch, |latch| latch & !bit)?;
        self.update(Register::PortEnable, |enable| enable | bit)?;
        self.check_status().map(drop)
    }

    /// Whether `target`'s port is cut (a `STATUS` fault is an error: the registers
    /// then say what was commanded, not what the port does).
    pub fn is_cut(&mut self, target: Controller) -> Result<bool, FenceError<B::Error>> {
        self.state().map(|s| s.is_cut(target))
    }

    /// Read `PORT_ENABLE`, `FENCE_LATCH` and `STATUS`; a fault is an error.
    pub fn state(&mut self) -> Result<PortState, FenceError<B::Error>> {
        let enable = self.read(Register::PortEnable)?;
        let latch = self.read(Register::FenceLatch)?;
        let status = self.check_status()?;
        Ok(PortState { enable, latch, status })
    }

    /// The bus (to share it with other devices between operations).
    pub fn bus_mut(&mut self) -> &mut B {
        &mut self.bus
    }

    /// Give the bus back.
    pub fn into_bus(self) -> B {
        self.bus
    }

    fn read(&mut self, register: Register) -> Result<u8, FenceError<B::Error>> {
        self.bus.read_reg(register.addr()).map_err(|error| FenceError::Bus {
            register,
            access: Access::Read,
            error,
        })
    }

    /// Read-modify-write the port bits of `register` (reserved bits written as 0) and
    /// verify the read back.
    fn update(&mut self, register: Register, f: impl FnOnce(u8) -> u8) -> Result<(), FenceError<B::Error>> {
        let old = self.read(register)?;
        let wrote = f(old & PORT_MASK) & PORT_MASK;
        self.bus.write_reg(register.addr(), wrote).map_err(|error| FenceError::Bus {
            register,
            access: Access::Write,
            error,
        })?;
        let read = self.read(register)?;
        if read == wrote { Ok(()) } else { Err(FenceError::Mismatch { register, wrote, read }) }
    }

    fn check_status(&mut self) -> Result<u8, FenceError<B::Error>> {
        let status = self.read(Register::Status)?;
        if status & STATUS_FAULT != 0 { Err(FenceError::Fault { status }) } else { Ok(status) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Controller::{A, B};

    /// A healthy CPLD: read-only registers ignore writes, reserved bits read as zero, a
    /// controller's reset sets its enable bit again.
    #[derive(Debug)]
    struct Cpld {
        enable: u8,
        latch: u8,
        status: u8,
        log: Vec<(Access, u8, u8)>,
    }

    impl Cpld {
        fn new() -> Self {
            Self { enable: PORT_ENABLE_RESET, latch: 0, status: 0, log: Vec::new() }
        }

        /// The port as the expander sees it.
        fn port_up(&self, c: Controller) -> bool {
            self.enable & port_bit(c) != 0 && self.latch & port_bit(c) == 0
        }

        /// `c`'s host is reset: its power-on sequencing enables its port again.
        fn reset_controller(&mut self, c: Controller) {
            self.enable |= port_bit(c);
        }
    }

    impl RegisterBus for Cpld {
        type Error = &'static str;

        fn read_reg(&mut self, reg: u8) -> Result<u8, Self::Error> {
            let v = match reg {
                0x00 => ID_VALUE,
                0x01 => VERSION,
                0x02 => self.enable,
                0x03 => self.latch,
                0x04 => self.status,
                _ => return Err("no such register"),
            };
            self.log.push((Access::Read, reg, v));
            Ok(v)
        }

        fn write_reg(&mut self, reg: u8, value: u8) -> Result<(), Self::Error> {
            self.log.push((Access::Write, reg, value));
            match reg {
                0x02 => self.enable = value & PORT_MASK,
                0x03 => self.latch = value & PORT_MASK,
                0x00 | 0x01 | 0x04 => {}
                _ => return Err("no such register"),
            }
            Ok(())
        }
    }

    /// A plain register file, as `i2c-stub` is: 256 bytes, all zero at first.
    #[derive(Debug)]
    struct Stub([u8; 256]);

    impl Stub {
        /// Initialised as the test harness does with `i2cset`.
        fn initialised() -> Self {
            let mut regs = [0; 256];
            regs[0] = ID_VALUE;
            regs[1] = VERSION;
            regs[2] = PORT_ENABLE_RESET;
            Self(regs)
        }
    }

    impl RegisterBus for Stub {
        type Error = core::convert::Infallible;

        fn read_reg(&mut self, reg: u8) -> Result<u8, Self::Error> {
            Ok(self.0[usize::from(reg)])
        }

        fn write_reg(&mut self, reg: u8, value: u8) -> Result<(), Self::Error> {
            self.0[usize::from(reg)] = value;
            Ok(())
        }
    }

    /// Writes to one register are lost (a CPLD that ignores them, a glitching bus).
    #[derive(Debug)]
    struct DropsWrites {
        inner: Cpld,
        register: Register,
    }

    impl RegisterBus for DropsWrites {
        type Error = &'static str;

        fn read_reg(&mut self, reg: u8) -> Result<u8, Self::Error> {
            self.inner.read_reg(reg)
        }

        fn write_reg(&mut self, reg: u8, value: u8) -> Result<(), Self::Error> {
            if reg == self.register.addr() { Ok(()) } else { self.inner.write_reg(reg, value) }
        }
    }

    /// One access to one register fails.
    #[derive(Debug)]
    struct Fails {
        inner: Cpld,
        register: Register,
        access: Access,
    }

    impl RegisterBus for Fails {
        type Error = &'static str;

        fn read_reg(&mut self, reg: u8) -> Result<u8, Self::Error> {
            if (reg, Access::Read) == (self.register.addr(), self.access) {
                Err("NACK")
            } else {
                self.inner.read_reg(reg)
            }
        }

        fn write_reg(&mut self, reg: u8, value: u8) -> Result<(), Self::Error> {
            if (reg, Access::Write) == (self.register.addr(), self.access) {
                Err("NACK")
            } else {
                self.inner.write_reg(reg, value)
            }
        }
    }

    #[test]
    fn register_map_is_the_documented_one() {
        let addrs: Vec<u8> = Register::ALL.iter().map(|r| r.addr()).collect();
        assert_eq!(addrs, [0, 1, 2, 3, 4]);
        assert_eq!(Register::PortEnable.to_string(), "PORT_ENABLE (0x02)");
        assert_eq!((port_bit(A), port_bit(B)), (0b01, 0b10));
        assert_eq!(port_bit(A) | port_bit(B), PORT_MASK);
        assert_eq!(PORT_MASK & STATUS_FAULT, 0);
    }

    #[test]
    fn cut_and_restore_one_port_leave_the_other_alone() {
        let mut c = FenceController::probe(Cpld::new()).unwrap();
        assert!(!c.is_cut(A).unwrap() && !c.is_cut(B).unwrap());
        c.cut(B).unwrap();
        assert!(c.is_cut(B).unwrap() && !c.is_cut(A).unwrap());
        let cpld = c.bus_mut();
        assert!(!cpld.port_up(B) && cpld.port_up(A));
        assert_eq!((cpld.enable, cpld.latch), (0b01, 0b10));
        // Idempotent both ways.
        c.cut(B).unwrap();
        c.restore(A).unwrap();
        assert!(c.is_cut(B).unwrap() && !c.is_cut(A).unwrap());
        c.restore(B).unwrap();
        c.restore(B).unwrap();
        let cpld = c.into_bus();
        assert!(cpld.port_up(A) && cpld.port_up(B));
        assert_eq!((cpld.enable, cpld.latch), (PORT_MASK, 0));
    }

    #[test]
    fn the_latch_is_written_before_the_enable_bit_and_cleared_before_it_is_set() {
        let mut c = FenceController::probe(Cpld::new()).unwrap();
        c.bus_mut().log.clear();
        c.cut(A).unwrap();
        let writes: Vec<(u8, u8)> =
            c.bus_mut().log.iter().filter(|e| e.0 == Access::Write).map(|e| (e.1, e.2)).collect();
        assert_eq!(writes, [(0x03, 0b01), (0x02, 0b10)]);
        c.bus_mut().log.clear();
        c.restore(A).unwrap();
        let writes: Vec<(u8, u8)> =
            c.bus_mut().log.iter().filter(|e| e.0 == Access::Write).map(|e| (e.1, e.2)).collect();
        assert_eq!(writes, [(0x03, 0b00), (0x02, 0b11)]);
    }

    #[test]
    fn a_latched_cut_survives_the_fenced_controllers_reset() {
        let mut c = FenceController::probe(Cpld::new()).unwrap();
        c.cut(A).unwrap();
        c.bus_mut().reset_controller(A);
        assert_eq!(c.bus_mut().enable, PORT_MASK);
        assert!(c.is_cut(A).unwrap());
        assert!(!c.bus_mut().port_up(A));
        let s = c.state().unwrap();
        assert!(s.is_latched(A) && !s.is_latched(B) && !s.fault());
        c.restore(A).unwrap();
        assert!(c.bus_mut().port_up(A));
    }

    #[test]
    fn a_plain_register_file_initialised_like_the_cpld_behaves_like_it() {
        let mut c = FenceController::probe(Stub::initialised()).unwrap();
        c.cut(A).unwrap();
        assert!(c.is_cut(A).unwrap() && !c.is_cut(B).unwrap());
        c.restore(A).unwrap();
        assert!(!c.is_cut(A).unwrap());
        // Reserved bits found set are written back as zero.
        c.bus_mut().0[2] = 0xF3;
        c.cut(B).unwrap();
        assert_eq!(c.bus_mut().0[2], 0b01);
    }

    #[test]
    fn a_blank_or_foreign_device_is_refused() {
        let e = FenceController::probe(Stub([0; 256])).unwrap_err();
        assert_eq!(e, FenceError::WrongDevice { id: 0 });
        assert_eq!(e.register(), Register::Id);
        assert_eq!(
            e.to_string(),
            "register ID (0x00) reads 0x00, expected 0xfc: not an enclosure fence controller"
        );
        let mut regs = Stub::initialised();
        regs.0[1] = 2;
        let e = FenceController::probe(regs).unwrap_err();
        assert_eq!(e, FenceError::UnsupportedVersion { version: 2 });
        assert_eq!(e.to_string(), "register VERSION (0x01) reads 2, this version speaks register map 1");
    }

    #[test]
    fn a_dropped_write_is_a_mismatch_naming_the_register() {
        for (register, op) in [(Register::FenceLatch, "cut"), (Register::PortEnable, "restore")] {
            let mut inner = Cpld::new();
            if op == "restore" {
                inner.enable = 0b10;
            }
            let mut c = FenceController::probe(DropsWrites { inner, register }).unwrap();
            let e = if op == "cut" { c.cut(A) } else { c.restore(A) }.unwrap_err();
            match e {
                FenceError::Mismatch { register: r, wrote, read } => {
                    assert_eq!(r, register);
                    assert_ne!(wrote, read);
                }
                other => panic!("{other:?}"),
            }
        }
        let mut c =
            FenceController::probe(DropsWrites { inner: Cpld::new(), register: Register::PortEnable })
                .unwrap();
        // The latch write took: the port is cut even though the enable write was lost.
        assert_eq!(
            c.cut(B).unwrap_err().to_string(),
            "register PORT_ENABLE (0x02): wrote 0x01, read back 0x03"
        );
        assert!(c.is_cut(B).unwrap());
    }

    #[test]
    fn a_bus_error_names_the_register_and_the_access() {
        for (register, access) in [
            (Register::FenceLatch, Access::Read),
            (Register::FenceLatch, Access::Write),
            (Register::PortEnable, Access::Write),
            (Register::Status, Access::Read),
        ] {
            let mut c = FenceController::new_unchecked(Fails { inner: Cpld::new(), register, access });
            assert_eq!(c.cut(A), Err(FenceError::Bus { register, access, error: "NACK" }));
        }
        let mut c = FenceController::new_unchecked(Fails {
            inner: Cpld::new(),
            register: Register::Id,
            access: Access::Read,
        });
        let e = c.identify().unwrap_err();
        assert_eq!(e.to_string(), "reading register ID (0x00): NACK");
        let e = FenceController::new_unchecked(Fails {
            inner: Cpld::new(),
            register: Register::PortEnable,
            access: Access::Write,
        })
        .restore(B)
        .unwrap_err();
        assert_eq!(e.to_string(), "writing register PORT_ENABLE (0x02): NACK");
        assert_eq!(
            e.map_bus(|s| s.len()),
            FenceError::Bus { register: Register::PortEnable, access: Access::Write, error: 4 }
        );
    }

    #[test]
    fn a_fault_is_an_error_everywhere() {
        let mut cpld = Cpld::new();
        cpld.status = STATUS_FAULT;
        let mut c = FenceController::probe(cpld).unwrap();
        assert_eq!(c.cut(A), Err(FenceError::Fault { status: STATUS_FAULT }));
        assert_eq!(c.restore(A), Err(FenceError::Fault { status: STATUS_FAULT }));
        assert_eq!(c.is_cut(A), Err(FenceError::Fault { status: STATUS_FAULT }));
        // Reserved status bits are not a fault. (The restore's writes landed: only the
        // STATUS check after them failed.)
        c.bus_mut().status = 0x01;
        assert_eq!(c.is_cut(A), Ok(false));
    }

    #[test]
    fn a_borrowed_bus_works_and_stays_with_its_owner() {
        let mut cpld = Cpld::new();
        FenceController::probe(&mut cpld).unwrap().cut(A).unwrap();
        assert!(!cpld.port_up(A));
    }
}
