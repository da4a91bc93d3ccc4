//! A job's status as a Rust enum: the binding carries `IJobMarketplace.Status` as a plain u8,
//! in the order declared there (contracts/interfaces/IJobMarketplace.sol).

use vouch_bindings::contracts::job_marketplace::IJobMarketplace;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    None,
    Open,
    Claimed,
    Completed,
    Disputed,
    Paid,
    Expired,
    Cancelled,
    Refunded,
    /// A value a newer contract might add.
    Unknown(u8),
}

impl From<u8> for JobStatus {
    fn from(status: u8) -> Self {
        match status {
            0 => JobStatus::None,
            1 => JobStatus::Open,
            2 => JobStatus::Claimed,
            3 => JobStatus::Completed,
            4 => JobStatus::Disputed,
            5 => JobStatus::Paid,
            6 => JobStatus::Expired,
            7 => JobStatus::Cancelled,
            8 => JobStatus::Refunded,
            n => JobStatus::Unknown(n),
        }
    }
}

/// The status of a job read with `getJob`.
pub fn status_of(job: &IJobMarketplace::Job) -> JobStatus {
    job.status.into()
}
