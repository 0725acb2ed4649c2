//! GPIO output lines through the kernel's character device: the enclosure fence lines,
//! the peer reset line and the status LED.
//!
//! A line is named by its chip and its *name* (the board's `gpio-line-names`), never by
//! offset: offsets differ between board revisions, names are what the schematic says.
//! The chip is a path (`/dev/gpiochip0`), a device name (`gpiochip0`, looked up in
//! `/dev`) or a chip label (`gpio-sim.0-node0`, stable across boots where numbering
//! is not). A name found on no line, or on two, is an error naming the chip and line.
//!
//! Lines are driven as embedded-hal 1.0 pins (linux-embedded-hal's [`CdevPin`], an
//! [`OutputPin`] that also reads back as an [`InputPin`]), so the logic here is the
//! same over any pin ([`GpioLine::new`]). Polarity is ours: lines are requested without
//! the kernel's active-low flag and `active_low` inverts in [`GpioLine`], so "asserted"
//! means the same thing on every board.
//!
//! What each line does when `failoverd` starts:
//! - a **fence line** keeps the level it has ([`Initial::Keep`]: the line is read as it
//!   is, then requested as an output at that level). A cut made before `failoverd`
//!   restarted stays cut, and a restart never cuts anyone. (On a chip that returns a
//!   released line to its pull, such as gpio-sim, the level is the pull's.)
//! - the **peer reset line** is deasserted ([`Initial::Deasserted`]): a pulse cut short
//!   by a crash must not hold the peer in reset.
//! - the **status LED** starts off.
//!
//! Every write is read back; a line that does not follow is an error.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use embedded_hal::digital::{InputPin, OutputPin};
use failover_core::wire::Controller;
use gpio_cdev::{Chip, LineRequestFlags};
use linux_embedded_hal::{CdevPin, CdevPinError};

use super::{BackendError, EnclosureFence, PeerReset};

/// The consumer label our requests carry (shown by `gpioinfo`).
const CONSUMER: &str = "failoverd";

/// Why a GPIO line could not be found, requested or driven. Every variant names the
/// chip (as configured) and the line.
#[derive(Debug, thiserror::Error)]
pub enum GpioError {
    /// The chip could not be opened.
    #[error("gpio chip {chip:?}: {source}")]
    Chip {
        /// The chip as configured.
        chip: String,
        /// The error.
        #[source]
        source: gpio_cdev::Error,
    },
    /// No chip by that path, device name or label.
    #[error("gpio chip {chip:?}: no such chip (neither /dev/{chip} nor a chip with that label)")]
    NoChip {
        /// The chip as configured.
        chip: String,
    },
    /// Two chips carry the label.
    #[error("gpio chip {chip:?}: two chips have that label ({} and {}); name one by path", first.display(), second.display())]
    AmbiguousChip {
        /// The label.
        chip: String,
        /// One chip.
        first: PathBuf,
        /// Another.
        second: PathBuf,
    },
    /// No line has the name.
    #[error("gpio chip {chip:?}: no line named {line:?} (among its {lines} lines)")]
    NoLine {
        /// The chip as configured.
        chip: String,
        /// The line name.
        line: String,
        /// How many lines the chip has.
        lines: u32,
    },
    /// Two lines have the name.
    #[error("gpio chip {chip:?}: line name {line:?} is on offsets {first} and {second}")]
    AmbiguousLine {
        /// The chip as configured.
        chip: String,
        /// The line name.
        line: String,
        /// One offset.
        first: u32,
        /// Another.
        second: u32,
    },
    /// The line is requested by someone else (a kernel driver or another process).
    #[error("gpio chip {chip:?} line {line:?} (offset {offset}): in use by {consumer:?}")]
    Busy {
        /// The chip as configured.
        chip: String,
        /// The line name.
        line: String,
        /// Its offset.
        offset: u32,
        /// Who holds it.
        consumer: String,
    },
    /// Requesting or reading the line failed.
    #[error("gpio chip {chip:?} line {line:?}: {what}: {source}")]
    Line {
        /// The chip as configured.
        chip: String,
        /// The line name.
        line: String,
        /// What was being done.
        what: &'static str,
        /// The error.
        #[source]
        source: gpio_cdev::Error,
    },
    /// Driving or reading the pin failed.
    #[error("gpio chip {chip:?} line {line:?}: {what}: {source}")]
    Pin {
        /// The chip as configured.
        chip: String,
        /// The line name.
        line: String,
        /// What was being done.
        what: &'static str,
        /// The error.
        #[source]
        source: CdevPinError,
    },
    /// The line does not read back what was driven.
    #[error("gpio chip {chip:?} line {line:?}: set {}, reads back {}", level(*wrote), level(*read))]
    Readback {
        /// The chip as configured.
        chip: String,
        /// The line name.
        line: String,
        /// Asserted was written.
        wrote: bool,
        /// Asserted was read.
        read: bool,
    },
    /// A reset or fence line asked to act on a controller it is not wired to.
    #[error("gpio chip {chip:?} line {line:?} is wired to controller {wired}, not {target}")]
    WrongTarget {
        /// The chip as configured.
        chip: String,
        /// The line name.
        line: String,
        /// The controller the line resets.
        wired: Controller,
        /// The controller asked for.
        target: Controller,
    },
}

