//! `vouch deploy` as an operator runs it, against a fresh anvil posing as Base Sepolia (chain
//! id 84532): the development-SRS refusal with nothing sent, then with `--allow-dev-srs` a
//! verified deployment whose manifest alone drives `vouch index`, `vouch serve` and `vouch
//! keeper run` (three processes) through one job, created, claimed, its result posted to the
//! keeper, proven on chain and completed in GraphQL; and one clear line, exit 2, for each bad
//! input, never echoing the key.

mod support;

use std::path::Path;
use std::process::Child;
use std::time::{Duration, Instant};

use alloy::eips::BlockNumberOrTag;
use alloy::network::{EthereumWallet, ReceiptResponse};
use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::{Address, B256, FixedBytes, U256, Uint, keccak256, utils::parse_ether};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use alloy::signers::local::PrivateKeySigner;
use serde_json::json;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, Staking, VouchToken};
use vouch_bindings::{AddressBook, Deployment};

use support::{counts, free_port, run, vouch};

const BASE_SEPOLIA: u64 = 84532;

fn anvil_as(chain_id: u64) -> AnvilInstance {
    Anvil::at(vouch_testkit::anvil_path())
        .chain_id(chain_id)
        .spawn()
}

fn key_of(anvil: &AnvilInstance) -> String {
    format!("0x{}", alloy::hex::encode(anvil.keys()[0].to_bytes()))
}

/// `vouch deploy --rpc-url URL ARGS` with the key in the environment, as the docs advise.
fn deploy(dir: &Path, anvil: &AnvilInstance, args: &[&str]) -> (i32, String, String) {
    let mut command = vouch(dir, &["deploy", "--rpc-url", &anvil.endpoint()]);
    command.args(args).env("VOUCH_PRIVATE_KEY", key_of(anvil));
    run(&mut command)
}

#[tokio::test(flavor = "multi_thread")]
async fn base_sepolia_refuses_dev_verifiers_then_deploys_a_manifest_that_drives_index_serve_and_keeper_through_a_job()
 {
    let anvil = anvil_as(BASE_SEPOLIA);
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("base-sepolia.json");
    let out_arg = out.to_str().unwrap();

    let (code, stdout, stderr) = deploy(dir.path(), &anvil, &["--out", out_arg]);
    assert_eq!(code, 2, "stdout: {stdout}\nstderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with("error: chain 84532 needs a production SRS")
            && stderr.contains("--allow-dev-srs"),
        "{stderr}"
    );
    assert_eq!(
        provider.get_block_number().await.unwrap(),
        0,
        "nothing sent"
    );
    assert!(!out.exists());

    let (code, stdout, stderr) = deploy(dir.path(), &anvil, &["--out", out_arg, "--allow-dev-srs"]);
    assert_eq!(code, 0, "stdout: {stdout}\nstderr: {stderr}");
    let deployment = Deployment::load(&out).unwrap();
    assert_eq!(deployment.chain_id, BASE_SEPOLIA);
    let contracts = deployment.contracts.all().len();
    let last = stdout.lines().last().unwrap();
    assert!(
        last.starts_with(&format!("verified: {contracts} contracts as compiled, "))
            && last.contains("the deployer holds none"),
        "{last}"
    );
    let c = &deployment.contracts;
    assert!(
        stdout.lines().any(|l| l.starts_with("JobMarketplace")
            && l.contains("PROOF_SYSTEM_ROLE")
            && l.contains(&format!("{} (ProofSystem)", c.proof_system))),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&anvil.addresses()[0].to_string()),
        "the deployer holds nothing: {stdout}"
    );

    // A second deploy to the same path is refused unless forced.
    let (code, _, stderr) = deploy(dir.path(), &anvil, &["--out", out_arg, "--allow-dev-srs"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("already exists") && stderr.contains("--force"),
        "{stderr}"
    );

    // The manifest alone drives the indexer: every log of the deployment lands once.
    let logs = provider
        .get_logs(
            &Filter::new()
                .address(AddressBook::new(&deployment).addresses())
                .from_block(deployment.start_block),
        )
        .await
        .unwrap()
        .len();
    let db = dir.path().join("index.sqlite");
    let url = format!("sqlite://{}", db.display());
    let (code, _, stderr) = run(vouch(
        dir.path(),
        &[
            "index",
            "--rpc-url",
            &anvil.endpoint(),
            "--deployment",
            out_arg,
            "--database",
            &url,
            "--until-head",
        ],
    )
    .env("VOUCH_LOG", "warn"));
    assert_eq!(code, 0, "{stderr}");
    let (events, distinct, _) = counts(&url).await;
    assert_eq!((events as usize, distinct as usize), (logs, logs));

    one_job_through_index_serve_and_keeper(dir.path(), &anvil, &deployment, out_arg, &url).await;
}

