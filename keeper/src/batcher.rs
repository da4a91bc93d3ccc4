//! The batching policy: which accepted jobs to prove together, and when. Pure (no I/O, no
//! clock: the caller passes `now`), so every rule is unit-tested here.
//!
//! Rules, in order:
//! 1. jobs whose deadline has passed are never chosen (they cannot complete; the caller fails
//!    them, see [`expired`]);
//! 2. order is earliest deadline first (then earliest accepted, then job id, so it is total);
//! 3. a full batch of the largest size is flushed at once;
//! 4. when the oldest job has waited `max_wait`, up to the largest size is flushed;
//! 5. when a job's deadline is within `land_time` (what proving and landing take), waiting any
//!    longer could make it miss: the smallest batch size that holds every such job is flushed
//!    now, its free slots filled with the next jobs by deadline (a slot costs the same filled
//!    or padded);
//! 6. otherwise wait.

use std::time::Duration;

use alloy::primitives::B256;

/// The batch sizes and the time limits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BatchPolicy {
    /// The circuit batch sizes, ascending ([`crate::prover::BATCH_SIZES`]).
    pub sizes: Vec<usize>,
    /// The longest a job waits for its batch to fill.
    pub max_wait: Duration,
    /// The time from flushing a batch to its transaction landing (proving included), with margin.
    pub land_time: Duration,
}

impl BatchPolicy {
    /// The policy for the prover's batch sizes.
    pub fn new(max_wait: Duration, land_time: Duration) -> Self {
        BatchPolicy {
            sizes: crate::prover::BATCH_SIZES.to_vec(),
            max_wait,
            land_time,
        }
    }

    fn largest(&self) -> usize {
        self.sizes.iter().copied().max().unwrap_or(1)
    }

    /// The smallest size that holds `n` jobs (the largest if none does).
    fn smallest_fitting(&self, n: usize) -> usize {
        let mut sizes = self.sizes.clone();
        sizes.sort_unstable();
        sizes
            .into_iter()
            .find(|&s| s >= n)
            .unwrap_or_else(|| self.largest())
    }
}

/// A job waiting to be proven.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PendingJob {
    pub job_id: B256,
    /// The job's on-chain deadline, unix seconds.
    pub deadline: u64,
    /// When intake accepted the result, unix seconds.
    pub accepted_at: u64,
}

/// Seconds of a duration, rounded up (a limit is never shortened).
fn secs(d: Duration) -> u64 {
    d.as_secs() + u64::from(d.subsec_nanos() > 0)
}

/// Which jobs to prove now, earliest deadline first, or `None` to wait (see the module docs).
pub fn next_batch(pending: &[PendingJob], now: u64, policy: &BatchPolicy) -> Option<Vec<B256>> {
    let mut live: Vec<&PendingJob> = pending.iter().filter(|j| j.deadline > now).collect();
    if live.is_empty() {
        return None;
    }
    live.sort_by_key(|j| (j.deadline, j.accepted_at, j.job_id));
    let take = |n: usize| Some(live.iter().take(n).map(|j| j.job_id).collect());
    let largest = policy.largest();
    if live.len() >= largest {
        return take(largest);
    }
    let oldest = live.iter().map(|j| j.accepted_at).min().unwrap_or(now);
    if now.saturating_sub(oldest) >= secs(policy.max_wait) {
        return take(largest);
    }
    let urgent = live
        .iter()
        .filter(|j| j.deadline <= now + secs(policy.land_time))
        .count();
    if urgent > 0 {
        return take(policy.smallest_fitting(urgent));
    }
    None
}

