//! Exponential backoff with full jitter for RPC retries: an outage is ridden out (the default
//! keeps trying for about ten minutes) without hammering the node when it comes back.

use std::time::Duration;

use rand::Rng;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub initial: Duration,
    pub max: Duration,
    pub max_attempts: u32,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(10),
            max_attempts: 64,
        }
    }
}

impl Backoff {
    /// The wait before retry number `attempt` (1-based): uniform in [0, min(max, initial*2^(attempt-1))].
    pub fn delay(&self, attempt: u32) -> Duration {
        let exp = self
            .initial
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
        let cap = exp.min(self.max);
        let millis = cap.as_millis() as u64;
        Duration::from_millis(rand::rng().random_range(0..=millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_grow_exponentially_and_stay_under_the_cap() {
        let b = Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_secs(1),
            max_attempts: 10,
        };
        for _ in 0..200 {
            assert!(b.delay(1) <= Duration::from_millis(100));
            assert!(b.delay(3) <= Duration::from_millis(400));
            assert!(b.delay(30) <= Duration::from_secs(1));
        }
        // jitter: not always the cap
        assert!((0..50).any(|_| b.delay(5) < Duration::from_secs(1)));
    }
}
