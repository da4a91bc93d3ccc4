//! The demo's renters and the permissionless chores around their jobs: jobs created in ETH or
//! in VOUCH (the protocol's ERC20), cancelled, disputed with the bond, payments released after
//! the dispute window, expired jobs refunded, and an equivocation reported from the two
//! signed results a renter kept.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256, utils::parse_ether};
use alloy::providers::DynProvider;
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, Slashing, VouchToken};

use super::actors::mined;
use crate::{DevnetError, Result};

/// ETH is token zero in the marketplace.
pub const ETH: Address = Address::ZERO;
/// Prices: 0.05 ETH, 20 VOUCH (above VOUCH's 1 VOUCH minimum fee).
pub const ETH_PAYMENT: u128 = 50_000_000_000_000_000;
pub const VOUCH_PAYMENT: u128 = 20_000_000_000_000_000_000;
/// VOUCH each renter gets from the deployer.
const RENTER_VOUCH: u64 = 10_000_000;

/// The asset a job pays in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asset {
    Eth,
    Vouch,
}

/// A job to create.
#[derive(Debug, Clone)]
pub struct JobSpec {
    pub renter: Address,
    pub asset: Asset,
    pub model: B256,
    pub label: String,
    pub deadline: u64,
    /// Zero: the open market.
    pub offered: Address,
}

/// The marketplace as the renters and the crank use it.
pub struct Market {
    provider: DynProvider,
    deployment: Deployment,
}

impl Market {
    pub fn new(provider: DynProvider, deployment: Deployment) -> Self {
        Market {
            provider,
            deployment,
        }
    }

    fn market(&self) -> JobMarketplace::JobMarketplaceInstance<&DynProvider> {
        JobMarketplace::new(self.deployment.contracts.job_marketplace, &self.provider)
    }

    /// Gives each renter VOUCH and lets the marketplace take it.
    pub async fn fund(&self, deployer: Address, renters: &[Address]) -> Result<()> {
        let c = &self.deployment.contracts;
        let token = VouchToken::new(c.vouch_token, &self.provider);
        let amount = parse_ether(&RENTER_VOUCH.to_string()).expect("a whole number");
        for &r in renters {
            mined(
                &self.provider,
                "funding a renter",
                token.transfer(r, amount).from(deployer),
            )
            .await?;
            mined(
                &self.provider,
                "renter approves the marketplace",
                token.approve(c.job_marketplace, U256::MAX).from(r),
            )
            .await?;
        }
        Ok(())
    }

    /// Creates the job; returns its id and the gas used.
    pub async fn create(&self, job: &JobSpec) -> Result<(U256, u64)> {
        let (token, payment) = match job.asset {
            Asset::Eth => (ETH, ETH_PAYMENT),
            Asset::Vouch => (self.deployment.contracts.vouch_token, VOUCH_PAYMENT),
        };
        let market = self.market();
        let call = market
            .createJob(
                job.model,
                keccak256(&job.label),
                token,
                alloy::primitives::Uint::from(payment),
                alloy::primitives::Uint::from(job.deadline),
                job.offered,
                0,
            )
            .from(job.renter);
        let call = if job.asset == Asset::Eth {
            call.value(U256::from(payment))
        } else {
            call
        };
        let receipt = mined(&self.provider, "createJob", call).await?;
        let id = receipt
            .decoded_log::<JobMarketplace::JobCreated>()
            .ok_or_else(|| DevnetError::Demo {
                step: "createJob".into(),
                reason: "no JobCreated event".into(),
            })?
            .jobId;
        Ok((id, receipt.gas_used))
    }

    pub async fn cancel(&self, renter: Address, id: U256) -> Result<()> {
        mined(
            &self.provider,
            "cancelJob",
            self.market().cancelJob(id).from(renter),
        )
        .await?;
        Ok(())
    }

    /// The renter disputes a completed job, paying the bond.
    pub async fn dispute(&self, renter: Address, id: U256, evidence: &str) -> Result<()> {
        let slashing = Slashing::new(self.deployment.contracts.slashing, &self.provider);
        let bond = slashing
            .disputeBond()
            .call()
            .await
            .map_err(|e| chain_read("disputeBond", e))?;
        mined(
            &self.provider,
            "disputeJob",
            self.market()
                .disputeJob(id, keccak256(evidence))
                .value(bond)
                .from(renter),
        )
        .await?;
        Ok(())
    }

    /// The arbitration council rules on a dispute.
    pub async fn rule(&self, council: Address, id: U256, upheld: bool) -> Result<()> {
        let slashing = Slashing::new(self.deployment.contracts.slashing, &self.provider);
        mined(
            &self.provider,
            "resolveDispute (the arbitration council)",
            slashing.resolveDispute(id, upheld).from(council),
        )
        .await?;
        Ok(())
    }

    /// Anyone reports two different signed results of one job.
    pub async fn report_equivocation(
        &self,
        reporter: Address,
        host: Address,
        id: U256,
        a: &(B256, Bytes),
        b: &(B256, Bytes),
    ) -> Result<()> {
        let slashing = Slashing::new(self.deployment.contracts.slashing, &self.provider);
        mined(
            &self.provider,
            "reportEquivocation",
            slashing
                .reportEquivocation(host, id, a.0, a.1.clone(), b.0, b.1.clone())
                .from(reporter),
        )
        .await?;
        Ok(())
    }

    /// Releases the payments of `ids` (their dispute windows are over); returns the gas.
    pub async fn release(&self, crank: Address, ids: Vec<U256>) -> Result<u64> {
        if ids.is_empty() {
            return Ok(0);
        }
        let r = mined(
            &self.provider,
            "releasePayments",
            self.market().releasePayments(ids).from(crank),
        )
        .await?;
        Ok(r.gas_used)
    }

    pub async fn expire(&self, crank: Address, id: U256) -> Result<()> {
        mined(
            &self.provider,
            "expireJob",
            self.market().expireJob(id).from(crank),
        )
        .await?;
        Ok(())
    }

    /// Withdraws `account`'s credits in both assets, where there are any.
    pub async fn withdraw_all(&self, account: Address) -> Result<()> {
        for token in [ETH, self.deployment.contracts.vouch_token] {
            let credit = self
                .market()
                .claimable(account, token)
                .call()
                .await
                .map_err(|e| chain_read("claimable", e))?;
            if !credit.is_zero() {
                mined(
                    &self.provider,
                    "withdraw",
                    self.market().withdraw(token).from(account),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// The job's status name on chain.
    pub async fn status(&self, id: U256) -> Result<&'static str> {
        let job = self
            .market()
            .getJob(id)
            .call()
            .await
            .map_err(|e| chain_read("getJob", e))?;
        Ok(STATUS
            .get(job.status as usize)
            .copied()
            .unwrap_or("Unknown"))
    }

    pub async fn dispute_window(&self) -> Result<u64> {
        let w = self
            .market()
            .disputeWindow()
            .call()
            .await
            .map_err(|e| chain_read("disputeWindow", e))?;
        Ok(w)
    }
}

/// JobMarketplace's `Status`, by value (the indexer's state names).
pub const STATUS: [&str; 9] = [
    "None",
    "Open",
    "Claimed",
    "Completed",
    "Disputed",
    "Paid",
    "Expired",
    "Cancelled",
    "Refunded",
];

pub fn chain_read(what: &str, e: impl std::fmt::Display) -> DevnetError {
    DevnetError::Chain(format!("{what}: {e}"))
}
