//! State that survives a reset: the boot counter, the highest epoch seen, and what the
//! firmware was doing when it went down (hence why it reset).
//!
//! The record lives in `.uninit` (cortex-m-rt's NOLOAD section: neither loaded nor
//! zeroed at start), checked by a magic number and a checksum. A watchdog or requested
//! reset of the AST1030 leaves SRAM as it was (verified on QEMU 7.2: neither the SoC
//! reset nor the ELF loader touches `.uninit`), so a valid record means a warm reset;
//! anything else is a power-on.
//!
//! # Why it reset
//! The record says what the firmware was doing ([`Intent`]): booting, running with the
//! watchdog armed, or going down on purpose (panic, fault, requested reset, each
//! written just before the reset is requested). At the next boot:
//! - no valid record: power-on;
//! - armed: the watchdog fired (the main loop stopped kicking it): nothing else leaves
//!   that state without writing a new intent, except an external reset (reset pin,
//!   QEMU's `system_reset`), which this record cannot tell from the watchdog. On
//!   silicon the WDT timeout status register would; in QEMU it reads 0;
//! - panic, fault, requested: that;
//! - booting (reset before the watchdog was armed): external.
//!
//! # The epoch on hardware
//! SRAM keeps the epoch and boot counter across resets but not across a power cycle.
//! On hardware both belong in the SPI flash as well: two erase blocks used alternately,
//! each write a new record (sequence number, boot id, epoch, checksum) appended to the
//! active block, the highest valid sequence number winning at boot, so a power loss
//! mid-write leaves the previous record. The epoch must be written there before it is
//! acted on (as the host persists before it fences); the BMC only acts on epochs its
//! host announced, so a lost BMC copy is re-learnt from the host's next heartbeat.
//! Boot ids after a power cycle restart at 1: receivers forget a silent sender before
//! hearing it again (`failover_core::wire::replay`), so that costs one timeout.

use core::mem::MaybeUninit;
use core::ptr::{addr_of, addr_of_mut};

const MAGIC: u32 = 0xFA11_B0C7;

/// What the firmware was doing when the record was last written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Intent {
    /// Booting; the watchdog is not armed yet.
    Booting = 1,
    /// Running the main loop with the watchdog armed.
    Armed = 2,
    /// The panic handler is resetting (detail: the panic's source line).
    Panic = 3,
    /// The HardFault handler is resetting (detail: the faulting PC).
    Fault = 4,
    /// A deliberate reset (detail: why, caller-defined).
    Requested = 5,
}

/// Why the previous run ended, as classified at boot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ResetCause {
    /// No valid record: cold start.
    PowerOn,
    /// The watchdog fired while the main loop was running.
    Watchdog,
    /// A panic (detail: source line).
    Panic,
    /// A HardFault (detail: PC).
    Fault,
    /// A deliberate reset.
    Requested,
    /// Reset from outside before the watchdog was armed.
    External,
}

impl ResetCause {
    /// Name used in the boot report.
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Self::PowerOn => "power-on",
            Self::Watchdog => "watchdog",
            Self::Panic => "panic",
            Self::Fault => "fault",
            Self::Requested => "requested",
            Self::External => "external",
        }
    }
}

/// What the boot learnt from the record.
#[derive(Clone, Copy, Debug)]
pub(crate) struct BootInfo {
    /// Why the previous run ended.
    pub(crate) cause: ResetCause,
    /// The intent's detail (panic line, fault PC).
    pub(crate) detail: u32,
    /// This boot's id: one more than the previous boot's (1 after power-on).
    pub(crate) boot_id: u32,
    /// The highest epoch seen before this boot.
    pub(crate) max_epoch: u64,
    /// Warm resets since power-on.
    pub(crate) warm_resets: u32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Record {
    magic: u32,
    boot_id: u32,
    max_epoch: u64,
    warm_resets: u32,
    intent: u32,
    detail: u32,
    check: u32,
}

impl Record {
    /// FNV-1a over every field but `check`.
    fn checksum(&self) -> u32 {
        let words = [
            self.magic,
            self.boot_id,
            self.max_epoch as u32,
            (self.max_epoch >> 32) as u32,
            self.warm_resets,
            self.intent,
            self.detail,
        ];
        let mut h: u32 = 0x811C_9DC5;
        for w in words {
            for b in w.to_le_bytes() {
                h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
            }
        }
        h
    }
}

#[unsafe(link_section = ".uninit.failover.persist")]
static mut RECORD: MaybeUninit<Record> = MaybeUninit::uninit();

fn load() -> Option<Record> {
    // SAFETY: RECORD is only touched through these two functions, from the single
    // thread of execution (main loop, or a handler that never returns to it). Any bit
    // pattern is a valid `Record` (plain integers), so reading uninitialised-by-us RAM
    // is sound; the magic and checksum decide whether it means anything.
    let r = unsafe { core::ptr::read_volatile(addr_of!(RECORD).cast::<Record>()) };
    (r.magic == MAGIC && r.check == r.checksum()).then_some(r)
}

fn store(mut r: Record) {
    r.magic = MAGIC;
    r.check = r.checksum();
    // SAFETY: as in `load`.
    unsafe { core::ptr::write_volatile(addr_of_mut!(RECORD).cast::<Record>(), r) }
}

/// Classify the previous reset and start this boot's record (intent: booting).
pub(crate) fn boot() -> BootInfo {
    let (info, record) = match load() {
        None => (
            BootInfo { cause: ResetCause::PowerOn, detail: 0, boot_id: 1, max_epoch: 0, warm_resets: 0 },
            Record { magic: 0, boot_id: 1, max_epoch: 0, warm_resets: 0, intent: 0, detail: 0, check: 0 },
        ),
        Some(r) => {
            let cause = match r.intent {
                x if x == Intent::Armed as u32 => ResetCause::Watchdog,
                x if x == Intent::Panic as u32 => ResetCause::Panic,
                x if x == Intent::Fault as u32 => ResetCause::Fault,
                x if x == Intent::Requested as u32 => ResetCause::Requested,
                _ => ResetCause::External,
            };
            let boot_id = r.boot_id.saturating_add(1);
            let warm_resets = r.warm_resets.saturating_add(1);
            (
                BootInfo { cause, detail: r.detail, boot_id, max_epoch: r.max_epoch, warm_resets },
                Record { boot_id, warm_resets, ..r },
            )
        }
    };
    store(Record { intent: Intent::Booting as u32, detail: 0, ..record });
    info
}

/// Record what the firmware is doing now (before arming the watchdog, before a
/// deliberate reset).
pub(crate) fn set_intent(intent: Intent, detail: u32) {
    if let Some(r) = load() {
        store(Record { intent: intent as u32, detail, ..r });
    }
}

/// Record the highest epoch seen (call when it grows).
pub(crate) fn set_max_epoch(epoch: u64) {
    if let Some(r) = load() {
        store(Record { max_epoch: epoch, ..r });
    }
}
