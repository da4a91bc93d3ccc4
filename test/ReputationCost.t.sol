// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";
import {Vm} from "forge-std/Vm.sol";

/// @notice What buying reputation costs (the review's attack): a fresh host (score 500) rents
///         its own jobs from a SECOND address (neither its staking key nor its operator), proves
///         them, and releases them after the dispute window, until `scoreOf` reads 900. The
///         payment goes back to the host; only the protocol fee is lost. Default parameters
///         (1% fee, +5 per full completion, 1-day dispute window, 30-day half-life).
///
///         Measured here (asserted exactly below):
///         - VOUCH (creditFee = minimumStake / 80 = 12.5 VOUCH, minFee 1 VOUCH): the cheapest
///           full-credit payment is 1250 VOUCH - 99 wei (the 1% fee rounds up to 12.5);
///           500 -> 900 takes 80 jobs (79 leave it at 895) and
///           1000 VOUCH of non-refundable fees, exactly `staking.minimumStake()`.
///         - ETH (creditFee 0.005 ether, minFee 0.0001 ether): the cheapest full-credit payment
///           is 0.5 ether - 99 wei (fee 0.005); 80 jobs (79: 895), 0.4 ether of fees.
///         - ETH at the minimum fee (payment 0.0001 ether, weight 200 bps = 1/50 completion):
///           4000 jobs (50x more) for the same 0.4 ether of fees: below the credit fee a job
///           earns pro rata, so splitting saves nothing (the host is credited 0 per job).
///         - The old attack (jobs of 1 wei rented by the host itself): 1 wei no longer covers
///           the minimum fee, and 80 self-rented jobs, even full-credit ones, earn 0.
///         All jobs of a run are released in ONE releasePayments call (one ReputationChanged), so
///         no decay happens between the gains; releases spread over days would also decay.
contract ReputationCostTest is Fixture {
    address internal constant ETH = address(0);
    uint16 internal constant TARGET = 900;

    address internal sybil = makeAddr("sybil"); // the host's second address

    function setUp() public override {
        super.setUp();
        _registerHost(host);
        vm.deal(sybil, 100 ether);
        token.transfer(sybil, 100_000 ether);
        vm.prank(sybil);
        token.approve(address(marketplace), type(uint256).max);
    }

    /// @dev `n` jobs of `renter_` paying `payment` in `asset`, claimed by the host and proven
    ///      through `prover` in batches of 100, all in the current block time.
    function _rentAndProve(address renter_, address asset, uint96 payment, uint256 n)
        internal
        returns (uint256[] memory ids)
    {
        ids = new uint256[](n);
        uint40 dl = uint40(block.timestamp + 1 hours);
        for (uint256 i; i < n; ++i) {
            vm.prank(renter_);
            ids[i] = marketplace.createJob{value: asset == ETH ? payment : 0}(
                MODEL, INPUT, asset, payment, dl, address(0), 0
            );
            vm.prank(host);
            marketplace.claimJob(ids[i], host);
        }
        for (uint256 start; start < n; start += 100) {
            uint256 len = n - start < 100 ? n - start : 100;
            uint256[] memory batch = new uint256[](len);
            bytes32[] memory outs = new bytes32[](len);
            for (uint256 k; k < len; ++k) {
                batch[k] = ids[start + k];
                outs[k] = keccak256(abi.encode(start + k));
            }
            vm.prank(prover);
            marketplace.completeJobs(host, batch, outs);
        }
    }

    function _slice(uint256[] memory ids, uint256 from, uint256 to) internal pure returns (uint256[] memory s) {
        s = new uint256[](to - from);
        for (uint256 i = from; i < to; ++i) {
            s[i - from] = ids[i];
        }
    }

    /// @dev Releases all but the last job (one call), checks the score is still short of the
    ///      target, then the last one (same block: no decay) reaches it exactly.
    function _releaseToTarget(uint256[] memory ids, uint16 scoreBeforeLast) internal {
        vm.warp(block.timestamp + marketplace.disputeWindow() + 1);
        marketplace.releasePayments(_slice(ids, 0, ids.length - 1));
        assertEq(reputation.scoreOf(host), scoreBeforeLast, "one job short");
        marketplace.releasePayments(_slice(ids, ids.length - 1, ids.length));
        assertEq(reputation.scoreOf(host), TARGET, "target reached");
    }

    function test_cost_vouch_80JobsAndTheMinimumStake() public {
        uint96 payment = 1250 ether - 99; // the fee rounds up: ceil(payment / 100) = 12.5 VOUCH
        uint256 fee = marketplace.feeFor(address(token), payment);
        assertEq(fee, 12.5 ether);
        assertEq(fee, marketplace.assetFees(address(token)).creditFee, "the cheapest full-credit payment");
        assertLt(marketplace.feeFor(address(token), payment - 1), fee, "a wei less falls short");

        assertEq(reputation.scoreOf(host), 500);
        uint256[] memory ids = _rentAndProve(sybil, address(token), payment, 80);
        _releaseToTarget(ids, 895);

        uint256 fees = marketplace.claimable(treasury, address(token));
        assertEq(fees, 80 * 12.5 ether);
        assertEq(fees, 1000 ether);
        assertEq(fees, staking.minimumStake());
        assertGe(fees, staking.minimumStake());
        assertEq(marketplace.claimable(host, address(token)), 80 * (payment - fee)); // the rest comes back
        assertEq(token.balanceOf(sybil), 100_000 ether - 80 * uint256(payment));
    }

    function test_cost_eth_80JobsAndPoint4Ether() public {
        uint96 payment = 0.5 ether - 99; // ceil(payment / 100) = 0.005 ether
        uint256 fee = marketplace.feeFor(ETH, payment);
        assertEq(fee, 0.005 ether);
        assertEq(fee, marketplace.assetFees(ETH).creditFee, "the cheapest full-credit payment");
        assertLt(marketplace.feeFor(ETH, payment - 1), fee);

        uint256[] memory ids = _rentAndProve(sybil, ETH, payment, 80);
        _releaseToTarget(ids, 895);
        assertEq(marketplace.claimable(treasury, ETH), 80 * 0.005 ether);
        assertEq(marketplace.claimable(treasury, ETH), 0.4 ether);
        assertEq(marketplace.claimable(host, ETH), 80 * (0.495 ether - 99));
    }

    /// @dev At the 0.0001 ether minimum fee each job weighs 200 bps (1/50 of a completion):
    ///      50 x 80 = 4000 jobs, for the same 0.4 ether of fees.
    function test_cost_eth_minFeeJobsEarnProRata() public {
        uint96 payment = 0.0001 ether;
        assertEq(marketplace.feeFor(ETH, payment), 0.0001 ether);
        uint256[] memory ids = _rentAndProve(sybil, ETH, payment, 4000);
        vm.warp(block.timestamp + marketplace.disputeWindow() + 1);
        // the first 50 make one completion exactly
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(ids[0], host, ETH, 0, 0.0001 ether, 200);
        marketplace.releasePayments(_slice(ids, 0, 50));
        assertEq(reputation.scoreOf(host), 505);
        marketplace.releasePayments(_slice(ids, 50, 3999));
        assertEq(reputation.scoreOf(host), 899); // 3999 x 0.1 point = 399.9
        marketplace.releasePayments(_slice(ids, 3999, 4000));
        assertEq(reputation.scoreOf(host), TARGET);
        assertEq(marketplace.claimable(treasury, ETH), 4000 * 0.0001 ether);
        assertEq(marketplace.claimable(treasury, ETH), 0.4 ether);
        assertEq(marketplace.claimable(host, ETH), 0);
    }

    /// @dev The old attack: tiny jobs rented by the host itself. 1 wei no longer pays the
    ///      minimum fee, and self-rented jobs (staking key or operator), at the minimum or even
    ///      at the full credit fee, earn nothing.
    function test_oldAttack_selfRentedJobsEarnNothing() public {
        vm.deal(host, 100 ether);
        vm.deal(operator, 100 ether);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.PaymentBelowFee.selector, 1, 0.0001 ether));
        marketplace.createJob{value: 1}(MODEL, INPUT, ETH, 1, uint40(block.timestamp + 1 hours), address(0), 0);

        uint256[] memory cheap = _rentAndProve(host, ETH, 0.0001 ether, 80);
        uint256[] memory full = _rentAndProve(host, ETH, 0.5 ether, 80);
        uint256[] memory viaOperator = _rentAndProve(operator, ETH, 0.5 ether, 80);
        vm.warp(block.timestamp + marketplace.disputeWindow() + 1);
        vm.recordLogs();
        marketplace.releasePayments(cheap);
        marketplace.releasePayments(full);
        marketplace.releasePayments(viaOperator);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 3 * 240); // per job: PaymentReleased and two Credited, no ReputationChanged
        for (uint256 i; i < logs.length; ++i) {
            assertEq(logs[i].emitter, address(marketplace));
        }
        assertEq(reputation.scoreOf(host), 500);
        assertEq(marketplace.claimable(treasury, ETH), 80 * 0.0001 ether + 160 * 0.005 ether);
    }
}
