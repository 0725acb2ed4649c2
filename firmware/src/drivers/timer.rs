//! The monotonic clock behind every `now` the core sees, and the tick that wakes the
//! main loop.
//!
//! [`Monotonic`] reads timer 1 of the AST1030 timer block, free running from
//! `0xFFFF_FFFF` down at the APB clock, and extends it to 64 bits of microseconds.
//! Register facts relied on (QEMU 7.2 `aspeed.timer-ast1030`, `hw/timer/aspeed_timer.c`):
//! - timer 1: counter `0x00` (counts down; reads the value now), reload `0x04`;
//!   control `0x30`, 4 bits per timer, timer 1 in bits 0..=3: bit 0 enable, bit 1
//!   external 1 MHz clock (clear: the APB clock), bit 2 overflow interrupt.
//! - QEMU computes the counter from its virtual clock at every read, so the value is
//!   right even when the guest was descheduled (SysTick interrupts are not: they are
//!   lost when the host is overloaded, which is why time is not counted in ticks).
//! - At zero the timer reloads; QEMU does that from a host timer callback, so a late
//!   callback holds the counter at zero for that long: at most once per wrap
//!   (`2^32 / 50 MHz` = 86 s), a few milliseconds of lost time on an overloaded host.
//! - [`Monotonic::now`] must be called at least once per wrap; the main loop calls it
//!   every millisecond.
//!
//! [`Tick`] programs the core's SysTick (24-bit reload, core clock, 200 MHz on the
//! AST1030; the reference clock reads 0 Hz in QEMU) to pend at the next deadline, at
//! most 50 ms away. The exception is never taken (PRIMASK is set): it only ends a
//! `wfi`. Sleeping to the deadline rather than ticking every millisecond matters in
//! QEMU: a 1 kHz tick alone costs about 10% of a host core per emulated SoC.

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use failover_core::time::Instant;

use super::Mmio;

const T1_COUNTER: usize = 0x00;
const T1_RELOAD: usize = 0x04;
const CTRL: usize = 0x30;
const T1_CTRL_MASK: u32 = 0xF;
const T1_ENABLE: u32 = 1 << 0;

/// A 64-bit microsecond clock from timer 1.
#[derive(Debug)]
pub(crate) struct Monotonic {
    regs: Mmio,
    ticks_per_us: u64,
    last_raw: u32,
    /// Timer ticks since start.
    ticks: u64,
}

impl Monotonic {
    /// Start timer 1 free running at `clock_hz` (the APB clock).
    pub(crate) fn start(regs: Mmio, clock_hz: u32) -> Self {
        regs.modify(CTRL, T1_CTRL_MASK, 0);
        regs.write(T1_RELOAD, u32::MAX);
        regs.modify(CTRL, T1_CTRL_MASK, T1_ENABLE);
        let last_raw = regs.read(T1_COUNTER);
        Self { regs, ticks_per_us: u64::from(clock_hz / 1_000_000).max(1), last_raw, ticks: 0 }
    }

    /// Microseconds since [`Self::start`].
    pub(crate) fn now(&mut self) -> Instant {
        let raw = self.regs.read(T1_COUNTER);
        // Down counter: elapsed ticks are last - now, modulo the wrap.
        self.ticks += u64::from(self.last_raw.wrapping_sub(raw));
        self.last_raw = raw;
        Instant::from_micros(self.ticks / self.ticks_per_us)
    }
}

/// The wake-up timer: the core's SysTick, pending its exception after a programmed
/// number of core clock cycles, again and again.
pub(crate) struct Tick {
    syst: SYST,
    cycles_per_us: u32,
}

impl Tick {
    /// Longest sleep: the loop runs at least this often whatever the deadlines (well
    /// within SysTick's 24-bit reload at 200 MHz, 83 ms).
    pub(crate) const MAX_US: u64 = 50_000;
    /// Shortest sleep.
    const MIN_US: u64 = 10;

    /// Start SysTick from the core clock (`core_hz`), pending every [`Self::MAX_US`].
    pub(crate) fn start(mut syst: SYST, core_hz: u32) -> Self {
        let cycles_per_us = (core_hz / 1_000_000).max(1);
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(cycles_per_us * Self::MAX_US as u32 - 1);
        syst.clear_current();
        syst.enable_interrupt();
        syst.enable_counter();
        Self { syst, cycles_per_us }
    }

    /// Pend the next wake-up `us` microseconds from now (clamped to 10 us ..= 50 ms),
    /// so a deadline is met to the tick. Writing the current value register restarts
    /// the count from the new reload value.
    pub(crate) fn wake_in(&mut self, us: u64) {
        let us = us.clamp(Self::MIN_US, Self::MAX_US) as u32;
        self.syst.set_reload(us * self.cycles_per_us - 1);
        self.syst.clear_current();
    }
}
