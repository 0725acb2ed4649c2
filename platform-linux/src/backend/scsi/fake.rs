//! An in-memory dual-ported logical unit for tests: it decodes the CDBs and parameter
//! lists the backend sends (independently of [`super::cdb`], so it checks them), applies
//! PR commands to the SPC model ([`crate::backend::pr::LogicalUnit`]), encodes the
//! responses in SPC layout, and behaves like LIO where the model is silent: a unit
//! attention for a preempted port, reported once, and the command it meets not executed.
//! Faults (a completion or an OS error instead of the real answer, a slow device) are
//! injected per port.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use failover_core::wire::Controller;

use crate::backend::pr::{LogicalUnit, PrError, ReservationType};

use super::transport::{Completion, Data, ScsiTransport};

pub(crate) const BLOCK_LEN: usize = 512;

/// What a port's next command gets instead of being executed.
#[derive(Debug)]
pub(crate) enum Fault {
    /// This completion and these data-in bytes.
    Respond(Completion, Vec<u8>),
    /// This OS error from the ioctl.
    Os(i32),
}

#[derive(Debug, Default)]
pub(crate) struct LunState {
    pub(crate) lu: LogicalUnit,
    /// Pending unit attentions per port (A, B): ASC, ASCQ.
    pub(crate) attention: [VecDeque<(u8, u8)>; 2],
    pub(crate) faults: [VecDeque<Fault>; 2],
    pub(crate) blocks: HashMap<u32, Vec<u8>>,
    /// Every command executed or refused: port, opcode, service action.
    pub(crate) log: Vec<(Controller, u8, u8)>,
    /// Every WRITE accepted, in order: the port it came through.
    pub(crate) writes: Vec<Controller>,
    /// Per command.
    pub(crate) delay: Duration,
    pub(crate) descriptor_sense: bool,
    /// Peripheral device type in INQUIRY.
    pub(crate) device_type: u8,
    pub(crate) has_vpd_83: bool,
    pub(crate) serial: String,
}

/// One logical unit.
#[derive(Debug)]
pub(crate) struct FakeLun {
    state: Mutex<LunState>,
}

const fn idx(c: Controller) -> usize {
    match c {
        Controller::A => 0,
        Controller::B => 1,
    }
}

fn check_condition(descriptor: bool, key: u8, asc: u8, ascq: u8) -> Completion {
    let sense = if descriptor {
        vec![0x72, key, asc, ascq, 0, 0, 0, 0]
    } else {
        vec![0x70, 0, key, 0, 0, 0, 0, 10, 0, 0, 0, 0, asc, ascq, 0, 0, 0, 0]
    };
    Completion { status: 0x02, driver_status: 0x08, sense, ..Completion::default() }
}

fn status(s: u8) -> Completion {
    Completion { status: s, ..Completion::default() }
}

fn be_u64(b: &[u8]) -> u64 {
    b.get(..8).and_then(|b| <[u8; 8]>::try_from(b).ok()).map_or(0, u64::from_be_bytes)
}

