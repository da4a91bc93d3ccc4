// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IReputationRegistry
/// @notice A score 0..1000 per host, 500 for a newcomer. Outcomes move it; with time it decays
///         back toward 500 (half-life, computed lazily on read). The effective score adds a
///         bounded boost for stake.
/// @dev Outcomes carry a weight in basis points of one full outcome (10,000): a penalty is
///      recorded at full weight per incident; a completion is weighted by the fee its renter
///      paid (JobMarketplace), so reputation costs what it is worth. Fractions of a point are
///      carried over per host until they add up to a whole point.
interface IReputationRegistry {
    enum Outcome {
        Completion,
        Expiry,
        DisputeUpheld,
        Equivocation
    }

    /// @notice `weight` is in basis points of one full outcome (10,000 = one incident, or one
    ///         completion that paid the full credit fee); the score moved by delta x weight /
    ///         10,000 plus any carried fraction, after decay.
    event ReputationChanged(
        address indexed host, Outcome indexed outcome, uint256 weight, uint16 oldScore, uint16 newScore
    );
    event DeltaSet(Outcome indexed outcome, int16 delta);
    event HalfLifeSet(uint64 halfLife);
    event StakeBoostSet(uint16 maxBoost, uint256 fullBoostStake);

    error InvalidParameter();
    error ZeroWeight();

    /// @notice Writer role only: applies the outcome's delta x `weight` / 10,000 (after decay).
    /// @dev Emits `ReputationChanged`. Reverts with `ZeroWeight` and the AccessControl error.
    function record(address host, Outcome outcome, uint256 weight) external;

    /// @notice The decayed score without the stake boost.
    function scoreOf(address host) external view returns (uint16);
    /// @notice The decayed score plus the stake boost, capped at 1000.
    function effectiveScoreOf(address host) external view returns (uint16);
    function stakeBoostOf(address host) external view returns (uint16);
    function deltaOf(Outcome outcome) external view returns (int16);
    function halfLife() external view returns (uint64);
}
