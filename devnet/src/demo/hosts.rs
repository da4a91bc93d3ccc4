//! The demo's hosts: each joins (stake, registration of its models), then runs a loop that
//! takes job orders, claims them, "runs the model" (the output is a hash of the input and the
//! host) and posts the result to its own keeper's intake. Claims and withdrawals go through the
//! keeper's transaction manager, heartbeats are the keeper's watcher's. One scripted fault per
//! order kind: a host that drops a claimed job, and one that signs a second, different result.

use std::sync::Arc;

use alloy::network::TransactionBuilder;
use alloy::primitives::{Address, B256, Bytes, FixedBytes, U256, keccak256, utils::parse_ether};
use alloy::providers::DynProvider;
use alloy::rpc::types::TransactionRequest;
use alloy::sol_types::SolCall;
use tokio::sync::{mpsc, oneshot};
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, NodeRegistry, Staking, VouchToken};

use super::actors::mined;
use super::keeper::HostKeeper;
use crate::{DevnetError, Result};

/// What each host stakes: twice the minimum, so the scripted slashes leave it serving.
pub const STAKE_VOUCH: u64 = 2_000;

/// The models the demo's hosts serve (each host serves the first and one other).
pub const MODELS: [&str; 3] = ["llama-3-8b-instruct-q4", "mistral-7b-q4", "phi-3-mini"];
const REGIONS: [&str; 5] = [
    "eu-west-1",
    "us-east-1",
    "ap-south-1",
    "us-west-2",
    "eu-central-1",
];

pub fn model_hash(name: &str) -> B256 {
    keccak256(name)
}

/// What a host does with an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Claim, run, submit to the keeper.
    Serve,
    /// Claim and never answer: the deadline is missed (scripted).
    Drop,
    /// Serve, and also sign a second, different output for the same job (scripted).
    Equivocate,
}

/// A job for one host.
#[derive(Debug)]
pub struct Order {
    pub job_id: U256,
    pub model: B256,
    pub input: B256,
    pub fate: Fate,
    pub done: oneshot::Sender<Result<Served>>,
}

/// What the host answered: the signed results (two for an equivocation).
#[derive(Debug, Clone, Default)]
pub struct Served {
    pub signed: Vec<(B256, Bytes)>,
}

/// Stakes [`STAKE_VOUCH`] (given by the deployer) and registers host number `i`. Sent through
/// `provider`, which signs for the host: before its keeper starts, so the keeper's nonce
/// tracking starts after these.
pub async fn join(
    provider: &DynProvider,
    deployment: &Deployment,
    deployer: Address,
    host: Address,
    i: usize,
) -> Result<()> {
    let c = &deployment.contracts;
    let stake = parse_ether(&STAKE_VOUCH.to_string()).expect("a whole number");
    let token = VouchToken::new(c.vouch_token, provider);
    let staking = Staking::new(c.staking, provider);
    let registry = NodeRegistry::new(c.node_registry, provider);
    let step = |what: &str| format!("host {} {what}", i + 1);
    mined(
        provider,
        &step("funding"),
        token.transfer(host, stake).from(deployer),
    )
    .await?;
    mined(
        provider,
        &step("approve"),
        token.approve(c.staking, stake).from(host),
    )
    .await?;
    mined(provider, &step("stake"), staking.stake(stake).from(host)).await?;
    let models = vec![model_hash(MODELS[0]), model_hash(MODELS[1 + i % 2])];
    let region = FixedBytes::<16>::right_padding_from(REGIONS[i % REGIONS.len()].as_bytes());
    mined(
        provider,
        &step("register"),
        registry
            .register(
                format!("https://host{}.devnet.vouch.example", i + 1),
                region,
                models,
                alloy::primitives::Uint::from(1_000_000_000u64 * (i as u64 + 1)),
            )
            .from(host),
    )
    .await?;
    Ok(())
}

/// One host at work.
pub struct Host<K> {
    pub address: Address,
    pub keeper: K,
    deployment: Deployment,
}

impl<K: HostKeeper + Clone> Host<K> {
    pub fn new(address: Address, keeper: K, deployment: Deployment) -> Self {
        Host {
            address,
            keeper,
            deployment,
        }
    }

    /// The output this host's "model" gives for `input`.
    pub fn output(&self, input: B256) -> B256 {
        keccak256([input.as_slice(), self.address.as_slice()].concat())
    }

    fn call(&self, to: Address, input: Vec<u8>) -> TransactionRequest {
        TransactionRequest::default().with_to(to).with_input(input)
    }

    /// Withdraws what the marketplace credited the host in `token` (zero: ETH).
    pub async fn withdraw(&self, token: Address) -> Result<()> {
        let data = JobMarketplace::withdrawCall { token }.abi_encode();
        self.keeper
            .chore(self.call(self.deployment.contracts.job_marketplace, data))
            .await?;
        Ok(())
    }

    /// Claims `job_id` for this host; returns the gas used.
    pub async fn claim(&self, job_id: U256) -> Result<u64> {
        let data = JobMarketplace::claimJobCall {
            jobId: job_id,
            host: self.address,
        }
        .abi_encode();
        let claimed = self
            .keeper
            .chore(self.call(self.deployment.contracts.job_marketplace, data))
            .await?;
        Ok(claimed.gas_used)
    }

    /// Claims, runs and submits one order; returns the claim's gas and what was signed.
    async fn serve(&self, order: &Order) -> Result<(u64, Served)> {
        let claimed = self.claim(order.job_id).await?;
        let mut served = Served::default();
        if order.fate == Fate::Drop {
            return Ok((claimed, served));
        }
        let output = self.output(order.input);
        let job_id = B256::from(order.job_id);
        let signature = self.keeper.submit(job_id, output).await?;
        served.signed.push((output, signature));
        if order.fate == Fate::Equivocate {
            // The scripted fault: the host signs another answer for the same job with its key
            // outside the keeper (whose intake refuses a second output: 409 output_conflict);
            // the renter keeps both signatures.
            let other = keccak256([output.as_slice(), b"second answer"].concat());
            let signature =
                self.keeper
                    .signer()
                    .sign(job_id, other)
                    .map_err(|e| DevnetError::Demo {
                        step: "signing a second result".into(),
                        reason: e.to_string(),
                    })?;
            served.signed.push((other, signature));
        }
        Ok((claimed, served))
    }

    /// Takes orders until the channel closes; each order's outcome goes back on its `done`.
    pub async fn run(
        self: Arc<Self>,
        mut orders: mpsc::Receiver<Order>,
        stats: Arc<super::progress::Stats>,
    ) {
        while let Some(order) = orders.recv().await {
            let host = self.clone();
            let stats = stats.clone();
            // Orders are served concurrently; the keeper's transaction manager orders the nonces.
            tokio::spawn(async move {
                let outcome = host.serve(&order).await.map(|(gas, served)| {
                    super::progress::Stats::add(&stats.job_gas, gas);
                    served
                });
                let _ = order.done.send(outcome);
            });
        }
    }
}