/// The jobs whose deadline has passed: they can no longer complete.
pub fn expired(pending: &[PendingJob], now: u64) -> Vec<B256> {
    pending
        .iter()
        .filter(|j| j.deadline <= now)
        .map(|j| j.job_id)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloy::primitives::U256;

    const NOW: u64 = 1_000_000;

    fn id(i: u64) -> B256 {
        B256::from(U256::from(i))
    }

    /// Job `i`, accepted `waited` seconds ago, due `due_in` seconds from now.
    fn job(i: u64, waited: u64, due_in: u64) -> PendingJob {
        PendingJob {
            job_id: id(i),
            deadline: NOW + due_in,
            accepted_at: NOW - waited,
        }
    }

    fn policy() -> BatchPolicy {
        BatchPolicy {
            sizes: vec![1, 16, 64],
            max_wait: Duration::from_secs(5),
            land_time: Duration::from_secs(60),
        }
    }

    fn ids(range: impl IntoIterator<Item = u64>) -> Vec<B256> {
        range.into_iter().map(id).collect()
    }

    #[test]
    fn nothing_pending_nothing_to_do() {
        assert_eq!(next_batch(&[], NOW, &policy()), None);
    }

    #[test]
    fn a_young_partial_batch_with_distant_deadlines_waits() {
        let pending: Vec<_> = (0..63).map(|i| job(i, 4, 3600)).collect();
        assert_eq!(next_batch(&pending, NOW, &policy()), None);
    }

    #[test]
    fn the_largest_size_flushes_at_once_earliest_deadlines_first() {
        // 70 jobs, just accepted; deadlines descending with the index, so EDF takes 69..=6.
        let pending: Vec<_> = (0..70).map(|i| job(i, 0, 10_000 - i)).collect();
        let batch = next_batch(&pending, NOW, &policy()).unwrap();
        assert_eq!(batch, ids((6..70).rev()));
    }

    #[test]
    fn max_wait_flushes_what_is_there() {
        let pending = vec![job(1, 5, 3600), job(2, 1, 1800), job(3, 0, 7200)];
        assert_eq!(
            next_batch(&pending, NOW, &policy()),
            Some(vec![id(2), id(1), id(3)])
        );
        // One second earlier the oldest had waited 4 s: wait.
        assert_eq!(next_batch(&pending, NOW - 1, &policy()), None);
    }

    #[test]
    fn max_wait_flush_is_capped_at_the_largest_size() {
        let mut pending: Vec<_> = (0..64).map(|i| job(i, 0, 3600 + i)).collect();
        pending.push(job(100, 9, 9000)); // oldest, latest deadline
        let batch = next_batch(&pending, NOW, &policy()).unwrap();
        assert_eq!(batch, ids(0..64));
    }

    #[test]
    fn a_deadline_within_land_time_rescues_with_the_smallest_size_that_fits() {
        // One urgent job among 10 young ones: a B=1 batch with just it.
        let mut pending: Vec<_> = (0..10).map(|i| job(i, 0, 3600)).collect();
        pending.push(job(50, 0, 60));
        assert_eq!(next_batch(&pending, NOW, &policy()), Some(vec![id(50)]));
        // At 61 s it is not urgent yet.
        pending.pop();
        pending.push(job(50, 0, 61));
        assert_eq!(next_batch(&pending, NOW, &policy()), None);
    }

    #[test]
    fn several_urgent_jobs_take_the_next_size_and_fill_its_slots_by_deadline() {
        // 3 urgent jobs need B=16: they go first, then the 13 next deadlines of the 40 others.
        let mut pending: Vec<_> = (0..40).map(|i| job(i, 0, 1000 + i)).collect();
        pending.extend([job(90, 0, 30), job(91, 0, 10), job(92, 0, 50)]);
        let batch = next_batch(&pending, NOW, &policy()).unwrap();
        let mut expected = vec![id(91), id(90), id(92)];
        expected.extend(ids(0..13));
        assert_eq!(batch, expected);
    }

    #[test]
    fn expired_jobs_are_never_chosen_and_are_reported() {
        let pending = vec![job(1, 100, 0), job(2, 0, 3600)];
        assert_eq!(next_batch(&pending, NOW, &policy()), None);
        assert_eq!(expired(&pending, NOW), vec![id(1)]);
        // Only expired ones: nothing to prove.
        assert_eq!(next_batch(&pending[..1], NOW, &policy()), None);
    }

    #[test]
    fn ties_break_by_acceptance_then_id() {
        let pending = vec![job(3, 1, 100), job(2, 9, 100), job(1, 9, 100)];
        let p = BatchPolicy {
            max_wait: Duration::from_secs(1),
            ..policy()
        };
        assert_eq!(next_batch(&pending, NOW, &p), Some(vec![id(1), id(2), id(3)]));
    }

    #[test]
    fn sub_second_limits_round_up() {
        let p = BatchPolicy {
            max_wait: Duration::from_millis(1500),
            ..policy()
        };
        assert_eq!(next_batch(&[job(1, 1, 3600)], NOW, &p), None);
        assert_eq!(next_batch(&[job(1, 2, 3600)], NOW, &p), Some(vec![id(1)]));
    }

    #[test]
    fn the_default_sizes_are_the_provers() {
        let p = BatchPolicy::new(Duration::from_secs(2), Duration::from_secs(30));
        assert_eq!(p.sizes, crate::prover::BATCH_SIZES.to_vec());
    }
}
