//! The per-page-load AES-256-GCM key.
//!
//! Invariants:
//! - made only from the OS RNG, by the core, once per main-frame page load;
//! - the raw bytes leave the core exactly once, inside the isolation document
//!   (see [`super::session`]); the frame imports them as a non-extractable
//!   `CryptoKey` and overwrites its copy;
//! - the core's copy (raw bytes and the expanded AES key schedule) is wiped
//!   when replaced or dropped; the type has no `Clone` and prints as `Key(..)`.

use aes_gcm::{Aes256Gcm, KeyInit};
use rand::RngCore;
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

    /// The expanded cipher; `aes-gcm`'s `zeroize` feature wipes its key
    /// schedule on drop.
    pub(crate) fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(self.0.as_slice().into())
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

    #[test]
    fn generated_keys_differ() {
        assert_ne!(
            KeyBytes::generate().as_bytes(),
            KeyBytes::generate().as_bytes()
        );
    }
}
