//! Sync: configuration pushes and pool-key escrow, both chunked to fit a frame.
//!
//! The active pushes its configuration to the standby whenever the digests in the
//! heartbeats differ; the standby reassembles the chunks and checks the digest before
//! applying anything. Pool encryption keys live only in memory; the active escrows them
//! into the standby's memory so a takeover can unlock the pools. Key chunks are
//! encrypted (ChaCha20-Poly1305) under a key derived from the link key, so a frame
//! capture on the link never reveals pool keys, even though the link MAC already stops
//! forgery.
//!
//! # Escrow keys and nonces
//! ChaCha20-Poly1305 loses confidentiality and integrity if one key ever encrypts two
//! messages under one nonce. The link key is shared by all four stations and nonces are
//! built from a boot id and a sequence number, which different senders repeat (both
//! hosts start at sequence 1, their boot counters overlap). So the escrow key is
//! **per sender**: [`EscrowKey::derive`] takes the sending station, and a receiver
//! derives the key with the sender named in the frame header. Under one sender's key the
//! nonce is `boot id (u32 LE) || seq (u64 LE)` of the frame that carries the chunk:
//! boot ids are monotonic per sender ([`super::replay`]), sequence numbers strictly
//! increase within a boot, and escrow chunks only ever go to one recipient (the peer
//! host), whose sequence is the one used ([`super::Endpoint::next_seq`]). Build the
//! nonce from `next_seq(peer host)` right before sealing the frame; a frame that failed
//! to seal did not consume its number, so seal the same chunk again rather than a new
//! one under that nonce.

use chacha20poly1305::aead::AeadInOut;
use chacha20poly1305::{ChaCha20Poly1305, KeyInit};
use heapless::Vec;
use postcard::experimental::max_size::MaxSize;
use serde::{Deserialize, Serialize};

use super::{Digest, MacKey, Sender};

/// Configuration bytes per [`ConfigChunk`].
pub const CONFIG_CHUNK_LEN: usize = 160;
/// Key bytes per [`KeyEscrowChunk`] (a 32-byte raw key or a 64-byte hex key fits in one).
pub const KEY_CHUNK_LEN: usize = 64;

/// One chunk of a configuration push.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub struct ConfigChunk {
    /// Digest of the whole configuration being pushed (identifies the push).
    pub digest: Digest,
    /// Length of the whole configuration in bytes.
    pub total_len: u32,
    /// Offset of this chunk's data in the configuration.
    pub offset: u32,
    /// The chunk's bytes.
    pub data: Vec<u8, CONFIG_CHUNK_LEN>,
}

/// One encrypted chunk of a pool key held in escrow by the peer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, MaxSize)]
pub struct KeyEscrowChunk {
    /// The pool's GUID.
    pub pool: u64,
    /// Length of the whole key in bytes.
    pub total_len: u16,
    /// Offset of this chunk in the key.
    pub offset: u16,
    /// AEAD nonce; never repeated under one sender's [`EscrowKey`] (senders use the boot
    /// id and sequence number of the carrying frame, see the module docs).
    pub nonce: [u8; 12],
    /// The encrypted chunk.
    pub ciphertext: Vec<u8, KEY_CHUNK_LEN>,
    /// The AEAD tag over the ciphertext and (pool, total_len, offset).
    pub tag: [u8; 16],
}

/// Why an escrow chunk could not be sealed or opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EscrowError {
    /// The plaintext is longer than [`KEY_CHUNK_LEN`], or the output buffer is too small.
    TooLong,
    /// The tag does not match: wrong key, or the chunk was altered.
    BadTag,
}

impl core::fmt::Display for EscrowError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::TooLong => "escrow chunk longer than its buffer",
            Self::BadTag => "escrow chunk failed authentication",
        })
    }
}

/// The key that encrypts the pool keys one station escrows, derived from the link
/// [`MacKey`] and the sending station, so the controllers share it without another
/// secret to provision and no two senders share a key (or a nonce space).
#[derive(Clone)]
pub struct EscrowKey([u8; 32]);

impl core::fmt::Debug for EscrowKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("EscrowKey(..)")
    }
}

impl EscrowKey {
    /// Derive the escrow key of chunks sent by `sender` from the link key: keyed
    /// BLAKE2s-256 of the fixed label `failover pool-key escrow v1` followed by the
    /// sender byte ([`Sender::to_byte`]). A different purpose or sender gives an
    /// independent key. The sender seals with its own identity; the receiver opens with
    /// the sender named in the frame header.
    pub fn derive(link: &MacKey, sender: Sender) -> Self {
        Self(link.derive(&[b"failover pool-key escrow v1", &[sender.to_byte()]]))
    }

