//! Pool-key escrow: the passphrase of the encrypted pools, held in memory only and
//! escrowed into the peer's memory over the authenticated link.
//!
//! - `failoverctl unlock` (API `POST /v1/unlock`) hands the passphrase to this
//!   controller's [`KeyVault`]. It is the key material of every pool configured with
//!   `encrypted = true`: the import hook of such a pool gets it on stdin (never in argv
//!   or the environment). It is never written to disk (the service locks its memory,
//!   see `heartbeat.rs`), and it is wiped when replaced or dropped.
//! - The holder escrows it to the peer host as [`KeyEscrowChunk`]s (see
//!   [`super::sync`] for when), each sealed with `EscrowKey::derive(link key, our host)`
//!   under the nonce `boot id (u32 LE) || counter (u64 LE)`: the boot id grows at every
//!   start (the state file's counter) and the counter at every chunk sealed during this
//!   start, so no nonce ever repeats under our escrow key. (Nonces are ours alone: the
//!   escrow key is per sender, see `failover_core::wire::sync`.) The chunks' `pool` is
//!   [`ALL_POOLS`]: one passphrase for every encrypted pool.
//! - The receiver opens them with `EscrowKey::derive(link key, peer host)`: the node
//!   delivers escrow chunks only from frames whose header names the peer host as the
//!   sender (`HostNode::handle_frame` checks it), so that is the sender of the frame.
//! - If both controllers restart, the key is nowhere: the status reports
//!   `passphrase_needed` until an administrator unlocks again.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use failover_core::wire::{
    Controller, EscrowError, EscrowKey, KEY_CHUNK_LEN, KeyEscrowChunk, MacKey, Sender, Station,
};

/// The `pool` of escrow chunks: the one passphrase of every encrypted pool.
pub const ALL_POOLS: u64 = 0;

/// Longest passphrase accepted, in bytes.
pub const MAX_SECRET_LEN: usize = 1024;

/// Key bytes, wiped when dropped.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Wrap `bytes`.
    pub fn new(bytes: Vec<u8>) -> Self {
        Self(bytes)
    }

    /// The bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret({} bytes)", self.0.len())
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        for b in self.0.iter_mut() {
            // SAFETY: `b` is a valid, aligned, exclusive reference to a byte of our
            // vector; a volatile write keeps the wipe from being optimised away.
            unsafe { std::ptr::write_volatile(b, 0) };
        }
        std::sync::atomic::compiler_fence(Ordering::SeqCst);
    }
}

/// Why an escrow chunk was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EscrowRecvError {
    /// Not for [`ALL_POOLS`].
    #[error("escrow chunk for unknown pool {0}")]
    UnknownPool(u64),
    /// Length or offset out of bounds.
    #[error("escrow chunk out of bounds (total {total}, offset {offset}, {len} bytes)")]
    Bounds {
        /// The announced length.
        total: u16,
        /// The chunk's offset.
        offset: u16,
        /// The chunk's length.
        len: usize,
    },
    /// Did not decrypt: wrong link key or altered.
    #[error("escrow chunk failed authentication")]
    BadTag,
}

#[derive(Debug, Default)]
struct Assembly {
    total: usize,
    buf: Vec<u8>,
    have: Vec<bool>,
    missing: usize,
}

impl Drop for Assembly {
    fn drop(&mut self) {
        drop(Secret(std::mem::take(&mut self.buf)));
    }
}

/// This controller's pool key and its escrow state.
pub struct KeyVault {
    seal_key: EscrowKey,
    open_key: EscrowKey,
    boot_id: u32,
    counter: AtomicU64,
    key: Mutex<Option<(Secret, u64)>>,
    generation: AtomicU64,
    assembly: Mutex<Option<Assembly>>,
}

impl std::fmt::Debug for KeyVault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyVault").field("holds_key", &self.holds_key()).finish_non_exhaustive()
    }
}

