//! docs/examples/cast-walkthrough.sh, the integrator guide's `cast` session (docs/integrators.md),
//! run as written against the real deployment on anvil: its printed lines are asserted, and the
//! chain is read back through the bindings, so the guide cannot drift from the contracts.

use std::process::Command;

use alloy::primitives::{U256, keccak256};
use alloy::providers::ProviderBuilder;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, Staking};

fn key(anvil: &alloy::node_bindings::AnvilInstance, i: usize) -> String {
    format!("0x{}", alloy::hex::encode(anvil.keys()[i].to_bytes()))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_cast_walkthrough_stakes_registers_creates_and_claims_a_job() {
    let anvil = vouch_testkit::anvil();
    let deployed = vouch_testkit::deploy_with_script(&anvil);
    let root = vouch_testkit::workspace_root();
    let out = Command::new("bash")
        .arg(root.join("docs/examples/cast-walkthrough.sh"))
        .env("RPC_URL", anvil.endpoint())
        .env("DEPLOYMENT", &deployed.manifest)
        .env("FUNDER_KEY", &deployed.deployer_key)
        .env("HOST_KEY", key(&anvil, 1))
        .env("RENTER_KEY", key(&anvil, 2))
        .output()
        .expect("bash runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "the walkthrough failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let host = anvil.addresses()[1];
    let renter = anvil.addresses()[2];
    let min = "1000000000000000000000";
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        [
            format!("host {host} staked {min} (minimum {min})"),
            "host serves the model: true".to_owned(),
            format!("renter {renter} created job 1"),
            "job 1 status 2 (2 = Claimed), active jobs of the host: 1".to_owned(),
        ]
    );

    // The same facts through the bindings.
    let d = Deployment::load(&deployed.manifest).unwrap();
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let staking = Staking::new(d.contracts.staking, &provider);
    assert_eq!(
        staking.activeStakeOf(host).call().await.unwrap(),
        staking.minimumStake().call().await.unwrap()
    );
    let model = keccak256("vouch-demo/llama-3-8b-instruct");
    let registry = NodeRegistry::new(d.contracts.node_registry, &provider);
    assert!(registry.servesModel(host, model).call().await.unwrap());
    let market = JobMarketplace::new(d.contracts.job_marketplace, &provider);
    let job = market.getJob(U256::from(1)).call().await.unwrap();
    assert_eq!(job.renter, renter);
    assert_eq!(job.host, host);
    assert_eq!(job.status, 2, "Claimed");
    assert_eq!(job.modelHash, model);
    assert_eq!(
        job.inputHash,
        keccak256("Summarize the plot of Hamlet in one sentence.")
    );
    assert_eq!(
        U256::from(job.payment),
        U256::from(10_000_000_000_000_000u64)
    );
}
