// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IJobMarketplace} from "./interfaces/IJobMarketplace.sol";
import {ISlashing} from "./interfaces/ISlashing.sol";
import {PauseControl} from "./utils/PauseControl.sol";

/// @title Staking
/// @notice Holds hosts' VOUCH stake. The token balance of this contract always equals
///         `totalStaked`, the sum of every position's active and unbonding stake.
contract Staking is IStaking, AccessControl, PauseControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant SLASHER_ROLE = keccak256("SLASHER_ROLE");

    /// @notice Bounds governance cannot leave: a zero unbonding period would let a host escape a
    ///         slash by withdrawing first.
    uint64 public constant MIN_UNBONDING_PERIOD = 1 days;
    uint64 public constant MAX_UNBONDING_PERIOD = 90 days;
    /// @notice Bounds the marketplaces a withdrawal asks about (a loop over them).
    uint256 public constant MAX_MARKETPLACES = 4;

    IERC20 public immutable override token;

    uint256 public override minimumStake = 1000 ether;
    uint64 public override unbondingPeriod = 7 days;
    uint256 public override totalStaked;
    /// @notice The current marketplace (the last set); its slashing contract sizes the lock.
    IJobMarketplace public marketplace;
    /// @dev Every marketplace whose unfinished jobs lock withdrawals: a switch keeps the old one
    ///      here until it has no unfinished job, so its jobs stay backed by stake.
    IJobMarketplace[] private _marketplaces;

    mapping(address staker => Position) private _positions;
    /// @dev The slashable stake before the first withdrawal made during unfinished jobs; kept
    ///      until the staker next acts with no unfinished job (see `slashBaseOf`).
    mapping(address staker => uint256) private _slashBase;

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
        _clearSlashBaseIfIdle(msg.sender);
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
        _clearSlashBaseIfIdle(msg.sender);
    }

    /// @inheritdoc IStaking
    /// @dev Not pausable: a pause must never trap stake whose unbonding has ended. The lock
    ///      keeps only what unfinished jobs could still cost (active stake counts first), so a
    ///      long job or a slow dispute cannot outlast the unbonding period and leave nothing to
    ///      slash, nor freeze more than it puts at risk.
    function withdraw() external override nonReentrant returns (uint256 amount) {
        Position storage p = _positions[msg.sender];
        uint256 unbonding = p.unbonding;
        if (unbonding == 0) revert NothingToWithdraw();
        if (block.timestamp < p.releaseAt) revert StillUnbonding(p.releaseAt);
        uint256 jobs = _unfinishedJobs(msg.sender);
        uint256 slashable = uint256(p.active) + unbonding;
        uint256 locked = _locked(msg.sender, jobs, slashable);
        uint256 free = slashable - locked;
        amount = unbonding < free ? unbonding : free;
        if (amount == 0) revert StakeLocked(locked);
        // Slashes are a share of the stake: without a fixed base, each withdrawal would shrink
        // the next lock and the slashes the open jobs can bring, until nothing is left.
        if (jobs != 0) {
            if (slashable > _slashBase[msg.sender]) _setSlashBase(msg.sender, slashable);
        } else if (_slashBase[msg.sender] != 0) {
            _setSlashBase(msg.sender, 0);
        }
        p.unbonding = uint128(unbonding - amount);
        if (amount == unbonding) p.releaseAt = 0;
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

    /// @notice Makes `marketplace_` current and adds it to the lock list; the previous one
    ///         stays listed until `removeMarketplace`.
    /// @dev Emits `MarketplaceSet`. Reverts with `InvalidParameter` (zero address) and
    ///      `TooManyMarketplaces`.
    function setMarketplace(IJobMarketplace marketplace_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(marketplace_) == address(0)) revert InvalidParameter();
        if (_indexOf(marketplace_) == type(uint256).max) {
            if (_marketplaces.length == MAX_MARKETPLACES) revert TooManyMarketplaces(MAX_MARKETPLACES);
            _marketplaces.push(marketplace_);
        }
        marketplace = marketplace_;
        emit MarketplaceSet(address(marketplace_));
    }

    /// @notice Drops an old marketplace from the lock list once none of its jobs is unfinished.
    /// @dev Emits `MarketplaceRemoved`. Reverts with `UnknownMarketplace` and `MarketplaceInUse`
    ///      (the current marketplace, or one with unfinished jobs).
    function removeMarketplace(IJobMarketplace old) external onlyRole(DEFAULT_ADMIN_ROLE) {
        uint256 i = _indexOf(old);
        if (i == type(uint256).max) revert UnknownMarketplace(address(old));
        uint256 open = old.totalActiveJobs();
        if (old == marketplace || open != 0) revert MarketplaceInUse(address(old), open);
        _marketplaces[i] = _marketplaces[_marketplaces.length - 1];
        _marketplaces.pop();
        emit MarketplaceRemoved(address(old));
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

    /// @inheritdoc IStaking
    /// @dev jobs x the largest single slash, at most the slashable stake. Successive slashes
    ///      take a share of what is left, so this over-counts several jobs, never under-counts.
    function lockedStakeOf(address staker) public view override returns (uint256) {
        Position storage p = _positions[staker];
        return _locked(staker, _unfinishedJobs(staker), uint256(p.active) + p.unbonding);
    }

    /// @inheritdoc IStaking
    function slashBaseOf(address staker) external view override returns (uint256) {
        Position storage p = _positions[staker];
        uint256 slashable = uint256(p.active) + p.unbonding;
        uint256 base = _slashBase[staker];
        // Kept after the last job ends (its slash comes after the count drops), until the
        // staker's next stake, unstake or withdrawal with no unfinished job clears it.
        return base > slashable ? base : slashable;
    }

    /// @inheritdoc IStaking
    function marketplaces() external view override returns (address[] memory list) {
        list = new address[](_marketplaces.length);
        for (uint256 i = 0; i < list.length; ++i) {
            list[i] = address(_marketplaces[i]);
        }
    }

    function _unfinishedJobs(address staker) private view returns (uint256 jobs) {
        for (uint256 i = 0; i < _marketplaces.length; ++i) {
            jobs += _marketplaces[i].activeJobsOf(staker);
        }
    }

    function _locked(address staker, uint256 jobs, uint256 slashable) private view returns (uint256) {
        if (jobs == 0) return 0;
        ISlashing slashing = marketplace.slashing();
        uint256 perJob = address(slashing) == address(0) ? slashable : slashing.maxSlashAmount(staker);
        uint256 locked = jobs * perJob;
        return locked < slashable ? locked : slashable;
    }

    function _clearSlashBaseIfIdle(address staker) private {
        if (_slashBase[staker] != 0 && _unfinishedJobs(staker) == 0) _setSlashBase(staker, 0);
    }

    function _setSlashBase(address staker, uint256 base) private {
        _slashBase[staker] = base;
        emit SlashBaseSet(staker, base);
    }

    function _indexOf(IJobMarketplace m) private view returns (uint256) {
        for (uint256 i = 0; i < _marketplaces.length; ++i) {
            if (_marketplaces[i] == m) return i;
        }
        return type(uint256).max;
    }
}
