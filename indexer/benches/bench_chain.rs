//! Builds (once) the chain the indexer benches read: the real deploy script on anvil, 50 hosts
//! (transfer, approve, stake, register, operator), then rounds of 1,024 jobs: created by 8
//! renters, claimed by the hosts' operators, proven in batches of 64 with REAL proofs (the
//! keeper's EZKL prover), heartbeats of every host, released after the dispute window, and
//! 200 empty blocks so the events spread over many eth_getLogs ranges (anvil's cost per block
//! grows with the chain's length: 1,000 empty blocks per round made round 5 take 52 s).
//!
//!     cargo bench -p vouch-indexer --bench bench_chain
//!
//! Saves `state.json` (anvil `--dump-state`), `deployment.json` (the script's manifest) and
//! `bench.json` (event counts) under `VOUCH_BENCH_CHAIN` (default `target/bench-chain/`);
//! does nothing when they exist. `VOUCH_BENCH_ROUNDS` (default 17) rounds of 1,024 jobs.
//!
//! Automine is off while building: transactions carry explicit nonces, gas limits and fees and
//! are mined by `evm_mine` a few hundred at a time (each block costs anvil 0.2-0.7 s once the
//! state is large).

#[path = "../../keeper/tests/common/mod.rs"]
mod common;
mod support;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, FixedBytes, U256, Uint, keccak256, utils::parse_ether};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, TransactionRequest};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolEvent;
use futures::StreamExt;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, ProofSystem, Staking, VouchToken};
use vouch_bindings::events::{self, AddressBook};
use vouch_keeper::prover::JobTuple;

use support::{HOSTS, RENTERS};

const BATCH: usize = 64;
const BATCHES_PER_ROUND: usize = 16;
const EMPTY_BLOCKS_PER_ROUND: u64 = 200;
/// Transactions per mined block for the many small calls.
const PER_BLOCK: usize = 256;
const PAYMENT_WEI: u64 = 50_000_000_000_000_000;

fn model() -> B256 {
    keccak256("llama-3-8b-instruct-q4")
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / test harness probing: nothing to list
    }
    tokio::runtime::Runtime::new()
        .expect("a tokio runtime")
        .block_on(run());
}

/// Sends pre-filled transactions (nonce, gas, fees, chain id) without any RPC filler.
struct Sender {
    provider: DynProvider,
    nonces: HashMap<Address, u64>,
    chain_id: u64,
    pending: Vec<TransactionRequest>,
    sent: u64,
}

impl Sender {
    fn queue(&mut self, from: Address, tx: TransactionRequest, gas: u64) {
        let nonce = self.nonces.entry(from).or_insert(0);
        let tx = tx
            .with_from(from)
            .with_nonce(*nonce)
            .with_gas_limit(gas)
            .with_max_fee_per_gas(100_000_000_000)
            .with_max_priority_fee_per_gas(1_000_000_000)
            .with_chain_id(self.chain_id);
        *nonce += 1;
        self.pending.push(tx);
    }

    /// Sends everything queued, `PER_BLOCK` per block, mines, and checks every receipt.
    /// Returns the receipts' logs.
    async fn flush(&mut self) -> Vec<alloy::rpc::types::Log> {
        let all = std::mem::take(&mut self.pending);
        let mut logs = Vec::new();
        for chunk in all.chunks(PER_BLOCK) {
            let provider = &self.provider;
            let results: Vec<_> = futures::stream::iter(chunk.iter().cloned())
                .map(|tx| async move { provider.send_transaction(tx).await.map(|p| *p.tx_hash()) })
                .buffer_unordered(32)
                .collect()
                .await;
            for r in &results {
                if let Err(e) = r {
                    panic!("send failed: {e}");
                }
            }
            let mut mined = 0usize;
            let mut empty = 0;
            while mined < chunk.len() {
                provider.evm_mine(None).await.expect("evm_mine");
                let receipts = provider
                    .get_block_receipts(alloy::eips::BlockId::latest())
                    .await
                    .expect("eth_getBlockReceipts")
                    .unwrap_or_default();
                if receipts.is_empty() {
                    empty += 1;
                    assert!(
                        empty < 3,
                        "empty blocks while {} transactions are pending",
                        chunk.len() - mined
                    );
                }
                for r in receipts {
                    assert!(r.status(), "transaction {} reverted", r.transaction_hash);
                    logs.extend(r.inner.logs().iter().cloned());
                    mined += 1;
                }
            }
            self.sent += chunk.len() as u64;
        }
        logs
    }
}

