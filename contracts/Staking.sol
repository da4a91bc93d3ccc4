// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IJobMarketplace} from "./interfaces/IJobMarketplace.sol";

/// @title Staking
/// @notice Holds hosts' VOUCH stake. The token balance of this contract always equals
///         `totalStaked`, the sum of every position's active and unbonding stake.
contract Staking is IStaking, AccessControl, Pausable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");

    /// @notice Bounds governance cannot leave: a zero unbonding period would let a host escape a
    ///         slash by withdrawing first.
    uint64 public constant MIN_UNBONDING_PERIOD = 1 days;
    uint64 public constant MAX_UNBONDING_PERIOD = 90 days;

    IERC20 public immutable override token;

    uint256 public override minimumStake = 1000 ether;
    uint64 public override unbondingPeriod = 7 days;
    uint256 public override totalStaked;
    /// @notice Whose unfinished jobs lock a staker's withdrawals.
    IJobMarketplace public marketplace;

    mapping(address staker => Position) private _positions;

    constructor(IERC20 token_, address admin) {
        token = token_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    /// @inheritdoc IStaking
    function stake(uint256 amount) external override nonReentrant whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        Position storage p = _positions[msg.sender];
        if (amount > type(uint128).max - p.active) revert AmountTooLarge(amount);
        uint256 active = uint256(p.active) + amount;
        p.active = uint128(active);
        totalStaked += amount;
        emit Staked(msg.sender, amount, active);
        token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc IStaking
    /// @dev A new request adds to what is already unbonding and restarts the period for all of it.
    function requestUnstake(uint256 amount) external override whenNotPaused {
        if (amount == 0) revert ZeroAmount();
        Position storage p = _positions[msg.sender];
        if (amount > p.active) revert InsufficientActiveStake(amount, p.active);
        p.active -= uint128(amount);
        p.unbonding += uint128(amount);
        uint64 releaseAt = uint64(block.timestamp) + unbondingPeriod;
        p.releaseAt = releaseAt;
        emit UnstakeRequested(msg.sender, amount, p.unbonding, releaseAt);
    }

    /// @inheritdoc IStaking
    /// @dev Not pausable: a pause must never trap stake whose unbonding has ended. Refused while
    ///      the staker has unfinished jobs, so a long job or a slow dispute cannot outlast the
    ///      unbonding period and leave nothing to slash.
    function withdraw() external override nonReentrant returns (uint256 amount) {
        Position storage p = _positions[msg.sender];
        amount = p.unbonding;
        if (amount == 0) revert NothingToWithdraw();
        if (block.timestamp < p.releaseAt) revert StillUnbonding(p.releaseAt);
        if (address(marketplace) != address(0)) {
            uint256 active = marketplace.activeJobsOf(msg.sender);
            if (active != 0) revert StakeLocked(active);
        }
        p.unbonding = 0;
        p.releaseAt = 0;
        totalStaked -= amount;
        emit Withdrawn(msg.sender, amount);
        token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStaking
    /// @dev Works while paused: misbehaviour found during a pause is still punishable.
    function slash(address staker, uint256 amount, address to)
        external
        override
        onlyRole(SLASHER_ROLE)
        nonReentrant
        returns (uint256 slashed)
    {
        Position storage p = _positions[staker];
        uint256 fromActive = amount < p.active ? amount : p.active;
        uint256 rest = amount - fromActive;
        uint256 fromUnbonding = rest < p.unbonding ? rest : p.unbonding;
        p.active -= uint128(fromActive);
        p.unbonding -= uint128(fromUnbonding);
        slashed = fromActive + fromUnbonding;
        totalStaked -= slashed;
        emit StakeSlashed(staker, fromActive, fromUnbonding, to);
        if (slashed != 0) token.safeTransfer(to, slashed);
    }

    // ---- governance -------------------------------------------------------------------------

    function setMinimumStake(uint256 minimumStake_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (minimumStake_ == 0) revert InvalidParameter();
        minimumStake = minimumStake_;
        emit MinimumStakeSet(minimumStake_);
    }

    function setUnbondingPeriod(uint64 unbondingPeriod_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (unbondingPeriod_ < MIN_UNBONDING_PERIOD || unbondingPeriod_ > MAX_UNBONDING_PERIOD) {
            revert InvalidParameter();
        }
        unbondingPeriod = unbondingPeriod_;
        emit UnbondingPeriodSet(unbondingPeriod_);
    }

    function setMarketplace(IJobMarketplace marketplace_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(marketplace_) == address(0)) revert InvalidParameter();
        marketplace = marketplace_;
        emit MarketplaceSet(address(marketplace_));
    }

    function pause() external onlyRole(PAUSER_ROLE) {
        _pause();
    }

    function unpause() external onlyRole(PAUSER_ROLE) {
        _unpause();
    }

    // ---- views ------------------------------------------------------------------------------

    function positionOf(address staker) external view override returns (Position memory) {
        return _positions[staker];
    }

    function activeStakeOf(address staker) external view override returns (uint256) {
        return _positions[staker].active;
    }

    function slashableStakeOf(address staker) external view override returns (uint256) {
        Position storage p = _positions[staker];
        return uint256(p.active) + p.unbonding;
    }

    function hasMinimumStake(address staker) external view override returns (bool) {
        return _positions[staker].active >= minimumStake;
    }
}
