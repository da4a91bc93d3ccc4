//! Shared by the failover, crash and outage tests: an anvil chain with the real deployment and
//! many VOUCH transfers on it, `vouch index` as a child process, and what a full index holds
//! (eth_getLogs count, the store digest of a clean single-instance run).

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::network::{EthereumWallet, NetworkTransactionBuilder, TransactionBuilder};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use vouch_bindings::contracts::VouchToken;
use vouch_bindings::{AddressBook, Deployment};
use vouch_indexer::store::{IndexWriter, SeaStore};
use vouch_testkit::ScriptDeployment;

pub const CHAIN_ID: u64 = 31337;

/// An anvil chain with the deployment on it.
pub struct Chain {
    pub anvil: AnvilInstance,
    pub deployed: ScriptDeployment,
    pub deployment: Deployment,
    pub signer: PrivateKeySigner,
    nonce: u64,
}

impl Chain {
    /// A fresh anvil on a free port with the deploy script run on it.
    pub async fn start() -> Chain {
        Chain::start_on(vouch_testkit::anvil()).await
    }

    pub async fn start_on(anvil: AnvilInstance) -> Chain {
        let deployed = vouch_testkit::deploy_with_script(&anvil);
        let deployment = Deployment::load(&deployed.manifest).unwrap();
        let signer: PrivateKeySigner = deployed.deployer_key.parse().unwrap();
        let mut chain = Chain {
            anvil,
            deployed,
            deployment,
            signer,
            nonce: 0,
        };
        // Votes follow the deployer's balance: every transfer also changes a mutable row (the
        // deployer's delegation), not only appends one.
        let provider = chain.provider();
        VouchToken::new(chain.deployment.contracts.vouch_token, &provider)
            .delegate(chain.signer.address())
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        chain.nonce = provider
            .get_transaction_count(chain.signer.address())
            .await
            .unwrap();
        chain
    }

    pub fn rpc(&self) -> String {
        self.anvil.endpoint()
    }

    pub fn manifest(&self) -> &Path {
        &self.deployed.manifest
    }

    pub fn provider(&self) -> DynProvider {
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(self.signer.clone()))
            .connect_http(self.anvil.endpoint_url())
            .erased()
    }

    /// `blocks` blocks of `per_block` VOUCH transfers each (two events a transfer: Transfer and
    /// DelegateVotesChanged), to salted recipients: automine off, signed transactions with
    /// explicit nonces and gas, one `evm_mine` per block.
    pub async fn transfers(&mut self, blocks: u64, per_block: u64, salt: u64) {
        let wallet = EthereumWallet::from(self.signer.clone());
        let raw = ProviderBuilder::new()
            .disable_recommended_fillers()
            .connect_http(self.anvil.endpoint_url());
        raw.anvil_set_auto_mine(false).await.unwrap();
        let token = self.deployment.contracts.vouch_token;
        for b in 0..blocks {
            let mut sends = Vec::new();
            for i in 0..per_block {
                let n = b * per_block + i;
                let to = Address::with_last_byte((n % 200) as u8 + 1);
                let input = VouchToken::transferCall {
                    to,
                    value: U256::from(1_000 + salt * 1_000_000 + n),
                }
                .abi_encode();
                let tx = TransactionRequest::default()
                    .with_from(self.signer.address())
                    .with_to(token)
                    .with_input(input)
                    .with_nonce(self.nonce)
                    .with_chain_id(CHAIN_ID)
                    .with_gas_limit(200_000)
                    .with_max_fee_per_gas(100_000_000_000)
                    .with_max_priority_fee_per_gas(1_000_000_000);
                self.nonce += 1;
                let envelope = tx.build(&wallet).await.unwrap();
                sends.push(envelope);
            }
            for envelope in &sends {
                use alloy::eips::eip2718::Encodable2718;
                let _ = raw
                    .send_raw_transaction(&envelope.encoded_2718())
                    .await
                    .unwrap();
            }
            raw.evm_mine(None).await.unwrap();
        }
        raw.anvil_set_auto_mine(true).await.unwrap();
    }

    /// `n` empty blocks.
    pub async fn empty_blocks(&self, n: u64) {
        self.provider().anvil_mine(Some(n), None).await.unwrap();
    }

    pub async fn head(&self) -> u64 {
        self.provider().get_block_number().await.unwrap()
    }

    /// Every log of every manifest address: what a full index stores.
    pub async fn logs(&self) -> usize {
        let filter = Filter::new()
            .address(AddressBook::new(&self.deployment).addresses())
            .from_block(self.deployment.start_block);
        self.provider().get_logs(&filter).await.unwrap().len()
    }

    /// `vouch index` on this chain and its manifest, run in `dir`, with a clean `VOUCH_*`
    /// environment.
    pub fn index(&self, dir: &Path, database: &str, extra: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vouch"));
        command
            .args(["index", "--rpc-url", &self.rpc(), "--deployment"])
            .arg(self.manifest())
            .args(["--database", database])
            .args(extra)
            .current_dir(dir)
            .stdin(Stdio::null());
        for (key, _) in std::env::vars() {
            if key.starts_with("VOUCH_") {
                command.env_remove(key);
            }
        }
        command
    }

    /// The digest of a clean `vouch index --until-head` into a fresh SQLite file.
    pub async fn clean_digest(&self) -> String {
        let fresh = vouch_testkit::FreshSqlite::create();
        let dir = tempfile::tempdir().unwrap();
        let out = self
            .index(dir.path(), &fresh.url, &["--until-head"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "clean run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        digest(&fresh.url).await
    }
}

/// An anvil of our own on `port`, dumping its state to `state` on a clean exit (SIGINT) and,
/// when `load`, starting from it.
pub fn anvil_on(port: u16, state: &Path, load: bool) -> AnvilInstance {
    let mut anvil = Anvil::at(vouch_testkit::anvil_path())
        .port(port)
        .arg("--dump-state")
        .arg(state);
    if load {
        anvil = anvil.arg("--load-state").arg(state);
    }
    anvil.spawn()
}

/// Stops anvil with SIGINT (it writes its `--dump-state` file on the way out) and waits.
pub fn stop_anvil(anvil: &mut AnvilInstance) {
    signal(anvil.child().id(), "-INT");
    anvil.child_mut().wait().unwrap();
}

pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success(), "kill {sig} {pid}");
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub async fn digest(url: &str) -> String {
    let store = SeaStore::connect(url).await.unwrap();
    let d = store.digest(CHAIN_ID).await.unwrap();
    store.connection().clone().close().await.unwrap();
    d
}

