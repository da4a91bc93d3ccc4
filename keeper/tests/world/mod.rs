//! A deployed Vouch on a real anvil chain, for tests and benches that drive the contracts:
//! the real deploy script, a host that staked the minimum, registered one model and named an
//! operator (the keeper's hot key), a renter with ETH, and a stranger.

#![allow(dead_code)]

use alloy::contract::{CallBuilder, CallDecoder};
use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::node_bindings::AnvilInstance;
use alloy::primitives::{Address, B256, U256, keccak256, utils::parse_ether};
use alloy::providers::{DynProvider, Provider, ProviderBuilder, ext::AnvilApi};
type TransactionReceipt = <alloy::network::Ethereum as alloy::network::Network>::ReceiptResponse;
use alloy::signers::local::PrivateKeySigner;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, ProofSystem, Staking, VouchToken};
use vouch_keeper::prover::{JobTuple, Proof};
use vouch_keeper::tx;

pub const PAYMENT_WEI: u64 = 50_000_000_000_000_000; // 0.05 ETH
pub const JOB_DURATION: u64 = 3600;

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
    /// The verifiable models deployed with their verifiers (by hash), which the host also serves.
    pub models: Vec<B256>,
    _script: vouch_testkit::ScriptDeployment,
}

impl World {
    /// Deploys with the real script and prepares the host (stake, register, operator).
    pub async fn new() -> Self {
        Self::on(vouch_testkit::anvil()).await
    }

    /// The same on an anvil the caller started (e.g. with `--state FILE`, to restart it).
    pub async fn on(anvil: AnvilInstance) -> Self {
        Self::deploy(anvil, &[]).await
    }

    /// The same with the verifiers of the named verifiable models installed (on an anvil
    /// without the contract size limit: the attention block's verifier is above it).
    pub async fn with_models(models: &[&str]) -> Self {
        Self::deploy(vouch_testkit::anvil_without_size_limit(), models).await
    }

    async fn deploy(anvil: AnvilInstance, models: &[&str]) -> Self {
        let script = vouch_testkit::deploy_with_models(&anvil, models);
        let artifacts = vouch_keeper::prover::Artifacts::from_env();
        let models = models
            .iter()
            .map(|m| vouch_keeper::prover::model_hash_of(&artifacts.model_dir(m)).unwrap())
            .collect();
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
            models,
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
    /// serving `model()` and the world's verifiable models; returns the stake and register
    /// receipts.
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
                    [vec![model()], self.models.clone()].concat(),
                    alloy::primitives::Uint::from(2_000_000_000u64),
                )
                .from(account),
        )
        .await;
        (staked, registered)
    }

    /// The deployment manifest's path (for the `vouch` binary's `--deployment`).
    pub fn manifest_path(&self) -> std::path::PathBuf {
        self._script.manifest.clone()
    }

    /// A wallet holding only `account`'s key (one of the world's five accounts).
    pub fn wallet_of(&self, account: Address) -> EthereumWallet {
        let key = self
            .anvil
            .keys()
            .iter()
            .find(|k| PrivateKeySigner::from((*k).clone()).address() == account)
            .expect("one of the world's accounts")
            .clone();
        EthereumWallet::from(PrivateKeySigner::from(key))
    }

    /// A provider without a wallet, for the transaction manager (it signs itself).
    pub fn reader(&self) -> DynProvider {
        ProviderBuilder::new()
            .connect_http(self.anvil.endpoint_url())
            .erased()
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

    /// Submits `proof` from `from` with the crate's submission call (`tx::proof_request`:
    /// submitProof for one job at B=1, else submitBatch) and its explicit gas limit.
    pub async fn submit(&self, proof: &Proof, from: Address) -> TransactionReceipt {
        let request = tx::proof_request(&self.deployment, from, proof)
            .expect("a submittable proof")
            .with_gas_limit(tx::proof_gas_limit(proof.batch_size));
        self.provider
            .send_transaction(request)
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap()
    }

    /// What submitting `proof` from `from` would do, as an eth_call: Ok or the revert.
    pub async fn try_submit(
        &self,
        proof: &Proof,
        from: Address,
    ) -> Result<(), alloy::contract::Error> {
        let (ids, outputs) = tx::ids_and_outputs(proof);
        self.proof_system()
            .submitBatch(proof.batch_size as u16, ids, outputs, proof.proof.clone())
            .from(from)
            .gas(tx::proof_gas_limit(proof.batch_size))
            .call()
            .await
            .map(|_| ())
    }
}

