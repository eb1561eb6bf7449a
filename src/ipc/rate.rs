//! Token buckets: `limits.maxCallsPerSecond` in front of every call, and
//! `limits.maxOpensPerMinute` / `limits.maxExecutesPerMinute` in front of
//! the built-ins that act outside the app (`shell.open`, `shell.execute`).
//!
//! The call limit is checked before the envelope is opened, so a flood costs
//! the core a lock and a comparison per request, not a decryption. A bucket
//! holds one period's worth: a burst up to the limit passes at once, then
//! calls pass at the limit's pace. Threat: a compromised page driving a
//! command (a write, a program, the system's browser) as fast as the
//! machine allows; it is not a defence against the page denying service to
//! itself.

use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
pub(crate) struct RateLimit {
    limit: u32,
    /// Tokens added per second.
    refill: f64,
    state: Mutex<(f64, Instant)>,
}

impl RateLimit {
    /// At most `limit` per `period`, in bursts of up to `limit`.
    pub(crate) fn new(limit: u32, period: Duration) -> Self {
        Self {
            limit,
            refill: f64::from(limit) / period.as_secs_f64().max(1e-3),
            state: Mutex::new((f64::from(limit), Instant::now())),
        }
    }

    /// The configured limit (per period).
    pub(crate) fn limit(&self) -> u32 {
        self.limit
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
        s.0 = (s.0 + elapsed * self.refill).min(f64::from(self.limit));
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
        let r = RateLimit::new(10, Duration::from_secs(1));
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

    #[test]
    fn a_per_minute_limit_refills_over_the_minute() {
        let r = RateLimit::new(6, Duration::from_secs(60));
        let t0 = Instant::now();
        assert_eq!((0..20).filter(|_| r.take_at(t0)).count(), 6);
        assert!(!r.take_at(t0 + Duration::from_secs(9)));
        assert!(r.take_at(t0 + Duration::from_secs(10)));
        assert!(!r.take_at(t0 + Duration::from_secs(11)));
    }
}
