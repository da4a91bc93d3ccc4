//! `vouch_bindings::events`: the typed events enum covers every event of every artifact ABI
//! (so the indexer cannot miss one), decoding errors are typed, and every log of a real
//! deployment and a few transactions on anvil decodes, with exact JSON arguments.

use std::collections::{BTreeMap, BTreeSet};

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::EthereumWallet;
use alloy::primitives::{Address, B256, Bytes, FixedBytes, LogData, U256, keccak256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, Log};
use alloy::signers::local::PrivateKeySigner;
use serde_json::json;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, Staking, VouchToken};
use vouch_bindings::{AddressBook, ContractKind, Contracts, DecodeError, Deployment, Event};

#[test]
fn the_typed_events_are_exactly_the_artifact_abis_events() {
    for &kind in ContractKind::ALL {
        let abi = &kind.abi().abi;
        let from_abi: BTreeSet<(B256, String)> = abi
            .events()
            .map(|e| (e.selector(), e.signature()))
            .collect();
        let typed: BTreeSet<(B256, String)> = kind
            .event_selectors()
            .iter()
            .zip(kind.event_signatures())
            .map(|(s, sig)| (B256::from(*s), sig.to_string()))
            .collect();
        assert!(!typed.is_empty(), "{kind:?} has no events");
        assert_eq!(
            from_abi, typed,
            "{kind:?}: artifact ABI vs typed Event enum"
        );
        assert!(
            abi.events().all(|e| !e.anonymous),
            "{kind:?} has an anonymous event"
        );
    }
}

#[test]
fn contract_kinds_are_the_manifests_deployed_contracts() {
    let kinds: Vec<&str> = ContractKind::ALL
        .iter()
        .map(|k| k.manifest_name())
        .collect();
    let verifiers = ["Halo2VerifierB1", "Halo2VerifierB16", "Halo2VerifierB64"];
    let expected: Vec<&str> = Contracts::NAMES
        .iter()
        .copied()
        .filter(|n| !verifiers.contains(n))
        .collect();
    assert_eq!(kinds, expected);
}

fn sample_deployment() -> Deployment {
    let a = |n: u8| Address::repeat_byte(n);
    Deployment {
        chain_id: 31337,
        start_block: 0,
        contracts: Contracts {
            vouch_token: a(1),
            staking: a(2),
            node_registry: a(3),
            reputation_registry: a(4),
            job_marketplace: a(5),
            slashing: a(6),
            proof_system: a(7),
            timelock_controller: a(8),
            vouch_governor: a(9),
            halo2_verifier_b1: a(10),
            halo2_verifier_b16: a(11),
            halo2_verifier_b64: a(12),
        },
    }
}

fn log(address: Address, topics: Vec<B256>, data: Vec<u8>) -> Log {
    Log {
        inner: alloy::primitives::Log {
            address,
            data: LogData::new_unchecked(topics, Bytes::from(data)),
        },
        ..Default::default()
    }
}

#[test]
fn unknown_addresses_are_skipped_and_bad_logs_are_typed_errors() {
    let d = sample_deployment();
    let book = AddressBook::new(&d);
    let staked = keccak256("Staked(address,uint256,uint256)");
    let staker = B256::left_padding_from(&[0xaa; 20]);
    let body = [
        U256::from(5u64).to_be_bytes::<32>(),
        U256::from(7u64).to_be_bytes::<32>(),
    ]
    .concat();

    // Not a Vouch contract (a verifier emits nothing, and is not in the book).
    let stray = log(
        d.contracts.halo2_verifier_b1,
        vec![staked, staker],
        body.clone(),
    );
    assert!(vouch_bindings::decode(&book, &stray).unwrap().is_none());

    let ok = log(d.contracts.staking, vec![staked, staker], body.clone());
    let decoded = vouch_bindings::decode(&book, &ok).unwrap().unwrap();
    assert_eq!(
        (decoded.contract, decoded.name),
        (ContractKind::Staking, "Staked")
    );
    assert_eq!(
        serde_json::Value::from(decoded.args_map()),
        json!({
            "staker": Address::repeat_byte(0xaa).to_checksum(None),
            "amount": "5",
            "active": "7",
        })
    );

    // Staked is Staking's, not the marketplace's.
    let wrong_contract = log(
        d.contracts.job_marketplace,
        vec![staked, staker],
        body.clone(),
    );
    let err = vouch_bindings::decode(&book, &wrong_contract).unwrap_err();
    assert!(
        matches!(err, DecodeError::UnknownEvent { contract: ContractKind::JobMarketplace, topic0, .. } if topic0 == staked),
        "{err}"
    );
    let no_topics = log(d.contracts.staking, vec![], vec![]);
    let err = vouch_bindings::decode(&book, &no_topics).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::UnknownEvent {
                topic0: B256::ZERO,
                ..
            }
        ),
        "{err}"
    );

    let short = log(
        d.contracts.staking,
        vec![staked, staker],
        body[..32].to_vec(),
    );
    let err = vouch_bindings::decode(&book, &short).unwrap_err();
    assert!(
        matches!(
            err,
            DecodeError::Typed {
                contract: ContractKind::Staking,
                event: "Staked",
                ..
            }
        ),
        "{err}"
    );
}

