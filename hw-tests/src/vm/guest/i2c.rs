//! The i2c-stub bus: a register file at one address that answers SMBus byte, word
//! and block transfers (not plain I2C_RDWR), standing in for an enclosure CPLD.

use std::fs;
use std::path::{Path, PathBuf};

use crate::suites::rig::run_cmd;

/// The name i2c-stub gives its adapter.
const STUB_NAME: &str = "SMBus stub driver";

/// The stub's bus and chip.
#[derive(Clone, Debug)]
pub struct I2cStub {
    /// Bus number.
    pub bus: u32,
    /// The bus device, such as `/dev/i2c-0`.
    pub dev: PathBuf,
    /// The chip's 7-bit address.
    pub address: u8,
}

/// The bus number from an adapter directory name (`i2c-3`).
pub fn bus_number(name: &str) -> Option<u32> {
    name.strip_prefix("i2c-")?.parse().ok()
}

/// A byte in `i2cget` output (`0x5a`).
pub fn parse_byte(out: &str) -> Result<u8, String> {
    let t = out.trim();
    t.strip_prefix("0x")
        .and_then(|h| u8::from_str_radix(h, 16).ok())
        .ok_or_else(|| format!("i2cget printed {t:?}, not a byte"))
}

impl I2cStub {
    /// Find the stub's adapter (the module must be loaded with `chip_addr=address`).
    pub fn find(address: u8) -> Result<Self, String> {
        let class = Path::new("/sys/class/i2c-adapter");
        let mut seen = Vec::new();
        for e in fs::read_dir(class).map_err(|e| format!("{}: {e}", class.display()))?.filter_map(Result::ok)
        {
            let dir = e.file_name().to_string_lossy().into_owned();
            let name = fs::read_to_string(e.path().join("name")).unwrap_or_default();
            if name.trim() == STUB_NAME {
                let bus =
                    bus_number(&dir).ok_or_else(|| format!("{}: odd adapter name", e.path().display()))?;
                return Ok(Self { bus, dev: PathBuf::from(format!("/dev/i2c-{bus}")), address });
            }
            seen.push(format!("{dir} ({})", name.trim()));
        }
        Err(format!("no i2c adapter named {STUB_NAME:?} in {}; present: {seen:?}", class.display()))
    }

    /// Read a register (`i2cget -y BUS ADDR REG`, SMBus read byte data).
    pub fn get(&self, reg: u8) -> Result<u8, String> {
        parse_byte(&run_cmd(
            "i2cget",
            &["-y", &self.bus.to_string(), &format!("{:#04x}", self.address), &format!("{reg:#04x}")],
        )?)
    }

    /// Write a register (`i2cset -y BUS ADDR REG VALUE`, SMBus write byte data).
    pub fn set(&self, reg: u8, value: u8) -> Result<(), String> {
        run_cmd(
            "i2cset",
            &[
                "-y",
                &self.bus.to_string(),
                &format!("{:#04x}", self.address),
                &format!("{reg:#04x}"),
                &format!("{value:#04x}"),
            ],
        )
        .map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses() {
        assert_eq!(bus_number("i2c-3"), Some(3));
        assert_eq!(bus_number("3"), None);
        assert_eq!(parse_byte("0x5a\n"), Ok(0x5a));
        assert!(parse_byte("Error: Read failed").is_err());
    }
}
