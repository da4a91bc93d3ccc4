//! What the demo has done so far, counted as it happens (by the script and the hosts, and by
//! the hosts' keepers in their own metrics), and the one progress line shown beside the
//! index's figures.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use vouch_keeper::metrics::Metrics;

use crate::Summary;

/// The keeper failures a snapshot counts: every failed pipeline step and watcher chore.
const KEEPER_FAILURES: [&str; 4] = ["prove", "tx", "queue", "chain"];
const WATCHER_FAILURES: [&str; 4] = ["claim", "expire", "heartbeat", "tick"];

/// Counters, updated by every task of the demo; the proofs and batches are the keepers' own
/// metrics, read when a snapshot is taken.
#[derive(Debug, Default)]
pub struct Stats {
    pub rounds: AtomicU64,
    pub jobs_created: AtomicU64,
    pub results: AtomicU64,
    /// Gas of every other job transaction (create, claim, release).
    pub job_gas: AtomicU64,
    /// The script's failures (a scripted end not reached).
    pub failures: AtomicU64,
    step: Mutex<String>,
    keepers: Mutex<Vec<Arc<Metrics>>>,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub rounds: u64,
    pub jobs_created: u64,
    pub results: u64,
    pub proofs: u64,
    pub batches: u64,
    pub proven_jobs: u64,
    pub proof_gas: u64,
    pub job_gas: u64,
    pub failures: u64,
    /// What the script is doing now.
    pub step: String,
}

impl Stats {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn set_step(&self, step: impl Into<String>) {
        *self.step.lock().unwrap_or_else(|e| e.into_inner()) = step.into();
    }

    /// Counts a keeper's metrics into every later snapshot.
    pub fn add_keeper(&self, metrics: Arc<Metrics>) {
        self.keepers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(metrics);
    }

    pub fn snapshot(&self) -> Snapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut s = Snapshot {
            rounds: get(&self.rounds),
            jobs_created: get(&self.jobs_created),
            results: get(&self.results),
            job_gas: get(&self.job_gas),
            failures: get(&self.failures),
            step: self.step.lock().unwrap_or_else(|e| e.into_inner()).clone(),
            ..Snapshot::default()
        };
        for m in self
            .keepers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
        {
            s.proofs += get(&m.proofs);
            s.batches += get(&m.transactions);
            s.proven_jobs += get(&m.jobs_confirmed);
            s.proof_gas += get(&m.gas_used);
            // A job the keeper failed (deadline passed in its queue, gone on chain) is a
            // failure in the demo, where every answered job is meant to land.
            s.failures += get(&m.jobs_failed)
                + KEEPER_FAILURES
                    .iter()
                    .map(|k| m.failures.get(k))
                    .sum::<u64>()
                + WATCHER_FAILURES
                    .iter()
                    .map(|k| m.watcher_failures.get(k))
                    .sum::<u64>();
        }
        s
    }
}

impl Snapshot {
    /// Gas per proven job: its share of the proof transactions plus the job's own calls.
    pub fn gas_per_job(&self) -> Option<u64> {
        (self.proven_jobs > 0).then(|| (self.proof_gas + self.job_gas) / self.proven_jobs)
    }

    /// Gas of the proofs alone, per proven job.
    pub fn proof_gas_per_job(&self) -> Option<u64> {
        (self.proven_jobs > 0).then(|| self.proof_gas / self.proven_jobs)
    }
}

/// The live line: jobs by state, proofs, batches and slashes from the index, the script's
/// round and step, the indexer's lag.
pub fn line(summary: &Summary, demo: &Snapshot) -> String {
    let states = summary
        .jobs_by_state
        .iter()
        .map(|(s, n)| format!("{s} {n}"))
        .collect::<Vec<_>>()
        .join(" ");
    let states = if states.is_empty() {
        "none".into()
    } else {
        states
    };
    format!(
        "demo round {} ({}): jobs {} [{}] | {} proofs, {} batches | {} slashes | block {} lag {}",
        demo.rounds,
        demo.step,
        summary.jobs(),
        states,
        demo.proofs,
        summary.batches,
        summary.slashes,
        summary.head,
        summary.lag()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_line_shows_states_proofs_slashes_and_lag() {
        let summary = Summary {
            ran: Duration::from_secs(5),
            head: 40,
            indexed: Some(38),
            events: 100,
            hosts: 5,
            jobs_by_state: vec![("Claimed".into(), 2), ("Paid".into(), 9)],
            batches: 4,
            proven_jobs: 9,
            slashes: 1,
            disputes_upheld: 0,
            equivocations: 0,
            proposals_executed: 0,
            demo: None,
        };
        let stats = Stats::default();
        Stats::add(&stats.rounds, 2);
        let keeper = Arc::new(Metrics::default());
        keeper.proof(3, Duration::from_secs(1));
        keeper.proof(1, Duration::from_secs(1));
        stats.add_keeper(keeper.clone());
        stats.add_keeper(keeper);
        stats.set_step("proving");
        assert_eq!(
            line(&summary, &stats.snapshot()),
            "demo round 2 (proving): jobs 11 [Claimed 2 Paid 9] | 4 proofs, 4 batches | 1 slashes | block 40 lag 2"
        );
    }

    #[test]
    fn gas_per_job_shares_the_proofs() {
        let s = Snapshot {
            proven_jobs: 4,
            proof_gas: 800_000,
            job_gas: 400_000,
            ..Snapshot::default()
        };
        assert_eq!(s.gas_per_job(), Some(300_000));
        assert_eq!(s.proof_gas_per_job(), Some(200_000));
        assert_eq!(Snapshot::default().gas_per_job(), None);
    }
}
