//! `limits.maxPendingCalls`: the calls of a page that may be in the core at
//! once.
//!
//! Threat: a page that starts thousands of calls to a slow command, each
//! holding a blocking-pool thread or a task until it finishes, however long
//! after the page stopped waiting. A call takes a slot before its envelope
//! is opened and gives it back when its handler has finished (not when the
//! page's promise timed out), so a hung handler keeps counting. Past the
//! limit, a call is refused with `busy` at the cost of one atomic add.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

#[derive(Debug)]
pub(crate) struct PendingLimit {
    max: usize,
    in_flight: Arc<AtomicUsize>,
}

/// One call's slot; given back when dropped.
#[derive(Debug)]
pub(crate) struct Slot(Arc<AtomicUsize>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl PendingLimit {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            max,
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// A slot, if fewer than `max` calls hold one.
    pub(crate) fn take(&self) -> Option<Slot> {
        let before = self.in_flight.fetch_add(1, Ordering::AcqRel);
        let slot = Slot(Arc::clone(&self.in_flight));
        (before < self.max).then_some(slot)
    }

    /// Calls holding a slot now.
    #[cfg(test)]
    pub(crate) fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_past_the_limit_are_refused_and_come_back_when_dropped() {
        let p = PendingLimit::new(2);
        let a = p.take().unwrap();
        let b = p.take().unwrap();
        assert!(p.take().is_none());
        assert_eq!(p.in_flight(), 2, "a refused take gives its count back");
        drop(a);
        let c = p.take().unwrap();
        drop((b, c));
        assert_eq!(p.in_flight(), 0);
    }

    #[test]
    fn concurrent_takers_never_exceed_the_limit() {
        let p = Arc::new(PendingLimit::new(5));
        let peak = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (p, peak) = (Arc::clone(&p), Arc::clone(&peak));
                std::thread::spawn(move || {
                    for _ in 0..2000 {
                        if let Some(slot) = p.take() {
                            peak.fetch_max(p.in_flight.load(Ordering::Acquire), Ordering::AcqRel);
                            drop(slot);
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        // Counts of refused takers may briefly show above the limit, but
        // never more than one per thread; granted slots never exceed it.
        assert!(peak.load(Ordering::Acquire) <= 5 + 8);
        assert_eq!(p.in_flight(), 0);
    }
}