fn level(asserted: bool) -> &'static str {
    if asserted { "asserted" } else { "deasserted" }
}

/// The level an output line is requested with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Initial {
    /// Deasserted.
    Deasserted,
    /// Whatever the line shows now (no glitch, no change).
    Keep,
}

/// How a configured chip is looked for.
#[derive(Clone, Debug, PartialEq, Eq)]
enum ChipRef {
    /// A path (it contains `/`).
    Path(PathBuf),
    /// `/dev/<name>` if it exists, else a chip with that label.
    Name(String),
}

fn chip_ref(spec: &str) -> ChipRef {
    if spec.contains('/') { ChipRef::Path(spec.into()) } else { ChipRef::Name(spec.to_owned()) }
}

/// The one chip among `(path, label)` pairs with `label`.
fn pick_by_label(spec: &str, chips: &[(PathBuf, String)]) -> Result<PathBuf, GpioError> {
    let mut found = chips.iter().filter(|(_, label)| label == spec).map(|(p, _)| p);
    match (found.next(), found.next()) {
        (Some(p), None) => Ok(p.clone()),
        (Some(first), Some(second)) => Err(GpioError::AmbiguousChip {
            chip: spec.to_owned(),
            first: first.clone(),
            second: second.clone(),
        }),
        (None, _) => Err(GpioError::NoChip { chip: spec.to_owned() }),
    }
}

fn open_chip(spec: &str) -> Result<Chip, GpioError> {
    let chip_err = |source| GpioError::Chip { chip: spec.to_owned(), source };
    match chip_ref(spec) {
        ChipRef::Path(p) => Chip::new(p).map_err(chip_err),
        ChipRef::Name(name) => {
            let dev = Path::new("/dev").join(&name);
            if dev.exists() {
                return Chip::new(dev).map_err(chip_err);
            }
            let chips: Vec<(PathBuf, String)> = gpio_cdev::chips()
                .map_err(chip_err)?
                .filter_map(Result::ok)
                .map(|c| (c.path().to_owned(), c.label().to_owned()))
                .collect();
            Chip::new(pick_by_label(spec, &chips)?).map_err(chip_err)
        }
    }
}

/// Why a line name did not resolve to one offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lookup {
    Missing,
    Ambiguous(u32, u32),
}

/// The offset of the one line called `wanted` among `(offset, name)`.
fn find_line(lines: impl IntoIterator<Item = (u32, Option<String>)>, wanted: &str) -> Result<u32, Lookup> {
    let mut found = lines.into_iter().filter(|(_, n)| n.as_deref() == Some(wanted)).map(|(o, _)| o);
    match (found.next(), found.next()) {
        (Some(o), None) => Ok(o),
        (Some(a), Some(b)) => Err(Lookup::Ambiguous(a, b)),
        (None, _) => Err(Lookup::Missing),
    }
}

