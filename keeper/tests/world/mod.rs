//! A deployed Vouch on a real anvil chain, for tests and benches that drive the contracts:
//! the real deploy script, a host that staked the minimum, registered one model and named an
//! operator (the keeper's hot key), a renter with ETH, and a stranger.

#![allow(dead_code)]

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::EthereumWallet;
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, U256, keccak256, utils::parse_ether};
use alloy::providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi};
type TransactionReceipt = <alloy::network::Ethereum as alloy::network::Network>::ReceiptResponse;
use alloy::signers::local::PrivateKeySigner;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, ProofSystem, Staking, VouchToken};
use vouch_keeper::prover::{JobTuple, Proof};

pub const PAYMENT_WEI: u64 = 50_000_000_000_000_000; // 0.05 ETH
pub const JOB_DURATION: u64 = 3600;
/// Generous explicit limits: the verifier sits in try/catch, so estimates can come out low.
pub const PROOF_GAS_LIMIT: u64 = 4_000_000;

pub fn model() -> B256 {
    keccak256("llama-3-8b-instruct-q4")
}

pub struct World {
    pub anvil: AnvilInstance,
    pub deployment: Deployment,
    pub provider: DynProvider,
    pub deployer: Address,
    pub host: Address,
    pub operator: Address,
    pub renter: Address,
    pub stranger: Address,
    _script: vouch_testkit::ScriptDeployment,
}

impl World {
    /// Deploys with the real script and prepares the host (stake, register, operator).
    pub async fn new() -> Self {
        let anvil = vouch_testkit::anvil();
        let script = vouch_testkit::deploy_with_script(&anvil);
        let deployment = Deployment::load(&script.manifest).expect("the script's manifest");
        let signers: Vec<PrivateKeySigner> =
            anvil.keys()[..5].iter().cloned().map(Into::into).collect();
        let addresses: Vec<Address> = signers.iter().map(|s| s.address()).collect();
        let mut wallet = EthereumWallet::from(signers[0].clone());
        for s in &signers[1..] {
            wallet.register_signer(s.clone());
        }
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(anvil.endpoint_url())
            .erased();
        let world = World {
            anvil,
            deployment,
            provider,
            deployer: addresses[0],
            host: addresses[1],
            operator: addresses[2],
            renter: addresses[3],
            stranger: addresses[4],
            _script: script,
        };
        world.prepare_host().await;
        world
    }

    async fn prepare_host(&self) {
        self.join_as_host(self.host, "https://h1.vouch.example:8443")
            .await;
        mined(
            NodeRegistry::new(self.deployment.contracts.node_registry, &self.provider)
                .setOperator(self.operator)
                .from(self.host),
        )
        .await;
    }

    /// Gives `account` the minimum stake from the deployer, stakes it and registers a node
    /// serving `model()`; returns the stake and register receipts.
    pub async fn join_as_host(
        &self,
        account: Address,
        endpoint: &str,
    ) -> (TransactionReceipt, TransactionReceipt) {
        let c = &self.deployment.contracts;
        let stake = parse_ether("1000").unwrap();
        let token = VouchToken::new(c.vouch_token, &self.provider);
        mined(token.transfer(account, stake).from(self.deployer)).await;
        mined(token.approve(c.staking, stake).from(account)).await;
        let staked = mined(
            Staking::new(c.staking, &self.provider)
                .stake(stake)
                .from(account),
        )
        .await;
        let region = alloy::primitives::FixedBytes::<16>::right_padding_from(b"eu-west-1");
        let registered = mined(
            NodeRegistry::new(c.node_registry, &self.provider)
                .register(
                    endpoint.into(),
                    region,
                    vec![model()],
                    alloy::primitives::Uint::from(2_000_000_000u64),
                )
                .from(account),
        )
        .await;
        (staked, registered)
    }

    pub fn marketplace(&self) -> JobMarketplace::JobMarketplaceInstance<&DynProvider> {
        JobMarketplace::new(self.deployment.contracts.job_marketplace, &self.provider)
    }

    pub fn proof_system(&self) -> ProofSystem::ProofSystemInstance<&DynProvider> {
        ProofSystem::new(self.deployment.contracts.proof_system, &self.provider)
    }

