//! The epoch / identity state file.
//!
//! What must survive a restart of `failoverd` (or of the host): which controller this
//! is, the highest epoch it persisted (a node becomes active only with an epoch it
//! wrote here *before* fencing, so an epoch can never be reused after a crash), how
//! many times the service started (the boot id carried in every frame: it must grow
//! at every start so the peer's replay guard accepts the new boot), and whether the
//! peer fenced us (then a silent peer is not enough to take over after a reboot).
//!
//! # Writes are atomic
//! [`store`] writes `<path>.tmp` in the same directory, fsyncs it, renames it over
//! `path` and fsyncs the directory. After a crash at any point the file is either the
//! old state or the new one, never a mix; a leftover `.tmp` is ignored by [`load`]
//! and overwritten by the next [`store`].
//!
//! # Corruption is reported, never repaired
//! The file is text, for an administrator to read:
//!
//! ```text
//! failoverd-state 1
//! controller A
//! epoch 17
//! boot_count 42
//! fenced_marker none
//! checksum 5d41402abc4b2a76
//! ```
//!
//! The last line is [`Digest::of`] the lines before it, in lowercase hex. A file that
//! fails any check (bad magic, unknown version, truncated, checksum mismatch, a line
//! not exactly as written) is [`StateError::Corrupt`]. The service must then refuse to
//! start: silently starting from epoch 0 could let this controller fence the disks
//! with an epoch the peer has already used, or forget that it was fenced. The
//! administrator decides (restore, or remove the file while the peer is active).

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use failover_core::wire::{Controller, Digest};

/// First word of the file.
const MAGIC: &str = "failoverd-state";
/// The format written by this version.
const VERSION: u32 = 1;

/// What the state file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct State {
    /// Which controller this host is.
    pub controller: Controller,
    /// The highest epoch persisted (before fencing with it).
    pub epoch: u64,
    /// Starts of the service so far, this one included: the boot id.
    pub boot_count: u32,
    /// The peer fenced us at this epoch (cleared once the peer is heard again).
    pub fenced_marker: Option<u64>,
}

/// Why the state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("state file {}: {source}", path.display())]
    Io {
        /// The file (or directory) the operation was on.
        path: PathBuf,
        /// The I/O error.
        source: io::Error,
    },
    /// The file exists but is damaged: not used, and not overwritten by [`next_boot`].
    #[error("state file {} is corrupt ({reason}); refusing to use it", path.display())]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: Corruption,
    },
    /// The file was written by the other controller (a swapped disk or a copied
    /// configuration).
    #[error("state file {} belongs to controller {found}, but this is controller {expected}", path.display())]
    WrongController {
        /// The file.
        path: PathBuf,
        /// The controller named in the file.
        found: Controller,
        /// This controller.
        expected: Controller,
    },
    /// The boot counter reached `u32::MAX`: boot ids can no longer grow.
    #[error("state file {}: the boot counter is exhausted", path.display())]
    BootCountExhausted {
        /// The file.
        path: PathBuf,
    },
}

/// What is wrong with a corrupt state file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Corruption {
    /// The file is empty.
    #[error("empty")]
    Empty,
    /// It does not start with the magic word.
    #[error("not a failoverd state file")]
    BadMagic,
    /// A format version this build cannot read.
    #[error("unsupported format version {0:?}")]
    UnsupportedVersion(String),
    /// The file ends before its last newline.
    #[error("truncated")]
    Truncated,
    /// The checksum does not match the contents.
    #[error("checksum mismatch")]
    Checksum,
    /// A line is not as written by [`store`].
    #[error("line {line}: expected {expected}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What was expected there.
        expected: &'static str,
    },
}

impl State {
    /// The state of a controller that never started before.
    pub fn new(controller: Controller) -> Self {
        Self { controller, epoch: 0, boot_count: 0, fenced_marker: None }
    }

    /// The file's contents.
    pub fn encode(&self) -> String {
        let fenced = self.fenced_marker.map_or_else(|| "none".to_owned(), |e| e.to_string());
        let body = format!(
            "{MAGIC} {VERSION}\ncontroller {}\nepoch {}\nboot_count {}\nfenced_marker {fenced}\n",
            self.controller, self.epoch, self.boot_count
        );
        let sum = hex::encode(Digest::of(body.as_bytes()).0);
        format!("{body}checksum {sum}\n")
    }

