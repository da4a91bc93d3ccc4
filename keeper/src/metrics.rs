//! The keeper's one metric registry and its Prometheus exporter: the queue depth by state (read
//! from the queue when scraped), intake, the pipeline (proofs, transactions, their latencies,
//! gas, replacements, failures by kind) and the watcher (chores and alerts by kind). Plain
//! atomics and small locked maps, rendered as Prometheus text at `/metrics`; no global recorder,
//! so several keepers in one process (the devnet) each export their own figures.
//!
//! Every exported name is in [`METRICS`], the table `docs/keeper.md` documents (a unit test
//! holds the two together).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::queue::ResultState;

/// Every metric the keeper exports: name, Prometheus type, labels, help. The renderer writes
/// them in this order; docs/keeper.md has one row per entry.
pub const METRICS: &[(&str, &str, &str, &str)] = &[
    (
        "vouch_keeper_queue_depth",
        "gauge",
        "state",
        "Results in the queue by state.",
    ),
    (
        "vouch_keeper_queue_oldest_seconds",
        "gauge",
        "",
        "Age of the oldest result not yet confirmed or failed (0 when none).",
    ),
    (
        "vouch_keeper_results_accepted_total",
        "counter",
        "",
        "Results newly accepted by intake.",
    ),
    (
        "vouch_keeper_results_refused_total",
        "counter",
        "",
        "Intake requests refused (4xx).",
    ),
    (
        "vouch_keeper_proofs_total",
        "counter",
        "",
        "Batch proofs made.",
    ),
    (
        "vouch_keeper_jobs_proven_total",
        "counter",
        "",
        "Jobs covered by those proofs.",
    ),
    (
        "vouch_keeper_proof_seconds",
        "histogram",
        "",
        "Time to make one batch proof.",
    ),
    (
        "vouch_keeper_transactions_total",
        "counter",
        "",
        "Proof transactions landed.",
    ),
    (
        "vouch_keeper_tx_seconds",
        "histogram",
        "",
        "Time from first broadcast to a landed proof transaction.",
    ),
    (
        "vouch_keeper_gas_used_total",
        "counter",
        "",
        "Gas used by landed proof transactions.",
    ),
    (
        "vouch_keeper_replacements_total",
        "counter",
        "",
        "Same-nonce replacements of stuck proof transactions.",
    ),
    (
        "vouch_keeper_resubmissions_total",
        "counter",
        "",
        "Proof transactions sent afresh after a reorg or a lost nonce.",
    ),
    (
        "vouch_keeper_jobs_confirmed_total",
        "counter",
        "",
        "Jobs completed on chain by this keeper's transactions.",
    ),
    (
        "vouch_keeper_jobs_already_done_total",
        "counter",
        "",
        "Jobs found completed on chain already (by an earlier transaction) and marked confirmed.",
    ),
    (
        "vouch_keeper_jobs_failed_total",
        "counter",
        "",
        "Jobs marked failed (deadline passed, or no longer completable on chain).",
    ),
    (
        "vouch_keeper_failures_total",
        "counter",
        "kind",
        "Failed pipeline steps by kind (prove, tx, queue, chain).",
    ),
    (
        "vouch_watcher_ticks_total",
        "counter",
        "",
        "Watcher rounds completed.",
    ),
    (
        "vouch_watcher_claims_total",
        "counter",
        "",
        "Open jobs the watcher claimed.",
    ),
    (
        "vouch_watcher_expiries_total",
        "counter",
        "",
        "Other hosts' overdue jobs the watcher expired.",
    ),
    (
        "vouch_watcher_heartbeats_total",
        "counter",
        "",
        "Heartbeats the watcher sent.",
    ),
    (
        "vouch_watcher_failures_total",
        "counter",
        "chore",
        "Watcher chores that failed, by chore.",
    ),
    (
        "vouch_watcher_alerts_total",
        "counter",
        "kind",
        "Alerts raised, by kind (disputed, slashed, low_stake).",
    ),
];

/// Upper bounds (seconds) of the latency histograms' buckets.
pub const LATENCY_BUCKETS: [f64; 11] =
    [0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0];

/// A Prometheus histogram of durations with [`LATENCY_BUCKETS`].
#[derive(Debug, Default)]
pub struct Histogram {
    inner: Mutex<HistogramState>,
}

#[derive(Debug, Default, Clone)]
struct HistogramState {
    /// Observations at or below each bound (not cumulative; summed when rendered).
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    /// Records one duration.
    pub fn observe(&self, took: Duration) {
        let secs = took.as_secs_f64();
        let mut s = self.inner.lock().expect("metrics lock");
        if let Some(i) = LATENCY_BUCKETS.iter().position(|&b| secs <= b) {
            s.buckets[i] += 1;
        }
        s.count += 1;
        s.sum += secs;
    }

