//! The hard fences a BMC holds over the peer controller, executed for the core's
//! [`Action::CutPeerEnclosure`], [`Action::RestorePeerEnclosure`] and
//! [`Action::ResetPeerHost`](failover_core::node::Action):
//! - the peer's SAS expander ports: a GPIO line to the enclosure, and the enclosure
//!   fence controller's registers over I2C, through `failover_core::enclosure`'s
//!   [`FenceController`] (latch then disable; every write read back; `STATUS`
//!   checked), the same register protocol the Linux backend speaks;
//! - the peer host's reset: a GPIO pulse of the configured width, ended by
//!   [`Fence::poll`] (the main loop never waits for it).
//!
//! A cut counts as done when the line reads back asserted and the controller's
//! registers verified; either failing is reported (`Completion::PeerFenced { ok:
//! false }`), and the line stays asserted whatever the bus did.

use embedded_hal::digital::{OutputPin, StatefulOutputPin};
use failover_core::enclosure::{
    Access, FenceController, FenceError, ID_VALUE, PORT_ENABLE_RESET, PortState, Register, RegisterBus,
    VERSION,
};
use failover_core::time::{Duration, Instant};
use failover_core::wire::Controller;

use crate::drivers::gpio::Output;
use crate::drivers::i2c::{I2cBus, I2cError};
use crate::smbus::SmbusDevice;

/// A fence operation's error.
pub(crate) type Error = FenceError<I2cError>;

/// Counters and the last outcome, for reports.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FenceStats {
    /// Cuts executed.
    pub(crate) cuts: u32,
    /// Restores executed.
    pub(crate) restores: u32,
    /// Reset pulses started.
    pub(crate) pulses: u32,
    /// Operations whose enclosure part failed.
    pub(crate) failures: u32,
    /// The last enclosure error, if the last operation failed.
    pub(crate) last_error: Option<Error>,
}

/// The peer's fences.
#[derive(Debug)]
pub(crate) struct Fence {
    peer: Controller,
    bus: SmbusDevice<I2cBus>,
    standin: bool,
    cut_line: Output,
    reset_line: Output,
    pulse: Duration,
    reset_until: Option<Instant>,
    /// Counters.
    pub(crate) stats: FenceStats,
}

impl Fence {
    /// Fences over `peer`: the controller at `address` on `bus` (a blank stand-in
    /// register file when `standin`, see the board module), the port cut line and the
    /// reset line, pulsed for `pulse`.
    pub(crate) fn new(
        peer: Controller,
        bus: I2cBus,
        address: u8,
        standin: bool,
        cut_line: Output,
        reset_line: Output,
        pulse: Duration,
    ) -> Self {
        Self {
            peer,
            bus: SmbusDevice::new(bus, address),
            standin,
            cut_line,
            reset_line,
            pulse,
            reset_until: None,
            stats: FenceStats::default(),
        }
    }

    /// Find the fence controller: seed the stand-in if it is blank, then check `ID`
    /// and `VERSION`. Called at boot (to report it) and before every operation (the
    /// controller may have been reset or replaced since).
    pub(crate) fn probe(&mut self) -> Result<u8, Error> {
        if self.standin {
            self.seed_standin()?;
        }
        FenceController::new_unchecked(&mut self.bus).identify()
    }

    /// The stand-in starts (and after every SoC reset is again) all zero: give it the
    /// CPLD's reset values. A device that reads anything else is left alone.
    fn seed_standin(&mut self) -> Result<(), Error> {
        let mut blank = true;
        for register in Register::ALL {
            let value = self.bus.read_reg(register.addr());
            blank &= value.map_err(|error| FenceError::Bus { register, access: Access::Read, error })? == 0;
        }
        if blank {
            for (register, value) in [
                (Register::Id, ID_VALUE),
                (Register::Version, VERSION),
                (Register::PortEnable, PORT_ENABLE_RESET),
            ] {
                let written = self.bus.write_reg(register.addr(), value);
                written.map_err(|error| FenceError::Bus { register, access: Access::Write, error })?;
            }
        }
        Ok(())
    }

    /// Cut the peer's ports: assert the line, then latch and disable its port in the
    /// fence controller. Whether both took effect.
    pub(crate) fn cut(&mut self) -> bool {
        self.stats.cuts = self.stats.cuts.wrapping_add(1);
        let _ = self.cut_line.set_high();
        let line_ok = self.cut_line.is_set_high().unwrap_or(false);
        let peer = self.peer;
        let enclosure = self.probe().and_then(|_| FenceController::new_unchecked(&mut self.bus).cut(peer));
        self.record(enclosure) && line_ok
    }

    /// Give the peer its ports back: release the latch and enable its port, then
    /// release the line.
    pub(crate) fn restore(&mut self) {
        self.stats.restores = self.stats.restores.wrapping_add(1);
        let peer = self.peer;
        let enclosure =
            self.probe().and_then(|_| FenceController::new_unchecked(&mut self.bus).restore(peer));
        self.record(enclosure);
        let _ = self.cut_line.set_low();
    }

    /// Start a reset pulse on the peer host (extends one in progress).
    pub(crate) fn reset_peer(&mut self, now: Instant) {
        self.stats.pulses = self.stats.pulses.wrapping_add(1);
        let _ = self.reset_line.set_high();
        self.reset_until = Some(now + self.pulse);
    }

    /// End the reset pulse once its time is up.
    pub(crate) fn poll(&mut self, now: Instant) {
        if self.reset_until.is_some_and(|t| now >= t) {
            let _ = self.reset_line.set_low();
            self.reset_until = None;
        }
    }

    /// When [`Self::poll`] next has something to do.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        self.reset_until
    }

    /// The fence controller's port registers, read now.
    pub(crate) fn read_state(&mut self) -> Result<PortState, Error> {
        FenceController::new_unchecked(&mut self.bus).state()
    }

    /// Whether the cut line and the reset line are asserted.
    pub(crate) fn lines(&mut self) -> (bool, bool) {
        (self.cut_line.is_set_high().unwrap_or(false), self.reset_line.is_set_high().unwrap_or(false))
    }

    fn record(&mut self, result: Result<(), Error>) -> bool {
        match result {
            Ok(()) => {
                self.stats.last_error = None;
                true
            }
            Err(e) => {
                self.stats.failures = self.stats.failures.wrapping_add(1);
                self.stats.last_error = Some(e);
                false
            }
        }
    }
}