    /// Read the file's contents back, checking everything.
    pub fn decode(bytes: &[u8]) -> Result<Self, Corruption> {
        if bytes.is_empty() {
            return Err(Corruption::Empty);
        }
        let magic = format!("{MAGIC} ");
        if !bytes.starts_with(magic.as_bytes()) {
            return Err(if magic.as_bytes().starts_with(bytes) {
                Corruption::Truncated
            } else {
                Corruption::BadMagic
            });
        }
        // The first line names the version: check it before anything else, since
        // another version may lay out the rest (checksum included) differently.
        let Some(first_end) = bytes.iter().position(|&b| b == b'\n') else {
            return Err(Corruption::Truncated);
        };
        let version = &bytes[magic.len()..first_end];
        if version != VERSION.to_string().as_bytes() {
            return Err(Corruption::UnsupportedVersion(String::from_utf8_lossy(version).into_owned()));
        }
        // The checksum line: the last line, ending the file with a newline.
        let Some(content) = bytes.strip_suffix(b"\n") else { return Err(Corruption::Truncated) };
        let sum_start = content.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let (body, sum_line) = bytes.split_at(sum_start);
        let sum_line = &sum_line[..sum_line.len() - 1];
        let bad_sum = Corruption::Malformed {
            line: body.iter().filter(|&&b| b == b'\n').count() + 1,
            expected: "checksum <16 lowercase hex digits>",
        };
        let Some(sum_hex) = sum_line.strip_prefix(b"checksum ") else { return Err(bad_sum) };
        // Lowercase only, exactly as written: a case flip must not go unnoticed.
        let mut sum = [0u8; 8];
        if sum_hex.len() != 16
            || !sum_hex.iter().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            || hex::decode_to_slice(sum_hex, &mut sum).is_err()
        {
            return Err(bad_sum);
        }
        if Digest::of(body).0 != sum {
            return Err(Corruption::Checksum);
        }
        // The checksum holds: parse strictly anyway (a bug or a hand edit that kept the
        // checksum right must still not be misread).
        let text =
            std::str::from_utf8(body).map_err(|_| Corruption::Malformed { line: 1, expected: "UTF-8" })?;
        let lines: Vec<&str> = text.lines().collect();
        if lines.len() != 5 {
            return Err(Corruption::Malformed {
                line: lines.len().min(5) + 1,
                expected: "exactly six lines",
            });
        }
        let field = |n: usize, name: &'static str, expected: &'static str| {
            lines[n]
                .strip_prefix(name)
                .and_then(|v| v.strip_prefix(' '))
                .ok_or(Corruption::Malformed { line: n + 1, expected })
        };
        let controller = match field(1, "controller", "controller A|B")? {
            "A" => Controller::A,
            "B" => Controller::B,
            _ => return Err(Corruption::Malformed { line: 2, expected: "controller A|B" }),
        };
        let epoch = field(2, "epoch", "epoch <u64>")?;
        let epoch = decimal(epoch).ok_or(Corruption::Malformed { line: 3, expected: "epoch <u64>" })?;
        let boot = field(3, "boot_count", "boot_count <u32>")?;
        let boot_count = decimal(boot)
            .and_then(|b| u32::try_from(b).ok())
            .ok_or(Corruption::Malformed { line: 4, expected: "boot_count <u32>" })?;
        let fenced_marker = match field(4, "fenced_marker", "fenced_marker none|<u64>")? {
            "none" => None,
            e => Some(
                decimal(e).ok_or(Corruption::Malformed { line: 5, expected: "fenced_marker none|<u64>" })?,
            ),
        };
        Ok(Self { controller, epoch, boot_count, fenced_marker })
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "controller {} epoch {} boot {}", self.controller, self.epoch, self.boot_count)?;
        if let Some(e) = self.fenced_marker {
            write!(f, " fenced at epoch {e}")?;
        }
        Ok(())
    }
}

/// A canonical decimal: digits only, no sign, no leading zero (so every value has one
/// spelling).
fn decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) || (s.len() > 1 && s.starts_with('0')) {
        return None;
    }
    s.parse().ok()
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StateError + '_ {
    move |source| StateError::Io { path: path.to_owned(), source }
}

/// `<path>.tmp`, in the same directory (so the rename is atomic).
fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".tmp");
    PathBuf::from(name)
}

/// The directory holding `path`.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Read the state file. `Ok(None)` only when it does not exist (first boot); a file
/// that exists but cannot be read or checked is an error.
pub fn load(path: &Path) -> Result<Option<State>, StateError> {
    match fs::read(path) {
        Ok(bytes) => State::decode(&bytes)
            .map(Some)
            .map_err(|reason| StateError::Corrupt { path: path.to_owned(), reason }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_err(path)(e)),
    }
}

/// [`load`], and check that the file belongs to `expected`.
pub fn load_for(path: &Path, expected: Controller) -> Result<Option<State>, StateError> {
    match load(path)? {
        Some(s) if s.controller != expected => {
            Err(StateError::WrongController { path: path.to_owned(), found: s.controller, expected })
        }
        other => Ok(other),
    }
}

