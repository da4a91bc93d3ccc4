//! The prover: real EZKL (Halo2/KZG) proofs that a batch of job tuples is what the host
//! commits to, checked on-chain by the generated `Halo2VerifierB{B}` contracts.
//!
//! EZKL runs in a supervised pool of Python worker processes (`pool.rs`, `worker.rs`): each worker
//! reads the keys once at start, proves (witness, prove, off-chain self-verification) one
//! request at a time, and is killed and replaced on timeout or crash. Proofs are cached by their
//! job tuples (`cache.rs`). What a proof does and does not prove: docs/circuit.md.
//!
//! ```no_run
//! # async fn demo() -> Result<(), vouch_keeper::prover::ProverError> {
//! use vouch_keeper::prover::{JobTuple, Prover, ProverConfig};
//! let prover = Prover::load(ProverConfig::from_env()?).await?;
//! let proof = prover.prove(&[JobTuple::default()]).await?;
//! assert!(prover.verify(&proof).await?);
//! # Ok(()) }
//! ```

mod artifacts;
mod cache;
mod config;
mod error;
mod file;
mod instances;
mod pool;
mod protocol;
mod setup;
mod types;
mod worker;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use alloy::primitives::{Bytes, U256};

pub use artifacts::{
    Artifacts, CIRCUIT_FILES, Manifest, ManifestSrs, ManifestVerifier, verifier_artifact,
    verifier_contract,
};
pub use cache::CacheStats;
pub use config::ProverConfig;
pub use error::ProverError;
pub use file::{
    HexValueError, ProofFile, parse_hash, parse_job_id, prove_to_file, read_proof_file, verify_file,
};
pub use instances::{FIELD_MODULUS, instances_for, limbs};
pub use setup::{SetupOptions, SetupReport, setup};
pub use types::{
    BATCH_SIZES, CIRCUIT_VERSION, JobTuple, LIMBS_PER_JOB, MAX_BATCH_SIZE, Proof, batch_size_for,
};

use cache::ProofCache;
use instances::{from_felt, to_felt};
use pool::Pool;
use protocol::{Op, ProveReply, VerifyReply};
use worker::WorkerSpec;

/// Where the time of one `prove` went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ProveTimings {
    /// True when the proof came from the cache (the other fields are then zero but `total`).
    pub cached: bool,
    /// EZKL witness generation, in the worker.
    pub witness: Duration,
    /// EZKL proving, in the worker.
    pub prove: Duration,
    /// EZKL off-chain verification of the fresh proof, in the worker.
    pub self_verify: Duration,
    /// Everything, seen from Rust (includes the JSON-lines round trip and waiting for a worker).
    pub total: Duration,
}

/// Where the time of one `verify` went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct VerifyTimings {
    /// EZKL's verification, in the worker (zero when the instances did not match the jobs).
    pub ezkl: Duration,
    /// Everything, seen from Rust.
    pub total: Duration,
}

/// Makes and checks proofs with a pool of EZKL workers. Cheap to share behind an `Arc`; all
/// methods take `&self` and may run concurrently (up to `workers` at a time).
pub struct Prover {
    config: ProverConfig,
    manifests: BTreeMap<usize, Manifest>,
    pool: Pool,
    cache: ProofCache,
}

impl Prover {
    /// Checks the artifacts of every configured batch size and starts the workers, which read
    /// the keys once.
    #[tracing::instrument(name = "prover_load", skip_all, fields(workers = config.workers))]
    pub async fn load(config: ProverConfig) -> Result<Self, ProverError> {
        let mut batch_sizes = config.batch_sizes.clone();
        batch_sizes.sort_unstable();
        batch_sizes.dedup();
        if batch_sizes.is_empty() {
            return Err(ProverError::BadInput(
                "ProverConfig::batch_sizes is empty".into(),
            ));
        }
        let mut manifests = BTreeMap::new();
        let mut circuits = BTreeMap::new();
        for &b in &batch_sizes {
            if !BATCH_SIZES.contains(&b) {
                return Err(ProverError::UnsupportedBatchSize(b));
            }
            manifests.insert(b, config.artifacts.manifest(b)?);
            circuits.insert(b, config.artifacts.circuit_paths(b)?);
        }
        if !config.python.exists() {
            return Err(ProverError::Python {
                path: config.python.clone(),
                reason: "not found".into(),
            });
        }
        let spec = WorkerSpec {
            python: config.python.clone(),
            circuits,
            threads: config.threads_per_worker,
            start_timeout: config.start_timeout,
        };
        let pool = Pool::start(spec, config.workers.max(1)).await?;
        let cache = ProofCache::new(config.cache_capacity);
        let config = ProverConfig {
            batch_sizes,
            ..config
        };
        Ok(Self {
            config,
            manifests,
            pool,
            cache,
        })
    }

