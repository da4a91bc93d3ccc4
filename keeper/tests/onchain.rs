//! The generated Solidity verifiers accept the prover's proofs on a real chain (anvil), with
//! the instances exactly as `instances_for` lays them out, and reject tampered ones.

mod common;

use alloy::network::{Ethereum, EthereumWallet, Network, TransactionBuilder};
use alloy::primitives::{Address, Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use alloy::sol;
use common::{jobs, prover};
use vouch_keeper::prover::{Artifacts, Proof};

type TransactionRequest = <Ethereum as Network>::TransactionRequest;

sol! {
    #[sol(rpc)]
    interface Verifier {
        function verifyProof(bytes proof, uint256[] instances) external view returns (bool);
    }
}

/// Deploys forge's compiled `Halo2VerifierB{B}` and returns its address.
async fn deploy_verifier(provider: &impl Provider, batch_size: usize) -> Address {
    let artifact = Artifacts::at(vouch_bindings::repository_root()).verifier_artifact(batch_size);
    let json = std::fs::read_to_string(&artifact).unwrap_or_else(|e| {
        panic!("{}: {e} (run `bash script/setup.sh`: it generates the verifiers, then forge compiles them)", artifact.display())
    });
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let code: Bytes = json["bytecode"]["object"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let receipt = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(code))
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
        "verifier runtime {} bytes exceeds the contract size limit",
        runtime.len()
    );
    address
}

async fn verifies_on_chain(
    provider: &impl Provider,
    verifier: Address,
    proof: &Proof,
) -> Result<bool, String> {
    Verifier::new(verifier, provider)
        .verifyProof(proof.proof.clone(), proof.instances.clone())
        .call()
        .await
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn generated_verifiers_accept_proofs_and_reject_tampering() {
    let anvil = vouch_testkit::anvil();
    let signer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url());
    let prover = prover().await;

    for (n, batch_size) in [(1, 1), (3, 16), (64, 64)] {
        let verifier = deploy_verifier(&provider, batch_size).await;
        let proof = prover.prove(&jobs(10 * n as u64, n)).await.unwrap();
        assert_eq!(proof.batch_size, batch_size);
        assert_eq!(
            verifies_on_chain(&provider, verifier, &proof).await,
            Ok(true),
            "B={batch_size}"
        );
        let gas = Verifier::new(verifier, &provider)
            .verifyProof(proof.proof.clone(), proof.instances.clone())
            .estimate_gas()
            .await
            .unwrap();
        eprintln!("B={batch_size}: verifyProof costs {gas} gas");
        // ~400k fixed plus ~9k per job (docs/circuit.md); the bound catches a regression.
        assert!(
            gas < 450_000 + 9_500 * batch_size as u64,
            "B={batch_size}: {gas} gas"
        );

        // One instance changed (the low limb of the first output hash): the verifier reverts.
        let mut instances = proof.instances.clone();
        instances[7] ^= U256::from(1);
        let tampered = Proof {
            instances,
            ..proof.clone()
        };
        assert!(
            verifies_on_chain(&provider, verifier, &tampered)
                .await
                .is_err(),
            "B={batch_size}"
        );
        // One proof byte changed: reverts too.
        let mut bytes = proof.proof.to_vec();
        bytes[100] ^= 1;
        let tampered = Proof {
            proof: bytes.into(),
            ..proof.clone()
        };
        assert!(
            verifies_on_chain(&provider, verifier, &tampered)
                .await
                .is_err(),
            "B={batch_size}"
        );
    }
}
