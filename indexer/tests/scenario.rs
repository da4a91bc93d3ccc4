//! The end-to-end scenario: one scripted history on a real anvil chain deployed by the real
//! script, touching every contract (stakes and unbonding, two hosts and every registry call,
//! jobs in ETH and VOUCH through every state with real EZKL proofs at B=16 and B=1, disputes
//! upheld, rejected and lapsed, an equivocation report, token transfers and delegations, and a
//! governance proposal voted, queued and executed), indexed into SQLite and PostgreSQL. Every
//! projection is then checked against the contracts' own view calls, the events against
//! `eth_getLogs`, the two databases against each other, and a second run against the first.

#[path = "../../keeper/tests/common/mod.rs"]
mod common;
#[path = "../../keeper/tests/world/mod.rs"]
mod world;

use std::collections::{BTreeMap, BTreeSet};

use alloy::eips::BlockId;
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Address, B256, Bytes, FixedBytes, U256, keccak256, utils::parse_ether};
use alloy::providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi};
use alloy::rpc::types::Filter;
use alloy::signers::SignerSync;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use sea_orm::{DatabaseConnection, EntityTrait};
use vouch_bindings::contracts::{
    JobMarketplace, NodeRegistry, ReputationRegistry, Slashing, Staking, VouchGovernor, VouchToken,
};
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::entity::{
    balance, batch, delegation, dispute, equivocation, event, host, job, parameter, proposal,
    reputation, slash, stake, transfer, vote,
};
use vouch_indexer::store::{IndexWriter, SeaStore};
use vouch_indexer::{Indexer, IndexerConfig};
use vouch_keeper::prover::{JobTuple, Proof};
use world::{World, model};

type Receipt = <alloy::network::Ethereum as alloy::network::Network>::ReceiptResponse;

const DAY: u64 = 86_400;
const ETH: Address = Address::ZERO;
/// JobMarketplace's `Status`, by value.
const STATUS: [&str; 9] = [
    "None",
    "Open",
    "Claimed",
    "Completed",
    "Disputed",
    "Paid",
    "Expired",
    "Cancelled",
    "Refunded",
];
/// Slashing's `DisputeStatus`, by value.
const DISPUTE: [&str; 5] = ["None", "Open", "Upheld", "Rejected", "Lapsed"];

/// Explicit gas for every transaction: an estimate made at one block time can fall short at
/// the next (gas that depends on the clock, e.g. the reputation decay series).
const GAS_LIMIT: u64 = 3_000_000;

/// Sends `call` with [`GAS_LIMIT`] and asserts it succeeded; a revert is replayed on the parent
/// block for its reason.
async fn mined<P: Provider + Clone, D: alloy::contract::CallDecoder + Clone>(
    call: alloy::contract::CallBuilder<P, D>,
) -> Receipt {
    let call = call.gas(GAS_LIMIT);
    let replay = call.clone();
    let r = call.send().await.unwrap().get_receipt().await.unwrap();
    if !r.status() {
        let parent = r.block_number.unwrap() - 1;
        let why = replay.block(BlockId::number(parent)).call_raw().await;
        panic!(
            "transaction {} reverted (gas used {}); replayed: {why:?}",
            r.transaction_hash, r.gas_used
        );
    }
    r
}

fn a(x: Address) -> String {
    x.to_checksum(None)
}

fn h(x: B256) -> String {
    format!("{x:#x}")
}

fn region(text: &str) -> FixedBytes<16> {
    FixedBytes::<16>::right_padding_from(text.as_bytes())
}

fn region_text(r: FixedBytes<16>) -> String {
    let end = r.iter().position(|b| *b == 0).unwrap_or(16);
    String::from_utf8(r[..end].to_vec()).unwrap()
}

fn dec(s: &str) -> U256 {
    U256::from_str_radix(s, 10).unwrap()
}

/// The actors beyond the world's five, and a provider that signs for all ten anvil keys.
struct Actors {
    p: DynProvider,
    /// No wallet: sends `eth_sendTransaction` for impersonated accounts (the timelock).
    unsigned: DynProvider,
    keys: Vec<PrivateKeySigner>,
    host2: Address,
    operator2: Address,
    voter: Address,
}

impl Actors {
    fn new(w: &World) -> Self {
        let keys: Vec<PrivateKeySigner> = w.anvil.keys().iter().cloned().map(Into::into).collect();
        let mut wallet = EthereumWallet::from(keys[0].clone());
        for k in &keys[1..] {
            wallet.register_signer(k.clone());
        }
        let p = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(w.anvil.endpoint_url())
            .erased();
        let unsigned = ProviderBuilder::new()
            .connect_http(w.anvil.endpoint_url())
            .erased();
        Actors {
            p,
            unsigned,
            host2: keys[5].address(),
            operator2: keys[6].address(),
            voter: keys[7].address(),
            keys,
        }
    }
}

