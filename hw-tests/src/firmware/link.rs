//! The BMC-to-BMC UART link (path B), relayed by the test.
//!
//! Each QEMU's path-B UART is a socket the test accepts; a thread per direction copies
//! what one BMC sends to the other. The relay forwards whole `0x00`-delimited runs
//! only, so bytes the test injects land between frames and never split a genuine one,
//! and it records every frame that passes (with the host time it passed) for the
//! heartbeat interval, the authentication check and replays. Forwarding adds a
//! thread wake-up (tens of microseconds) to each frame. Each direction can be cut
//! ([`LinkRelay::set_cut`]): frames sent into a cut direction are dropped, as a
//! broken wire would.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Instant;

use failover_core::wire::{Controller, StreamDecoder};

/// A frame that crossed the link.
#[derive(Clone, Debug)]
pub struct Crossed {
    /// When the relay forwarded it.
    pub at: Instant,
    /// The BMC that sent it.
    pub from: Controller,
    /// The frame (COBS removed).
    pub frame: Vec<u8>,
}

/// The relay between the two BMCs' path-B sockets.
#[derive(Debug)]
pub struct LinkRelay {
    to_a: Arc<Mutex<UnixStream>>,
    to_b: Arc<Mutex<UnixStream>>,
    crossed: Arc<Mutex<Vec<Crossed>>>,
    /// Per sender (A, B): its frames are dropped.
    cut: [Arc<AtomicBool>; 2],
}

impl LinkRelay {
    /// Relay between `a` (BMC A's path-B socket) and `b` (BMC B's).
    pub fn start(a: UnixStream, b: UnixStream) -> Result<Self, String> {
        let clone = |s: &UnixStream| s.try_clone().map_err(|e| format!("path B socket: {e}"));
        let (read_a, read_b) = (clone(&a)?, clone(&b)?);
        let relay = Self {
            to_a: Arc::new(Mutex::new(a)),
            to_b: Arc::new(Mutex::new(b)),
            crossed: Arc::default(),
            cut: [Arc::default(), Arc::default()],
        };
        relay.spawn(Controller::A, read_a, Arc::clone(&relay.to_b));
        relay.spawn(Controller::B, read_b, Arc::clone(&relay.to_a));
        Ok(relay)
    }

    fn spawn(&self, from: Controller, mut src: UnixStream, dst: Arc<Mutex<UnixStream>>) {
        let crossed = Arc::clone(&self.crossed);
        let cut = Arc::clone(&self.cut[from.index()]);
        thread::spawn(move || {
            let mut decoder = StreamDecoder::new();
            let mut pending = Vec::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = match src.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let at = Instant::now();
                for &byte in &buf[..n] {
                    pending.push(byte);
                    if byte == 0 {
                        if cut.load(Ordering::Relaxed) {
                            pending.clear();
                            continue;
                        }
                        // A peer that went away only loses what it would have received.
                        if let Ok(mut d) = dst.lock() {
                            let _ = d.write_all(&pending);
                        }
                        pending.clear();
                    }
                }
                let mut rest = if cut.load(Ordering::Relaxed) { &[][..] } else { &buf[..n] };
                while !rest.is_empty() {
                    let (used, event) = decoder.feed(rest);
                    rest = &rest[used..];
                    if let Some(Ok(frame)) = event
                        && let Ok(mut c) = crossed.lock()
                    {
                        c.push(Crossed { at, from, frame: frame.to_vec() });
                    }
                }
            }
        });
    }

    /// Write `bytes` into `to`'s path-B input, between relayed frames.
    pub fn inject(&self, to: Controller, bytes: &[u8]) -> Result<(), String> {
        let side = match to {
            Controller::A => &self.to_a,
            Controller::B => &self.to_b,
        };
        side.lock()
            .map_err(|_| "path B writer poisoned".to_owned())?
            .write_all(bytes)
            .map_err(|e| format!("path B write to {to}: {e}"))
    }

    /// Splice a restarted BMC's path-B socket in place of `c`'s old one.
    pub fn replace(&self, c: Controller, stream: UnixStream) -> Result<(), String> {
        let reader = stream.try_clone().map_err(|e| format!("path B socket: {e}"))?;
        let (mine, other) = match c {
            Controller::A => (&self.to_a, &self.to_b),
            Controller::B => (&self.to_b, &self.to_a),
        };
        *mine.lock().map_err(|_| "path B writer poisoned".to_owned())? = stream;
        self.spawn(c, reader, Arc::clone(other));
        Ok(())
    }

    /// Cut (or restore) the direction `from` sends in.
    pub fn set_cut(&self, from: Controller, cut: bool) {
        self.cut[from.index()].store(cut, Ordering::Relaxed);
    }

    /// Forget the frames recorded so far (a long run would keep them all).
    pub fn forget(&self) {
        if let Ok(mut c) = self.crossed.lock() {
            c.clear();
        }
    }

    /// Every frame that crossed so far.
    pub fn crossed(&self) -> Vec<Crossed> {
        self.crossed.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

impl Drop for LinkRelay {
    fn drop(&mut self) {
        for side in [&self.to_a, &self.to_b] {
            if let Ok(s) = side.lock() {
                let _ = s.shutdown(std::net::Shutdown::Both);
            }
        }
    }
}
