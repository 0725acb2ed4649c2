//! The kernel log, read from `/dev/kmsg` (no `dmesg` tool needed).

use std::fs::OpenOptions;
use std::io::{ErrorKind, Read as _};
use std::os::unix::fs::OpenOptionsExt as _;
use std::time::{Duration, Instant};

/// One record of `/dev/kmsg`: `prio,seq,usec,flags[,..];message\n[ KEY=value\n]...`.
/// The message with its time stamp in seconds.
pub fn parse_record(rec: &str) -> Option<(f64, String)> {
    let (head, rest) = rec.split_once(';')?;
    let usec: u64 = head.split(',').nth(2)?.parse().ok()?;
    let msg = rest.lines().next().unwrap_or_default().to_owned();
    Some((usec as f64 / 1e6, msg))
}

/// Every message in the kernel's ring buffer now, as `[seconds] message` lines.
pub fn dmesg() -> Result<Vec<String>, String> {
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open("/dev/kmsg")
        .map_err(|e| format!("/dev/kmsg: {e}"))?;
    let mut out = Vec::new();
    let mut buf = vec![0u8; 8192];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                if let Some((t, m)) = parse_record(&String::from_utf8_lossy(&buf[..n])) {
                    out.push(format!("[{t:10.6}] {m}"));
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            // A record overwritten while we read: skip it.
            Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {}
            Err(e) => return Err(format!("reading /dev/kmsg: {e}")),
        }
    }
    Ok(out)
}

/// Wait until a kernel message containing `needle` appears; that message.
pub fn wait_for(needle: &str, limit: Duration) -> Result<String, String> {
    let t0 = Instant::now();
    loop {
        if let Some(l) = dmesg()?.into_iter().find(|l| l.contains(needle)) {
            return Ok(l);
        }
        if t0.elapsed() >= limit {
            return Err(format!("no kernel message containing {needle:?} within {} ms", limit.as_millis()));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_parse() {
        let r = "2,412,5123456,-;softdog: Triggered - Reboot ignored\n SUBSYSTEM=x\n";
        assert_eq!(parse_record(r), Some((5.123456, "softdog: Triggered - Reboot ignored".into())));
        assert_eq!(parse_record("6,1,0,-,caller=T1;hello\n").map(|x| x.1), Some("hello".into()));
        assert_eq!(parse_record("garbage"), None);
    }
}