/// What the script did, for the assertions.
#[derive(Default)]
struct Script {
    /// Proof transactions and the job ids each completed, in order.
    batches: Vec<(String, Vec<u64>)>,
    proposal: U256,
    accounts: Vec<Address>,
}

async fn create(
    w: &World,
    p: &DynProvider,
    token: Address,
    payment: u128,
    label: &str,
    offered: Address,
) -> U256 {
    let market = JobMarketplace::new(w.deployment.contracts.job_marketplace, p);
    let deadline = w.now().await + world::JOB_DURATION;
    let call = market
        .createJob(
            model(),
            keccak256(label),
            token,
            alloy::primitives::Uint::from(payment),
            alloy::primitives::Uint::from(deadline),
            offered,
            0,
        )
        .from(w.renter);
    let call = if token == ETH {
        call.value(U256::from(payment))
    } else {
        call
    };
    mined(call)
        .await
        .decoded_log::<JobMarketplace::JobCreated>()
        .expect("JobCreated")
        .jobId
}

async fn submit(p: &DynProvider, ps_addr: Address, proof: &Proof, from: Address) -> Receipt {
    // The keeper's own submission calldata and explicit gas limit (the verifier's try/catch
    // makes estimates low).
    let request = alloy::rpc::types::TransactionRequest::default()
        .with_from(from)
        .with_to(ps_addr)
        .with_input(vouch_keeper::tx::proof_calldata(proof).unwrap())
        .with_gas_limit(vouch_keeper::tx::proof_gas_limit(proof.batch_size));
    world::ok(
        p.send_transaction(request)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap(),
    )
}

fn tuple(id: U256, label: &str) -> JobTuple {
    JobTuple {
        job_id: B256::from(id),
        model_hash: model(),
        input_hash: keccak256(label),
        output_hash: keccak256(format!("{label} output")),
    }
}