/// Write the state file atomically and durably: `<path>.tmp`, fsync, rename over
/// `path`, fsync the directory. When this returns `Ok`, the new state survives a
/// power cut.
pub fn store(path: &Path, state: &State) -> Result<(), StateError> {
    let tmp = tmp_path(path);
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(io_err(&tmp))?;
    f.write_all(state.encode().as_bytes()).map_err(io_err(&tmp))?;
    f.sync_all().map_err(io_err(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(io_err(path))?;
    sync_dir(dir_of(path))
}

fn sync_dir(dir: &Path) -> Result<(), StateError> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(io_err(dir))
}

/// Create `dir` and any missing parents, durably (each new entry's parent fsynced).
fn create_dir_durably(dir: &Path) -> Result<(), StateError> {
    let missing: Vec<&Path> =
        dir.ancestors().take_while(|d| !d.as_os_str().is_empty() && !d.exists()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(io_err(dir))?;
    for d in missing.iter().rev() {
        sync_dir(dir_of(d))?;
    }
    Ok(())
}

/// Count this start of the service: load the state (a fresh one on first boot,
/// creating the directory if needed), add one to the boot counter, store it, and
/// return it. Its `boot_count` is this start's boot id, greater than every earlier
/// one. A corrupt file or one of the other controller is an error and is left as is.
pub fn next_boot(path: &Path, controller: Controller) -> Result<State, StateError> {
    let mut state = match load_for(path, controller)? {
        Some(s) => s,
        None => {
            create_dir_durably(dir_of(path))?;
            State::new(controller)
        }
    };
    state.boot_count = state
        .boot_count
        .checked_add(1)
        .ok_or_else(|| StateError::BootCountExhausted { path: path.to_owned() })?;
    store(path, &state)?;
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> State {
        State { controller: Controller::B, epoch: 17, boot_count: 42, fenced_marker: Some(16) }
    }

    fn dir() -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().expect("tempdir");
        let p = d.path().join("state");
        (d, p)
    }

    fn corrupt(r: Result<Option<State>, StateError>) -> Corruption {
        match r {
            Err(StateError::Corrupt { reason, .. }) => reason,
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn round_trip() {
        let (_d, path) = dir();
        for s in [
            sample(),
            State::new(Controller::A),
            State {
                controller: Controller::A,
                epoch: u64::MAX,
                boot_count: u32::MAX,
                fenced_marker: Some(u64::MAX),
            },
            State { controller: Controller::B, epoch: 0, boot_count: 1, fenced_marker: Some(0) },
        ] {
            store(&path, &s).expect("store");
            assert_eq!(load(&path).expect("load"), Some(s));
            assert_eq!(State::decode(s.encode().as_bytes()), Ok(s));
        }
        assert!(!tmp_path(&path).exists(), "no .tmp left behind");
    }

    #[test]
    fn the_format_is_readable_text() {
        let text = sample().encode();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[..5],
            ["failoverd-state 1", "controller B", "epoch 17", "boot_count 42", "fenced_marker 16"]
        );
        assert!(lines[5].starts_with("checksum ") && lines[5].len() == "checksum ".len() + 16);
    }

    #[test]
    fn missing_file_is_first_boot() {
        let (_d, path) = dir();
        assert_eq!(load(&path).expect("load"), None);
        assert_eq!(load_for(&path, Controller::A).expect("load"), None);
    }

    #[test]
    fn unreadable_file_is_an_io_error_not_first_boot() {
        let (d, _) = dir();
        // A directory where the file should be.
        assert!(matches!(load(d.path()), Err(StateError::Io { .. })));
    }

    #[test]
    fn truncated_at_every_length_is_corrupt() {
        let (_d, path) = dir();
        let full = sample().encode().into_bytes();
        for len in 0..full.len() {
            fs::write(&path, &full[..len]).expect("write");
            corrupt(load(&path));
        }
        fs::write(&path, &full).expect("write");
        assert_eq!(load(&path).expect("whole file"), Some(sample()));
    }

    #[test]
    fn any_flipped_byte_is_corrupt() {
        let (_d, path) = dir();
        let full = sample().encode().into_bytes();
        for i in 0..full.len() {
            for mask in [0x01u8, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80, 0xff] {
                let mut bad = full.clone();
                bad[i] ^= mask;
                fs::write(&path, &bad).expect("write");
                corrupt(load(&path));
            }
        }
    }

    #[test]
    fn extra_bytes_are_corrupt() {
        let (_d, path) = dir();
        let mut text = sample().encode();
        text.push('\n');
        fs::write(&path, &text).expect("write");
        corrupt(load(&path));
        fs::write(&path, format!("{}x", sample().encode())).expect("write");
        corrupt(load(&path));
    }

    #[test]
    fn a_correct_checksum_over_a_malformed_body_is_still_corrupt() {
        let body = "failoverd-state 1\ncontroller A\nepoch 017\nboot_count 1\nfenced_marker none\n";
        let text = format!("{body}checksum {}\n", hex::encode(Digest::of(body.as_bytes()).0));
        assert_eq!(
            State::decode(text.as_bytes()),
            Err(Corruption::Malformed { line: 3, expected: "epoch <u64>" })
        );
        let body = "failoverd-state 1\ncontroller A\nepoch 1\nboot_count 4294967296\nfenced_marker none\n";
        let text = format!("{body}checksum {}\n", hex::encode(Digest::of(body.as_bytes()).0));
        assert!(matches!(State::decode(text.as_bytes()), Err(Corruption::Malformed { line: 4, .. })));
    }

    #[test]
    fn other_files_and_versions_are_named() {
        assert_eq!(State::decode(b"[node]\n"), Err(Corruption::BadMagic));
        assert_eq!(State::decode(b""), Err(Corruption::Empty));
        let v2 = sample().encode().replacen("failoverd-state 1", "failoverd-state 2", 1);
        assert_eq!(State::decode(v2.as_bytes()), Err(Corruption::UnsupportedVersion("2".into())));
    }

    #[test]
    fn a_leftover_tmp_file_is_ignored_and_replaced() {
        let (_d, path) = dir();
        store(&path, &sample()).expect("store");
        fs::write(tmp_path(&path), b"half a write").expect("write");
        assert_eq!(load(&path).expect("load"), Some(sample()));
        let next = State { epoch: 18, ..sample() };
        store(&path, &next).expect("store over the leftover");
        assert_eq!(load(&path).expect("load"), Some(next));
        assert!(!tmp_path(&path).exists());
        // A leftover with no state file at all is still a first boot.
        let (_d2, fresh) = dir();
        fs::write(tmp_path(&fresh), sample().encode()).expect("write");
        assert_eq!(load(&fresh).expect("load"), None);
    }

    #[test]
    fn wrong_controller_is_refused() {
        let (_d, path) = dir();
        store(&path, &sample()).expect("store");
        match load_for(&path, Controller::A) {
            Err(StateError::WrongController { found: Controller::B, expected: Controller::A, .. }) => {}
            other => panic!("{other:?}"),
        }
        assert_eq!(load_for(&path, Controller::B).expect("ours"), Some(sample()));
        assert!(matches!(next_boot(&path, Controller::A), Err(StateError::WrongController { .. })));
        assert_eq!(load(&path).expect("untouched"), Some(sample()));
    }

    #[test]
    fn boot_counter_increments_across_calls_and_keeps_the_rest() {
        let d = tempfile::tempdir().expect("tempdir");
        let path = d.path().join("var/lib/failoverd/state");
        let first = next_boot(&path, Controller::A).expect("first boot creates the directory");
        assert_eq!(first, State { controller: Controller::A, epoch: 0, boot_count: 1, fenced_marker: None });
        store(&path, &State { epoch: 5, fenced_marker: Some(4), ..first }).expect("store");
        let mut last = 1;
        for _ in 0..5 {
            let s = next_boot(&path, Controller::A).expect("boot");
            assert!(s.boot_count > last, "boot ids grow");
            last = s.boot_count;
            assert_eq!((s.epoch, s.fenced_marker), (5, Some(4)));
            assert_eq!(load(&path).expect("load"), Some(s), "stored");
        }
        assert_eq!(last, 6);
    }

    #[test]
    fn a_corrupt_file_is_not_reset_by_next_boot() {
        let (_d, path) = dir();
        fs::write(&path, b"failoverd-state 1\ncontroller A\n").expect("write");
        assert!(matches!(next_boot(&path, Controller::A), Err(StateError::Corrupt { .. })));
        assert_eq!(fs::read(&path).expect("read"), b"failoverd-state 1\ncontroller A\n");
    }

    #[test]
    fn an_exhausted_boot_counter_is_an_error() {
        let (_d, path) = dir();
        store(&path, &State { boot_count: u32::MAX, ..sample() }).expect("store");
        assert!(matches!(next_boot(&path, Controller::B), Err(StateError::BootCountExhausted { .. })));
    }

    #[test]
    fn store_into_a_missing_directory_is_an_io_error() {
        let (d, _) = dir();
        let path = d.path().join("absent/state");
        assert!(matches!(store(&path, &sample()), Err(StateError::Io { .. })));
    }

    #[test]
    fn errors_name_the_file() {
        let (_d, path) = dir();
        fs::write(&path, b"junk").expect("write");
        let e = load(&path).expect_err("corrupt");
        let s = e.to_string();
        assert!(s.contains(path.to_str().expect("utf-8")) && s.contains("not a failoverd state file"), "{s}");
    }
}
