//! `limits.maxCallsPerSecond`: a token bucket in front of every call.
//!
//! Checked before the envelope is opened, so a flood costs the core a lock
//! and a comparison per request, not a decryption. The bucket holds one
//! second's worth of calls: a burst up to the limit passes at once, then
//! calls pass at the limit's pace. Threat: a compromised page driving a
//! command (a write, a program) as fast as the machine allows; it is not a
//! defence against the page denying service to itself.

use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug)]
pub(crate) struct RateLimit {
    per_sec: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimit {
    pub(crate) fn new(per_sec: u32) -> Self {
        Self {
            per_sec: f64::from(per_sec),
            state: Mutex::new((f64::from(per_sec), Instant::now())),
        }
    }

    /// The configured limit.
    pub(crate) fn per_sec(&self) -> u32 {
        self.per_sec as u32
    }

    /// Takes one call's token if there is one.
    pub(crate) fn take(&self) -> bool {
        self.take_at(Instant::now())
    }

    fn take_at(&self, now: Instant) -> bool {
        // A poisoned lock only means another call panicked while holding
        // it; the counts are still usable.
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let elapsed = now.saturating_duration_since(s.1).as_secs_f64();
        s.0 = (s.0 + elapsed * self.per_sec).min(self.per_sec);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_burst_up_to_the_limit_passes_then_the_pace_is_the_limit() {
        let r = RateLimit::new(10);
        let t0 = Instant::now();
        assert_eq!((0..15).filter(|_| r.take_at(t0)).count(), 10);
        // 100 ms later, one more token.
        let t1 = t0 + Duration::from_millis(100);
        assert!(r.take_at(t1));
        assert!(!r.take_at(t1));
        // A long pause refills the bucket to the limit, not beyond.
        let t2 = t1 + Duration::from_secs(60);
        assert_eq!((0..15).filter(|_| r.take_at(t2)).count(), 10);
    }
}