async fn run() {
    let dir = support::chain_dir();
    if support::state_file().exists()
        && support::deployment_file().exists()
        && support::summary_file().exists()
    {
        let s = support::load_summary();
        println!(
            "bench chain exists at {}: {} events up to block {} ({} jobs, {} batches); remove the folder to rebuild",
            dir.display(),
            s.events,
            s.head,
            s.jobs,
            s.batches
        );
        return;
    }
    std::fs::create_dir_all(&dir).expect("the bench chain folder");
    let rounds: usize = std::env::var("VOUCH_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(17);
    let started = Instant::now();
    let state = support::state_file();
    let partial = dir.join("state.partial.json");
    let _ = std::fs::remove_file(&partial);
    let anvil = support::anvil_builder()
        .arg("--dump-state")
        .arg(&partial)
        .spawn();
    println!(
        "anvil on {} (dumping to {})",
        anvil.endpoint(),
        partial.display()
    );

    // The real deploy script (automine on: forge waits for its receipts).
    let script = vouch_testkit::deploy_with_script(&anvil);
    std::fs::copy(&script.manifest, support::deployment_file()).expect("copy the manifest");
    let deployment = Deployment::load(&script.manifest).expect("the script's manifest");
    let c = deployment.contracts.clone();
    println!(
        "deployed by script/Deploy.s.sol ({:.1} s)",
        started.elapsed().as_secs_f64()
    );

    let signers: Vec<PrivateKeySigner> = anvil.keys().iter().cloned().map(Into::into).collect();
    assert_eq!(signers.len(), support::ACCOUNTS, "anvil's accounts");
    let mut wallet = EthereumWallet::from(signers[0].clone());
    for s in &signers[1..] {
        wallet.register_signer(s.clone());
    }
    let provider = ProviderBuilder::new()
        .disable_recommended_fillers()
        .wallet(wallet)
        .connect_http(anvil.endpoint_url())
        .erased();
    let addr: Vec<Address> = signers.iter().map(|s| s.address()).collect();
    let deployer = addr[0];
    let hosts = &addr[1..=HOSTS];
    let operators = &addr[1 + HOSTS..=2 * HOSTS];
    let renters = &addr[1 + 2 * HOSTS..1 + 2 * HOSTS + RENTERS];
    let releaser = addr[1 + 2 * HOSTS + RENTERS];
    let mut nonces = HashMap::new();
    for a in &addr {
        nonces.insert(*a, provider.get_transaction_count(*a).await.unwrap());
    }
    provider
        .anvil_set_auto_mine(false)
        .await
        .expect("automine off");
    let mut tx = Sender {
        provider: provider.clone(),
        nonces,
        chain_id: deployment.chain_id,
        pending: Vec::new(),
        sent: 0,
    };

    let token = VouchToken::new(c.vouch_token, &provider);
    let staking = Staking::new(c.staking, &provider);
    let registry = NodeRegistry::new(c.node_registry, &provider);
    let market = JobMarketplace::new(c.job_marketplace, &provider);
    let proofs = ProofSystem::new(c.proof_system, &provider);

    // Hosts: stake the minimum, register one model, name an operator.
    let stake = parse_ether("1000").unwrap();
    for h in hosts {
        tx.queue(
            deployer,
            token.transfer(*h, stake).into_transaction_request(),
            120_000,
        );
    }
    tx.flush().await;
    let region = FixedBytes::<16>::right_padding_from(b"eu-west-1");
    for (i, (h, op)) in hosts.iter().zip(operators).enumerate() {
        tx.queue(
            *h,
            token.approve(c.staking, stake).into_transaction_request(),
            120_000,
        );
        tx.queue(*h, staking.stake(stake).into_transaction_request(), 400_000);
        let endpoint = format!("https://h{i}.vouch.example:8443");
        let call = registry.register(
            endpoint,
            region,
            vec![model()],
            Uint::from(2_000_000_000u64),
        );
        tx.queue(*h, call.into_transaction_request(), 600_000);
        tx.queue(
            *h,
            registry.setOperator(*op).into_transaction_request(),
            200_000,
        );
    }
    tx.flush().await;
    println!("{HOSTS} hosts staked, registered, operators set");

    let prover = common::prover().await;
    let window = market.disputeWindow().call().await.unwrap();
    let mut jobs_total = 0u64;
    let mut batches_total = 0u64;
    let mut heartbeats = 0u64;
    for round in 0..rounds {
        let t0 = Instant::now();
        // Create.
        let now = provider
            .get_block_by_number(Default::default())
            .await
            .unwrap()
            .unwrap()
            .header
            .timestamp;
        let deadline = now + 6 * 3600;
        let n = BATCH * BATCHES_PER_ROUND;
        let mut labels = HashMap::new();
        for i in 0..n {
            let label = format!("round {round} input {i}");
            let input = keccak256(&label);
            labels.insert(input, label);
            let call = market
                .createJob(
                    model(),
                    input,
                    Address::ZERO,
                    Uint::from(PAYMENT_WEI),
                    Uint::from(deadline),
                    Address::ZERO,
                    0,
                )
                .value(U256::from(PAYMENT_WEI));
            tx.queue(
                renters[i % RENTERS],
                call.into_transaction_request(),
                400_000,
            );
        }
        let logs = tx.flush().await;
        let mut created: Vec<(U256, B256)> = logs
            .iter()
            .filter_map(|l| JobMarketplace::JobCreated::decode_log(&l.inner).ok())
            .map(|e| (e.jobId, e.inputHash))
            .collect();
        assert_eq!(created.len(), n, "JobCreated of round {round}");
        created.sort();

        // Claim: batch b of this round goes to host (round * 16 + b) % 50.
        let mut batches: Vec<(usize, Vec<JobTuple>)> = Vec::new();
        for (b, chunk) in created.chunks(BATCH).enumerate() {
            let h = (round * BATCHES_PER_ROUND + b) % HOSTS;
            let mut tuples = Vec::new();
            for (id, input) in chunk {
                tx.queue(
                    operators[h],
                    market.claimJob(*id, hosts[h]).into_transaction_request(),
                    300_000,
                );
                tuples.push(JobTuple {
                    job_id: B256::from(*id),
                    model_hash: model(),
                    input_hash: *input,
                    output_hash: keccak256(format!("{} output", labels[input])),
                });
            }
            batches.push((h, tuples));
        }
        tx.flush().await;

        // Prove (real proofs, the pool's workers in parallel) and submit, 8 per block.
        let made = futures::future::join_all(batches.iter().map(|(_, t)| prover.prove(t))).await;
        for ((h, _), proof) in batches.iter().zip(made) {
            let proof = proof.expect("a proof");
            let (ids, outputs): (Vec<U256>, Vec<B256>) = proof
                .jobs
                .iter()
                .map(|j| (U256::from_be_bytes(j.job_id.0), j.output_hash))
                .unzip();
            let call =
                proofs.submitBatch(proof.batch_size as u16, ids, outputs, proof.proof.clone());
            tx.queue(operators[*h], call.into_transaction_request(), 4_000_000);
            if tx.pending.len() == 8 {
                tx.flush().await;
            }
        }
        tx.flush().await;

        // Heartbeats of every host, twice.
        for _ in 0..2 {
            for (h, op) in hosts.iter().zip(operators) {
                tx.queue(
                    *op,
                    registry.heartbeat(*h).into_transaction_request(),
                    120_000,
                );
                heartbeats += 1;
            }
            tx.flush().await;
        }

        // Release after the dispute window, one transaction per batch.
        provider.anvil_increase_time(window + 1).await.unwrap();
        for (_, tuples) in &batches {
            let ids = tuples
                .iter()
                .map(|t| U256::from_be_bytes(t.job_id.0))
                .collect();
            tx.queue(
                releaser,
                market.releasePayments(ids).into_transaction_request(),
                4_000_000,
            );
        }
        tx.flush().await;
        provider
            .anvil_mine(Some(EMPTY_BLOCKS_PER_ROUND), Some(2))
            .await
            .unwrap();
        jobs_total += n as u64;
        batches_total += BATCHES_PER_ROUND as u64;
        println!(
            "round {}/{rounds}: {n} jobs created, claimed, proven in {} batches of 64, released; block {}; {} txs so far; {:.1} s (total {:.0} s)",
            round + 1,
            BATCHES_PER_ROUND,
            provider.get_block_number().await.unwrap(),
            tx.sent,
            t0.elapsed().as_secs_f64(),
            started.elapsed().as_secs_f64()
        );
    }
    drop(prover);

    // Count what the indexer will see.
    let head = provider.get_block_number().await.unwrap();
    let book = AddressBook::new(&deployment);
    let mut by_name = BTreeMap::new();
    let mut total = 0u64;
    let mut from = deployment.start_block;
    while from <= head {
        let to = (from + 4_999).min(head);
        let logs = provider
            .get_logs(
                &Filter::new()
                    .address(book.addresses())
                    .from_block(from)
                    .to_block(to),
            )
            .await
            .unwrap();
        for l in &logs {
            if let Some(d) = events::decode(&book, l).unwrap() {
                *by_name.entry(d.name.to_owned()).or_insert(0u64) += 1;
                total += 1;
            }
        }
        from = to + 1;
    }
    println!(
        "{total} protocol events in blocks {}..={head}",
        deployment.start_block
    );
    for (k, v) in &by_name {
        println!("  {k}: {v}");
    }
    assert!(
        total >= 100_000,
        "fewer than 100,000 events: raise VOUCH_BENCH_ROUNDS"
    );

    provider.anvil_set_auto_mine(true).await.unwrap();
    let sent = tx.sent;
    drop(provider);
    drop(tx);
    support::stop_gracefully(anvil);
    assert!(partial.exists(), "anvil wrote no state dump");
    std::fs::rename(&partial, &state).unwrap();
    let summary = support::Summary {
        events: total,
        head,
        start_block: deployment.start_block,
        hosts: HOSTS,
        jobs: jobs_total,
        batches: batches_total,
        heartbeats,
        transactions: sent,
        build_seconds: started.elapsed().as_secs_f64(),
        events_by_name: by_name,
    };
    std::fs::write(
        support::summary_file(),
        serde_json::to_string_pretty(&summary).unwrap(),
    )
    .unwrap();
    println!(
        "saved {} ({:.0} MB), {} and {} in {:.0} s",
        state.display(),
        std::fs::metadata(&state).map(|m| m.len()).unwrap_or(0) as f64 / 1e6,
        support::deployment_file().display(),
        support::summary_file().display(),
        started.elapsed().as_secs_f64()
    );
    drop(script);
}
