//! `script/Deploy.s.sol` on a real anvil chain: the manifest it writes names every contract,
//! exactly the contracts of the contract table, every address holds code, the wiring is in place
//! and the deployer keeps no role.

use std::collections::BTreeSet;

use alloy::primitives::{Address, B256, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use vouch_bindings::contracts::{
    JobMarketplace, NodeRegistry, ProofSystem, ReputationRegistry, Slashing, Staking,
    TimelockController, VouchToken,
};
use vouch_bindings::{Contracts, Deployment};

#[tokio::test]
async fn deploy_script_writes_a_manifest_of_live_wired_contracts() {
    let anvil = vouch_testkit::anvil();
    let deployed = vouch_testkit::deploy_with_script(&anvil);
    let deployer = PrivateKeySigner::from(anvil.keys()[0].clone()).address();

    let d = Deployment::load(&deployed.manifest).expect("a valid manifest");
    // `load` rejects a missing or an extra contract; this also pins the names to the table.
    let raw: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&deployed.manifest).unwrap()).unwrap();
    let written: BTreeSet<&str> = raw["contracts"]
        .as_object()
        .expect("a contracts object")
        .keys()
        .map(String::as_str)
        .collect();
    let table: BTreeSet<&str> = Contracts::NAMES.iter().copied().collect();
    assert_eq!(
        written, table,
        "Deploy.s.sol's _writeManifest vs the contract table"
    );
    assert_eq!(d.chain_id, 31337);
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let head = provider.get_block_number().await.unwrap();
    assert!(
        d.start_block <= head,
        "start block {} after head {head}",
        d.start_block
    );
    for (name, address) in d.contracts.all() {
        let code = provider.get_code_at(address).await.unwrap();
        assert!(!code.is_empty(), "{name} at {address} has no code");
    }
    let c = &d.contracts;
    let unique: std::collections::HashSet<Address> = c.all().into_iter().map(|(_, a)| a).collect();
    assert_eq!(unique.len(), 12, "every contract has its own address");

    // Wiring.
    let proofs = ProofSystem::new(c.proof_system, &provider);
    for (batch, verifier) in [
        (1u16, c.halo2_verifier_b1),
        (16, c.halo2_verifier_b16),
        (64, c.halo2_verifier_b64),
    ] {
        let info = proofs.verifierFor(batch).call().await.unwrap();
        assert_eq!(
            (info.verifier, info.circuitVersion),
            (verifier, 1),
            "verifier of batch {batch}"
        );
    }
    let market = JobMarketplace::new(c.job_marketplace, &provider);
    assert_eq!(market.slashing().call().await.unwrap(), c.slashing);
    assert_eq!(
        market.treasury().call().await.unwrap(),
        c.timelock_controller
    );
    let proof_role = market.PROOF_SYSTEM_ROLE().call().await.unwrap();
    assert!(
        market
            .hasRole(proof_role, c.proof_system)
            .call()
            .await
            .unwrap()
    );
    // VOUCH is a payment asset priced so that buying reputation costs the minimum stake.
    assert!(market.tokenAllowed(c.vouch_token).call().await.unwrap());
    let fees = market.assetFees(c.vouch_token).call().await.unwrap();
    let vouch = U256::from(10u64).pow(U256::from(18));
    assert_eq!(
        (U256::from(fees.minFee), U256::from(fees.creditFee)),
        (vouch, U256::from(1000u64) * vouch / U256::from(80u64))
    );
    let staking = Staking::new(c.staking, &provider);
    assert!(
        staking
            .hasRole(staking.SLASHER_ROLE().call().await.unwrap(), c.slashing)
            .call()
            .await
            .unwrap()
    );
    assert_eq!(staking.token().call().await.unwrap(), c.vouch_token);
    let registry = NodeRegistry::new(c.node_registry, &provider);
    assert_eq!(
        registry.marketplace().call().await.unwrap(),
        c.job_marketplace
    );
    let reputation = ReputationRegistry::new(c.reputation_registry, &provider);
    let writer = reputation.WRITER_ROLE().call().await.unwrap();
    assert!(
        reputation
            .hasRole(writer, c.job_marketplace)
            .call()
            .await
            .unwrap()
    );
    assert!(reputation.hasRole(writer, c.slashing).call().await.unwrap());
    let token = VouchToken::new(c.vouch_token, &provider);
    assert_eq!(
        token.totalSupply().call().await.unwrap(),
        U256::from(10u64).pow(U256::from(27))
    );
    assert_eq!(
        token.balanceOf(deployer).call().await.unwrap(),
        U256::from(10u64).pow(U256::from(27))
    );

    // Hand-over: the timelock holds admin, pauser and arbiter roles; the deployer holds nothing.
    let admin = B256::ZERO;
    let slashing = Slashing::new(c.slashing, &provider);
    let pauser = staking.PAUSER_ROLE().call().await.unwrap();
    let arbiter = slashing.ARBITER_ROLE().call().await.unwrap();
    let checks: Vec<(&str, Address, Vec<B256>)> = vec![
        ("Staking", c.staking, vec![admin, pauser]),
        ("NodeRegistry", c.node_registry, vec![admin, pauser]),
        ("ReputationRegistry", c.reputation_registry, vec![admin]),
        ("JobMarketplace", c.job_marketplace, vec![admin, pauser]),
        ("Slashing", c.slashing, vec![admin, pauser, arbiter]),
        ("ProofSystem", c.proof_system, vec![admin]),
    ];
    for (name, address, roles) in checks {
        // Every contract here is an OpenZeppelin AccessControl; one binding reads them all.
        let ac = Staking::new(address, &provider);
        for role in roles {
            assert!(
                ac.hasRole(role, c.timelock_controller)
                    .call()
                    .await
                    .unwrap(),
                "{name}: timelock lacks {role}"
            );
            assert!(
                !ac.hasRole(role, deployer).call().await.unwrap(),
                "{name}: deployer kept {role}"
            );
        }
    }
    let timelock = TimelockController::new(c.timelock_controller, &provider);
    assert!(
        !timelock.hasRole(admin, deployer).call().await.unwrap(),
        "deployer kept timelock admin"
    );
    let proposer = timelock.PROPOSER_ROLE().call().await.unwrap();
    assert!(
        timelock
            .hasRole(proposer, c.vouch_governor)
            .call()
            .await
            .unwrap()
    );
    assert!(!timelock.hasRole(proposer, deployer).call().await.unwrap());
    let executor = timelock.EXECUTOR_ROLE().call().await.unwrap();
    assert!(
        timelock
            .hasRole(executor, Address::ZERO)
            .call()
            .await
            .unwrap(),
        "anyone executes"
    );
}
