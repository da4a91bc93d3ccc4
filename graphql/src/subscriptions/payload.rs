//! The payload of each subscription: the event's own fields plus where it is on the chain
//! (`block`, `txHash`, `logIndex`) and `reverted`. Integers of 256 bits are decimal strings,
//! addresses checksummed, hashes 0x hex.

use async_graphql::SimpleObject;

use super::feed::FeedEvent;

/// An argument as text (strings as they are, numbers and booleans in JSON), "" if absent.
fn s(e: &FeedEvent, name: &str) -> String {
    match e.args.get(name) {
        Some(serde_json::Value::String(x)) => x.clone(),
        Some(v) => v.to_string(),
        None => String::new(),
    }
}

fn n(e: &FeedEvent, name: &str) -> i64 {
    s(e, name).parse().unwrap_or_default()
}

fn zero_to_none(a: String) -> Option<String> {
    (!a.is_empty() && a != "0x0000000000000000000000000000000000000000").then_some(a)
}

/// A new job.
#[derive(SimpleObject, Clone, Debug)]
pub struct JobCreated {
    /// Decimal job id.
    pub job_id: String,
    pub renter: String,
    /// The host it is offered to, if any.
    pub offered_host: Option<String>,
    /// Payment asset, 0x0 for ETH.
    pub token: String,
    /// Decimal.
    pub payment: String,
    /// Decimal.
    pub fee: String,
    /// Unix seconds.
    pub deadline: i64,
    pub min_reputation: i32,
    pub model_hash: String,
    pub input_hash: String,
    pub block: i64,
    pub tx_hash: String,
    pub log_index: i64,
    pub reverted: bool,
}

impl From<&FeedEvent> for JobCreated {
    fn from(e: &FeedEvent) -> Self {
        JobCreated {
            job_id: s(e, "jobId"),
            renter: s(e, "renter"),
            offered_host: zero_to_none(s(e, "offeredHost")),
            token: s(e, "token"),
            payment: s(e, "payment"),
            fee: s(e, "fee"),
            deadline: n(e, "deadline"),
            min_reputation: n(e, "minReputation") as i32,
            model_hash: s(e, "modelHash"),
            input_hash: s(e, "inputHash"),
            block: e.block as i64,
            tx_hash: e.tx_hash.clone(),
            log_index: e.log_index,
            reverted: e.reverted,
        }
    }
}

/// A job entering a state.
#[derive(SimpleObject, Clone, Debug)]
pub struct JobUpdate {
    /// Decimal job id.
    pub job_id: String,
    /// The state the event put the job in: Open, Claimed, Completed, Disputed, Paid, Expired,
    /// Cancelled, Refunded.
    pub state: String,
    /// The marketplace event, e.g. JobClaimed.
    pub event: String,
    /// The claiming host (or the offered host while Open).
    pub host: Option<String>,
    pub renter: String,
    pub block: i64,
    pub tx_hash: String,
    pub log_index: i64,
    pub reverted: bool,
}

impl JobUpdate {
    /// The update a marketplace event means, if it changes a job's state.
    pub fn from_event(e: &FeedEvent) -> Option<JobUpdate> {
        if e.contract != "JobMarketplace" {
            return None;
        }
        let state = match e.event.as_str() {
            "JobCreated" => "Open",
            "JobClaimed" => "Claimed",
            "JobCompleted" => "Completed",
            "JobDisputed" => "Disputed",
            // ISlashing.DisputeStatus: Upheld (2) refunds; Rejected and Lapsed complete.
            "DisputeSettled" if s(e, "outcome") == "2" => "Refunded",
            "DisputeSettled" => "Completed",
            "PaymentReleased" => "Paid",
            "JobExpired" => "Expired",
            "JobCancelled" => "Cancelled",
            _ => return None,
        };
        let parties = e.job.as_ref();
        let host = e
            .arg("host")
            .map(str::to_owned)
            .or_else(|| e.arg("offeredHost").map(str::to_owned))
            .and_then(zero_to_none)
            .or_else(|| parties.and_then(|p| p.host.clone()));
        let renter = e
            .arg("renter")
            .map(str::to_owned)
            .or_else(|| parties.map(|p| p.renter.clone()))
            .unwrap_or_default();
        Some(JobUpdate {
            job_id: s(e, "jobId"),
            state: state.to_owned(),
            event: e.event.clone(),
            host,
            renter,
            block: e.block as i64,
            tx_hash: e.tx_hash.clone(),
            log_index: e.log_index,
            reverted: e.reverted,
        })
    }
}

