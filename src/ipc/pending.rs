//! `limits.maxPendingCalls`: the calls of a page load that may be in the
//! core at once.
//!
//! Threat: a page that starts thousands of calls to a slow command, each
//! holding a blocking-pool thread or a task until it finishes, however long
//! after the page stopped waiting. A call takes a slot before its envelope
//! is opened and gives it back when its handler has finished (not when the
//! page's promise timed out), so a hung handler keeps counting. Past the
//! limit, a call is refused with `busy` at the cost of one lock.
//!
//! Slots are counted per page load: calls of a page that is gone (a
//! reload, crash recovery) do not lock the next page out. They still hold
//! memory, and a page can reload itself, so calls of gone page loads are
//! bounded together too ([`EARLIER_LOADS_FACTOR`] times the limit): past
//! that, the new page's calls are `busy` until some of them finish.

use std::sync::{Arc, Mutex};

/// How many times `limits.maxPendingCalls` the calls of every gone page
/// load together may hold before new calls are refused. Without it, a page
/// that starts hung calls and reloads itself in a loop grows the app
/// without bound.
pub(crate) const EARLIER_LOADS_FACTOR: usize = 4;

#[derive(Debug, Default)]
struct Counts {
    /// The newest page load a slot was taken for.
    epoch: u64,
    /// Slots of that page load.
    current: usize,
    /// Slots of every page load before it.
    earlier: usize,
}

#[derive(Debug)]
pub(crate) struct PendingLimit {
    max: usize,
    counts: Arc<Mutex<Counts>>,
}

/// Why a slot was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Full {
    /// This page load holds `max` slots.
    ThisPage,
    /// Gone page loads hold `max × EARLIER_LOADS_FACTOR` slots.
    EarlierPages,
}

/// One call's slot; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot {
    counts: Arc<Mutex<Counts>>,
    epoch: u64,
}

fn lock(m: &Mutex<Counts>) -> std::sync::MutexGuard<'_, Counts> {
    // Every update is a plain field store: a poisoned lock is consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = lock(&self.counts);
        if self.epoch == c.epoch {
            c.current -= 1;
        } else {
            c.earlier -= 1;
        }
    }
}

impl PendingLimit {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            counts: Arc::new(Mutex::new(Counts::default())),
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// A slot for a call of the page load `epoch` (the one shown when the
    /// call arrived), if that page load holds fewer than `max` and gone
    /// ones fewer than `max × EARLIER_LOADS_FACTOR`.
    pub(crate) fn take(&self, epoch: u64) -> Result<Slot, Full> {
        let mut c = lock(&self.counts);
        if epoch > c.epoch {
            // A new page load: what the old one holds moves to `earlier`.
            c.earlier += c.current;
            c.current = 0;
            c.epoch = epoch;
        }
        let is_current = epoch == c.epoch;
        if c.earlier >= self.max.saturating_mul(EARLIER_LOADS_FACTOR) {
            return Err(Full::EarlierPages);
        }
        if is_current {
            if c.current >= self.max {
                return Err(Full::ThisPage);
            }
            c.current += 1;
        } else {
            // A straggler of a gone page load (its envelope will not open).
            c.earlier += 1;
        }
        Ok(Slot {
            counts: Arc::clone(&self.counts),
            epoch,
        })
    }

    /// Calls holding a slot now: (this page load's, gone ones').
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> (usize, usize) {
        let c = lock(&self.counts);
        (c.current, c.earlier)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_past_the_limit_are_refused_and_come_back_when_dropped() {
        let p = PendingLimit::new(2);
        let a = p.take(0).unwrap();
        let b = p.take(0).unwrap();
        assert_eq!(p.take(0).unwrap_err(), Full::ThisPage);
        assert_eq!(p.in_flight(), (2, 0), "a refused take is not counted");
        drop(a);
        let c = p.take(0).unwrap();
        drop((b, c));
        assert_eq!(p.in_flight(), (0, 0));
    }

    #[test]
    fn calls_of_a_gone_page_load_do_not_lock_the_next_one_out() {
        let p = PendingLimit::new(2);
        let hung = [p.take(0).unwrap(), p.take(0).unwrap()];
        assert_eq!(p.take(0).unwrap_err(), Full::ThisPage);
        // The page reloads; its hung calls still run.
        let next = [p.take(1).unwrap(), p.take(1).unwrap()];
        assert_eq!(p.in_flight(), (2, 2));
        assert_eq!(p.take(1).unwrap_err(), Full::ThisPage);
        // A hung call of the old page finishing frees nothing of the new one's.
        drop(hung);
        assert_eq!(p.in_flight(), (2, 0));
        drop(next);
        assert_eq!(p.in_flight(), (0, 0));
    }

    #[test]
    fn gone_page_loads_together_are_bounded() {
        let p = PendingLimit::new(2);
        let mut held = Vec::new();
        for epoch in 0..EARLIER_LOADS_FACTOR as u64 {
            held.push(p.take(epoch).unwrap());
            held.push(p.take(epoch).unwrap());
        }
        // A page that reloaded itself four times, leaving two hung calls
        // each: the fifth page load is busy until some finish.
        let fifth = EARLIER_LOADS_FACTOR as u64;
        assert_eq!(p.take(fifth).unwrap_err(), Full::EarlierPages);
        held.pop();
        assert!(p.take(fifth).is_ok());
    }

    #[test]
    fn a_straggler_of_a_gone_page_load_counts_as_gone() {
        let p = PendingLimit::new(1);
        let _new = p.take(3).unwrap();
        let old = p.take(2).unwrap();
        assert_eq!(p.in_flight(), (1, 1));
        drop(old);
        assert_eq!(p.in_flight(), (1, 0));
    }

    #[test]
    fn concurrent_takers_never_exceed_the_limit() {
        let p = Arc::new(PendingLimit::new(5));
        let peak = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (p, peak) = (Arc::clone(&p), Arc::clone(&peak));
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        if let Ok(slot) = p.take(0) {
                            peak.fetch_max(p.in_flight().0, std::sync::atomic::Ordering::AcqRel);
                            drop(slot);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert!(peak.load(std::sync::atomic::Ordering::Acquire) <= 5);
        assert_eq!(p.in_flight(), (0, 0));
    }
}
