//! The SG_IO ioctl (`include/scsi/sg.h`, interface version 3): one synchronous SCSI
//! command through `/dev/sgN` or a block device node (`/dev/sdX`), which both accept it.
//!
//! The device is opened `O_RDWR | O_NONBLOCK`: read-write because the block layer only
//! passes PERSISTENT RESERVE OUT and WRITE from a writable descriptor (without
//! CAP_SYS_RAWIO), non-blocking so the open itself never waits on a busy or absent
//! device (SG_IO still waits for its command). The kernel aborts a command after its
//! timeout and reports DID_TIME_OUT; error handling may take longer than that (LUN and
//! host resets), which the per-disk deadline above cannot shorten.

use std::fs::{File, OpenOptions};
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::transport::{Completion, Data, ScsiTransport};

/// `SG_IO`.
const SG_IO: u32 = 0x2285;
/// `sg_io_hdr.interface_id`: `'S'`.
const INTERFACE_ID: i32 = b'S' as i32;
/// `SG_DXFER_NONE`.
const DXFER_NONE: i32 = -1;
/// `SG_DXFER_TO_DEV`.
const DXFER_TO_DEV: i32 = -2;
/// `SG_DXFER_FROM_DEV`.
const DXFER_FROM_DEV: i32 = -3;
/// Sense buffer size: the kernel keeps at most 96 bytes (`SCSI_SENSE_BUFFERSIZE`), and
/// fixed sense is 18, descriptor sense rarely beyond 32.
const SENSE_LEN: usize = 64;

/// `struct sg_io_hdr` (`include/scsi/sg.h`), field for field.
#[repr(C)]
#[derive(Debug)]
struct SgIoHdr {
    /// `'S'`.
    interface_id: i32,
    /// `SG_DXFER_*`.
    dxfer_direction: i32,
    /// CDB length.
    cmd_len: u8,
    /// Sense buffer size.
    mx_sb_len: u8,
    /// 0: `dxferp` is one buffer, not a scatter list.
    iovec_count: u16,
    /// Data buffer size.
    dxfer_len: u32,
    /// Data buffer.
    dxferp: *mut libc::c_void,
    /// CDB.
    cmdp: *const u8,
    /// Sense buffer.
    sbp: *mut u8,
    /// Timeout in milliseconds.
    timeout: u32,
    /// `SG_FLAG_*`: 0, indirect I/O.
    flags: u32,
    /// Unused by SG_IO.
    pack_id: i32,
    /// Unused by SG_IO.
    usr_ptr: *mut libc::c_void,
    /// [out] SCSI status.
    status: u8,
    /// [out] status shifted right by one (obsolete).
    masked_status: u8,
    /// [out] message level data (obsolete).
    msg_status: u8,
    /// [out] sense bytes written.
    sb_len_wr: u8,
    /// [out] `DID_*`.
    host_status: u16,
    /// [out] `DRIVER_*`.
    driver_status: u16,
    /// [out] `dxfer_len` minus bytes transferred.
    resid: i32,
    /// [out] milliseconds the command took.
    duration: u32,
    /// [out] `SG_INFO_*`.
    info: u32,
}

// The kernel's layout: 88 bytes on LP64, 64 on ILP32.
#[cfg(target_pointer_width = "64")]
const _: () = assert!(std::mem::size_of::<SgIoHdr>() == 88);
#[cfg(target_pointer_width = "32")]
const _: () = assert!(std::mem::size_of::<SgIoHdr>() == 64);

mod ioctl {
    nix::ioctl_readwrite_bad!(sg_io, super::SG_IO, super::SgIoHdr);
}

/// A SCSI device node driven through SG_IO.
#[derive(Debug)]
pub struct SgIo {
    path: PathBuf,
    file: File,
}

impl SgIo {
    /// Open `path` (`/dev/sgN` or `/dev/sdX`) read-write, non-blocking, close-on-exec.
    pub fn open(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_path_buf();
        let file = OpenOptions::new().read(true).write(true).custom_flags(libc::O_NONBLOCK).open(&path)?;
        Ok(Self { path, file })
    }