/// A proof batch accepted by the ProofSystem.
#[derive(SimpleObject, Clone, Debug)]
pub struct BatchProven {
    pub host: String,
    pub submitter: String,
    pub batch_size: i32,
    pub circuit_version: i64,
    /// Decimal.
    pub job_count: String,
    pub proof_hash: String,
    pub block: i64,
    pub tx_hash: String,
    pub log_index: i64,
    pub reverted: bool,
}

impl From<&FeedEvent> for BatchProven {
    fn from(e: &FeedEvent) -> Self {
        BatchProven {
            host: s(e, "host"),
            submitter: s(e, "submitter"),
            batch_size: n(e, "batchSize") as i32,
            circuit_version: n(e, "circuitVersion"),
            job_count: s(e, "jobCount"),
            proof_hash: s(e, "proofHash"),
            block: e.block as i64,
            tx_hash: e.tx_hash.clone(),
            log_index: e.log_index,
            reverted: e.reverted,
        }
    }
}

/// A slash of a host's stake, as it happens (the query side's `Slash` is the stored row).
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "SlashEvent")]
pub struct Slash {
    pub host: String,
    /// MissedDeadline, DisputeUpheld or Equivocation.
    pub reason: String,
    /// Decimal job id.
    pub job_id: String,
    /// Decimal.
    pub amount: String,
    pub beneficiary: String,
    pub beneficiary_share: String,
    pub treasury_share: String,
    pub block: i64,
    pub tx_hash: String,
    pub log_index: i64,
    pub reverted: bool,
}

impl From<&FeedEvent> for Slash {
    fn from(e: &FeedEvent) -> Self {
        let reason = match s(e, "reason").as_str() {
            "0" => "MissedDeadline".to_owned(),
            "1" => "DisputeUpheld".to_owned(),
            "2" => "Equivocation".to_owned(),
            other => other.to_owned(),
        };
        Slash {
            host: s(e, "host"),
            reason,
            job_id: s(e, "jobId"),
            amount: s(e, "amount"),
            beneficiary: s(e, "beneficiary"),
            beneficiary_share: s(e, "beneficiaryShare"),
            treasury_share: s(e, "treasuryShare"),
            block: e.block as i64,
            tx_hash: e.tx_hash.clone(),
            log_index: e.log_index,
            reverted: e.reverted,
        }
    }
}

/// A change of a host's reputation score.
#[derive(SimpleObject, Clone, Debug)]
#[graphql(name = "ReputationChangeEvent")]
pub struct ReputationChange {
    pub host: String,
    /// Completion, Expiry, DisputeUpheld or Equivocation.
    pub outcome: String,
    /// Basis points of one full outcome, decimal.
    pub weight: String,
    pub old_score: i32,
    pub new_score: i32,
    pub block: i64,
    pub tx_hash: String,
    pub log_index: i64,
    pub reverted: bool,
}

impl From<&FeedEvent> for ReputationChange {
    fn from(e: &FeedEvent) -> Self {
        let outcome = match s(e, "outcome").as_str() {
            "0" => "Completion".to_owned(),
            "1" => "Expiry".to_owned(),
            "2" => "DisputeUpheld".to_owned(),
            "3" => "Equivocation".to_owned(),
            other => other.to_owned(),
        };
        ReputationChange {
            host: s(e, "host"),
            outcome,
            weight: s(e, "weight"),
            old_score: n(e, "oldScore") as i32,
            new_score: n(e, "newScore") as i32,
            block: e.block as i64,
            tx_hash: e.tx_hash.clone(),
            log_index: e.log_index,
            reverted: e.reverted,
        }
    }
}