impl World {
    /// A keeper for the world's host (its operator's key) on `database`, any free port,
    /// quick polls.
    pub fn keeper_config(
        &self,
        database: &str,
        prover: std::sync::Arc<vouch_keeper::prover::Prover>,
    ) -> vouch_keeper::service::KeeperConfig {
        use std::time::Duration;
        let mut config = vouch_keeper::service::KeeperConfig::new(
            self.reader(),
            self.deployment.clone(),
            self.anvil.keys()[2].clone().into(),
            database.to_owned(),
            prover,
        );
        config.host = self.host;
        config.watcher = vouch_keeper::watcher::WatcherConfig::new(self.host);
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.poll = Duration::from_millis(50);
        config.tx.poll = Duration::from_millis(25);
        config.tx.backoff = tx::Backoff {
            base: Duration::from_millis(50),
            max: Duration::from_secs(1),
            attempts: 60,
        };
        config
    }
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

impl World {
    /// `n` claimed jobs, fast: every createJob is sent before any receipt is read (anvil mines
    /// each at once), then every claim likewise. Returns the tuples, outputs hashed from `label`
    /// (`output_text(label, i)` is the text whose keccak256 they are).
    pub async fn many_claimed_jobs(&self, n: usize, label: &str) -> Vec<JobTuple> {
        let now = self.now().await;
        let mut created = Vec::with_capacity(n);
        for i in 0..n {
            let input = format!("{label} input {i}");
            let pending = self
                .marketplace()
                .createJob(
                    model(),
                    keccak256(&input),
                    Address::ZERO,
                    alloy::primitives::Uint::from(PAYMENT_WEI),
                    alloy::primitives::Uint::from(now + JOB_DURATION),
                    Address::ZERO,
                    0,
                )
                .value(U256::from(PAYMENT_WEI))
                .from(self.renter)
                .gas(400_000)
                .send()
                .await
                .unwrap();
            created.push((*pending.tx_hash(), input));
        }
        let mut tuples = Vec::with_capacity(n);
        let mut claims = Vec::with_capacity(n);
        for (i, (hash, input)) in created.into_iter().enumerate() {
            let receipt = ok(self.receipt(hash).await);
            let id = receipt
                .decoded_log::<JobMarketplace::JobCreated>()
                .expect("JobCreated")
                .jobId;
            let pending = self
                .marketplace()
                .claimJob(id, self.host)
                .from(self.operator)
                .gas(300_000)
                .send()
                .await
                .unwrap();
            claims.push(*pending.tx_hash());
            tuples.push(JobTuple {
                job_id: B256::from(id),
                model_hash: model(),
                input_hash: keccak256(&input),
                output_hash: keccak256(output_text(label, i)),
            });
        }
        for hash in claims {
            ok(self.receipt(hash).await);
        }
        tuples
    }

    /// The receipt of `hash`, polled every 20 ms (bounded, 60 s).
    pub async fn receipt(&self, hash: B256) -> TransactionReceipt {
        let start = std::time::Instant::now();
        loop {
            if let Some(r) = self.provider.get_transaction_receipt(hash).await.unwrap() {
                return r;
            }
            assert!(start.elapsed().as_secs() < 60, "no receipt for {hash}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Every `JobCompleted` event of the deployment: (job id, output hash, transaction hash).
    pub async fn completions(&self) -> Vec<(B256, B256, B256)> {
        let filter = alloy::rpc::types::Filter::new()
            .address(self.deployment.contracts.job_marketplace)
            .event_signature(
                <JobMarketplace::JobCompleted as alloy::sol_types::SolEvent>::SIGNATURE_HASH,
            )
            .from_block(0);
        self.provider
            .get_logs(&filter)
            .await
            .unwrap()
            .into_iter()
            .map(|log| {
                let e = log.log_decode::<JobMarketplace::JobCompleted>().unwrap();
                (
                    B256::from(e.inner.data.jobId),
                    e.inner.data.outputHash,
                    log.transaction_hash.unwrap(),
                )
            })
            .collect()
    }
}

/// The output text of job `i` of [`World::many_claimed_jobs`]`(_, label)`.
pub fn output_text(label: &str, i: usize) -> String {
    format!("{label} output {i}")
}