    /// The device node.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl ScsiTransport for SgIo {
    fn execute(&self, cdb: &[u8], mut data: Data<'_>, timeout: Duration) -> std::io::Result<Completion> {
        let invalid = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidInput, what.to_owned());
        let cmd_len = u8::try_from(cdb.len()).ok().filter(|&n| (6..=16).contains(&n));
        let cmd_len = cmd_len.ok_or_else(|| invalid("CDB length must be 6 to 16 bytes"))?;
        let dxfer_len = u32::try_from(data.len()).map_err(|_| invalid("data buffer over 4 GiB"))?;
        // At least 1 ms: 0 would mean the sg driver's default (60 s).
        let timeout_ms = u32::try_from(timeout.as_millis()).unwrap_or(u32::MAX).max(1);
        let (dxfer_direction, dxferp): (i32, *mut libc::c_void) = match &mut data {
            Data::None => (DXFER_NONE, std::ptr::null_mut()),
            Data::FromDevice(buf) => (DXFER_FROM_DEV, buf.as_mut_ptr().cast()),
            // The kernel only reads a TO_DEV buffer (it copies it in).
            Data::ToDevice(buf) => (DXFER_TO_DEV, buf.as_ptr().cast_mut().cast()),
        };
        let mut sense = [0u8; SENSE_LEN];
        let mut hdr = SgIoHdr {
            interface_id: INTERFACE_ID,
            dxfer_direction,
            cmd_len,
            mx_sb_len: SENSE_LEN as u8,
            iovec_count: 0,
            dxfer_len,
            dxferp,
            cmdp: cdb.as_ptr(),
            sbp: sense.as_mut_ptr(),
            timeout: timeout_ms,
            flags: 0,
            pack_id: 0,
            usr_ptr: std::ptr::null_mut(),
            status: 0,
            masked_status: 0,
            msg_status: 0,
            sb_len_wr: 0,
            host_status: 0,
            driver_status: 0,
            resid: 0,
            duration: 0,
            info: 0,
        };
        // SAFETY: `hdr` is a valid `sg_io_hdr` for the whole (synchronous) call: `cmdp`
        // points at `cmd_len` readable bytes of `cdb`, `sbp` at `mx_sb_len` writable
        // bytes of `sense`, and `dxferp` at `dxfer_len` bytes of `data`'s buffer, which
        // is writable for FROM_DEV and only read for TO_DEV. All three outlive the call,
        // and SG_IO keeps no pointer after it returns.
        unsafe { ioctl::sg_io(self.file.as_raw_fd(), &raw mut hdr) }.map_err(std::io::Error::from)?;
        let written = usize::from(hdr.sb_len_wr).min(SENSE_LEN);
        Ok(Completion {
            status: hdr.status,
            host_status: hdr.host_status,
            driver_status: hdr.driver_status,
            sense: sense[..written].to_vec(),
            resid: hdr.resid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_scsi_device_is_refused() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let dev = SgIo::open(tmp.path()).unwrap();
        assert_eq!(dev.path(), tmp.path());
        let mut buf = [0u8; 36];
        let err = dev
            .execute(
                &super::super::cdb::inquiry(None, 36),
                Data::FromDevice(&mut buf),
                Duration::from_secs(1),
            )
            .unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENOTTY), "{err}");
        assert!(SgIo::open("/nonexistent/sg99").is_err());
    }

    #[test]
    fn malformed_commands_never_reach_the_kernel() {
        let tmp = tempfile::NamedTempFile::new().unwrap();
        let dev = SgIo::open(tmp.path()).unwrap();
        for cdb in [&[0u8; 5][..], &[0u8; 17][..], &[][..]] {
            let err = dev.execute(cdb, Data::None, Duration::from_secs(1)).unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        }
    }
}
