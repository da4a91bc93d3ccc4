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
    /// @notice `marketplace` became the current marketplace and joined the list whose jobs
    ///         lock withdrawals.
    event MarketplaceSet(address indexed marketplace);
    /// @notice A withdrawal during unfinished jobs fixed `base` as the stake slashes are
    ///         computed on (0: cleared, the staker has no unfinished job any more).
    event SlashBaseSet(address indexed staker, uint256 base);
    /// @notice `marketplace` left the list (it had no unfinished job).
    event MarketplaceRemoved(address indexed marketplace);

    error ZeroAmount();
    error AmountTooLarge(uint256 amount);
    error InsufficientActiveStake(uint256 requested, uint256 active);
    error NothingToWithdraw();
    error StillUnbonding(uint64 releaseAt);
    error InvalidParameter();
    /// @notice All of the staker's slashable stake is locked by its unfinished jobs (claimed,
    ///         unpaid or disputed): it must stay slashable until they are final.
    error StakeLocked(uint256 locked);
    error TooManyMarketplaces(uint256 max);
    error UnknownMarketplace(address marketplace);
    /// @notice A marketplace with unfinished jobs (or the current one) cannot leave the list.
    error MarketplaceInUse(address marketplace, uint256 activeJobs);

    /// @dev Emits `Staked`. Reverts with `ZeroAmount`, `AmountTooLarge`, `EnforcedPause`.
    function stake(uint256 amount) external;
    /// @notice Moves `amount` from active to unbonding and restarts the unbonding period.
    /// @dev Emits `UnstakeRequested`. Reverts with `ZeroAmount`, `InsufficientActiveStake`,
    ///      `EnforcedPause`.
    function requestUnstake(uint256 amount) external;
    /// @notice Withdraws the unbonding stake once released, except what `lockedStakeOf` keeps
    ///         slashable for unfinished jobs (that part stays unbonding). Not pausable.
    /// @dev Emits `Withdrawn`. Reverts with `NothingToWithdraw`, `StillUnbonding`, `StakeLocked`.
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
    /// @notice The stake that must stay slashable for `staker`'s unfinished jobs on every listed
    ///         marketplace: each job may cost at most the largest single slash
    ///         (`ISlashing.maxSlashAmount`), and the lock never exceeds the slashable stake.
    function lockedStakeOf(address staker) external view returns (uint256);
    /// @notice The stake a slash of `staker` is computed on: its slashable stake, or at least
    ///         the slashable stake it had before withdrawing during unfinished jobs, until its
    ///         next stake, unstake request or withdrawal with no unfinished job. So withdrawing
    ///         what the lock leaves free never shrinks the slashes those jobs can still bring.
    function slashBaseOf(address staker) external view returns (uint256);
    /// @notice Every marketplace whose jobs lock withdrawals (the current one last set included).
    function marketplaces() external view returns (address[] memory);
}
