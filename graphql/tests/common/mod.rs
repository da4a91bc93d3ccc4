//! A real chain for the GraphQL tests: anvil, the real deploy script, a scenario of hosts,
//! stakes, jobs, an expiry slash and a governance proposal sent as transactions, then the real
//! indexer filling SQLite or PostgreSQL, and the real server on a free port.

#![allow(dead_code)]

use std::net::SocketAddr;

use alloy::network::EthereumWallet;
use alloy::primitives::aliases::{U40, U96};
use alloy::primitives::{Address, B256, FixedBytes, U256};
use alloy::providers::ext::AnvilApi;
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::signers::local::PrivateKeySigner;
use serde_json::Value;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, Staking, VouchGovernor, VouchToken};
use vouch_bindings::events::AddressBook;
use vouch_indexer::source::{Backoff, ChainSource};
use vouch_indexer::store::SeaStore;
use vouch_indexer::{Indexer, IndexerConfig};

pub const VOUCH: u128 = 1_000_000_000_000_000_000;
pub const JOB_PAYMENT: u128 = 10_000_000_000_000_000; // 0.01 ETH
pub const OPEN_JOBS: usize = 25;

pub fn model(i: u8) -> B256 {
    B256::with_last_byte(i)
}

/// One host of the scenario.
pub struct HostSpec {
    pub key: PrivateKeySigner,
    pub stake: u128,
    pub region: &'static str,
    pub price: u64,
    pub models: Vec<B256>,
}

pub struct World {
    pub anvil: alloy::node_bindings::AnvilInstance,
    pub deployment: Deployment,
    pub deployer: DynProvider,
    pub hosts: Vec<HostSpec>,
    pub renter: PrivateKeySigner,
    /// Job ids by role.
    pub expired_job: u64,
    pub cancelled_job: u64,
    pub claimed_job: u64,
    pub proposal_id: U256,
    _deployed: vouch_testkit::ScriptDeployment,
}

fn region(s: &str) -> FixedBytes<16> {
    let mut b = [0u8; 16];
    b[..s.len()].copy_from_slice(s.as_bytes());
    FixedBytes(b)
}

impl World {
    pub fn wallet(&self, key: &PrivateKeySigner) -> DynProvider {
        ProviderBuilder::new()
            .wallet(EthereumWallet::from(key.clone()))
            .connect_http(self.anvil.endpoint_url())
            .erased()
    }

    pub async fn new() -> World {
        let anvil = vouch_testkit::anvil();
        let deployed = vouch_testkit::deploy_with_script(&anvil);
        let deployment = Deployment::load(&deployed.manifest).unwrap();
        let key = |i: usize| PrivateKeySigner::from_signing_key(anvil.keys()[i].clone().into());
        let deployer_key: PrivateKeySigner = deployed.deployer_key.parse().unwrap();
        let hosts = vec![
            HostSpec {
                key: key(1),
                stake: 5_000 * VOUCH,
                region: "eu-west-1",
                price: 100,
                models: vec![model(1), model(2)],
            },
            HostSpec {
                key: key(2),
                stake: 3_000 * VOUCH,
                region: "us-east-1",
                price: 50,
                models: vec![model(1)],
            },
            HostSpec {
                key: key(3),
                stake: 1_500 * VOUCH,
                region: "eu-west-1",
                price: 200,
                models: vec![model(2)],
            },
        ];
        let mut world = World {
            deployer: ProviderBuilder::new()
                .wallet(EthereumWallet::from(deployer_key))
                .connect_http(anvil.endpoint_url())
                .erased(),
            renter: key(4),
            anvil,
            deployment,
            hosts,
            expired_job: 0,
            cancelled_job: 0,
            claimed_job: 0,
            proposal_id: U256::ZERO,
            _deployed: deployed,
        };
        world.play().await;
        world
    }