/// Drives every contract through the scenario; returns what the assertions need.
async fn run_scenario(w: &World, x: &Actors) -> Script {
    let c = &w.deployment.contracts;
    let p = &x.p;
    let token = VouchToken::new(c.vouch_token, p);
    let staking = Staking::new(c.staking, p);
    let registry = NodeRegistry::new(c.node_registry, p);
    let market = JobMarketplace::new(c.job_marketplace, p);
    let slashing = Slashing::new(c.slashing, p);
    let gov = VouchGovernor::new(c.vouch_governor, p);
    let timelock = c.timelock_controller;
    let mut script = Script::default();
    let vouch = |n: u64| parse_ether(&n.to_string()).unwrap();

    // Prover loading overlaps the chain set-up.
    let prover = tokio::spawn(common::prover());

    // A second host: stake, register (two models), update, add and remove a model, operator,
    // heartbeats (the first host's by its operator).
    let m2 = keccak256("mistral-7b-q4");
    let m3 = keccak256("phi-3-mini");
    mined(token.transfer(x.host2, vouch(1_000)).from(w.deployer)).await;
    mined(token.approve(c.staking, vouch(1_000)).from(x.host2)).await;
    mined(staking.stake(vouch(1_000)).from(x.host2)).await;
    mined(
        registry
            .register(
                "https://h2.vouch.example".into(),
                region("us-east-1"),
                vec![model(), m2],
                alloy::primitives::Uint::from(3_000_000_000u64),
            )
            .from(x.host2),
    )
    .await;
    mined(
        registry
            .updateNode(
                x.host2,
                "https://h2-b.vouch.example:9443".into(),
                region("ap-south-1"),
                alloy::primitives::Uint::from(4_000_000_000u64),
            )
            .from(x.host2),
    )
    .await;
    mined(registry.addModels(x.host2, vec![m3]).from(x.host2)).await;
    mined(registry.setOperator(x.operator2).from(x.host2)).await;
    mined(registry.removeModels(x.host2, vec![m2]).from(x.operator2)).await;
    mined(registry.heartbeat(x.host2).from(x.operator2)).await;
    mined(registry.heartbeat(w.host).from(w.operator)).await;

    // A staker that is no host: stake, two unstake requests (the second restarts the period).
    mined(token.transfer(w.stranger, vouch(600)).from(w.deployer)).await;
    mined(token.approve(c.staking, vouch(600)).from(w.stranger)).await;
    mined(staking.stake(vouch(600)).from(w.stranger)).await;
    mined(staking.requestUnstake(vouch(200)).from(w.stranger)).await;
    mined(staking.requestUnstake(vouch(100)).from(w.stranger)).await;

    // VOUCH for the renter (it pays jobs in it) and voters; delegations.
    mined(token.transfer(w.renter, vouch(1_000)).from(w.deployer)).await;
    mined(token.approve(c.job_marketplace, U256::MAX).from(w.renter)).await;
    mined(token.transfer(x.voter, vouch(50_000)).from(w.deployer)).await;
    mined(token.delegate(w.deployer).from(w.deployer)).await;
    mined(token.delegate(x.voter).from(x.voter)).await;
    mined(token.delegate(w.stranger).from(w.renter)).await;
    w.advance(10).await;

    // A proposal to raise the protocol fee to 2%.
    let targets = vec![c.job_marketplace];
    let values = vec![U256::ZERO];
    let calldatas: Vec<Bytes> = vec![
        JobMarketplace::setProtocolFeeCall { feeBps: 200 }
            .abi_encode()
            .into(),
    ];
    let description = "Raise the protocol fee to 2%".to_string();
    let proposed = mined(
        gov.propose(
            targets.clone(),
            values.clone(),
            calldatas.clone(),
            description.clone(),
        )
        .from(w.deployer),
    )
    .await;
    script.proposal = proposed
        .decoded_log::<VouchGovernor::ProposalCreated>()
        .expect("ProposalCreated")
        .proposalId;

    // Jobs. ETH at the world's 0.05 ETH, VOUCH at 20 VOUCH (its minimum fee, 1 VOUCH, applies).
    let eth = world::PAYMENT_WEI as u128;
    let vch = 20_000_000_000_000_000_000u128;
    let cancelled = create(w, p, ETH, eth, "cancel me", w.host).await;
    mined(market.cancelJob(cancelled).from(w.renter)).await;
    let unclaimed = create(w, p, ETH, eth, "nobody claims", x.host2).await;
    let missed = create(w, p, ETH, eth, "missed deadline", Address::ZERO).await;
    mined(market.claimJob(missed, w.host).from(w.operator)).await;
    let equivocated = create(w, p, c.vouch_token, vch, "equivocated", Address::ZERO).await;
    mined(market.claimJob(equivocated, w.host).from(w.host)).await;

    // Seven jobs of host 1 in one B=16 proof (ETH and VOUCH mixed), one of host 2 at B=1 (a direct
    // offer, in VOUCH).
    let mut batch = Vec::new();
    for (i, t) in [ETH, ETH, c.vouch_token, ETH, ETH, c.vouch_token, ETH]
        .into_iter()
        .enumerate()
    {
        let label = format!("batch job {i}");
        let id = create(w, p, t, if t == ETH { eth } else { vch }, &label, ETH).await;
        mined(market.claimJob(id, w.host).from(w.operator)).await;
        batch.push(tuple(id, &label));
    }
    let single_id = create(w, p, c.vouch_token, vch, "single", x.host2).await;
    mined(market.claimJob(single_id, x.host2).from(x.operator2)).await;
    let single = tuple(single_id, "single");

    let prover = prover.await.unwrap();
    let singles = [single];
    let (p16, p1) = tokio::join!(prover.prove(&batch), prover.prove(&singles));
    let (p16, p1) = (p16.unwrap(), p1.unwrap());
    assert_eq!((p16.batch_size, p1.batch_size), (16, 1));
    let r16 = submit(p, c.proof_system, &p16, w.operator).await;
    let r1 = submit(p, c.proof_system, &p1, x.operator2).await;
    let ids = |jobs: &[JobTuple]| -> Vec<u64> {
        jobs.iter()
            .map(|j| U256::from_be_bytes(j.job_id.0).to::<u64>())
            .collect()
    };
    script.batches.push((h(r16.transaction_hash), ids(&batch)));
    script
        .batches
        .push((h(r1.transaction_hash), ids(&[single])));
    let bid = |i: usize| U256::from_be_bytes(batch[i].job_id.0);

    // Disputes on batch jobs 1 (upheld), 3 (rejected) and 4 (lapses); the arbiter is the
    // timelock, impersonated.
    let bond = slashing.disputeBond().call().await.unwrap();
    for i in [1, 3, 4] {
        mined(
            market
                .disputeJob(bid(i), keccak256(format!("evidence {i}")))
                .value(bond)
                .from(w.renter),
        )
        .await;
    }
    x.unsigned
        .anvil_impersonate_account(timelock)
        .await
        .unwrap();
    x.unsigned
        .anvil_set_balance(timelock, parse_ether("10").unwrap())
        .await
        .unwrap();
    let arbiter = Slashing::new(c.slashing, &x.unsigned);
    mined(arbiter.resolveDispute(bid(1), true).from(timelock)).await;
    mined(arbiter.resolveDispute(bid(3), false).from(timelock)).await;
    x.unsigned
        .anvil_stop_impersonating_account(timelock)
        .await
        .unwrap();

    // Equivocation: host 1's operator signed two results of one claimed job.
    let (out_a, out_b) = (keccak256("answer A"), keccak256("answer B"));
    let sign = |digest: B256| -> Bytes {
        x.keys[2]
            .sign_hash_sync(&digest)
            .unwrap()
            .as_bytes()
            .to_vec()
            .into()
    };
    let da = slashing
        .resultDigest(equivocated, out_a)
        .call()
        .await
        .unwrap();
    let db = slashing
        .resultDigest(equivocated, out_b)
        .call()
        .await
        .unwrap();
    mined(
        slashing
            .reportEquivocation(w.host, equivocated, out_a, sign(da), out_b, sign(db))
            .from(w.stranger),
    )
    .await;

    // Past the deadlines: an unclaimed offer and two claimed jobs expire (the claimed ones slash).
    w.advance(world::JOB_DURATION + 1).await;
    for id in [unclaimed, missed, equivocated] {
        mined(market.expireJob(id).from(w.stranger)).await;
    }
    // Host 1 unbonds all its (slashed) stake while it still has unfinished jobs.
    let active = staking.positionOf(w.host).call().await.unwrap().active;
    mined(staking.requestUnstake(U256::from(active)).from(w.host)).await;

    // Past the dispute window and the voting delay: payments released, withdrawals, votes.
    w.advance(DAY).await;
    mined(
        market
            .releasePayments(vec![bid(0), bid(2), bid(3), bid(5), single_id])
            .from(w.stranger),
    )
    .await;
    mined(market.withdraw(ETH).from(w.host)).await;
    mined(market.withdraw(c.vouch_token).from(w.host)).await;
    mined(market.withdraw(c.vouch_token).from(x.host2)).await;
    mined(market.withdraw(ETH).from(w.renter)).await;
    mined(slashing.withdrawBond().from(w.renter)).await;
    mined(gov.castVote(script.proposal, 1).from(w.deployer)).await;
    mined(
        gov.castVoteWithReason(script.proposal, 0, "fees are high enough".into())
            .from(x.voter),
    )
    .await;
    mined(gov.castVote(script.proposal, 2).from(w.stranger)).await;

    // Past the voting period: queue; past the timelock delay: execute. The staker's unbonding
    // is over by then.
    w.advance(5 * DAY).await;
    let desc_hash = keccak256(&description);
    mined(
        gov.queue(
            targets.clone(),
            values.clone(),
            calldatas.clone(),
            desc_hash,
        )
        .from(w.stranger),
    )
    .await;
    w.advance(2 * DAY + 1).await;
    mined(
        gov.execute(targets, values, calldatas, desc_hash)
            .from(w.stranger),
    )
    .await;
    assert_eq!(market.protocolFeeBps().call().await.unwrap(), 200);
    mined(staking.withdraw().from(w.stranger)).await;
    // Host 1's unfinished jobs (one unpaid, one disputed) keep part of it locked.
    let withdrawn = mined(staking.withdraw().from(w.host)).await;
    let amount = withdrawn
        .decoded_log::<Staking::Withdrawn>()
        .expect("Withdrawn")
        .amount;
    assert!(
        amount > U256::ZERO && amount < U256::from(active),
        "a partial withdrawal"
    );
    // A job at the new fee, left open.
    create(w, p, ETH, eth, "at the new fee", Address::ZERO).await;
    mined(token.transfer(w.renter, vouch(5)).from(x.voter)).await;

    // Past the ruling deadline: the third dispute lapses, its job is then paid.
    w.advance(6 * DAY).await;
    mined(slashing.closeLapsedDispute(bid(4)).from(w.stranger)).await;
    mined(market.releasePayments(vec![bid(4)]).from(w.renter)).await;

    // Left unfinished at the head: a job claimed by host 2, and one it completed (B=1) that
    // the renter disputes (batch job 6 stays Completed, the new-fee job Open).
    let claimed = create(w, p, ETH, eth, "still claimed", Address::ZERO).await;
    mined(market.claimJob(claimed, x.host2).from(x.host2)).await;
    let late_id = create(w, p, c.vouch_token, vch, "late", Address::ZERO).await;
    mined(market.claimJob(late_id, x.host2).from(x.operator2)).await;
    let late = [tuple(late_id, "late")];
    let proof = prover.prove(&late).await.unwrap();
    let r = submit(p, c.proof_system, &proof, x.host2).await;
    script.batches.push((h(r.transaction_hash), ids(&late)));
    mined(
        market
            .disputeJob(late_id, keccak256("late evidence"))
            .value(bond)
            .from(w.renter),
    )
    .await;
    // Host 2 starts unbonding part of its stake (it is then below the minimum: no new claims).
    mined(staking.requestUnstake(vouch(100)).from(x.host2)).await;

    script.accounts = vec![
        w.deployer,
        w.host,
        w.operator,
        w.renter,
        w.stranger,
        x.host2,
        x.operator2,
        x.voter,
        timelock,
        c.staking,
        c.slashing,
        c.job_marketplace,
    ];
    script
}

