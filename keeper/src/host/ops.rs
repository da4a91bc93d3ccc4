//! The host's transactions: stake (approve + stake), unstake, withdraw, register, set-operator,
//! claim a job, and collect payments (release those past their dispute window, then withdraw
//! what the marketplace holds for the host). Each goes through the [`TxManager`], so nonces,
//! fees, replacement and revert decoding are the same as for proofs.

use alloy::primitives::{Address, B256, FixedBytes, U256, Uint};
use alloy::rpc::types::TransactionRequest;
use vouch_bindings::contracts::JobMarketplace;

use super::chain::{Chain, address_topic};
use super::error::{HostError, Result};
use super::{Landed, TxManager};

/// The marketplace's token id for ETH payments.
pub const ETH: Address = Address::ZERO;
/// Jobs per `releasePayments` transaction: bounded so one call stays well under a block.
pub const RELEASE_CHUNK: usize = 100;

/// What `stake` sent: the approval (when the allowance was short) and the stake.
#[derive(Debug, Clone)]
pub struct Staked {
    pub approve: Option<Landed>,
    pub stake: Landed,
}

/// What `claim_payments` did.
#[derive(Debug, Clone, Default)]
pub struct Collected {
    /// Jobs whose payment was released now.
    pub released: Vec<U256>,
    /// Wei withdrawn from the marketplace to the host (zero: nothing was claimable).
    pub withdrawn: U256,
    pub transactions: Vec<Landed>,
}

/// A node registration as `register` takes it.
#[derive(Debug, Clone)]
pub struct Registration {
    pub endpoint: String,
    /// At most 16 bytes (e.g. `eu-west-1`).
    pub region: String,
    pub models: Vec<B256>,
    /// Wei per token, at most 2^96 - 1.
    pub price_per_token: U256,
}

/// Sends one call and insists it succeeded.
async fn send(
    tx: &TxManager,
    what: &'static str,
    request: TransactionRequest,
    gas: Option<u64>,
) -> Result<Landed> {
    let landed = tx.send(request, gas).await.map_err(HostError::tx(what))?;
    if !landed.status {
        return Err(HostError::Read {
            what,
            reason: format!("transaction {} reverted", landed.tx_hash),
        });
    }
    Ok(landed)
}

/// Approves the staking contract for `amount` VOUCH if the allowance is short, then stakes it.
pub async fn stake(chain: &Chain, tx: &TxManager, amount: U256) -> Result<Staked> {
    if amount.is_zero() {
        return Err(HostError::Invalid(
            "the amount to stake is zero; give a positive amount".into(),
        ));
    }
    let me = tx.from();
    let staking = chain.deployment.contracts.staking;
    let balance = chain
        .token()
        .balanceOf(me)
        .call()
        .await
        .map_err(HostError::read("reading the VOUCH balance"))?;
    if balance < amount {
        return Err(HostError::Invalid(format!(
            "{me} holds {} VOUCH, less than the {} to stake; get more VOUCH first",
            alloy::primitives::utils::format_ether(balance),
            alloy::primitives::utils::format_ether(amount)
        )));
    }
    let allowance = chain
        .token()
        .allowance(me, staking)
        .call()
        .await
        .map_err(HostError::read("reading the VOUCH allowance"))?;
    let approve = if allowance < amount {
        let request = chain
            .token()
            .approve(staking, amount)
            .into_transaction_request();
        Some(send(tx, "approve", request, None).await?)
    } else {
        None
    };
    let request = chain.staking().stake(amount).into_transaction_request();
    let stake = send(tx, "stake", request, None).await?;
    Ok(Staked { approve, stake })
}

/// Moves `amount` of active stake to unbonding (withdrawable after the unbonding period).
pub async fn unstake(chain: &Chain, tx: &TxManager, amount: U256) -> Result<Landed> {
    if amount.is_zero() {
        return Err(HostError::Invalid(
            "the amount to unstake is zero; give a positive amount".into(),
        ));
    }
    send(
        tx,
        "requestUnstake",
        chain
            .staking()
            .requestUnstake(amount)
            .into_transaction_request(),
        None,
    )
    .await
}

/// Withdraws the stake whose unbonding ended (what unfinished jobs do not lock).
pub async fn withdraw(chain: &Chain, tx: &TxManager) -> Result<Landed> {
    send(
        tx,
        "withdraw",
        chain.staking().withdraw().into_transaction_request(),
        None,
    )
    .await
}

/// Registers the sender as a node (needs the minimum active stake).
pub async fn register(chain: &Chain, tx: &TxManager, node: &Registration) -> Result<Landed> {
    let region = region_bytes(&node.region)?;
    if node.models.is_empty() {
        return Err(HostError::Invalid(
            "no models given; name at least one with --models".into(),
        ));
    }
    if node.price_per_token.bit_len() > 96 {
        return Err(HostError::Invalid(format!(
            "price {} wei per token does not fit 96 bits",
            node.price_per_token
        )));
    }
    let price = Uint::<96, 2>::from(node.price_per_token.to::<u128>());
    let request = chain
        .registry()
        .register(node.endpoint.clone(), region, node.models.clone(), price)
        .into_transaction_request();
    send(tx, "register", request, None).await
}

/// Names `operator` (the keeper's hot key) for the sender's node; the zero address removes it.
pub async fn set_operator(chain: &Chain, tx: &TxManager, operator: Address) -> Result<Landed> {
    send(
        tx,
        "setOperator",
        chain
            .registry()
            .setOperator(operator)
            .into_transaction_request(),
        None,
    )
    .await
}

