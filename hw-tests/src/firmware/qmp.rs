//! A QMP client for one QEMU: commands (`qom-get` on GPIO pins) and the events
//! (`WATCHDOG`, `RESET`) it announces, each stamped with the host time it arrived.
//!
//! QEMU listens (`-qmp unix:PATH,server=on,wait=off`); after the greeting the client
//! sends `qmp_capabilities`, then one command at a time. A reader thread sorts what
//! arrives into replies and events.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

/// How long a command may take.
const REPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// An event QEMU announced.
#[derive(Clone, Debug)]
pub struct QmpEvent {
    /// When it arrived here.
    pub at: Instant,
    /// Its name (`WATCHDOG`, `RESET`, `SHUTDOWN`, ...).
    pub name: String,
    /// Its `data` member.
    pub data: Value,
}

/// A connected QMP session.
#[derive(Debug)]
pub struct Qmp {
    stream: UnixStream,
    replies: Receiver<Value>,
    events: Arc<Mutex<Vec<QmpEvent>>>,
}

impl Qmp {
    /// Connect to the QMP socket at `path` (retrying until `deadline`: QEMU creates it
    /// while starting) and negotiate capabilities.
    pub fn connect(path: &Path, deadline: Instant) -> Result<Self, String> {
        let stream = loop {
            match UnixStream::connect(path) {
                Ok(s) => break s,
                Err(e) if Instant::now() >= deadline => {
                    return Err(format!("QMP socket {}: {e}", path.display()));
                }
                Err(_) => thread::sleep(Duration::from_millis(10)),
            }
        };
        let reader = stream.try_clone().map_err(|e| format!("QMP socket: {e}"))?;
        let (tx, replies) = channel();
        let events = Arc::new(Mutex::new(Vec::new()));
        let ev = Arc::clone(&events);
        thread::spawn(move || {
            for line in BufReader::new(reader).lines() {
                let Ok(line) = line else { break };
                let Ok(v) = serde_json::from_str::<Value>(&line) else { continue };
                if let Some(name) = v.get("event").and_then(Value::as_str) {
                    let data = v.get("data").cloned().unwrap_or(Value::Null);
                    if let Ok(mut e) = ev.lock() {
                        e.push(QmpEvent { at: Instant::now(), name: name.to_owned(), data });
                    }
                } else if (v.get("return").is_some() || v.get("error").is_some()) && tx.send(v).is_err() {
                    break;
                }
            }
        });
        let mut qmp = Self { stream, replies, events };
        qmp.execute("qmp_capabilities", Value::Null)?;
        Ok(qmp)
    }

    /// Run `command` with `arguments` (`Null` for none); its `return` value.
    pub fn execute(&mut self, command: &str, arguments: Value) -> Result<Value, String> {
        let msg = if arguments.is_null() {
            json!({ "execute": command })
        } else {
            json!({ "execute": command, "arguments": arguments })
        };
        writeln!(self.stream, "{msg}").map_err(|e| format!("QMP {command}: {e}"))?;
        match self.replies.recv_timeout(REPLY_TIMEOUT) {
            Ok(v) => match v.get("return") {
                Some(r) => Ok(r.clone()),
                None => Err(format!("QMP {command}: {}", v.get("error").unwrap_or(&Value::Null))),
            },
            Err(RecvTimeoutError::Timeout) => Err(format!("QMP {command}: no reply in {REPLY_TIMEOUT:?}")),
            Err(RecvTimeoutError::Disconnected) => Err(format!("QMP {command}: QEMU closed the connection")),
        }
    }

    /// The level of GPIO pin `pin` (such as `gpioA0`) of the SoC.
    pub fn gpio(&mut self, pin: &str) -> Result<bool, String> {
        let v = self.execute("qom-get", json!({ "path": "/machine/soc/gpio", "property": pin }))?;
        v.as_bool().ok_or_else(|| format!("qom-get {pin}: not a bool: {v}"))
    }

    /// Every event so far.
    pub fn events(&self) -> Vec<QmpEvent> {
        self.events.lock().map(|e| e.clone()).unwrap_or_default()
    }
}
