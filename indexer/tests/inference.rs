//! The inference proof tier indexed from a real anvil chain with real EZKL proofs, on SQLite
//! and PostgreSQL: the deploy script installs the MLP classifier's verifier
//! (`verifiable_models`), a job of the MLP completes through `submitInference` (proof tier
//! `inference`, the published output and proof hash on its row) beside a commitment-tier job
//! completed by a B=1 batch proof (`commitment`, no output); a reorg that drops the
//! InferenceProven block takes the job back to Claimed with no tier or output.

#[path = "../../keeper/tests/common/mod.rs"]
mod common;
#[path = "../../keeper/tests/world/mod.rs"]
mod world;

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, U256, keccak256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use sea_orm::EntityTrait;
use vouch_bindings::contracts::JobMarketplace;
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::entity::{job, verifiable_model};
use vouch_indexer::store::{IndexWriter, SeaStore};
use vouch_indexer::{Indexer, IndexerConfig};
use vouch_keeper::prover::{JobTuple, decode_output, encode_output};
use vouch_testkit::{FreshPostgres, FreshSqlite};
use world::{JOB_DURATION, PAYMENT_WEI, World, mined};

const MLP: &str = "mlp_classifier";

async fn indexer(w: &World, url: &str) -> Indexer<SeaStore> {
    let book = AddressBook::new(&w.deployment);
    let source = ChainSource::connect(&w.anvil.endpoint(), book.addresses(), Backoff::default())
        .await
        .unwrap();
    let store = SeaStore::connect(url).await.unwrap();
    let cfg = IndexerConfig {
        until_head: true,
        reorg_window: 64,
        confirmations: 2,
        ..IndexerConfig::default()
    };
    Indexer::open(source, store, &w.deployment, cfg)
        .await
        .unwrap()
}

/// A provider without cached nonces: after `anvil_revert` the world's own would reuse
/// nonces of the dropped transactions' future.
fn fresh_provider(w: &World) -> DynProvider {
    let signers: Vec<PrivateKeySigner> = w.anvil.keys()[..5]
        .iter()
        .cloned()
        .map(Into::into)
        .collect();
    let mut wallet = EthereumWallet::from(signers[0].clone());
    for s in &signers[1..] {
        wallet.register_signer(s.clone());
    }
    ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(w.anvil.endpoint_url())
        .erased()
}

async fn catch_up(i: &mut Indexer<SeaStore>) {
    i.run(std::future::pending()).await.unwrap();
}

async fn job_row(i: &Indexer<SeaStore>, id: U256) -> job::Model {
    job::Entity::find_by_id((31337i64, id.to::<i64>()))
        .one(i.store().connection())
        .await
        .unwrap()
        .expect("the job is indexed")
}

async fn models(i: &Indexer<SeaStore>) -> Vec<verifiable_model::Model> {
    verifiable_model::Entity::find()
        .all(i.store().connection())
        .await
        .unwrap()
}