/// The line named `line` on `chip` and its info, refused if anyone (a kernel driver or
/// a process, `failoverd` included) holds it: shared by the outputs here and
/// `failoverctl inspect`'s reads, so both find lines the same way.
pub(crate) fn free_line(chip: &str, line: &str) -> Result<(gpio_cdev::Line, gpio_cdev::LineInfo), GpioError> {
    let mut c = open_chip(chip)?;
    let lines = c.num_lines();
    let names = c.lines().map(|l| (l.offset(), l.info().ok().and_then(|i| i.name().map(str::to_owned))));
    let offset = find_line(names, line).map_err(|e| match e {
        Lookup::Missing => GpioError::NoLine { chip: chip.to_owned(), line: line.to_owned(), lines },
        Lookup::Ambiguous(first, second) => {
            GpioError::AmbiguousLine { chip: chip.to_owned(), line: line.to_owned(), first, second }
        }
    })?;
    let err = |what, source| GpioError::Line { chip: chip.to_owned(), line: line.to_owned(), what, source };
    let l = c.get_line(offset).map_err(|e| err("get line", e))?;
    let info = l.info().map_err(|e| err("line info", e))?;
    if info.is_kernel() {
        return Err(GpioError::Busy {
            chip: chip.to_owned(),
            line: line.to_owned(),
            offset,
            consumer: info.consumer().unwrap_or("?").to_owned(),
        });
    }
    Ok((l, info))
}

/// One output line, with its polarity and names (for errors).
pub struct GpioLine<P = CdevPin> {
    pin: P,
    active_low: bool,
    chip: String,
    line: String,
}

impl<P> std::fmt::Debug for GpioLine<P> {
    /// The names and polarity (a [`CdevPin`] has no `Debug`).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpioLine")
            .field("chip", &self.chip)
            .field("line", &self.line)
            .field("active_low", &self.active_low)
            .finish_non_exhaustive()
    }
}

impl GpioLine {
    /// Find the line named `line` on `chip` and request it as an output at `initial`.
    pub fn open_output(
        chip: &str,
        line: &str,
        active_low: bool,
        initial: Initial,
    ) -> Result<Self, GpioError> {
        let (l, _) = free_line(chip, line)?;
        let offset = l.offset();
        let err =
            |what, source| GpioError::Line { chip: chip.to_owned(), line: line.to_owned(), what, source };
        let value = match initial {
            Initial::Deasserted => u8::from(active_low),
            Initial::Keep => {
                // No direction flag: the kernel leaves the line as it is ("as is").
                let probe =
                    l.request(LineRequestFlags::empty(), 0, CONSUMER).map_err(|e| err("request", e))?;
                probe.get_value().map_err(|e| err("read", e))?
            }
        };
        let handle =
            l.request(LineRequestFlags::OUTPUT, value, CONSUMER).map_err(|e| err("request output", e))?;
        let pin = CdevPin::new(handle).map_err(|e| err("line info", e))?;
        tracing::debug!(chip, line, offset, value, "gpio line requested");
        Ok(Self::new(pin, active_low, chip, line))
    }
}

impl<P: OutputPin<Error = CdevPinError> + InputPin> GpioLine<P> {
    /// A line over `pin`; `chip` and `line` name it in errors.
    pub fn new(pin: P, active_low: bool, chip: &str, line: &str) -> Self {
        Self { pin, active_low, chip: chip.to_owned(), line: line.to_owned() }
    }

    /// Drive the line to `asserted` and read it back.
    pub fn set(&mut self, asserted: bool) -> Result<(), GpioError> {
        let r = if asserted != self.active_low { self.pin.set_high() } else { self.pin.set_low() };
        r.map_err(|source| self.pin_err("set", source))?;
        let read = self.is_asserted()?;
        if read == asserted {
            Ok(())
        } else {
            Err(GpioError::Readback {
                chip: self.chip.clone(),
                line: self.line.clone(),
                wrote: asserted,
                read,
            })
        }
    }

