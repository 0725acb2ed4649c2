//! Test images only (cargo feature `test-hooks`): debug frames on path L.
//!
//! A debug frame travels like a protocol frame (COBS between `0x00` delimiters) but
//! starts with [`MAGIC`] (`DB 67`) instead of the protocol's `FA 11`, so the firmware
//! tells them apart before the state machine sees anything; a production image hands
//! them to the state machine, which drops them as `bad_magic`.
//!
//! - host to BMC: `DB 67 <command>` ([`Command`]);
//! - BMC to host: `DB 67 80 <text>`: one report line (`crate::report`), sent for every
//!   command, at boot and after every fence operation.
//!
//! The commands are not authenticated: anyone on path L could stall or reset the BMC.
//! That is why they exist only in test images, which the test harness builds with
//! `--features test-hooks`; the documented production build has none of this.

use failover_core::wire::{DecodeError, MAX_FRAME_LEN};

use crate::console::Line;

/// First two bytes of a debug frame.
pub(crate) const MAGIC: [u8; 2] = [0xDB, 0x67];
/// Third byte of a report (BMC to host).
const REPORT: u8 = 0x80;

/// What a test can ask.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Command {
    /// `01`: stop the main loop for good (it keeps sleeping, never kicks the watchdog).
    Stall,
    /// `02`: report both paths' counters and the stack's high-water mark.
    Counters,
    /// `03`: report the fence lines and read back the fence controller's registers.
    Fence,
    /// `04`: panic (the panic handler records the cause and resets).
    Panic,
    /// `05`: a deliberate reset.
    Reset,
    /// `06`: report the node's status.
    Status,
}

/// `None` if `frame` is not a debug frame; else the command, or why it is refused.
pub(crate) fn parse(frame: &[u8]) -> Option<Result<Command, DecodeError>> {
    let rest = frame.strip_prefix(&MAGIC)?;
    Some(match rest {
        [0x01] => Ok(Command::Stall),
        [0x02] => Ok(Command::Counters),
        [0x03] => Ok(Command::Fence),
        [0x04] => Ok(Command::Panic),
        [0x05] => Ok(Command::Reset),
        [0x06] => Ok(Command::Status),
        [] => Err(DecodeError::Truncated),
        _ => Err(DecodeError::BadPayload),
    })
}

/// The report frame for `line` in `out`; its length.
pub(crate) fn report_frame(line: &Line, out: &mut [u8; MAX_FRAME_LEN]) -> usize {
    let text = line.as_bytes();
    let n = text.len().min(MAX_FRAME_LEN - 3);
    out[..2].copy_from_slice(&MAGIC);
    out[2] = REPORT;
    out[3..3 + n].copy_from_slice(&text[..n]);
    3 + n
}
