//! EIP-1559 fees: the next block's base fee and the recent priority fees from
//! `eth_feeHistory`, a configured floor for the tip and a cap on the max fee; and the bump a
//! replacement needs (nodes accept a same-nonce replacement only with both fees >= +10%, many
//! require +12.5%).

use alloy::eips::BlockNumberOrTag;
use alloy::providers::{DynProvider, Provider};

use super::error::{Result, TxError};
use super::retry::{self, Backoff};

/// Blocks of fee history read for the priority fee.
const HISTORY_BLOCKS: u64 = 10;
/// The percentile of each block's priority fees used (the median).
const REWARD_PERCENTILE: f64 = 50.0;

/// The two fees of an EIP-1559 transaction, in wei per gas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fees {
    pub max_fee_per_gas: u128,
    pub max_priority_fee_per_gas: u128,
}

/// Fees from the chain's recent history: tip = max(`min_priority`, median tip of the last
/// blocks), max fee = 2 x next base fee + tip (room for six full blocks of base-fee rise),
/// capped at `cap`. Refused when the next base fee alone is above the cap.
pub async fn estimate(
    provider: &DynProvider,
    min_priority: u128,
    cap: u128,
    backoff: &Backoff,
) -> Result<Fees> {
    let history = retry::rpc("eth_feeHistory", backoff, || {
        provider.get_fee_history(HISTORY_BLOCKS, BlockNumberOrTag::Latest, &[REWARD_PERCENTILE])
    })
    .await?;
    let base_fee = history.base_fee_per_gas.last().copied().unwrap_or(0);
    let mut tips: Vec<u128> = history
        .reward
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.first().copied())
        .collect();
    tips.sort_unstable();
    let median_tip = tips.get(tips.len() / 2).copied().unwrap_or(0);
    from_base_fee(base_fee, median_tip.max(min_priority), cap)
}

/// The fees for a next base fee `base_fee` and a tip `priority`, capped at `cap`.
pub fn from_base_fee(base_fee: u128, priority: u128, cap: u128) -> Result<Fees> {
    if base_fee > cap {
        return Err(TxError::FeeCapExceeded { base_fee, cap });
    }
    let max_fee = base_fee.saturating_mul(2).saturating_add(priority).min(cap);
    Ok(Fees {
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: priority.min(max_fee),
    })
}

/// `fee` raised by `percent`, rounded up (so +12.5% of any fee is met by `percent` = 13).
pub fn raise(fee: u128, percent: u32) -> u128 {
    let raised = fee.saturating_mul(100 + percent as u128);
    raised.div_ceil(100).max(fee + 1)
}

/// The fees of a replacement for a transaction sent with `old`: both fees raised by
/// `percent`, or to `current` (today's estimate) where that is higher. `None` when the cap
/// leaves no room for the bump (the transaction then waits as it is).
pub fn bumped(old: Fees, current: Fees, percent: u32, cap: u128) -> Option<Fees> {
    let max_fee = raise(old.max_fee_per_gas, percent).max(current.max_fee_per_gas);
    let priority =
        raise(old.max_priority_fee_per_gas, percent).max(current.max_priority_fee_per_gas);
    if max_fee > cap {
        return None;
    }
    Some(Fees {
        max_fee_per_gas: max_fee,
        max_priority_fee_per_gas: priority.min(max_fee),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const GWEI: u128 = 1_000_000_000;

    #[test]
    fn max_fee_is_twice_the_base_fee_plus_the_tip_under_the_cap() {
        assert_eq!(
            from_base_fee(10 * GWEI, GWEI, 100 * GWEI).unwrap(),
            Fees {
                max_fee_per_gas: 21 * GWEI,
                max_priority_fee_per_gas: GWEI
            }
        );
        assert_eq!(
            from_base_fee(10 * GWEI, GWEI, 15 * GWEI).unwrap(),
            Fees {
                max_fee_per_gas: 15 * GWEI,
                max_priority_fee_per_gas: GWEI
            }
        );
        assert!(matches!(
            from_base_fee(16 * GWEI, GWEI, 15 * GWEI),
            Err(TxError::FeeCapExceeded { base_fee, cap }) if base_fee == 16 * GWEI && cap == 15 * GWEI
        ));
    }

    #[test]
    fn a_bump_of_13_percent_meets_the_12_5_percent_rule_on_both_fees() {
        let old = Fees {
            max_fee_per_gas: 1_000,
            max_priority_fee_per_gas: 8,
        };
        let low = Fees {
            max_fee_per_gas: 1,
            max_priority_fee_per_gas: 1,
        };
        let new = bumped(old, low, 13, u128::MAX).unwrap();
        assert_eq!(new.max_fee_per_gas, 1_130);
        assert_eq!(new.max_priority_fee_per_gas, 10); // 9.04 rounded up
        assert!(new.max_fee_per_gas * 8 >= old.max_fee_per_gas * 9);
        assert!(new.max_priority_fee_per_gas * 8 >= old.max_priority_fee_per_gas * 9);
        // Today's estimate wins when it is higher.
        let high = Fees {
            max_fee_per_gas: 5_000,
            max_priority_fee_per_gas: 50,
        };
        assert_eq!(bumped(old, high, 13, u128::MAX), Some(high));
        // No room under the cap: no replacement.
        assert_eq!(bumped(old, low, 13, 1_100), None);
        // A zero tip still rises.
        assert_eq!(raise(0, 13), 1);
    }
}
