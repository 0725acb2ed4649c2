//! A writer for the `newc` cpio format (what the kernel unpacks as an initramfs).
//!
//! Each entry is a 110-byte ASCII header (`070701` and thirteen 8-digit hex fields),
//! the NUL-terminated name padded to a multiple of 4 bytes (counting the header), then
//! the data padded to a multiple of 4. The archive ends with the `TRAILER!!!` entry.
//! Only what an initramfs needs: directories, regular files, symlinks, device nodes.

use std::io::{self, Write};

/// File type bits of `st_mode`.
const S_IFDIR: u32 = 0o040_000;
const S_IFREG: u32 = 0o100_000;
const S_IFLNK: u32 = 0o120_000;
const S_IFCHR: u32 = 0o020_000;

/// The newc magic.
const MAGIC: &[u8; 6] = b"070701";
/// The name of the closing entry.
const TRAILER: &str = "TRAILER!!!";

/// Writes a newc archive to `W`.
#[derive(Debug)]
pub struct CpioWriter<W: Write> {
    w: W,
    next_ino: u32,
    offset: u64,
}

fn pad4(n: u64) -> usize {
    ((4 - (n % 4)) % 4) as usize
}

impl<W: Write> CpioWriter<W> {
    /// A new archive on `w`.
    pub fn new(w: W) -> Self {
        Self { w, next_ino: 1, offset: 0 }
    }

    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.w.write_all(bytes)?;
        self.offset += bytes.len() as u64;
        Ok(())
    }

    fn entry(&mut self, name: &str, mode: u32, rdev: (u32, u32), data: &[u8]) -> io::Result<()> {
        let name = name.trim_start_matches('/');
        if name.is_empty() || name.contains('\0') {
            return Err(io::Error::new(io::ErrorKind::InvalidInput, format!("bad cpio entry name {name:?}")));
        }
        let size = u32::try_from(data.len()).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name}: {} bytes is too big for cpio", data.len()),
            )
        })?;
        let namesize = u32::try_from(name.len() + 1)
            .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "cpio entry name too long"))?;
        let ino = if name == TRAILER { 0 } else { self.next_ino };
        self.next_ino += 1;
        let nlink = if mode & S_IFDIR != 0 { 2 } else { 1 };
        let fields = [ino, mode, 0, 0, nlink, 0, size, 0, 0, rdev.0, rdev.1, namesize, 0];
        let mut hdr = Vec::with_capacity(110);
        hdr.extend_from_slice(MAGIC);
        for f in fields {
            hdr.extend_from_slice(format!("{f:08x}").as_bytes());
        }
        self.put(&hdr)?;
        self.put(name.as_bytes())?;
        self.put(&[0])?;
        self.put(&[0; 3][..pad4(self.offset)])?;
        self.put(data)?;
        self.put(&[0; 3][..pad4(self.offset)])?;
        Ok(())
    }

    /// A directory (`mode` holds the permission bits).
    pub fn dir(&mut self, name: &str, mode: u32) -> io::Result<()> {
        self.entry(name, S_IFDIR | (mode & 0o7777), (0, 0), &[])
    }

    /// A regular file.
    pub fn file(&mut self, name: &str, mode: u32, data: &[u8]) -> io::Result<()> {
        self.entry(name, S_IFREG | (mode & 0o7777), (0, 0), data)
    }

    /// A symbolic link to `target`.
    pub fn symlink(&mut self, name: &str, target: &str) -> io::Result<()> {
        self.entry(name, S_IFLNK | 0o777, (0, 0), target.as_bytes())
    }

    /// A character device node.
    pub fn char_dev(&mut self, name: &str, mode: u32, major: u32, minor: u32) -> io::Result<()> {
        self.entry(name, S_IFCHR | (mode & 0o7777), (major, minor), &[])
    }

    /// Write the trailer and hand back the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.entry(TRAILER, 0, (0, 0), &[])?;
        self.w.flush()?;
        Ok(self.w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One parsed entry: name, mode, rdev, data.
    type Entry = (String, u32, (u32, u32), Vec<u8>);

    /// A minimal newc reader, to check what the writer produced.
    fn parse(mut b: &[u8]) -> Vec<Entry> {
        let mut out = Vec::new();
        let mut off = 0usize;
        loop {
            assert_eq!(&b[..6], MAGIC, "magic at offset {off}");
            let field = |i: usize| {
                u32::from_str_radix(std::str::from_utf8(&b[6 + 8 * i..14 + 8 * i]).unwrap(), 16).unwrap()
            };
            let (mode, size, rmaj, rmin, namesize) = (field(1), field(6), field(9), field(10), field(11));
            let name = std::str::from_utf8(&b[110..110 + namesize as usize - 1]).unwrap().to_owned();
            assert_eq!(b[110 + namesize as usize - 1], 0, "{name} is NUL-terminated");
            let mut p = 110 + namesize as usize;
            p += pad4((off + p) as u64);
            let data = b[p..p + size as usize].to_vec();
            p += size as usize;
            p += pad4((off + p) as u64);
            assert_eq!((off + p) % 4, 0);
            b = &b[p..];
            off += p;
            if name == TRAILER {
                assert!(b.is_empty(), "nothing after the trailer");
                return out;
            }
            out.push((name, mode, (rmaj, rmin), data));
        }
    }

    #[test]
    fn entries_round_trip_with_alignment() {
        let mut w = CpioWriter::new(Vec::new());
        w.dir("/bin", 0o755).unwrap();
        w.file("bin/busybox", 0o755, b"12345").unwrap();
        w.file("init", 0o755, b"#!/bin/sh\n").unwrap();
        w.file("empty", 0o644, b"").unwrap();
        w.symlink("bin/sh", "busybox").unwrap();
        w.char_dev("dev/console", 0o600, 5, 1).unwrap();
        let bytes = w.finish().unwrap();
        assert_eq!(bytes.len() % 4, 0);
        let e = parse(&bytes);
        let names: Vec<&str> = e.iter().map(|x| x.0.as_str()).collect();
        assert_eq!(names, ["bin", "bin/busybox", "init", "empty", "bin/sh", "dev/console"]);
        assert_eq!(e[0].1, S_IFDIR | 0o755);
        assert_eq!(e[1].1, S_IFREG | 0o755);
        assert_eq!(e[1].3, b"12345");
        assert_eq!(e[2].3, b"#!/bin/sh\n");
        assert!(e[3].3.is_empty());
        assert_eq!(e[4].1, S_IFLNK | 0o777);
        assert_eq!(e[4].3, b"busybox");
        assert_eq!((e[5].1, e[5].2), (S_IFCHR | 0o600, (5, 1)));
    }

    #[test]
    fn header_is_110_ascii_bytes() {
        let mut w = CpioWriter::new(Vec::new());
        w.file("a", 0o644, b"x").unwrap();
        let b = w.finish().unwrap();
        // 110 header + "a\0" = 112 (aligned), 1 data byte + 3 padding.
        assert_eq!(&b[..6], b"070701");
        assert!(b[..110].iter().all(u8::is_ascii_alphanumeric));
        assert_eq!(&b[110..112], b"a\0");
        assert_eq!(&b[112..116], b"x\0\0\0");
        assert_eq!(&b[116..122], b"070701");
    }

    #[test]
    fn bad_names_are_refused() {
        let mut w = CpioWriter::new(Vec::new());
        assert!(w.file("/", 0o644, b"").is_err());
        assert!(w.file("a\0b", 0o644, b"").is_err());
    }
}
