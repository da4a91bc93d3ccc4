//! Which open jobs the watcher claims for its host: a model it serves, ETH payment at or above
//! the host's price floor (net of the protocol fee), offered to the open market or to this
//! host, and enough time left before the deadline to prove and land the result. Pure: no I/O.

use alloy::primitives::{Address, B256, U256};

/// The host's claim policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimPolicy {
    /// Models to claim jobs for (those the host's node serves).
    pub models: Vec<B256>,
    /// The least ETH payment, in wei after the protocol fee, worth claiming.
    pub min_payment_wei: U256,
    /// Seconds that must remain before the deadline at claim time (inference plus proving
    /// plus landing), so a claimed job is not one the host will miss and be slashed for.
    pub min_time_left: u64,
}

/// An open job as `JobCreated` announces it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub model_hash: B256,
    /// Zero for ETH.
    pub token: Address,
    pub payment: U256,
    pub fee: U256,
    pub deadline: u64,
    /// Zero: the open market.
    pub offered_host: Address,
}

/// Why an offer is declined (or that it is taken).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Claim,
    OtherModel,
    /// Paid in a token: the price floor is in ETH.
    NotEth,
    BelowPrice,
    TooLate,
    OfferedToAnother,
}

impl ClaimPolicy {
    /// What to do with `offer` for `host` at chain time `now`.
    pub fn judge(&self, offer: &Offer, host: Address, now: u64) -> Verdict {
        if !offer.offered_host.is_zero() && offer.offered_host != host {
            return Verdict::OfferedToAnother;
        }
        if !self.models.contains(&offer.model_hash) {
            return Verdict::OtherModel;
        }
        if !offer.token.is_zero() {
            return Verdict::NotEth;
        }
        if offer.payment.saturating_sub(offer.fee) < self.min_payment_wei {
            return Verdict::BelowPrice;
        }
        if offer.deadline < now.saturating_add(self.min_time_left) {
            return Verdict::TooLate;
        }
        Verdict::Claim
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_claims_only_what_pays_and_can_be_done_in_time() {
        let model = B256::repeat_byte(1);
        let host = Address::repeat_byte(0xaa);
        let policy = ClaimPolicy {
            models: vec![model],
            min_payment_wei: U256::from(1_000u64),
            min_time_left: 600,
        };
        let good = Offer {
            model_hash: model,
            token: Address::ZERO,
            payment: U256::from(1_100u64),
            fee: U256::from(100u64),
            deadline: 10_600,
            offered_host: Address::ZERO,
        };
        assert_eq!(policy.judge(&good, host, 10_000), Verdict::Claim);
        assert_eq!(
            policy.judge(
                &Offer {
                    offered_host: host,
                    ..good.clone()
                },
                host,
                10_000
            ),
            Verdict::Claim
        );
        assert_eq!(
            policy.judge(
                &Offer {
                    offered_host: Address::repeat_byte(2),
                    ..good.clone()
                },
                host,
                10_000
            ),
            Verdict::OfferedToAnother
        );
        assert_eq!(
            policy.judge(
                &Offer {
                    model_hash: B256::repeat_byte(2),
                    ..good.clone()
                },
                host,
                10_000
            ),
            Verdict::OtherModel
        );
        assert_eq!(
            policy.judge(
                &Offer {
                    token: Address::repeat_byte(3),
                    ..good.clone()
                },
                host,
                10_000
            ),
            Verdict::NotEth
        );
        // 1,099 - 100 = 999 net: one wei under the floor.
        assert_eq!(
            policy.judge(
                &Offer {
                    payment: U256::from(1_099u64),
                    ..good.clone()
                },
                host,
                10_000
            ),
            Verdict::BelowPrice
        );
        assert_eq!(policy.judge(&good, host, 10_001), Verdict::TooLate);
    }
}
