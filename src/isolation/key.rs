//! The per-page-load AES-256-GCM key.
//!
//! Invariants:
//! - made only from the OS RNG, by the core, once per main-frame page load;
//! - the raw bytes leave the core exactly once, inside the isolation document
//!   (see [`super::session`]); the frame imports them as a non-extractable
//!   `CryptoKey` and overwrites its copy;
//! - the core's copy (raw bytes and the expanded AES-GCM key) is wiped
//!   when replaced or dropped; neither type has `Clone`, and the raw bytes
//!   print as `Key(..)`.

use std::mem::MaybeUninit;

use rand::RngCore;
use ring::aead::{Aad, LessSafeKey, Nonce, Tag, UnboundKey, AES_256_GCM};
use zeroize::Zeroizing;

/// AES-256: 32 bytes.
pub(crate) const KEY_LEN: usize = 32;

/// Raw key bytes on their way to the isolation document.
pub(crate) struct KeyBytes(Zeroizing<[u8; KEY_LEN]>);

impl KeyBytes {
    /// A fresh key from the operating system's RNG.
    pub(crate) fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        rand::rngs::OsRng.fill_bytes(bytes.as_mut_slice());
        Self(bytes)
    }

    #[cfg(any(test, feature = "fuzz-targets"))]
    pub(crate) fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    pub(crate) fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// The expanded cipher, wiped when dropped.
    pub(crate) fn cipher(&self) -> Cipher {
        Cipher::new(&self.0)
    }
}

/// AES-256-GCM under one page load's key: what the core opens envelopes
/// with. ring's implementation (AES-NI and carry-less multiplication over
/// several blocks at once): a 10 MiB envelope opens in ~1.2 ms on the bench
/// machine, against ~7.2 ms with `aes-gcm` 0.10 (`docs/bench.md`).
///
/// Invariant: the expanded key (AES round keys, the GHASH key) lives only
/// here and is wiped when the cipher is dropped. ring does not wipe its own
/// keys, so the key is held as `MaybeUninit` (any bytes are valid there)
/// and its bytes are zeroed in place in `drop`; ring's key holds nothing
/// that needs dropping (checked at compile time), so not dropping it loses
/// nothing.
pub(crate) struct Cipher(MaybeUninit<LessSafeKey>);

const _: () = assert!(!std::mem::needs_drop::<LessSafeKey>());

/// Why a sealed message did not open: opaque on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct OpenFailed;

impl Cipher {
    fn new(key: &[u8; KEY_LEN]) -> Self {
        // AES-256-GCM takes exactly KEY_LEN bytes: this cannot fail.
        #[allow(
            clippy::expect_used,
            reason = "ring refuses only a key of the wrong length, and the type fixes it"
        )]
        let key = UnboundKey::new(&AES_256_GCM, key).expect("a 32-byte AES-256 key");
        Self(MaybeUninit::new(LessSafeKey::new(key)))
    }

    #[allow(
        unsafe_code,
        reason = "the key is a MaybeUninit so that its drop can wipe it; its SAFETY comment says why reading it is sound"
    )]
    fn key(&self) -> &LessSafeKey {
        // SAFETY: written in `new`, and zeroed only in `drop`, after which
        // nothing can borrow it.
        unsafe { self.0.assume_init_ref() }
    }

    /// Authenticates `msg` and `aad` against `tag` and decrypts `msg` in
    /// place. ring decrypts as it authenticates: on failure every byte of
    /// `msg` is zeroed, so a forgery's bytes are never read as plaintext.
    pub(crate) fn open_in_place(
        &self,
        nonce: [u8; 12],
        aad: &[u8],
        msg: &mut [u8],
        tag: &[u8],
    ) -> Result<(), OpenFailed> {
        let tag = Tag::try_from(tag).map_err(|_| OpenFailed)?;
        self.key()
            .open_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                tag,
                msg,
                0..,
            )
            .map(|_| ())
            .map_err(|_| OpenFailed)
    }

    /// `plaintext` sealed: the ciphertext, then the tag. Only tests and
    /// fuzz targets seal; the isolation frame does in production.
    #[cfg(any(test, feature = "fuzz-targets"))]
    pub(crate) fn seal(&self, nonce: [u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut out = plaintext.to_vec();
        #[allow(clippy::expect_used, reason = "tests and fuzz targets only")]
        let tag = self
            .key()
            .seal_in_place_separate_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad),
                &mut out,
            )
            .expect("AES-GCM sealing of an in-memory buffer cannot fail");
        out.extend_from_slice(tag.as_ref());
        out
    }
}

impl Drop for Cipher {
    #[allow(
        unsafe_code,
        reason = "wiping ring's key in place; its SAFETY comment says why it is sound"
    )]
    fn drop(&mut self) {
        // SAFETY: `self.0` is this cipher's own key, borrowed by nothing
        // (this is its drop) and never read again; a `MaybeUninit` may hold
        // any bytes, zeroes included; and the key needs no drop of its own
        // (the assertion above), so it is never dropped after the wipe.
        unsafe { zeroize::zeroize_flat_type(&mut self.0) }
    }
}

impl std::fmt::Debug for KeyBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_debug_reveals_nothing() {
        let key = KeyBytes::from_bytes([0xAB; KEY_LEN]);
        assert_eq!(format!("{key:?}"), "Key(..)");
    }

    /// A cipher's bytes are zero once it is dropped (read back in place:
    /// `drop_in_place` runs its `drop` without freeing its storage).
    #[test]
    #[allow(unsafe_code, reason = "reading a dropped cipher's storage")]
    fn a_dropped_cipher_leaves_zeroes() {
        let mut slot = MaybeUninit::new(KeyBytes::from_bytes([0x5a; KEY_LEN]).cipher());
        let bytes = |s: &MaybeUninit<Cipher>| {
            // SAFETY: `s` is a cipher's storage, every byte of it written
            // (by `new`, or zeroed by its drop); read as bytes only.
            unsafe { std::slice::from_raw_parts(s.as_ptr().cast::<u8>(), size_of::<Cipher>()) }
                .to_vec()
        };
        assert!(bytes(&slot).iter().any(|&b| b != 0));
        // SAFETY: the cipher in `slot` is initialised and dropped once.
        unsafe { slot.assume_init_drop() };
        assert!(bytes(&slot).iter().all(|&b| b == 0));
    }

    /// ring's AES-256-GCM against the known answer computed with Python's
    /// `cryptography` package (see `envelope_kat.hex`), both ways.
    #[test]
    fn seals_and_opens_as_aes_256_gcm() {
        let c = KeyBytes::from_bytes(std::array::from_fn(|i| i as u8)).cipher();
        let nonce = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
        let sealed = c.seal(nonce, b"ad", b"plain");
        let (mut msg, tag) = (sealed[..5].to_vec(), &sealed[5..]);
        assert_eq!(c.open_in_place(nonce, b"ad", &mut msg, tag), Ok(()));
        assert_eq!(msg, b"plain");
        let mut forged = sealed[..5].to_vec();
        assert_eq!(
            c.open_in_place(nonce, b"AD", &mut forged, tag),
            Err(OpenFailed)
        );
        assert_eq!(
            forged, [0; 5],
            "a forgery's bytes are zeroed, never plaintext"
        );
    }

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            KeyBytes::generate().as_bytes(),
            KeyBytes::generate().as_bytes()
        );
    }
}
