// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";

/// @title IStaking
/// @notice Hosts lock VOUCH to be eligible for jobs. Unstaking goes through an unbonding period
///         during which the stake can still be slashed; only the slashing contract slashes.
interface IStaking {
    /// @notice A staker's position: `active` counts towards eligibility, `unbonding` is on its
    ///         way out (withdrawable from `releaseAt`) and both can be slashed.
    struct Position {
        uint128 active;
        uint128 unbonding;
        uint64 releaseAt;
    }

    event Staked(address indexed staker, uint256 amount, uint256 active);
    event UnstakeRequested(address indexed staker, uint256 amount, uint256 unbonding, uint64 releaseAt);
    event Withdrawn(address indexed staker, uint256 amount);
    /// @notice `fromActive + fromUnbonding` tokens of `staker` were sent to `to` (the slasher).
    event StakeSlashed(address indexed staker, uint256 fromActive, uint256 fromUnbonding, address indexed to);
    event MinimumStakeSet(uint256 minimumStake);
    event UnbondingPeriodSet(uint64 unbondingPeriod);
    event MarketplaceSet(address indexed marketplace);

    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
    error InsufficientActiveStake(uint256 requested, uint256 active);
    error NothingToWithdraw();
    error StillUnbonding(uint64 releaseAt);
    error InvalidParameter();
    /// @notice The staker still has unfinished jobs (claimed, unpaid or disputed): its stake
    ///         must stay slashable until they are final.
    error StakeLocked(uint256 activeJobs);

    function stake(uint256 amount) external;
    function requestUnstake(uint256 amount) external;
    function withdraw() external returns (uint256 amount);
    /// @notice Takes up to `amount` from `staker` (active first, then unbonding) and sends it to
    ///         `to`. Returns what was actually taken. Slasher role only.
    function slash(address staker, uint256 amount, address to) external returns (uint256 slashed);

    /// @notice The staked token (VOUCH).
    function token() external view returns (IERC20);
    function positionOf(address staker) external view returns (Position memory);
    function activeStakeOf(address staker) external view returns (uint256);
    /// @notice active + unbonding: what a slash can reach.
    function slashableStakeOf(address staker) external view returns (uint256);
    function totalStaked() external view returns (uint256);
    function minimumStake() external view returns (uint256);
    function unbondingPeriod() external view returns (uint64);
    function hasMinimumStake(address staker) external view returns (bool);
}
