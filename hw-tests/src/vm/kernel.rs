//! The guest kernel as an uncompressed ELF `vmlinux`, which QEMU boots through its PVH
//! entry point (faster under TCG than the bzImage's real-mode setup and decompressor).
//!
//! Debian's bzImage carries the kernel xz-compressed: the payload starts at the first
//! xz stream magic. `xz -dc --single-stream` from there yields the ELF image and
//! ignores the bzImage's trailer after the stream (plain `xz -dc` reads the trailer as
//! a corrupt second stream and fails). The result is checked as an ELF with the PVH
//! note rather than trusted by xz's exit status alone.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::log;

/// The xz stream magic.
const XZ_MAGIC: &[u8] = b"\xfd7zXZ\x00";

/// Where the xz payload starts in a bzImage.
pub fn xz_offset(image: &[u8]) -> Option<usize> {
    image.windows(XZ_MAGIC.len()).position(|w| w == XZ_MAGIC)
}

/// The stamp that says which image a cached vmlinux came from.
fn stamp_of(vmlinuz: &Path) -> Result<String, String> {
    let m = fs::metadata(vmlinuz).map_err(|e| format!("{}: {e}", vmlinuz.display()))?;
    let mtime =
        m.modified().ok().and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok()).unwrap_or_default();
    Ok(format!("{} {} {}\n", vmlinuz.display(), m.len(), mtime.as_secs()))
}

/// `<cache>/kernel/<kver>/vmlinux`, extracted from `vmlinuz` unless already there.
pub fn vmlinux(vmlinuz: &Path, kver: &str, cache: &Path) -> Result<PathBuf, String> {
    let dir = cache.join("kernel").join(kver);
    let out = dir.join("vmlinux");
    let stamp_path = dir.join("stamp");
    let stamp = stamp_of(vmlinuz)?;
    if out.is_file() && fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        return Ok(out);
    }
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    log(&format!("extracting the PVH vmlinux from {} into {}", vmlinuz.display(), out.display()));
    let image = fs::read(vmlinuz).map_err(|e| format!("{}: {e}", vmlinuz.display()))?;
    let off = xz_offset(&image).ok_or_else(|| {
        format!("{}: no xz stream in it (is the kernel built with CONFIG_KERNEL_XZ?)", vmlinuz.display())
    })?;
    let tmp = dir.join("vmlinux.tmp");
    let file = fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let mut child = Command::new("xz")
        .args(["-dc", "--single-stream"])
        .stdin(Stdio::piped())
        .stdout(file)
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run xz: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("xz has no stdin")?;
    let payload = image[off..].to_vec();
    // xz may stop reading at the end of the stream: feed from a thread, ignore EPIPE.
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&payload);
    });
    let result = child.wait_with_output().map_err(|e| format!("xz: {e}"))?;
    let _ = feeder.join();
    let elf = fs::read(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
    let xz_err = String::from_utf8_lossy(&result.stderr).trim().to_owned();
    let pvh = super::elf::has_pvh_note(&elf).map_err(|e| {
        format!("xz -dc of {} from offset {off} gave no kernel ({e}); xz said: {xz_err}", vmlinuz.display())
    })?;
    if !pvh {
        return Err(format!(
            "{}: the kernel has no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); it needs CONFIG_PVH=y",
            vmlinuz.display()
        ));
    }
    fs::rename(&tmp, &out).map_err(|e| format!("rename {} -> {}: {e}", tmp.display(), out.display()))?;
    fs::write(&stamp_path, stamp).map_err(|e| format!("{}: {e}", stamp_path.display()))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_xz_magic() {
        let mut img = vec![0u8; 100];
        img.extend_from_slice(XZ_MAGIC);
        img.extend_from_slice(b"payload");
        img.extend_from_slice(XZ_MAGIC);
        assert_eq!(xz_offset(&img), Some(100));
        assert_eq!(xz_offset(b"\xfd7zXZ"), None);
    }
}
