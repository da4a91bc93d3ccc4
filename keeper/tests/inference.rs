//! The prover's inference path with real EZKL on the verifiable models setup built: the
//! commitment, the quantized output against an independent numpy computation, real proofs,
//! and a dishonest host that changes one output element.

mod common;

use std::process::Command;

use alloy::primitives::{B256, U256};
use common::prover_with;
use vouch_keeper::prover::{
    Artifacts, FIELD_MODULUS, InstanceLayout, Prover, ProverError, field_to_hash, model_hash_of,
};

const MLP: &str = "mlp_classifier";
const ATTENTION: &str = "attention_block";

async fn model_prover(models: &[&str]) -> Prover {
    prover_with(|c| {
        c.batch_sizes = vec![];
        c.models = models.iter().map(|m| m.to_string()).collect();
        c.workers = 1;
        c.prove_timeout = std::time::Duration::from_secs(600);
    })
    .await
}

fn artifacts() -> Artifacts {
    Artifacts::from_env()
}

fn python() -> std::path::PathBuf {
    artifacts().root.join(".venv/bin/python")
}

/// Runs a script of circuits/models/ with the input written to a file; its JSON stdout.
fn run_script(script: &str, model: &str, input: &[f64], extra: &[&str]) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let input_path = dir.path().join("input.json");
    std::fs::write(
        &input_path,
        serde_json::json!({ "input": input }).to_string(),
    )
    .unwrap();
    let a = artifacts();
    let out = Command::new(python())
        .arg(a.root.join("circuits/models").join(script))
        .arg(a.model_dir(model))
        .arg(&input_path)
        .args(extra)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{script} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn numpy_reference(input: &[f64]) -> Vec<i128> {
    run_script("reference.py", MLP, input, &[])["output"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap() as i128)
        .collect()
}

/// Deterministic inputs in [0, 1] (the MLP's features are token shares) with a mix of exact
/// zeros, small and large values.
fn mlp_inputs(n: usize) -> Vec<Vec<f64>> {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    (0..n)
        .map(|_| {
            (0..32)
                .map(|_| {
                    state = state
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let r = (state >> 40) as f64 / (1u64 << 24) as f64;
                    if r < 0.4 {
                        0.0
                    } else {
                        ((r - 0.4) / 0.6 * 1000.0).round() / 1000.0
                    }
                })
                .collect()
        })
        .collect()
}

