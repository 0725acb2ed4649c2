//! What the shared hardware says, read directly: `failoverctl inspect`.
//!
//! failoverd's status is what a test harness or an administrator audits, so this view
//! must not come from failoverd: it asks the disks, the enclosure and named GPIO lines
//! itself, through this host's ports, and needs no running service.
//!
//! It only looks:
//! - SCSI disks get INQUIRY and VPD pages (to identify them) and PERSISTENT RESERVE IN
//!   (READ RESERVATION, READ KEYS); never a PR OUT. A pending unit attention is drained
//!   with TEST UNIT READY, as every command of [`ScsiDevice`] does: that consumes it
//!   for this host's I_T nexus, which costs failoverd nothing (it only logs them);
//! - simulated disks are opened with [`SimDiskSet::open_existing`], which creates no
//!   disk, and read with the same PR IN commands;
//! - the enclosure's port registers are read, never written. A GPIO enclosure line is
//!   failoverd's output and is left alone;
//! - GPIO lines are requested as inputs for one read, then released.
//!
//! Every item that cannot be read becomes one line of [`Inspection::errors`] naming it;
//! the others are still read.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use failover_core::node::ReservationKey;
use failover_core::wire::Controller;
use gpio_cdev::{LineDirection, LineRequestFlags};
use serde::{Deserialize, Serialize};

use crate::backend::scsi::cdb::LU_SCOPE;
use crate::backend::{
    BackendError, EnclosureFence as _, GpioError, I2cEnclosure, ScsiDevice, SimDiskSet, SimEnclosure, gpio,
};
use crate::config::{DiskBackend, EnclosureBackend};

/// The consumer label of our GPIO requests (shown by `gpioinfo` while we read).
pub const CONSUMER: &str = "failoverctl-inspect";

/// Per-command timeout for a SCSI disk: PR IN is answered from the device's memory, so
/// a command taking longer means the path is wedged, not slow.
const SCSI_COMMAND_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything for one SCSI disk (open, identify, two PR IN) must be over by then; the
/// disks are read in parallel, so a dead path costs this once, not once per disk.
const SCSI_DEADLINE: Duration = Duration::from_secs(5);

/// What the shared hardware says, as seen through one controller's ports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// The controller whose ports this host reads through ("A" or "B").
    pub controller: String,
    /// The disks that could be read, in configured order.
    pub disks: Vec<DiskInspection>,
    /// The enclosure's ports; `None` without an enclosure or when it could not be read.
    pub enclosure: Option<EnclosureInspection>,
    /// The GPIO lines that could be read, in the order asked for.
    pub gpio: Vec<GpioInspection>,
    /// One line per item that could not be read, naming the device and the error.
    pub errors: Vec<String>,
}

/// One disk's persistent reservation state.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiskInspection {
    /// The device path (SCSI) or the simulated disk's serial.
    pub name: String,
    /// Who holds the reservation, if anyone (key zero: every registrant, for the
    /// all-registrants types).
    pub holder: Option<KeyJson>,
    /// The reservation type's name (e.g. "write exclusive, registrants only") if reserved.
    pub reservation_type: Option<String>,
    /// Every registered key (READ KEYS), in the device's order.
    pub registered: Vec<KeyJson>,
}

/// A reservation key as read from a disk, decoded when it is one of ours.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyJson {
    /// The 8-byte key, "0x" + 16 hex digits.
    pub key: String,
    /// The controller letter, when the key is one of ours.
    pub controller: Option<String>,
    /// The epoch, when the key is one of ours.
    pub epoch: Option<u64>,
}

/// The enclosure's expander ports.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnclosureInspection {
    /// Which enclosure was read.
    pub describe: String,
    /// Controller A's port is cut.
    pub a_cut: bool,
    /// Controller B's port is cut.
    pub b_cut: bool,
}

/// One GPIO input line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GpioInspection {
    /// The chip as given.
    pub chip: String,
    /// The line's name.
    pub line: String,
    /// The line reads asserted (after the polarity given).
    pub asserted: bool,
}

impl KeyJson {
    /// The key `raw`, decoded with [`ReservationKey::from_u64`].
    pub fn new(raw: u64) -> Self {
        let ours = ReservationKey::from_u64(raw);
        Self {
            key: format!("{raw:#018x}"),
            controller: ours.map(|k| k.controller().letter().to_string()),
            epoch: ours.map(ReservationKey::epoch),
        }
    }

    /// `A@7` for one of ours, else the raw key.
    fn label(&self) -> String {
        match (&self.controller, self.epoch) {
            (Some(c), Some(epoch)) => format!("{c}@{epoch}"),
            _ => self.key.clone(),
        }
    }
}