    /// Whether the line reads asserted.
    pub fn is_asserted(&mut self) -> Result<bool, GpioError> {
        match self.pin.is_high() {
            Ok(high) => Ok(high != self.active_low),
            Err(source) => Err(self.pin_err("read", source)),
        }
    }

    /// For logs and status: `gpiochip0:fence-a`, with `(active low)` where so.
    pub fn describe(&self) -> String {
        let polarity = if self.active_low { " (active low)" } else { "" };
        format!("{}:{}{polarity}", self.chip, self.line)
    }

    fn pin_err(&self, what: &'static str, source: CdevPinError) -> GpioError {
        GpioError::Pin { chip: self.chip.clone(), line: self.line.clone(), what, source }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while the lock was held leaves a pin, not an invariant of ours.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The enclosure fence as one GPIO line wired to the expander of the peer's port:
/// asserting it cuts the peer. A host only ever fences its peer, and on hardware each
/// controller has its own line to the other's port, so there is no line for our own.
#[derive(Debug)]
pub struct GpioEnclosure<P = CdevPin> {
    line: Mutex<GpioLine<P>>,
    peer: Controller,
}

impl GpioEnclosure {
    /// Request the line named `peer_line` on `chip`, keeping its level (a restart never
    /// cuts the peer, nor lifts a cut).
    pub fn open(
        chip: &str,
        peer_line: &str,
        peer: Controller,
        active_low: bool,
    ) -> Result<Self, BackendError> {
        let line = GpioLine::open_output(chip, peer_line, active_low, Initial::Keep)?;
        let this = Self::new(line, peer);
        tracing::info!(enclosure = %this.describe(), "enclosure fence line");
        Ok(this)
    }
}

impl<P: OutputPin<Error = CdevPinError> + InputPin> GpioEnclosure<P> {
    /// The fence over `line`, which cuts `peer`'s port.
    pub fn new(line: GpioLine<P>, peer: Controller) -> Self {
        Self { line: Mutex::new(line), peer }
    }

    /// For logs and status.
    pub fn describe(&self) -> String {
        format!("enclosure fence line {} (cuts controller {})", lock(&self.line).describe(), self.peer)
    }

    /// The line, if it is wired to `target`'s port.
    fn line(&self, target: Controller) -> Result<std::sync::MutexGuard<'_, GpioLine<P>>, BackendError> {
        let line = lock(&self.line);
        if target == self.peer {
            Ok(line)
        } else {
            Err(GpioError::WrongTarget {
                chip: line.chip.clone(),
                line: line.line.clone(),
                wired: self.peer,
                target,
            }
            .into())
        }
    }
}

impl<P> EnclosureFence for GpioEnclosure<P>
where
    P: OutputPin<Error = CdevPinError> + InputPin + Send + 'static,
{
    /// Assert the line (read back). The expander drops the port's link at once, so
    /// none of `target`'s commands is in flight afterwards.
    fn cut(&self, target: Controller) -> Result<(), BackendError> {
        self.line(target)?.set(true)?;
        tracing::info!(%target, "expander port cut (gpio)");
        Ok(())
    }

    fn restore(&self, target: Controller) -> Result<(), BackendError> {
        self.line(target)?.set(false)?;
        tracing::info!(%target, "expander port restored (gpio)");
        Ok(())
    }

    fn is_cut(&self, target: Controller) -> Result<bool, BackendError> {
        Ok(self.line(target)?.is_asserted()?)
    }
}

/// The peer's reset line: a reset is a pulse of a configured length.
#[derive(Debug)]
pub struct GpioPeerReset<P = CdevPin> {
    line: Mutex<GpioLine<P>>,
    peer: Controller,
    pulse: Duration,
}

impl GpioPeerReset {
    /// Request the line named `line` on `chip`, deasserted; it resets controller `peer`
    /// with pulses of `pulse`.
    pub fn open(
        chip: &str,
        line: &str,
        active_low: bool,
        peer: Controller,
        pulse: Duration,
    ) -> Result<Self, BackendError> {
        let l = GpioLine::open_output(chip, line, active_low, Initial::Deasserted)?;
        let this = Self::new(l, peer, pulse);
        tracing::info!(reset = %this.describe(), "peer reset line");
        Ok(this)
    }
}

impl<P: OutputPin<Error = CdevPinError> + InputPin> GpioPeerReset<P> {
    /// A reset of `peer` over `line`, pulses of `pulse`.
    pub fn new(line: GpioLine<P>, peer: Controller, pulse: Duration) -> Self {
        Self { line: Mutex::new(line), peer, pulse }
    }

