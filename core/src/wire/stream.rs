//! Byte-stream framing (paths L and B over UARTs): COBS-encoded frames between `0x00`
//! delimiters.
//!
//! COBS removes every zero byte from the frame, so `0x00` only ever means "frame
//! boundary". A sender writes `0x00 | cobs(frame) | 0x00`: the leading zero ends any
//! garbage the line picked up before the frame, so one bad byte costs at most the frame
//! it lands in.
//!
//! [`StreamDecoder`] holds at most [`MAX_STREAM_FRAME_LEN`] bytes. It resynchronises
//! on the next delimiter after garbage, an oversize run (no delimiter for longer than
//! any valid frame) or a lost delimiter (two frames glued together fail the MAC or the
//! size check, and the frame after them decodes normally).

use super::{DecodeError, EncodeError, MAX_FRAME_LEN};

/// COBS overhead for a frame of [`MAX_FRAME_LEN`]: one byte per 254, plus one.
const COBS_OVERHEAD: usize = MAX_FRAME_LEN / 254 + 1;

/// The longest encoded frame on a stream, both delimiters included.
pub const MAX_STREAM_FRAME_LEN: usize = MAX_FRAME_LEN + COBS_OVERHEAD + 2;

/// Write `frame` COBS-encoded between two delimiters into `out`; returns the length.
/// Any buffer at least as long as the result fits ([`MAX_STREAM_FRAME_LEN`] always does).
pub fn encode_stream_frame(frame: &[u8], out: &mut [u8]) -> Result<usize, EncodeError> {
    if frame.len() > MAX_FRAME_LEN {
        return Err(EncodeError::BufferTooSmall);
    }
    // COBS needs one extra byte per run of 254 non-zero bytes only where such a run
    // occurs, so encode into scratch space and copy out the exact length.
    let mut scratch = [0u8; MAX_STREAM_FRAME_LEN];
    let n = cobs::encode(frame, &mut scratch[1..MAX_STREAM_FRAME_LEN - 1]);
    let total = n + 2;
    let dst = out.get_mut(..total).ok_or(EncodeError::BufferTooSmall)?;
    dst[0] = 0;
    dst[1..=n].copy_from_slice(&scratch[1..=n]);
    dst[n + 1] = 0;
    Ok(total)
}

/// Streaming COBS decoder with a fixed buffer. Feed it whatever the UART delivered;
/// it hands back each complete frame (still to be authenticated) or the framing error.
#[derive(Clone, Debug)]
pub struct StreamDecoder {
    buf: [u8; MAX_STREAM_FRAME_LEN],
    len: usize,
    /// The current run exceeded the buffer; discard until the next delimiter.
    overflowed: bool,
    /// A frame was handed out from `buf`; start afresh on the next byte.
    handed_out: bool,
}

impl Default for StreamDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl StreamDecoder {
    /// An empty decoder.
    pub const fn new() -> Self {
        Self { buf: [0; MAX_STREAM_FRAME_LEN], len: 0, overflowed: false, handed_out: false }
    }

    /// Drop any partial frame (for example after reopening the port).
    pub fn reset(&mut self) {
        self.len = 0;
        self.overflowed = false;
        self.handed_out = false;
    }

    /// Consume bytes from `input` up to and including the next event. Returns how many
    /// bytes were consumed and the event, if one completed: a decoded frame (borrowed
    /// from the decoder until the next call) or why the run was dropped. Call again with
    /// the rest of the input until it is empty.
    pub fn feed(&mut self, input: &[u8]) -> (usize, Option<Result<&[u8], DecodeError>>) {
        if self.handed_out {
            self.reset();
        }
        for (i, &b) in input.iter().enumerate() {
            if b != 0 {
                if self.len < self.buf.len() {
                    self.buf[self.len] = b;
                    self.len += 1;
                } else {
                    self.overflowed = true;
                }
                continue;
            }
            // A delimiter ends the current run.
            if self.overflowed {
                self.reset();
                return (i + 1, Some(Err(DecodeError::Oversize)));
            }
            if self.len == 0 {
                continue; // back-to-back delimiters: nothing between them
            }
            let run = self.len;
            self.handed_out = true;
            let event = match cobs::decode_in_place(&mut self.buf[..run]) {
                Ok(n) if n > MAX_FRAME_LEN => Err(DecodeError::Oversize),
                Ok(n) => Ok(&self.buf[..n]),
                Err(_) => Err(DecodeError::BadFraming),
            };
            return (i + 1, Some(event));
        }
        (input.len(), None)
    }

    /// Bytes of the partial frame held now.
    pub fn pending(&self) -> usize {
        if self.handed_out { 0 } else { self.len }
    }
}
