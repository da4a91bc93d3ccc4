//! The host lifecycle through the `vouch` binary on a real anvil chain with the real deploy
//! script: wallet new, stake, register, claim a job, its result proven (real EZKL proof) and
//! paid after the dispute window (`vouch host claim`), then a missed deadline expired by
//! another account and slashed, visible in `vouch host status`, and the stake withdrawn.
//! Also: a wrong keystore password or a bad VOUCH_PRIVATE_KEY exits 2 without the secret.

use std::path::Path;
use std::process::{Command, Output};

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, U256, keccak256, utils::parse_ether};
use alloy::providers::{Provider, ProviderBuilder, ext::AnvilApi};
use alloy::signers::local::PrivateKeySigner;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, ProofSystem, VouchToken};
use vouch_keeper::host::Secret;
use vouch_keeper::host::wallet::load_keystore;
use vouch_keeper::prover::{JobTuple, Prover, ProverConfig};

const PASSWORD: &str = "e2e-keystore-password-7";
const PAYMENT: u64 = 50_000_000_000_000_000; // 0.05 ETH
const MODEL: &str = "llama-3-8b-instruct-q4";

fn vouch(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_vouch"));
    command
        .args(args)
        .env_remove("VOUCH_PRIVATE_KEY")
        .env_remove("VOUCH_KEYSTORE_PASSWORD")
        .env_remove("VOUCH_KEYSTORE");
    for (k, v) in envs {
        command.env(k, v);
    }
    command.output().unwrap()
}

