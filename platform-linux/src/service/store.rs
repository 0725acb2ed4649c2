//! [`ConfigStore`]: the one configuration the running service uses, shared by the API,
//! the health reporter, the effects and config sync.
//!
//! The local part never changes while the service runs. The shared part changes when
//! an administrator edits it through the API, or when config sync applies the peer's
//! (see [`super::sync`]). Every change is written back to the configuration file
//! ([`write_config_file`]: atomically, the previous file kept as `<file>.bak`) so a
//! restart keeps it, and announced on a [`watch`] channel: the service's follower task
//! then sends the new failover settings to the node, re-reads local health (so the
//! next heartbeat carries the new digest) and lets the effects adjust the VIPs.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use failover_core::wire::Digest;
use tokio::sync::{Mutex as AsyncMutex, watch};

use crate::config::{Config, SharedConfig};

/// The digest as the logs and errors print it: 16 hex digits.
pub fn hex_digest(d: Digest) -> String {
    hex::encode(d.0)
}

/// A change of the shared configuration, as the watchers see it.
#[derive(Clone, Debug)]
pub struct Change {
    /// The configuration before.
    pub old: Arc<Config>,
    /// The configuration now in force.
    pub new: Arc<Config>,
}

/// Why an edit was not applied.
#[derive(Debug, thiserror::Error)]
pub enum EditError<E> {
    /// The edit itself refused (a bad value).
    #[error("{0}")]
    Refused(E),
    /// The file could not be written; nothing changed.
    #[error("the configuration file {path} was not written: {source}")]
    Persist {
        /// The configuration file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// The running service's configuration.
#[derive(Debug)]
pub struct ConfigStore {
    path: PathBuf,
    current: RwLock<Arc<Config>>,
    changes: watch::Sender<Option<Change>>,
    /// Serialises edits and file writes, so the file always ends with the last change.
    writer: AsyncMutex<()>,
}

impl ConfigStore {
    /// A store for `config`, loaded from (and written back to) `path`.
    pub fn new(path: impl Into<PathBuf>, config: Config) -> Self {
        let (changes, _) = watch::channel(None);
        Self {
            path: path.into(),
            current: RwLock::new(Arc::new(config)),
            changes,
            writer: AsyncMutex::new(()),
        }
    }

    /// The configuration file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The configuration in force now.
    pub fn get(&self) -> Arc<Config> {
        self.current.read().map(|c| c.clone()).unwrap_or_else(|p| p.into_inner().clone())
    }

    /// The digest of the shared part in force now.
    pub fn digest(&self) -> Digest {
        self.get().shared.digest()
    }

    /// Changes from now on (the last one is the current value of the channel).
    pub fn subscribe(&self) -> watch::Receiver<Option<Change>> {
        self.changes.subscribe()
    }

    fn swap(&self, new: Config) -> Change {
        let new = Arc::new(new);
        let old = {
            let mut cur = self.current.write().unwrap_or_else(|p| p.into_inner());
            std::mem::replace(&mut *cur, new.clone())
        };
        let change = Change { old, new };
        self.changes.send_replace(Some(change.clone()));
        change
    }

    async fn persist(&self, config: &Config, note: &str) -> io::Result<()> {
        let text = format!("{note}{}", config.to_toml());
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || write_config_file(&path, &text))
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e)))
    }

    /// An administrator's edit of the shared part: `edit` changes a copy; the file is
    /// written first, and only if that worked does the edit take effect. Returns the
    /// change (or `None` when the edit changed nothing).
    pub async fn edit_shared<E>(
        &self,
        edit: impl FnOnce(&mut SharedConfig) -> Result<(), E>,
    ) -> Result<Option<Change>, EditError<E>> {
        let _w = self.writer.lock().await;
        let mut next = (*self.get()).clone();
        edit(&mut next.shared).map_err(EditError::Refused)?;
        if next.shared == self.get().shared {
            return Ok(None);
        }
        let note = format!(
            "# Written by failoverd after an edit through its API (shared digest {}).\n\
             # The previous file is kept as {}.bak.\n\n",
            hex_digest(next.shared.digest()),
            self.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
        );
        self.persist(&next, &note)
            .await
            .map_err(|source| EditError::Persist { path: self.path.clone(), source })?;
        Ok(Some(self.swap(next)))
    }

    /// Replace the shared part with one received from the peer (already checked). It
    /// takes effect even if the file cannot be written (the controllers must agree now;
    /// the active pushes again after a restart), which is logged as an error.
    pub async fn replace_shared(&self, shared: SharedConfig, why: &str) -> Change {
        let _w = self.writer.lock().await;
        let mut next = (*self.get()).clone();
        next.shared = shared;
        let note = format!(
            "# Written by failoverd: {why} (shared digest {}).\n\
             # The previous file is kept as {}.bak.\n\n",
            hex_digest(next.shared.digest()),
            self.path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default(),
        );
        if let Err(e) = self.persist(&next, &note).await {
            tracing::error!(
                file = %self.path.display(), error = %e,
                "configuration applied in memory but NOT written to the file: a restart would bring back the old one"
            );
        }
        self.swap(next)
    }
}

fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(suffix);
    path.with_file_name(name)
}

fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

fn write_durably(path: &Path, bytes: &[u8], mode: u32) -> io::Result<()> {
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(path)?;
    // `mode` only applies to a new file; a leftover one keeps its own.
    f.set_permissions(fs::Permissions::from_mode(mode))?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// Rewrite the configuration file `path` with `text`, atomically and durably: the
/// current file is first copied to `<path>.bak` (through `<path>.bak.tmp`, fsynced and
/// renamed), then `text` goes to `<path>.tmp`, is fsynced and renamed over `path`, and
/// the directory is fsynced. The new file keeps the old one's permissions (0600 for a
/// new file: it names the link key file). After a crash at any point `path` is either
/// the old or the new file, whole.
pub fn write_config_file(path: &Path, text: &str) -> io::Result<()> {
    let dir = dir_of(path);
    let mode = match fs::metadata(path) {
        Ok(m) => {
            let mode = m.permissions().mode() & 0o7777;
            let bak_tmp = sibling(path, ".bak.tmp");
            write_durably(&bak_tmp, &fs::read(path)?, mode)?;
            fs::rename(&bak_tmp, sibling(path, ".bak"))?;
            mode
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => 0o600,
        Err(e) => return Err(e),
    };
    let tmp = sibling(path, ".tmp");
    write_durably(&tmp, text.as_bytes(), mode)?;
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewriting_keeps_the_previous_file_and_its_mode() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("failoverd.toml");
        fs::write(&path, "old = 1\n").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).expect("chmod");
        write_config_file(&path, "new = 2\n").expect("rewrite");
        assert_eq!(fs::read_to_string(&path).expect("read"), "new = 2\n");
        assert_eq!(fs::read_to_string(dir.path().join("failoverd.toml.bak")).expect("bak"), "old = 1\n");
        assert_eq!(fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o640);
        assert!(!dir.path().join("failoverd.toml.tmp").exists());
        assert!(!dir.path().join("failoverd.toml.bak.tmp").exists());
        // A second rewrite keeps only the one before it.
        write_config_file(&path, "newer = 3\n").expect("rewrite");
        assert_eq!(fs::read_to_string(dir.path().join("failoverd.toml.bak")).expect("bak"), "new = 2\n");
    }

    #[test]
    fn a_missing_file_is_created_private() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("new.toml");
        write_config_file(&path, "x = 1\n").expect("write");
        assert_eq!(fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        assert!(!dir.path().join("new.toml.bak").exists());
    }
}
