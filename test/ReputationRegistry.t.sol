// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {Vm} from "forge-std/Vm.sol";
import {stdError} from "forge-std/StdError.sol";
import {ReputationRegistry} from "../contracts/ReputationRegistry.sol";
import {IReputationRegistry} from "../contracts/interfaces/IReputationRegistry.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

contract ReputationRegistryTest is Fixture {
    bytes32 internal constant DEFAULT_ADMIN_ROLE = 0x00;
    bytes32 internal WRITER_ROLE;
    uint64 internal constant H = 30 days; // default half-life
    uint256 internal constant FULL_BOOST = 10_000 ether; // default fullBoostStake
    /// @dev The weight of one full outcome, in basis points.
    uint256 internal constant W = 10_000;
    /// @dev The largest weight a record applies (1000 full outcomes).
    uint256 internal constant MAX_WEIGHT = 1000 * W;

    /// @dev Reference arithmetic, independent of the contract's exp(-x) series: 2^-f is a product
    ///      of 2^-(2^-i) over the set bits of f, each root found by repeated integer square roots
    ///      at 36 decimals.
    uint256 internal constant P = 1e36;
    uint256 internal constant BITS = 64;
    uint256[BITS] internal _root; // _root[i] = 2^(-2^-(i+1)) * P
    /// @dev The contract's series for e^-x stops after 8 terms: relative error < 1.1e-7, so < 6e-5
    ///      of a point on a distance of at most 500. Tolerance in P units.
    uint256 internal constant SERIES_TOL = 1e32;

    address internal writer; // the marketplace: one of the two WRITER_ROLE holders in the wiring
    address internal alice = makeAddr("alice");

    IReputationRegistry.Outcome internal constant COMPLETION = IReputationRegistry.Outcome.Completion;
    IReputationRegistry.Outcome internal constant EXPIRY = IReputationRegistry.Outcome.Expiry;
    IReputationRegistry.Outcome internal constant DISPUTE = IReputationRegistry.Outcome.DisputeUpheld;
    IReputationRegistry.Outcome internal constant EQUIVOCATION = IReputationRegistry.Outcome.Equivocation;

    function setUp() public override {
        super.setUp();
        WRITER_ROLE = reputation.WRITER_ROLE();
        writer = address(marketplace);
        uint256 c = Math.sqrt(P * P / 2); // 2^-1/2
        for (uint256 i = 0; i < BITS; ++i) {
            _root[i] = c;
            c = Math.sqrt(c * P);
        }
    }

    // ---- helpers ----------------------------------------------------------------------------

    function _record(address who, IReputationRegistry.Outcome outcome, uint256 weight) internal {
        vm.prank(writer);
        reputation.record(who, outcome, weight);
    }

    /// @dev Sets `who`'s stored score to `s` now (through a one-off delta), restoring the delta.
    function _setScore(address who, uint256 s) internal {
        int16 saved = reputation.deltaOf(COMPLETION);
        reputation.setDelta(COMPLETION, int16(int256(s) - int256(uint256(reputation.scoreOf(who)))));
        _record(who, COMPLETION, W);
        reputation.setDelta(COMPLETION, saved);
        assertEq(reputation.scoreOf(who), s);
    }

    /// @dev distance * 2^(-elapsed/halfLife) in P units, by bit-by-bit exponentiation.
    function _refDistance(uint256 distance, uint256 elapsed, uint256 halfLife) internal view returns (uint256) {
        uint256 k = elapsed / halfLife;
        if (k >= 128) return 0;
        uint256 rem = elapsed % halfLife;
        uint256 f = P;
        for (uint256 i = 0; i < BITS && rem != 0; ++i) {
            rem *= 2;
            if (rem >= halfLife) {
                rem -= halfLife;
                f = f * _root[i] / P;
            }
        }
        return (distance * f) >> k;
    }

    function _dist(uint256 s) internal pure returns (uint256) {
        return s > 500 ? s - 500 : 500 - s;
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    function _clamp(int256 v) internal pure returns (uint16) {
        return v < 0 ? 0 : (v > 1000 ? 1000 : uint16(uint256(v)));
    }

    // ---- the reference itself ---------------------------------------------------------------

    function test_reference_isAccurate() public view {
        // 2^-1/2 and 2^-1/4 to 18 digits, and whole half-lives exactly.
        assertApproxEqAbs(_root[0], 707106781186547524400844362104849039, 1e18);
        assertApproxEqAbs(_root[1], 840896415253714543031125476233214895, 1e18);
        assertEq(_refDistance(200, H, H), 100 * P);
        assertEq(_refDistance(200, 3 * H, H), 25 * P);
        assertApproxEqAbs(_refDistance(200, H / 2, H), 141421356237309504880168872420969807856, 1e18);
    }

    // ---- deployment -------------------------------------------------------------------------

    function test_deployment() public view {
        assertEq(address(reputation.staking()), address(staking));
        assertEq(reputation.halfLife(), 30 days);
        assertEq(reputation.maxStakeBoost(), 50);
        assertEq(reputation.fullBoostStake(), 10_000 ether);
        assertEq(reputation.deltaOf(COMPLETION), 5);
        assertEq(reputation.deltaOf(EXPIRY), -30);
        assertEq(reputation.deltaOf(DISPUTE), -60);
        assertEq(reputation.deltaOf(EQUIVOCATION), -200);
        assertEq(reputation.MAX_SCORE(), 1000);
        assertEq(reputation.NEUTRAL_SCORE(), 500);
        assertEq(reputation.MIN_HALF_LIFE(), 1 hours);
        assertEq(reputation.MAX_HALF_LIFE(), 3650 days);
        assertEq(reputation.MAX_STAKE_BOOST(), 200);
        assertEq(WRITER_ROLE, keccak256("WRITER_ROLE"));
        assertTrue(reputation.hasRole(DEFAULT_ADMIN_ROLE, admin));
        assertTrue(reputation.hasRole(WRITER_ROLE, address(marketplace)));
        assertTrue(reputation.hasRole(WRITER_ROLE, address(slashing)));
        assertFalse(reputation.hasRole(WRITER_ROLE, admin));
        assertFalse(reputation.hasRole(WRITER_ROLE, address(proofSystem)));
        assertTrue(reputation.supportsInterface(type(IAccessControl).interfaceId));
    }

    function test_newcomerIsNeutral() public {
        assertEq(reputation.scoreOf(alice), 500);
        assertEq(reputation.effectiveScoreOf(alice), 500);
        assertEq(reputation.stakeBoostOf(alice), 0);
        vm.warp(block.timestamp + 3650 days);
        assertEq(reputation.scoreOf(alice), 500);
    }

    // ---- record -----------------------------------------------------------------------------

    function test_record_eachOutcome() public {
        IReputationRegistry.Outcome[4] memory outcomes = [COMPLETION, EXPIRY, DISPUTE, EQUIVOCATION];
        uint16[4] memory expected = [505, 470, 440, 300];
        for (uint256 i = 0; i < 4; ++i) {
            address h = address(uint160(0x1000 + i));
            vm.expectEmit(address(reputation));
            emit IReputationRegistry.ReputationChanged(h, outcomes[i], W, 500, expected[i]);
            _record(h, outcomes[i], W);
            assertEq(reputation.scoreOf(h), expected[i]);
        }
    }

    function test_record_weightMultiplies() public {
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 10 * W, 500, 550);
        _record(alice, COMPLETION, 10 * W);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, EXPIRY, 3 * W, 550, 460);
        _record(alice, EXPIRY, 3 * W);
        assertEq(reputation.scoreOf(alice), 460);
        // Fractions of a full outcome: 2.5 x 5 = 12.5 points, 12 applied now.
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 25_000, 460, 472);
        _record(alice, COMPLETION, 25_000);
        // A loss of 1.5 x 30 = 45 points exactly.
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, EXPIRY, 15_000, 472, 427);
        _record(alice, EXPIRY, 15_000);
    }

    function test_record_clampsAtBounds() public {
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, EQUIVOCATION, 3 * W, 500, 0);
        _record(alice, EQUIVOCATION, 3 * W);
        assertEq(reputation.scoreOf(alice), 0);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, EXPIRY, W, 0, 0);
        _record(alice, EXPIRY, W);

        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 250 * W, 0, 1000);
        _record(alice, COMPLETION, 250 * W);
        assertEq(reputation.scoreOf(alice), 1000);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, W, 1000, 1000);
        _record(alice, COMPLETION, W);
    }

    /// @dev The weight is capped at 1000 full outcomes (the event reports the capped weight):
    ///      the smallest delta still spans the whole range.
    function test_record_hugeWeight_capped() public {
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, MAX_WEIGHT, 500, 1000);
        _record(alice, COMPLETION, type(uint256).max);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, EXPIRY, MAX_WEIGHT, 1000, 0);
        _record(alice, EXPIRY, type(uint256).max);
        reputation.setDelta(COMPLETION, 1);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, MAX_WEIGHT, 0, 1000);
        _record(alice, COMPLETION, MAX_WEIGHT + 1);
        assertEq(reputation.scoreOf(alice), 1000);
        reputation.setDelta(EXPIRY, -1);
        _record(alice, EXPIRY, 1001 * W);
        assertEq(reputation.scoreOf(alice), 0);
        _record(alice, COMPLETION, 999 * W);
        assertEq(reputation.scoreOf(alice), 999);
        // Exactly at the cap, and one basis point under it (999 points and 0.9999 carried).
        _setScore(alice, 0);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, MAX_WEIGHT - 1, 0, 999);
        _record(alice, COMPLETION, MAX_WEIGHT - 1);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 1, 999, 1000);
        _record(alice, COMPLETION, 1); // the carried 9999 + 1 make the last point
    }

    function test_record_zeroDelta() public {
        reputation.setDelta(COMPLETION, 0);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 7, 500, 500);
        _record(alice, COMPLETION, 7);
        assertEq(reputation.scoreOf(alice), 500);
    }

    function test_record_revertsOnZeroWeight() public {
        vm.prank(writer);
        vm.expectRevert(IReputationRegistry.ZeroWeight.selector);
        reputation.record(alice, COMPLETION, 0);
    }

    function test_record_onlyWriter() public {
        address[4] memory callers = [stranger, admin, alice, address(proofSystem)];
        for (uint256 i = 0; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(_unauthorized(callers[i], WRITER_ROLE));
            reputation.record(alice, COMPLETION, W);
        }
        // Both wired writers may record.
        vm.prank(address(slashing));
        reputation.record(alice, DISPUTE, W);
        vm.prank(address(marketplace));
        reputation.record(alice, COMPLETION, W);
        assertEq(reputation.scoreOf(alice), 445);
    }

    function test_record_decaysFirstAndRestartsClock() public {
        _setScore(alice, 700);
        vm.warp(block.timestamp + H);
        assertEq(reputation.scoreOf(alice), 600);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, W, 600, 605);
        _record(alice, COMPLETION, W);
        assertEq(reputation.scoreOf(alice), 605);
        // The decay clock restarts at the record: one more half-life halves 105.
        vm.warp(block.timestamp + H);
        assertEq(reputation.scoreOf(alice), 552);

        // From below 500 it decays upward.
        _setScore(alice, 300);
        vm.warp(block.timestamp + H);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, EXPIRY, W, 400, 370);
        _record(alice, EXPIRY, W);
    }

    /// @dev A job paying `payment` ETH, claimed by `host` and completed now.
    function _completedJobPaying(uint96 payment) internal returns (uint256 jobId) {
        vm.prank(renter);
        jobId = marketplace.createJob{value: payment}(
            MODEL, INPUT, address(0), payment, uint40(block.timestamp + 1 hours), address(0), 0
        );
        vm.prank(host);
        marketplace.claimJob(jobId, host);
        _complete(jobId, OUTPUT);
    }

    function _countReputationLogs(Vm.Log[] memory logs) internal view returns (uint256 n) {
        bytes32 topic = IReputationRegistry.ReputationChanged.selector;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == address(reputation) && logs[i].topics[0] == topic) ++n;
        }
    }

    function test_record_throughMarketplace() public {
        // The real writer path: completion alone records nothing; the release records one
        // Completion, weighted by fee / creditFee (0.5 ETH at 1%: 0.005 ETH, the full credit).
        _registerHost(host);
        uint256 jobId = _completedJobPaying(0.5 ether);
        vm.recordLogs();
        uint256 second = _completedJobPaying(0.5 ether);
        assertEq(_countReputationLogs(vm.getRecordedLogs()), 0, "no reputation at completion");
        assertEq(reputation.scoreOf(host), 500);

        vm.warp(block.timestamp + 1 days + 1);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, COMPLETION, W, 500, 505);
        marketplace.releasePayments(_ids(jobId));
        assertEq(reputation.scoreOf(host), 505);

        // The fixture's 0.05 ETH job pays a tenth of the credit fee: half a point, carried.
        uint256 small = _completedJobPaying(PAYMENT);
        uint256 small2 = _completedJobPaying(PAYMENT);
        vm.warp(block.timestamp + 1 days + 1);
        uint16 s0 = reputation.scoreOf(host); // decayed a little
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, COMPLETION, 1000, s0, s0);
        marketplace.releasePayments(_ids(small));
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, COMPLETION, 1000, s0, s0 + 1);
        marketplace.releasePayments(_ids(small2));

        // Several jobs of one host in one release: one record of the summed weight.
        uint256 a = _completedJobPaying(0.5 ether);
        uint256 b = _completedJobPaying(PAYMENT);
        vm.warp(block.timestamp + 1 days + 1);
        uint256[] memory ids = new uint256[](3);
        ids[0] = second;
        ids[1] = a;
        ids[2] = b;
        uint16 s1 = reputation.scoreOf(host);
        vm.recordLogs();
        marketplace.releasePayments(ids);
        assertEq(_countReputationLogs(vm.getRecordedLogs()), 1, "one record per host run");
        assertEq(reputation.scoreOf(host), s1 + 10); // 2.1 x 5 = 10.5: 10 and half a point carried
    }

    // ---- carry: fractions of a point --------------------------------------------------------

    function test_record_carry_fractionsAddUpExactly() public {
        // 20 x 1/20 of a completion (delta +5): a quarter point each, exactly +5 in all.
        for (uint256 i = 1; i <= 20; ++i) {
            uint16 before = reputation.scoreOf(alice);
            uint16 expected = uint16(500 + 2500 * i / W);
            vm.expectEmit(address(reputation));
            emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 500, before, expected);
            _record(alice, COMPLETION, 500);
        }
        assertEq(reputation.scoreOf(alice), 505);
        // Nothing is left over: a further 3 quarters are not yet a point.
        _record(alice, COMPLETION, 1500);
        assertEq(reputation.scoreOf(alice), 505);
        _record(alice, COMPLETION, 500);
        assertEq(reputation.scoreOf(alice), 506);
    }

    function test_record_carry_survivesDecay() public {
        _record(alice, COMPLETION, 1000); // half a point carried
        assertEq(reputation.scoreOf(alice), 500);
        _record(alice, COMPLETION, 20 * W); // +100
        assertEq(reputation.scoreOf(alice), 600);
        vm.warp(block.timestamp + H); // 550, the carry kept
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 1000, 550, 551);
        _record(alice, COMPLETION, 1000);
    }

    function test_record_carry_lossRoundsAwayFromZeroAndClearsCarry() public {
        _record(alice, COMPLETION, 5000); // 2.5 points: 502, half a point carried
        assertEq(reputation.scoreOf(alice), 502);
        // 1 bp of an expiry is 0.003 points: one whole point lost, rounding away from zero.
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, EXPIRY, 1, 502, 501);
        _record(alice, EXPIRY, 1);
        // The carried half was dropped: 2.5 more make 503 (with it they would make 504).
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 5000, 501, 503);
        _record(alice, COMPLETION, 5000);
        // 1.01 expiries: 30.3 points, 31 lost.
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, EXPIRY, 10_100, 503, 472);
        _record(alice, EXPIRY, 10_100);
        // Exact losses are not rounded: 0.5 of an expiry is 15 points.
        _record(alice, EXPIRY, 5000);
        assertEq(reputation.scoreOf(alice), 457);
    }

    function test_record_carry_clearedAtMax() public {
        _setScore(alice, 999);
        // 1.5 points: clamped at 1000, and the half point is not kept.
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 3000, 999, 1000);
        _record(alice, COMPLETION, 3000);
        // Decay (no record) brings it to 750; half a point is only a carry again.
        vm.warp(block.timestamp + H);
        assertEq(reputation.scoreOf(alice), 750);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 1000, 750, 750);
        _record(alice, COMPLETION, 1000);
        _record(alice, COMPLETION, 1000);
        assertEq(reputation.scoreOf(alice), 751);
    }

    /// @dev A score reaches 0 only through a loss (decay moves toward 500), which drops the
    ///      carry in any case; the bound clears it too.
    function test_record_carry_clearedAtZero() public {
        _setScore(alice, 10);
        _record(alice, COMPLETION, 1000); // 10, half a point carried
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, EXPIRY, W, 10, 0);
        _record(alice, EXPIRY, W);
        // The old half point is gone: another half does not make a point.
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 1000, 0, 0);
        _record(alice, COMPLETION, 1000);
        // A whole point from 0 is applied.
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, COMPLETION, 2000, 0, 1);
        _record(alice, COMPLETION, 2000);
    }

    /// @dev Fractions add up exactly from a score of 0 too: 20 quarter points are 5 points,
    ///      the same as one record of their summed weight. FAILS on the current contract: a
    ///      gain that leaves the score at 0 also clears the carry (`updated == 0`), so a host at
    ///      0 whose releases each weigh under a point (e.g. 0.05 ETH jobs released one by one)
    ///      never climbs, while the same jobs released in one batch do.
    function test_record_carry_gainsFromZeroAddUp() public {
        _setScore(alice, 0);
        for (uint256 i = 0; i < 20; ++i) {
            _record(alice, COMPLETION, 500);
        }
        address bob = makeAddr("bob");
        _setScore(bob, 0);
        _record(bob, COMPLETION, 20 * 500);
        assertEq(reputation.scoreOf(bob), 5);
        assertEq(reputation.scoreOf(alice), 5, "small gains from 0 are lost");
    }

    function test_record_carry_isPerHost() public {
        _record(alice, COMPLETION, 1000);
        _record(stranger, COMPLETION, 1000);
        assertEq(reputation.scoreOf(alice), 500);
        assertEq(reputation.scoreOf(stranger), 500);
        _record(alice, COMPLETION, 1000);
        assertEq(reputation.scoreOf(alice), 501);
        assertEq(reputation.scoreOf(stranger), 500);
    }

    /// @dev Many small gains add up to one gain of their summed weight, clamp included (and
    ///      leave the same carry: one more small gain lands both on the same score).
    function testFuzz_record_carry_smallGainsSumExactly(uint256 start, int256 delta, uint256 n, uint256 seed)
        public
    {
        // From 1: a start at 0 hits the carry being cleared at 0 (test_record_carry_gainsFromZeroAddUp).
        start = bound(start, 1, 1000);
        delta = bound(delta, 0, 1000);
        n = bound(n, 1, 40);
        address bob = makeAddr("bob");
        _setScore(alice, start);
        _setScore(bob, start);
        reputation.setDelta(COMPLETION, int16(delta));
        uint256 sum = 0;
        for (uint256 i = 0; i < n; ++i) {
            uint256 w = uint256(keccak256(abi.encode(seed, i))) % W + 1; // 1..10,000
            sum += w;
            _record(alice, COMPLETION, w);
        }
        _record(bob, COMPLETION, sum);
        uint256 expected = start + uint256(delta) * sum / W;
        assertEq(reputation.scoreOf(alice), expected > 1000 ? 1000 : expected, "score");
        assertEq(reputation.scoreOf(alice), reputation.scoreOf(bob), "same as one gain");
        uint256 extra = uint256(keccak256(abi.encode(seed, "extra"))) % W + 1;
        _record(alice, COMPLETION, extra);
        _record(bob, COMPLETION, extra);
        assertEq(reputation.scoreOf(alice), reputation.scoreOf(bob), "same carry");
    }

    function testFuzz_record_clamped(uint256 start, int256 delta, uint256 weight, uint8 outcomeRaw) public {
        start = bound(start, 0, 1000);
        delta = bound(delta, -1000, 1000);
        weight = bound(weight, 1, type(uint256).max);
        IReputationRegistry.Outcome outcome = IReputationRegistry.Outcome(outcomeRaw % 4);
        _setScore(alice, start);
        reputation.setDelta(outcome, int16(delta));
        uint256 applied = weight > MAX_WEIGHT ? MAX_WEIGHT : weight;
        // A gain rounds down (the rest is carried), a loss rounds away from zero.
        int256 change = delta >= 0
            ? int256(uint256(delta) * applied / W)
            : -int256((uint256(-delta) * applied + W - 1) / W);
        uint16 expected = _clamp(int256(start) + change);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(alice, outcome, applied, uint16(start), expected);
        _record(alice, outcome, weight);
        assertEq(reputation.scoreOf(alice), expected);
        assertLe(reputation.scoreOf(alice), 1000);
    }

    // ---- setDelta ---------------------------------------------------------------------------

    function test_setDelta() public {
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.DeltaSet(EXPIRY, -45);
        reputation.setDelta(EXPIRY, -45);
        assertEq(reputation.deltaOf(EXPIRY), -45);
        // Other outcomes are untouched.
        assertEq(reputation.deltaOf(COMPLETION), 5);
        assertEq(reputation.deltaOf(DISPUTE), -60);
        assertEq(reputation.deltaOf(EQUIVOCATION), -200);
        _record(alice, EXPIRY, W);
        assertEq(reputation.scoreOf(alice), 455);

        vm.expectEmit(address(reputation));
        emit IReputationRegistry.DeltaSet(COMPLETION, 1000);
        reputation.setDelta(COMPLETION, 1000);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.DeltaSet(EQUIVOCATION, -1000);
        reputation.setDelta(EQUIVOCATION, -1000);
        assertEq(reputation.deltaOf(COMPLETION), 1000);
        assertEq(reputation.deltaOf(EQUIVOCATION), -1000);
    }

    function test_setDelta_revertsOutOfRange() public {
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setDelta(COMPLETION, 1001);
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setDelta(EQUIVOCATION, -1001);
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setDelta(COMPLETION, type(int16).max);
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setDelta(COMPLETION, type(int16).min);
        assertEq(reputation.deltaOf(COMPLETION), 5);
        assertEq(reputation.deltaOf(EQUIVOCATION), -200);
    }

    function test_setDelta_onlyAdmin() public {
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, DEFAULT_ADMIN_ROLE));
        reputation.setDelta(COMPLETION, 10);
        vm.prank(writer);
        vm.expectRevert(_unauthorized(writer, DEFAULT_ADMIN_ROLE));
        reputation.setDelta(COMPLETION, 10);
    }

    function testFuzz_setDelta(int16 delta, uint8 outcomeRaw) public {
        IReputationRegistry.Outcome outcome = IReputationRegistry.Outcome(outcomeRaw % 4);
        int16 before = reputation.deltaOf(outcome);
        if (delta > 1000 || delta < -1000) {
            vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
            reputation.setDelta(outcome, delta);
            assertEq(reputation.deltaOf(outcome), before);
        } else {
            vm.expectEmit(address(reputation));
            emit IReputationRegistry.DeltaSet(outcome, delta);
            reputation.setDelta(outcome, delta);
            assertEq(reputation.deltaOf(outcome), delta);
        }
    }

    // ---- setHalfLife ------------------------------------------------------------------------

    function test_setHalfLife() public {
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.HalfLifeSet(1 hours);
        reputation.setHalfLife(1 hours);
        assertEq(reputation.halfLife(), 1 hours);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.HalfLifeSet(3650 days);
        reputation.setHalfLife(3650 days);
        assertEq(reputation.halfLife(), 3650 days);
    }

    function test_setHalfLife_appliesLazily() public {
        _setScore(alice, 700);
        vm.warp(block.timestamp + 1 days);
        // Decay is computed on read with the current half-life, over the whole elapsed time.
        reputation.setHalfLife(1 days);
        assertEq(reputation.scoreOf(alice), 600);
        reputation.setHalfLife(12 hours);
        assertEq(reputation.scoreOf(alice), 550);
    }

    function test_setHalfLife_revertsOutOfRange() public {
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setHalfLife(1 hours - 1);
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setHalfLife(3650 days + 1);
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setHalfLife(0);
        assertEq(reputation.halfLife(), 30 days);
    }

    function test_setHalfLife_onlyAdmin() public {
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, DEFAULT_ADMIN_ROLE));
        reputation.setHalfLife(1 days);
    }

    function testFuzz_setHalfLife(uint64 h) public {
        if (h < 1 hours || h > 3650 days) {
            vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
            reputation.setHalfLife(h);
            assertEq(reputation.halfLife(), 30 days);
        } else {
            vm.expectEmit(address(reputation));
            emit IReputationRegistry.HalfLifeSet(h);
            reputation.setHalfLife(h);
            assertEq(reputation.halfLife(), h);
            _setScore(alice, 900);
            vm.warp(block.timestamp + h);
            assertEq(reputation.scoreOf(alice), 700);
        }
    }

    // ---- stake boost ------------------------------------------------------------------------

    function test_stakeBoost_linearThenCapped() public {
        assertEq(reputation.stakeBoostOf(alice), 0);
        _stake(alice, 199.99 ether); // 0.99.. of a point rounds down
        assertEq(reputation.stakeBoostOf(alice), 0);
        _stake(alice, 0.01 ether); // 200 ether
        assertEq(reputation.stakeBoostOf(alice), 1);
        _stake(alice, 4800 ether); // 5000 ether: half of full
        assertEq(reputation.stakeBoostOf(alice), 25);
        assertEq(reputation.effectiveScoreOf(alice), 525);
        _stake(alice, 5000 ether - 1); // one wei short of full
        assertEq(reputation.stakeBoostOf(alice), 49);
        _stake(alice, 1);
        assertEq(reputation.stakeBoostOf(alice), 50);
        _stake(alice, 90_000 ether);
        assertEq(reputation.stakeBoostOf(alice), 50);
        assertEq(reputation.effectiveScoreOf(alice), 550);
        assertEq(reputation.scoreOf(alice), 500);
    }

    function test_stakeBoost_onlyActiveStake() public {
        _stake(alice, FULL_BOOST);
        assertEq(reputation.stakeBoostOf(alice), 50);
        vm.prank(alice);
        staking.requestUnstake(FULL_BOOST / 2);
        assertEq(reputation.stakeBoostOf(alice), 25);
    }

    function test_effectiveScore_cappedAt1000() public {
        _stake(alice, FULL_BOOST);
        _setScore(alice, 960);
        assertEq(reputation.effectiveScoreOf(alice), 1000);
        _setScore(alice, 950);
        assertEq(reputation.effectiveScoreOf(alice), 1000);
        _setScore(alice, 949);
        assertEq(reputation.effectiveScoreOf(alice), 999);
        reputation.setStakeBoost(200, 1);
        _setScore(alice, 1000);
        assertEq(reputation.effectiveScoreOf(alice), 1000);
        _setScore(alice, 0);
        assertEq(reputation.effectiveScoreOf(alice), 200);
    }

    function test_effectiveScore_decays() public {
        _stake(alice, FULL_BOOST);
        _setScore(alice, 700);
        vm.warp(block.timestamp + 2 * H);
        assertEq(reputation.effectiveScoreOf(alice), 600);
    }

    function test_setStakeBoost() public {
        _stake(alice, 500 ether);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.StakeBoostSet(200, 1000 ether);
        reputation.setStakeBoost(200, 1000 ether);
        assertEq(reputation.maxStakeBoost(), 200);
        assertEq(reputation.fullBoostStake(), 1000 ether);
        assertEq(reputation.stakeBoostOf(alice), 100);

        vm.expectEmit(address(reputation));
        emit IReputationRegistry.StakeBoostSet(0, 1);
        reputation.setStakeBoost(0, 1);
        assertEq(reputation.stakeBoostOf(alice), 0);
        assertEq(reputation.effectiveScoreOf(alice), 500);
    }

    function test_setStakeBoost_revertsOnInvalid() public {
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setStakeBoost(201, 1000 ether);
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setStakeBoost(50, 0);
        vm.expectRevert(IReputationRegistry.InvalidParameter.selector);
        reputation.setStakeBoost(type(uint16).max, 1);
        assertEq(reputation.maxStakeBoost(), 50);
        assertEq(reputation.fullBoostStake(), FULL_BOOST);
    }

    function test_setStakeBoost_onlyAdmin() public {
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, DEFAULT_ADMIN_ROLE));
        reputation.setStakeBoost(10, 1 ether);
    }

    function testFuzz_stakeBoost(uint256 amount, uint256 extra, uint16 maxBoost, uint256 full, uint256 score) public {
        maxBoost = uint16(bound(maxBoost, 0, 200));
        full = bound(full, 1, 100_000_000 ether);
        amount = bound(amount, 0, 100_000_000 ether);
        extra = bound(extra, 0, 100_000_000 ether);
        score = bound(score, 0, 1000);
        reputation.setStakeBoost(maxBoost, full);
        _setScore(alice, score);
        if (amount != 0) _stake(alice, amount);
        uint256 expected = amount >= full ? maxBoost : amount * maxBoost / full;
        uint16 boost = reputation.stakeBoostOf(alice);
        assertEq(boost, expected);
        assertLe(boost, maxBoost);
        assertEq(reputation.effectiveScoreOf(alice), Math.min(score + expected, 1000));
        // Monotone in stake.
        if (extra != 0) _stake(alice, extra);
        assertGe(reputation.stakeBoostOf(alice), boost);
        assertLe(reputation.stakeBoostOf(alice), maxBoost);
    }

    // ---- decay ------------------------------------------------------------------------------

    function test_decay_wholeHalfLives() public view {
        assertEq(reputation.decay(700, H, H), 600);
        assertEq(reputation.decay(700, 2 * H, H), 550);
        assertEq(reputation.decay(700, 3 * H, H), 525);
        assertEq(reputation.decay(700, 4 * H, H), 512); // 12.5 rounds toward 500
        assertEq(reputation.decay(300, H, H), 400);
        assertEq(reputation.decay(300, 2 * H, H), 450);
        assertEq(reputation.decay(300, 4 * H, H), 488);
        assertEq(reputation.decay(1000, H, H), 750);
        assertEq(reputation.decay(0, H, H), 250);
        assertEq(reputation.decay(1000, 8 * H, H), 501); // 500/256 = 1.95
        assertEq(reputation.decay(1000, 9 * H, H), 500);
        assertEq(reputation.decay(0, 8 * H, H), 499);
        assertEq(reputation.decay(0, 9 * H, H), 500);
    }

    function test_decay_fractions() public view {
        // 500 + d * 2^-1/2 and 2^-1/4, rounded toward 500.
        assertEq(reputation.decay(700, H / 2, H), 641); // 641.42
        assertEq(reputation.decay(1000, H / 2, H), 853); // 853.55
        assertEq(reputation.decay(0, H / 2, H), 147); // 146.45
        assertEq(reputation.decay(1000, H / 4, H), 920); // 920.45
        assertEq(reputation.decay(700, H + H / 2, H), 570); // 570.71
        assertEq(reputation.decay(501, 1, H), 500); // 0.99999973 of a point
        assertEq(reputation.decay(499, 1, H), 500);
    }

    function test_decay_precisionAfterHalvings() public view {
        // 495 / 16 = 30.9375: one second past four half-lives the real score is 530.9375 less
        // a hair, which rounds to 530; shifting first and scaling after would lose the .9375.
        assertEq(reputation.decay(995, 4 * H + 1, H), 530);
        assertEq(reputation.decay(5, 4 * H + 1, H), 470);
        assertEq(reputation.decay(999, H + 1, H), 749); // 749.5 - tiny
    }

    function test_decay_identities() public view {
        assertEq(reputation.decay(500, 12345, H), 500);
        assertEq(reputation.decay(500, 0, H), 500);
        assertEq(reputation.decay(873, 0, H), 873);
        assertEq(reputation.decay(0, 0, H), 0);
        assertEq(reputation.decay(1000, 16 * H, H), 500);
        assertEq(reputation.decay(1000, 15 * H, H), 500);
        assertEq(reputation.decay(0, type(uint256).max, H), 500);
        assertEq(reputation.decay(1000, type(uint256).max, 1), 500);
    }

    function test_decay_zeroHalfLifeIsOutsideItsDomain() public {
        // Governance keeps halfLife >= 1 hour; the pure helper itself divides by it.
        vm.expectRevert(stdError.divisionError);
        reputation.decay(700, 1, 0);
        assertEq(reputation.decay(500, 1, 0), 500);
        assertEq(reputation.decay(700, 0, 0), 700);
    }

    function test_scoreOf_decaysLazily() public {
        _setScore(alice, 700);
        uint256 t0 = block.timestamp;
        vm.warp(t0 + H);
        assertEq(reputation.scoreOf(alice), 600);
        vm.warp(t0 + 2 * H);
        assertEq(reputation.scoreOf(alice), 550);
        vm.warp(t0 + 2 * H + H / 2);
        assertEq(reputation.scoreOf(alice), 535); // 535.36
        vm.warp(t0 + 100 * H);
        assertEq(reputation.scoreOf(alice), 500);
    }

    function testFuzz_decay_exactAtWholeHalfLives(uint256 score, uint256 k, uint64 h) public view {
        score = bound(score, 0, 1000);
        k = bound(k, 0, 40);
        h = uint64(bound(h, 1 hours, 3650 days));
        uint256 d = _dist(score) >> k;
        uint256 expected = score >= 500 ? 500 + d : 500 - d;
        assertEq(reputation.decay(uint16(score), k * h, h), expected);
    }

    function testFuzz_decay_matchesRealFormula(uint256 score, uint256 elapsed, uint64 h) public view {
        score = bound(score, 0, 1000);
        h = uint64(bound(h, 1 hours, 3650 days));
        elapsed = bound(elapsed, 0, 20 * uint256(h));
        uint16 got = reputation.decay(uint16(score), elapsed, h);
        // Never crosses 500 and never moves away from it.
        if (score >= 500) assertGe(got, 500);
        else assertLe(got, 500);
        uint256 dist = _dist(got);
        assertLe(dist, _dist(score));
        uint256 exact = _refDistance(_dist(score), elapsed, h);
        // Within one point of 500 + (s - 500) * 2^(-t/H), rounded toward 500.
        assertLe(dist * P, exact + SERIES_TOL, "rounds toward 500");
        assertGt(dist * P + P, exact, "within one point");
    }

    function testFuzz_decay_monotoneTowardNeutral(uint256 score, uint256 t1, uint256 t2, uint64 h) public view {
        score = bound(score, 0, 1000);
        h = uint64(bound(h, 1 hours, 3650 days));
        t1 = bound(t1, 0, 20 * uint256(h));
        t2 = bound(t2, t1, 20 * uint256(h));
        uint16 a = reputation.decay(uint16(score), t1, h);
        uint16 b = reputation.decay(uint16(score), t2, h);
        if (score >= 500) {
            assertLe(b, a);
            assertLe(a, score);
            assertGe(b, 500);
        } else {
            assertGe(b, a);
            assertGe(a, score);
            assertLe(b, 500);
        }
    }

    function testFuzz_decay_monotoneAroundHalfLifeBoundaries(uint256 score, uint256 k, uint256 offset) public view {
        // The seams between whole halvings and the fractional part, second by second.
        score = bound(score, 0, 1000);
        k = bound(k, 1, 12);
        offset = bound(offset, 0, 3);
        uint256 t = k * H - 2 + offset;
        uint256 a = _dist(reputation.decay(uint16(score), t, H));
        uint256 b = _dist(reputation.decay(uint16(score), t + 1, H));
        assertLe(b, a);
    }

    function testFuzz_scoreOf_matchesDecay(uint256 score, uint256 elapsed) public {
        score = bound(score, 0, 1000);
        elapsed = bound(elapsed, 0, 40 * uint256(H));
        _setScore(alice, score);
        vm.warp(block.timestamp + elapsed);
        assertEq(reputation.scoreOf(alice), reputation.decay(uint16(score), elapsed, H));
    }
}
