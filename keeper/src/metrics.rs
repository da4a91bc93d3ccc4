//! The keeper's Prometheus metrics: queue depth by state (read from the queue when scraped),
//! results accepted and refused, proofs and their latency, transactions and their latency,
//! gas spent, failures by kind. Process-wide atomics, rendered as text at `/metrics`.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::queue::ResultState;

/// Counters of one keeper. Shared behind an `Arc`.
#[derive(Debug, Default)]
pub struct Metrics {
    pub results_accepted: AtomicU64,
    pub results_refused: AtomicU64,
    pub proofs: AtomicU64,
    pub proof_seconds_total: Mutex<f64>,
    pub jobs_proven: AtomicU64,
    pub transactions: AtomicU64,
    pub tx_seconds_total: Mutex<f64>,
    pub gas_used: AtomicU64,
    pub jobs_confirmed: AtomicU64,
    failures: Mutex<BTreeMap<&'static str, u64>>,
}

impl Metrics {
    /// One proof of `jobs` jobs that took `took`.
    pub fn proof(&self, jobs: usize, took: Duration) {
        self.proofs.fetch_add(1, Ordering::Relaxed);
        self.jobs_proven.fetch_add(jobs as u64, Ordering::Relaxed);
        *self.proof_seconds_total.lock().expect("metrics lock") += took.as_secs_f64();
    }

    /// One landed transaction.
    pub fn transaction(&self, jobs: usize, gas: u64, took: Duration) {
        self.transactions.fetch_add(1, Ordering::Relaxed);
        self.gas_used.fetch_add(gas, Ordering::Relaxed);
        self.jobs_confirmed
            .fetch_add(jobs as u64, Ordering::Relaxed);
        *self.tx_seconds_total.lock().expect("metrics lock") += took.as_secs_f64();
    }

    /// One failure of `kind` (a short snake_case name: "prove", "tx", "queue", ...).
    pub fn failure(&self, kind: &'static str) {
        *self
            .failures
            .lock()
            .expect("metrics lock")
            .entry(kind)
            .or_default() += 1;
    }

    /// The Prometheus text, with the queue's `depth` by state.
    pub fn render(&self, depth: &BTreeMap<ResultState, u64>) -> String {
        let mut out = String::new();
        let counter = |out: &mut String, name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        let _ = writeln!(
            out,
            "# HELP vouch_keeper_queue_depth Results in the queue by state.\n# TYPE vouch_keeper_queue_depth gauge"
        );
        for (state, n) in depth {
            let _ = writeln!(
                out,
                "vouch_keeper_queue_depth{{state=\"{}\"}} {n}",
                state.as_str()
            );
        }
        let load = |a: &AtomicU64| a.load(Ordering::Relaxed);
        counter(
            &mut out,
            "vouch_keeper_results_accepted_total",
            "Results newly accepted by intake.",
            load(&self.results_accepted),
        );
        counter(
            &mut out,
            "vouch_keeper_results_refused_total",
            "Intake requests refused.",
            load(&self.results_refused),
        );
        counter(
            &mut out,
            "vouch_keeper_proofs_total",
            "Batch proofs made.",
            load(&self.proofs),
        );
        counter(
            &mut out,
            "vouch_keeper_jobs_proven_total",
            "Jobs covered by those proofs.",
            load(&self.jobs_proven),
        );
        let _ = writeln!(
            out,
            "# HELP vouch_keeper_proof_seconds_total Time spent proving.\n# TYPE vouch_keeper_proof_seconds_total counter\nvouch_keeper_proof_seconds_total {}",
            *self.proof_seconds_total.lock().expect("metrics lock")
        );
        counter(
            &mut out,
            "vouch_keeper_transactions_total",
            "Proof transactions landed.",
            load(&self.transactions),
        );
        let _ = writeln!(
            out,
            "# HELP vouch_keeper_tx_seconds_total Time from send to confirmation.\n# TYPE vouch_keeper_tx_seconds_total counter\nvouch_keeper_tx_seconds_total {}",
            *self.tx_seconds_total.lock().expect("metrics lock")
        );
        counter(
            &mut out,
            "vouch_keeper_gas_used_total",
            "Gas used by landed proof transactions.",
            load(&self.gas_used),
        );
        counter(
            &mut out,
            "vouch_keeper_jobs_confirmed_total",
            "Jobs completed on chain by this keeper.",
            load(&self.jobs_confirmed),
        );
        let _ = writeln!(
            out,
            "# HELP vouch_keeper_failures_total Failures by kind.\n# TYPE vouch_keeper_failures_total counter"
        );
        for (kind, n) in self.failures.lock().expect("metrics lock").iter() {
            let _ = writeln!(out, "vouch_keeper_failures_total{{kind=\"{kind}\"}} {n}");
        }
        out
    }
}
