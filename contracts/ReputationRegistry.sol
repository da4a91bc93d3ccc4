// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IReputationRegistry} from "./interfaces/IReputationRegistry.sol";
import {IStaking} from "./interfaces/IStaking.sol";

/// @title ReputationRegistry
/// @notice Scores 0..1000 per host. A stored score decays toward the neutral 500 with a governed
///         half-life; the decay is computed when read, so an idle host costs nothing.
contract ReputationRegistry is IReputationRegistry, AccessControl {
    bytes32 public constant WRITER_ROLE = keccak256("WRITER_ROLE");

    uint16 public constant MAX_SCORE = 1000;
    uint16 public constant NEUTRAL_SCORE = 500;
    uint64 public constant MIN_HALF_LIFE = 1 hours;
    uint64 public constant MAX_HALF_LIFE = 3650 days;
    uint16 public constant MAX_STAKE_BOOST = 200;
    /// @notice The weight of one full outcome.
    uint256 public constant FULL_WEIGHT = 10_000;

    /// @dev ln(2) as an 18-decimal fixed-point number.
    uint256 private constant LN2 = 693147180559945309;
    uint256 private constant ONE = 1e18;

    struct Record {
        uint16 score; // at updatedAt
        uint40 updatedAt; // 0: never scored, the host sits at NEUTRAL_SCORE
        uint16 carry; // a gain's fraction of a point not yet applied, in 1/FULL_WEIGHT points
    }

    IStaking public immutable staking;

    uint64 public override halfLife = 30 days;
    uint16 public maxStakeBoost = 50;
    uint256 public fullBoostStake = 10_000 ether;

    mapping(Outcome => int16) private _delta;
    mapping(address host => Record) private _records;

    constructor(IStaking staking_, address admin) {
        staking = staking_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _delta[Outcome.Completion] = 5;
        _delta[Outcome.Expiry] = -30;
        _delta[Outcome.DisputeUpheld] = -60;
        _delta[Outcome.Equivocation] = -200;
    }

    /// @inheritdoc IReputationRegistry
    /// @dev Gains keep their fraction of a point (`carry`), so many small completions add up
    ///      exactly; a loss is applied in whole points, rounded away from zero, and drops the
    ///      carried fraction.
    function record(address host, Outcome outcome, uint256 weight) external override onlyRole(WRITER_ROLE) {
        if (weight == 0) revert ZeroWeight();
        // Past 1000 full outcomes the score is pinned at a bound anyway; the cap keeps the
        // arithmetic far from overflow.
        if (weight > MAX_SCORE * FULL_WEIGHT) weight = MAX_SCORE * FULL_WEIGHT;
        Record storage r = _records[host];
        uint16 old = scoreOf(host);
        int256 delta = _delta[outcome];
        int256 next;
        uint16 carry = 0;
        if (delta >= 0) {
            uint256 scaled = uint256(delta) * weight + r.carry;
            next = int256(uint256(old) + scaled / FULL_WEIGHT);
            carry = uint16(scaled % FULL_WEIGHT);
        } else {
            uint256 loss = (uint256(-delta) * weight + FULL_WEIGHT - 1) / FULL_WEIGHT;
            next = int256(uint256(old)) - int256(loss);
        }
        uint16 updated = next < 0 ? 0 : (next > int256(uint256(MAX_SCORE)) ? MAX_SCORE : uint16(uint256(next)));
        // At the top a fraction could only push past 1000; at 0 it must add up like anywhere.
        if (updated == MAX_SCORE) carry = 0;
        _records[host] = Record({score: updated, updatedAt: uint40(block.timestamp), carry: carry});
        emit ReputationChanged(host, outcome, weight, old, updated);
    }

    // ---- governance -------------------------------------------------------------------------

    function setDelta(Outcome outcome, int16 delta) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (delta > int16(MAX_SCORE) || delta < -int16(MAX_SCORE)) revert InvalidParameter();
        _delta[outcome] = delta;
        emit DeltaSet(outcome, delta);
    }

    function setHalfLife(uint64 halfLife_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (halfLife_ < MIN_HALF_LIFE || halfLife_ > MAX_HALF_LIFE) revert InvalidParameter();
        halfLife = halfLife_;
        emit HalfLifeSet(halfLife_);
    }

    function setStakeBoost(uint16 maxBoost, uint256 fullBoostStake_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (maxBoost > MAX_STAKE_BOOST || fullBoostStake_ == 0) revert InvalidParameter();
        maxStakeBoost = maxBoost;
        fullBoostStake = fullBoostStake_;
        emit StakeBoostSet(maxBoost, fullBoostStake_);
    }

    // ---- views ------------------------------------------------------------------------------

    /// @inheritdoc IReputationRegistry
    function scoreOf(address host) public view override returns (uint16) {
        Record memory r = _records[host];
        if (r.updatedAt == 0) return NEUTRAL_SCORE;
        return decay(r.score, block.timestamp - r.updatedAt, halfLife);
    }

    /// @inheritdoc IReputationRegistry
    function effectiveScoreOf(address host) external view override returns (uint16) {
        uint256 s = uint256(scoreOf(host)) + stakeBoostOf(host);
        return s > MAX_SCORE ? MAX_SCORE : uint16(s);
    }

    /// @inheritdoc IReputationRegistry
    /// @dev Linear in stake up to `fullBoostStake`, then flat at `maxStakeBoost`.
    function stakeBoostOf(address host) public view override returns (uint16) {
        uint256 stake = staking.activeStakeOf(host);
        if (stake >= fullBoostStake) return maxStakeBoost;
        return uint16(stake * maxStakeBoost / fullBoostStake);
    }

    function deltaOf(Outcome outcome) external view override returns (int16) {
        return _delta[outcome];
    }

    /// @notice `score` moved toward 500 by `elapsed` seconds of decay: the distance to 500 halves
    ///         every `halfLife_`. Whole half-lives shift exactly; the fraction uses exp(-x) by
    ///         its series (8 terms: relative error below 1e-6). Rounds toward 500.
    function decay(uint16 score, uint256 elapsed, uint64 halfLife_) public pure returns (uint16) {
        if (score == NEUTRAL_SCORE || elapsed == 0) return score;
        bool above = score > NEUTRAL_SCORE;
        uint256 distance = above ? score - NEUTRAL_SCORE : NEUTRAL_SCORE - score;
        uint256 halvings = elapsed / halfLife_;
        if (halvings >= 16) return NEUTRAL_SCORE; // 500 >> 9 is already 0
        uint256 x = (elapsed % halfLife_) * LN2 / halfLife_; // in [0, ln2)
        // One rounding only: shifting first would drop up to a point before scaling.
        distance = distance * _expNeg(x) / (ONE << halvings);
        return uint16(above ? NEUTRAL_SCORE + distance : NEUTRAL_SCORE - distance);
    }

    /// @dev e^-x for x in [0, 1) as 18-decimal fixed point, by the alternating Taylor series.
    function _expNeg(uint256 x) private pure returns (uint256) {
        uint256 term = ONE;
        uint256 sum = ONE;
        for (uint256 k = 1; k <= 8; ++k) {
            term = term * x / ONE / k;
            if (k % 2 == 1) sum -= term;
            else sum += term;
        }
        return sum;
    }
}