/// Read the disks, the enclosure and the `gpio` lines (`(chip, line, active_low)`)
/// through `controller`'s ports. Never fails as a whole: what cannot be read is in
/// [`Inspection::errors`].
pub fn inspect(
    controller: Controller,
    disks: &DiskBackend,
    enclosure: &EnclosureBackend,
    gpio: &[(String, String, bool)],
) -> Inspection {
    let mut errors = Vec::new();
    let disk_list = match disks {
        DiskBackend::Sim { path, disks, .. } => sim_disks(path, *disks as usize, controller, &mut errors),
        DiskBackend::Scsi { devices, .. } => scsi_disks(devices, &mut errors),
    };
    let enclosure = read_enclosure(enclosure, disks, &mut errors);
    let gpio = gpio
        .iter()
        .filter_map(|(chip, line, active_low)| match read_line(chip, line, *active_low) {
            Ok(asserted) => Some(GpioInspection { chip: chip.clone(), line: line.clone(), asserted }),
            Err(e) => {
                errors.push(e.to_string());
                None
            }
        })
        .collect();
    Inspection { controller: controller.letter().to_string(), disks: disk_list, enclosure, gpio, errors }
}

impl Inspection {
    /// For humans: one line per disk, the enclosure, the GPIO lines, then the errors.
    pub fn render(&self) -> String {
        let mut out = format!("through controller {}'s ports\n", self.controller);
        for d in &self.disks {
            let held = match (&d.holder, &d.reservation_type) {
                (Some(h), kind) => {
                    let who =
                        if h.key == KeyJson::new(0).key { "every registrant".into() } else { h.label() };
                    format!("reserved by {who} ({})", kind.as_deref().unwrap_or("unknown type"))
                }
                (None, _) => "not reserved".into(),
            };
            let keys: Vec<String> = d.registered.iter().map(KeyJson::label).collect();
            let keys = if keys.is_empty() { "none".into() } else { keys.join(", ") };
            let _ = writeln!(out, "{}: {held}; registered: {keys}", d.name);
        }
        if let Some(e) = &self.enclosure {
            let port = |cut: bool| if cut { "cut" } else { "connected" };
            let _ = writeln!(out, "enclosure: {}: A {}, B {}", e.describe, port(e.a_cut), port(e.b_cut));
        }
        for g in &self.gpio {
            let level = if g.asserted { "asserted" } else { "deasserted" };
            let _ = writeln!(out, "gpio {}:{}: {level}", g.chip, g.line);
        }
        for e in &self.errors {
            let _ = writeln!(out, "error: {e}");
        }
        out
    }
}

/// `error`, prefixed with `name` unless it names it already.
fn named(name: &str, error: &BackendError) -> String {
    let text = error.to_string();
    if text.contains(name) { text } else { format!("{name}: {text}") }
}

/// The SPC-4 name of reservation TYPE `code` (table 172), with a SCOPE other than the
/// logical unit's (obsolete, but a device may report one) appended.
fn type_name(code: u8, scope: u8) -> String {
    let name = match code {
        1 => "write exclusive".to_owned(),
        3 => "exclusive access".to_owned(),
        5 => "write exclusive, registrants only".to_owned(),
        6 => "exclusive access, registrants only".to_owned(),
        7 => "write exclusive, all registrants".to_owned(),
        8 => "exclusive access, all registrants".to_owned(),
        other => format!("type {other:#x}"),
    };
    if scope == LU_SCOPE { name } else { format!("{name}, scope {scope}") }
}

/// `f` over `items` on one thread each, results in order: a disk that hangs until its
/// deadline must not hold up the others.
fn par_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    std::thread::scope(|s| {
        let f = &f;
        let handles: Vec<_> = items.iter().map(|i| s.spawn(move || f(i))).collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))).collect()
    })
}

/// The readable disks; an error line for each of the others.
fn keep_read(results: Vec<Result<DiskInspection, String>>, errors: &mut Vec<String>) -> Vec<DiskInspection> {
    results
        .into_iter()
        .filter_map(|r| match r {
            Ok(d) => Some(d),
            Err(e) => {
                errors.push(e);
                None
            }
        })
        .collect()
}