    /// For logs and status.
    pub fn describe(&self) -> String {
        format!(
            "reset line {} of controller {}, {} ms pulses",
            lock(&self.line).describe(),
            self.peer,
            self.pulse.as_millis()
        )
    }
}

impl<P> PeerReset for GpioPeerReset<P>
where
    P: OutputPin<Error = CdevPinError> + InputPin + Send + 'static,
{
    /// Assert the line for the pulse, then deassert it; the deassert is tried even when
    /// the assert failed, so the peer is never left held in reset.
    fn reset(&self, target: Controller) -> Result<(), BackendError> {
        let mut line = lock(&self.line);
        if target != self.peer {
            return Err(GpioError::WrongTarget {
                chip: line.chip.clone(),
                line: line.line.clone(),
                wired: self.peer,
                target,
            }
            .into());
        }
        let asserted = line.set(true);
        if asserted.is_ok() {
            std::thread::sleep(self.pulse);
        }
        let released = line.set(false);
        asserted?;
        released?;
        tracing::warn!(%target, pulse_ms = self.pulse.as_millis() as u64, "peer host reset (gpio)");
        Ok(())
    }
}

/// A status LED; on means active.
#[derive(Debug)]
pub struct StatusLed<P = CdevPin> {
    line: Mutex<GpioLine<P>>,
}

impl StatusLed {
    /// Request the line named `line` on `chip`, off.
    pub fn open(chip: &str, line: &str, active_low: bool) -> Result<Self, BackendError> {
        Ok(Self::new(GpioLine::open_output(chip, line, active_low, Initial::Deasserted)?))
    }
}

impl<P: OutputPin<Error = CdevPinError> + InputPin> StatusLed<P> {
    /// An LED over `line`.
    pub fn new(line: GpioLine<P>) -> Self {
        Self { line: Mutex::new(line) }
    }

    /// Turn it on or off.
    pub fn set(&self, on: bool) -> Result<(), BackendError> {
        Ok(lock(&self.line).set(on)?)
    }

    /// Whether it is on.
    pub fn is_on(&self) -> Result<bool, BackendError> {
        Ok(lock(&self.line).is_asserted()?)
    }

    /// For logs and status.
    pub fn describe(&self) -> String {
        format!("status LED {}", lock(&self.line).describe())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};

    use embedded_hal::digital::ErrorType;
    use failover_core::wire::Controller::{A, B};

    use super::*;

    /// A pin that records its physical level; it can be told to ignore writes or fail.
    #[derive(Debug, Default, Clone)]
    struct FakePin {
        high: Arc<AtomicBool>,
        stuck: bool,
        broken: bool,
        writes: Arc<AtomicUsize>,
    }

    fn broken() -> CdevPinError {
        CdevPinError::from(gpio_cdev::Error::from(std::io::Error::from_raw_os_error(libc::EIO)))
    }

    impl ErrorType for FakePin {
        type Error = CdevPinError;
    }

    impl OutputPin for FakePin {
        fn set_low(&mut self) -> Result<(), CdevPinError> {
            self.set(false)
        }

        fn set_high(&mut self) -> Result<(), CdevPinError> {
            self.set(true)
        }
    }

    impl FakePin {
        fn set(&mut self, high: bool) -> Result<(), CdevPinError> {
            if self.broken {
                return Err(broken());
            }
            self.writes.fetch_add(1, SeqCst);
            if !self.stuck {
                self.high.store(high, SeqCst);
            }
            Ok(())
        }
    }