    async fn play(&mut self) {
        let c = self.deployment.contracts.clone();
        let token = VouchToken::new(c.vouch_token, &self.deployer);
        let deployer: Address = self
            ._deployed
            .deployer_key
            .parse::<PrivateKeySigner>()
            .unwrap()
            .address();
        token
            .delegate(deployer)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        for h in &self.hosts {
            token
                .transfer(h.key.address(), U256::from(h.stake))
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            let p = self.wallet(&h.key);
            let t = VouchToken::new(c.vouch_token, &p);
            t.approve(c.staking, U256::from(h.stake))
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            Staking::new(c.staking, &p)
                .stake(U256::from(h.stake))
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
            NodeRegistry::new(c.node_registry, &p)
                .register(
                    format!("https://{}.example", h.region),
                    region(h.region),
                    h.models.clone(),
                    U96::from(h.price),
                )
                .send()
                .await
                .unwrap()
                .get_receipt()
                .await
                .unwrap();
        }
        // The third host leaves again.
        NodeRegistry::new(c.node_registry, &self.wallet(&self.hosts[2].key))
            .deregister()
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();

        let renter = self.wallet(&self.renter);
        let market = JobMarketplace::new(c.job_marketplace, &renter);
        let create = |i: u8| {
            let market = market.clone();
            let renter = renter.clone();
            async move {
                let now = renter
                    .get_block(alloy::eips::BlockId::latest())
                    .await
                    .unwrap()
                    .unwrap()
                    .header
                    .timestamp;
                let receipt = market
                    .createJob(
                        model(1),
                        B256::with_last_byte(100 + i),
                        Address::ZERO,
                        U96::from(JOB_PAYMENT),
                        U40::from(now + 3600),
                        Address::ZERO,
                        0,
                    )
                    .value(U256::from(JOB_PAYMENT))
                    .send()
                    .await
                    .unwrap()
                    .get_receipt()
                    .await
                    .unwrap();
                assert!(receipt.status());
                let id = market.jobCount().call().await.unwrap();
                id.to::<u64>()
            }
        };
        // Job 1: claimed by host 0 and expired past its deadline (a slash and an Expiry).
        self.expired_job = create(1).await;
        let h0 = self.wallet(&self.hosts[0].key);
        JobMarketplace::new(c.job_marketplace, &h0)
            .claimJob(U256::from(self.expired_job), self.hosts[0].key.address())
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        self.cancelled_job = create(2).await;
        market
            .cancelJob(U256::from(self.cancelled_job))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        self.deployer.anvil_increase_time(3601).await.unwrap();
        self.deployer.evm_mine(None).await.unwrap();
        let r = market
            .expireJob(U256::from(self.expired_job))
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        assert!(r.status());
        // A job claimed by host 1 that stays claimed, then open jobs.
        self.claimed_job = create(3).await;
        JobMarketplace::new(c.job_marketplace, &self.wallet(&self.hosts[1].key))
            .claimJob(U256::from(self.claimed_job), self.hosts[1].key.address())
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
        for i in 0..OPEN_JOBS {
            create(10 + i as u8).await;
        }
        // A proposal (Pending for its voting delay).
        let gov = VouchGovernor::new(c.vouch_governor, &self.deployer);
        let calldata = VouchToken::transferCall {
            to: Address::with_last_byte(9),
            value: U256::from(1),
        };
        use alloy::sol_types::SolCall;
        let targets = vec![c.vouch_token];
        let values = vec![U256::ZERO];
        let datas = vec![alloy::primitives::Bytes::from(calldata.abi_encode())];
        let description = "send one wei".to_string();
        self.proposal_id = gov
            .hashProposal(
                targets.clone(),
                values.clone(),
                datas.clone(),
                alloy::primitives::keccak256(description.as_bytes()),
            )
            .call()
            .await
            .unwrap();
        gov.propose(targets, values, datas, description)
            .send()
            .await
            .unwrap()
            .get_receipt()
            .await
            .unwrap();
    }

    /// Indexes the chain to its head into `url`.
    pub async fn index(&self, url: &str) {
        let book = AddressBook::new(&self.deployment);
        let source =
            ChainSource::connect(&self.anvil.endpoint(), book.addresses(), Backoff::default())
                .await
                .unwrap();
        let store = SeaStore::connect(url).await.unwrap();
        let cfg = IndexerConfig {
            until_head: true,
            reorg_window: 8,
            confirmations: 3,
            ..IndexerConfig::default()
        };
        let mut indexer = Indexer::open(source, store, &self.deployment, cfg)
            .await
            .unwrap();
        indexer.run(std::future::pending()).await.unwrap();
    }

    pub async fn head(&self) -> (u64, u64) {
        let b = self
            .deployer
            .get_block(alloy::eips::BlockId::latest())
            .await
            .unwrap()
            .unwrap();
        (b.header.number, b.header.timestamp)
    }
}

/// The server over `url` on a free port; stops when the runtime ends.
pub async fn serve(url: &str) -> Api {
    let db = vouch_graphql::context::connect(url).await.unwrap();
    let router = vouch_graphql::router(db, vouch_graphql::ServeConfig::default(), None).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    Api {
        addr,
        http: reqwest::Client::new(),
    }
}

#[derive(Clone)]
pub struct Api {
    pub addr: SocketAddr,
    pub http: reqwest::Client,
}

impl Api {
    pub fn url(&self) -> String {
        format!("http://{}/graphql", self.addr)
    }

    /// The whole response (data and errors).
    pub async fn raw(&self, query: &str, variables: Value) -> (u16, Value) {
        let r = self
            .http
            .post(self.url())
            .json(&serde_json::json!({"query": query, "variables": variables}))
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap())
    }

    /// `data`, asserting there is no error.
    pub async fn query(&self, query: &str, variables: Value) -> Value {
        let (status, body) = self.raw(query, variables).await;
        assert_eq!(status, 200, "{body}");
        assert!(body.get("errors").is_none(), "errors: {body}");
        body["data"].clone()
    }
}