fn sim_disks(path: &Path, count: usize, port: Controller, errors: &mut Vec<String>) -> Vec<DiskInspection> {
    let set = match SimDiskSet::open_existing(path, count, port) {
        Ok(set) => set,
        Err(e) => {
            errors.push(format!("simulated disks {}: {e}", path.display()));
            return Vec::new();
        }
    };
    let indexes: Vec<usize> = (0..set.disk_count()).collect();
    let results = par_map(&indexes, |&i| {
        let name = set.serial(i).map_err(|e| named(&path.display().to_string(), &e))?.to_owned();
        let held = set.read_reservation(i).map_err(|e| named(&name, &e))?.reservation;
        let keys = set.read_keys(i).map_err(|e| named(&name, &e))?.keys;
        Ok(DiskInspection {
            name,
            holder: held.map(|r| KeyJson::new(r.key)),
            reservation_type: held.map(|r| type_name(r.kind.code(), LU_SCOPE)),
            registered: keys.into_iter().map(KeyJson::new).collect(),
        })
    });
    keep_read(results, errors)
}

fn scsi_disks(devices: &[PathBuf], errors: &mut Vec<String>) -> Vec<DiskInspection> {
    let results = par_map(devices, |path| {
        let name = path.display().to_string();
        let deadline = Instant::now() + SCSI_DEADLINE;
        let dev = ScsiDevice::open(path, SCSI_COMMAND_TIMEOUT, deadline).map_err(|e| named(&name, &e))?;
        let held = dev.read_reservation(deadline).map_err(|e| named(&name, &e))?.reservation;
        let keys = dev.read_keys(deadline).map_err(|e| named(&name, &e))?.keys;
        Ok(DiskInspection {
            name,
            holder: held.map(|r| KeyJson::new(r.key)),
            reservation_type: held.map(|r| type_name(r.type_code, r.scope)),
            registered: keys.into_iter().map(KeyJson::new).collect(),
        })
    });
    keep_read(results, errors)
}

fn read_enclosure(
    enclosure: &EnclosureBackend,
    disks: &DiskBackend,
    errors: &mut Vec<String>,
) -> Option<EnclosureInspection> {
    let read = match enclosure {
        EnclosureBackend::None => return None,
        EnclosureBackend::Sim { path } => {
            // As failoverd picks it (`service::run::open_enclosure`): with simulated
            // disks, the JBOD's own enclosure, the one their commands consult.
            let dir = match disks {
                DiskBackend::Sim { path: jbod, .. } => jbod,
                DiskBackend::Scsi { .. } => path,
            };
            sim_enclosure(dir)
        }
        EnclosureBackend::I2c { bus, address } => I2cEnclosure::open(bus, *address).and_then(|e| {
            let ports = e.state()?;
            Ok(EnclosureInspection {
                describe: e.describe(),
                a_cut: ports.is_cut(Controller::A),
                b_cut: ports.is_cut(Controller::B),
            })
        }),
        EnclosureBackend::Gpio { chip, peer_line, .. } => {
            errors.push(format!(
                "enclosure {chip}:{peer_line}: a GPIO fence line is owned by failoverd; \
                 name it with --gpio on the peer if it is wired to an input"
            ));
            return None;
        }
    };
    read.map_err(|e| errors.push(format!("enclosure: {e}"))).ok()
}

fn sim_enclosure(dir: &Path) -> Result<EnclosureInspection, BackendError> {
    // Opening creates the enclosure's directory: only inside an existing JBOD.
    if !dir.try_exists().map_err(|e| BackendError::io(dir, e))? {
        let why = std::io::Error::new(std::io::ErrorKind::NotFound, "no such directory");
        return Err(BackendError::io(dir, why));
    }
    let enclosure = SimEnclosure::open(dir)?;
    Ok(EnclosureInspection {
        describe: format!("simulated enclosure {}", dir.display()),
        a_cut: enclosure.is_cut(Controller::A)?,
        b_cut: enclosure.is_cut(Controller::B)?,
    })
}

