//! Adaptive `eth_getLogs` ranges: halve on a provider error or an oversized answer, double
//! after a comfortable success, within bounds. Providers cap ranges and result sizes in
//! different ways; this finds the largest range each one serves.

/// The current range size and its bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RangeSizer {
    pub size: u64,
    pub min: u64,
    pub max: u64,
    /// More logs than this in one answer count as oversized.
    pub max_logs: usize,
}

impl Default for RangeSizer {
    fn default() -> Self {
        RangeSizer {
            // Small at first: a dense chain answers 2,000 blocks with tens of thousands of
            // logs before the sizer has seen one answer; a sparse one doubles quickly.
            size: 250,
            min: 1,
            max: 100_000,
            max_logs: 10_000,
        }
    }
}

impl RangeSizer {
    /// After a request over `span` blocks returned `logs` logs.
    pub fn success(&mut self, span: u64, logs: usize) {
        if logs > self.max_logs {
            self.size = (span / 2).max(self.min);
        } else if logs < self.max_logs / 2 && span >= self.size {
            self.size = (self.size * 2).min(self.max);
        }
    }

    /// After a request over `span` blocks failed; returns false when already at the minimum.
    pub fn failure(&mut self, span: u64) -> bool {
        let next = (span / 2).max(self.min);
        self.size = next.min(self.size);
        span > self.min
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shrinks_on_failure_and_oversize_grows_on_success() {
        let mut r = RangeSizer {
            size: 1000,
            min: 10,
            max: 4000,
            max_logs: 100,
        };
        assert!(r.failure(1000));
        assert_eq!(r.size, 500);
        r.success(500, 10);
        assert_eq!(r.size, 1000);
        r.success(1000, 10);
        r.success(2000, 10);
        r.success(4000, 10);
        assert_eq!(r.size, 4000, "capped at max");
        r.success(4000, 500);
        assert_eq!(r.size, 2000, "oversized answer halves");
        r.success(2000, 70);
        assert_eq!(r.size, 2000, "a busy answer keeps the size");
        for _ in 0..20 {
            r.failure(r.size);
        }
        assert_eq!(r.size, 10);
        assert!(
            !r.failure(10),
            "at the minimum a failure cannot shrink further"
        );
    }
}
