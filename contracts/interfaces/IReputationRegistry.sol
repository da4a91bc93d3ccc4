// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IReputationRegistry
/// @notice A score 0..1000 per host, 500 for a newcomer. Outcomes move it; with time it decays
///         back toward 500 (half-life, computed lazily on read). The effective score adds a
///         bounded boost for stake.
interface IReputationRegistry {
    enum Outcome {
        Completion,
        Expiry,
        DisputeUpheld,
        Equivocation
    }

    event ReputationChanged(
        address indexed host, Outcome indexed outcome, uint256 count, uint16 oldScore, uint16 newScore
    );
    event DeltaSet(Outcome indexed outcome, int16 delta);
    event HalfLifeSet(uint64 halfLife);
    event StakeBoostSet(uint16 maxBoost, uint256 fullBoostStake);

    error InvalidParameter();
    error ZeroCount();

    /// @notice Applies `count` times the outcome's delta (after decay). Writer role only.
    function record(address host, Outcome outcome, uint256 count) external;

    /// @notice The decayed score without the stake boost.
    function scoreOf(address host) external view returns (uint16);
    /// @notice The decayed score plus the stake boost, capped at 1000.
    function effectiveScoreOf(address host) external view returns (uint16);
    function stakeBoostOf(address host) external view returns (uint16);
    function deltaOf(Outcome outcome) external view returns (int16);
    function halfLife() external view returns (uint64);
}
