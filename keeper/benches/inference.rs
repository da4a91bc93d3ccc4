//! Verifiable models: key load, prove p50/p95, proof size, off-chain verify time and the gas of
//! the generated verifier's `verifyProof` on anvil, per model, with real EZKL proofs.
//!
//!     bash script/setup.sh
//!     cargo bench -p vouch-keeper --bench inference [-- RUNS]
//!
//! The chain is anvil with `--disable-code-size-limit`, because the attention block's
//! verifier is over the 24,576-byte limit (docs/circuit.md). Results go to docs/benchmarks.md.

use std::time::{Duration, Instant};

use alloy::network::{Ethereum, EthereumWallet, Network, TransactionBuilder};
use alloy::node_bindings::Anvil;
use alloy::primitives::Bytes;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use vouch_keeper::prover::{Artifacts, Prover, ProverConfig};

alloy::sol! {
    #[sol(rpc)]
    interface ModelVerifier {
        function verifyProof(bytes proof, uint256[] instances) external view returns (bool);
    }
}

fn main() {
    let runs: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10);
    tokio::runtime::Runtime::new()
        .expect("a tokio runtime")
        .block_on(run(runs));
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn sample_input(artifacts: &Artifacts, model: &str) -> Vec<f64> {
    let text = std::fs::read_to_string(artifacts.model_dir(model).join("model.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    manifest["sample"]["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

async fn run(runs: usize) {
    let artifacts = Artifacts::from_env();
    let anvil = Anvil::at(vouch_testkit::anvil_path())
        .arg("--disable-code-size-limit")
        .spawn();
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("load average at start: {}", load.trim());
    println!(
        "| model | logrows | pk | key load | prove p50 | prove p95 | proof | verify (off-chain) | verifyProof gas | verifier runtime |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for model in vouch_keeper::prover::model_names(&artifacts).unwrap() {
        let mut config = ProverConfig::from_env().unwrap();
        config.batch_sizes = vec![];
        config.models = vec![model.clone()];
        config.workers = 1;
        config.prove_timeout = Duration::from_secs(900);
        let prover = Prover::load(config).await.unwrap();
        let key_load = prover.idle_workers()[0].1;
        let manifest = prover.models().get(&model).unwrap().clone();
        let input = sample_input(&artifacts, &model);
        let mut proves = Vec::new();
        let mut last = None;
        for _ in 0..runs {
            let (inference, timings) = prover.infer(&model, &input).await.unwrap();
            proves.push(timings.prove);
            last = Some(inference);
        }
        proves.sort();
        let inference = last.unwrap();
        let started = Instant::now();
        assert!(
            prover
                .verify_inference(
                    &model,
                    &inference.input_hash,
                    &inference.output_hash,
                    &inference.proof
                )
                .await
                .unwrap()
        );
        let verify = started.elapsed();

        let artifact = artifacts.model_verifier_artifact(&manifest.contract);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&artifact).unwrap()).unwrap();
        let code: Bytes = json["bytecode"]["object"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let receipt = provider
            .send_transaction(
                <Ethereum as Network>::TransactionRequest::default().with_deploy_code(code),
            )
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        let verifier = receipt.contract_address.unwrap();
        let runtime = provider.get_code_at(verifier).await.unwrap().len();
        let v = ModelVerifier::new(verifier, &provider);
        let call = v.verifyProof(inference.proof.clone(), inference.instances().to_vec());
        assert!(call.call().await.unwrap());
        let gas = call.estimate_gas().await.unwrap();
        println!(
            "| {model} | {} | {:.1} MB | {:.2} s | {:.2} s | {:.2} s | {} B | {:.0} ms | {gas} | {runtime} B |",
            manifest.logrows,
            manifest.sizes.pk_bytes as f64 / 1e6,
            key_load.as_secs_f64(),
            percentile(&proves, 0.5).as_secs_f64(),
            percentile(&proves, 0.95).as_secs_f64(),
            inference.proof.len(),
            verify.as_secs_f64() * 1e3,
        );
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "load average at end: {} ({runs} proofs per model)",
        load.trim()
    );
}
