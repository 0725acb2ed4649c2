//! The test's stand-in for a controller's host on path L: it heartbeats its BMC with
//! authenticated frames (`failover_core::wire::Endpoint` as the host station), and
//! records what the BMC sends back: relays, fence reports, and (test images) the
//! debug report lines. It can also write anything at all onto the line (garbage,
//! truncated and replayed frames, debug commands).

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use failover_core::status::{DisabledReasons, Status};
use failover_core::wire::{
    Controller, DecodeError, Digest, Endpoint, FenceReport, FencingState, Health, Heartbeat, MAX_FRAME_LEN,
    MAX_STREAM_FRAME_LEN, MacKey, Message, Relay, Sender, SoftwareVersion, Station, StreamDecoder,
    encode_stream_frame,
};

use super::image::TEST_KEY;

/// First bytes of a debug frame (`firmware/src/debug.rs`).
pub const DEBUG_MAGIC: [u8; 2] = [0xDB, 0x67];
const DEBUG_REPORT: u8 = 0x80;

/// A debug command (test images only).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum DebugCommand {
    /// Stop the main loop for good.
    Stall = 1,
    /// Report both paths' counters.
    Counters = 2,
    /// Report the fence lines and registers.
    Fence = 3,
    /// Panic.
    Panic = 4,
    /// Reset on purpose.
    Reset = 5,
    /// Report the node's status.
    Status = 6,
}

/// Everything the BMC sent, with the host time it arrived.
#[derive(Debug, Default)]
pub struct Received {
    /// Relays (what the BMC knows of the peer).
    pub relays: Vec<(Instant, Relay)>,
    /// Fence reports.
    pub fence_reports: Vec<(Instant, FenceReport)>,
    /// Debug report lines.
    pub reports: Vec<(Instant, String)>,
    /// Frames that did not open.
    pub rejected: Vec<(Instant, DecodeError)>,
}

/// What the heartbeat thread sends.
#[derive(Debug)]
struct Beat {
    on: AtomicBool,
    master: AtomicBool,
    epoch: AtomicU64,
    stop: AtomicBool,
}

/// The test host of one BMC.
#[derive(Debug)]
pub struct TestHost {
    node: Controller,
    writer: Arc<Mutex<UnixStream>>,
    endpoint: Arc<Mutex<Endpoint>>,
    received: Arc<Mutex<Received>>,
    beat: Arc<Beat>,
    sent: Arc<Mutex<Vec<Sent>>>,
    interval: Duration,
}

/// A frame the heartbeat thread sent (without its COBS framing), and when.
type Sent = (Instant, Vec<u8>);

/// A host heartbeat: active (`master`) or standby, claiming `epoch`.
fn heartbeat(master: bool, epoch: u64, interval: Duration) -> Message {
    Message::Heartbeat(Heartbeat {
        status: if master { Status::Master } else { Status::Backup },
        epoch,
        interval_ms: u32::try_from(interval.as_millis()).unwrap_or(u32::MAX),
        disabled: DisabledReasons::default(),
        health: Health {
            groups: Default::default(),
            pools_imported: 0,
            pools_total: 0,
            fencing: FencingState::Ready,
            config_digest: Digest([0; 8]),
            disk_set_digest: Digest([0; 8]),
            version: SoftwareVersion { major: 0, minor: 1, patch: 0 },
        },
    })
}

/// Seal `message` from `endpoint` to `to`.
fn seal(endpoint: &mut Endpoint, message: &Message, to: Sender) -> Option<Vec<u8>> {
    let mut frame = [0u8; MAX_FRAME_LEN];
    let n = endpoint.seal(message, to, &mut frame).ok()?;
    Some(frame[..n].to_vec())
}

/// COBS-frame `frame` for a UART.
pub fn stream_frame(frame: &[u8]) -> Vec<u8> {
    let mut wire = [0u8; MAX_STREAM_FRAME_LEN];
    encode_stream_frame(frame, &mut wire).map(|n| wire[..n].to_vec()).unwrap_or_default()
}