    fn aad(pool: u64, total_len: u16, offset: u16) -> [u8; 12] {
        let mut aad = [0u8; 12];
        aad[0..8].copy_from_slice(&pool.to_le_bytes());
        aad[8..10].copy_from_slice(&total_len.to_le_bytes());
        aad[10..12].copy_from_slice(&offset.to_le_bytes());
        aad
    }

    /// Encrypt `plain` (part of pool `pool`'s key starting at `offset`) into a chunk.
    pub fn seal(
        &self,
        pool: u64,
        total_len: u16,
        offset: u16,
        nonce: [u8; 12],
        plain: &[u8],
    ) -> Result<KeyEscrowChunk, EscrowError> {
        let mut ciphertext: Vec<u8, KEY_CHUNK_LEN> =
            Vec::from_slice(plain).map_err(|_| EscrowError::TooLong)?;
        let cipher = ChaCha20Poly1305::new(&self.0.into());
        let tag = cipher
            .encrypt_inout_detached(
                &nonce.into(),
                &Self::aad(pool, total_len, offset),
                ciphertext.as_mut_slice().into(),
            )
            .map_err(|_| EscrowError::TooLong)?;
        Ok(KeyEscrowChunk { pool, total_len, offset, nonce, ciphertext, tag: tag.into() })
    }

    /// Decrypt `chunk` into `out`, returning the number of plaintext bytes.
    pub fn open(&self, chunk: &KeyEscrowChunk, out: &mut [u8]) -> Result<usize, EscrowError> {
        let n = chunk.ciphertext.len();
        let dst = out.get_mut(..n).ok_or(EscrowError::TooLong)?;
        dst.copy_from_slice(&chunk.ciphertext);
        let cipher = ChaCha20Poly1305::new(&self.0.into());
        cipher
            .decrypt_inout_detached(
                &chunk.nonce.into(),
                &Self::aad(chunk.pool, chunk.total_len, chunk.offset),
                dst.into(),
                &chunk.tag.into(),
            )
            .map_err(|_| {
                dst.fill(0);
                EscrowError::BadTag
            })?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::wire::{Controller, Station};

    const HOST_A: Sender = Sender::new(Controller::A, Station::Host);

    #[test]
    fn escrow_round_trips_and_detects_tampering() {
        let key = EscrowKey::derive(&MacKey::new([7; 32]), HOST_A);
        let chunk = key.seal(42, 5, 0, [1; 12], b"hello").unwrap();
        assert_ne!(chunk.ciphertext.as_slice(), b"hello");
        let mut out = [0u8; 64];
        assert_eq!(key.open(&chunk, &mut out), Ok(5));
        assert_eq!(&out[..5], b"hello");

        let mut moved = chunk.clone();
        moved.pool = 43; // same ciphertext claimed for another pool
        assert_eq!(key.open(&moved, &mut out), Err(EscrowError::BadTag));
        let mut flipped = chunk.clone();
        flipped.ciphertext[0] ^= 1;
        assert_eq!(key.open(&flipped, &mut out), Err(EscrowError::BadTag));
        let other = EscrowKey::derive(&MacKey::new([8; 32]), HOST_A);
        assert_eq!(other.open(&chunk, &mut out), Err(EscrowError::BadTag));
        assert_eq!(key.open(&chunk, &mut [0u8; 4]), Err(EscrowError::TooLong));
        assert_eq!(key.seal(1, 65, 0, [0; 12], &[0; 65]).err(), Some(EscrowError::TooLong));
    }

    #[test]
    fn each_sender_has_its_own_escrow_key() {
        // The same nonce and plaintext from two senders: different ciphertexts, and
        // neither opens under the other's key.
        let link = MacKey::new([7; 32]);
        let keys = Sender::ALL.map(|s| EscrowKey::derive(&link, s));
        let chunks = keys.each_ref().map(|k| k.seal(42, 5, 0, [1; 12], b"hello").unwrap());
        let mut out = [0u8; 64];
        for (i, key) in keys.iter().enumerate() {
            for (j, chunk) in chunks.iter().enumerate() {
                if i == j {
                    assert_eq!(key.open(chunk, &mut out), Ok(5));
                } else {
                    assert_ne!(chunks[i].ciphertext, chunk.ciphertext);
                    assert_eq!(key.open(chunk, &mut out), Err(EscrowError::BadTag));
                }
            }
        }
    }
}