    pub async fn now(&self) -> u64 {
        self.provider
            .get_block_by_number(Default::default())
            .await
            .unwrap()
            .unwrap()
            .header
            .timestamp
    }

    /// Moves the chain's clock forward and mines a block.
    pub async fn advance(&self, seconds: u64) {
        self.provider.anvil_increase_time(seconds).await.unwrap();
        self.provider.anvil_mine(Some(1), None).await.unwrap();
    }

    /// The renter creates a job for `model()` with input hash of `label`, paying 0.05 ETH.
    pub async fn create_job(&self, label: &str) -> (U256, TransactionReceipt) {
        let deadline = self.now().await + JOB_DURATION;
        let payment = U256::from(PAYMENT_WEI);
        let receipt = mined(
            self.marketplace()
                .createJob(
                    model(),
                    keccak256(label),
                    Address::ZERO,
                    alloy::primitives::Uint::from(PAYMENT_WEI),
                    alloy::primitives::Uint::from(deadline),
                    Address::ZERO, // open market
                    0,             // no minimum reputation
                )
                .value(payment)
                .from(self.renter),
        )
        .await;
        let created = receipt
            .decoded_log::<JobMarketplace::JobCreated>()
            .expect("JobCreated");
        (created.jobId, receipt)
    }

    /// The operator claims `id` for the host.
    pub async fn claim(&self, id: U256) -> TransactionReceipt {
        mined(
            self.marketplace()
                .claimJob(id, self.host)
                .from(self.operator),
        )
        .await
    }

    /// `n` claimed jobs; returns their tuples with outputs hashed from `label`.
    pub async fn claimed_jobs(&self, n: usize, label: &str) -> Vec<JobTuple> {
        let mut tuples = Vec::with_capacity(n);
        for i in 0..n {
            let input = format!("{label} input {i}");
            let (id, _) = self.create_job(&input).await;
            self.claim(id).await;
            tuples.push(JobTuple {
                job_id: B256::from(id),
                model_hash: model(),
                input_hash: keccak256(&input),
                output_hash: keccak256(format!("{label} output {i}")),
            });
        }
        tuples
    }

    /// Submits `proof` through ProofSystem (submitProof for one job at B=1, else submitBatch)
    /// from `from`, with an explicit gas limit.
    pub async fn submit(&self, proof: &Proof, from: Address) -> TransactionReceipt {
        let (ids, outputs) = ids_and_outputs(proof);
        let ps = self.proof_system();
        let pending = if proof.batch_size == 1 {
            ps.submitProof(ids[0], outputs[0], proof.proof.clone())
                .from(from)
                .gas(PROOF_GAS_LIMIT)
                .send()
                .await
        } else {
            ps.submitBatch(proof.batch_size as u16, ids, outputs, proof.proof.clone())
                .from(from)
                .gas(PROOF_GAS_LIMIT)
                .send()
                .await
        };
        pending.unwrap().get_receipt().await.unwrap()
    }

    /// What submitting `proof` from `from` would do, as an eth_call: Ok or the revert.
    pub async fn try_submit(
        &self,
        proof: &Proof,
        from: Address,
    ) -> Result<(), alloy::contract::Error> {
        let (ids, outputs) = ids_and_outputs(proof);
        self.proof_system()
            .submitBatch(proof.batch_size as u16, ids, outputs, proof.proof.clone())
            .from(from)
            .gas(PROOF_GAS_LIMIT)
            .call()
            .await
            .map(|_| ())
    }
}

pub fn ids_and_outputs(proof: &Proof) -> (Vec<U256>, Vec<B256>) {
    proof
        .jobs
        .iter()
        .map(|j| (U256::from_be_bytes(j.job_id.0), j.output_hash))
        .unzip()
}

/// Sends `call`, waits for its receipt and asserts it succeeded.
pub async fn mined<P: Provider, D: CallDecoder>(call: CallBuilder<P, D>) -> TransactionReceipt {
    ok(call.send().await.unwrap().get_receipt().await.unwrap())
}

/// Asserts a receipt's success and passes it on.
pub fn ok(receipt: TransactionReceipt) -> TransactionReceipt {
    assert!(
        receipt.status(),
        "transaction {} reverted",
        receipt.transaction_hash
    );
    receipt
}