impl FakeLun {
    pub(crate) fn new(serial: &str) -> Arc<Self> {
        let state = LunState { serial: serial.to_owned(), has_vpd_83: true, ..LunState::default() };
        Arc::new(Self { state: Mutex::new(state) })
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, LunState> {
        self.state.lock().unwrap()
    }

    /// `port`'s path to this unit.
    pub(crate) fn path(self: &Arc<Self>, port: Controller) -> Box<FakePath> {
        Box::new(FakePath { lun: self.clone(), port })
    }

    pub(crate) fn inject(&self, port: Controller, fault: Fault) {
        self.state().faults[idx(port)].push_back(fault);
    }

    pub(crate) fn attention(&self, port: Controller, asc: u8, ascq: u8) {
        self.state().attention[idx(port)].push_back((asc, ascq));
    }

    /// The service actions of PR OUT commands `port` sent that were executed or
    /// refused by the device server (not those that met a unit attention).
    pub(crate) fn pr_out_log(&self, port: Controller) -> Vec<u8> {
        self.state().log.iter().filter(|(p, op, _)| *p == port && *op == 0x5F).map(|(_, _, sa)| *sa).collect()
    }

    fn execute(
        &self,
        port: Controller,
        cdb: &[u8],
        data: Data<'_>,
        timeout: Duration,
    ) -> std::io::Result<Completion> {
        let delay = self.state().delay;
        if !delay.is_zero() {
            std::thread::sleep(delay.min(timeout));
            if delay > timeout {
                return Ok(Completion { host_status: 0x03, ..Completion::default() });
            }
        }
        let mut st = self.state();
        if let Some(f) = st.faults[idx(port)].pop_front() {
            return match f {
                Fault::Os(errno) => Err(std::io::Error::from_raw_os_error(errno)),
                Fault::Respond(c, bytes) => {
                    let c = match data {
                        Data::FromDevice(buf) => respond(buf, &bytes, c),
                        _ => c,
                    };
                    Ok(c)
                }
            };
        }
        let desc = st.descriptor_sense;
        let opcode = cdb.first().copied().unwrap_or(0xFF);
        // INQUIRY never reports a unit attention (SAM-5 §5.14).
        if opcode != 0x12
            && let Some((asc, ascq)) = st.attention[idx(port)].pop_front()
        {
            return Ok(check_condition(desc, 0x06, asc, ascq));
        }
        let sa = cdb.get(1).map_or(0, |b| b & 0x1F);
        st.log.push((port, opcode, sa));
        let alloc =
            |at: usize| cdb.get(at..at + 2).map_or(0, |b| usize::from(u16::from_be_bytes([b[0], b[1]])));
        Ok(match (opcode, data) {
            (0x00, Data::None) if cdb.len() == 6 => status(0),
            (0x12, Data::FromDevice(buf)) if cdb.len() == 6 => {
                let body = st.inquiry(port, cdb[1] & 1 == 1, cdb[2]);
                let n = alloc(3).min(buf.len());
                match body {
                    Some(b) => respond(&mut buf[..n], &b, status(0)),
                    None => check_condition(desc, 0x05, 0x24, 0x00),
                }
            }
            (0x25, Data::FromDevice(buf)) if cdb.len() == 10 => {
                let mut b = 0xFFFF_u32.to_be_bytes().to_vec();
                b.extend_from_slice(&u32::try_from(BLOCK_LEN).unwrap().to_be_bytes());
                respond(buf, &b, status(0))
            }
            (0x5E, Data::FromDevice(buf)) if cdb.len() == 10 => {
                let body = match sa {
                    0 => {
                        let k = st.lu.read_keys();
                        let mut b = k.generation.to_be_bytes().to_vec();
                        b.extend_from_slice(&u32::try_from(k.keys.len() * 8).unwrap().to_be_bytes());
                        k.keys.iter().for_each(|key| b.extend_from_slice(&key.to_be_bytes()));
                        b
                    }
                    1 => {
                        let r = st.lu.read_reservation();
                        let mut b = r.generation.to_be_bytes().to_vec();
                        match r.reservation {
                            None => b.extend_from_slice(&[0; 4]),
                            Some(d) => {
                                b.extend_from_slice(&[0, 0, 0, 0x10]);
                                b.extend_from_slice(&d.key.to_be_bytes());
                                b.extend_from_slice(&[0, 0, 0, 0, 0, d.kind.code(), 0, 0]);
                            }
                        }
                        b
                    }
                    _ => return Ok(check_condition(desc, 0x05, 0x24, 0x00)),
                };
                let n = alloc(7).min(buf.len());
                respond(&mut buf[..n], &body, status(0))
            }
            (0x5F, Data::ToDevice(params)) if cdb.len() == 10 => {
                let len = u32::from_be_bytes([cdb[5], cdb[6], cdb[7], cdb[8]]) as usize;
                if len != 24 || params.len() != 24 || cdb[2] >> 4 != 0 {
                    return Ok(check_condition(desc, 0x05, 0x1A, 0x00));
                }
                st.pr_out(port, sa, cdb[2] & 0xF, be_u64(params), be_u64(&params[8..]), desc)
            }
            (0x2A, Data::ToDevice(block)) if cdb.len() == 10 => {
                let lba = u32::from_be_bytes([cdb[2], cdb[3], cdb[4], cdb[5]]);
                if usize::from(u16::from_be_bytes([cdb[7], cdb[8]])) * BLOCK_LEN != block.len() {
                    return Ok(check_condition(desc, 0x05, 0x24, 0x00));
                }
                match st.lu.check_write(port) {
                    Ok(()) => {
                        st.blocks.insert(lba, block.to_vec());
                        st.writes.push(port);
                        status(0)
                    }
                    Err(_) => status(0x18),
                }
            }
            (0x28, Data::FromDevice(buf)) if cdb.len() == 10 => {
                let lba = u32::from_be_bytes([cdb[2], cdb[3], cdb[4], cdb[5]]);
                match st.lu.check_read(port) {
                    Ok(()) => {
                        let b = st.blocks.get(&lba).cloned().unwrap_or_else(|| vec![0; BLOCK_LEN]);
                        respond(buf, &b, status(0))
                    }
                    Err(_) => status(0x18),
                }
            }
            _ => check_condition(desc, 0x05, 0x20, 0x00),
        })
    }
}

/// Copy `body` into `buf` as far as it goes; the residue is what did not fill `buf`.
fn respond(buf: &mut [u8], body: &[u8], mut c: Completion) -> Completion {
    let n = body.len().min(buf.len());
    buf[..n].copy_from_slice(&body[..n]);
    c.resid = i32::try_from(buf.len() - n).unwrap();
    c
}

impl LunState {
    fn inquiry(&self, port: Controller, evpd: bool, page: u8) -> Option<Vec<u8>> {
        if !evpd {
            let mut b = vec![self.device_type, 0, 6, 2, 31, 0, 0, 2];
            b.extend_from_slice(b"LIO-ORG FILEIO          4.0 ");
            b.truncate(36);
            return Some(b);
        }
        match page {
            0x80 => {
                let mut b = vec![0, 0x80, 0, u8::try_from(self.serial.len()).unwrap()];
                b.extend_from_slice(self.serial.as_bytes());
                Some(b)
            }
            0x83 if self.has_vpd_83 => {
                // NAA 6 from the serial (same on both ports), then a target port
                // designator that differs between the ports.
                let mut naa = vec![0x60, 0x01, 0x40, 0x50];
                naa.extend(self.serial.bytes().chain(std::iter::repeat(0)).take(12));
                let mut d = vec![0x01, 0x03, 0x00, 0x10];
                d.extend_from_slice(&naa);
                d.extend_from_slice(&[0x61, 0x93, 0x00, 0x08, 0x50, 0, 0, 0, 0, 0, 0, 1 + idx(port) as u8]);
                let mut b = vec![0, 0x83];
                b.extend_from_slice(&u16::try_from(d.len()).unwrap().to_be_bytes());
                b.extend_from_slice(&d);
                Some(b)
            }
            _ => None,
        }
    }