#[tokio::test]
async fn inference_and_commitment_jobs_are_indexed_with_their_tier_and_a_reorg_undoes_them() {
    let prover = common::prover_with(|c| {
        c.models = vec![MLP.into()];
        c.batch_sizes = vec![1];
        c.workers = 1;
        c.prove_timeout = std::time::Duration::from_secs(600);
    })
    .await;
    let mut w = World::with_models(&[MLP]).await;
    let mlp = prover.models().get(MLP).unwrap().hash().unwrap();
    assert_eq!(w.models, vec![mlp]);
    let info = w.proof_system().modelVerifierFor(mlp).call().await.unwrap();

    // The commitment-tier job (the host's other model), completed by a real B=1 proof.
    let (commit_job, _) = w.create_job("commitment job").await;
    w.claim(commit_job).await;
    let tuple = JobTuple {
        job_id: B256::from(commit_job),
        model_hash: world::model(),
        input_hash: keccak256("commitment job"),
        output_hash: keccak256("commitment job output"),
    };
    let proof = prover.prove(&[tuple]).await.unwrap();
    assert_eq!(proof.batch_size, 1);
    let batch = world::ok(w.submit(&proof, w.operator).await);

    // The MLP job: input committed, claimed, proven and completed with its output.
    let input = prover.models().get(MLP).unwrap().sample.input.clone();
    let input_hash = prover.commit_input(MLP, &input).await.unwrap();
    let deadline = w.now().await + JOB_DURATION;
    let created = mined(
        w.marketplace()
            .createJob(
                mlp,
                input_hash,
                Address::ZERO,
                alloy::primitives::Uint::from(PAYMENT_WEI),
                alloy::primitives::Uint::from(deadline),
                Address::ZERO,
                0,
            )
            .value(U256::from(PAYMENT_WEI))
            .from(w.renter),
    )
    .await;
    let mlp_job = created
        .decoded_log::<JobMarketplace::JobCreated>()
        .unwrap()
        .jobId;
    w.claim(mlp_job).await;
    let (inference, _) = prover.infer(MLP, &input).await.unwrap();
    let output_bytes = encode_output(&inference.output);
    assert_eq!(decode_output(&output_bytes), Some(inference.output.clone()));

    let (lite_db, pg_db) = (FreshSqlite::create(), FreshPostgres::create().await);
    let mut lite = indexer(&w, &lite_db.url).await;
    let mut pg = indexer(&w, &pg_db.url).await;
    catch_up(&mut lite).await;
    catch_up(&mut pg).await;
    let fork = w.provider.anvil_snapshot().await.unwrap();

    let proven = mined(
        w.proof_system()
            .submitInference(
                mlp_job,
                inference.output_hash,
                inference.proof.clone(),
                output_bytes.clone(),
            )
            .from(w.operator)
            .gas(2_000_000),
    )
    .await;
    catch_up(&mut lite).await;
    catch_up(&mut pg).await;

    let output_hex = format!("0x{}", alloy::hex::encode(&output_bytes));
    for (name, i) in [("SQLite", &lite), ("PostgreSQL", &pg)] {
        let m = models(i).await;
        assert_eq!(m.len(), 1, "{name}: one verifiable model");
        let m = &m[0];
        assert_eq!(m.model_hash, format!("{mlp:#x}"), "{name}");
        assert_eq!(
            m.verifier,
            vouch_bindings::events::checksummed(info.verifier),
            "{name}"
        );
        assert_ne!(info.verifier, Address::ZERO);
        assert_eq!(m.circuit_version, i64::from(info.circuitVersion), "{name}");
        assert_eq!(m.layout, "HashedInputOutput", "{name}");
        assert!(m.installed, "{name}");

        let c = job_row(i, commit_job).await;
        assert_eq!(c.state, "Completed", "{name}");
        assert_eq!(c.proof_tier.as_deref(), Some("commitment"), "{name}");
        assert_eq!(c.output, None, "{name}");
        assert_eq!(c.proof_hash, None, "{name}");
        assert_eq!(
            c.batch_tx,
            Some(format!("{:#x}", batch.transaction_hash)),
            "{name}"
        );

        let j = job_row(i, mlp_job).await;
        assert_eq!(j.state, "Completed", "{name}");
        assert_eq!(j.proof_tier.as_deref(), Some("inference"), "{name}");
        assert_eq!(j.output.as_deref(), Some(output_hex.as_str()), "{name}");
        let stored = alloy::hex::decode(j.output.as_ref().unwrap()).unwrap();
        assert_eq!(
            decode_output(&stored),
            Some(inference.output.clone()),
            "{name}"
        );
        assert_eq!(
            j.proof_hash,
            Some(format!("{:#x}", keccak256(&inference.proof))),
            "{name}"
        );
        assert_eq!(
            j.output_hash,
            Some(format!("{:#x}", inference.output_hash)),
            "{name}"
        );
        assert_eq!(j.block, proven.block_number.unwrap() as i64, "{name}");
    }

    // Reorg: the InferenceProven block is replaced by two empty blocks.
    assert!(w.provider.anvil_revert(fork).await.unwrap());
    w.provider = fresh_provider(&w);
    w.provider.anvil_mine(Some(2), None).await.unwrap();
    catch_up(&mut lite).await;
    catch_up(&mut pg).await;
    for (name, i) in [("SQLite", &lite), ("PostgreSQL", &pg)] {
        let j = job_row(i, mlp_job).await;
        assert_eq!(j.state, "Claimed", "{name}: after the reorg");
        assert_eq!(j.proof_tier, None, "{name}");
        assert_eq!(j.output, None, "{name}");
        assert_eq!(j.proof_hash, None, "{name}");
        assert_eq!(j.output_hash, None, "{name}");
        let c = job_row(i, commit_job).await;
        assert_eq!(
            c.proof_tier.as_deref(),
            Some("commitment"),
            "{name}: untouched"
        );
        assert!(models(i).await[0].installed, "{name}");
    }
    assert_eq!(
        lite.store().digest(31337).await.unwrap(),
        pg.store().digest(31337).await.unwrap(),
        "SQLite and PostgreSQL agree"
    );
}