/// (events, distinct (tx_hash, log_index), checkpoint block) of a database.
pub async fn counts(url: &str) -> (i64, i64, Option<i64>) {
    try_counts(url)
        .await
        .expect("the database has the indexer's tables")
}

/// [`counts`], or None while the tables do not exist yet.
pub async fn try_counts(url: &str) -> Option<(i64, i64, Option<i64>)> {
    const TOTAL: &str = "SELECT COUNT(*) FROM events";
    const DISTINCT: &str =
        "SELECT COUNT(*) FROM (SELECT DISTINCT tx_hash, log_index FROM events) d";
    const CHECKPOINT: &str = "SELECT MAX(block_number) FROM checkpoints";
    macro_rules! read {
        ($pool:expr) => {{
            let pool = $pool;
            let read = async {
                let (total,): (i64,) = sqlx::query_as(TOTAL).fetch_one(&pool).await.ok()?;
                let (distinct,): (i64,) = sqlx::query_as(DISTINCT).fetch_one(&pool).await.ok()?;
                let (checkpoint,): (Option<i64>,) =
                    sqlx::query_as(CHECKPOINT).fetch_one(&pool).await.ok()?;
                Some((total, distinct, checkpoint))
            }
            .await;
            pool.close().await;
            read
        }};
    }
    if url.starts_with("sqlite:") {
        read!(sqlx::SqlitePool::connect(url).await.unwrap())
    } else {
        read!(sqlx::PgPool::connect(url).await.unwrap())
    }
}

/// A `vouch index` child whose stderr is collected by a thread.
pub struct Indexing {
    pub child: Child,
    pub stderr: Arc<Mutex<String>>,
}

impl Indexing {
    pub fn spawn(mut command: Command) -> Indexing {
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let pipe = child.stderr.take().unwrap();
        let sink = stderr.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Indexing { child, stderr }
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until stderr contains `needle`; panics after `timeout` or if the process exits.
    pub fn wait_for(&mut self, needle: &str, timeout: Duration) -> Instant {
        let deadline = Instant::now() + timeout;
        loop {
            if self.stderr().contains(needle) {
                return Instant::now();
            }
            if let Some(status) = self.child.try_wait().unwrap() {
                panic!(
                    "vouch index exited ({status}) before {needle:?}:\n{}",
                    self.stderr()
                );
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} within {timeout:?}:\n{}",
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Indexing {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until the database's checkpoint reaches `head` and it holds `logs` events.
pub async fn wait_indexed(url: &str, head: u64, logs: usize, timeout: Duration, what: &str) {
    let deadline = Instant::now() + timeout;
    loop {
        let (total, _, checkpoint) = try_counts(url).await.unwrap_or((0, 0, None));
        if checkpoint == Some(head as i64) && total as usize == logs {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not indexed to {head} with {logs} events within {timeout:?}: checkpoint {checkpoint:?}, {total} events"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A small deterministic RNG (splitmix64), so a failing schedule can be replayed by its seed.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    pub fn between(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next_u64() % (hi - lo + 1)
    }
}

pub fn data_dir() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_owned();
    (dir, path)
}

/// `vouch ARGS` run from `dir` with a clean `VOUCH_*` environment.
pub fn vouch(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vouch"));
    command.args(args).current_dir(dir).stdin(Stdio::null());
    for (key, _) in std::env::vars() {
        if key.starts_with("VOUCH_") {
            command.env_remove(key);
        }
    }
    command
}

/// Runs `command` to its end: (exit code, stdout, stderr).
pub fn run(command: &mut Command) -> (i32, String, String) {
    let output = command.output().expect("vouch runs");
    (
        output.status.code().expect("an exit code, not a signal"),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}
