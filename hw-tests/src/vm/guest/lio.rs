//! Dual-ported disks from LIO: one `fileio` backstore per disk, exported through two
//! `tcm_loop` target ports, one per controller. Each port is its own SCSI host in the
//! guest, so each disk shows up twice (`/dev/sdX` + `/dev/sgN` per path) with the same
//! unit serial and a different initiator port: persistent reservations see two I_T
//! nexuses, as with a dual-ported SAS disk behind two controllers.
//!
//! Order matters (HIL-LINUX.md): `target/dbroot` must point at a writable directory
//! with a `pr/` subdirectory before the first backstore exists (else REGISTER is
//! applied but returns NOT READY), and each port's `nexus` is written before its LUN
//! is created and linked to the backstore.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use failover_core::wire::Controller;

use super::{read_attr, wait_until, write_attr};

/// LIO's configfs root.
const TARGET: &str = "/sys/kernel/config/target";

/// One disk with its two paths.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Disk {
    /// The unit serial number (VPD page 0x80), the same on both paths.
    pub serial: String,
    /// Controller A's SCSI generic device.
    pub a_sg: PathBuf,
    /// Controller A's block device.
    pub a_sd: PathBuf,
    /// Controller B's SCSI generic device.
    pub b_sg: PathBuf,
    /// Controller B's block device.
    pub b_sd: PathBuf,
    /// The backing file.
    pub backing: PathBuf,
}

impl Disk {
    /// A controller's SCSI generic device for this disk.
    pub fn sg(&self, c: Controller) -> &Path {
        match c {
            Controller::A => &self.a_sg,
            Controller::B => &self.b_sg,
        }
    }

    /// A controller's block device for this disk.
    pub fn sd(&self, c: Controller) -> &Path {
        match c {
            Controller::A => &self.a_sd,
            Controller::B => &self.b_sd,
        }
    }
}

/// The SAS-style address of a target port (per disk and controller) or of a
/// controller's initiator port (`disk` = None): `naa.5001405` + 9 hex digits.
pub fn wwn(c: Controller, disk: Option<usize>) -> String {
    let side: u64 = match c {
        Controller::A => 0xa,
        Controller::B => 0xb,
    };
    let low = match disk {
        Some(i) => (side << 32) | (i as u64 & 0xffff_ffff),
        None => (0xc << 32) | side,
    };
    format!("naa.5001405{low:09x}")
}

/// The unit serial of disk `i`. LIO derives the NAA designator (VPD 0x83) from the
/// serial's hex digits only (`hwtest-disk2` and `hwtest-disk20` both gave
/// `naa.6001405ed1...`): every character here is a hex digit, distinct per disk.
pub fn serial(i: usize) -> String {
    format!("d15c{i:08x}")
}

/// `host:channel:target` from a tcm_loop port's `address` attribute (`2:0:1`).
pub fn parse_address(s: &str) -> Result<(u32, u32, u32), String> {
    let parts: Vec<u32> = s
        .trim()
        .split(':')
        .map(|p| p.parse().map_err(|_| ()))
        .collect::<Result<_, _>>()
        .map_err(|()| format!("not a SCSI address: {s:?}"))?;
    match parts[..] {
        [h, c, t] => Ok((h, c, t)),
        _ => Err(format!("not a SCSI address: {s:?}")),
    }
}

/// The single entry of a sysfs directory listing such as `.../block/` (`sdb`).
pub fn single_entry(dir: &Path) -> Result<String, String> {
    let names: Vec<String> = fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    match &names[..] {
        [one] => Ok(one.clone()),
        _ => Err(format!("{}: expected one entry, found {names:?}", dir.display())),
    }
}

/// Point LIO's persistent-reservation state at `dir` (creating `dir/pr`). Must run
/// before the first backstore is created.
pub fn set_dbroot(dir: &Path) -> Result<(), String> {
    let pr = dir.join("pr");
    fs::create_dir_all(&pr).map_err(|e| format!("{}: {e}", pr.display()))?;
    let attr = Path::new(TARGET).join("dbroot");
    write_attr(&attr, &dir.to_string_lossy())?;
    let now = read_attr(&attr)?;
    if Path::new(now.trim()) != dir {
        return Err(format!("{} reads {:?} after writing {}", attr.display(), now.trim(), dir.display()));
    }
    Ok(())
}