/// A child process killed when the test ends, whatever happens.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

async fn job_state(http: &reqwest::Client, api: &str, id: u64) -> Option<String> {
    let v: serde_json::Value = http
        .post(format!("http://{api}/graphql"))
        .json(&json!({ "query": format!("{{ job(id: {id}) {{ state }} }}") }))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    v["data"]["job"]["state"].as_str().map(str::to_string)
}

/// Waits (at most `within`) until GraphQL says job `id` is in `state`.
async fn wait_state(http: &reqwest::Client, api: &str, id: u64, state: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let now = job_state(http, api, id).await;
        if now.as_deref() == Some(state) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "job {id} is {now:?}, not {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The manifest alone drives `vouch index` (following), `vouch serve` and `vouch keeper run`,
/// three processes of the binary, through one job: created by a renter, claimed by a host
/// (which is its own operator), its result posted to the keeper, proven with a real EZKL proof
/// and landed, and seen completed in GraphQL.
async fn one_job_through_index_serve_and_keeper(
    dir: &Path,
    anvil: &AnvilInstance,
    deployment: &Deployment,
    manifest: &str,
    database: &str,
) {
    let keys: Vec<PrivateKeySigner> = anvil.keys()[..3].iter().cloned().map(Into::into).collect();
    let (deployer, host, renter) = (keys[0].address(), keys[1].address(), keys[2].address());
    let mut wallet = EthereumWallet::from(keys[0].clone());
    wallet.register_signer(keys[1].clone());
    wallet.register_signer(keys[2].clone());
    let chain = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(anvil.endpoint_url());
    let c = &deployment.contracts;
    let token = VouchToken::new(c.vouch_token, &chain);
    let staking = Staking::new(c.staking, &chain);
    let registry = NodeRegistry::new(c.node_registry, &chain);
    let market = JobMarketplace::new(c.job_marketplace, &chain);
    let stake = parse_ether("1000").unwrap();
    let model = keccak256("llama-3-8b-instruct-q4");
    macro_rules! mined {
        ($call:expr) => {{
            let receipt = $call.send().await.unwrap().get_receipt().await.unwrap();
            assert!(receipt.status(), "{receipt:?}");
            receipt
        }};
    }
    mined!(token.transfer(host, stake).from(deployer));
    mined!(token.approve(c.staking, stake).from(host));
    mined!(staking.stake(stake).from(host));
    mined!(
        registry
            .register(
                "https://host.example:8443".into(),
                FixedBytes::<16>::right_padding_from(b"eu-west-1"),
                vec![model],
                Uint::from(2_000_000_000u64),
            )
            .from(host)
    );

    let http = reqwest::Client::new();
    let _index = Proc(
        vouch(
            dir,
            &[
                "index",
                "--rpc-url",
                &anvil.endpoint(),
                "--deployment",
                manifest,
                "--database",
                database,
                "--confirmations",
                "0",
            ],
        )
        .env("VOUCH_LOG", "warn")
        .spawn()
        .unwrap(),
    );
    let api = format!("127.0.0.1:{}", free_port());
    let _serve = Proc(
        vouch(dir, &["serve", "--database", database, "--listen", &api])
            .env("VOUCH_LOG", "warn")
            .spawn()
            .unwrap(),
    );
    let keeper = format!("127.0.0.1:{}", free_port());
    let _keeper = Proc(
        vouch(
            dir,
            &[
                "keeper",
                "run",
                "--rpc-url",
                &anvil.endpoint(),
                "--deployment",
                manifest,
                "--listen",
                &keeper,
                "--data-dir",
                dir.join("keeper").to_str().unwrap(),
                "--batch-wait-ms",
                "200",
                "--tx-poll-ms",
                "25",
            ],
        )
        .env(
            "VOUCH_PRIVATE_KEY",
            format!("0x{}", alloy::hex::encode(anvil.keys()[1].to_bytes())),
        )
        .env("VOUCH_LOG", "warn")
        .spawn()
        .unwrap(),
    );

    // Created, then claimed: each state in GraphQL as the indexer follows the chain.
    let now = chain
        .get_block_by_number(BlockNumberOrTag::Latest)
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    let payment = 50_000_000_000_000_000u64; // 0.05 ETH
    let created = mined!(
        market
            .createJob(
                model,
                keccak256("Summarize the plot of Hamlet in one sentence."),
                Address::ZERO,
                Uint::from(payment),
                Uint::from(now + 3_600),
                Address::ZERO,
                0,
            )
            .value(U256::from(payment))
            .from(renter)
    );
    let id = created
        .decoded_log::<JobMarketplace::JobCreated>()
        .unwrap()
        .jobId
        .to::<u64>();
    assert_eq!(id, 1, "the deployment's first job");
    wait_state(&http, &api, id, "OPEN", Duration::from_secs(60)).await;
    mined!(market.claimJob(U256::from(id), host).from(host));
    wait_state(&http, &api, id, "CLAIMED", Duration::from_secs(30)).await;

    // The host's node posts the result to its keeper (ready once the prover is loaded).
    let deadline = Instant::now() + Duration::from_secs(120);
    while !matches!(http.get(format!("http://{keeper}/healthz")).send().await, Ok(r) if r.status() == 200)
    {
        assert!(Instant::now() < deadline, "the keeper never got ready");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let output = "Hamlet, a Danish prince, avenges his father and dies doing it.";
    let r = http
        .post(format!("http://{keeper}/v1/results"))
        .json(&json!({ "jobId": "0x1", "output": output }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let reply: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        reply["outputHash"],
        keccak256(output).to_string(),
        "{reply}"
    );
    assert_eq!(
        reply["signer"]
            .as_str()
            .unwrap()
            .parse::<Address>()
            .unwrap(),
        host,
        "{reply}"
    );
    assert_eq!(
        reply["statusUrl"],
        format!("/v1/results/{:#066x}", id),
        "{reply}"
    );

    // Proven on chain by the keeper, then completed in GraphQL.
    let deadline = Instant::now() + Duration::from_secs(120);
    let landed = loop {
        let s: serde_json::Value = http
            .get(format!("http://{keeper}/v1/results/0x1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["state"] == "confirmed" {
            break s;
        }
        assert_ne!(s["state"], "failed", "{s}");
        assert!(Instant::now() < deadline, "not confirmed: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let tx: B256 = landed["txHash"].as_str().unwrap().parse().unwrap();
    let receipt = chain.get_transaction_receipt(tx).await.unwrap().unwrap();
    assert!(receipt.status());
    assert_eq!(
        receipt.to(),
        Some(c.proof_system),
        "the proof went to ProofSystem"
    );
    let job = market.getJob(U256::from(id)).call().await.unwrap();
    assert_eq!(job.status, 3, "Completed on chain");
    assert_eq!(job.outputHash, keccak256(output));
    assert_eq!(job.host, host);
    wait_state(&http, &api, id, "COMPLETED", Duration::from_secs(30)).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_gets_one_line_and_exit_2_and_never_the_key() {
    let anvil = anvil_as(31337);
    let dir = tempfile::tempdir().unwrap();
    let secret = "0x12345678901234567890123456789012345678901234567890123456789012zz";
    let cases: Vec<(Vec<String>, Vec<(&str, String)>, &str)> = vec![
        (
            vec!["--rpc-url".into(), anvil.endpoint()],
            vec![("VOUCH_PRIVATE_KEY", secret.into())],
            "error: the private key (--private-key / VOUCH_PRIVATE_KEY) is not a 32-byte hex secp256k1 key",
        ),
        (
            vec!["--rpc-url".into(), "http://127.0.0.1:9".into()],
            vec![("VOUCH_PRIVATE_KEY", key_of(&anvil))],
            "error: cannot reach the RPC at http://127.0.0.1:9",
        ),
        (
            vec!["--network".into(), "mainnet".into()],
            vec![("VOUCH_PRIVATE_KEY", key_of(&anvil))],
            "error: cannot read network config",
        ),
        (
            vec!["--network".into(), "base".into()],
            vec![("VOUCH_PRIVATE_KEY", key_of(&anvil))],
            "error: no RPC URL: set BASE_RPC_URL (the base config's variable) or pass --rpc-url",
        ),
        (
            vec![
                "--rpc-url".into(),
                anvil.endpoint(),
                "--network".into(),
                "base".into(),
            ],
            vec![("VOUCH_PRIVATE_KEY", key_of(&anvil))],
            "error: --network base is chain 8453, but the RPC at",
        ),
        (
            vec![
                "--rpc-url".into(),
                anvil.endpoint(),
                "--keystore".into(),
                "/nonexistent/key.json".into(),
            ],
            vec![("VOUCH_KEYSTORE_PASSWORD", "pw".into())],
            "error: cannot open the keystore /nonexistent/key.json",
        ),
    ];
    for (args, env, expected) in cases {
        let mut command = vouch(dir.path(), &["deploy"]);
        command.args(&args).envs(env).env_remove("BASE_RPC_URL");
        let (code, stdout, stderr) = run(&mut command);
        assert_eq!(code, 2, "{args:?}: {stdout} {stderr}");
        assert!(stderr.starts_with(expected), "{args:?}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{args:?}: {stderr}");
        assert!(!stderr.contains("1234567890123456789012"), "{stderr}");
    }
    let provider = ProviderBuilder::new().connect_http(anvil.endpoint_url());
    assert_eq!(
        provider.get_block_number().await.unwrap(),
        0,
        "nothing sent"
    );
}
