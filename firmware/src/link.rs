//! One protocol path on a UART: COBS stream framing both ways (`failover_core::wire::
//! stream`) and the per-path counters.
//!
//! Received bytes go through the core's bounded [`StreamDecoder`], which resynchronises
//! on the next `0x00` after garbage, an oversize run or a lost delimiter; each complete
//! frame goes to the caller (the state machine authenticates and replay-checks it).
//! Every outcome is counted by [`DecodeError`] kind: garbage, truncated and replayed
//! frames cost a counter increment, nothing else.

use failover_core::node::Path;
use failover_core::wire::{DecodeError, MAX_STREAM_FRAME_LEN, StreamDecoder, encode_stream_frame};

use crate::drivers::uart::{TxQueue, Uart};

/// Most bytes taken from one UART per main-loop pass, so a flood on one path cannot
/// hold up the others or the heartbeat tick.
const RX_BUDGET: usize = 256;
/// Transmit queue: a few frames (a relay or heartbeat is about 60 bytes on the wire).
const TX_QUEUE: usize = 1024;

/// Counters of one path.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct LinkStats {
    /// Frames the state machine accepted (or, for debug frames, handled).
    pub(crate) ok: u32,
    /// Frames or runs dropped, by [`DecodeError::index`].
    pub(crate) rejected: [u32; DecodeError::COUNT],
    /// Frames sent.
    pub(crate) sent: u32,
}

impl LinkStats {
    /// Count a drop.
    pub(crate) fn reject(&mut self, e: DecodeError) {
        let c = &mut self.rejected[e.index()];
        *c = c.wrapping_add(1);
    }

    /// All drops.
    pub(crate) fn rejected_total(&self) -> u32 {
        self.rejected.iter().fold(0u32, |a, &b| a.wrapping_add(b))
    }
}

/// A path on a UART.
#[derive(Debug)]
pub(crate) struct Link {
    /// Which path this is.
    pub(crate) path: Path,
    uart: Uart,
    rx: StreamDecoder,
    tx: TxQueue<TX_QUEUE>,
    /// Counters.
    pub(crate) stats: LinkStats,
}

impl Link {
    /// Path `path` on `uart`.
    pub(crate) const fn new(path: Path, uart: Uart) -> Self {
        Self {
            path,
            uart,
            rx: StreamDecoder::new(),
            tx: TxQueue::new(),
            stats: LinkStats { ok: 0, rejected: [0; DecodeError::COUNT], sent: 0 },
        }
    }

    /// Read what the UART holds (up to a budget) and hand every complete frame to
    /// `on_frame`, counting its verdict. Returns whether the budget was used up (more
    /// may be waiting).
    pub(crate) fn poll(&mut self, mut on_frame: impl FnMut(&[u8]) -> Result<(), DecodeError>) -> bool {
        let mut chunk = [0u8; RX_BUDGET];
        let n = self.uart.read(&mut chunk);
        let mut rest = &chunk[..n];
        while !rest.is_empty() {
            let (used, event) = self.rx.feed(rest);
            rest = &rest[used..];
            let verdict = match event {
                None => continue,
                Some(Err(e)) => Err(e),
                Some(Ok(frame)) => on_frame(frame),
            };
            match verdict {
                Ok(()) => self.stats.ok = self.stats.ok.wrapping_add(1),
                Err(e) => self.stats.reject(e),
            }
        }
        n == RX_BUDGET
    }

    /// Queue `frame` for sending, COBS-framed (dropped whole, and counted, if the line
    /// has not taken the previous frames).
    pub(crate) fn send(&mut self, frame: &[u8]) {
        let mut wire = [0u8; MAX_STREAM_FRAME_LEN];
        if let Ok(n) = encode_stream_frame(frame, &mut wire)
            && self.tx.push(&wire[..n])
        {
            self.stats.sent = self.stats.sent.wrapping_add(1);
        }
    }

    /// Move queued bytes to the UART.
    pub(crate) fn pump(&mut self) {
        self.tx.pump(&mut self.uart);
    }

    /// Whether output waits for the UART.
    pub(crate) fn tx_pending(&self) -> bool {
        self.tx.len() > 0
    }

    /// Frames dropped because the transmit queue was full.
    pub(crate) fn tx_dropped(&self) -> u32 {
        self.tx.dropped()
    }

    /// UART line errors (overrun, framing, parity, break).
    pub(crate) fn line_errors(&self) -> u32 {
        self.uart.line_errors()
    }
}
