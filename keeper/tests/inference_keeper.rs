//! The keeper as the inference engine of a verifiable model's job (`Keeper::start` on a real
//! chain with the MLP's verifier installed, real EZKL): intake takes the renter's input,
//! refuses one whose commitment is not the job's, runs the model, signs and returns its
//! output; the pipeline proves it and lands it through `submitInference`. Commitment-tier
//! results and inputs are each refused where they do not belong.

mod common;
mod world;

use std::sync::Arc;
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, U256};
use serde_json::{Value, json};
use vouch_bindings::contracts::{JobMarketplace, ProofSystem};
use vouch_keeper::prover::decode_output;
use vouch_keeper::queue::ResultState;
use vouch_keeper::service::{Keeper, KeeperHandle};
use world::{JOB_DURATION, PAYMENT_WEI, World, mined};

const MLP: &str = "mlp_classifier";
const COMPLETED: u8 = 3;

async fn post(keeper: &KeeperHandle, body: Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("http://{}/v1/results", keeper.addr()))
        .json(&body)
        .send()
        .await
        .unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

async fn claimed_mlp_job(world: &World, model: B256, input_hash: B256) -> U256 {
    let deadline = world.now().await + JOB_DURATION;
    let receipt = mined(
        world
            .marketplace()
            .createJob(
                model,
                input_hash,
                Address::ZERO,
                alloy::primitives::Uint::from(PAYMENT_WEI),
                alloy::primitives::Uint::from(deadline),
                Address::ZERO,
                0,
            )
            .value(U256::from(PAYMENT_WEI))
            .from(world.renter),
    )
    .await;
    let id = receipt
        .decoded_log::<JobMarketplace::JobCreated>()
        .expect("JobCreated")
        .jobId;
    mined(
        world
            .marketplace()
            .claimJob(id, world.host)
            .from(world.operator),
    )
    .await;
    id
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or("")
}

#[tokio::test]
async fn the_keeper_proves_a_verifiable_job_from_the_renters_input_and_lands_it() {
    let world = World::with_models(&[MLP]).await;
    let prover = Arc::new(
        common::prover_with(|c| {
            c.batch_sizes = vec![1];
            c.models = vec![MLP.into()];
            c.workers = 1;
        })
        .await,
    );
    let manifest = prover.models().get(MLP).unwrap().clone();
    let model = manifest.hash().unwrap();
    let input = manifest.sample.input.clone();
    let honest = prover.evaluation(MLP, &input).await.unwrap();
    let job = claimed_mlp_job(&world, model, honest.input_hash).await;
    let job_hex = format!("{:#x}", B256::from(job));
    let (commitment_job, _) = world.create_job("commitment tier").await;
    world.claim(commitment_job).await;

    let db = vouch_testkit::FreshSqlite::create();
    let keeper = Keeper::start(world.keeper_config(&db.url, prover.clone()))
        .await
        .unwrap();

    // Refusals, each with its code, none stored.
    let mut other = input.clone();
    other[0] = 1.0;
    let (status, body) = post(&keeper, json!({ "jobId": job_hex, "input": other })).await;
    assert_eq!((status, code(&body)), (422, "input_mismatch"), "{body}");
    let (status, body) = post(&keeper, json!({ "jobId": job_hex, "input": [0.5, 0.5] })).await;
    assert_eq!((status, code(&body)), (400, "bad_input"), "{body}");
    let (status, body) = post(&keeper, json!({ "jobId": job_hex, "output": "some text" })).await;
    assert_eq!((status, code(&body)), (400, "input_required"), "{body}");
    let (status, body) = post(
        &keeper,
        json!({ "jobId": format!("{:#x}", B256::from(commitment_job)), "input": input }),
    )
    .await;
    assert_eq!((status, code(&body)), (400, "not_verifiable"), "{body}");
    let (status, body) = post(
        &keeper,
        json!({ "jobId": job_hex, "input": input, "outputHash": format!("{:#x}", B256::ZERO) }),
    )
    .await;
    assert_eq!((status, code(&body)), (400, "output_ambiguous"), "{body}");
    assert_eq!(
        keeper.intake().queue().get(B256::from(job)).await.unwrap(),
        None
    );

    // The renter's input: the model's output, signed, durable; a repeat gets the same reply.
    let (status, accepted) = post(&keeper, json!({ "jobId": job_hex, "input": input })).await;
    assert_eq!(status, 202, "{accepted}");
    let expected_output: Vec<Value> = honest.output.iter().map(|v| json!(v)).collect();
    assert_eq!(accepted["output"], Value::Array(expected_output));
    assert_eq!(
        accepted["outputHash"],
        json!(format!("{:#x}", honest.output_hash))
    );
    assert_eq!(honest.output, manifest.sample.quantized_output);
    let (status, again) = post(&keeper, json!({ "jobId": job_hex, "input": input })).await;
    assert_eq!((status, &again), (202, &accepted));
    let (status, body) = post(&keeper, json!({ "jobId": job_hex, "input": other })).await;
    assert_eq!((status, code(&body)), (409, "output_conflict"), "{body}");

    // Proven and landed through submitInference.
    let start = Instant::now();
    let row = loop {
        let row = keeper
            .intake()
            .queue()
            .get(B256::from(job))
            .await
            .unwrap()
            .unwrap();
        if row.state == ResultState::Confirmed {
            break row;
        }
        assert_ne!(row.state, ResultState::Failed, "{row:?}");
        assert!(start.elapsed() < Duration::from_secs(120), "{row:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let receipt = world.receipt(row.tx_hash.unwrap()).await;
    let proven = receipt
        .decoded_log::<ProofSystem::InferenceProven>()
        .expect("InferenceProven");
    assert_eq!(proven.jobId, job);
    assert_eq!(proven.modelHash, model);
    assert_eq!(proven.outputHash, honest.output_hash);
    assert_eq!(decode_output(&proven.output), Some(honest.output.clone()));
    let stored = world.marketplace().getJob(job).call().await.unwrap();
    assert_eq!(stored.status, COMPLETED);
    assert_eq!(stored.outputHash, honest.output_hash);
    let status: Value = reqwest::get(format!("http://{}/v1/results/{job_hex}", keeper.addr()))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["state"], "confirmed");
    assert_eq!(status["output"], accepted["output"]);
    keeper.shutdown().await.unwrap();
}