    impl InputPin for FakePin {
        fn is_high(&mut self) -> Result<bool, CdevPinError> {
            if self.broken { Err(broken()) } else { Ok(self.high.load(SeqCst)) }
        }

        fn is_low(&mut self) -> Result<bool, CdevPinError> {
            self.is_high().map(|h| !h)
        }
    }

    fn line(pin: &FakePin, name: &str, active_low: bool) -> GpioLine<FakePin> {
        GpioLine::new(pin.clone(), active_low, "gpiochip0", name)
    }

    #[test]
    fn lines_are_found_by_name_only_when_unique() {
        let names = || {
            vec![
                (0, Some("fence-a".to_owned())),
                (1, None),
                (2, Some("fence-b".to_owned())),
                (3, Some("led".to_owned())),
                (7, Some("led".to_owned())),
            ]
        };
        assert_eq!(find_line(names(), "fence-b"), Ok(2));
        assert_eq!(find_line(names(), "fence-a"), Ok(0));
        assert_eq!(find_line(names(), "reset"), Err(Lookup::Missing));
        assert_eq!(find_line(names(), "led"), Err(Lookup::Ambiguous(3, 7)));
        assert_eq!(find_line(names(), ""), Err(Lookup::Missing));
    }

    #[test]
    fn chips_are_found_by_path_device_name_or_unique_label() {
        assert_eq!(chip_ref("/dev/gpiochip3"), ChipRef::Path("/dev/gpiochip3".into()));
        assert_eq!(chip_ref("gpiochip0"), ChipRef::Name("gpiochip0".into()));
        let chips =
            [("/dev/gpiochip0".into(), "sim-a".to_owned()), ("/dev/gpiochip1".into(), "sim-b".to_owned())];
        assert_eq!(pick_by_label("sim-b", &chips).unwrap(), Path::new("/dev/gpiochip1"));
        let e = pick_by_label("sim-c", &chips).unwrap_err();
        assert_eq!(
            e.to_string(),
            "gpio chip \"sim-c\": no such chip (neither /dev/sim-c nor a chip with that label)"
        );
        let twins = [("/dev/gpiochip0".into(), "x".to_owned()), ("/dev/gpiochip1".into(), "x".to_owned())];
        assert!(matches!(pick_by_label("x", &twins), Err(GpioError::AmbiguousChip { .. })));
    }

    #[test]
    fn a_missing_chip_is_named() {
        let e =
            GpioLine::open_output("no-such-gpio-chip-label", "fence-a", false, Initial::Keep).unwrap_err();
        assert!(e.to_string().starts_with("gpio chip \"no-such-gpio-chip-label\": "), "{e}");
        let e = GpioLine::open_output("/nonexistent/gpiochip9", "fence-a", false, Initial::Keep).unwrap_err();
        assert!(matches!(&e, GpioError::Chip { chip, .. } if chip == "/nonexistent/gpiochip9"), "{e}");
    }

    #[test]
    fn errors_name_chip_and_line() {
        let e = GpioError::NoLine { chip: "gpiochip0".into(), line: "fence-a".into(), lines: 8 };
        assert_eq!(e.to_string(), "gpio chip \"gpiochip0\": no line named \"fence-a\" (among its 8 lines)");
        let e =
            GpioError::AmbiguousLine { chip: "gpiochip0".into(), line: "led".into(), first: 3, second: 7 };
        assert_eq!(e.to_string(), "gpio chip \"gpiochip0\": line name \"led\" is on offsets 3 and 7");
        let e = GpioError::Busy {
            chip: "gpiochip0".into(),
            line: "led".into(),
            offset: 3,
            consumer: "leds".into(),
        };
        assert_eq!(e.to_string(), "gpio chip \"gpiochip0\" line \"led\" (offset 3): in use by \"leds\"");
    }

    #[test]
    fn polarity_is_applied_once() {
        let pin = FakePin::default();
        let mut l = line(&pin, "x", false);
        l.set(true).unwrap();
        assert!(pin.high.load(SeqCst) && l.is_asserted().unwrap());
        let pin = FakePin::default();
        let mut l = line(&pin, "x", true);
        l.set(true).unwrap();
        assert!(!pin.high.load(SeqCst) && l.is_asserted().unwrap());
        l.set(false).unwrap();
        assert!(pin.high.load(SeqCst) && !l.is_asserted().unwrap());
        assert_eq!(l.describe(), "gpiochip0:x (active low)");
    }

