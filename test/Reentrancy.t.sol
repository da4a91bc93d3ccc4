// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {ReentrantActor, ReentrantToken} from "./utils/Attackers.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";
import {ISlashing} from "../contracts/interfaces/ISlashing.sol";
import {IStaking} from "../contracts/interfaces/IStaking.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @notice Malicious ETH receivers (as renter and as host) and a malicious allow-listed ERC20
///         try to re-enter the marketplace and the slashing contract while being paid. Each
///         attempt is refused by the reentrancy guard and every balance comes out exact.
contract ReentrancyTest is Fixture {
    bytes32 internal constant EVIDENCE = keccak256("evidence");
    uint256 internal constant BOND = 0.01 ether;
    address internal constant ETH = address(0);
    uint256 internal constant START = 1 ether; // the attacker's ETH

    ReentrantActor internal actor;
    bytes internal guardError;

    function setUp() public override {
        super.setUp();
        _registerHost(host);
        actor = new ReentrantActor();
        vm.deal(address(actor), START);
        guardError = abi.encodeWithSelector(ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector);
    }

    // ---- helpers ----------------------------------------------------------------------------

    function _dl() internal view returns (uint40) {
        return uint40(block.timestamp + 1 hours);
    }

    function _actorJob() internal returns (uint256 id) {
        vm.prank(address(actor));
        id = marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), 0);
    }

    function _actorCancelled() internal returns (uint256 id) {
        id = _actorJob();
        vm.prank(address(actor));
        marketplace.cancelJob(id);
    }

    function _actorDisputed() internal returns (uint256 id) {
        id = _actorJob();
        vm.prank(host);
        marketplace.claimJob(id, host);
        _complete(id, OUTPUT);
        vm.prank(address(actor));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
    }

    function _registerActorAsHost() internal {
        _stake(address(actor), MIN_STAKE);
        vm.prank(address(actor));
        registry.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
    }

    /// @dev A job of the renter served and completed by the actor as host.
    function _actorHostedJob() internal returns (uint256 id) {
        _registerActorAsHost();
        id = _createJob();
        vm.prank(address(actor));
        marketplace.claimJob(id, address(actor));
        vm.prank(prover);
        marketplace.completeJobs(address(actor), _ids(id), _one(OUTPUT));
    }

    function _one(bytes32 a) internal pure returns (bytes32[] memory o) {
        o = new bytes32[](1);
        o[0] = a;
    }

    function _assertBlocked() internal view {
        assertEq(actor.reentries(), 1, "re-entry attempted");
        assertFalse(actor.lastOk(), "re-entry failed");
        assertEq(actor.lastReturn(), guardError, "by the guard");
    }

    // ---- marketplace.withdraw (ETH) ---------------------------------------------------------

    function test_renter_reentersWithdraw_getsPaidOnce() public {
        _actorCancelled();
        actor.arm(ReentrantActor.Mode.Catch, address(marketplace), 0, abi.encodeCall(marketplace.withdraw, (ETH)));
        vm.prank(address(actor));
        assertEq(marketplace.withdraw(ETH), PAYMENT);

        _assertBlocked();
        assertEq(actor.received(), PAYMENT);
        assertEq(address(actor).balance, START);
        assertEq(address(marketplace).balance, 0);
        assertEq(marketplace.claimable(address(actor), ETH), 0);
        vm.prank(address(actor));
        vm.expectRevert(IJobMarketplace.NothingToWithdraw.selector);
        marketplace.withdraw(ETH);
    }

    function test_renter_reentersWithdraw_bubbling_revertsWholeWithdrawal() public {
        _actorCancelled();
        actor.arm(ReentrantActor.Mode.Bubble, address(marketplace), 0, abi.encodeCall(marketplace.withdraw, (ETH)));
        vm.prank(address(actor));
        vm.expectRevert(IJobMarketplace.TransferFailed.selector);
        marketplace.withdraw(ETH);
        // all undone: the credit is intact and nothing left the contract
        assertEq(marketplace.claimable(address(actor), ETH), PAYMENT);
        assertEq(address(marketplace).balance, PAYMENT);
        assertEq(address(actor).balance, START - PAYMENT);
        assertEq(actor.received(), 0);
    }

    function test_host_reentersWithdraw_getsPaidOnce() public {
        marketplace.setProtocolFee(500);
        uint256 id = _actorHostedJob();
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(id));
        uint256 hostAmount = PAYMENT - PAYMENT * 500 / 10_000;
        assertEq(marketplace.claimable(address(actor), ETH), hostAmount);

        actor.arm(ReentrantActor.Mode.Catch, address(marketplace), 0, abi.encodeCall(marketplace.withdraw, (ETH)));
        vm.prank(address(actor));
        assertEq(marketplace.withdraw(ETH), hostAmount);
        _assertBlocked();
        assertEq(actor.received(), hostAmount);
        assertEq(address(actor).balance, START + hostAmount);
        assertEq(address(marketplace).balance, PAYMENT - hostAmount); // the treasury's fee
        assertEq(marketplace.claimable(treasury, ETH), PAYMENT - hostAmount);
    }

    function test_renter_reentersCreateJob_withRefund() public {
        _actorCancelled();
        actor.arm(
            ReentrantActor.Mode.Catch,
            address(marketplace),
            PAYMENT,
            abi.encodeCall(marketplace.createJob, (MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), uint16(0)))
        );
        vm.prank(address(actor));
        marketplace.withdraw(ETH);
        _assertBlocked();
        assertEq(marketplace.jobCount(), 1);
        assertEq(address(actor).balance, START);
        assertEq(address(marketplace).balance, 0);
        // outside a payment the same call works
        actor.exec(address(marketplace), PAYMENT, abi.encodeCall(marketplace.createJob, (MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), uint16(0))));
        assertEq(marketplace.jobCount(), 2);
        assertEq(marketplace.getJob(2).renter, address(actor));
    }

    function test_renter_reentersExpireJob() public {
        _actorCancelled();
        uint256 overdue = _actorJob();
        vm.prank(host);
        marketplace.claimJob(overdue, host);
        vm.warp(block.timestamp + 1 hours + 1);

        actor.arm(ReentrantActor.Mode.Catch, address(marketplace), 0, abi.encodeCall(marketplace.expireJob, (overdue)));
        vm.prank(address(actor));
        assertEq(marketplace.withdraw(ETH), PAYMENT);
        _assertBlocked();
        assertEq(uint8(_status(overdue)), uint8(IJobMarketplace.Status.Claimed));
        assertEq(marketplace.claimable(address(actor), ETH), 0);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);

        // and outside a payment it expires normally, once
        marketplace.expireJob(overdue);
        assertEq(marketplace.claimable(address(actor), ETH), PAYMENT);
        assertEq(token.balanceOf(address(actor)), 25 ether);
        vm.prank(address(actor));
        marketplace.withdraw(ETH);
        assertEq(address(actor).balance, START);
        assertEq(address(marketplace).balance, 0);
    }

    /// @dev cancelJob has no guard (it only credits): re-entering it is harmless, the actor
    ///      receives exactly what it escrowed and nothing more.
    function test_renter_reentersUnguardedCancel_isHarmless() public {
        _actorCancelled();
        uint256 second = _actorJob();
        actor.arm(ReentrantActor.Mode.Catch, address(marketplace), 0, abi.encodeCall(marketplace.cancelJob, (second)));
        vm.prank(address(actor));
        assertEq(marketplace.withdraw(ETH), PAYMENT);
        assertTrue(actor.lastOk());
        assertEq(uint8(_status(second)), uint8(IJobMarketplace.Status.Cancelled));
        assertEq(marketplace.claimable(address(actor), ETH), PAYMENT);
        vm.prank(address(actor));
        assertEq(marketplace.withdraw(ETH), PAYMENT);
        assertEq(actor.received(), 2 * PAYMENT);
        assertEq(address(actor).balance, START);
        assertEq(address(marketplace).balance, 0);
    }

    // ---- slashing.withdrawBond --------------------------------------------------------------

    function test_renter_reentersWithdrawBond_getsPaidOnce() public {
        uint256 id = _actorDisputed();
        slashing.resolveDispute(id, true);
        assertEq(slashing.bondBalance(address(actor)), BOND);
        actor.arm(ReentrantActor.Mode.Catch, address(slashing), 0, abi.encodeCall(slashing.withdrawBond, ()));
        vm.prank(address(actor));
        assertEq(slashing.withdrawBond(), BOND);
        _assertBlocked();
        assertEq(actor.received(), BOND);
        assertEq(slashing.bondBalance(address(actor)), 0);
        assertEq(address(slashing).balance, 0);
        assertEq(address(actor).balance, START - PAYMENT); // the payment is still credited
        assertEq(marketplace.claimable(address(actor), ETH), PAYMENT);
    }

    function test_host_reentersWithdrawBond_bubbling_revertsWholeWithdrawal() public {
        uint256 id = _actorHostedJob();
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        slashing.resolveDispute(id, false);
        assertEq(slashing.bondBalance(address(actor)), BOND);

        actor.arm(ReentrantActor.Mode.Bubble, address(slashing), 0, abi.encodeCall(slashing.withdrawBond, ()));
        vm.prank(address(actor));
        vm.expectRevert(ISlashing.TransferFailed.selector);
        slashing.withdrawBond();
        assertEq(slashing.bondBalance(address(actor)), BOND);
        assertEq(address(slashing).balance, BOND);
        assertEq(address(actor).balance, START);

        actor.arm(ReentrantActor.Mode.Catch, address(slashing), 0, abi.encodeCall(slashing.withdrawBond, ()));
        vm.prank(address(actor));
        assertEq(slashing.withdrawBond(), BOND);
        _assertBlocked();
        assertEq(address(actor).balance, START + BOND);
    }

    /// @dev The two contracts have separate guards, so a bond withdrawal may call the
    ///      marketplace; each ledger is settled before paying, so nothing is paid twice.
    function test_crossContractReentry_noDoubleSpend() public {
        uint256 id = _actorDisputed();
        slashing.resolveDispute(id, true); // bond and payment both owed to the actor
        actor.arm(ReentrantActor.Mode.Catch, address(marketplace), 0, abi.encodeCall(marketplace.withdraw, (ETH)));
        vm.prank(address(actor));
        assertEq(slashing.withdrawBond(), BOND);
        assertTrue(actor.lastOk());
        assertEq(abi.decode(actor.lastReturn(), (uint256)), PAYMENT);
        assertEq(actor.received(), BOND + PAYMENT);
        assertEq(address(actor).balance, START);
        assertEq(address(slashing).balance, 0);
        assertEq(address(marketplace).balance, 0);

        vm.startPrank(address(actor));
        vm.expectRevert(ISlashing.NothingToWithdraw.selector);
        slashing.withdrawBond();
        vm.expectRevert(IJobMarketplace.NothingToWithdraw.selector);
        marketplace.withdraw(ETH);
        vm.stopPrank();
    }

    // ---- staking.withdraw from inside a payment ---------------------------------------------

    /// @dev The host's stake stays locked inside its own payment callbacks: paid its bond for a
    ///      rejected dispute while the job is still unpaid, it tries to withdraw its matured
    ///      unbonding stake and is refused (StakeLocked); once the job is paid the same re-entry,
    ///      from the marketplace's ETH payment, withdraws exactly once.
    /// @dev The withdrawal lock keeps what an unfinished job could still cost (20% of the
    ///      slashable stake at defaults), no more: a host re-entering Staking.withdraw while
    ///      being paid gets exactly the unlocked part, then the rest once the job is paid.
    function test_host_reentersStakingWithdraw_lockedPartUntilJobPaid() public {
        uint256 id = _actorHostedJob();
        _stake(address(actor), 500 ether);
        vm.prank(address(actor));
        staking.requestUnstake(MIN_STAKE + 500 ether); // everything: 1500 unbonding
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        vm.warp(block.timestamp + 7 days);
        slashing.resolveDispute(id, false); // bond to the host; the job is Completed, unpaid
        assertEq(marketplace.activeJobsOf(address(actor)), 1);
        uint256 locked = 300 ether; // 1 job x 20% of 1500
        assertEq(slashing.maxSlashAmount(address(actor)), locked);
        assertEq(staking.lockedStakeOf(address(actor)), locked);

        bytes memory stakingWithdraw = abi.encodeCall(staking.withdraw, ());
        actor.arm(ReentrantActor.Mode.Catch, address(staking), 0, stakingWithdraw);
        vm.prank(address(actor));
        assertEq(slashing.withdrawBond(), BOND);
        assertEq(actor.reentries(), 1);
        assertTrue(actor.lastOk());
        assertEq(abi.decode(actor.lastReturn(), (uint256)), 1200 ether);
        assertEq(staking.positionOf(address(actor)).unbonding, locked);
        assertEq(token.balanceOf(address(actor)), 1200 ether);

        marketplace.releasePayments(_ids(id));
        assertEq(marketplace.activeJobsOf(address(actor)), 0);
        assertEq(staking.lockedStakeOf(address(actor)), 0);
        uint256 hostAmount = PAYMENT - marketplace.getJob(id).fee;
        actor.arm(ReentrantActor.Mode.Catch, address(staking), 0, stakingWithdraw);
        vm.prank(address(actor));
        assertEq(marketplace.withdraw(ETH), hostAmount);
        assertEq(actor.reentries(), 2);
        assertTrue(actor.lastOk());
        assertEq(abi.decode(actor.lastReturn(), (uint256)), locked);
        assertEq(token.balanceOf(address(actor)), MIN_STAKE + 500 ether);
        assertEq(staking.positionOf(address(actor)).unbonding, 0);
        assertEq(staking.positionOf(address(actor)).releaseAt, 0);
        assertEq(staking.activeStakeOf(address(actor)), 0);
        assertEq(address(actor).balance, START + BOND + hostAmount);
        vm.prank(address(actor));
        vm.expectRevert(IStaking.NothingToWithdraw.selector);
        staking.withdraw();
    }

    /// @dev The review's drain: withdrawing again and again while a disputed job is unpaid.
    ///      The first withdrawal fixes the slash base at the 1500 the host had, so the lock stays
    ///      300 (one job, 20% of 1500): the second withdrawal finds nothing free, and the upheld
    ///      dispute still slashes 10% of 1500 (150 of the 300 left). Without the fixed base the
    ///      lock shrank by four fifths per call (1500 -> 0.48 VOUCH in five calls).
    function test_host_repeatedStakingWithdraw_cannotDrainLockWhileJobActive() public {
        uint256 id = _actorHostedJob();
        _stake(address(actor), 500 ether);
        vm.prank(address(actor));
        staking.requestUnstake(MIN_STAKE + 500 ether);
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        vm.warp(block.timestamp + 7 days);
        assertEq(uint8(marketplace.getJob(id).status), uint8(IJobMarketplace.Status.Disputed));
        vm.prank(address(actor));
        vm.expectEmit(address(staking));
        emit IStaking.SlashBaseSet(address(actor), 1500 ether);
        assertEq(staking.withdraw(), 1200 ether);
        assertEq(staking.slashBaseOf(address(actor)), 1500 ether);
        assertEq(staking.lockedStakeOf(address(actor)), 300 ether);
        vm.prank(address(actor));
        vm.expectRevert(abi.encodeWithSelector(IStaking.StakeLocked.selector, 300 ether));
        staking.withdraw();
        assertEq(staking.slashableStakeOf(address(actor)), 300 ether);
        assertEq(marketplace.activeJobsOf(address(actor)), 1);
        slashing.resolveDispute(id, true);
        assertEq(staking.slashableStakeOf(address(actor)), 150 ether, "10% of the 1500 base");
        // the job is final: the next withdrawal clears the base and takes the rest
        vm.prank(address(actor));
        vm.expectEmit(address(staking));
        emit IStaking.SlashBaseSet(address(actor), 0);
        assertEq(staking.withdraw(), 150 ether);
        assertEq(staking.slashBaseOf(address(actor)), 0);
    }

    // ---- malicious allow-listed ERC20 -------------------------------------------------------

    function _evilToken() internal returns (ReentrantToken t) {
        t = new ReentrantToken(renter, 1_000_000 ether);
        marketplace.setTokenAllowed(address(t), true);
        vm.prank(renter);
        t.approve(address(marketplace), type(uint256).max);
    }

    function test_token_transferFromReentersCreateJob() public {
        ReentrantToken t = _evilToken();
        t.arm(
            address(marketplace),
            abi.encodeCall(marketplace.createJob, (MODEL, INPUT, address(t), 1 ether, _dl(), address(0), uint16(0))),
            false,
            true
        );
        vm.prank(renter);
        vm.expectRevert(guardError);
        marketplace.createJob(MODEL, INPUT, address(t), 100 ether, _dl(), address(0), 0);
        assertEq(marketplace.jobCount(), 0);
        assertEq(t.balanceOf(address(marketplace)), 0);
        assertEq(t.balanceOf(renter), 1_000_000 ether);
    }

    function test_token_transferFromReentersWithdraw() public {
        ReentrantToken t = _evilToken();
        // an earlier job left a credit in the token
        uint256 old = _tokenJob(t, 10 ether);
        vm.prank(renter);
        marketplace.cancelJob(old);
        t.arm(address(marketplace), abi.encodeCall(marketplace.withdraw, (address(t))), false, true);
        vm.prank(renter);
        vm.expectRevert(guardError);
        marketplace.createJob(MODEL, INPUT, address(t), 100 ether, _dl(), address(0), 0);
        assertEq(marketplace.jobCount(), 1);
        assertEq(t.balanceOf(address(marketplace)), 10 ether);
        assertEq(marketplace.claimable(renter, address(t)), 10 ether);
    }

    function test_token_transferReentersWithdraw() public {
        ReentrantToken t = _evilToken();
        uint256 id = _tokenJob(t, 50 ether);
        vm.prank(renter);
        marketplace.cancelJob(id);
        t.arm(address(marketplace), abi.encodeCall(marketplace.withdraw, (address(t))), true, false);
        vm.prank(renter);
        vm.expectRevert(guardError);
        marketplace.withdraw(address(t));
        assertEq(marketplace.claimable(renter, address(t)), 50 ether);
        assertEq(t.balanceOf(address(marketplace)), 50 ether);

        // disarmed: paid exactly once
        t.arm(address(0), "", false, false);
        vm.prank(renter);
        assertEq(marketplace.withdraw(address(t)), 50 ether);
        assertEq(t.balanceOf(renter), 1_000_000 ether);
        assertEq(t.balanceOf(address(marketplace)), 0);
    }

    /// @dev The token's hook drives the renter contract itself to withdraw again, so the nested
    ///      call comes from the account being paid: a real double-withdrawal attempt.
    function test_token_transferMakesRenterWithdrawTwice() public {
        ReentrantToken t = new ReentrantToken(address(actor), 1_000_000 ether);
        marketplace.setTokenAllowed(address(t), true);
        actor.exec(address(t), 0, abi.encodeCall(t.approve, (address(marketplace), type(uint256).max)));
        bytes memory ret = actor.exec(
            address(marketplace), 0, abi.encodeCall(marketplace.createJob, (MODEL, INPUT, address(t), 50 ether, _dl(), address(0), uint16(0)))
        );
        uint256 id = abi.decode(ret, (uint256));
        actor.exec(address(marketplace), 0, abi.encodeCall(marketplace.cancelJob, (id)));

        bytes memory withdrawCall = abi.encodeCall(marketplace.withdraw, (address(t)));
        t.arm(address(actor), abi.encodeCall(actor.exec, (address(marketplace), 0, withdrawCall)), true, false);
        vm.expectRevert(guardError);
        actor.exec(address(marketplace), 0, withdrawCall);
        assertEq(marketplace.claimable(address(actor), address(t)), 50 ether);
        assertEq(t.balanceOf(address(marketplace)), 50 ether);

        t.arm(address(0), "", false, false);
        actor.exec(address(marketplace), 0, withdrawCall);
        assertEq(t.balanceOf(address(actor)), 1_000_000 ether);
        assertEq(t.balanceOf(address(marketplace)), 0);
        assertEq(marketplace.claimable(address(actor), address(t)), 0);
    }

    function _tokenJob(ReentrantToken t, uint96 amount) internal returns (uint256 id) {
        vm.prank(renter);
        id = marketplace.createJob(MODEL, INPUT, address(t), amount, _dl(), address(0), 0);
    }
}
