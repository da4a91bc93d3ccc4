//! `vouch deploy` as an operator runs it, against a fresh anvil posing as Base Sepolia (chain
//! id 84532): the development-SRS refusal with nothing sent, then with `--allow-dev-srs` a
//! verified deployment whose manifest alone drives `vouch index`; and one clear line, exit 2,
//! for each bad input, never echoing the key.

mod support;

use std::path::Path;

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::Filter;
use vouch_bindings::{AddressBook, Deployment};

use support::{counts, run, vouch};

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
async fn base_sepolia_refuses_dev_verifiers_then_deploys_a_verified_manifest_that_drives_the_indexer()
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
