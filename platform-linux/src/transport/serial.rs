//! Path L: COBS-framed frames over a serial port to the local BMC (a real tty such as
//! `/dev/ttyS1`, or a QEMU `-serial pty`).
//!
//! The port is put in raw mode (no echo, no line discipline, 8N1) and non-blocking.
//! Reads feed a bounded [`StreamDecoder`], which resynchronises on garbage.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;

use failover_core::wire::{DecodeError, MAX_STREAM_FRAME_LEN, StreamDecoder, encode_stream_frame};
use nix::sys::termios::{self, BaudRate, SetArg};

use super::TransportError;

/// The serial end of path L.
#[derive(Debug)]
pub struct SerialLink {
    port: File,
    decoder: StreamDecoder,
    pending: Vec<u8>,
    /// Frames the stream decoder dropped (garbage, oversize, bad COBS).
    pub framing_errors: u64,
    /// Writes that could not complete (port full); the frame is dropped.
    pub write_errors: u64,
}

fn baud(rate: u32) -> Option<BaudRate> {
    Some(match rate {
        9600 => BaudRate::B9600,
        19200 => BaudRate::B19200,
        38400 => BaudRate::B38400,
        57600 => BaudRate::B57600,
        115200 => BaudRate::B115200,
        230400 => BaudRate::B230400,
        460800 => BaudRate::B460800,
        921600 => BaudRate::B921600,
        _ => return None,
    })
}

impl SerialLink {
    /// Open `path` at `rate` baud in raw, non-blocking mode.
    pub fn open(path: &str, rate: u32) -> Result<Self, TransportError> {
        let err = |source| TransportError::Serial { path: path.to_string(), source };
        let port = OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc::O_NOCTTY | libc::O_NONBLOCK)
            .open(path)
            .map_err(err)?;
        let mut t = termios::tcgetattr(&port).map_err(|e| err(e.into()))?;
        termios::cfmakeraw(&mut t);
        let speed =
            baud(rate).ok_or_else(|| err(std::io::Error::other(format!("unsupported baud rate {rate}"))))?;
        termios::cfsetspeed(&mut t, speed).map_err(|e| err(e.into()))?;
        termios::tcsetattr(&port, SetArg::TCSANOW, &t).map_err(|e| err(e.into()))?;
        // Bytes queued before we opened the port belong to nobody: drop them.
        let _ = termios::tcflush(&port, termios::FlushArg::TCIOFLUSH);
        Ok(Self {
            port,
            decoder: StreamDecoder::new(),
            pending: Vec::new(),
            framing_errors: 0,
            write_errors: 0,
        })
    }

    /// Send one frame, COBS-encoded between delimiters.
    pub fn send(&mut self, frame: &[u8]) {
        let mut buf = [0u8; MAX_STREAM_FRAME_LEN];
        let Ok(n) = encode_stream_frame(frame, &mut buf) else {
            self.write_errors += 1;
            return;
        };
        if self.port.write_all(&buf[..n]).is_err() {
            self.write_errors += 1;
        }
    }

    /// Read what is available and hand each complete frame to `on_frame`.
    pub fn poll_frames(&mut self, mut on_frame: impl FnMut(&[u8])) {
        let mut chunk = [0u8; 512];
        loop {
            match self.port.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let mut input = &self.pending[..];
        while !input.is_empty() {
            let (used, ev) = self.decoder.feed(input);
            input = &input[used..];
            match ev {
                Some(Ok(frame)) => on_frame(frame),
                Some(Err(DecodeError::Oversize | DecodeError::BadFraming)) | Some(Err(_)) => {
                    self.framing_errors += 1
                }
                None => {}
            }
        }
        self.pending.clear();
    }
}

impl AsFd for SerialLink {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.port.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::pty::openpty;

    #[test]
    fn frames_cross_a_pty_in_raw_mode() {
        let pty = openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(&pty.slave).unwrap();
        let mut link = SerialLink::open(path.to_str().unwrap(), 115200).unwrap();
        let mut master = File::from(pty.master);
        // Garbage, then a frame with zero bytes in it.
        let mut wire = [0u8; MAX_STREAM_FRAME_LEN];
        let n = encode_stream_frame(&[1, 0, 2, 0, 0, 3], &mut wire).unwrap();
        master.write_all(b"\x07junk").unwrap();
        master.write_all(&wire[..n]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut got = Vec::new();
        link.poll_frames(|f| got.push(f.to_vec()));
        assert!(got.contains(&vec![1, 0, 2, 0, 0, 3]), "{got:?}");
        // And the other way.
        link.send(&[9, 0, 9]);
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut buf = [0u8; 64];
        let k = master.read(&mut buf).unwrap();
        let m = encode_stream_frame(&[9, 0, 9], &mut wire).unwrap();
        assert_eq!(&buf[..k], &wire[..m]);
    }
}