fn ok(output: Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "stdout: {stdout}\nstderr: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[tokio::test]
async fn the_host_lifecycle_through_the_cli() {
    let anvil = vouch_testkit::anvil();
    let script = vouch_testkit::deploy_with_script(&anvil);
    let deployment = Deployment::load(&script.manifest).unwrap();
    let c = deployment.contracts.clone();
    let keys: Vec<PrivateKeySigner> = anvil.keys()[..5].iter().cloned().map(Into::into).collect();
    let (deployer, renter, stranger) = (keys[0].address(), keys[3].address(), keys[4].address());
    let mut wallet = EthereumWallet::from(keys[0].clone());
    for k in &keys[1..] {
        wallet.register_signer(k.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(anvil.endpoint_url())
        .erased();
    let dir = tempfile::tempdir().unwrap();
    let keystore = dir.path().join("host.json");
    let keystore_s = keystore.to_str().unwrap();
    let rpc = anvil.endpoint_url().to_string();
    let manifest = script.manifest.to_str().unwrap();
    let chain = ["--rpc-url", rpc.as_str(), "--deployment", manifest];
    let key_env = [
        ("VOUCH_KEYSTORE", keystore_s),
        ("VOUCH_KEYSTORE_PASSWORD", PASSWORD),
    ];

    // wallet new: an address, the keystore, and the 24-word mnemonic, once.
    let out = ok(vouch(
        &["host", "wallet", "new", "--keystore", keystore_s],
        &[("VOUCH_KEYSTORE_PASSWORD", PASSWORD)],
    ));
    let lines: Vec<&str> = out.lines().collect();
    let host: Address = lines[0].strip_prefix("address: ").unwrap().parse().unwrap();
    assert_eq!(lines[1], format!("keystore: {keystore_s}"));
    assert_eq!(lines[3].split(' ').count(), 24);
    let signer = load_keystore(&keystore, &Secret::new(PASSWORD)).unwrap();
    assert_eq!(signer.address(), host);
    assert!(
        !std::fs::read_to_string(&keystore)
            .unwrap()
            .contains(lines[3])
    );

    // A wrong password: exit 2, the file named, neither password in the message.
    let bad = vouch(
        &["host", "wallet", "address"],
        &[
            ("VOUCH_KEYSTORE", keystore_s),
            ("VOUCH_KEYSTORE_PASSWORD", "not-the-password-9"),
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert_eq!(
        err.trim(),
        format!(
            "error: wrong password for keystore {keystore_s} (set VOUCH_KEYSTORE_PASSWORD or type it at the prompt)"
        )
    );
    assert!(!err.contains("not-the-password-9") && !err.contains(PASSWORD));
    let bad = vouch(
        &["host", "wallet", "address"],
        &[("VOUCH_PRIVATE_KEY", "0x1234abcd5678ef")],
    );
    assert_eq!(bad.status.code(), Some(2));
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(!err.contains("1234abcd"), "{err}");

    // Fund the new key: ETH for gas, 1,000 VOUCH to stake.
    let token = VouchToken::new(c.vouch_token, &provider);
    token
        .transfer(host, parse_ether("1000").unwrap())
        .from(deployer)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    provider
        .anvil_set_balance(host, parse_ether("10").unwrap())
        .await
        .unwrap();

    let mut stake = vec!["host", "stake", "--amount", "1000"];
    stake.extend_from_slice(&chain);
    let out = ok(vouch(&stake, &key_env));
    assert!(out.contains("staked 1000 VOUCH: 0x"), "{out}");
    let mut register = vec![
        "host",
        "register",
        "--endpoint",
        "https://h.vouch.example:8443",
        "--region",
        "eu-west-1",
        "--models",
        MODEL,
        "--price",
        "2000000000",
    ];
    register.extend_from_slice(&chain);
    let out = ok(vouch(&register, &key_env));
    assert!(
        out.starts_with(&format!("registered {host} with 1 model(s): 0x")),
        "{out}"
    );

    // A job claimed through the CLI, its result proven and submitted with the host's key.
    let market = JobMarketplace::new(c.job_marketplace, &provider);
    let create = |label: &'static str| {
        let market = market.clone();
        let provider = provider.clone();
        async move {
            let now = provider
                .get_block_by_number(Default::default())
                .await
                .unwrap()
                .unwrap()
                .header
                .timestamp;
            let r = market
                .createJob(
                    keccak256(MODEL),
                    keccak256(label),
                    Address::ZERO,
                    alloy::primitives::Uint::from(PAYMENT),
                    alloy::primitives::Uint::from(now + 3600),
                    Address::ZERO,
                    0,
                )
                .value(U256::from(PAYMENT))
                .from(renter)
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            r.decoded_log::<JobMarketplace::JobCreated>().unwrap().jobId
        }
    };
    let paid = create("paid").await;
    let mut claim = vec!["host", "claim-job", "--job"];
    let paid_s = paid.to_string();
    claim.push(&paid_s);
    claim.extend_from_slice(&chain);
    let out = ok(vouch(&claim, &key_env));
    assert!(
        out.starts_with(&format!("claimed job {paid} for {host}: 0x")),
        "{out}"
    );
    let config = ProverConfig::from_env().unwrap();
    let prover = Prover::load(config).await.unwrap();
    let tuple = JobTuple {
        job_id: paid.into(),
        model_hash: keccak256(MODEL),
        input_hash: keccak256("paid"),
        output_hash: keccak256("the answer"),
    };
    let proof = prover.prove(&[tuple]).await.unwrap();
    let host_provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(anvil.endpoint_url());
    let receipt = ProofSystem::new(c.proof_system, &host_provider)
        .submitProof(paid, tuple.output_hash, proof.proof.clone())
        .gas(4_000_000)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    let status = status_json(&chain, host);
    assert_eq!(status["pendingJobs"], serde_json::json!([hex(paid)]));

    // Paid after the dispute window: `vouch host claim` releases and withdraws 0.0495 ETH.
    advance(&provider, 86_400 + 1).await;
    let before = provider.get_balance(host).await.unwrap();
    let mut collect = vec!["host", "claim"];
    collect.extend_from_slice(&chain);
    let out = ok(vouch(&collect, &key_env));
    assert_eq!(
        out.trim(),
        "released 1 payment(s), withdrew 0.049500000000000000 ETH"
    );
    assert!(provider.get_balance(host).await.unwrap() > before);

    // A missed deadline, expired by another account: slashed 5%, shown by status.
    let missed = create("missed").await;
    let missed_s = missed.to_string();
    let mut claim = vec!["host", "claim-job", "--job", missed_s.as_str()];
    claim.extend_from_slice(&chain);
    ok(vouch(&claim, &key_env));
    advance(&provider, 3600 + 1).await;
    let r = market
        .expireJob(missed)
        .from(stranger)
        .gas(400_000)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(r.status());
    let status = status_json(&chain, host);
    assert_eq!(status["expiredJobs"], serde_json::json!([hex(missed)]));
    assert_eq!(
        status["slashes"][0]["jobId"],
        serde_json::json!(hex(missed))
    );
    assert_eq!(status["slashes"][0]["reason"], "MissedDeadline");
    assert_eq!(
        status["slashes"][0]["amount"],
        serde_json::json!(hex(parse_ether("50").unwrap()))
    );
    assert_eq!(
        status["stake"]["active"],
        serde_json::json!(hex(parse_ether("950").unwrap()))
    );
    assert_eq!(status["stake"]["hasMinimum"], false);
    assert_eq!(status["openJobs"], serde_json::json!([]));
    let mut text = vec!["host", "status", "--host"];
    let host_s = host.to_string();
    text.push(&host_s);
    text.extend_from_slice(&chain);
    let out = ok(vouch(&text, &[]));
    assert!(
        out.contains(&format!("expired jobs (missed deadlines): {missed}")),
        "{out}"
    );
    assert!(
        out.contains("slashed: 1 time(s), 50.000000000000000000 VOUCH"),
        "{out}"
    );

    // Unstake everything, wait out the unbonding period, withdraw.
    let mut unstake = vec!["host", "unstake", "--amount", "950"];
    unstake.extend_from_slice(&chain);
    ok(vouch(&unstake, &key_env));
    advance(&provider, 7 * 86_400 + 1).await;
    let mut withdraw = vec!["host", "withdraw"];
    withdraw.extend_from_slice(&chain);
    let out = ok(vouch(&withdraw, &key_env));
    assert!(
        out.starts_with("withdrew 950.000000000000000000 VOUCH: 0x"),
        "{out}"
    );
    assert_eq!(
        token.balanceOf(host).call().await.unwrap(),
        parse_ether("950").unwrap()
    );
    let _ = Path::new(manifest);
}

fn hex(v: U256) -> String {
    format!("{v:#x}")
}

fn status_json(chain: &[&str], host: Address) -> serde_json::Value {
    let host = host.to_string();
    let mut args = vec!["host", "status", "--json", "--host", host.as_str()];
    args.extend_from_slice(chain);
    serde_json::from_str(&ok(vouch(&args, &[]))).unwrap()
}

async fn advance(provider: &impl Provider, seconds: u64) {
    provider.anvil_increase_time(seconds).await.unwrap();
    provider.anvil_mine(Some(1), None).await.unwrap();
}