/// Claims job `id` for `host` (the sender is the host or its operator).
pub async fn claim_job(chain: &Chain, tx: &TxManager, id: U256, host: Address) -> Result<Landed> {
    send(
        tx,
        "claimJob",
        chain
            .marketplace()
            .claimJob(id, host)
            .into_transaction_request(),
        None,
    )
    .await
}

/// Releases the payments of `host`'s completed jobs whose dispute window has ended, then
/// withdraws the ETH the marketplace holds for the sender (the host).
pub async fn claim_payments(chain: &Chain, tx: &TxManager, host: Address) -> Result<Collected> {
    let (_, now) = chain.head().await?;
    let mut collected = Collected::default();
    let releasable = releasable_jobs(chain, host, now).await?;
    for chunk in releasable.chunks(RELEASE_CHUNK) {
        let request = chain
            .marketplace()
            .releasePayments(chunk.to_vec())
            .into_transaction_request();
        collected
            .transactions
            .push(send(tx, "releasePayments", request, None).await?);
        collected.released.extend_from_slice(chunk);
    }
    let me = tx.from();
    let claimable = chain
        .marketplace()
        .claimable(me, ETH)
        .call()
        .await
        .map_err(HostError::read("reading the claimable payments"))?;
    if !claimable.is_zero() {
        let request = chain.marketplace().withdraw(ETH).into_transaction_request();
        collected
            .transactions
            .push(send(tx, "withdraw payments", request, None).await?);
        collected.withdrawn = claimable;
    }
    Ok(collected)
}

/// Every job `host` ever claimed, with its current state, in claim order.
pub async fn jobs_of(
    chain: &Chain,
    host: Address,
) -> Result<
    Vec<(
        U256,
        vouch_bindings::contracts::job_marketplace::IJobMarketplace::Job,
    )>,
> {
    let (head, _) = chain.head().await?;
    let claimed = chain
        .logs::<JobMarketplace::JobClaimed>(
            chain.deployment.contracts.job_marketplace,
            None,
            Some(address_topic(host)),
            chain.deployment.start_block,
            head,
        )
        .await?;
    let mut jobs = Vec::with_capacity(claimed.len());
    for (event, _) in claimed {
        let job = chain
            .marketplace()
            .getJob(event.jobId)
            .call()
            .await
            .map_err(HostError::read("reading a job"))?;
        jobs.push((event.jobId, job));
    }
    Ok(jobs)
}

/// `host`'s completed jobs whose dispute window ended before `now` (payable now).
async fn releasable_jobs(chain: &Chain, host: Address, now: u64) -> Result<Vec<U256>> {
    let mut ids = Vec::new();
    for (id, job) in jobs_of(chain, host).await? {
        if crate::host::job::status_of(&job) != crate::host::job::JobStatus::Completed {
            continue;
        }
        let ends = chain
            .marketplace()
            .disputeWindowEnd(id)
            .call()
            .await
            .map_err(HostError::read("reading a dispute window"))?;
        if U256::from(now) > ends {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// A region name as the registry's `bytes16`, right-padded with zeros.
pub fn region_bytes(region: &str) -> Result<FixedBytes<16>> {
    if region.is_empty() || region.len() > 16 {
        return Err(HostError::Invalid(format!(
            "region {region:?} must be 1 to 16 bytes (e.g. eu-west-1)"
        )));
    }
    Ok(FixedBytes::<16>::right_padding_from(region.as_bytes()))
}

/// The region back as text (trailing zeros dropped).
pub fn region_text(region: &FixedBytes<16>) -> String {
    let bytes: Vec<u8> = region.iter().copied().take_while(|b| *b != 0).collect();
    String::from_utf8_lossy(&bytes).into_owned()
}

/// A model as the registry names it: a 0x-prefixed 32-byte hash as given, any other text
/// hashed with keccak256 (the model's name, e.g. `llama-3-8b-instruct-q4`).
pub fn model_hash(model: &str) -> Result<B256> {
    if model.is_empty() {
        return Err(HostError::Invalid(
            "an empty model name; give a name or a 0x hash".into(),
        ));
    }
    if let Some(hex) = model.strip_prefix("0x") {
        return hex
            .parse::<B256>()
            .ok()
            .filter(|_| hex.len() == 64)
            .ok_or_else(|| {
                HostError::Invalid(format!(
                    "model {model} is not a 32-byte hash (0x and 64 hex digits)"
                ))
            });
    }
    Ok(alloy::primitives::keccak256(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regions_and_models_parse_or_say_what_is_wrong() {
        let r = region_bytes("eu-west-1").unwrap();
        assert_eq!(&r[..9], b"eu-west-1");
        assert_eq!(&r[9..], &[0u8; 7]);
        assert_eq!(region_text(&r), "eu-west-1");
        assert_eq!(
            region_bytes("a-region-name-too-long")
                .unwrap_err()
                .to_string(),
            "region \"a-region-name-too-long\" must be 1 to 16 bytes (e.g. eu-west-1)"
        );
        assert_eq!(
            model_hash("llama-3-8b-instruct-q4").unwrap(),
            alloy::primitives::keccak256("llama-3-8b-instruct-q4")
        );
        let h = B256::repeat_byte(0xab);
        assert_eq!(model_hash(&h.to_string()).unwrap(), h);
        assert_eq!(
            model_hash("0x1234").unwrap_err().to_string(),
            "model 0x1234 is not a 32-byte hash (0x and 64 hex digits)"
        );
    }
}
