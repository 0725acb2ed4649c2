//! The text reports the firmware prints on its console (and, in test images, sends
//! to its host as debug frames): one line each, `word key=value ...`, so a test or a
//! person can read them.
//!
//! - `boot node=A boot_id=2 cause=watchdog detail=0 epoch=7 warm_resets=1 config=bmc-a.toml version=0.1.0`
//! - `status host=alive peer_bmc=up peer_host=hung fencing=1 epoch=7` (on every change)
//! - `counters path=L ok=120 sent=118 bad_mac=2 replayed=1 ...` (non-zero drop kinds only)
//! - `memory stack_peak=1234` (on request)
//! - `fence cut_line=1 reset_line=0 cuts=1 restores=0 pulses=1 failures=0 enclosure=ok port_enable=0x01 fence_latch=0x02 status=0x00`
//! - `event t=1234 <kind> ...` for the core's events worth a line

use core::fmt::Write as _;

use failover_core::enclosure::{Access, FenceError};
use failover_core::node::{BmcStatus, Event, EventKind};
use failover_core::wire::{Controller, DecodeError, HostLiveness};

use crate::console::{Line, line};
use crate::drivers::i2c::I2cError;
use crate::fence::Fence;
use crate::link::Link;
use crate::persist::BootInfo;

const fn liveness(l: HostLiveness) -> &'static str {
    match l {
        HostLiveness::Unknown => "unknown",
        HostLiveness::Alive => "alive",
        HostLiveness::Hung => "hung",
        HostLiveness::Dead => "dead",
    }
}

/// The boot report.
pub(crate) fn boot(info: &BootInfo, node: Controller, config: &str) -> Line {
    line(format_args!(
        "boot node={} boot_id={} cause={} detail={} epoch={} warm_resets={} config={} version={}",
        node.letter(),
        info.boot_id,
        info.cause.name(),
        info.detail,
        info.max_epoch,
        info.warm_resets,
        config,
        env!("CARGO_PKG_VERSION"),
    ))
}

/// What the node concludes, printed when it changes.
pub(crate) fn status(s: &BmcStatus) -> Line {
    line(format_args!(
        "status host={} peer_bmc={} peer_host={} fencing={} epoch={}",
        liveness(s.host),
        if s.peer_bmc_alive { "up" } else { "down" },
        liveness(s.peer_host),
        u8::from(s.fencing_peer),
        s.max_epoch,
    ))
}

/// One path's counters.
pub(crate) fn counters(link: &Link) -> Line {
    let s = &link.stats;
    let mut l = line(format_args!(
        "counters path={} ok={} sent={} rejected={} line_errors={} tx_dropped={}",
        link.path.letter(),
        s.ok,
        s.sent,
        s.rejected_total(),
        link.line_errors(),
        link.tx_dropped()
    ));
    for (i, &n) in s.rejected.iter().enumerate() {
        if n != 0 {
            let _ = write!(l, " {}={n}", error_name(i));
        }
    }
    l
}

/// Memory use: the stack's deepest point so far.
pub(crate) fn memory() -> Line {
    line(format_args!("memory stack_peak={}", crate::stack::peak()))
}

/// The name of the [`DecodeError`] with index `i`.
fn error_name(i: usize) -> &'static str {
    const ALL: [DecodeError; DecodeError::COUNT] = [
        DecodeError::Truncated,
        DecodeError::Oversize,
        DecodeError::BadMagic,
        DecodeError::UnsupportedVersion(0),
        DecodeError::UnknownKind(0),
        DecodeError::BadSender(0),
        DecodeError::BadMac,
        DecodeError::Replayed,
        DecodeError::FromSelf,
        DecodeError::BadPayload,
        DecodeError::BadFraming,
    ];
    ALL.iter().find(|e| e.index() == i).map_or("other", |e| e.name())
}

/// The fence lines, counters and the fence controller's registers read back now.
pub(crate) fn fence(f: &mut Fence) -> Line {
    let (cut, reset) = f.lines();
    let s = f.stats;
    let mut l = line(format_args!(
        "fence cut_line={} reset_line={} cuts={} restores={} pulses={} failures={}",
        u8::from(cut),
        u8::from(reset),
        s.cuts,
        s.restores,
        s.pulses,
        s.failures
    ));
    match f.read_state() {
        Ok(p) => {
            let _ = write!(
                l,
                " enclosure=ok port_enable={:#04x} fence_latch={:#04x} status={:#04x}",
                p.enable, p.latch, p.status
            );
        }
        Err(e) => {
            let _ = l.write_str(" enclosure=");
            fence_error(&mut l, &e);
        }
    }
    if let Some(e) = s.last_error {
        let _ = l.write_str(" last_error=");
        fence_error(&mut l, &e);
    }
    l
}

fn fence_error(l: &mut Line, e: &FenceError<I2cError>) {
    let _ = match e {
        FenceError::Bus { register, access, error } => write!(
            l,
            "bus:{}:{}:{error:?}",
            register.name(),
            if *access == Access::Read { "read" } else { "write" }
        ),
        FenceError::WrongDevice { id } => write!(l, "wrong_device:{id:#04x}"),
        FenceError::UnsupportedVersion { version } => write!(l, "unsupported_version:{version}"),
        FenceError::Mismatch { register, wrote, read } => {
            write!(l, "mismatch:{}:{wrote:#04x}:{read:#04x}", register.name())
        }
        FenceError::Fault { status } => write!(l, "fault:{status:#04x}"),
    };
}

/// A line for the core's events worth one (rejected frames are only counted).
pub(crate) fn event(e: &Event) -> Option<Line> {
    let t = e.at.millis();
    Some(match e.kind {
        EventKind::FrameRejected { .. } => return None,
        EventKind::PeerRestarted { controller, bmc } => line(format_args!(
            "event t={t} restarted {}-{}",
            controller.letter(),
            if bmc { "bmc" } else { "host" }
        )),
        EventKind::StaleClaim { epoch } => line(format_args!("event t={t} stale_claim epoch={epoch}")),
        EventKind::SelfStall { gap } => {
            line(format_args!("event t={t} self_stall gap_ms={}", gap.micros() / 1000))
        }
        EventKind::PeerFenced { ok } => line(format_args!("event t={t} peer_fenced ok={}", u8::from(ok))),
        EventKind::ActionOverflow => line(format_args!("event t={t} action_overflow")),
        EventKind::StaleCompletion => line(format_args!("event t={t} stale_completion")),
        _ => line(format_args!("event t={t} other")),
    })
}
