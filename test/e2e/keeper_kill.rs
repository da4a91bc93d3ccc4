//! `vouch keeper run` as a process on a real chain (anvil, the real deploy script) with the real
//! EZKL prover and SQLite:
//! - SIGKILLed at random moments (10 times) during a 200-result run and restarted each time,
//!   the client resubmitting what it had no 202 for: every job completed on chain exactly once,
//!   nothing lost, no nonce gap, every proof transaction successful (nothing sent for a job
//!   already completed), and one signature per job whatever the restarts;
//! - SIGTERM while a batch is landing: the batch is finished, the process exits 0, the results
//!   not yet batched wait in the queue and a restart lands them.

#[path = "../../keeper/tests/world/mod.rs"]
mod world;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alloy::consensus::Transaction as _;
use alloy::network::TransactionResponse;
use alloy::primitives::{B256, Bytes};
use alloy::providers::{Provider, ext::AnvilApi};
use serde_json::{Value, json};
use vouch_keeper::prover::JobTuple;
use vouch_keeper::queue::{Queue, ResultState};
use world::{World, output_text};

/// One `vouch keeper run` process for the world's host, on `db`, at `port`.
struct KeeperProcess {
    child: Child,
    port: u16,
}

impl KeeperProcess {
    fn spawn(world: &World, db: &str, port: u16, batch_wait_ms: u64, log: &Path) -> Self {
        let key = format!("0x{}", alloy::hex::encode(world.anvil.keys()[2].to_bytes()));
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_vouch"))
            .args(["keeper", "run", "--rpc-url"])
            .arg(world.anvil.endpoint())
            .arg("--deployment")
            .arg(world.manifest_path())
            .args(["--host", &world.host.to_string(), "--database", db])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args([
                "--batch-wait-ms",
                &batch_wait_ms.to_string(),
                "--tx-poll-ms",
                "25",
            ])
            .env("VOUCH_PRIVATE_KEY", key)
            .env("VOUCH_LOG", "warn,vouch=info,vouch_keeper=info")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        KeeperProcess { child, port }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Waits (bounded) until `/healthz` answers 200.
    async fn ready(&mut self) {
        let start = Instant::now();
        loop {
            if let Ok(r) = reqwest::get(self.url("/healthz")).await
                && r.status() == 200
            {
                return;
            }
            assert!(
                self.child.try_wait().unwrap().is_none(),
                "the keeper exited at start"
            );
            assert!(
                start.elapsed() < Duration::from_secs(60),
                "the keeper never got ready"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([&format!("-{name}"), &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// Waits (bounded) for the exit; returns its code.
    async fn exit_code(&mut self, within: Duration) -> Option<i32> {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code();
            }
            assert!(
                start.elapsed() < within,
                "the keeper did not exit within {within:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for KeeperProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// POSTs job `i`'s result; the signature when it was accepted (202).
async fn post(client: &reqwest::Client, base: &str, job: &JobTuple, text: &str) -> Option<Bytes> {
    let response = client
        .post(format!("{base}/v1/results"))
        .timeout(Duration::from_secs(5))
        .json(&json!({ "jobId": format!("{:#x}", job.job_id), "output": text }))
        .send()
        .await
        .ok()?;
    if response.status() != 202 {
        return None;
    }
    let body: Value = response.json().await.ok()?;
    body["signature"].as_str()?.parse().ok()
}

/// Posts up to 8 of the results without a 202 yet, at once; records what was accepted.
async fn post_some(
    client: &reqwest::Client,
    base: &str,
    jobs: &[JobTuple],
    unanswered: &mut BTreeSet<usize>,
    signatures: &mut BTreeMap<usize, BTreeSet<Bytes>>,
) {
    let mut posts = tokio::task::JoinSet::new();
    for i in unanswered.iter().copied().take(8) {
        let (client, base, job) = (client.clone(), base.to_owned(), jobs[i]);
        posts.spawn(async move { (i, post(&client, &base, &job, &output_text("kill", i)).await) });
    }
    while let Some(done) = posts.join_next().await {
        let (i, signature) = done.unwrap();
        if let Some(signature) = signature {
            signatures.entry(i).or_default().insert(signature);
            unanswered.remove(&i);
        }
    }
}

/// Each job completed exactly once with its output; returns the proof transactions.
async fn completed_once(world: &World, jobs: &[JobTuple]) -> BTreeSet<B256> {
    let mut by_job: BTreeMap<B256, Vec<(B256, B256)>> = BTreeMap::new();
    for (job, output, tx) in world.completions().await {
        by_job.entry(job).or_default().push((output, tx));
    }
    assert_eq!(by_job.len(), jobs.len(), "every job completed");
    for job in jobs {
        let seen = &by_job[&job.job_id];
        assert_eq!(
            seen.len(),
            1,
            "job {} completed {} times",
            job.job_id,
            seen.len()
        );
        assert_eq!(seen[0].0, job.output_hash);
    }
    by_job.values().map(|v| v[0].1).collect()
}

/// The operator's transactions to the ProofSystem in every block, with their receipts' status.
async fn proof_transactions(world: &World) -> Vec<(B256, bool)> {
    let head = world.provider.get_block_number().await.unwrap();
    let mut out = Vec::new();
    for n in 0..=head {
        let block = world
            .provider
            .get_block_by_number(n.into())
            .full()
            .await
            .unwrap()
            .unwrap();
        for tx in block.transactions.into_transactions() {
            if tx.from() == world.operator
                && tx.to() == Some(world.deployment.contracts.proof_system)
            {
                let hash = tx.tx_hash();
                let receipt = world.receipt(hash).await;
                out.push((hash, receipt.status()));
            }
        }
    }
    out
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}

/// A small deterministic generator (xorshift), seeded from the clock and printed, so a failing
/// run's kill moments can be replayed with `VOUCH_KILL_SEED`.
struct Rng(u64);

impl Rng {
    fn new() -> Self {
        let seed = std::env::var("VOUCH_KILL_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("kill seed: {seed} (VOUCH_KILL_SEED={seed} replays it)");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

#[tokio::test]
async fn sigkill_at_random_moments_loses_nothing_and_completes_every_job_once() {
    const N: usize = 200;
    const KILLS: usize = 10;
    let started = Instant::now();
    let world = World::new().await;
    let jobs = world.many_claimed_jobs(N, "kill").await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keeper.sqlite").display());
    let log = dir.path().join("keeper.log");
    let port = free_port();
    let client = reqwest::Client::new();
    let mut rng = Rng::new();
    let mut signatures: BTreeMap<usize, BTreeSet<Bytes>> = BTreeMap::new();
    let mut unanswered: BTreeSet<usize> = (0..N).collect();
    let base = format!("http://127.0.0.1:{port}");

    let mut watch: Option<Queue> = None;
    let mut mid_batch = 0;
    for _ in 0..KILLS {
        let mut keeper = KeeperProcess::spawn(&world, &db, port, 300, &log);
        keeper.ready().await;
        if watch.is_none() {
            watch = Some(Queue::open(&db).await.unwrap());
        }
        // The client posts what it has no 202 for, a few at a time, until the kill.
        let kill_at = Instant::now() + Duration::from_millis(150 + rng.below(1500));
        while !unanswered.is_empty() && Instant::now() < kill_at {
            post_some(&client, &base, &jobs, &mut unanswered, &mut signatures).await;
        }
        let now = Instant::now();
        if now < kill_at {
            tokio::time::sleep(kill_at - now).await;
        }
        let depth = watch.as_ref().unwrap().depth().await.unwrap();
        if depth[&ResultState::Proving] + depth[&ResultState::Submitted] > 0 {
            mid_batch += 1;
        }
        keeper.signal("KILL");
        assert_eq!(
            keeper.exit_code(Duration::from_secs(10)).await,
            None,
            "killed by a signal"
        );
    }

    // The last keeper takes the rest and lands everything; then it is stopped gracefully.
    let mut keeper = KeeperProcess::spawn(&world, &db, port, 300, &log);
    keeper.ready().await;
    while !unanswered.is_empty() {
        post_some(&client, &base, &jobs, &mut unanswered, &mut signatures).await;
    }
    // Every result is resubmitted once more: the same signature comes back.
    for (i, job) in jobs.iter().enumerate() {
        let signature = post(&client, &base, job, &output_text("kill", i))
            .await
            .unwrap();
        signatures.entry(i).or_default().insert(signature);
    }
    let queue = Queue::open(&db).await.unwrap();
    let start = Instant::now();
    while queue.depth().await.unwrap()[&ResultState::Confirmed] < N as u64 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "not all confirmed: {:?}\n{}",
            queue.depth().await.unwrap(),
            log_tail(&log)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    keeper.signal("TERM");
    assert_eq!(keeper.exit_code(Duration::from_secs(30)).await, Some(0));

    for (i, seen) in &signatures {
        assert_eq!(
            seen.len(),
            1,
            "job {i} got {} different signatures",
            seen.len()
        );
    }
    assert_eq!(signatures.len(), N);
    let txs = completed_once(&world, &jobs).await;
    let sent = proof_transactions(&world).await;
    assert!(
        sent.iter().all(|(_, ok)| *ok),
        "a proof transaction reverted: {sent:?}"
    );
    let sent: BTreeSet<B256> = sent.into_iter().map(|(h, _)| h).collect();
    assert_eq!(sent, txs, "every proof transaction completed jobs");
    // No nonce gap, nothing stuck: the account's nonce counts exactly the claims and proofs.
    let latest = world
        .provider
        .get_transaction_count(world.operator)
        .await
        .unwrap();
    let pending = world
        .provider
        .get_transaction_count(world.operator)
        .pending()
        .await
        .unwrap();
    assert_eq!(
        (latest, pending),
        ((N + txs.len()) as u64, (N + txs.len()) as u64)
    );
    let depth = queue.depth().await.unwrap();
    assert_eq!(depth[&ResultState::Confirmed], N as u64);
    eprintln!(
        "{KILLS} kills ({mid_batch} with a batch in flight), {} proof transactions, {:.1} s",
        txs.len(),
        started.elapsed().as_secs_f64()
    );
}

#[tokio::test]
async fn sigterm_during_a_batch_finishes_it_exits_0_and_a_restart_lands_the_rest() {
    let world = World::new().await;
    let jobs = world.many_claimed_jobs(80, "term").await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("keeper.sqlite").display());
    let log = dir.path().join("keeper.log");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    // A long batch wait: only a full batch of 64 flushes at once.
    let mut keeper = KeeperProcess::spawn(&world, &db, port, 5000, &log);
    keeper.ready().await;
    world.provider.anvil_set_auto_mine(false).await.unwrap();
    for (i, job) in jobs[..64].iter().enumerate() {
        assert!(
            post(&client, &base, job, &output_text("term", i))
                .await
                .is_some()
        );
    }
    let queue = Queue::open(&db).await.unwrap();
    let start = Instant::now();
    while queue.depth().await.unwrap()[&ResultState::Submitted] < 64 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{}",
            log_tail(&log)
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    for (i, job) in jobs.iter().enumerate().skip(64) {
        assert!(
            post(&client, &base, job, &output_text("term", i))
                .await
                .is_some()
        );
    }
    keeper.signal("TERM");
    // Still finishing its batch, whose transaction waits for a block.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        keeper.child.try_wait().unwrap().is_none(),
        "exited with a batch in flight"
    );
    world.provider.anvil_mine(Some(1), None).await.unwrap();
    world.provider.anvil_set_auto_mine(true).await.unwrap();
    assert_eq!(
        keeper.exit_code(Duration::from_secs(30)).await,
        Some(0),
        "{}",
        log_tail(&log)
    );
    let depth = queue.depth().await.unwrap();
    assert_eq!(
        (
            depth[&ResultState::Confirmed],
            depth[&ResultState::Accepted]
        ),
        (64, 16),
        "{depth:?}"
    );
    assert_eq!(
        depth[&ResultState::Proving] + depth[&ResultState::Submitted],
        0
    );

    let mut keeper = KeeperProcess::spawn(&world, &db, port, 500, &log);
    keeper.ready().await;
    let start = Instant::now();
    while queue.depth().await.unwrap()[&ResultState::Confirmed] < 80 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{}",
            log_tail(&log)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    keeper.signal("TERM");
    assert_eq!(keeper.exit_code(Duration::from_secs(30)).await, Some(0));
    let txs = completed_once(&world, &jobs).await;
    assert_eq!(txs.len(), 2);
    let nonce = world
        .provider
        .get_transaction_count(world.operator)
        .await
        .unwrap();
    assert_eq!(nonce, 80 + 2);
}