    #[test]
    fn the_enclosure_cuts_the_peer_on_its_line_and_nobody_else() {
        let pb = FakePin::default();
        let enc = GpioEnclosure::new(line(&pb, "fence-b", false), B);
        enc.cut(B).unwrap();
        assert!(enc.is_cut(B).unwrap() && pb.high.load(SeqCst));
        enc.restore(B).unwrap();
        assert!(!enc.is_cut(B).unwrap() && !pb.high.load(SeqCst));
        assert_eq!(enc.describe(), "enclosure fence line gpiochip0:fence-b (cuts controller B)");
        let e = enc.cut(A).unwrap_err();
        assert_eq!(e.to_string(), "gpio chip \"gpiochip0\" line \"fence-b\" is wired to controller B, not A");
        assert!(!pb.high.load(SeqCst), "a refused cut touches nothing");
    }

    #[test]
    fn a_line_that_does_not_follow_is_an_error() {
        let stuck = FakePin { stuck: true, ..FakePin::default() };
        let enc = GpioEnclosure::new(line(&stuck, "fence-a", false), A);
        let e = enc.cut(A).unwrap_err();
        assert_eq!(
            e.to_string(),
            "gpio chip \"gpiochip0\" line \"fence-a\": set asserted, reads back deasserted"
        );
        let broken = FakePin { broken: true, ..FakePin::default() };
        let enc = GpioEnclosure::new(line(&broken, "fence-b", false), B);
        let e = enc.is_cut(B).unwrap_err();
        assert!(e.to_string().starts_with("gpio chip \"gpiochip0\" line \"fence-b\": read: "), "{e}");
        assert!(matches!(enc.cut(B), Err(BackendError::Gpio(GpioError::Pin { what: "set", .. }))));
    }

    #[test]
    fn a_reset_is_a_pulse_of_the_configured_length_on_the_peer_only() {
        let pin = FakePin::default();
        let reset = GpioPeerReset::new(line(&pin, "reset-b", true), B, Duration::from_millis(30));
        let t0 = std::time::Instant::now();
        reset.reset(B).unwrap();
        assert!(t0.elapsed() >= Duration::from_millis(30));
        // Active low: released means high; one assert and one release.
        assert!(pin.high.load(SeqCst));
        assert_eq!(pin.writes.load(SeqCst), 2);
        let e = reset.reset(A).unwrap_err();
        assert_eq!(e.to_string(), "gpio chip \"gpiochip0\" line \"reset-b\" is wired to controller B, not A");
        assert_eq!(pin.writes.load(SeqCst), 2);
        assert_eq!(
            reset.describe(),
            "reset line gpiochip0:reset-b (active low) of controller B, 30 ms pulses"
        );
    }

    #[test]
    fn a_failed_assert_still_releases_the_reset_line() {
        let pin = FakePin { stuck: true, ..FakePin::default() };
        let reset = GpioPeerReset::new(line(&pin, "reset-a", false), A, Duration::from_secs(5));
        let t0 = std::time::Instant::now();
        assert!(matches!(reset.reset(A), Err(BackendError::Gpio(GpioError::Readback { wrote: true, .. }))));
        // No pulse wait after a failed assert, and the release was written.
        assert!(t0.elapsed() < Duration::from_secs(5));
        assert_eq!(pin.writes.load(SeqCst), 2);
    }

    #[test]
    fn the_led_follows() {
        let pin = FakePin::default();
        let led = StatusLed::new(line(&pin, "led-active", false));
        led.set(true).unwrap();
        assert!(led.is_on().unwrap() && pin.high.load(SeqCst));
        led.set(false).unwrap();
        assert!(!led.is_on().unwrap());
        assert_eq!(led.describe(), "status LED gpiochip0:led-active");
    }
}
