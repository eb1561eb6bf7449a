//! One isolation session per main-frame page load: the key, its one-shot
//! hand-out, and the replay window.
//!
//! Why rotate per page load: the frame's counter (the GCM nonce) starts at 1
//! in every new frame. If a reloaded or re-created frame got the same key, its
//! counters would repeat nonces. So every main-frame load mints a new key and
//! a new window, and the previous key stops opening anything.
//!
//! Why hand out once: a second isolation frame made by page script would
//! otherwise receive the same key and start its own counter at 1 — a nonce
//! reuse the attacker controls. The first request for the isolation document
//! after a load takes the key; later requests get a document with none, and
//! that frame answers every call with `no_key`.

use std::sync::{Arc, Mutex, MutexGuard};

use super::envelope::Envelope;
use super::key::KeyBytes;
use super::replay::{ReplayError, ReplayWindow};

/// Why an envelope that parsed was still refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OpenError {
    /// Not sealed under this page load's key: forged, tampered, truncated,
    /// from an older page load, or from a frame that never had the key.
    DecryptFailed,
    Replayed(ReplayError),
}

/// An envelope that opened: its plaintext, and the page load (epoch) whose
/// key sealed it.
pub(crate) struct Opened<'a> {
    pub(crate) plaintext: &'a [u8],
    pub(crate) epoch: u64,
}

impl std::fmt::Debug for Opened<'_> {
    /// The plaintext is the page's call: never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "Opened(epoch {}, {} bytes)",
            self.epoch,
            self.plaintext.len()
        )
    }
}

struct Current {
    /// New on every rotation (unique across windows), so a decryption done
    /// under an old key cannot record its counter in the new window.
    epoch: u64,
    cipher: Arc<super::key::Cipher>,
    /// `Some` from rotation until the isolation document takes it.
    handout: Option<KeyBytes>,
    window: ReplayWindow,
}

/// Shared between the GTK thread (rotation, hand-out) and the tokio workers
/// (opening envelopes).
pub(crate) struct Session {
    current: Mutex<Current>,
}

/// Page loads of every window, numbered in one sequence: an epoch names
/// one page load of one window, so nothing keyed by it (a program, a
/// grant, a channel) can be reached from another window's page.
static NEXT_EPOCH: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);

