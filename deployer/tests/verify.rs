//! `verify_deployment` against the real deploy script's deployment on anvil: it passes as
//! deployed, and each check fails for its own reason on a deployment that breaks it.

use alloy::providers::{Provider, ProviderBuilder};
use vouch_bindings::Deployment;
use vouch_deployer::{DeployError, verify_deployment};

#[tokio::test(flavor = "multi_thread")]
async fn the_scripts_deployment_verifies_and_each_broken_property_is_named() {
    let anvil = vouch_testkit::anvil();
    let script = vouch_testkit::deploy_with_script(&anvil);
    let deployment = Deployment::load(&script.manifest).unwrap();
    let provider = ProviderBuilder::new()
        .connect_http(anvil.endpoint_url())
        .erased();
    let deployer = anvil.addresses()[0];
    let c = deployment.contracts.clone();

    let report = verify_deployment(&provider, &deployment, deployer)
        .await
        .unwrap();
    assert_eq!(report.chain_id, 31337);
    assert_eq!(report.contracts.len(), deployment.contracts.all().len());
    let held = |contract: &str, role: &str| -> Vec<alloy::primitives::Address> {
        report
            .roles
            .iter()
            .filter(|r| r.contract == contract && r.role == role)
            .map(|r| r.account)
            .collect()
    };
    assert_eq!(
        held("JobMarketplace", "PROOF_SYSTEM_ROLE"),
        vec![c.proof_system]
    );
    assert_eq!(
        held("Staking", "DEFAULT_ADMIN_ROLE"),
        vec![c.timelock_controller]
    );
    assert_eq!(
        held("TimelockController", "PROPOSER_ROLE"),
        vec![c.vouch_governor]
    );
    assert!(report.roles.iter().all(|r| r.account != deployer));

    // Someone else's view of who deployed: the timelock holds roles, so it is named.
    let err = verify_deployment(&provider, &deployment, c.timelock_controller)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeployError::DeployerHoldsRole { deployer, .. } if deployer == c.timelock_controller),
        "{err}"
    );

    // Two addresses swapped in the manifest: the code at "Staking" is NodeRegistry's.
    let mut swapped = deployment.clone();
    std::mem::swap(
        &mut swapped.contracts.staking,
        &mut swapped.contracts.node_registry,
    );
    let err = verify_deployment(&provider, &swapped, deployer)
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeployError::CodeMismatch { contract: "Staking", address, .. } if address == c.node_registry),
        "{err}"
    );

    // A manifest of another chain.
    let mut other = deployment.clone();
    other.chain_id = 8453;
    let err = verify_deployment(&provider, &other, deployer)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DeployError::ChainMismatch {
                manifest: 8453,
                rpc: 31337
            }
        ),
        "{err}"
    );

    // An address with no code.
    let mut empty = deployment.clone();
    empty.contracts.slashing = alloy::primitives::Address::repeat_byte(0x42);
    let err = verify_deployment(&provider, &empty, deployer)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            DeployError::NoCode {
                contract: "Slashing",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(provider.get_chain_id().await.unwrap(), 31337);
}
