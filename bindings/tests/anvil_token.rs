//! VouchToken through the generated bindings on a real anvil chain.

use alloy::network::EthereumWallet;
use alloy::primitives::{U256, utils::parse_ether};
use alloy::providers::{Provider, ProviderBuilder, ext::AnvilApi};
use alloy::signers::local::PrivateKeySigner;
use vouch_bindings::contracts::VouchToken;

#[tokio::test]
async fn deploy_transfer_delegate_and_count_votes() {
    let anvil = vouch_testkit::anvil();
    let deployer: PrivateKeySigner = anvil.keys()[0].clone().into();
    let alice: PrivateKeySigner = anvil.keys()[1].clone().into();
    let (deployer_addr, alice_addr) = (deployer.address(), alice.address());

    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(deployer))
        .connect_http(anvil.endpoint_url());
    let supply = parse_ether("1000000").unwrap();
    let token = VouchToken::deploy(&provider, deployer_addr, supply)
        .await
        .unwrap();

    assert_eq!(token.totalSupply().call().await.unwrap(), supply);
    assert_eq!(token.CLOCK_MODE().call().await.unwrap(), "mode=timestamp");

    let amount = parse_ether("1500").unwrap();
    let receipt = token
        .transfer(alice_addr, amount)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(receipt.status());
    let transfer = receipt
        .decoded_log::<VouchToken::Transfer>()
        .expect("a Transfer event");
    assert_eq!(
        (transfer.from, transfer.to, transfer.value),
        (deployer_addr, alice_addr, amount)
    );
    assert_eq!(token.balanceOf(alice_addr).call().await.unwrap(), amount);
    assert_eq!(
        token.balanceOf(deployer_addr).call().await.unwrap(),
        supply - amount
    );

    // Alice delegates to herself with her own key; votes follow from that moment on.
    let alice_provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(alice))
        .connect_http(anvil.endpoint_url());
    let alice_token = VouchToken::new(*token.address(), &alice_provider);
    assert_eq!(
        alice_token.getVotes(alice_addr).call().await.unwrap(),
        U256::ZERO
    );
    let delegated = alice_token
        .delegate(alice_addr)
        .send()
        .await
        .unwrap()
        .get_receipt()
        .await
        .unwrap();
    assert!(delegated.status());
    let delegated_at = provider
        .get_block_by_number(delegated.block_number.unwrap().into())
        .await
        .unwrap()
        .unwrap()
        .header
        .timestamp;
    assert_eq!(
        alice_token.getVotes(alice_addr).call().await.unwrap(),
        amount
    );
    assert_eq!(
        token.delegates(alice_addr).call().await.unwrap(),
        alice_addr
    );

    // Past votes are looked up by timestamp (ERC-6372), so move the clock on first.
    provider.anvil_increase_time(60).await.unwrap();
    provider.anvil_mine(Some(1), None).await.unwrap();
    let at = U256::from(delegated_at);
    assert_eq!(
        token.getPastVotes(alice_addr, at).call().await.unwrap(),
        amount
    );
    assert_eq!(
        token
            .getPastVotes(alice_addr, at - U256::from(1))
            .call()
            .await
            .unwrap(),
        U256::ZERO
    );
    assert_eq!(token.getPastTotalSupply(at).call().await.unwrap(), supply);
}
