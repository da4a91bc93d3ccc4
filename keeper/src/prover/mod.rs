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
mod models;
mod pool;
mod protocol;
mod setup;
mod types;
mod worker;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use alloy::primitives::{B256, Bytes, U256};

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
pub use models::{
    Evaluation, InferTimings, Inference, InstanceLayout, ModelManifest, ModelSizes, ModelSrs,
    VerifiableModels, decode_output, encode_output, felt_to_signed, field_to_hash, hash_to_field,
    model_hash_of, model_names,
};
pub use setup::{SetupOptions, SetupReport, setup};
pub use types::{
    BATCH_SIZES, CIRCUIT_VERSION, JobTuple, LIMBS_PER_JOB, MAX_BATCH_SIZE, Proof, batch_size_for,
};

use cache::ProofCache;
use instances::{from_felt, to_felt};
use pool::Pool;
use protocol::{CommitReply, InferReply, Op, ProveReply, VerifyReply};
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
    models: VerifiableModels,
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
        if batch_sizes.is_empty() && config.models.is_empty() {
            return Err(ProverError::BadInput(
                "ProverConfig has no batch size and no model to load".into(),
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
        let models = VerifiableModels::load_only(&config.artifacts, &config.models)?;
        let mut model_paths = BTreeMap::new();
        for manifest in models.iter() {
            manifest.hash()?;
            model_paths.insert(
                manifest.name.clone(),
                config.artifacts.model_paths(manifest)?,
            );
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
            models: model_paths,
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
            models,
            pool,
            cache,
        })
    }

    /// The verifiable models this prover loaded.
    pub fn models(&self) -> &VerifiableModels {
        &self.models
    }

    fn model(&self, name: &str) -> Result<&ModelManifest, ProverError> {
        self.models.get(name).ok_or_else(|| {
            ProverError::ModelNotLoaded(name.to_string(), self.models.names().join(", "))
        })
    }

    fn check_input(manifest: &ModelManifest, input: &[f64]) -> Result<(), ProverError> {
        let bad = |reason: String| ProverError::BadModelInput {
            model: manifest.name.clone(),
            reason,
        };
        if input.len() != manifest.input_len() {
            return Err(bad(format!(
                "{} numbers given, the model takes {} (shape {:?})",
                input.len(),
                manifest.input_len(),
                manifest.input_shape
            )));
        }
        if let Some(i) = input.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!("value {i} is not a finite number")));
        }
        Ok(())
    }

    /// The commitment a job of `model` on `input` carries as its `inputHash`: EZKL's Poseidon
    /// hash of the quantized input, computed by the model's own witness (the computation the
    /// circuit constrains), as a bytes32 (`bytes32(uint256(x))`).
    #[tracing::instrument(name = "commit_input", skip(self, input))]
    pub async fn commit_input(&self, model: &str, input: &[f64]) -> Result<B256, ProverError> {
        self.evaluate(model, input).await.map(|(hash, _)| hash)
    }

    /// The input commitment and the quantized output of `model` on `input`, from the witness
    /// alone (no proof): what [`Prover::infer`] would prove.
    pub async fn evaluate(
        &self,
        model: &str,
        input: &[f64],
    ) -> Result<(B256, Vec<i128>), ProverError> {
        self.evaluation(model, input)
            .await
            .map(|e| (e.input_hash, e.output))
    }

    /// [`Prover::evaluate`] with the output's commitment as well: everything intake needs to
    /// check a verifiable job's input and sign its output before any proof is made.
    #[tracing::instrument(name = "evaluate", skip(self, input))]
    pub async fn evaluation(&self, model: &str, input: &[f64]) -> Result<Evaluation, ProverError> {
        let manifest = self.model(model)?;
        Self::check_input(manifest, input)?;
        let op = Op::Commit {
            model: model.to_string(),
            input: input.to_vec(),
        };
        let reply: CommitReply = self.pool.request(&op, self.config.prove_timeout).await?;
        let hash = |f: &str| {
            from_felt(f)
                .map(field_to_hash)
                .ok_or_else(|| ProverError::Protocol("commit reply with an unreadable hash".into()))
        };
        Ok(Evaluation {
            input_hash: hash(&reply.input_hash)?,
            output_hash: hash(&reply.output_hash)?,
            output: signed_felts(&reply.output)?,
        })
    }

    /// Runs verifiable `model` on `input` through EZKL's witness, proves it and verifies the
    /// proof off-chain: the quantized output, both commitments and the proof.
    #[tracing::instrument(name = "infer", skip(self, input), fields(prove_ms))]
    pub async fn infer(
        &self,
        model: &str,
        input: &[f64],
    ) -> Result<(Inference, InferTimings), ProverError> {
        let started = Instant::now();
        let manifest = self.model(model)?;
        Self::check_input(manifest, input)?;
        let op = Op::Infer {
            model: model.to_string(),
            input: input.to_vec(),
        };
        let reply: InferReply = self.pool.request(&op, self.config.prove_timeout).await?;
        let felt = |f: &str| {
            from_felt(f)
                .ok_or_else(|| ProverError::Protocol("infer reply with an unreadable felt".into()))
        };
        let input_hash = felt(&reply.input_hash)?;
        let output_hash = felt(&reply.output_hash)?;
        let instances = parse_felts(&reply.instances)?;
        if instances != [input_hash, output_hash] {
            return Err(ProverError::SelfCheck(
                "the inference proof's instances are not [poseidon(input), poseidon(output)]"
                    .into(),
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
        let output = signed_felts(&reply.output)?;
        if output.len() != manifest.output_len() {
            return Err(ProverError::Protocol(format!(
                "{} output values, the model has {}",
                output.len(),
                manifest.output_len()
            )));
        }
        let timings = InferTimings {
            witness: millis(reply.witness_ms),
            prove: millis(reply.prove_ms),
            self_verify: millis(reply.verify_ms),
            total: started.elapsed(),
        };
        tracing::Span::current().record("prove_ms", reply.prove_ms);
        Ok((
            Inference {
                model: model.to_string(),
                model_hash: manifest.hash()?,
                input_hash: field_to_hash(input_hash),
                output_hash: field_to_hash(output_hash),
                output,
                proof: parse_proof_hex(&reply.proof)?,
            },
            timings,
        ))
    }

    /// Verifies an inference proof of `model` off-chain against `[input_hash, output_hash]`.
    /// `Ok(false)` when it does not verify (or a hash is no field element).
    #[tracing::instrument(name = "verify_inference", skip_all, fields(model))]
    pub async fn verify_inference(
        &self,
        model: &str,
        input_hash: &B256,
        output_hash: &B256,
        proof: &[u8],
    ) -> Result<bool, ProverError> {
        self.model(model)?;
        let (Some(x_in), Some(x_out)) = (hash_to_field(input_hash), hash_to_field(output_hash))
        else {
            return Ok(false);
        };
        if proof.is_empty() {
            return Err(ProverError::MalformedProof("empty proof bytes".into()));
        }
        let op = Op::VerifyInference {
            model: model.to_string(),
            proof: alloy::hex::encode(proof),
            felts: vec![to_felt(&x_in), to_felt(&x_out)],
        };
        let reply: VerifyReply = self.pool.request(&op, self.config.verify_timeout).await?;
        Ok(reply.valid)
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

fn signed_felts(felts: &[String]) -> Result<Vec<i128>, ProverError> {
    felts
        .iter()
        .map(|f| from_felt(f).and_then(felt_to_signed))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ProverError::Protocol("a reply with an unreadable output value".into()))
}

fn millis(ms: f64) -> Duration {
    Duration::from_secs_f64(ms.max(0.0) / 1e3)
}
