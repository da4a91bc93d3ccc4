//! Prover benchmark: key load time, prove and verify p50/p95 for B = 1, 16, 64, proof size,
//! peak RSS, and proving throughput in batches of 64 with 1 and with 2 workers.
//!
//!     bash script/setup.sh            # builds the circuit artifacts once
//!     cargo bench -p vouch-keeper --bench prover
//!
//! `VOUCH_BENCH_ROUNDS` (default 40) sets the sequential proofs per batch size and
//! `VOUCH_BENCH_BATCHES` (default 24) the batches of 64 per throughput run. Every proof covers
//! fresh job tuples, so nothing comes from the cache. Results go to docs/benchmarks.md.

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{B256, U256, keccak256};
use vouch_keeper::prover::{BATCH_SIZES, JobTuple, Prover, ProverConfig};

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime");
    runtime.block_on(run());
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Fresh, distinct job tuples: `n` starting at `first`.
fn jobs(first: u64, n: usize) -> Vec<JobTuple> {
    (first..first + n as u64)
        .map(|i| JobTuple {
            job_id: B256::from(U256::from(i + 1)),
            model_hash: keccak256(format!("bench model {i}")),
            input_hash: keccak256(format!("bench input {i}")),
            output_hash: keccak256(format!("bench output {i}")),
        })
        .collect()
}

fn percentile(samples: &[Duration], p: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    let rank = ((p / 100.0) * sorted.len() as f64).ceil().max(1.0) as usize - 1;
    sorted[rank.min(sorted.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.1}", d.as_secs_f64() * 1e3)
}

/// Peak resident set (VmHWM) of a process, in MB.
fn peak_rss_mb(pid: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

async fn load(workers: usize, threads: Option<usize>) -> (Prover, Duration) {
    let mut config = ProverConfig::from_env().expect("VOUCH_* environment");
    config.workers = workers;
    config.threads_per_worker = threads;
    config.cache_capacity = 0;
    let started = Instant::now();
    let prover = Prover::load(config).await.unwrap_or_else(|e| panic!("{e}"));
    (prover, started.elapsed())
}

async fn throughput(prover: Arc<Prover>, batches: usize, first: u64) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    for i in 0..batches {
        let prover = prover.clone();
        let batch = jobs(first + 64 * i as u64, 64);
        tasks.push(tokio::spawn(async move { prover.prove(&batch).await }));
    }
    for task in tasks {
        task.await.expect("task").expect("proof");
    }
    (64 * batches) as f64 / started.elapsed().as_secs_f64()
}

async fn run() {
    let rounds = env_usize("VOUCH_BENCH_ROUNDS", 40);
    let batches = env_usize("VOUCH_BENCH_BATCHES", 24);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "prover benchmark: {cores} cores, {rounds} proofs per batch size, {batches} batches of 64 per throughput run"
    );

    let (prover, load_time) = load(2, None).await;
    let worker_loads: Vec<String> = prover.idle_workers().iter().map(|(_, t)| ms(*t)).collect();
    println!(
        "key load: Prover::load with 2 workers {} ms (per worker, spawn to ready: {} ms)",
        ms(load_time),
        worker_loads.join(", ")
    );

    println!();
    println!(
        "Milliseconds. prove: Prover::prove seen from Rust = witness + EZKL prove + off-chain self-verify"
    );
    println!(
        "+ round trip (JSON lines, EZKL's files). verify: Prover::verify seen from Rust, of which EZKL's verify."
    );
    println!();
    println!(
        "| B | prove p50 | prove p95 | EZKL prove p50 | witness p50 | self-verify p50 | round trip p50 | verify p50 | verify p95 | EZKL verify p50 | proof bytes |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    let mut next = 1_000_000u64;
    for b in BATCH_SIZES {
        // Warm-up: the first call of each circuit in each worker.
        for _ in 0..2 {
            prover.prove(&jobs(next, b)).await.unwrap();
            next += b as u64;
        }
        let (
            mut total,
            mut inner,
            mut witness,
            mut self_verify,
            mut overhead,
            mut verify,
            mut ezkl_verify,
        ) = (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
        let mut size = 0;
        for _ in 0..rounds {
            let (proof, t) = prover
                .prove_timed(&jobs(next, b), Duration::from_secs(30))
                .await
                .unwrap();
            next += b as u64;
            total.push(t.total);
            inner.push(t.prove);
            witness.push(t.witness);
            self_verify.push(t.self_verify);
            overhead.push(t.total.saturating_sub(t.witness + t.prove + t.self_verify));
            size = proof.proof.len();
            let (valid, v) = prover.verify_timed(&proof).await.unwrap();
            assert!(valid);
            verify.push(v.total);
            ezkl_verify.push(v.ezkl);
        }
        println!(
            "| {b} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {size} |",
            ms(percentile(&total, 50.0)),
            ms(percentile(&total, 95.0)),
            ms(percentile(&inner, 50.0)),
            ms(percentile(&witness, 50.0)),
            ms(percentile(&self_verify, 50.0)),
            ms(percentile(&overhead, 50.0)),
            ms(percentile(&verify, 50.0)),
            ms(percentile(&verify, 95.0)),
            ms(percentile(&ezkl_verify, 50.0)),
        );
    }

    let prover = Arc::new(prover);
    let two = throughput(prover.clone(), batches, 10_000_000).await;
    let peaks: Vec<String> = prover
        .idle_workers()
        .iter()
        .filter_map(|(pid, _)| peak_rss_mb(&pid.to_string()).map(|mb| format!("{mb:.0}")))
        .collect();
    drop(prover);
    let (single, _) = load(1, None).await;
    let one = throughput(Arc::new(single), batches, 20_000_000).await;
    let (narrow, _) = load(2, Some(1)).await;
    let two_narrow = throughput(Arc::new(narrow), batches, 30_000_000).await;
    println!();
    println!(
        "throughput at B=64: {two:.0} jobs/s with 2 workers (the default), {one:.0} jobs/s with 1 worker, \
         {two_narrow:.0} jobs/s with 2 workers of 1 EZKL thread each"
    );
    println!(
        "peak RSS: workers {} MB each; this process {:.0} MB",
        peaks.join(", "),
        peak_rss_mb("self").unwrap_or(0.0)
    );
}