    /// Observations so far.
    pub fn count(&self) -> u64 {
        self.inner.lock().expect("metrics lock").count
    }

    fn render(&self, out: &mut String, name: &str) {
        let s = self.inner.lock().expect("metrics lock").clone();
        let mut cumulative = 0;
        for (bound, n) in LATENCY_BUCKETS.iter().zip(s.buckets) {
            cumulative += n;
            let _ = writeln!(out, "{name}_bucket{{le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "{name}_bucket{{le=\"+Inf\"}} {}", s.count);
        let _ = writeln!(out, "{name}_sum {}", s.sum);
        let _ = writeln!(out, "{name}_count {}", s.count);
    }
}

/// Counts by a label value.
#[derive(Debug, Default)]
pub struct Labeled {
    inner: Mutex<BTreeMap<&'static str, u64>>,
}

impl Labeled {
    pub fn increment(&self, label: &'static str) {
        *self
            .inner
            .lock()
            .expect("metrics lock")
            .entry(label)
            .or_default() += 1;
    }

    /// The count of `label` so far.
    pub fn get(&self, label: &str) -> u64 {
        self.inner
            .lock()
            .expect("metrics lock")
            .get(label)
            .copied()
            .unwrap_or(0)
    }
}

/// The figures of one keeper. Shared behind an `Arc` by intake, the pipeline and the watcher.
#[derive(Debug, Default)]
pub struct Metrics {
    pub results_accepted: AtomicU64,
    pub results_refused: AtomicU64,
    pub proofs: AtomicU64,
    pub jobs_proven: AtomicU64,
    pub proof_seconds: Histogram,
    pub transactions: AtomicU64,
    pub tx_seconds: Histogram,
    pub gas_used: AtomicU64,
    pub replacements: AtomicU64,
    pub resubmissions: AtomicU64,
    pub jobs_confirmed: AtomicU64,
    pub jobs_already_done: AtomicU64,
    pub jobs_failed: AtomicU64,
    pub failures: Labeled,
    pub watcher_ticks: AtomicU64,
    pub watcher_claims: AtomicU64,
    pub watcher_expiries: AtomicU64,
    pub watcher_heartbeats: AtomicU64,
    pub watcher_failures: Labeled,
    pub alerts: Labeled,
}

fn add(a: &AtomicU64, n: u64) {
    a.fetch_add(n, Ordering::Relaxed);
}

fn load(a: &AtomicU64) -> u64 {
    a.load(Ordering::Relaxed)
}

impl Metrics {
    /// One proof of `jobs` jobs that took `took`.
    pub fn proof(&self, jobs: usize, took: Duration) {
        add(&self.proofs, 1);
        add(&self.jobs_proven, jobs as u64);
        self.proof_seconds.observe(took);
    }

    /// One landed proof transaction completing `jobs` jobs.
    pub fn transaction(&self, jobs: usize, landed: &crate::tx::Landed, took: Duration) {
        add(&self.transactions, 1);
        add(&self.gas_used, landed.gas_used);
        add(&self.replacements, u64::from(landed.replacements));
        add(&self.resubmissions, u64::from(landed.resubmissions));
        add(&self.jobs_confirmed, jobs as u64);
        self.tx_seconds.observe(took);
    }

    /// One failure of `kind` (a short snake_case name: "prove", "tx", "queue", "chain").
    pub fn failure(&self, kind: &'static str) {
        self.failures.increment(kind);
    }

    /// The Prometheus text, with the queue's `depth` by state and the age in seconds of its
    /// oldest unsettled result (`oldest_age`: 0 when there is none).
    pub fn render(&self, depth: &BTreeMap<ResultState, u64>, oldest_age: u64) -> String {
        let mut out = String::new();
        for &(name, kind, _, help) in METRICS {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            let labeled = |out: &mut String, label: &str, l: &Labeled| {
                for (value, n) in l.inner.lock().expect("metrics lock").iter() {
                    let _ = writeln!(out, "{name}{{{label}=\"{value}\"}} {n}");
                }
            };
            let value = match name {
                "vouch_keeper_queue_depth" => {
                    for (state, n) in depth {
                        let _ = writeln!(out, "{name}{{state=\"{}\"}} {n}", state.as_str());
                    }
                    None
                }
                "vouch_keeper_queue_oldest_seconds" => Some(oldest_age),
                "vouch_keeper_results_accepted_total" => Some(load(&self.results_accepted)),
                "vouch_keeper_results_refused_total" => Some(load(&self.results_refused)),
                "vouch_keeper_proofs_total" => Some(load(&self.proofs)),
                "vouch_keeper_jobs_proven_total" => Some(load(&self.jobs_proven)),
                "vouch_keeper_proof_seconds" => {
                    self.proof_seconds.render(&mut out, name);
                    None
                }
                "vouch_keeper_transactions_total" => Some(load(&self.transactions)),
                "vouch_keeper_tx_seconds" => {
                    self.tx_seconds.render(&mut out, name);
                    None
                }
                "vouch_keeper_gas_used_total" => Some(load(&self.gas_used)),
                "vouch_keeper_replacements_total" => Some(load(&self.replacements)),
                "vouch_keeper_resubmissions_total" => Some(load(&self.resubmissions)),
                "vouch_keeper_jobs_confirmed_total" => Some(load(&self.jobs_confirmed)),
                "vouch_keeper_jobs_already_done_total" => Some(load(&self.jobs_already_done)),
                "vouch_keeper_jobs_failed_total" => Some(load(&self.jobs_failed)),
                "vouch_keeper_failures_total" => {
                    labeled(&mut out, "kind", &self.failures);
                    None
                }
                "vouch_watcher_ticks_total" => Some(load(&self.watcher_ticks)),
                "vouch_watcher_claims_total" => Some(load(&self.watcher_claims)),
                "vouch_watcher_expiries_total" => Some(load(&self.watcher_expiries)),
                "vouch_watcher_heartbeats_total" => Some(load(&self.watcher_heartbeats)),
                "vouch_watcher_failures_total" => {
                    labeled(&mut out, "chore", &self.watcher_failures);
                    None
                }
                "vouch_watcher_alerts_total" => {
                    labeled(&mut out, "kind", &self.alerts);
                    None
                }
                other => unreachable!("metric {other} is in METRICS but not rendered"),
            };
            if let Some(v) = value {
                let _ = writeln!(out, "{name} {v}");
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_renders_with_its_type_and_values() {
        let m = Metrics::default();
        m.proof(64, Duration::from_millis(170));
        m.proof(1, Duration::from_secs(3));
        m.failure("prove");
        m.alerts.increment("slashed");
        m.watcher_failures.increment("claim");
        let landed = crate::tx::Landed {
            tx_hash: Default::default(),
            block_number: 7,
            gas_used: 2_221_578,
            status: true,
            nonce: 0,
            replacements: 2,
            resubmissions: 0,
        };
        m.transaction(64, &landed, Duration::from_millis(400));
        let depth: BTreeMap<_, _> = ResultState::ALL.into_iter().map(|s| (s, 1)).collect();
        let text = m.render(&depth, 42);
        for &(name, kind, _, _) in METRICS {
            assert!(text.contains(&format!("# TYPE {name} {kind}\n")), "{name}");
        }
        for line in [
            "vouch_keeper_queue_depth{state=\"submitted\"} 1",
            "vouch_keeper_queue_oldest_seconds 42",
            "vouch_keeper_proofs_total 2",
            "vouch_keeper_jobs_proven_total 65",
            "vouch_keeper_proof_seconds_bucket{le=\"0.25\"} 1",
            "vouch_keeper_proof_seconds_bucket{le=\"5\"} 2",
            "vouch_keeper_proof_seconds_bucket{le=\"+Inf\"} 2",
            "vouch_keeper_proof_seconds_count 2",
            "vouch_keeper_tx_seconds_bucket{le=\"0.25\"} 0",
            "vouch_keeper_tx_seconds_bucket{le=\"0.5\"} 1",
            "vouch_keeper_gas_used_total 2221578",
            "vouch_keeper_replacements_total 2",
            "vouch_keeper_jobs_confirmed_total 64",
            "vouch_keeper_failures_total{kind=\"prove\"} 1",
            "vouch_watcher_failures_total{chore=\"claim\"} 1",
            "vouch_watcher_alerts_total{kind=\"slashed\"} 1",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }

    #[test]
    fn docs_keeper_md_documents_every_metric() {
        let docs = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/keeper.md"),
        )
        .expect("docs/keeper.md");
        for &(name, kind, _, _) in METRICS {
            assert!(
                docs.lines()
                    .any(|l| l.starts_with(&format!("| `{name}` | {kind} |"))),
                "docs/keeper.md has no row `| `{name}` | {kind} | ...`"
            );
        }
    }
}
