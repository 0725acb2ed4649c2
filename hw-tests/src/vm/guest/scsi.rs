//! SCSI commands through sg3-utils (`sg_inq`, `sg_turs`, `sg_persist`) and plain
//! block I/O through `dd`: what an observer (or a scenario playing one controller)
//! does to a disk path, independently of `failoverd`'s own SG_IO code.
//!
//! LIO reports a pending UNIT ATTENTION (after a PREEMPT, for the preempted path:
//! "Registrations preempted") instead of executing the next command, PR IN as well as
//! PR OUT, so every sg_persist call is retried on a unit attention (exit status 6).

use std::path::Path;
use std::process::{Command, Stdio};

/// sg3-utils' exit status for a unit attention.
const SG_LIB_CAT_UNIT_ATTENTION: i32 = 6;
/// sg3-utils' exit status for RESERVATION CONFLICT.
pub const SG_LIB_CAT_RES_CONFLICT: i32 = 24;

/// A command's exit code, stdout and stderr.
fn run(cmd: &str, args: &[&str]) -> Result<(i32, String, String), String> {
    let out = Command::new(cmd)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run `{cmd}`: {e}"))?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_owned(),
    ))
}

fn ok(cmd: &str, args: &[&str]) -> Result<String, String> {
    let (rc, out, err) = run(cmd, args)?;
    if rc == 0 { Ok(out) } else { Err(format!("`{cmd} {}` failed (exit {rc}): {err}", args.join(" "))) }
}

/// The unit serial number in `sg_inq -p 0x80` output.
pub fn parse_unit_serial(out: &str) -> Option<String> {
    out.lines().find_map(|l| l.trim().strip_prefix("Unit serial number:")).map(|s| s.trim().to_owned())
}

/// The unit serial number (VPD page 0x80) of a device.
pub fn unit_serial(dev: &Path) -> Result<String, String> {
    let d = dev.to_string_lossy();
    let out = ok("sg_inq", &["-p", "0x80", &d])?;
    parse_unit_serial(&out)
        .ok_or_else(|| format!("`sg_inq -p 0x80 {d}` printed no unit serial number:\n{out}"))
}

/// TEST UNIT READY until it succeeds (consuming pending unit attentions), at most 5.
pub fn drain_unit_attentions(dev: &Path) -> Result<(), String> {
    let d = dev.to_string_lossy();
    let mut last = String::new();
    for _ in 0..5 {
        let (rc, _, err) = run("sg_turs", &[&d])?;
        if rc == 0 {
            return Ok(());
        }
        last = format!("exit {rc}: {err}");
    }
    Err(format!("`sg_turs {d}` keeps failing: {last}"))
}

/// `sg_persist --no-inquiry <args> <dev>`, retried on a unit attention; the exit
/// code, stdout and stderr of the last try.
fn persist(dev: &Path, args: &[&str]) -> Result<(i32, String, String), String> {
    let d = dev.to_string_lossy();
    let mut all = vec!["--no-inquiry"];
    all.extend_from_slice(args);
    all.push(&d);
    for _ in 0..5 {
        let (rc, out, err) = run("sg_persist", &all)?;
        if rc != SG_LIB_CAT_UNIT_ATTENTION {
            return Ok((rc, out, err));
        }
    }
    Err(format!("`sg_persist {}` met a unit attention 5 times", all.join(" ")))
}

/// A PR IN command's output.
fn pr_in(dev: &Path, action: &str) -> Result<String, String> {
    match persist(dev, &["--in", action])? {
        (0, out, _) => Ok(out),
        (rc, _, err) => {
            Err(format!("`sg_persist --in {action} {}` failed (exit {rc}): {err}", dev.display()))
        }
    }
}

/// A PR OUT command: the exit code and stderr.
fn pr_out(dev: &Path, args: &[&str]) -> Result<(i32, String), String> {
    let mut all = vec!["--out"];
    all.extend_from_slice(args);
    persist(dev, &all).map(|(rc, _, err)| (rc, err))
}

fn pr_out_ok(dev: &Path, args: &[&str]) -> Result<(), String> {
    match pr_out(dev, args)? {
        (0, _) => Ok(()),
        (rc, err) => Err(format!(
            "`sg_persist --out {} {}` failed (exit {rc}{}): {err}",
            args.join(" "),
            dev.display(),
            if rc == SG_LIB_CAT_RES_CONFLICT { ", reservation conflict" } else { "" }
        )),
    }
}

/// PR OUT REGISTER of `key` through `dev`.
pub fn register(dev: &Path, key: u64) -> Result<(), String> {
    pr_out_ok(dev, &["--register", &format!("--param-sark={key:#x}")])
}

/// PR OUT RESERVE with `key` and reservation type `ty`.
pub fn reserve(dev: &Path, key: u64, ty: u8) -> Result<(), String> {
    pr_out_ok(dev, &["--reserve", &format!("--param-rk={key:#x}"), &format!("--prout-type={ty}")])
}

/// PR OUT PREEMPT: `key` (ours) removes `victim`'s registration and takes the
/// reservation with type `ty`.
pub fn preempt(dev: &Path, key: u64, victim: u64, ty: u8) -> Result<(), String> {
    pr_out_ok(
        dev,
        &[
            "--preempt",
            &format!("--param-rk={key:#x}"),
            &format!("--param-sark={victim:#x}"),
            &format!("--prout-type={ty}"),
        ],
    )
}