    /// Proves `jobs` (1 to 64) with the smallest loaded batch size that fits them, padding the
    /// other slots with zeros. The proof is verified off-chain before it is returned. A batch
    /// proven before (same tuples, same order) comes from the cache, identical.
    pub async fn prove(&self, jobs: &[JobTuple]) -> Result<Proof, ProverError> {
        self.prove_timed(jobs, self.config.prove_timeout)
            .await
            .map(|(proof, _)| proof)
    }

    /// [`Prover::prove`] with an explicit timeout; also says where the time went.
    #[tracing::instrument(name = "prove", skip_all, fields(jobs = jobs.len(), batch_size, cached))]
    pub async fn prove_timed(
        &self,
        jobs: &[JobTuple],
        timeout: Duration,
    ) -> Result<(Proof, ProveTimings), ProverError> {
        let started = Instant::now();
        let batch_size = self.batch_size_for(jobs.len())?;
        let span = tracing::Span::current();
        span.record("batch_size", batch_size);
        if let Some(proof) = self.cache.get(jobs) {
            span.record("cached", true);
            return Ok((
                proof,
                ProveTimings {
                    cached: true,
                    total: started.elapsed(),
                    ..Default::default()
                },
            ));
        }
        span.record("cached", false);
        let instances = instances_for(jobs, batch_size);
        let op = Op::Prove {
            batch_size,
            felts: instances.iter().map(to_felt).collect(),
        };
        let reply: ProveReply = self.pool.request(&op, timeout).await?;
        let proof = parse_proof_hex(&reply.proof)?;
        let returned = parse_felts(&reply.instances)?;
        if returned != instances {
            return Err(ProverError::SelfCheck(
                "the proof's public instances are not the requested layout".into(),
            ));
        }
        if !reply.verified {
            let reason = reply
                .reason
                .as_deref()
                .unwrap_or("verification returned false");
            return Err(ProverError::SelfCheck(format!(
                "off-chain verification failed: {reason}"
            )));
        }
        let timings = ProveTimings {
            cached: false,
            witness: millis(reply.witness_ms),
            prove: millis(reply.prove_ms),
            self_verify: millis(reply.verify_ms),
            total: started.elapsed(),
        };
        tracing::debug!(
            witness_ms = timings.witness.as_secs_f64() * 1e3,
            prove_ms = timings.prove.as_secs_f64() * 1e3,
            total_ms = timings.total.as_secs_f64() * 1e3,
            "proof made"
        );
        let proof = Proof {
            batch_size,
            circuit_version: CIRCUIT_VERSION,
            jobs: jobs.to_vec(),
            proof,
            instances,
        };
        self.cache.insert(&proof);
        Ok((proof, timings))
    }

    /// Verifies `proof` off-chain, with the same verifying key the on-chain verifier embeds.
    ///
    /// `Ok(true)`: the proof is valid for exactly `proof.jobs`. `Ok(false)`: it is not (its
    /// instances are not the layout of its jobs, or the Halo2 verification fails, e.g. after a
    /// changed value or proof byte). `Err(MalformedProof)`: it cannot be checked at all (unknown
    /// circuit version or batch size, wrong number of jobs or instances, empty proof).
    pub async fn verify(&self, proof: &Proof) -> Result<bool, ProverError> {
        self.verify_timed(proof).await.map(|(valid, _)| valid)
    }

