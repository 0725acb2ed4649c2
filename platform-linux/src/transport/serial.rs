//! Path L: COBS-framed frames over a serial port to the local BMC (a real tty such as
//! `/dev/ttyS1`, or a QEMU `-serial pty`).
//!
//! The port is put in raw mode (no echo, no line discipline, 8N1) and non-blocking.
//! Reads feed a bounded [`StreamDecoder`], which resynchronises on garbage.
//!
//! A port can hang up under us: a USB adapter is unplugged, or the pty's master (an
//! emulator, a console server) goes away and comes back under the same name. Path L is
//! then closed, not polled (a hung-up tty polls readable forever), and reopened every
//! [`REOPEN_EVERY`] until it works again; meanwhile the core sees path L silent, which
//! is the truth.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::time::{Duration, Instant};

use failover_core::wire::{DecodeError, MAX_STREAM_FRAME_LEN, StreamDecoder, encode_stream_frame};
use nix::sys::termios::{self, BaudRate, SetArg};

use super::TransportError;

/// How often a hung-up port is tried again.
pub const REOPEN_EVERY: Duration = Duration::from_millis(250);

/// The serial end of path L.
#[derive(Debug)]
pub struct SerialLink {
    path: String,
    rate: u32,
    /// The open port; `None` after a hangup, until a reopen succeeds.
    port: Option<File>,
    /// When to try reopening a hung-up port.
    reopen_at: Option<Instant>,
    decoder: StreamDecoder,
    pending: Vec<u8>,
    /// Frames the stream decoder dropped (garbage, oversize, bad COBS).
    pub framing_errors: u64,
    /// Writes that could not complete (port full); the frame is dropped.
    pub write_errors: u64,
    /// Times the port hung up.
    pub hangups: u64,
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

/// Open `path` at `rate` baud in raw, non-blocking mode, with stale input dropped.
fn open_port(path: &str, rate: u32) -> Result<File, TransportError> {
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
    Ok(port)
}

impl SerialLink {
    /// Open `path` at `rate` baud in raw, non-blocking mode. A port that cannot be
    /// opened at start is a configuration error; one that hangs up later is reopened.
    pub fn open(path: &str, rate: u32) -> Result<Self, TransportError> {
        let port = open_port(path, rate)?;
        Ok(Self {
            path: path.to_string(),
            rate,
            port: Some(port),
            reopen_at: None,
            decoder: StreamDecoder::new(),
            pending: Vec::new(),
            framing_errors: 0,
            write_errors: 0,
            hangups: 0,
        })
    }

    /// Whether the port is open (not hung up).
    pub fn is_open(&self) -> bool {
        self.port.is_some()
    }

    /// The descriptor to poll, while the port is open.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        self.port.as_ref().map(AsFd::as_fd)
    }

    /// When [`Self::maintain`] next has something to do (a reopen attempt).
    pub fn next_wakeup(&self) -> Option<Instant> {
        self.reopen_at
    }

    /// Reopen a hung-up port when its time has come.
    pub fn maintain(&mut self, now: Instant) {
        if self.port.is_some() || self.reopen_at.is_none_or(|t| now < t) {
            return;
        }
        match open_port(&self.path, self.rate) {
            Ok(port) => {
                tracing::info!(path = %self.path, hangups = self.hangups, "path L serial port reopened");
                self.port = Some(port);
                self.reopen_at = None;
                self.decoder = StreamDecoder::new();
            }
            Err(e) => {
                tracing::debug!(error = %e, "path L serial port still unavailable");
                self.reopen_at = Some(now + REOPEN_EVERY);
            }
        }
    }

    fn hang_up(&mut self, why: &str) {
        if self.port.take().is_some() {
            self.hangups += 1;
            tracing::warn!(path = %self.path, why, "path L serial port hung up; reopening every {} ms", REOPEN_EVERY.as_millis());
        }
        self.reopen_at = Some(Instant::now() + REOPEN_EVERY);
        self.pending.clear();
    }

    /// Send one frame, COBS-encoded between delimiters. Dropped while hung up.
    pub fn send(&mut self, frame: &[u8]) {
        let mut buf = [0u8; MAX_STREAM_FRAME_LEN];
        let Ok(n) = encode_stream_frame(frame, &mut buf) else {
            self.write_errors += 1;
            return;
        };
        let Some(port) = self.port.as_mut() else { return };
        match port.write_all(&buf[..n]) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EIO) => self.hang_up("write: EIO"),
            Err(_) => self.write_errors += 1,
        }
    }

    /// Read what is available and hand each complete frame to `on_frame`.
    pub fn poll_frames(&mut self, mut on_frame: impl FnMut(&[u8])) {
        let mut chunk = [0u8; 512];
        let mut hung_up = None;
        if let Some(port) = self.port.as_mut() {
            loop {
                match port.read(&mut chunk) {
                    // A raw tty in non-blocking mode reads 0 only at hangup.
                    Ok(0) => {
                        hung_up = Some("read: end of file");
                        break;
                    }
                    Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    // A pty whose master has gone.
                    Err(e) if e.raw_os_error() == Some(libc::EIO) => {
                        hung_up = Some("read: EIO");
                        break;
                    }
                    Err(_) => break,
                }
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
        if let Some(why) = hung_up {
            self.hang_up(why);
        }
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

    #[test]
    fn a_hung_up_pty_is_closed_then_reopened_under_the_same_name() {
        let dir = std::env::temp_dir().join(format!("serial-reopen-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let link_path = dir.join("bmc.tty");
        let first = openpty(None, None).unwrap();
        let _ = std::fs::remove_file(&link_path);
        std::os::unix::fs::symlink(nix::unistd::ttyname(&first.slave).unwrap(), &link_path).unwrap();
        let mut link = SerialLink::open(link_path.to_str().unwrap(), 115200).unwrap();
        drop(first.slave);
        // The master goes away: the next poll sees the hangup and closes the port.
        drop(first.master);
        link.poll_frames(|_| panic!("no frames from a dead port"));
        assert!(!link.is_open());
        assert!(link.fd().is_none(), "a hung-up port must not be polled");
        assert_eq!(link.hangups, 1);
        let retry = link.next_wakeup().expect("a reopen is scheduled");
        // Too early: nothing happens. Then a new pty appears under the same name.
        link.maintain(retry - Duration::from_millis(1));
        assert!(!link.is_open());
        let second = openpty(None, None).unwrap();
        std::fs::remove_file(&link_path).unwrap();
        std::os::unix::fs::symlink(nix::unistd::ttyname(&second.slave).unwrap(), &link_path).unwrap();
        link.maintain(retry);
        assert!(link.is_open());
        assert_eq!(link.next_wakeup(), None);
        let mut master = File::from(second.master);
        let mut wire = [0u8; MAX_STREAM_FRAME_LEN];
        let n = encode_stream_frame(&[4, 0, 4], &mut wire).unwrap();
        master.write_all(&wire[..n]).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let mut got = Vec::new();
        link.poll_frames(|f| got.push(f.to_vec()));
        assert_eq!(got, vec![vec![4, 0, 4]]);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
