//! Gas of the main contract calls as real transactions on anvil (receipts' gasUsed: intrinsic
//! gas and calldata included), with real EZKL proofs for the proof submissions.
//!
//!     bash script/setup.sh
//!     cargo bench -p vouch-keeper --bench gas
//!
//! Deployment is the real deploy script. Results go to docs/benchmarks.md.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/world/mod.rs"]
mod world;

use alloy::network::ReceiptResponse;
use alloy::primitives::{Address, U256};
use vouch_bindings::contracts::NodeRegistry;
use world::{World, mined, ok};

fn main() {
    tokio::runtime::Runtime::new()
        .expect("a tokio runtime")
        .block_on(run());
}

struct Row {
    call: &'static str,
    gas: Vec<u64>,
    per_job: Option<usize>,
}

impl Row {
    fn median(&self) -> u64 {
        let mut g = self.gas.clone();
        g.sort_unstable();
        g[g.len() / 2]
    }
}

async fn run() {
    let world = World::new().await;
    let prover = common::prover().await;
    let c = world.deployment.contracts.clone();
    let mut rows = Vec::new();
    let one = |call, gas: u64| Row {
        call,
        gas: vec![gas],
        per_job: None,
    };

    // A second host, measured step by step (the world's host is set up the same way).
    let (staked, registered) = world
        .join_as_host(world.stranger, "https://h2.vouch.example:8443")
        .await;
    rows.push(one("Staking.stake (first stake)", staked.gas_used()));
    rows.push(one(
        "NodeRegistry.register (29-byte endpoint, 1 model)",
        registered.gas_used(),
    ));
    let registry = NodeRegistry::new(c.node_registry, &world.provider);
    let beat = mined(registry.heartbeat(world.host).from(world.operator)).await;
    rows.push(one(
        "NodeRegistry.heartbeat (by the operator)",
        beat.gas_used(),
    ));

    // Jobs: create and claim 1 + 16 + 64 + 1 of them.
    let mut creates = Vec::new();
    let mut claims = Vec::new();
    let mut batches = Vec::new();
    for (n, label) in [(1usize, "b1"), (16, "b16"), (64, "b64")] {
        let mut tuples = Vec::new();
        for i in 0..n {
            let input = format!("{label} input {i}");
            let (id, created) = world.create_job(&input).await;
            creates.push(created.gas_used());
            claims.push(world.claim(id).await.gas_used());
            tuples.push(vouch_keeper::prover::JobTuple {
                job_id: id.into(),
                model_hash: world::model(),
                input_hash: alloy::primitives::keccak256(&input),
                output_hash: alloy::primitives::keccak256(format!("{label} output {i}")),
            });
        }
        batches.push(tuples);
    }
    rows.push(Row {
        call: "JobMarketplace.createJob (ETH escrow)",
        gas: creates,
        per_job: None,
    });
    rows.push(Row {
        call: "JobMarketplace.claimJob (by the operator)",
        gas: claims,
        per_job: None,
    });

    let mut all_ids = Vec::new();
    for (tuples, call) in batches.iter().zip([
        "ProofSystem.submitProof (B=1)",
        "ProofSystem.submitBatch (B=16, 16 jobs)",
        "ProofSystem.submitBatch (B=64, 64 jobs)",
    ]) {
        let proof = prover.prove(tuples).await.unwrap();
        let receipt = ok(world.submit(&proof, world.operator).await);
        rows.push(Row {
            call,
            gas: vec![receipt.gas_used()],
            per_job: Some(tuples.len()),
        });
        all_ids.extend(tuples.iter().map(|t| U256::from_be_bytes(t.job_id.0)));
    }

    world
        .advance(world.marketplace().disputeWindow().call().await.unwrap() + 1)
        .await;
    let market = world.marketplace();
    let one_release = mined(
        market
            .releasePayments(all_ids[..1].to_vec())
            .from(world.stranger),
    )
    .await;
    rows.push(Row {
        call: "JobMarketplace.releasePayments (1 job)",
        gas: vec![one_release.gas_used()],
        per_job: Some(1),
    });
    let last64 = all_ids[all_ids.len() - 64..].to_vec();
    let many = mined(market.releasePayments(last64).from(world.stranger)).await;
    rows.push(Row {
        call: "JobMarketplace.releasePayments (64 jobs)",
        gas: vec![many.gas_used()],
        per_job: Some(64),
    });
    let withdrawn = mined(market.withdraw(Address::ZERO).from(world.host)).await;
    rows.push(one("JobMarketplace.withdraw (ETH)", withdrawn.gas_used()));

    let (late, _) = world.create_job("late").await;
    world.claim(late).await;
    world.advance(world::JOB_DURATION + 1).await;
    let expired = mined(market.expireJob(late).from(world.stranger)).await;
    rows.push(one(
        "JobMarketplace.expireJob (claimed: refund + 5% slash)",
        expired.gas_used(),
    ));

    println!("| call | gas (median) | min | max | txs | gas per job |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for r in &rows {
        let per_job = r
            .per_job
            .map(|n| format!("{}", r.median() / n as u64))
            .unwrap_or_default();
        println!(
            "| {} | {} | {} | {} | {} | {} |",
            r.call,
            r.median(),
            r.gas.iter().min().unwrap(),
            r.gas.iter().max().unwrap(),
            r.gas.len(),
            per_job
        );
    }
}