/// The registered keys in `sg_persist --read-keys` output.
pub fn parse_keys(out: &str) -> Result<Vec<u64>, String> {
    if out.contains("there are NO registered reservation keys") {
        return Ok(Vec::new());
    }
    if !out.contains("registered reservation key") {
        return Err(format!("unexpected sg_persist --read-keys output:\n{out}"));
    }
    out.lines()
        .filter_map(|l| l.trim().strip_prefix("0x"))
        .map(|h| u64::from_str_radix(h, 16).map_err(|e| format!("bad key 0x{h}: {e}")))
        .collect()
}

/// A reservation: holder key and type code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Reservation {
    /// The holder's key.
    pub key: u64,
    /// SPC type code (1, 3, 5, 6, 7, 8).
    pub ty: u8,
}

/// The type code for sg_persist's wording of a reservation type.
fn type_code(text: &str) -> Option<u8> {
    let t = text.trim().to_ascii_lowercase();
    let exclusive_access = t.starts_with("exclusive access");
    let write_exclusive = t.starts_with("write exclusive");
    match (write_exclusive, exclusive_access, t.contains("registrants only"), t.contains("all registrants")) {
        (true, _, false, false) => Some(1),
        (_, true, false, false) => Some(3),
        (true, _, true, _) => Some(5),
        (_, true, true, _) => Some(6),
        (true, _, _, true) => Some(7),
        (_, true, _, true) => Some(8),
        _ => None,
    }
}

/// The reservation in `sg_persist --read-reservation` output.
pub fn parse_reservation(out: &str) -> Result<Option<Reservation>, String> {
    if out.contains("there is NO reservation held") {
        return Ok(None);
    }
    let bad = || format!("unexpected sg_persist --read-reservation output:\n{out}");
    let key = out
        .lines()
        .find_map(|l| l.trim().strip_prefix("Key=0x"))
        .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        .ok_or_else(bad)?;
    let ty =
        out.lines().find_map(|l| l.split_once("type:").map(|x| x.1)).and_then(type_code).ok_or_else(bad)?;
    Ok(Some(Reservation { key, ty }))
}

/// PR IN READ KEYS.
pub fn read_keys(dev: &Path) -> Result<Vec<u64>, String> {
    parse_keys(&pr_in(dev, "--read-keys")?)
}

/// PR IN READ RESERVATION.
pub fn read_reservation(dev: &Path) -> Result<Option<Reservation>, String> {
    parse_reservation(&pr_in(dev, "--read-reservation")?)
}

/// Write one 4 KiB block at `block` through the block device with O_DIRECT: `Ok`
/// or dd's stderr.
pub fn write_block(dev: &Path, block: u64, byte: u8) -> Result<(), String> {
    let pattern = std::env::temp_dir().join(format!("hwtest-block-{byte:02x}"));
    std::fs::write(&pattern, [byte; 4096]).map_err(|e| format!("{}: {e}", pattern.display()))?;
    let args = [
        format!("if={}", pattern.display()),
        format!("of={}", dev.display()),
        "bs=4096".into(),
        "count=1".into(),
        format!("seek={block}"),
        "oflag=direct".into(),
        "conv=notrunc,fsync".into(),
        "status=none".into(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok("dd", &args).map(|_| ())
}

/// Read one 4 KiB block at `block` through the block device with O_DIRECT.
pub fn read_block(dev: &Path, block: u64) -> Result<Vec<u8>, String> {
    let out = Command::new("dd")
        .arg(format!("if={}", dev.display()))
        .args(["bs=4096", "count=1", &format!("skip={block}"), "iflag=direct", "status=none"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run dd: {e}"))?;
    if out.status.success() && out.stdout.len() == 4096 {
        Ok(out.stdout)
    } else {
        Err(format!(
            "reading block {block} of {} failed ({}, {} bytes): {}",
            dev.display(),
            out.status,
            out.stdout.len(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serial_parses() {
        let out = "VPD INQUIRY: Unit serial number page\n  Unit serial number: hwtest-disk0\n";
        assert_eq!(parse_unit_serial(out).as_deref(), Some("hwtest-disk0"));
        assert_eq!(parse_unit_serial("nothing"), None);
    }

    #[test]
    fn keys_parse() {
        let some = "  PR generation=0x2, 2 registered reservation keys follow:\n    0xa1\n    0xb1\n";
        assert_eq!(parse_keys(some).unwrap(), [0xa1, 0xb1]);
        let none = "  PR generation=0x0, there are NO registered reservation keys\n";
        assert_eq!(parse_keys(none).unwrap(), Vec::<u64>::new());
        assert!(parse_keys("sg_persist: error").is_err());
    }

    #[test]
    fn reservations_parse() {
        let held = "  PR generation=0x3, Reservation follows:\n    Key=0xb1\n    \
                    scope: LU_SCOPE,  type: Write Exclusive, registrants only\n";
        assert_eq!(parse_reservation(held).unwrap(), Some(Reservation { key: 0xb1, ty: 5 }));
        let none = "  PR generation=0x1, there is NO reservation held\n";
        assert_eq!(parse_reservation(none).unwrap(), None);
        assert!(parse_reservation("Key=0xzz").is_err());
    }

    #[test]
    fn type_names_map_to_codes() {
        assert_eq!(type_code("Write Exclusive"), Some(1));
        assert_eq!(type_code("Exclusive Access"), Some(3));
        assert_eq!(type_code("Write Exclusive, registrants only"), Some(5));
        assert_eq!(type_code("Exclusive Access, registrants only"), Some(6));
        assert_eq!(type_code("Write Exclusive, all registrants"), Some(7));
        assert_eq!(type_code("Exclusive Access, all registrants"), Some(8));
        assert_eq!(type_code("obsolete [2]"), None);
    }
}