fn sample_input(model: &str) -> Vec<f64> {
    let path = artifacts().model_dir(model).join("model.json");
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    manifest["sample"]["input"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect()
}

#[tokio::test]
async fn manifests_form_the_table_with_hashes_of_their_artifacts() {
    let prover = model_prover(&[MLP]).await;
    let mlp = prover.models().get(MLP).unwrap();
    assert_eq!(mlp.instance_layout, InstanceLayout::HashedInputOutput);
    assert_eq!(mlp.input_shape, vec![1, 32]);
    assert_eq!(mlp.output_shape, vec![1, 4]);
    assert_eq!((mlp.input_scale, mlp.output_scale), (6, 6));
    assert_eq!(mlp.logrows, 12);
    assert_eq!(mlp.contract, "MlpClassifierVerifier");
    let hash = model_hash_of(&artifacts().model_dir(MLP)).unwrap();
    assert_eq!(mlp.model_hash, Some(hash));
    assert_eq!(prover.models().by_hash(&hash).unwrap().name, MLP);
    assert!(prover.models().get(ATTENTION).is_none());
}

#[tokio::test]
async fn mlp_quantized_output_equals_the_numpy_reference() {
    let prover = model_prover(&[MLP]).await;
    let mut inputs = mlp_inputs(12);
    inputs.push(sample_input(MLP));
    for input in &inputs {
        let (_, output) = prover.evaluate(MLP, input).await.unwrap();
        assert_eq!(output, numpy_reference(input), "input {input:?}");
    }
    // And the proven path returns the same output, committed and verifiable.
    let input = &inputs[inputs.len() - 1];
    let (inference, timings) = prover.infer(MLP, input).await.unwrap();
    assert_eq!(inference.output, numpy_reference(input));
    assert_eq!(
        inference.input_hash,
        prover.commit_input(MLP, input).await.unwrap()
    );
    assert_eq!(
        inference.proof.len(),
        prover.models().get(MLP).unwrap().sizes.proof_bytes
    );
    assert!(timings.prove > std::time::Duration::ZERO);
    assert!(
        prover
            .verify_inference(
                MLP,
                &inference.input_hash,
                &inference.output_hash,
                &inference.proof
            )
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn the_input_commitment_changes_with_any_input_value() {
    let prover = model_prover(&[MLP]).await;
    let input = sample_input(MLP);
    let a = prover.commit_input(MLP, &input).await.unwrap();
    assert_eq!(prover.commit_input(MLP, &input).await.unwrap(), a);
    assert!(U256::from_be_bytes(a.0) < FIELD_MODULUS);
    let mut changed = input.clone();
    changed[5] += 1.0 / 64.0; // one quantization step
    assert_ne!(prover.commit_input(MLP, &changed).await.unwrap(), a);
    let err = prover.commit_input(MLP, &input[..31]).await.unwrap_err();
    assert!(matches!(err, ProverError::BadModelInput { .. }));
    assert_eq!(
        err.to_string(),
        "input for model mlp_classifier: 31 numbers given, the model takes 32 (shape [1, 32])"
    );
    let err = prover.commit_input("gpt", &input).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "model gpt is not loaded by this prover: one of mlp_classifier"
    );
}

#[tokio::test]
async fn a_changed_output_element_gives_no_proof_that_verifies() {
    let prover = model_prover(&[MLP]).await;
    let input = sample_input(MLP);
    let (honest, _) = prover.infer(MLP, &input).await.unwrap();
    let report = run_script("tamper.py", MLP, &input, &["1"]);
    assert_eq!(report["honest_hash_matches"], true, "{report}");
    // EZKL either refuses to prove the changed witness or makes a proof that does not verify.
    assert_ne!(report["verified"], true, "{report}");
    let felt = report["tampered_output_hash"].as_str().unwrap();
    let tampered = field_to_hash(U256::from_le_slice(&alloy::hex::decode(felt).unwrap()));
    assert_ne!(tampered, honest.output_hash);
    // The honest proof does not verify for the changed output's commitment either.
    assert!(
        !prover
            .verify_inference(MLP, &honest.input_hash, &tampered, &honest.proof)
            .await
            .unwrap()
    );
    // Nor for a hash that is no field element.
    assert!(
        !prover
            .verify_inference(
                MLP,
                &honest.input_hash,
                &B256::repeat_byte(0xff),
                &honest.proof
            )
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn attention_block_proves_and_verifies() {
    let prover = model_prover(&[ATTENTION]).await;
    let input = sample_input(ATTENTION);
    let (inference, _) = prover.infer(ATTENTION, &input).await.unwrap();
    assert_eq!(inference.output.len(), 32);
    let (commitment, output) = prover.evaluate(ATTENTION, &input).await.unwrap();
    assert_eq!(
        (commitment, &output),
        (inference.input_hash, &inference.output)
    );
    assert!(
        prover
            .verify_inference(
                ATTENTION,
                &inference.input_hash,
                &inference.output_hash,
                &inference.proof
            )
            .await
            .unwrap()
    );
    let manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(artifacts().model_dir(ATTENTION).join("model.json")).unwrap(),
    )
    .unwrap();
    let expected: Vec<i128> = manifest["sample"]["quantizedOutput"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap() as i128)
        .collect();
    assert_eq!(
        inference.output, expected,
        "setup's self-test saw the same output"
    );
}

alloy::sol! {
    #[sol(rpc)]
    interface ModelVerifier {
        function verifyProof(bytes proof, uint256[] instances) external view returns (bool);
    }
}

/// Deploys forge's compiled verifier of `model` on `provider`; its address.
async fn deploy_model_verifier(
    provider: &impl alloy::providers::Provider,
    model: &str,
) -> alloy::primitives::Address {
    use alloy::network::{Ethereum, Network, TransactionBuilder};
    let a = artifacts();
    let contract = a.model_manifest(model).unwrap().contract;
    let artifact = a.model_verifier_artifact(&contract);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&artifact).unwrap_or_else(|e| {
            panic!("{}: {e} (run `bash script/setup.sh`)", artifact.display())
        }))
        .unwrap();
    let code: alloy::primitives::Bytes = json["bytecode"]["object"]
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
    assert!(receipt.status());
    let address = receipt.contract_address.unwrap();
    let runtime = provider.get_code_at(address).await.unwrap();
    assert!(
        runtime.len() <= 24_576,
        "{model}: runtime {} bytes",
        runtime.len()
    );
    address
}

#[tokio::test]
async fn the_generated_mlp_verifier_accepts_the_inference_proof_on_anvil() {
    use alloy::network::EthereumWallet;
    use alloy::providers::ProviderBuilder;
    use alloy::signers::local::PrivateKeySigner;
    let anvil = vouch_testkit::anvil();
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url());
    let verifier = deploy_model_verifier(&provider, MLP).await;
    let prover = model_prover(&[MLP]).await;
    let (inference, _) = prover.infer(MLP, &sample_input(MLP)).await.unwrap();
    let call = |instances: Vec<U256>| {
        let v = ModelVerifier::new(verifier, &provider);
        let proof = inference.proof.clone();
        async move {
            v.verifyProof(proof, instances)
                .call()
                .await
                .map_err(|e| e.to_string())
        }
    };
    let [x_in, x_out] = inference.instances();
    assert_eq!(call(vec![x_in, x_out]).await, Ok(true));
    // The output commitment of any other output: the verifier reverts.
    let reverted = call(vec![x_in, x_out ^ U256::from(1)]).await.unwrap_err();
    assert!(reverted.contains("revert"), "{reverted}");
    // Swapped instances (the order is [input, output]) revert too.
    assert!(call(vec![x_out, x_in]).await.is_err());
}
