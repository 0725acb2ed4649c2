//! A gpio-sim chip with named lines (the fence, reset and LED lines of both
//! controllers), configured through configfs. The guest's processes use it through
//! the GPIO character device like real hardware; the test reads what they drive from
//! sysfs (`sim_gpioN/value`) and drives inputs with `sim_gpioN/pull`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{read_attr, wait_until, write_attr};

/// The rig's line names, in offset order.
pub const LINES: &[&str] = &["fence-a", "fence-b", "reset-a", "reset-b", "led-a", "led-b"];

/// gpio-sim's configfs root.
const CONFIGFS: &str = "/sys/kernel/config/gpio-sim";

/// A live gpio-sim chip.
#[derive(Clone, Debug)]
pub struct GpioSim {
    /// The chip, such as `gpiochip0` (`/dev/gpiochip0`).
    pub chip: String,
    /// The platform device, such as `gpio-sim.0`.
    pub dev_name: String,
    /// Line names by offset.
    pub lines: Vec<String>,
}

impl GpioSim {
    /// Create the chip `name` with `lines` and bring it up.
    pub fn create(name: &str, lines: &[&str]) -> Result<Self, String> {
        let dev = Path::new(CONFIGFS).join(name);
        let bank = dev.join("bank0");
        std::fs::create_dir_all(&bank).map_err(|e| format!("mkdir {}: {e}", bank.display()))?;
        write_attr(&bank.join("label"), &format!("{name}-bank0"))?;
        write_attr(&bank.join("num_lines"), &lines.len().to_string())?;
        for (i, l) in lines.iter().enumerate() {
            let line = bank.join(format!("line{i}"));
            std::fs::create_dir(&line).map_err(|e| format!("mkdir {}: {e}", line.display()))?;
            write_attr(&line.join("name"), l)?;
        }
        write_attr(&dev.join("live"), "1")?;
        let chip = read_attr(&bank.join("chip_name"))?.trim().to_owned();
        let dev_name = read_attr(&dev.join("dev_name"))?.trim().to_owned();
        let sim = Self { chip, dev_name, lines: lines.iter().map(|s| (*s).to_owned()).collect() };
        let cdev = sim.cdev();
        wait_until(Duration::from_secs(5), &format!("{} to appear", cdev.display()), || {
            Ok(cdev.exists().then_some(()))
        })?;
        Ok(sim)
    }

    /// The character device.
    pub fn cdev(&self) -> PathBuf {
        Path::new("/dev").join(&self.chip)
    }

    /// A line's offset.
    pub fn offset(&self, line: &str) -> Result<usize, String> {
        self.lines
            .iter()
            .position(|l| l == line)
            .ok_or_else(|| format!("no GPIO line {line:?} on {}", self.chip))
    }

    fn sim_attr(&self, line: &str, attr: &str) -> Result<PathBuf, String> {
        let n = self.offset(line)?;
        Ok(PathBuf::from(format!("/sys/devices/platform/{}/{}/sim_gpio{n}/{attr}", self.dev_name, self.chip)))
    }

    /// The value a line is driven to (an output's value, or an input's pull).
    pub fn value(&self, line: &str) -> Result<u8, String> {
        let p = self.sim_attr(line, "value")?;
        match read_attr(&p)?.trim() {
            "0" => Ok(0),
            "1" => Ok(1),
            v => Err(format!("{}: unexpected value {v:?}", p.display())),
        }
    }

    /// Drive an input from the outside (`pull-up` / `pull-down`).
    pub fn set_pull(&self, line: &str, high: bool) -> Result<(), String> {
        write_attr(&self.sim_attr(line, "pull")?, if high { "pull-up" } else { "pull-down" })
    }

    /// Wait until a line reads `want`.
    pub fn wait_value(&self, line: &str, want: u8, limit: Duration) -> Result<(), String> {
        wait_until(limit, &format!("GPIO {line} on {} to read {want}", self.chip), || {
            Ok((self.value(line)? == want).then_some(()))
        })
    }

    /// `gpioset` (libgpiod) holding `line` at `value` through the character device until
    /// the returned process is killed: what a daemon driving a fence line does.
    pub fn hold_with_gpioset(&self, line: &str, value: u8) -> Result<Holder, String> {
        let n = self.offset(line)?;
        let child = Command::new("gpioset")
            .args(["--mode=signal", &self.chip, &format!("{n}={value}")])
            .stdin(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run gpioset: {e}"))?;
        Ok(Holder { child, what: format!("gpioset {} {n}={value} ({line})", self.chip) })
    }
}

/// A process holding a GPIO line; killed on drop.
#[derive(Debug)]
pub struct Holder {
    child: Child,
    what: String,
}

impl Holder {
    /// Whether it is still holding (it exits at once on errors: its stderr then).
    pub fn check(&mut self) -> Result<(), String> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(st)) => {
                let mut err = String::new();
                if let Some(mut e) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut e, &mut err);
                }
                Err(format!("`{}` exited ({st}): {}", self.what, err.trim()))
            }
            Err(e) => Err(format!("`{}`: {e}", self.what)),
        }
    }

    /// Stop holding (the line goes back to its pull).
    pub fn release(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        self.stop();
    }
}