impl TestHost {
    /// The host of `node`'s BMC on `stream` (path L), heartbeating every `interval` once
    /// [`Self::set_heartbeat`] turns it on.
    pub fn start(node: Controller, stream: UnixStream, interval: Duration) -> Result<Self, String> {
        let reader = stream.try_clone().map_err(|e| format!("path L socket: {e}"))?;
        let me = Sender::new(node, Station::Host);
        // Boot id: the wall clock in seconds, so a rerun never looks like a replay.
        let boot = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| u32::try_from(d.as_secs()).unwrap_or(u32::MAX));
        let host = Self {
            node,
            writer: Arc::new(Mutex::new(stream)),
            endpoint: Arc::new(Mutex::new(Endpoint::new(MacKey::new(TEST_KEY), me, boot))),
            received: Arc::default(),
            beat: Arc::new(Beat {
                on: AtomicBool::new(false),
                master: AtomicBool::new(false),
                epoch: AtomicU64::new(0),
                stop: AtomicBool::new(false),
            }),
            sent: Arc::default(),
            interval,
        };
        host.spawn_reader(reader);
        host.spawn_heartbeat(interval);
        Ok(host)
    }

    fn spawn_reader(&self, mut reader: UnixStream) {
        let endpoint = Arc::clone(&self.endpoint);
        let received = Arc::clone(&self.received);
        thread::spawn(move || {
            let mut decoder = StreamDecoder::new();
            let mut buf = [0u8; 4096];
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => n,
                };
                let at = Instant::now();
                let mut rest = &buf[..n];
                while !rest.is_empty() {
                    let (used, event) = decoder.feed(rest);
                    rest = &rest[used..];
                    let Ok(mut r) = received.lock() else { return };
                    match event {
                        None => {}
                        Some(Err(e)) => r.rejected.push((at, e)),
                        Some(Ok(frame)) => {
                            if let Some(text) =
                                frame.strip_prefix(&[DEBUG_MAGIC[0], DEBUG_MAGIC[1], DEBUG_REPORT])
                            {
                                r.reports.push((at, String::from_utf8_lossy(text).into_owned()));
                                continue;
                            }
                            let Ok(mut ep) = endpoint.lock() else { return };
                            match ep.open(frame).map(|rx| rx.message) {
                                Ok(Message::Relay(relay)) => r.relays.push((at, relay)),
                                Ok(Message::FenceReport(f)) => r.fence_reports.push((at, f)),
                                Ok(_) => {}
                                Err(e) => r.rejected.push((at, e)),
                            }
                        }
                    }
                }
            }
        });
    }

    fn spawn_heartbeat(&self, interval: Duration) {
        let (beat, endpoint, writer, sent, node) = (
            Arc::clone(&self.beat),
            Arc::clone(&self.endpoint),
            Arc::clone(&self.writer),
            Arc::clone(&self.sent),
            self.node,
        );
        thread::spawn(move || {
            let to = Sender::new(node, Station::Bmc);
            let mut next = Instant::now();
            while !beat.stop.load(Ordering::Relaxed) {
                next += interval;
                if beat.on.load(Ordering::Relaxed) {
                    let hb = heartbeat(
                        beat.master.load(Ordering::Relaxed),
                        beat.epoch.load(Ordering::Relaxed),
                        interval,
                    );
                    let frame = endpoint.lock().ok().and_then(|mut e| seal(&mut e, &hb, to));
                    if let Some(frame) = frame {
                        let ok = writer.lock().is_ok_and(|mut w| w.write_all(&stream_frame(&frame)).is_ok());
                        if ok && let Ok(mut s) = sent.lock() {
                            s.push((Instant::now(), frame));
                        }
                    }
                }
                let now = Instant::now();
                if next > now {
                    thread::sleep(next - now);
                } else {
                    next = now;
                }
            }
        });
    }

    /// Heartbeat (or stop) as an active (`master`) or standby host claiming `epoch`.
    pub fn set_heartbeat(&self, on: bool, master: bool, epoch: u64) {
        self.beat.master.store(master, Ordering::Relaxed);
        self.beat.epoch.store(epoch, Ordering::Relaxed);
        self.beat.on.store(on, Ordering::Relaxed);
    }

    /// Write raw bytes onto the line (whole, between the heartbeat thread's frames).
    pub fn inject(&self, bytes: &[u8]) -> Result<(), String> {
        self.writer
            .lock()
            .map_err(|_| "path L writer poisoned".to_owned())?
            .write_all(bytes)
            .map_err(|e| format!("path L write: {e}"))
    }

    /// Send a debug command.
    pub fn command(&self, c: DebugCommand) -> Result<(), String> {
        self.inject(&stream_frame(&[DEBUG_MAGIC[0], DEBUG_MAGIC[1], c as u8]))
    }

    /// The frames (unframed) the heartbeat thread sent, with when.
    pub fn sent(&self) -> Vec<Sent> {
        self.sent.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// A fresh heartbeat frame, sealed now (consumes a sequence number).
    pub fn fresh_frame(&self) -> Option<Vec<u8>> {
        let hb = heartbeat(false, self.beat.epoch.load(Ordering::Relaxed), self.interval);
        let to = Sender::new(self.node, Station::Bmc);
        self.endpoint.lock().ok().and_then(|mut e| seal(&mut e, &hb, to))
    }

    /// Run `f` on what was received so far.
    pub fn with<T>(&self, f: impl FnOnce(&Received) -> T) -> T {
        match self.received.lock() {
            Ok(r) => f(&r),
            Err(p) => f(&p.into_inner()),
        }
    }

    /// Report lines received after `since` that start with `word`.
    pub fn reports(&self, word: &str, since: Instant) -> Vec<(Instant, String)> {
        self.with(|r| {
            r.reports
                .iter()
                .filter(|(t, l)| *t >= since && l.split(' ').next() == Some(word))
                .cloned()
                .collect()
        })
    }
}

impl Drop for TestHost {
    fn drop(&mut self) {
        self.beat.stop.store(true, Ordering::Relaxed);
        if let Ok(w) = self.writer.lock() {
            let _ = w.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// The `key=value` fields of a report line.
pub fn fields(line: &str) -> Vec<(&str, &str)> {
    line.split(' ').filter_map(|f| f.split_once('=')).collect()
}

/// Field `key` of a report line.
pub fn field<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    fields(line).into_iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}
