//! The sealed call: what the isolation frame produces and the core opens.
//!
//! Wire format (all of it is authenticated):
//! ```text
//! offset 0  version   u8      = 1            (also in the AAD)
//! offset 1  counter   u64 BE  >= 1           (nonce = 00 00 00 00 || counter; also in the AAD)
//! offset 9  ciphertext || 16-byte GCM tag    (plaintext: UTF-8 JSON {"id","cmd","args"})
//! ```
//! The whole call — command, call id and arguments — is one plaintext, so a
//! captured ciphertext cannot be re-labelled as another command (a weakness of
//! Tauri 2, which encrypts only the arguments).
//!
//! The counter is the GCM nonce: a repeated counter under one key reveals the
//! XOR of two plaintexts and lets an attacker forge tags, so the key is
//! replaced on every page load and handed out once (see [`super::session`]),
//! and the frame never reuses a counter under the key it holds.

use super::key::{Cipher, OpenFailed};

/// The only format version this core accepts.
pub(crate) const VERSION: u8 = 1;
/// version + counter.
pub(crate) const HEADER_LEN: usize = 9;
/// GCM tag length: the frame uses the WebCrypto default of 128 bits.
pub(crate) const TAG_LEN: usize = 16;
/// The GCM nonce: 4 zero bytes, then the counter (big-endian). A counter is
/// never reused under a key, so neither is a nonce.
const NONCE_LEN: usize = 12;

/// Why bytes were not recognised as an envelope. All of these map to the
/// page-facing code `not_an_envelope`; the variant goes only to the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EnvelopeError {
    /// The script-message text form did not decode as base64.
    BadEncoding,
    Empty,
    TooShort {
        len: usize,
    },
    TooLarge {
        len: usize,
        max: usize,
    },
    UnknownVersion {
        version: u8,
    },
    /// The transport could not read the request body.
    Unreadable(String),
    /// More envelopes in one script message than the transport carries
    /// (`ipc::limits::BATCH_MAX`); those past it are refused.
    PastBatch {
        max: usize,
    },
}

impl std::fmt::Display for EnvelopeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvelopeError::BadEncoding => f.write_str("not valid base64"),
            EnvelopeError::Empty => f.write_str("empty body"),
            EnvelopeError::TooShort { len } => write!(
                f,
                "{len} bytes is shorter than header and tag ({} bytes)",
                HEADER_LEN + TAG_LEN
            ),
            EnvelopeError::TooLarge { len, max } => {
                write!(f, "{len} bytes is over the limit of {max} bytes")
            }
            EnvelopeError::UnknownVersion { version } => write!(f, "unknown version {version}"),
            EnvelopeError::Unreadable(e) => write!(f, "the request body could not be read: {e}"),
            EnvelopeError::PastBatch { max } => {
                write!(f, "more than {max} envelopes in one message")
            }
        }
    }
}

/// A recognised but not yet authenticated envelope, in a buffer its
/// caller owns. Nothing in it may be trusted until [`Envelope::open`]
/// succeeds, which decrypts in that buffer: a call's bytes are held once,
/// however large (the transport's body becomes the plaintext). The caller
/// wipes the buffer when it is done with the plaintext.
#[derive(Debug)]
pub(crate) struct Envelope<'a> {
    header: [u8; HEADER_LEN],
    counter: u64,
    /// Ciphertext, then the tag.
    sealed: &'a mut [u8],
}

impl<'a> Envelope<'a> {
    /// Recognises the whole message before acting on any of it: length,
    /// version, counter, then the ciphertext with its tag.
    pub(crate) fn parse(bytes: &'a mut [u8], max_len: usize) -> Result<Self, EnvelopeError> {
        if bytes.is_empty() {
            return Err(EnvelopeError::Empty);
        }
        if bytes.len() > max_len {
            return Err(EnvelopeError::TooLarge {
                len: bytes.len(),
                max: max_len,
            });
        }
        if bytes.len() < HEADER_LEN + TAG_LEN {
            return Err(EnvelopeError::TooShort { len: bytes.len() });
        }
        let (head, sealed) = bytes.split_at_mut(HEADER_LEN);
        if head[0] != VERSION {
            return Err(EnvelopeError::UnknownVersion { version: head[0] });
        }
        let mut header = [0u8; HEADER_LEN];
        header.copy_from_slice(head);
        let mut counter = [0u8; 8];
        counter.copy_from_slice(&header[1..HEADER_LEN]);
        Ok(Self {
            header,
            counter: u64::from_be_bytes(counter),
            sealed,
        })
    }

    /// The claimed counter. Unauthenticated until `open` succeeds; use it
    /// before that only to refuse obvious replays early.
    pub(crate) fn counter(&self) -> u64 {
        self.counter
    }

    /// Authenticates and decrypts in place: the plaintext, in the
    /// envelope's own buffer. A forgery's bytes are zeroed and never
    /// returned ([`Cipher::open_in_place`]). The error is opaque on purpose:
    /// the page must not learn which part of a forged envelope was wrong.
    pub(crate) fn open(self, cipher: &Cipher) -> Result<&'a [u8], OpenFailed> {
        let at = self.sealed.len() - TAG_LEN;
        let (msg, tag) = self.sealed.split_at_mut(at);
        cipher.open_in_place(nonce(self.counter), &self.header, msg, tag)?;
        Ok(msg)
    }
}