/// Whether `line` on `chip` reads asserted, requested for this one read.
fn read_line(chip: &str, line: &str, active_low: bool) -> Result<bool, GpioError> {
    let (l, info) = gpio::free_line(chip, line)?;
    let err = |what, source| GpioError::Line { chip: chip.to_owned(), line: line.to_owned(), what, source };
    // A free line that is an output keeps driving its level (failoverd stopped with a
    // fence line asserted): turning it into an input would let it float and undo the
    // cut, so it is read as it is. Anything else is requested as an input.
    let flags = match info.direction() {
        LineDirection::Out => LineRequestFlags::empty(),
        LineDirection::In => LineRequestFlags::INPUT,
    };
    let handle = l.request(flags, 0, CONSUMER).map_err(|e| err("request input", e))?;
    let high = handle.get_value().map_err(|e| err("read", e))? != 0;
    // Dropping the handle releases the line.
    Ok(high != active_low)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::DiskOwnership as _;
    use failover_core::node::FenceResult;

    fn sim(path: &Path, disks: u32) -> DiskBackend {
        DiskBackend::Sim { path: path.to_owned(), disks, workload: true }
    }

    fn a_at_3() -> KeyJson {
        KeyJson { key: "0x4641000000000003".into(), controller: Some("A".into()), epoch: Some(3) }
    }

    #[test]
    fn a_fenced_set_reads_as_held_by_its_fencer_through_the_other_port() {
        let tmp = tempfile::tempdir().unwrap();
        let a = SimDiskSet::open(tmp.path(), 2, Controller::A).unwrap();
        let fenced = a.fence_and_reserve(ReservationKey::new(Controller::A, 3)).unwrap();
        assert_eq!(fenced.result, FenceResult::Done);

        let seen = inspect(Controller::B, &sim(tmp.path(), 2), &EnclosureBackend::None, &[]);
        assert_eq!(seen.errors, Vec::<String>::new());
        assert_eq!(seen.controller, "B");
        assert_eq!(seen.enclosure, None);
        assert_eq!(seen.disks.len(), 2);
        for (i, d) in seen.disks.iter().enumerate() {
            assert_eq!(d.name, a.serial(i).unwrap());
            assert_eq!(d.holder, Some(a_at_3()));
            assert_eq!(d.reservation_type.as_deref(), Some("write exclusive, registrants only"));
            assert_eq!(d.registered, vec![a_at_3()]);
        }
        let text = seen.render();
        let line = format!(
            "{}: reserved by A@3 (write exclusive, registrants only); registered: A@3\n",
            a.serial(0).unwrap()
        );
        assert!(text.contains(&line), "{text}");
        assert!(!text.contains("error"), "{text}");
    }

    #[test]
    fn an_unreserved_disk_and_foreign_keys() {
        let tmp = tempfile::tempdir().unwrap();
        SimDiskSet::open(tmp.path(), 1, Controller::A).unwrap();
        let seen = inspect(Controller::A, &sim(tmp.path(), 1), &EnclosureBackend::None, &[]);
        assert_eq!((seen.disks[0].holder.as_ref(), seen.disks[0].registered.len()), (None, 0));
        assert!(seen.render().contains(": not reserved; registered: none\n"), "{}", seen.render());

        let foreign = KeyJson::new(0x1234);
        assert_eq!(foreign, KeyJson { key: "0x0000000000001234".into(), controller: None, epoch: None });
        assert_eq!(foreign.label(), "0x0000000000001234");
        assert_eq!(KeyJson::new(ReservationKey::new(Controller::B, 7).as_u64()).label(), "B@7");
        assert_eq!(type_name(8, 0), "exclusive access, all registrants");
        assert_eq!(type_name(2, 1), "type 0x2, scope 1");
    }

    #[test]
    fn the_sim_enclosure_reports_each_port() {
        let tmp = tempfile::tempdir().unwrap();
        let a = SimDiskSet::open(tmp.path(), 2, Controller::A).unwrap();
        a.enclosure().cut(Controller::B).unwrap();
        // `path` is unused with simulated disks: the JBOD's own enclosure is read.
        let enclosure = EnclosureBackend::Sim { path: tmp.path().join("elsewhere") };

        let seen = inspect(Controller::A, &sim(tmp.path(), 2), &enclosure, &[]);
        assert_eq!(seen.errors, Vec::<String>::new());
        let e = seen.enclosure.clone().unwrap();
        assert_eq!((e.a_cut, e.b_cut), (false, true));
        assert!(e.describe.contains(&tmp.path().display().to_string()), "{}", e.describe);
        assert!(seen.render().contains(": A connected, B cut\n"), "{}", seen.render());

        // Through B's cut port the enclosure still answers, the disks do not.
        let seen = inspect(Controller::B, &sim(tmp.path(), 2), &enclosure, &[]);
        assert_eq!(seen.enclosure.map(|e| (e.a_cut, e.b_cut)), Some((false, true)));
        assert!(seen.disks.is_empty());
        assert_eq!(seen.errors.len(), 2, "{:?}", seen.errors);
        for (i, line) in seen.errors.iter().enumerate() {
            assert!(line.contains(a.serial(i).unwrap()) && line.contains("no path"), "{line}");
        }
    }

    #[test]
    fn what_cannot_be_read_is_an_error_line_naming_it() {
        let tmp = tempfile::tempdir().unwrap();
        let missing = tmp.path().join("no-disks");
        let seen = inspect(
            Controller::B,
            &sim(&missing, 2),
            &EnclosureBackend::Sim { path: tmp.path().join("unused") },
            &[],
        );
        assert!(seen.disks.is_empty() && seen.enclosure.is_none());
        assert_eq!(seen.errors.len(), 2, "{:?}", seen.errors);
        assert!(seen.errors.iter().all(|e| e.contains(&missing.display().to_string())), "{:?}", seen.errors);
        // Only looked: nothing was created.
        assert!(!missing.exists());

        // A directory without disks, or with fewer than configured.
        SimDiskSet::open(tmp.path().join("two"), 2, Controller::A).unwrap();
        for (dir, disks, bad) in [("empty", 1, "disk-00"), ("two", 3, "disk-02")] {
            let dir = tmp.path().join(dir);
            std::fs::create_dir_all(&dir).unwrap();
            let seen = inspect(Controller::A, &sim(&dir, disks), &EnclosureBackend::None, &[]);
            assert!(seen.disks.is_empty());
            assert_eq!(seen.errors.len(), 1, "{:?}", seen.errors);
            assert!(seen.errors[0].contains(&dir.join(bad).display().to_string()), "{:?}", seen.errors);
            assert!(!dir.join(bad).exists());
        }

        // A SCSI device that is not there, a GPIO chip that is not there, and a GPIO
        // enclosure, in one go: each is its own line, in order.
        let nodev = tmp.path().join("sg-nothing");
        let scsi = DiskBackend::Scsi {
            devices: vec![nodev.clone()],
            preempt: crate::config::PreemptMode::PreemptAndAbort,
        };
        let fence = EnclosureBackend::Gpio {
            chip: "gpiochip9".into(),
            peer_line: "fence-b".into(),
            active_low: false,
        };
        let lines = [("no-such-chip-for-inspect".to_owned(), "fence-a".to_owned(), false)];
        let seen = inspect(Controller::A, &scsi, &fence, &lines);
        assert!(seen.disks.is_empty() && seen.enclosure.is_none() && seen.gpio.is_empty());
        assert_eq!(seen.errors.len(), 3, "{:?}", seen.errors);
        assert!(seen.errors[0].contains(&nodev.display().to_string()), "{:?}", seen.errors);
        assert_eq!(
            seen.errors[1],
            "enclosure gpiochip9:fence-b: a GPIO fence line is owned by failoverd; \
             name it with --gpio on the peer if it is wired to an input"
        );
        assert!(seen.errors[2].contains("no-such-chip-for-inspect"), "{:?}", seen.errors);
        assert!(seen.render().lines().filter(|l| l.starts_with("error: ")).count() == 3);
    }

    #[test]
    fn json_round_trips_with_the_documented_field_names() {
        let tmp = tempfile::tempdir().unwrap();
        let a = SimDiskSet::open(tmp.path(), 1, Controller::A).unwrap();
        a.fence_and_reserve(ReservationKey::new(Controller::A, 3)).unwrap();
        let mut seen =
            inspect(Controller::B, &sim(tmp.path(), 1), &EnclosureBackend::Sim { path: "x".into() }, &[]);
        seen.gpio.push(GpioInspection { chip: "gpiochip0".into(), line: "fence-a".into(), asserted: true });
        seen.errors.push("gpio chip \"gpiochip1\": no such chip".into());

        let json = serde_json::to_string_pretty(&seen).unwrap();
        assert_eq!(serde_json::from_str::<Inspection>(&json).unwrap(), seen);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["controller"], "B");
        assert_eq!(v["disks"][0]["holder"]["key"], "0x4641000000000003");
        assert_eq!(v["disks"][0]["holder"]["controller"], "A");
        assert_eq!(v["disks"][0]["holder"]["epoch"], 3);
        assert_eq!(v["disks"][0]["reservation_type"], "write exclusive, registrants only");
        assert_eq!(v["disks"][0]["registered"][0]["epoch"], 3);
        assert_eq!(v["disks"][0]["name"], a.serial(0).unwrap());
        assert_eq!(
            (v["enclosure"]["a_cut"].clone(), v["enclosure"]["b_cut"].clone()),
            (false.into(), false.into())
        );
        assert!(v["enclosure"]["describe"].is_string());
        assert_eq!(v["gpio"][0]["asserted"], true);
        assert_eq!(v["gpio"][0]["chip"], "gpiochip0");
        assert_eq!(v["gpio"][0]["line"], "fence-a");
        assert_eq!(v["errors"].as_array().map(Vec::len), Some(1));
    }
}
