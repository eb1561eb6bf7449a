//! Anti-replay window over envelope counters (the IPsec/DTLS sliding window,
//! RFC 4303 §3.4.3, kept as a ring bitmap as in RFC 6479 so advancing never
//! shifts the whole map).
//!
//! Threat: a captured envelope re-sent to the core would otherwise run its
//! command twice. Concurrent calls may be encrypted in one order and arrive in
//! another, so a strict "counter must increase" rule is too strict; the window
//! accepts any counter not yet seen that is less than [`REPLAY_WINDOW`] behind
//! the highest one accepted, and nothing older.

/// How far behind the highest accepted counter a late envelope may still be
/// accepted. Larger than any plausible number of calls in flight at once; a
/// call that falls further behind is refused as `replayed` (too old), which
/// the caller sees as an error rather than a silent duplicate.
pub(crate) const REPLAY_WINDOW: u64 = 1024;

const WORDS: usize = (REPLAY_WINDOW / 64) as usize;

/// Why a counter was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplayError {
    /// Counter 0 is never issued by the isolation frame.
    Zero,
    /// This exact counter was already accepted.
    Duplicate,
    /// The counter is [`REPLAY_WINDOW`] or more behind the newest accepted
    /// one; it can no longer be told apart from a duplicate.
    TooOld,
}

impl std::fmt::Display for ReplayError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ReplayError::Zero => "counter 0 is never issued",
            ReplayError::Duplicate => "counter already accepted",
            ReplayError::TooOld => "counter fell behind the replay window",
        })
    }
}

/// Invariant: bit `c % REPLAY_WINDOW` is set iff counter `c` was accepted,
/// for every `c` in `(top - REPLAY_WINDOW, top]`.
#[derive(Debug, Default)]
pub(crate) struct ReplayWindow {
    top: u64,
    bits: [u64; WORDS],
}

impl ReplayWindow {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Checks without recording. Only [`accept`](Self::accept), after a
    /// successful decryption, may record a counter, or a forger could burn
    /// counters the real frame has yet to use.
    pub(crate) fn check(&self, counter: u64) -> Result<(), ReplayError> {
        if counter == 0 {
            return Err(ReplayError::Zero);
        }
        if counter > self.top {
            return Ok(());
        }
        if self.top - counter >= REPLAY_WINDOW {
            return Err(ReplayError::TooOld);
        }
        if self.is_set(counter) {
            return Err(ReplayError::Duplicate);
        }
        Ok(())
    }

    /// Records `counter` as seen, or refuses it.
    pub(crate) fn accept(&mut self, counter: u64) -> Result<(), ReplayError> {
        self.check(counter)?;
        if counter > self.top {
            let advance = counter - self.top;
            if advance >= REPLAY_WINDOW {
                self.bits = [0; WORDS];
            } else {
                for c in self.top + 1..counter {
                    self.clear(c);
                }
            }
            self.top = counter;
            // The slot may still hold the counter one window earlier.
            self.clear(counter);
        }
        self.set(counter);
        Ok(())
    }

    fn slot(counter: u64) -> (usize, u64) {
        let bit = counter % REPLAY_WINDOW;
        ((bit / 64) as usize, 1u64 << (bit % 64))
    }

    fn is_set(&self, counter: u64) -> bool {
        let (word, mask) = Self::slot(counter);
        self.bits[word] & mask != 0
    }

    fn set(&mut self, counter: u64) {
        let (word, mask) = Self::slot(counter);
        self.bits[word] |= mask;
    }

    fn clear(&mut self, counter: u64) {
        let (word, mask) = Self::slot(counter);
        self.bits[word] &= !mask;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// The obvious model: remember every counter, refuse repeats and anything
    /// a full window behind the highest.
    struct Model {
        seen: HashSet<u64>,
        top: u64,
    }

    impl Model {
        fn accept(&mut self, c: u64) -> Result<(), ReplayError> {
            if c == 0 {
                return Err(ReplayError::Zero);
            }
            if c <= self.top && self.top - c >= REPLAY_WINDOW {
                return Err(ReplayError::TooOld);
            }
            if !self.seen.insert(c) {
                return Err(ReplayError::Duplicate);
            }
            self.top = self.top.max(c);
            Ok(())
        }
    }

    #[test]
    fn in_order_counters_are_accepted_once() {
        let mut w = ReplayWindow::new();
        for c in 1..5000 {
            assert_eq!(w.accept(c), Ok(()));
        }
        for c in 4000..5000 {
            assert_eq!(w.accept(c), Err(ReplayError::Duplicate));
        }
    }

    #[test]
    fn replayed_counter_is_rejected() {
        let mut w = ReplayWindow::new();
        w.accept(7).unwrap();
        assert_eq!(w.check(7), Err(ReplayError::Duplicate));
        assert_eq!(w.accept(7), Err(ReplayError::Duplicate));
    }

    #[test]
    fn zero_counter_is_rejected() {
        assert_eq!(ReplayWindow::new().accept(0), Err(ReplayError::Zero));
    }

    #[test]
    fn out_of_order_within_window_is_accepted() {
        let mut w = ReplayWindow::new();
        w.accept(100).unwrap();
        for c in (1..100).rev() {
            assert_eq!(w.accept(c), Ok(()), "counter {c}");
        }
        assert_eq!(w.accept(50), Err(ReplayError::Duplicate));
    }

    #[test]
    fn counter_a_full_window_behind_is_too_old() {
        let mut w = ReplayWindow::new();
        w.accept(REPLAY_WINDOW + 10).unwrap();
        assert_eq!(w.accept(10), Err(ReplayError::TooOld));
        assert_eq!(w.accept(11), Ok(()));
    }

    #[test]
    fn slot_reused_after_wrap_does_not_inherit_old_bit() {
        let mut w = ReplayWindow::new();
        w.accept(5).unwrap();
        // 5 + WINDOW maps to the same slot as 5.
        assert_eq!(w.accept(5 + REPLAY_WINDOW), Ok(()));
        assert_eq!(w.accept(5 + REPLAY_WINDOW), Err(ReplayError::Duplicate));
        // Counters between that were never accepted remain acceptable.
        assert_eq!(w.accept(REPLAY_WINDOW + 4), Ok(()));
    }

    #[test]
    fn large_jump_clears_everything() {
        let mut w = ReplayWindow::new();
        for c in 1..=64 {
            w.accept(c).unwrap();
        }
        w.accept(1_000_000).unwrap();
        assert_eq!(w.accept(1_000_000 - 1), Ok(()));
        assert_eq!(w.accept(64), Err(ReplayError::TooOld));
    }

    /// Random sequences of in-order, reordered and repeated counters: the
    /// window must agree with the model on every single decision.
    #[test]
    fn agrees_with_naive_model_on_random_sequences() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand::rngs::StdRng::seed_from_u64(0x6d6f6174);
        for _ in 0..200 {
            let mut w = ReplayWindow::new();
            let mut m = Model {
                seen: HashSet::new(),
                top: 0,
            };
            let mut next = 1u64;
            for _ in 0..2000 {
                let c = match rng.gen_range(0..10) {
                    0..=4 => {
                        next += 1;
                        next
                    }
                    5..=6 => next.saturating_sub(rng.gen_range(0..1500)),
                    7 => next + rng.gen_range(0..3000),
                    _ => next.saturating_sub(rng.gen_range(0..40)),
                };
                assert_eq!(w.accept(c), m.accept(c), "counter {c}");
            }
        }
    }
}