fn mkdir(p: &Path) -> Result<(), String> {
    fs::create_dir_all(p).map_err(|e| format!("mkdir {}: {e}", p.display()))
}

/// Create disk `i`: a sparse `size` byte file under `dir`, its backstore, and its two
/// ports; wait for both paths' devices.
pub fn create_disk(i: usize, dir: &Path, size: u64) -> Result<Disk, String> {
    let backing = dir.join(format!("disk{i}.img"));
    let f = fs::File::create(&backing).map_err(|e| format!("{}: {e}", backing.display()))?;
    f.set_len(size).map_err(|e| format!("{}: set_len({size}): {e}", backing.display()))?;
    let store = Path::new(TARGET).join("core").join(format!("fileio_{i}")).join(format!("disk{i}"));
    mkdir(&store)?;
    write_attr(&store.join("control"), &format!("fd_dev_name={},fd_dev_size={size}", backing.display()))?;
    let serial = serial(i);
    write_attr(&store.join("wwn/vpd_unit_serial"), &serial)?;
    write_attr(&store.join("enable"), "1")?;
    let mut paths = Vec::new();
    for c in [Controller::A, Controller::B] {
        let tpg = Path::new(TARGET).join("loopback").join(wwn(c, Some(i))).join("tpgt_1");
        mkdir(&tpg)?;
        write_attr(&tpg.join("nexus"), &wwn(c, None))?;
        let lun = tpg.join("lun/lun_0");
        mkdir(&lun)?;
        let link = lun.join(format!("disk{i}"));
        std::os::unix::fs::symlink(&store, &link)
            .map_err(|e| format!("ln -s {} {}: {e}", store.display(), link.display()))?;
        let (host, chan, target) = parse_address(&read_attr(&tpg.join("address"))?)?;
        let sdev = PathBuf::from(format!("/sys/bus/scsi/devices/{host}:{chan}:{target}:0"));
        let what = format!("disk {i} path {c}: {}'s block and sg devices", sdev.display());
        let (sd, sg) = wait_until(Duration::from_secs(20), &what, || {
            let (Ok(sd), Ok(sg)) =
                (single_entry(&sdev.join("block")), single_entry(&sdev.join("scsi_generic")))
            else {
                return Ok(None);
            };
            let (sd, sg) = (Path::new("/dev").join(sd), Path::new("/dev").join(sg));
            Ok((sd.exists() && sg.exists()).then_some((sd, sg)))
        })?;
        paths.push((sd, sg));
    }
    let [(a_sd, a_sg), (b_sd, b_sg)] = <[(PathBuf, PathBuf); 2]>::try_from(paths)
        .map_err(|p| format!("disk {i}: expected two paths, got {}", p.len()))?;
    Ok(Disk { serial, a_sg, a_sd, b_sg, b_sd, backing })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wwns_are_distinct_and_well_formed() {
        let all = [
            wwn(Controller::A, Some(0)),
            wwn(Controller::B, Some(0)),
            wwn(Controller::A, Some(1)),
            wwn(Controller::A, None),
            wwn(Controller::B, None),
        ];
        for w in &all {
            let hex = w.strip_prefix("naa.").unwrap();
            assert_eq!(hex.len(), 16, "{w}");
            assert!(hex.chars().all(|c| c.is_ascii_hexdigit()), "{w}");
        }
        for (i, a) in all.iter().enumerate() {
            assert!(all[i + 1..].iter().all(|b| a != b), "{a} repeats");
        }
        assert_eq!(wwn(Controller::B, Some(3)), "naa.5001405b00000003");
    }

    #[test]
    fn addresses_parse() {
        assert_eq!(parse_address("2:0:1\n"), Ok((2, 0, 1)));
        assert!(parse_address("2:0").is_err());
        assert!(parse_address("a:b:c").is_err());
        assert!(parse_address("").is_err());
    }

    #[test]
    fn single_entry_wants_exactly_one() {
        let d = std::env::temp_dir().join(format!("hwtest-single-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(&d).unwrap();
        assert!(single_entry(&d).is_err());
        fs::create_dir(d.join("sdb")).unwrap();
        assert_eq!(single_entry(&d).unwrap(), "sdb");
        fs::create_dir(d.join("sdc")).unwrap();
        assert!(single_entry(&d).is_err());
        fs::remove_dir_all(&d).unwrap();
    }
}
