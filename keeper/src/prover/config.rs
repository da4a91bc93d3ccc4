//! How a [`crate::prover::Prover`] runs: artifacts, Python, pool size, timeouts, cache size.
//!
//! [`ProverConfig::from_env`] reads `VOUCH_PYTHON`, `VOUCH_PROVER_WORKERS`,
//! `VOUCH_PROVER_THREADS` (0: every core), `VOUCH_PROVER_MODELS`, `VOUCH_PROVE_TIMEOUT_MS`, `VOUCH_VERIFY_TIMEOUT_MS`, `VOUCH_PROOF_CACHE` and the artifact
//! locations of [`Artifacts::from_env`].

use std::path::PathBuf;
use std::time::Duration;

use super::artifacts::{Artifacts, env_path};
use super::error::ProverError;
use super::types::BATCH_SIZES;

/// Configuration of a [`crate::prover::Prover`].
#[derive(Debug, Clone)]
pub struct ProverConfig {
    /// Where the circuit artifacts are.
    pub artifacts: Artifacts,
    /// The Python interpreter with EZKL (default `<root>/.venv/bin/python`).
    pub python: PathBuf,
    /// The batch sizes whose keys the workers load (default: all of [`BATCH_SIZES`]).
    pub batch_sizes: Vec<usize>,
    /// Verifiable models whose keys the workers load (default none; `VOUCH_PROVER_MODELS`, a
    /// comma list or `all`).
    pub models: Vec<String>,
    /// Worker processes (default: the number of cores, at most 2). Each proof runs in one
    /// worker; EZKL spreads a proof over the cores too, so 2 workers on 2 cores add throughput
    /// (measured, docs/benchmarks.md) at some cost in single-proof latency under load.
    pub workers: usize,
    /// Threads EZKL may use in each worker (`RAYON_NUM_THREADS`); `None` lets it use every core.
    /// With 2 workers on 2 cores, 1 thread each gives ~15% more throughput and ~60% more
    /// latency per proof (docs/benchmarks.md).
    pub threads_per_worker: Option<usize>,
    /// Longest a proof (witness, prove, self-verify) may take before its worker is killed.
    pub prove_timeout: Duration,
    /// Longest an off-chain verification may take before its worker is killed.
    pub verify_timeout: Duration,
    /// Longest a worker may take to start (import EZKL, read the keys).
    pub start_timeout: Duration,
    /// Proofs kept in the LRU cache (0 disables it).
    pub cache_capacity: usize,
}

impl ProverConfig {
    /// Defaults for the given artifact locations.
    pub fn new(artifacts: Artifacts) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            python: artifacts.root.join(".venv").join("bin").join("python"),
            artifacts,
            batch_sizes: BATCH_SIZES.to_vec(),
            models: Vec::new(),
            workers: cores.clamp(1, 2),
            threads_per_worker: None,
            prove_timeout: Duration::from_secs(30),
            verify_timeout: Duration::from_secs(10),
            start_timeout: Duration::from_secs(60),
            cache_capacity: 4096,
        }
    }

    /// Defaults overridden by the `VOUCH_*` environment (see the module doc).
    pub fn from_env() -> Result<Self, ProverError> {
        let mut config = Self::new(Artifacts::from_env());
        if let Some(python) = env_path("VOUCH_PYTHON") {
            config.python = python;
        }
        if let Some(n) = env_number("VOUCH_PROVER_WORKERS")? {
            if n == 0 {
                return Err(ProverError::BadInput(
                    "VOUCH_PROVER_WORKERS must be at least 1".into(),
                ));
            }
            config.workers = n as usize;
        }
        if let Some(n) = env_number("VOUCH_PROVER_THREADS")? {
            config.threads_per_worker = (n > 0).then_some(n as usize);
        }
        if let Some(ms) = env_number("VOUCH_PROVE_TIMEOUT_MS")? {
            config.prove_timeout = Duration::from_millis(ms);
        }
        if let Some(ms) = env_number("VOUCH_VERIFY_TIMEOUT_MS")? {
            config.verify_timeout = Duration::from_millis(ms);
        }
        if let Ok(list) = std::env::var("VOUCH_PROVER_MODELS") {
            config.models = match list.trim() {
                "" => Vec::new(),
                "all" => super::models::model_names(&config.artifacts)?,
                list => list.split(',').map(|m| m.trim().to_string()).collect(),
            };
        }
        if let Some(n) = env_number("VOUCH_PROOF_CACHE")? {
            config.cache_capacity = n as usize;
        }
        Ok(config)
    }
}

fn env_number(name: &str) -> Result<Option<u64>, ProverError> {
    match std::env::var(name) {
        Ok(v) if !v.trim().is_empty() => v.trim().parse().map(Some).map_err(|_| {
            ProverError::BadInput(format!(
                "{name}={v:?} is not a whole number: fix or unset it"
            ))
        }),
        _ => Ok(None),
    }
}