impl KeyVault {
    /// The vault of controller `me`'s host in its boot `boot_id`, with link key `link`.
    pub fn new(link: &MacKey, me: Controller, boot_id: u32) -> Self {
        Self {
            seal_key: EscrowKey::derive(link, Sender::new(me, Station::Host)),
            open_key: EscrowKey::derive(link, Sender::new(me.peer(), Station::Host)),
            boot_id,
            counter: AtomicU64::new(0),
            key: Mutex::new(None),
            generation: AtomicU64::new(0),
            assembly: Mutex::new(None),
        }
    }

    /// Whether a key is held.
    pub fn holds_key(&self) -> bool {
        self.key.lock().map(|k| k.is_some()).unwrap_or(false)
    }

    /// The key, if held.
    pub fn key(&self) -> Option<Secret> {
        self.key.lock().ok().and_then(|k| k.as_ref().map(|(s, _)| s.clone()))
    }

    /// Which key is held: a number that changes whenever the key does (0: none yet).
    pub fn generation(&self) -> u64 {
        self.key.lock().ok().and_then(|k| k.as_ref().map(|(_, g)| *g)).unwrap_or(0)
    }

    /// Hold `secret` from now on. Returns whether it differs from the key held before.
    pub fn set(&self, secret: Secret) -> bool {
        let Ok(mut k) = self.key.lock() else { return false };
        if k.as_ref().is_some_and(|(s, _)| *s == secret) {
            return false;
        }
        let generation = self.generation.fetch_add(1, Ordering::Relaxed) + 1;
        *k = Some((secret, generation));
        true
    }