/// Indexes the chain up to its head into `store`: a backfill up to 8 blocks below the head,
/// then block by block.
async fn index<S: IndexWriter>(w: &World, store: S) -> Indexer<S> {
    index_with(w, store, 8).await
}

/// Indexes the chain up to its head with a reorg window of `window` blocks (a window longer
/// than the chain follows every block, journaling each change).
async fn index_with<S: IndexWriter>(w: &World, store: S, window: u64) -> Indexer<S> {
    let book = AddressBook::new(&w.deployment);
    let source = ChainSource::connect(&w.anvil.endpoint(), book.addresses(), Backoff::default())
        .await
        .unwrap();
    let cfg = IndexerConfig {
        until_head: true,
        reorg_window: window,
        ..IndexerConfig::default()
    };
    let mut indexer = Indexer::open(source, store, &w.deployment, cfg)
        .await
        .unwrap();
    indexer.run(std::future::pending()).await.unwrap();
    indexer
}

/// Every table of `conn` against the chain.
async fn check(w: &World, x: &Actors, script: &Script, conn: &DatabaseConnection) {
    let c = &w.deployment.contracts;
    let p = &x.p;
    let token = VouchToken::new(c.vouch_token, p);
    let staking = Staking::new(c.staking, p);
    let registry = NodeRegistry::new(c.node_registry, p);
    let market = JobMarketplace::new(c.job_marketplace, p);
    let slashing = Slashing::new(c.slashing, p);
    let rep = ReputationRegistry::new(c.reputation_registry, p);
    let gov = VouchGovernor::new(c.vouch_governor, p);

    // Events: exactly the logs of the manifest's addresses.
    let book = AddressBook::new(&w.deployment);
    let logs = p
        .get_logs(&Filter::new().address(book.addresses()).from_block(0))
        .await
        .unwrap();
    let chain: BTreeSet<(String, i64)> = logs
        .iter()
        .map(|l| (h(l.transaction_hash.unwrap()), l.log_index.unwrap() as i64))
        .collect();
    let events = event::Entity::find().all(conn).await.unwrap();
    assert_eq!(events.len(), logs.len(), "one event row per log");
    let stored: BTreeSet<(String, i64)> = events
        .iter()
        .map(|e| (e.tx_hash.clone(), e.log_index))
        .collect();
    assert_eq!(stored, chain, "the same (tx_hash, log_index) set");
    let names: BTreeSet<&str> = events.iter().map(|e| e.contract.as_str()).collect();
    for contract in [
        "VouchToken",
        "Staking",
        "NodeRegistry",
        "ReputationRegistry",
        "JobMarketplace",
        "Slashing",
        "ProofSystem",
        "TimelockController",
        "VouchGovernor",
    ] {
        assert!(names.contains(contract), "{contract} emitted events");
    }

    // Jobs against getJob.
    let jobs = job::Entity::find().all(conn).await.unwrap();
    let count = market.jobCount().call().await.unwrap().to::<u64>();
    assert_eq!(jobs.len() as u64, count, "every job");
    let disputes: BTreeMap<i64, dispute::Model> = dispute::Entity::find()
        .all(conn)
        .await
        .unwrap()
        .into_iter()
        .map(|d| (d.job_id, d))
        .collect();
    let mut states = BTreeSet::new();
    for j in &jobs {
        let g = market.getJob(U256::from(j.job_id)).call().await.unwrap();
        let ctx = format!("job {}", j.job_id);
        let state = STATUS[g.status as usize];
        states.insert(state);
        assert_eq!(j.state, state, "{ctx}: state");
        assert_eq!(j.renter, a(g.renter), "{ctx}: renter");
        assert_eq!(
            j.host.clone().unwrap_or_else(|| a(Address::ZERO)),
            a(g.host),
            "{ctx}: host"
        );
        assert_eq!(
            j.operator.clone().unwrap_or_else(|| a(Address::ZERO)),
            a(g.operator),
            "{ctx}: operator"
        );
        assert_eq!(j.token, a(g.token), "{ctx}: token");
        assert_eq!(dec(&j.payment), U256::from(g.payment), "{ctx}: payment");
        assert_eq!(dec(&j.fee), U256::from(g.fee), "{ctx}: fee");
        assert_eq!(j.deadline as u64, g.deadline.to::<u64>(), "{ctx}: deadline");
        assert_eq!(j.min_reputation, i64::from(g.minReputation), "{ctx}");
        assert_eq!(j.model_hash, h(g.modelHash), "{ctx}: model");
        assert_eq!(j.input_hash, h(g.inputHash), "{ctx}: input");
        assert_eq!(
            j.output_hash.clone().unwrap_or_else(|| h(B256::ZERO)),
            h(g.outputHash),
            "{ctx}: output"
        );
        if matches!(state, "Completed" | "Disputed" | "Paid" | "Refunded") {
            assert_eq!(
                j.completed_at.map(|t| t as u64),
                Some(g.completedAt.to::<u64>()),
                "{ctx}: completedAt"
            );
            assert!(j.batch_tx.is_some(), "{ctx}: batch tx");
        }
        assert_eq!(
            disputes
                .get(&j.job_id)
                .map_or("None", |d| d.status.as_str()),
            DISPUTE[g.dispute as usize],
            "{ctx}: dispute state"
        );
        assert_eq!(j.released_at.is_some(), state == "Paid", "{ctx}");
        assert_eq!(j.cancelled_at.is_some(), state == "Cancelled", "{ctx}");
        assert_eq!(j.expired_at.is_some(), state == "Expired", "{ctx}");
        assert_eq!(j.refunded_at.is_some(), state == "Refunded", "{ctx}");
    }
    for s in [
        "Open",
        "Claimed",
        "Completed",
        "Disputed",
        "Paid",
        "Expired",
        "Cancelled",
        "Refunded",
    ] {
        assert!(states.contains(s), "a job ends {s}: {states:?}");
    }
    assert_eq!(
        jobs.iter().filter(|j| j.slashed).count(),
        2,
        "two claimed jobs expired with a slash"
    );

    // Disputes against getDispute.
    assert_eq!(disputes.len(), 4);
    let mut outcomes = BTreeSet::new();
    for d in disputes.values() {
        let g = slashing
            .getDispute(U256::from(d.job_id))
            .call()
            .await
            .unwrap();
        let ctx = format!("dispute of job {}", d.job_id);
        assert_eq!(d.status, DISPUTE[g.status as usize], "{ctx}");
        outcomes.insert(d.status.clone());
        assert_eq!(dec(&d.bond), U256::from(g.bond), "{ctx}: bond");
        assert_eq!(d.rule_by as u64, g.ruleBy.to::<u64>(), "{ctx}: ruleBy");
        assert_eq!(d.opened_at as u64, g.openedAt.to::<u64>(), "{ctx}");
        assert_eq!((d.renter.clone(), d.host.clone()), (a(g.renter), a(g.host)));
        assert_eq!(d.evidence_hash, h(g.evidenceHash), "{ctx}");
    }
    assert_eq!(
        outcomes,
        ["Lapsed", "Open", "Rejected", "Upheld"]
            .map(String::from)
            .into_iter()
            .collect()
    );

    // Hosts against getNode and servesModel.
    let hosts = host::Entity::find().all(conn).await.unwrap();
    assert_eq!(hosts.len(), 2);
    for hst in &hosts {
        let addr: Address = hst.address.parse().unwrap();
        let g = registry.getNode(addr).call().await.unwrap();
        let ctx = format!("host {}", hst.address);
        assert_eq!(hst.endpoint, g.endpoint, "{ctx}");
        assert_eq!(hst.region, region_text(g.region), "{ctx}");
        assert_eq!(
            dec(&hst.price_per_token),
            U256::from(g.pricePerToken),
            "{ctx}"
        );
        assert_eq!(
            hst.operator.clone().unwrap_or_else(|| a(Address::ZERO)),
            a(g.operator),
            "{ctx}: operator"
        );
        assert_eq!(hst.registered, g.registeredAt.to::<u64>() != 0, "{ctx}");
        assert_eq!(
            hst.registered_at.map(|t| t as u64),
            Some(g.registeredAt.to::<u64>())
        );
        assert_eq!(
            hst.last_heartbeat.map(|t| t as u64),
            Some(g.lastHeartbeat.to::<u64>()),
            "{ctx}: heartbeat"
        );
        let models: Vec<String> = serde_json::from_str(&hst.models).unwrap();
        assert_eq!(models.len(), g.modelCount as usize, "{ctx}: model count");
        for m in &models {
            assert!(
                registry
                    .servesModel(addr, m.parse().unwrap())
                    .call()
                    .await
                    .unwrap(),
                "{ctx} serves {m}"
            );
        }
        if addr == x.host2 {
            let mut expect = vec![h(model()), h(keccak256("phi-3-mini"))];
            expect.sort();
            let mut got = models.clone();
            got.sort();
            assert_eq!(got, expect, "{ctx}: a model added, one removed");
            assert!(
                !registry
                    .servesModel(addr, keccak256("mistral-7b-q4"))
                    .call()
                    .await
                    .unwrap()
            );
        }
    }

    // Stakes against positionOf; slashed totals against the slashes.
    let slashes = slash::Entity::find().all(conn).await.unwrap();
    let reasons: BTreeSet<&str> = slashes.iter().map(|s| s.reason.as_str()).collect();
    assert_eq!(
        reasons,
        ["DisputeUpheld", "Equivocation", "MissedDeadline"].into()
    );
    let stakes = stake::Entity::find().all(conn).await.unwrap();
    assert_eq!(stakes.len(), 3, "two hosts and a staker");
    for s in &stakes {
        let addr: Address = s.address.parse().unwrap();
        let g = staking.positionOf(addr).call().await.unwrap();
        let ctx = format!("stake of {}", s.address);
        assert_eq!(dec(&s.active), U256::from(g.active), "{ctx}: active");
        assert_eq!(
            dec(&s.unbonding),
            U256::from(g.unbonding),
            "{ctx}: unbonding"
        );
        assert_eq!(
            s.release_at.unwrap_or(0) as u64,
            g.releaseAt,
            "{ctx}: releaseAt"
        );
        let slashed: U256 = slashes
            .iter()
            .filter(|x| x.host == s.address)
            .map(|x| dec(&x.amount))
            .sum();
        assert_eq!(dec(&s.slashed_total), slashed, "{ctx}: slashed total");
    }
    let staker = stakes.iter().find(|s| s.address == a(w.stranger)).unwrap();
    assert_eq!(dec(&staker.withdrawn_total), parse_ether("300").unwrap());

    // Balances against claimable and bondBalance; every non-zero credit has its row.
    let balances = balance::Entity::find().all(conn).await.unwrap();
    for b in &balances {
        let acct: Address = b.account.parse().unwrap();
        let tok: Address = b.token.parse().unwrap();
        let onchain = match b.ledger.as_str() {
            "marketplace" => market.claimable(acct, tok).call().await.unwrap(),
            "bond" => slashing.bondBalance(acct).call().await.unwrap(),
            other => panic!("ledger {other}"),
        };
        assert_eq!(
            dec(&b.amount),
            onchain,
            "{} {} {}",
            b.ledger,
            b.account,
            b.token
        );
        assert_eq!(
            dec(&b.credited_total) - dec(&b.withdrawn_total),
            onchain,
            "{} {}",
            b.ledger,
            b.account
        );
    }
    for acct in &script.accounts {
        for tok in [ETH, c.vouch_token] {
            let onchain = market.claimable(*acct, tok).call().await.unwrap();
            if !onchain.is_zero() {
                assert!(
                    balances.iter().any(|b| b.ledger == "marketplace"
                        && b.account == a(*acct)
                        && b.token == a(tok)),
                    "claimable of {acct} in {tok} has a row"
                );
            }
        }
        if !slashing.bondBalance(*acct).call().await.unwrap().is_zero() {
            assert!(
                balances
                    .iter()
                    .any(|b| b.ledger == "bond" && b.account == a(*acct))
            );
        }
    }
    assert!(
        balances
            .iter()
            .any(|b| b.ledger == "bond" && dec(&b.withdrawn_total) > U256::ZERO)
    );

    // Reputation: the last change's newScore is the score at that block.
    let history = reputation::Entity::find().all(conn).await.unwrap();
    let mut last: BTreeMap<String, &reputation::Model> = BTreeMap::new();
    for r in &history {
        let newer = last
            .get(&r.host)
            .is_none_or(|l| (r.block, r.log_index) > (l.block, l.log_index));
        if newer {
            last.insert(r.host.clone(), r);
        }
    }
    let outcomes: BTreeSet<&str> = history.iter().map(|r| r.outcome.as_str()).collect();
    assert_eq!(
        outcomes,
        ["Completion", "DisputeUpheld", "Equivocation", "Expiry"].into()
    );
    for (hst, r) in &last {
        let score = rep
            .scoreOf(hst.parse().unwrap())
            .block(BlockId::number(r.block as u64))
            .call()
            .await
            .unwrap();
        assert_eq!(i64::from(score), r.new_score, "score of {hst}");
    }

    // Governance: the tallies against proposalVotes, the state Executed.
    let proposals = proposal::Entity::find().all(conn).await.unwrap();
    assert_eq!(proposals.len(), 1);
    let pr = &proposals[0];
    assert_eq!(dec(&pr.proposal_id), script.proposal);
    let votes = gov.proposalVotes(script.proposal).call().await.unwrap();
    assert_eq!(
        (
            dec(&pr.against_votes),
            dec(&pr.for_votes),
            dec(&pr.abstain_votes)
        ),
        (votes.againstVotes, votes.forVotes, votes.abstainVotes)
    );
    assert_eq!(gov.state(script.proposal).call().await.unwrap(), 7);
    assert_eq!(pr.state, "Executed");
    assert_eq!(pr.proposer, a(w.deployer));
    assert_eq!(
        pr.vote_start as u64,
        gov.proposalSnapshot(script.proposal)
            .call()
            .await
            .unwrap()
            .to::<u64>()
    );
    assert_eq!(
        pr.vote_end as u64,
        gov.proposalDeadline(script.proposal)
            .call()
            .await
            .unwrap()
            .to::<u64>()
    );
    assert_eq!(
        pr.eta.map(|e| e as u64),
        Some(
            gov.proposalEta(script.proposal)
                .call()
                .await
                .unwrap()
                .to::<u64>()
        )
    );
    let vote_rows = vote::Entity::find().all(conn).await.unwrap();
    assert_eq!(vote_rows.len(), 3);
    for v in &vote_rows {
        assert!(
            gov.hasVoted(script.proposal, v.voter.parse().unwrap())
                .call()
                .await
                .unwrap()
        );
    }
    let fee =
        parameter::Entity::find_by_id((31337i64, "JobMarketplace".into(), "ProtocolFeeSet".into()))
            .one(conn)
            .await
            .unwrap()
            .expect("ProtocolFeeSet parameter");
    let v: serde_json::Value = serde_json::from_str(&fee.value).unwrap();
    assert_eq!(v["feeBps"].to_string().trim_matches('"'), "200", "{v}");

    // Delegations against delegates and getVotes.
    let delegations = delegation::Entity::find().all(conn).await.unwrap();
    assert!(delegations.len() >= 4);
    for d in &delegations {
        let acct: Address = d.account.parse().unwrap();
        let onchain = token.delegates(acct).call().await.unwrap();
        assert_eq!(
            d.delegate.clone().unwrap_or_else(|| a(Address::ZERO)),
            a(onchain),
            "delegate of {}",
            d.account
        );
        assert_eq!(
            dec(&d.votes),
            token.getVotes(acct).call().await.unwrap(),
            "votes of {}",
            d.account
        );
    }

    // Transfers: each account's net flow is its balance (the whole supply started at the
    // deployer, by the mint's transfer from zero).
    let transfers = transfer::Entity::find().all(conn).await.unwrap();
    let mut net: BTreeMap<String, (U256, U256)> = BTreeMap::new();
    for t in &transfers {
        net.entry(t.to_address.clone()).or_default().0 += dec(&t.value);
        net.entry(t.from_address.clone()).or_default().1 += dec(&t.value);
    }
    for (acct, (inflow, outflow)) in &net {
        let addr: Address = acct.parse().unwrap();
        if addr.is_zero() {
            continue;
        }
        assert_eq!(
            inflow - outflow,
            token.balanceOf(addr).call().await.unwrap(),
            "VOUCH balance of {acct}"
        );
    }

    // Batches: the jobs each proof completed, and each job's batch tx.
    let batches = batch::Entity::find().all(conn).await.unwrap();
    assert_eq!(batches.len(), script.batches.len());
    for (tx, ids) in &script.batches {
        let b = batches
            .iter()
            .find(|b| &b.tx_hash == tx)
            .expect("batch row");
        let stored: Vec<u64> = serde_json::from_str(&b.job_ids).unwrap();
        assert_eq!(&stored, ids, "batch {tx}");
        assert_eq!(b.job_count as usize, ids.len());
        for id in ids {
            let j = jobs.iter().find(|j| j.job_id as u64 == *id).unwrap();
            assert_eq!(j.batch_tx.as_ref(), Some(tx), "job {id}'s batch");
        }
    }
    assert_eq!(
        batches
            .iter()
            .map(|b| b.batch_size)
            .collect::<BTreeSet<_>>(),
        [1, 16].into()
    );

    // The equivocation.
    let eqs = equivocation::Entity::find().all(conn).await.unwrap();
    assert_eq!(eqs.len(), 1);
    assert_eq!(
        (eqs[0].host.clone(), eqs[0].reporter.clone()),
        (a(w.host), a(w.stranger))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scripted_history_of_every_contract_indexes_to_the_chain_s_own_view() {
    let started = std::time::Instant::now();
    let w = World::new().await;
    let x = Actors::new(&w);
    let script = run_scenario(&w, &x).await;
    eprintln!("scenario scripted in {:?}", started.elapsed());

    let sqlite_db = vouch_testkit::FreshSqlite::create();
    let pg_db = vouch_testkit::FreshPostgres::create().await;
    let (sqlite, pg) = tokio::join!(
        async { index(&w, SeaStore::connect(&sqlite_db.url).await.unwrap()).await },
        async { index(&w, SeaStore::connect(&pg_db.url).await.unwrap()).await },
    );
    eprintln!("indexed in {:?}", started.elapsed());
    let head = x.p.get_block_number().await.unwrap();
    assert_eq!(sqlite.next_block(), head + 1);
    assert_eq!(pg.next_block(), head + 1);

    check(&w, &x, &script, sqlite.store().connection()).await;
    check(&w, &x, &script, pg.store().connection()).await;

    let d_sqlite = sqlite.store().digest(31337).await.unwrap();
    let d_pg = pg.store().digest(31337).await.unwrap();
    assert_eq!(d_sqlite, d_pg, "SQLite and PostgreSQL hold the same rows");

    // Following every block (the journaled path) folds to the same rows as the backfill.
    let followed_db = vouch_testkit::FreshSqlite::create();
    let followed = index_with(
        &w,
        SeaStore::connect(&followed_db.url).await.unwrap(),
        head + 10,
    )
    .await;
    assert_eq!(followed.store().digest(31337).await.unwrap(), d_sqlite);
    drop(followed);

    // Indexing again on the same stores changes nothing.
    drop((sqlite, pg));
    let again = index(&w, SeaStore::connect(&sqlite_db.url).await.unwrap()).await;
    assert_eq!(again.store().digest(31337).await.unwrap(), d_sqlite);
    let again = index(&w, SeaStore::connect(&pg_db.url).await.unwrap()).await;
    assert_eq!(again.store().digest(31337).await.unwrap(), d_pg);
    eprintln!("done in {:?}", started.elapsed());
}