fn next_epoch() -> u64 {
    NEXT_EPOCH.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Session {
    pub(crate) fn new() -> Self {
        let key = KeyBytes::generate();
        Self {
            current: Mutex::new(Current {
                epoch: next_epoch(),
                cipher: Arc::new(key.cipher()),
                handout: Some(key),
                window: ReplayWindow::new(),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Current> {
        // A panic while holding this lock cannot leave `Current` half
        // updated (every update is a plain field store), so a poisoned lock
        // is still consistent.
        self.current.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A new main-frame page load: new key, new window. The old cipher is
    /// dropped (and wiped) once no in-flight decryption holds it.
    pub(crate) fn rotate(&self) {
        let key = KeyBytes::generate();
        let mut cur = self.lock();
        cur.epoch = next_epoch();
        cur.cipher = Arc::new(key.cipher());
        cur.handout = Some(key);
        cur.window = ReplayWindow::new();
    }

    /// Which page load this is: new on every rotation, and never another
    /// window's. A reply made for
    /// a call of an older page load must not reach the page shown now,
    /// whose call ids start again at 1.
    pub(crate) fn epoch(&self) -> u64 {
        self.lock().epoch
    }

    /// No page of the app is shown (it crashed for good): a new key that no
    /// frame is ever handed, and a new window. Nothing sealed before opens.
    pub(crate) fn close(&self) {
        self.rotate();
        self.lock().handout = None;
    }

    /// The raw key for the isolation document, at most once per rotation.
    pub(crate) fn take_key(&self) -> Option<KeyBytes> {
        self.lock().handout.take()
    }

    /// Authenticates an envelope, then records its counter. Decryption comes
    /// first so that only authentic envelopes are ever called `replayed`: a
    /// forgery is `decrypt_failed` whatever counter it claims, and the page
    /// learns nothing about which counters were used. The lock is not held
    /// while decrypting, so large calls do not serialise small ones.
    ///
    /// Returns the plaintext and the page load whose key opened it. That
    /// page load is the call's, for everything it touches afterwards
    /// (channels, grants, programs, events): reading the current one again
    /// later would hand a call that raced a reload to the new page.
    ///
    /// Decrypts in the envelope's buffer (see [`Envelope::open`]), which the
    /// caller wipes.
    pub(crate) fn open<'a>(&self, env: Envelope<'a>) -> Result<Opened<'a>, OpenError> {
        let (epoch, cipher) = {
            let cur = self.lock();
            (cur.epoch, Arc::clone(&cur.cipher))
        };
        let counter = env.counter();
        let plaintext = env.open(&cipher).map_err(|_| OpenError::DecryptFailed)?;
        let mut cur = self.lock();
        if cur.epoch != epoch {
            // Rotated while decrypting: the call belongs to a page that is gone.
            return Err(OpenError::DecryptFailed);
        }
        cur.window.accept(counter).map_err(OpenError::Replayed)?;
        Ok(Opened { plaintext, epoch })
    }
}

/// Opens a copy of `env` (opening decrypts in place): its page load.
#[cfg(test)]
fn open_copy(s: &Session, env: &[u8]) -> Result<u64, OpenError> {
    let mut buf = env.to_vec();
    let env = Envelope::parse(&mut buf, 1 << 20).expect("an envelope");
    s.open(env).map(|o| o.epoch)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isolation::envelope::seal;

    fn sealed_with_handout(s: &Session, counter: u64) -> Vec<u8> {
        let key = s.take_key().expect("key not yet handed out");
        seal(&key.cipher(), counter, b"{}")
    }

    #[test]
    fn key_is_handed_out_once_per_load() {
        let s = Session::new();
        assert!(s.take_key().is_some());
        assert!(s.take_key().is_none());
        s.rotate();
        assert!(s.take_key().is_some());
        assert!(s.take_key().is_none());
    }

    #[test]
    fn replayed_envelope_is_rejected() {
        let s = Session::new();
        let e = sealed_with_handout(&s, 1);
        let env = e.clone();
        assert!(open_copy(&s, &env).is_ok());
        assert_eq!(
            open_copy(&s, &env).unwrap_err(),
            OpenError::Replayed(ReplayError::Duplicate)
        );
    }

    #[test]
    fn envelope_from_previous_page_load_is_rejected() {
        let s = Session::new();
        let e = sealed_with_handout(&s, 1);
        s.rotate();
        let env = e.clone();
        assert_eq!(open_copy(&s, &env).unwrap_err(), OpenError::DecryptFailed);
    }

    #[test]
    fn forgery_claiming_a_used_counter_is_decrypt_failed_not_replayed() {
        let s = Session::new();
        let key = s.take_key().unwrap();
        let real = seal(&key.cipher(), 1, b"{}");
        assert!(open_copy(&s, &real).is_ok());
        let forged = seal(&KeyBytes::generate().cipher(), 1, b"{}");
        let env = forged.clone();
        assert_eq!(open_copy(&s, &env).unwrap_err(), OpenError::DecryptFailed);
    }

    #[test]
    fn an_envelope_belongs_to_the_page_load_whose_key_opened_it() {
        let s = Session::new();
        let other_window = Session::new();
        let first = sealed_with_handout(&s, 1);
        let opened = open_copy(&s, &first).unwrap();
        let first_epoch = s.epoch();
        assert_eq!(opened, first_epoch);
        s.rotate();
        // A later reload does not move an opened call to the new page.
        assert_eq!(opened, first_epoch);
        let second = sealed_with_handout(&s, 1);
        let opened = open_copy(&s, &second).unwrap();
        assert_eq!(opened, s.epoch());
        assert_ne!(opened, first_epoch);
        // No two page loads share an epoch, whichever window they are in.
        assert_ne!(other_window.epoch(), first_epoch);
        assert_ne!(other_window.epoch(), s.epoch());
    }

    #[test]
    fn forged_envelope_does_not_burn_a_counter() {
        let s = Session::new();
        let key = s.take_key().unwrap();
        let forged = seal(&KeyBytes::generate().cipher(), 1, b"{}");
        let env = forged.clone();
        assert_eq!(open_copy(&s, &env).unwrap_err(), OpenError::DecryptFailed);
        let real = seal(&key.cipher(), 1, b"{}");
        assert!(open_copy(&s, &real).is_ok());
    }
}

/// Sequences of deliveries — in order, reordered, replayed, truncated,
/// tampered, forged, across rotations — checked against the obvious model:
/// an envelope opens iff it is untouched, sealed under the current page
/// load's key, not yet accepted, and not a full window behind the newest.
#[cfg(test)]
mod sequences {
    use std::collections::HashSet;

    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::isolation::envelope::seal;
    use crate::isolation::replay::REPLAY_WINDOW;

    const MAX: usize = 1 << 16;

    #[test]
    fn random_delivery_sequences_agree_with_the_model() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed_0001);
        for _ in 0..40 {
            let s = Session::new();
            let mut key = s.take_key().unwrap().cipher();
            let mut old_keys = vec![KeyBytes::generate().cipher()];
            // Sealed but not yet delivered, and delivered ones (for replays).
            let mut sealed: Vec<(u64, Vec<u8>)> = Vec::new();
            let mut delivered: Vec<Vec<u8>> = Vec::new();
            let (mut next, mut top, mut seen) = (1u64, 0u64, HashSet::new());
            for _ in 0..600 {
                match rng.gen_range(0..100) {
                    0..=39 => {
                        sealed.push((
                            next,
                            seal(&key, next, format!("{{\"n\":{next}}}").as_bytes()),
                        ));
                        next += 1;
                    }
                    40..=69 if !sealed.is_empty() => {
                        // Deliver a random pending one (reordering).
                        let (c, env) = sealed.swap_remove(rng.gen_range(0..sealed.len()));
                        let expect_ok = top < c + REPLAY_WINDOW && !seen.contains(&c);
                        let got = open_copy(&s, &env);
                        assert_eq!(got.is_ok(), expect_ok, "counter {c}, top {top}: {got:?}");
                        if expect_ok {
                            seen.insert(c);
                            top = top.max(c);
                        } else {
                            assert_eq!(got.unwrap_err(), OpenError::Replayed(ReplayError::TooOld));
                        }
                        delivered.push(env);
                    }
                    70..=79 if !delivered.is_empty() => {
                        let env = &delivered[rng.gen_range(0..delivered.len())];
                        let got = open_copy(&s, env);
                        assert!(got.is_err(), "a replay opened");
                    }
                    80..=87 if !sealed.is_empty() => {
                        // Tamper with or truncate a pending one; it must fail,
                        // and must not spend its counter.
                        let i = rng.gen_range(0..sealed.len());
                        let mut bad = sealed[i].1.clone();
                        if rng.gen_bool(0.5) {
                            let at = rng.gen_range(0..bad.len());
                            bad[at] ^= 1 << rng.gen_range(0..8);
                        } else {
                            bad.truncate(rng.gen_range(0..bad.len()));
                        }
                        if Envelope::parse(&mut bad.clone(), MAX).is_ok() {
                            assert!(open_copy(&s, &bad).is_err(), "tampered envelope opened");
                        }
                    }
                    88..=92 => {
                        // A forgery under a key from an earlier load.
                        let k = &old_keys[rng.gen_range(0..old_keys.len())];
                        let env = seal(k, next, b"{}");
                        assert_eq!(open_copy(&s, &env).unwrap_err(), OpenError::DecryptFailed);
                    }
                    93..=95 => {
                        // Page reload: new key, new window; everything sealed
                        // before is dead.
                        s.rotate();
                        old_keys.push(key);
                        key = s.take_key().unwrap().cipher();
                        for (_, env) in sealed.drain(..) {
                            delivered.push(env);
                        }
                        next = 1;
                        top = 0;
                        seen.clear();
                    }
                    _ => {}
                }
            }
        }
    }
}