/// Sends `call`, waits for its receipt and asserts it succeeded.
async fn mined<P: Provider, D: CallDecoder>(call: CallBuilder<P, D>) {
    let receipt = call.send().await.unwrap().get_receipt().await.unwrap();
    assert!(
        receipt.status(),
        "transaction {} reverted",
        receipt.transaction_hash
    );
}

#[tokio::test]
async fn every_log_of_a_real_deployment_decodes() {
    let anvil = vouch_testkit::anvil();
    let script = vouch_testkit::deploy_with_script(&anvil);
    let d = Deployment::load(&script.manifest).expect("the script's manifest");
    let c = &d.contracts;
    let signers: Vec<PrivateKeySigner> =
        anvil.keys()[..3].iter().cloned().map(Into::into).collect();
    let [deployer, host, renter] = [0, 1, 2].map(|i| signers[i].address());
    let mut wallet = EthereumWallet::from(signers[0].clone());
    for s in &signers[1..] {
        wallet.register_signer(s.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(anvil.endpoint_url());

    // A host stakes the minimum and registers; a renter opens a job on the open market.
    let stake = U256::from(1000u64) * U256::from(10u64).pow(U256::from(18));
    let token = VouchToken::new(c.vouch_token, &provider);
    mined(token.transfer(host, stake).from(deployer)).await;
    mined(token.approve(c.staking, stake).from(host)).await;
    mined(Staking::new(c.staking, &provider).stake(stake).from(host)).await;
    let model = keccak256("llama-3-8b-instruct-q4");
    let region = FixedBytes::<16>::right_padding_from(b"eu-west-1");
    let registry = NodeRegistry::new(c.node_registry, &provider);
    let register = registry.register(
        "https://h1.vouch.example:8443".into(),
        region,
        vec![model],
        alloy::primitives::Uint::from(2_000_000_000u64),
    );
    mined(register.from(host)).await;
    let market = JobMarketplace::new(c.job_marketplace, &provider);
    let payment = 50_000_000_000_000_000u64; // 0.05 ETH
    let fee = market
        .feeFor(Address::ZERO, U256::from(payment))
        .call()
        .await
        .unwrap();
    let now = provider
        .get_block_by_number(Default::default())
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    let deadline = now + 3600;
    let input = keccak256("input");
    let create = market.createJob(
        model,
        input,
        Address::ZERO,
        alloy::primitives::Uint::from(payment),
        alloy::primitives::Uint::from(deadline),
        Address::ZERO,
        0,
    );
    mined(create.value(U256::from(payment)).from(renter)).await;

    let book = AddressBook::new(&d);
    let filter = Filter::new()
        .address(book.addresses())
        .from_block(d.start_block);
    let logs = provider.get_logs(&filter).await.unwrap();
    let mut by_name: BTreeMap<&str, Vec<vouch_bindings::DecodedEvent>> = BTreeMap::new();
    for log in &logs {
        let decoded = vouch_bindings::decode(&book, log)
            .unwrap_or_else(|e| panic!("{e}"))
            .expect("every filtered address is in the book");
        assert_eq!(decoded.event.contract(), decoded.contract);
        assert_eq!(decoded.contract.address(&d), log.address());
        by_name.entry(decoded.name).or_default().push(decoded);
    }
    for name in [
        "RoleGranted",
        "Transfer",
        "Staked",
        "NodeRegistered",
        "JobCreated",
    ] {
        assert!(
            by_name.contains_key(name),
            "no {name} among {:?}",
            by_name.keys()
        );
    }

    let [created] = &by_name["JobCreated"][..] else {
        panic!("one JobCreated")
    };
    assert_eq!(created.contract, ContractKind::JobMarketplace);
    assert_eq!(
        serde_json::Value::from(created.args_map()),
        json!({
            "jobId": "1",
            "renter": renter.to_checksum(None),
            "modelHash": model.to_string(),
            "inputHash": input.to_string(),
            "token": "0x0000000000000000000000000000000000000000",
            "payment": "50000000000000000",
            "deadline": deadline.to_string(),
            "fee": fee.to_string(),
            "offeredHost": "0x0000000000000000000000000000000000000000",
            "minReputation": "0",
        })
    );
    // The typed event says the same.
    let Event::JobMarketplace(JobMarketplace::JobMarketplaceEvents::JobCreated(typed)) =
        &created.event
    else {
        panic!("{:?}", created.event)
    };
    assert_eq!(
        (typed.jobId, typed.renter, typed.modelHash),
        (U256::from(1u64), renter, model)
    );

    let [staked] = &by_name["Staked"][..] else {
        panic!("one Staked")
    };
    assert_eq!(
        serde_json::Value::from(staked.args_map()),
        json!({
            "staker": host.to_checksum(None),
            "amount": "1000000000000000000000",
            "active": "1000000000000000000000",
        })
    );

    let [registered] = &by_name["NodeRegistered"][..] else {
        panic!("one NodeRegistered")
    };
    assert_eq!(
        serde_json::Value::from(registered.args_map()),
        json!({
            "host": host.to_checksum(None),
            "endpoint": "https://h1.vouch.example:8443",
            "region": region.to_string(),
            "pricePerToken": "2000000000",
            "models": [model.to_string()],
        })
    );
}