fn nonce(counter: u64) -> [u8; NONCE_LEN] {
    let mut n = [0u8; NONCE_LEN];
    n[4..].copy_from_slice(&counter.to_be_bytes());
    n
}

/// Seals like the isolation frame does. The core never seals calls in
/// production; this exists for tests and for checking the JS side's format.
#[cfg(any(test, feature = "fuzz-targets"))]
pub(crate) fn seal(cipher: &Cipher, counter: u64, plaintext: &[u8]) -> Vec<u8> {
    let mut header = [0u8; HEADER_LEN];
    header[0] = VERSION;
    header[1..].copy_from_slice(&counter.to_be_bytes());
    let sealed = cipher.seal(nonce(counter), &header, plaintext);
    let mut out = header.to_vec();
    out.extend_from_slice(&sealed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolation::key::KeyBytes;

    const MAX: usize = 1 << 20;

    fn cipher(byte: u8) -> Cipher {
        KeyBytes::from_bytes([byte; 32]).cipher()
    }

    /// Known-answer vector computed independently with Python's
    /// `cryptography` package (AESGCM(key=bytes(range(32))), nonce =
    /// 00000000 || 0000000000000001, aad = 01 || 0000000000000001,
    /// plaintext = b'{"id":1,"cmd":"greet","args":{}}').
    #[test]
    fn known_answer_vector() {
        let key: [u8; 32] = std::array::from_fn(|i| i as u8);
        let c = KeyBytes::from_bytes(key).cipher();
        let mut sealed = seal(&c, 1, br#"{"id":1,"cmd":"greet","args":{}}"#);
        assert_eq!(hex(&sealed), KAT_HEX);
        let env = Envelope::parse(&mut sealed, MAX).unwrap();
        assert_eq!(env.counter(), 1);
        assert_eq!(
            env.open(&c).unwrap(),
            br#"{"id":1,"cmd":"greet","args":{}}"#
        );
    }

    const KAT_HEX: &str = include_str!("envelope_kat.hex");

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn round_trip() {
        let c = cipher(1);
        let mut sealed = seal(&c, 42, b"hello");
        let env = Envelope::parse(&mut sealed, MAX).unwrap();
        assert_eq!(env.counter(), 42);
        assert_eq!(env.open(&c).unwrap(), b"hello");
        assert_eq!(
            &sealed[HEADER_LEN..HEADER_LEN + 5],
            b"hello",
            "opened in place"
        );
    }

    #[test]
    fn envelope_under_other_key_is_rejected() {
        let mut sealed = seal(&cipher(1), 1, b"hello");
        let env = Envelope::parse(&mut sealed, MAX).unwrap();
        assert!(env.open(&cipher(2)).is_err());
        assert_eq!(
            &sealed[HEADER_LEN..HEADER_LEN + 5],
            [0; 5],
            "a forgery's bytes are zeroed, never left decrypted"
        );
    }

    #[test]
    fn tampering_any_byte_is_rejected() {
        let c = cipher(3);
        let sealed = seal(&c, 9, b"{\"id\":1}");
        for i in 1..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 0x01;
            let env = Envelope::parse(&mut t, MAX).unwrap();
            assert!(env.open(&c).is_err(), "flipping byte {i} went unnoticed");
        }
    }

    #[test]
    fn counter_rewritten_in_header_is_rejected() {
        let c = cipher(4);
        let mut sealed = seal(&c, 5, b"x");
        sealed[8] = 6;
        let env = Envelope::parse(&mut sealed, MAX).unwrap();
        assert_eq!(env.counter(), 6);
        assert!(env.open(&c).is_err());
    }

    #[test]
    fn truncation_is_rejected() {
        let c = cipher(5);
        let sealed = seal(&c, 1, b"some plaintext");
        for len in 0..sealed.len() {
            let mut t = sealed[..len].to_vec();
            match Envelope::parse(&mut t, MAX) {
                Ok(env) => assert!(env.open(&c).is_err(), "truncated to {len} opened"),
                Err(e) => assert!(len < HEADER_LEN + TAG_LEN, "{len}: {e}"),
            }
        }
    }

    #[test]
    fn unknown_version_is_not_an_envelope() {
        let mut sealed = seal(&cipher(6), 1, b"x");
        sealed[0] = 2;
        assert_eq!(
            Envelope::parse(&mut sealed, MAX).unwrap_err(),
            EnvelopeError::UnknownVersion { version: 2 }
        );
    }

    #[test]
    fn empty_and_oversized_bodies_are_not_envelopes() {
        assert_eq!(
            Envelope::parse(&mut [], MAX).unwrap_err(),
            EnvelopeError::Empty
        );
        let mut big = vec![1u8; 100];
        assert_eq!(
            Envelope::parse(&mut big, 99).unwrap_err(),
            EnvelopeError::TooLarge { len: 100, max: 99 }
        );
    }
}