    /// The next nonce: boot id then the per-boot counter, little endian.
    fn next_nonce(&self) -> [u8; 12] {
        let n = self.counter.fetch_add(1, Ordering::Relaxed) + 1;
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.boot_id.to_le_bytes());
        nonce[4..].copy_from_slice(&n.to_le_bytes());
        nonce
    }

    /// The held key sealed as escrow chunks (each under a fresh nonce), first chunk
    /// first; empty without a key.
    pub fn seal_chunks(&self) -> Vec<KeyEscrowChunk> {
        let Some(secret) = self.key() else { return vec![] };
        self.seal(secret.expose()).unwrap_or_default()
    }

    fn seal(&self, key: &[u8]) -> Result<Vec<KeyEscrowChunk>, EscrowError> {
        let total = u16::try_from(key.len()).map_err(|_| EscrowError::TooLong)?;
        key.chunks(KEY_CHUNK_LEN)
            .enumerate()
            .map(|(i, piece)| {
                let offset = u16::try_from(i * KEY_CHUNK_LEN).map_err(|_| EscrowError::TooLong)?;
                self.seal_key.seal(ALL_POOLS, total, offset, self.next_nonce(), piece)
            })
            .collect()
    }

    /// Take one escrow chunk from the peer host. Returns the whole key once every chunk
    /// of it arrived (a chunk at offset 0 starts a new key; chunks may repeat).
    pub fn receive(&self, chunk: &KeyEscrowChunk) -> Result<Option<Secret>, EscrowRecvError> {
        if chunk.pool != ALL_POOLS {
            return Err(EscrowRecvError::UnknownPool(chunk.pool));
        }
        let total = usize::from(chunk.total_len);
        let offset = usize::from(chunk.offset);
        let len = chunk.ciphertext.len();
        let bounds = EscrowRecvError::Bounds { total: chunk.total_len, offset: chunk.offset, len };
        if total == 0 || total > MAX_SECRET_LEN || len == 0 || offset + len > total {
            return Err(bounds);
        }
        let mut plain = Secret(vec![0u8; KEY_CHUNK_LEN]);
        let n = self.open_key.open(chunk, &mut plain.0).map_err(|_| EscrowRecvError::BadTag)?;
        let Ok(mut slot) = self.assembly.lock() else { return Ok(None) };
        if offset == 0 || slot.as_ref().is_none_or(|a| a.total != total) {
            *slot = Some(Assembly { total, buf: vec![0; total], have: vec![false; total], missing: total });
        }
        let Some(a) = slot.as_mut() else { return Ok(None) };
        for (i, b) in plain.0[..n].iter().enumerate() {
            let at = offset + i;
            a.buf[at] = *b;
            if !a.have[at] {
                a.have[at] = true;
                a.missing -= 1;
            }
        }
        if a.missing > 0 {
            return Ok(None);
        }
        let done = slot.take().map(|mut a| Secret(std::mem::take(&mut a.buf)));
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (KeyVault, KeyVault) {
        let link = MacKey::new([5; 32]);
        (KeyVault::new(&link, Controller::A, 7), KeyVault::new(&link, Controller::B, 3))
    }

    #[test]
    fn a_key_escrowed_by_one_host_opens_on_the_other() {
        let (a, b) = pair();
        assert!(a.seal_chunks().is_empty(), "nothing to escrow without a key");
        assert!(a.set(Secret::new(b"correct horse battery staple".to_vec())));
        let chunks = a.seal_chunks();
        assert_eq!(chunks.len(), 1);
        assert_ne!(chunks[0].ciphertext.as_slice(), b"correct horse battery staple");
        let got = b.receive(&chunks[0]).expect("opens").expect("complete");
        assert_eq!(got.expose(), b"correct horse battery staple");
        // The sender cannot open its own chunks (per-sender keys), and neither can a
        // host with another link key.
        assert_eq!(a.receive(&chunks[0]), Err(EscrowRecvError::BadTag));
        let other = KeyVault::new(&MacKey::new([6; 32]), Controller::B, 3);
        assert_eq!(other.receive(&chunks[0]), Err(EscrowRecvError::BadTag));
    }

    #[test]
    fn long_keys_take_several_chunks_in_any_order_and_nonces_never_repeat() {
        let (a, b) = pair();
        let key: Vec<u8> = (0..200u8).collect();
        a.set(Secret::new(key.clone()));
        let first = a.seal_chunks();
        let second = a.seal_chunks();
        assert_eq!(first.len(), 4);
        let mut nonces: Vec<[u8; 12]> = first.iter().chain(&second).map(|c| c.nonce).collect();
        assert!(nonces.iter().all(|n| n[..4] == 7u32.to_le_bytes()), "boot id first");
        nonces.sort_unstable();
        nonces.dedup();
        assert_eq!(nonces.len(), 8, "every chunk sealed under its own nonce");

        // Offset 0 first (it starts a key), then the rest shuffled with a duplicate.
        assert_eq!(b.receive(&first[0]), Ok(None));
        assert_eq!(b.receive(&first[3]), Ok(None));
        assert_eq!(b.receive(&first[3]), Ok(None));
        assert_eq!(b.receive(&first[1]), Ok(None));
        let got = b.receive(&first[2]).expect("opens").expect("complete");
        assert_eq!(got.expose(), key.as_slice());
    }

    #[test]
    fn altered_or_malformed_chunks_are_refused() {
        let (a, b) = pair();
        a.set(Secret::new(b"k".to_vec()));
        let chunk = a.seal_chunks().remove(0);
        let mut bad = chunk.clone();
        bad.ciphertext[0] ^= 1;
        assert_eq!(b.receive(&bad), Err(EscrowRecvError::BadTag));
        let mut pool = chunk.clone();
        pool.pool = 9;
        assert_eq!(b.receive(&pool), Err(EscrowRecvError::UnknownPool(9)));
        let mut long = chunk;
        long.total_len = u16::MAX;
        assert!(matches!(b.receive(&long), Err(EscrowRecvError::Bounds { .. })));
    }

    #[test]
    fn the_generation_changes_with_the_key_only() {
        let (a, _) = pair();
        assert_eq!(a.generation(), 0);
        assert!(a.set(Secret::new(b"one".to_vec())));
        let g = a.generation();
        assert!(!a.set(Secret::new(b"one".to_vec())));
        assert_eq!(a.generation(), g);
        assert!(a.set(Secret::new(b"two".to_vec())));
        assert_ne!(a.generation(), g);
        assert_eq!(format!("{:?}", a.key().expect("key")), "Secret(3 bytes)");
    }
}