    /// [`Prover::verify`], also saying where the time went.
    #[tracing::instrument(name = "verify", skip_all, fields(jobs = proof.jobs.len(), batch_size = proof.batch_size, valid))]
    pub async fn verify_timed(&self, proof: &Proof) -> Result<(bool, VerifyTimings), ProverError> {
        let started = Instant::now();
        check_shape(proof)?;
        if !self.config.batch_sizes.contains(&proof.batch_size) {
            return Err(ProverError::BatchSizeNotLoaded(proof.batch_size));
        }
        if proof.instances != instances_for(&proof.jobs, proof.batch_size) {
            tracing::debug!("instances are not the layout of the proof's jobs");
            tracing::Span::current().record("valid", false);
            return Ok((
                false,
                VerifyTimings {
                    ezkl: Duration::ZERO,
                    total: started.elapsed(),
                },
            ));
        }
        let op = Op::Verify {
            batch_size: proof.batch_size,
            proof: alloy::hex::encode(&proof.proof),
            felts: proof.instances.iter().map(to_felt).collect(),
        };
        let reply: VerifyReply = self.pool.request(&op, self.config.verify_timeout).await?;
        let valid = reply.valid;
        if !valid {
            tracing::debug!(reason = ?reply.reason, "proof does not verify");
        }
        tracing::Span::current().record("valid", valid);
        Ok((
            valid,
            VerifyTimings {
                ezkl: millis(reply.verify_ms),
                total: started.elapsed(),
            },
        ))
    }

    /// The configuration the prover runs with (batch sizes sorted).
    pub fn config(&self) -> &ProverConfig {
        &self.config
    }

    /// What setup built for `batch_size`, if loaded.
    pub fn manifest(&self, batch_size: usize) -> Option<&Manifest> {
        self.manifests.get(&batch_size)
    }

    /// Proof cache counters.
    pub fn cache_stats(&self) -> CacheStats {
        self.cache.stats()
    }

    /// Process ids and start-up (key load) times of the workers not busy right now.
    pub fn idle_workers(&self) -> Vec<(u32, Duration)> {
        self.pool.idle_workers()
    }

    /// Number of worker processes.
    pub fn workers(&self) -> usize {
        self.pool.size()
    }

    fn batch_size_for(&self, jobs: usize) -> Result<usize, ProverError> {
        if jobs == 0 {
            return Err(ProverError::EmptyBatch);
        }
        if jobs > MAX_BATCH_SIZE {
            return Err(ProverError::TooManyJobs {
                jobs,
                max: MAX_BATCH_SIZE,
            });
        }
        self.config
            .batch_sizes
            .iter()
            .copied()
            .find(|&b| b >= jobs)
            .ok_or_else(|| {
                ProverError::BatchSizeNotLoaded(batch_size_for(jobs).expect("1..=64 fits"))
            })
    }
}

/// The structural checks of a proof: without them it cannot be verified at all.
fn check_shape(proof: &Proof) -> Result<(), ProverError> {
    let malformed = |m: String| Err(ProverError::MalformedProof(m));
    if proof.circuit_version != CIRCUIT_VERSION {
        return malformed(format!(
            "circuit version {} (this prover has version {CIRCUIT_VERSION})",
            proof.circuit_version
        ));
    }
    if !BATCH_SIZES.contains(&proof.batch_size) {
        return malformed(format!(
            "batch size {} (circuits exist for 1, 16, 64)",
            proof.batch_size
        ));
    }
    if proof.jobs.is_empty() || proof.jobs.len() > proof.batch_size {
        return malformed(format!(
            "{} jobs for a batch of {}",
            proof.jobs.len(),
            proof.batch_size
        ));
    }
    if proof.instances.len() != LIMBS_PER_JOB * proof.batch_size {
        return malformed(format!(
            "{} public instances (a batch of {} has {})",
            proof.instances.len(),
            proof.batch_size,
            LIMBS_PER_JOB * proof.batch_size
        ));
    }
    if proof.proof.is_empty() {
        return malformed("empty proof bytes".into());
    }
    Ok(())
}

fn parse_proof_hex(hex: &str) -> Result<Bytes, ProverError> {
    alloy::hex::decode(hex)
        .ok()
        .filter(|b| !b.is_empty())
        .map(Bytes::from)
        .ok_or_else(|| ProverError::Protocol("prove reply without proof hex".into()))
}

fn parse_felts(felts: &[String]) -> Result<Vec<U256>, ProverError> {
    felts
        .iter()
        .map(|f| from_felt(f))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ProverError::Protocol("prove reply with unreadable instances".into()))
}

fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64(ms.max(0.0) / 1e3)
}
