//! The inference proof tier over the API, on a real anvil chain with real EZKL proofs indexed
//! into SQLite and PostgreSQL: `Job.verifiable`, `proofTier`, `output` (decoded signed
//! quantized values) and `outputBytes` of an MLP job completed by `submitInference` and of a
//! commitment-tier job, and `verifiableModel(s)`.

mod common;
#[path = "../../keeper/tests/common/mod.rs"]
mod prover_common;
#[path = "../../keeper/tests/world/mod.rs"]
mod world;

use alloy::primitives::{Address, B256, U256, keccak256};
use serde_json::json;
use vouch_bindings::contracts::JobMarketplace;
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::SeaStore;
use vouch_indexer::{Indexer, IndexerConfig};
use vouch_keeper::prover::{JobTuple, encode_output};
use vouch_testkit::{FreshPostgres, FreshSqlite};
use world::{JOB_DURATION, PAYMENT_WEI, World, mined};

const MLP: &str = "mlp_classifier";

async fn index(w: &World, url: &str) {
    let book = AddressBook::new(&w.deployment);
    let source = ChainSource::connect(&w.anvil.endpoint(), book.addresses(), Backoff::default())
        .await
        .unwrap();
    let store = SeaStore::connect(url).await.unwrap();
    let cfg = IndexerConfig {
        until_head: true,
        reorg_window: 8,
        confirmations: 3,
        ..IndexerConfig::default()
    };
    let mut indexer = Indexer::open(source, store, &w.deployment, cfg)
        .await
        .unwrap();
    indexer.run(std::future::pending()).await.unwrap();
}

#[tokio::test]
async fn jobs_show_their_proof_tier_and_published_output() {
    let prover = prover_common::prover_with(|c| {
        c.models = vec![MLP.into()];
        c.batch_sizes = vec![1];
        c.workers = 1;
        c.prove_timeout = std::time::Duration::from_secs(600);
    })
    .await;
    let w = World::with_models(&[MLP]).await;
    let mlp = prover.models().get(MLP).unwrap().hash().unwrap();
    let info = w.proof_system().modelVerifierFor(mlp).call().await.unwrap();

    let (commit_job, _) = w.create_job("commitment job").await;
    w.claim(commit_job).await;
    let proof = prover
        .prove(&[JobTuple {
            job_id: B256::from(commit_job),
            model_hash: world::model(),
            input_hash: keccak256("commitment job"),
            output_hash: keccak256("commitment job output"),
        }])
        .await
        .unwrap();
    world::ok(w.submit(&proof, w.operator).await);

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
    // Three more blocks: the completion is final at confirmations 3.
    use alloy::providers::ext::AnvilApi;
    w.provider.anvil_mine(Some(3), None).await.unwrap();

    let output: Vec<String> = inference.output.iter().map(|v| v.to_string()).collect();
    assert!(!output.is_empty());
    let output_hex = format!("0x{}", alloy::hex::encode(&output_bytes));
    let model_hex = format!("{mlp:#x}");
    let (lite, pg) = (FreshSqlite::create(), FreshPostgres::create().await);
    for url in [&lite.url, &pg.url] {
        index(&w, url).await;
        let api = common::serve(url).await;
        let q = "query($a: Int!, $b: Int!) {
            a: job(id: $a) { state verifiable proofTier output outputBytes inferenceProofHash block final }
            b: job(id: $b) { state verifiable proofTier output outputBytes inferenceProofHash }
        }";
        let d = api
            .query(
                q,
                json!({"a": mlp_job.to::<i64>(), "b": commit_job.to::<i64>()}),
            )
            .await;
        assert_eq!(
            d["a"],
            json!({
                "state": "COMPLETED",
                "verifiable": true,
                "proofTier": "INFERENCE",
                "output": output,
                "outputBytes": output_hex,
                "inferenceProofHash": format!("{:#x}", keccak256(&inference.proof)),
                "block": proven.block_number.unwrap(),
                "final": true,
            }),
            "{url}"
        );
        assert_eq!(
            d["b"],
            json!({
                "state": "COMPLETED",
                "verifiable": false,
                "proofTier": "COMMITMENT",
                "output": null,
                "outputBytes": null,
                "inferenceProofHash": null,
            }),
            "{url}"
        );

        let node = json!({
            "modelHash": model_hex,
            "verifier": info.verifier.to_checksum(None),
            "circuitVersion": info.circuitVersion,
            "layout": "HashedInputOutput",
            "installed": true,
            "final": true,
        });
        let d = api
            .query(
                "query($m: Bytes32!) {
                    one: verifiableModel(modelHash: $m) { modelHash verifier circuitVersion layout installed final }
                    none: verifiableModel(modelHash: \"0x0000000000000000000000000000000000000000000000000000000000000001\") { modelHash }
                    all: verifiableModels { totalCount nodes { modelHash verifier circuitVersion layout installed final } }
                    removed: verifiableModels(installed: false) { totalCount }
                }",
                json!({"m": model_hex}),
            )
            .await;
        assert_eq!(d["one"], node, "{url}");
        assert_eq!(d["none"], json!(null), "{url}");
        assert_eq!(d["all"], json!({"totalCount": 1, "nodes": [node]}), "{url}");
        assert_eq!(d["removed"]["totalCount"], 0, "{url}");
    }
}