    fn pr_out(
        &mut self,
        port: Controller,
        sa: u8,
        type_code: u8,
        key: u64,
        sa_key: u64,
        desc: bool,
    ) -> Completion {
        let kind = ReservationType::from_code(type_code);
        let needs_type = matches!(sa, 1 | 2 | 4 | 5);
        if needs_type && kind.is_none() {
            return check_condition(desc, 0x05, 0x24, 0x00);
        }
        let kind = kind.unwrap_or(ReservationType::WriteExclusiveRegistrantsOnly);
        let result = match sa {
            0 => self.lu.register(port, key, sa_key),
            1 => self.lu.reserve(port, key, kind),
            2 => self.lu.release(port, key, kind),
            3 => {
                let other = port.peer();
                let had = self.lu.registration(other).is_some();
                let r = self.lu.clear(port, key);
                if r.is_ok() && had {
                    self.attention[idx(other)].push_back((0x2A, 0x03));
                }
                r
            }
            4 | 5 => match self.lu.preempt(port, key, sa_key, kind) {
                Ok(p) => {
                    for c in p.removed {
                        self.attention[idx(c)].push_back((0x2A, 0x05));
                    }
                    Ok(())
                }
                Err(e) => Err(e),
            },
            6 => {
                self.lu.register_and_ignore_existing_key(port, sa_key);
                Ok(())
            }
            _ => return check_condition(desc, 0x05, 0x24, 0x00),
        };
        match result {
            Ok(()) => status(0),
            Err(PrError::ReservationConflict) => status(0x18),
            Err(PrError::InvalidRelease) => check_condition(desc, 0x05, 0x26, 0x04),
            Err(PrError::InvalidFieldInParameterList) => check_condition(desc, 0x05, 0x26, 0x00),
        }
    }
}

/// One port's path to a [`FakeLun`].
#[derive(Debug)]
pub(crate) struct FakePath {
    lun: Arc<FakeLun>,
    port: Controller,
}

impl ScsiTransport for FakePath {
    fn execute(&self, cdb: &[u8], data: Data<'_>, timeout: Duration) -> std::io::Result<Completion> {
        self.lun.execute(self.port, cdb, data, timeout)
    }
}
