// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {FeeOnTransferToken, ReentrantActor} from "./utils/Attackers.sol";
import {JobMarketplace} from "../contracts/JobMarketplace.sol";
import {Slashing} from "../contracts/Slashing.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";
import {ISlashing} from "../contracts/interfaces/ISlashing.sol";
import {IStaking} from "../contracts/interfaces/IStaking.sol";
import {INodeRegistry} from "../contracts/interfaces/INodeRegistry.sol";
import {IReputationRegistry} from "../contracts/interfaces/IReputationRegistry.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {Vm} from "forge-std/Vm.sol";

/// @notice JobMarketplace: every external function (success, every revert, every event), the job
///         state machine, ETH and ERC20 escrow, fees, pull withdrawals, pausing, access control,
///         and fuzzed payment arithmetic and escrow conservation.
contract JobMarketplaceTest is Fixture {
    bytes32 internal constant EVIDENCE = keccak256("evidence: output does not match input");
    bytes32 internal constant INPUT_B = keccak256("prompt: bye");
    bytes32 internal constant OUTPUT_B = keccak256("completion: bye");
    uint256 internal constant BOND = 0.01 ether;
    address internal constant ETH = address(0);
    uint256 internal constant T0 = 1_750_000_000; // Fixture's start time

    address internal host2 = makeAddr("host2");

    function setUp() public override {
        super.setUp();
        _registerHost(host); // operator = `operator`
        _registerHost(host2); // no operator
        vm.prank(renter);
        usd.approve(address(marketplace), type(uint256).max);
    }

    // ---- helpers ----------------------------------------------------------------------------

    function _dl() internal view returns (uint40) {
        return uint40(block.timestamp + 1 hours);
    }

    function _create(bytes32 input, address asset, uint96 amount, uint40 deadline) internal returns (uint256 id) {
        vm.prank(renter);
        id = marketplace.createJob{value: asset == ETH ? amount : 0}(MODEL, input, asset, amount, deadline);
    }

    function _claimAs(uint256 id, address h) internal {
        vm.prank(h);
        marketplace.claimJob(id, h);
    }

    function _completeBy(address submitter, uint256[] memory ids, bytes32[] memory outs) internal returns (address) {
        vm.prank(prover);
        return marketplace.completeJobs(submitter, ids, outs);
    }

    function _dispute(uint256 id) internal {
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
    }

    function _outs(bytes32 a) internal pure returns (bytes32[] memory o) {
        o = new bytes32[](1);
        o[0] = a;
    }

    function _ids2(uint256 a, uint256 b) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](2);
        ids[0] = a;
        ids[1] = b;
    }

    function _outs2(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory o) {
        o = new bytes32[](2);
        o[0] = a;
        o[1] = b;
    }

    function _wrongStatus(uint256 id, IJobMarketplace.Status s) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IJobMarketplace.WrongStatus.selector, id, s);
    }

    function _unknown(uint256 id) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IJobMarketplace.UnknownJob.selector, id);
    }

    function _unauthorized(address who, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, who, role);
    }

    function _job(
        address host_,
        address asset,
        uint96 payment,
        uint16 feeBps,
        IJobMarketplace.Status status,
        uint40 deadline,
        uint40 completedAt,
        bytes32 output
    ) internal view returns (IJobMarketplace.Job memory) {
        return IJobMarketplace.Job({
            renter: renter,
            host: host_,
            token: asset,
            payment: payment,
            feeBps: feeBps,
            status: status,
            deadline: deadline,
            completedAt: completedAt,
            modelHash: MODEL,
            inputHash: INPUT,
            outputHash: output
        });
    }

    function _assertJob(uint256 id, IJobMarketplace.Job memory e) internal view {
        IJobMarketplace.Job memory j = marketplace.getJob(id);
        assertEq(j.renter, e.renter, "renter");
        assertEq(j.host, e.host, "host");
        assertEq(j.token, e.token, "token");
        assertEq(j.payment, e.payment, "payment");
        assertEq(j.feeBps, e.feeBps, "feeBps");
        assertEq(uint8(j.status), uint8(e.status), "status");
        assertEq(j.deadline, e.deadline, "deadline");
        assertEq(j.completedAt, e.completedAt, "completedAt");
        assertEq(j.modelHash, e.modelHash, "modelHash");
        assertEq(j.inputHash, e.inputHash, "inputHash");
        assertEq(j.outputHash, e.outputHash, "outputHash");
    }

    function _balance(address asset, address who) internal view returns (uint256) {
        return asset == ETH ? who.balance : IERC20(asset).balanceOf(who);
    }

    // ---- construction and initial state -----------------------------------------------------

    function test_constructor_initialState() public view {
        assertEq(address(marketplace.registry()), address(registry));
        assertEq(address(marketplace.reputation()), address(reputation));
        assertEq(address(marketplace.slashing()), address(slashing));
        assertEq(marketplace.treasury(), treasury);
        assertEq(marketplace.protocolFeeBps(), 0);
        assertEq(marketplace.disputeWindow(), 1 days);
        assertEq(marketplace.maxJobDuration(), 30 days);
        assertEq(marketplace.jobCount(), 0);
        assertEq(marketplace.ETH(), address(0));
        assertEq(marketplace.MAX_FEE_BPS(), 1000);
        assertEq(marketplace.MIN_DISPUTE_WINDOW(), 10 minutes);
        assertEq(marketplace.MAX_DISPUTE_WINDOW(), 30 days);
        assertEq(marketplace.MAX_JOB_DURATION_LIMIT(), 365 days);
        assertEq(marketplace.PROOF_SYSTEM_ROLE(), keccak256("PROOF_SYSTEM_ROLE"));
        assertEq(marketplace.SLASHING_ROLE(), keccak256("SLASHING_ROLE"));
        assertEq(marketplace.PAUSER_ROLE(), keccak256("PAUSER_ROLE"));
        assertTrue(marketplace.hasRole(marketplace.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(marketplace.hasRole(marketplace.PAUSER_ROLE(), admin));
        assertTrue(marketplace.hasRole(marketplace.SLASHING_ROLE(), address(slashing)));
        assertFalse(marketplace.hasRole(marketplace.SLASHING_ROLE(), admin));
        assertTrue(marketplace.hasRole(marketplace.PROOF_SYSTEM_ROLE(), address(proofSystem)));
        assertTrue(marketplace.hasRole(marketplace.PROOF_SYSTEM_ROLE(), prover));
        assertFalse(marketplace.hasRole(marketplace.PROOF_SYSTEM_ROLE(), admin));
        assertTrue(marketplace.tokenAllowed(address(usd)));
        assertFalse(marketplace.tokenAllowed(address(token)));
        assertFalse(marketplace.paused());
    }

    function test_constructor_revertsOnZeroTreasury() public {
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        new JobMarketplace(registry, reputation, address(0), admin);
    }

    // ---- createJob --------------------------------------------------------------------------

    function test_createJob_eth() public {
        uint40 dl = _dl();
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCreated(1, renter, MODEL, INPUT, ETH, PAYMENT, dl, 0);
        vm.prank(renter);
        uint256 id = marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, dl);

        assertEq(id, 1);
        assertEq(marketplace.jobCount(), 1);
        _assertJob(id, _job(address(0), ETH, PAYMENT, 0, IJobMarketplace.Status.Open, dl, 0, bytes32(0)));
        assertEq(address(marketplace).balance, PAYMENT);
        assertEq(renter.balance, 100 ether - PAYMENT);
        assertEq(marketplace.claimable(renter, ETH), 0);
    }

    function test_createJob_erc20_withFee() public {
        marketplace.setProtocolFee(250);
        uint40 dl = _dl();
        uint96 amount = 1234e6;
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCreated(1, renter, MODEL, INPUT_B, address(usd), amount, dl, 250);
        vm.expectEmit(address(usd));
        emit IERC20.Transfer(renter, address(marketplace), amount);
        vm.prank(renter);
        uint256 id = marketplace.createJob(MODEL, INPUT_B, address(usd), amount, dl);

        assertEq(id, 1);
        IJobMarketplace.Job memory e =
            _job(address(0), address(usd), amount, 250, IJobMarketplace.Status.Open, dl, 0, bytes32(0));
        e.inputHash = INPUT_B;
        _assertJob(id, e);
        assertEq(usd.balanceOf(address(marketplace)), amount);
        assertEq(usd.balanceOf(renter), SUPPLY - amount);
        assertEq(address(marketplace).balance, 0);
        assertEq(renter.balance, 100 ether);
    }

    function test_createJob_idsIncrementAndDeadlineBounds() public {
        // the earliest and the latest deadline accepted
        uint256 a = _create(INPUT, ETH, PAYMENT, uint40(block.timestamp + 1));
        uint256 b = _create(INPUT, ETH, PAYMENT, uint40(block.timestamp + 30 days));
        assertEq(a, 1);
        assertEq(b, 2);
        assertEq(marketplace.jobCount(), 2);
        assertEq(marketplace.getJob(a).deadline, uint40(block.timestamp + 1));
        assertEq(marketplace.getJob(b).deadline, uint40(block.timestamp + 30 days));
        assertEq(address(marketplace).balance, 2 * PAYMENT);
    }

    function test_createJob_revertsOnZeroHashes() public {
        vm.startPrank(renter);
        vm.expectRevert(IJobMarketplace.ZeroHash.selector);
        marketplace.createJob{value: PAYMENT}(bytes32(0), INPUT, ETH, PAYMENT, _dl());
        vm.expectRevert(IJobMarketplace.ZeroHash.selector);
        marketplace.createJob{value: PAYMENT}(MODEL, bytes32(0), ETH, PAYMENT, _dl());
        vm.stopPrank();
        assertEq(marketplace.jobCount(), 0);
    }

    function test_createJob_revertsOnZeroPayment() public {
        vm.startPrank(renter);
        vm.expectRevert(IJobMarketplace.ZeroPayment.selector);
        marketplace.createJob(MODEL, INPUT, ETH, 0, _dl());
        vm.expectRevert(IJobMarketplace.ZeroPayment.selector);
        marketplace.createJob(MODEL, INPUT, address(usd), 0, _dl());
        vm.stopPrank();
    }

    function test_createJob_revertsOnInvalidDeadline() public {
        uint40[3] memory bad =
            [uint40(block.timestamp), uint40(block.timestamp - 1), uint40(block.timestamp + 30 days + 1)];
        for (uint256 i; i < bad.length; ++i) {
            vm.prank(renter);
            vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.InvalidDeadline.selector, bad[i]));
            marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, bad[i]);
        }
        // the bound follows governance
        marketplace.setMaxJobDuration(2 hours);
        uint40 dl = uint40(block.timestamp + 2 hours + 1);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.InvalidDeadline.selector, dl));
        marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, dl);
        assertEq(_create(INPUT, ETH, PAYMENT, dl - 1), 1);
    }

    function test_createJob_revertsOnWrongEthValue() public {
        vm.startPrank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, PAYMENT - 1, PAYMENT));
        marketplace.createJob{value: PAYMENT - 1}(MODEL, INPUT, ETH, PAYMENT, _dl());
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, PAYMENT + 1, PAYMENT));
        marketplace.createJob{value: PAYMENT + 1}(MODEL, INPUT, ETH, PAYMENT, _dl());
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, 0, PAYMENT));
        marketplace.createJob(MODEL, INPUT, ETH, PAYMENT, _dl());
        // ETH sent along with a token job
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, 1, 0));
        marketplace.createJob{value: 1}(MODEL, INPUT, address(usd), 100, _dl());
        vm.stopPrank();
        assertEq(address(marketplace).balance, 0);
        assertEq(marketplace.jobCount(), 0);
    }

    function test_createJob_revertsOnTokenNotAllowed() public {
        token.transfer(renter, 1000);
        vm.startPrank(renter);
        token.approve(address(marketplace), 1000);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.TokenNotAllowed.selector, address(token)));
        marketplace.createJob(MODEL, INPUT, address(token), 1000, _dl());
        vm.stopPrank();

        // an allow-listed token that governance removes
        marketplace.setTokenAllowed(address(usd), false);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.TokenNotAllowed.selector, address(usd)));
        marketplace.createJob(MODEL, INPUT, address(usd), 1000, _dl());
    }

    function test_createJob_revertsOnFeeOnTransferToken() public {
        FeeOnTransferToken fot = new FeeOnTransferToken(renter, 1_000_000 ether, 100); // 1% burnt per transfer
        marketplace.setTokenAllowed(address(fot), true);
        vm.startPrank(renter);
        fot.approve(address(marketplace), type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.UnsupportedToken.selector, address(fot)));
        marketplace.createJob(MODEL, INPUT, address(fot), 1000 ether, _dl());
        vm.stopPrank();
        assertEq(marketplace.jobCount(), 0);
        assertEq(fot.balanceOf(address(marketplace)), 0);
        assertEq(fot.balanceOf(renter), 1_000_000 ether);
    }

    /// @dev The token is a real fee-on-transfer token: it is rejected exactly when the fee is
    ///      non-zero for that amount (a fee rounding to zero delivers the full amount).
    function testFuzz_createJob_feeOnTransfer(uint96 amount, uint16 feeBps) public {
        amount = uint96(bound(amount, 1, 1_000_000 ether));
        feeBps = uint16(bound(feeBps, 1, 10_000));
        FeeOnTransferToken fot = new FeeOnTransferToken(renter, 1_000_000 ether, feeBps);
        marketplace.setTokenAllowed(address(fot), true);
        vm.startPrank(renter);
        fot.approve(address(marketplace), amount);
        if (uint256(amount) * feeBps / 10_000 != 0) {
            vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.UnsupportedToken.selector, address(fot)));
            marketplace.createJob(MODEL, INPUT, address(fot), amount, _dl());
            assertEq(fot.balanceOf(address(marketplace)), 0);
        } else {
            uint256 id = marketplace.createJob(MODEL, INPUT, address(fot), amount, _dl());
            assertEq(fot.balanceOf(address(marketplace)), amount);
            assertEq(marketplace.getJob(id).payment, amount);
        }
        vm.stopPrank();
    }

    function test_createJob_revertsWithoutAllowance() public {
        vm.prank(renter);
        usd.transfer(stranger, 500);
        vm.prank(stranger);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(marketplace), 0, 500)
        );
        marketplace.createJob(MODEL, INPUT, address(usd), 500, _dl());
    }

    function testFuzz_createJob_wrongEthValue(uint96 payment, uint256 sent) public {
        payment = uint96(bound(payment, 1, 100 ether));
        sent = bound(sent, 0, 100 ether);
        vm.assume(sent != payment);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, sent, payment));
        marketplace.createJob{value: sent}(MODEL, INPUT, ETH, payment, _dl());
    }

    // ---- cancelJob --------------------------------------------------------------------------

    function test_cancelJob_refundsByPull() public {
        uint256 id = _createJob();
        uint40 dl = marketplace.getJob(id).deadline;
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCancelled(id);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.prank(renter);
        marketplace.cancelJob(id);

        _assertJob(id, _job(address(0), ETH, PAYMENT, 0, IJobMarketplace.Status.Cancelled, dl, 0, bytes32(0)));
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
        assertEq(address(marketplace).balance, PAYMENT); // nothing pushed
        assertEq(renter.balance, 100 ether - PAYMENT);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Withdrawal(renter, ETH, PAYMENT);
        vm.prank(renter);
        assertEq(marketplace.withdraw(ETH), PAYMENT);
        assertEq(renter.balance, 100 ether);
        assertEq(address(marketplace).balance, 0);
        assertEq(marketplace.claimable(renter, ETH), 0);
    }

    function test_cancelJob_erc20() public {
        uint256 id = _create(INPUT, address(usd), 777, _dl());
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, address(usd), 777);
        vm.prank(renter);
        marketplace.cancelJob(id);
        assertEq(marketplace.claimable(renter, address(usd)), 777);
        assertEq(marketplace.claimable(renter, ETH), 0);
        vm.prank(renter);
        assertEq(marketplace.withdraw(address(usd)), 777);
        assertEq(usd.balanceOf(renter), SUPPLY);
        assertEq(usd.balanceOf(address(marketplace)), 0);
    }

    function test_cancelJob_reverts() public {
        vm.prank(renter);
        vm.expectRevert(_unknown(0));
        marketplace.cancelJob(0);
        vm.prank(renter);
        vm.expectRevert(_unknown(5));
        marketplace.cancelJob(5);

        uint256 id = _createJob();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotRenter.selector, id, stranger));
        marketplace.cancelJob(id);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotRenter.selector, id, host));
        marketplace.cancelJob(id);

        _claimAs(id, host);
        vm.prank(renter);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Claimed));
        marketplace.cancelJob(id);

        _complete(id, OUTPUT);
        vm.prank(renter);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Completed));
        marketplace.cancelJob(id);

        _dispute(id);
        vm.prank(renter);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Disputed));
        marketplace.cancelJob(id);
        assertEq(marketplace.claimable(renter, ETH), 0);
    }

    // ---- claimJob ---------------------------------------------------------------------------

    function test_claimJob_byHost() public {
        uint256 id = _createJob();
        uint40 dl = marketplace.getJob(id).deadline;
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobClaimed(id, host, host);
        vm.prank(host);
        marketplace.claimJob(id, host);
        _assertJob(id, _job(host, ETH, PAYMENT, 0, IJobMarketplace.Status.Claimed, dl, 0, bytes32(0)));
        assertEq(marketplace.activeJobsOf(host), 1);
        assertEq(marketplace.activeJobsOf(operator), 0);
    }

    function test_claimJob_byOperator_atDeadline() public {
        uint256 id = _createJob();
        uint40 dl = marketplace.getJob(id).deadline;
        vm.warp(dl); // the deadline itself is still in time
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobClaimed(id, host, operator);
        vm.prank(operator);
        marketplace.claimJob(id, host);
        assertEq(marketplace.getJob(id).host, host); // the staking key, never the operator
        assertEq(marketplace.activeJobsOf(host), 1);
    }

    function test_claimJob_reverts() public {
        vm.prank(host);
        vm.expectRevert(_unknown(1));
        marketplace.claimJob(1, host);

        uint256 id = _createJob();
        uint40 dl = marketplace.getJob(id).deadline;
        // a stranger claiming for the host; the host's operator claiming for another host
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotHostOrOperator.selector, id, stranger));
        marketplace.claimJob(id, host);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotHostOrOperator.selector, id, operator));
        marketplace.claimJob(id, host2);
        // a stranger claiming for itself is not a registered host
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.HostCannotServe.selector, stranger, MODEL));
        marketplace.claimJob(id, stranger);

        // a model the host does not serve
        uint256 other = _createJob(OTHER_MODEL, _dl());
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.HostCannotServe.selector, host, OTHER_MODEL));
        marketplace.claimJob(other, host);

        // below the minimum active stake (unbonding does not count)
        vm.prank(host2);
        staking.requestUnstake(1);
        vm.prank(host2);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.HostCannotServe.selector, host2, MODEL));
        marketplace.claimJob(id, host2);

        // past the deadline
        vm.warp(dl + 1);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.JobExpiredAt.selector, id, dl));
        marketplace.claimJob(id, host);
        vm.warp(dl);

        _claimAs(id, host);
        vm.prank(host2);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Claimed));
        marketplace.claimJob(id, host2);
        assertEq(marketplace.getJob(id).host, host);
        assertEq(marketplace.activeJobsOf(host), 1);
        assertEq(marketplace.activeJobsOf(host2), 0);
    }

    function test_claimJob_deregisteredHostCannotServe() public {
        vm.prank(host2);
        registry.deregister();
        uint256 id = _createJob();
        vm.prank(host2);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.HostCannotServe.selector, host2, MODEL));
        marketplace.claimJob(id, host2);
    }

    // ---- completeJobs and proofContext ------------------------------------------------------

    function test_completeJobs_single() public {
        uint256 id = _claimedJob();
        uint40 dl = marketplace.getJob(id).deadline;
        vm.warp(block.timestamp + 10 minutes);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCompleted(id, host, OUTPUT);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Completion, 1, 500, 505);
        address h = _completeBy(host, _ids(id), _outs(OUTPUT));
        assertEq(h, host);
        _assertJob(
            id,
            _job(host, ETH, PAYMENT, 0, IJobMarketplace.Status.Completed, dl, uint40(block.timestamp), OUTPUT)
        );
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(reputation.scoreOf(host), 505);
        assertEq(address(marketplace).balance, PAYMENT);
        assertEq(marketplace.claimable(host, ETH), 0);
    }

    function test_completeJobs_batchByOperator() public {
        uint256 a = _claimedJob();
        uint256 b = _create(INPUT_B, address(usd), 5e6, _dl());
        _claimAs(b, host);
        assertEq(marketplace.activeJobsOf(host), 2);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCompleted(a, host, OUTPUT);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCompleted(b, host, OUTPUT_B);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Completion, 2, 500, 510);
        assertEq(_completeBy(operator, _ids2(a, b), _outs2(OUTPUT, OUTPUT_B)), host);
        assertEq(marketplace.getJob(a).outputHash, OUTPUT);
        assertEq(marketplace.getJob(b).outputHash, OUTPUT_B);
        assertEq(uint8(_status(a)), uint8(IJobMarketplace.Status.Completed));
        assertEq(uint8(_status(b)), uint8(IJobMarketplace.Status.Completed));
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(reputation.scoreOf(host), 510);
    }

    function test_completeJobs_atDeadline() public {
        uint256 id = _claimedJob();
        vm.warp(marketplace.getJob(id).deadline);
        _complete(id, OUTPUT);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));
    }

    function test_completeJobs_onlyProofSystemRole() public {
        uint256 id = _claimedJob();
        bytes32 role = marketplace.PROOF_SYSTEM_ROLE();
        address[4] memory callers = [stranger, host, operator, admin];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(_unauthorized(callers[i], role));
            marketplace.completeJobs(host, _ids(id), _outs(OUTPUT));
        }
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Claimed));
    }

    function test_completeJobs_reverts() public {
        uint256 a = _claimedJob();
        uint256 b = _claimedJob();
        uint256 open = _createJob();
        uint256 c = _createJob();
        _claimAs(c, host2);

        vm.startPrank(prover);
        vm.expectRevert(IJobMarketplace.LengthMismatch.selector);
        marketplace.completeJobs(host, _ids(a), _outs2(OUTPUT, OUTPUT));
        vm.expectRevert(IJobMarketplace.LengthMismatch.selector);
        marketplace.completeJobs(host, _ids2(a, b), _outs(OUTPUT));
        vm.expectRevert(IJobMarketplace.EmptyJobList.selector);
        marketplace.completeJobs(host, new uint256[](0), new bytes32[](0));
        vm.expectRevert(_unknown(42));
        marketplace.completeJobs(host, _ids(42), _outs(OUTPUT));
        vm.expectRevert(_wrongStatus(open, IJobMarketplace.Status.Open));
        marketplace.completeJobs(host, _ids(open), _outs(OUTPUT));
        // the same job twice in one list: the second is already Completed
        vm.expectRevert(_wrongStatus(a, IJobMarketplace.Status.Completed));
        marketplace.completeJobs(host, _ids2(a, a), _outs2(OUTPUT, OUTPUT_B));
        // a zero output, also in second position (the first is rolled back)
        vm.expectRevert(IJobMarketplace.ZeroHash.selector);
        marketplace.completeJobs(host, _ids(a), _outs(bytes32(0)));
        vm.expectRevert(IJobMarketplace.ZeroHash.selector);
        marketplace.completeJobs(host, _ids2(a, b), _outs2(OUTPUT, bytes32(0)));
        // submitted for a host by someone who is neither it nor its operator
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotHostOrOperator.selector, a, stranger));
        marketplace.completeJobs(stranger, _ids(a), _outs(OUTPUT));
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotHostOrOperator.selector, a, host2));
        marketplace.completeJobs(host2, _ids(a), _outs(OUTPUT));
        // jobs of two hosts in one list
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.MixedHosts.selector, c, host2, host));
        marketplace.completeJobs(host, _ids2(a, c), _outs2(OUTPUT, OUTPUT));
        vm.stopPrank();

        // past the deadline
        uint40 dl = marketplace.getJob(a).deadline;
        vm.warp(dl + 1);
        vm.prank(prover);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.JobExpiredAt.selector, a, dl));
        marketplace.completeJobs(host, _ids(a), _outs(OUTPUT));

        assertEq(uint8(_status(a)), uint8(IJobMarketplace.Status.Claimed));
        assertEq(uint8(_status(b)), uint8(IJobMarketplace.Status.Claimed));
        assertEq(marketplace.activeJobsOf(host), 2);
        assertEq(reputation.scoreOf(host), 500);
    }

    function test_proofContext_returnsExactHashes() public {
        bytes32[] memory extra = _models(OTHER_MODEL);
        vm.prank(operator);
        registry.addModels(host, extra);
        uint256 a = _claimedJob();
        vm.prank(renter);
        uint256 b = marketplace.createJob{value: PAYMENT}(OTHER_MODEL, INPUT_B, ETH, PAYMENT, _dl());
        _claimAs(b, host);

        (address h, bytes32[] memory models, bytes32[] memory inputs) = marketplace.proofContext(host, _ids2(a, b));
        assertEq(h, host);
        assertEq(models.length, 2);
        assertEq(inputs.length, 2);
        assertEq(models[0], MODEL);
        assertEq(models[1], OTHER_MODEL);
        assertEq(inputs[0], INPUT);
        assertEq(inputs[1], INPUT_B);

        // the operator may submit too; order follows the list
        (h, models, inputs) = marketplace.proofContext(operator, _ids2(b, a));
        assertEq(h, host);
        assertEq(models[0], OTHER_MODEL);
        assertEq(inputs[0], INPUT_B);
        assertEq(models[1], MODEL);
        assertEq(inputs[1], INPUT);
    }

    function test_proofContext_reverts() public {
        uint256 a = _claimedJob();
        uint256 open = _createJob();
        uint256 c = _createJob();
        _claimAs(c, host2);

        vm.expectRevert(IJobMarketplace.EmptyJobList.selector);
        marketplace.proofContext(host, new uint256[](0));
        vm.expectRevert(_unknown(9));
        marketplace.proofContext(host, _ids(9));
        vm.expectRevert(_wrongStatus(open, IJobMarketplace.Status.Open));
        marketplace.proofContext(host, _ids(open));
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotHostOrOperator.selector, a, stranger));
        marketplace.proofContext(stranger, _ids(a));
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.MixedHosts.selector, c, host2, host));
        marketplace.proofContext(host, _ids2(a, c));
        uint40 dl = marketplace.getJob(a).deadline;
        vm.warp(dl + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.JobExpiredAt.selector, a, dl));
        marketplace.proofContext(host, _ids(a));
    }

    // ---- expireJob --------------------------------------------------------------------------

    function test_expireJob_open_refundsWithoutSlash() public {
        uint256 id = _createJob();
        uint40 dl = marketplace.getJob(id).deadline;
        vm.warp(dl + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, address(0), stranger, PAYMENT);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.recordLogs();
        vm.prank(stranger);
        marketplace.expireJob(id);
        assertEq(vm.getRecordedLogs().length, 2); // no slash, no reputation change

        _assertJob(id, _job(address(0), ETH, PAYMENT, 0, IJobMarketplace.Status.Expired, dl, 0, bytes32(0)));
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(token.balanceOf(treasury), 0);
        vm.prank(renter);
        marketplace.withdraw(ETH);
        assertEq(renter.balance, 100 ether);
    }

    function test_expireJob_claimed_slashesHost() public {
        uint256 id = _claimedJob();
        uint40 dl = marketplace.getJob(id).deadline;
        uint256 slash = MIN_STAKE * 500 / 10_000; // 50 VOUCH
        assertEq(slashing.slashAmount(host, ISlashing.Reason.MissedDeadline), slash);
        vm.warp(dl + 1);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, host, stranger, PAYMENT);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Expiry, 1, 500, 470);
        vm.expectEmit(address(staking));
        emit IStaking.StakeSlashed(host, slash, 0, address(slashing));
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.MissedDeadline, id, slash, renter, slash / 2, slash / 2);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(slashing), renter, slash / 2);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(slashing), treasury, slash / 2);
        vm.prank(stranger);
        marketplace.expireJob(id);

        _assertJob(id, _job(host, ETH, PAYMENT, 0, IJobMarketplace.Status.Expired, dl, 0, bytes32(0)));
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
        assertEq(marketplace.claimable(host, ETH), 0);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - slash);
        assertEq(staking.totalStaked(), 2 * MIN_STAKE - slash);
        assertEq(token.balanceOf(renter), slash / 2);
        assertEq(token.balanceOf(treasury), slash - slash / 2);
        assertEq(token.balanceOf(address(slashing)), 0);
        assertEq(reputation.scoreOf(host), 470);
    }

    function test_expireJob_claimed_slashReachesUnbondingAndIsCapped() public {
        // 1000 active + 600 unbonding: 5% of 1600 = 80
        _stake(host, 600 ether);
        vm.prank(host);
        staking.requestUnstake(600 ether);
        uint256 id = _claimedJob();
        vm.warp(block.timestamp + 2 hours);
        vm.prank(stranger);
        marketplace.expireJob(id);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 80 ether);
        assertEq(staking.positionOf(host).unbonding, 600 ether);
        assertEq(token.balanceOf(renter), 40 ether);
        assertEq(token.balanceOf(treasury), 40 ether);

        // with a cap of 7 VOUCH per incident (topped up to the minimum to claim again)
        slashing.setMaxSlashPerIncident(7 ether);
        _stake(host, 80 ether);
        uint256 id2 = _claimedJob();
        assertEq(slashing.slashAmount(host, ISlashing.Reason.MissedDeadline), 7 ether);
        vm.warp(block.timestamp + 2 hours);
        marketplace.expireJob(id2);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 7 ether);
        assertEq(staking.positionOf(host).unbonding, 600 ether);
        assertEq(token.balanceOf(renter), 43.5 ether);
        assertEq(token.balanceOf(treasury), 43.5 ether);
        assertEq(marketplace.claimable(renter, ETH), 2 * PAYMENT);
    }

    function test_expireJob_reverts() public {
        vm.expectRevert(_unknown(3));
        marketplace.expireJob(3);

        uint256 id = _claimedJob();
        uint40 dl = marketplace.getJob(id).deadline;
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DeadlineNotPassed.selector, id, dl));
        marketplace.expireJob(id);
        vm.warp(dl); // the deadline itself is not past
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DeadlineNotPassed.selector, id, dl));
        marketplace.expireJob(id);

        _complete(id, OUTPUT);
        vm.warp(dl + 1);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Completed));
        marketplace.expireJob(id);
        _dispute(id);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Disputed));
        marketplace.expireJob(id);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
    }

    // ---- disputeJob -------------------------------------------------------------------------

    function test_disputeJob_opensDisputeWithBond() public {
        uint256 id = _completedJob();
        uint40 completedAt = uint40(block.timestamp);
        uint40 dl = marketplace.getJob(id).deadline;
        vm.warp(block.timestamp + 1 days); // the last second of the window
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobDisputed(id, renter, EVIDENCE);
        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeOpened(id, renter, host, BOND, EVIDENCE);
        _dispute(id);

        _assertJob(id, _job(host, ETH, PAYMENT, 0, IJobMarketplace.Status.Disputed, dl, completedAt, OUTPUT));
        ISlashing.Dispute memory d = slashing.getDispute(id);
        assertEq(d.renter, renter);
        assertEq(d.host, host);
        assertEq(d.bond, BOND);
        assertEq(d.openedAt, uint40(block.timestamp));
        assertEq(uint8(d.status), uint8(ISlashing.DisputeStatus.Open));
        assertEq(d.evidenceHash, EVIDENCE);
        assertEq(address(slashing).balance, BOND);
        assertEq(address(marketplace).balance, PAYMENT);
        assertEq(renter.balance, 100 ether - PAYMENT - BOND);
    }

    function test_disputeJob_reverts() public {
        vm.prank(renter);
        vm.expectRevert(_unknown(1));
        marketplace.disputeJob{value: BOND}(1, EVIDENCE);

        uint256 id = _claimedJob();
        vm.prank(renter);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Claimed));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);

        _complete(id, OUTPUT);
        uint256 endsAt = block.timestamp + 1 days;
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotRenter.selector, id, stranger));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        // the bond is checked by the slashing contract and bubbles up
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.WrongBond.selector, 0, BOND));
        marketplace.disputeJob(id, EVIDENCE);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.WrongBond.selector, 2 * BOND, BOND));
        marketplace.disputeJob{value: 2 * BOND}(id, EVIDENCE);

        vm.warp(endsAt + 1);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowClosed.selector, id, endsAt));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));
        assertEq(address(slashing).balance, 0);
    }

    function test_disputeJob_onlyOncePerJob() public {
        uint256 id = _completedJob();
        _dispute(id);
        vm.prank(renter);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Disputed));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        // rejected while the window is still open: the job is Completed again, but a second
        // dispute is refused by the slashing contract
        slashing.resolveDispute(id, false);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.DisputeExists.selector, id));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
    }

    // ---- settleDispute ----------------------------------------------------------------------

    function test_settleDispute_onlySlashingRole() public {
        uint256 id = _completedJob();
        _dispute(id);
        bytes32 role = marketplace.SLASHING_ROLE();
        address[4] memory callers = [stranger, admin, renter, host];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(_unauthorized(callers[i], role));
            marketplace.settleDispute(id, true);
        }
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Disputed));
    }

    function test_settleDispute_upheld() public {
        uint256 id = _completedJob();
        _dispute(id);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeSettled(id, true);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.prank(address(slashing));
        marketplace.settleDispute(id, true);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Refunded));
        assertEq(marketplace.getJob(id).outputHash, OUTPUT);
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
        assertEq(marketplace.claimable(host, ETH), 0);
    }

    function test_settleDispute_rejected() public {
        uint256 id = _completedJob();
        uint40 completedAt = uint40(block.timestamp);
        _dispute(id);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeSettled(id, false);
        vm.recordLogs();
        vm.prank(address(slashing));
        marketplace.settleDispute(id, false);
        assertEq(vm.getRecordedLogs().length, 1); // nothing credited
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));
        assertEq(marketplace.getJob(id).completedAt, completedAt); // the window is not restarted
        assertEq(marketplace.claimable(renter, ETH), 0);
    }

    function test_settleDispute_reverts() public {
        vm.startPrank(address(slashing));
        vm.expectRevert(_unknown(1));
        marketplace.settleDispute(1, true);
        vm.stopPrank();
        uint256 id = _completedJob();
        vm.startPrank(address(slashing));
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Completed));
        marketplace.settleDispute(id, true);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Completed));
        marketplace.settleDispute(id, false);
        vm.stopPrank();
    }

    // ---- releasePayments --------------------------------------------------------------------

    function test_releasePayments_ethWithFee() public {
        marketplace.setProtocolFee(250); // 2.5%
        uint256 id = _completedJob();
        uint256 fee = uint256(PAYMENT) * 250 / 10_000;
        uint256 hostAmount = PAYMENT - fee;
        assertEq(fee, 0.00125 ether);
        uint256 endsAt = block.timestamp + 1 days;
        vm.warp(endsAt);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, id, endsAt));
        marketplace.releasePayments(_ids(id));
        vm.warp(endsAt + 1);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, hostAmount, fee);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(host, ETH, hostAmount);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(treasury, ETH, fee);
        vm.prank(stranger); // anyone may release
        marketplace.releasePayments(_ids(id));

        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Paid));
        assertEq(marketplace.claimable(host, ETH), hostAmount);
        assertEq(marketplace.claimable(treasury, ETH), fee);
        assertEq(marketplace.claimable(operator, ETH), 0);

        vm.prank(host);
        assertEq(marketplace.withdraw(ETH), hostAmount);
        vm.prank(treasury);
        assertEq(marketplace.withdraw(ETH), fee);
        assertEq(host.balance, hostAmount);
        assertEq(treasury.balance, fee);
        assertEq(address(marketplace).balance, 0);
    }

    function test_releasePayments_withoutFeeCreditsHostOnly() public {
        uint256 id = _completedJob();
        vm.warp(block.timestamp + 1 days + 1);
        vm.recordLogs();
        marketplace.releasePayments(_ids(id));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2); // PaymentReleased + one Credited
        assertEq(logs[1].topics[0], IJobMarketplace.Credited.selector);
        assertEq(logs[1].topics[1], bytes32(uint256(uint160(host))));
        assertEq(marketplace.claimable(host, ETH), PAYMENT);
        assertEq(marketplace.claimable(treasury, ETH), 0);
    }

    function test_releasePayments_erc20BatchOfTwoHosts() public {
        marketplace.setProtocolFee(1000); // the maximum, 10%
        uint256 a = _create(INPUT, address(usd), 1001, _dl());
        uint256 b = _create(INPUT, address(usd), 50e6, _dl());
        _claimAs(a, host);
        _claimAs(b, host2);
        _complete(a, OUTPUT);
        _completeBy(host2, _ids(b), _outs(OUTPUT_B));
        vm.warp(block.timestamp + 1 days + 1);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(a, host, address(usd), 901, 100);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(b, host2, address(usd), 45e6, 5e6);
        marketplace.releasePayments(_ids2(a, b));

        assertEq(marketplace.claimable(host, address(usd)), 901);
        assertEq(marketplace.claimable(host2, address(usd)), 45e6);
        assertEq(marketplace.claimable(treasury, address(usd)), 100 + 5e6);
        assertEq(marketplace.claimable(host, ETH), 0);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Withdrawal(host2, address(usd), 45e6);
        vm.expectEmit(address(usd));
        emit IERC20.Transfer(address(marketplace), host2, 45e6);
        vm.prank(host2);
        marketplace.withdraw(address(usd));
        vm.prank(host);
        marketplace.withdraw(address(usd));
        vm.prank(treasury);
        marketplace.withdraw(address(usd));
        assertEq(usd.balanceOf(host), 901);
        assertEq(usd.balanceOf(host2), 45e6);
        assertEq(usd.balanceOf(treasury), 5e6 + 100);
        assertEq(usd.balanceOf(address(marketplace)), 0);
    }

    function test_releasePayments_reverts() public {
        vm.expectRevert(IJobMarketplace.EmptyJobList.selector);
        marketplace.releasePayments(new uint256[](0));
        vm.expectRevert(_unknown(7));
        marketplace.releasePayments(_ids(7));

        uint256 claimed = _claimedJob();
        vm.expectRevert(_wrongStatus(claimed, IJobMarketplace.Status.Claimed));
        marketplace.releasePayments(_ids(claimed));

        uint256 done = _completedJob();
        vm.warp(block.timestamp + 1 days + 1);
        // one bad id reverts the whole batch
        vm.expectRevert(_wrongStatus(claimed, IJobMarketplace.Status.Claimed));
        marketplace.releasePayments(_ids2(done, claimed));
        assertEq(uint8(_status(done)), uint8(IJobMarketplace.Status.Completed));
        // the same id twice: the second is Paid by then
        vm.expectRevert(_wrongStatus(done, IJobMarketplace.Status.Paid));
        marketplace.releasePayments(_ids2(done, done));

        marketplace.releasePayments(_ids(done));
        vm.expectRevert(_wrongStatus(done, IJobMarketplace.Status.Paid));
        marketplace.releasePayments(_ids(done));
        assertEq(marketplace.claimable(host, ETH), PAYMENT);
    }

    function test_releasePayments_afterRejectedDispute() public {
        uint256 id = _completedJob();
        uint256 endsAt = block.timestamp + 1 days;
        _dispute(id);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Disputed));
        marketplace.releasePayments(_ids(id));
        // ruled on after the window: releasable at once
        vm.warp(endsAt + 1);
        slashing.resolveDispute(id, false);
        marketplace.releasePayments(_ids(id));
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Paid));
        assertEq(marketplace.claimable(host, ETH), PAYMENT);
        assertEq(slashing.bondBalance(host), BOND);
    }

    function test_releasePayments_rejectedWithinWindowWaitsForWindow() public {
        uint256 id = _completedJob();
        uint256 endsAt = block.timestamp + 1 days;
        _dispute(id);
        slashing.resolveDispute(id, false);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, id, endsAt));
        marketplace.releasePayments(_ids(id));
        vm.warp(endsAt + 1);
        marketplace.releasePayments(_ids(id));
        assertEq(marketplace.claimable(host, ETH), PAYMENT);
    }

    function test_protocolFee_fixedAtCreation() public {
        marketplace.setProtocolFee(100); // 1%
        uint256 early = _claimedJob();
        marketplace.setProtocolFee(1000); // 10% for later jobs
        uint256 late = _claimedJob();
        assertEq(marketplace.getJob(early).feeBps, 100);
        assertEq(marketplace.getJob(late).feeBps, 1000);
        _completeBy(host, _ids2(early, late), _outs2(OUTPUT, OUTPUT));
        marketplace.setProtocolFee(0);
        vm.warp(block.timestamp + 1 days + 1);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(early, host, ETH, 0.0495 ether, 0.0005 ether);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(late, host, ETH, 0.045 ether, 0.005 ether);
        marketplace.releasePayments(_ids2(early, late));
        assertEq(marketplace.claimable(host, ETH), 0.0945 ether);
        assertEq(marketplace.claimable(treasury, ETH), 0.0055 ether);
    }

    /// @dev The fee is fixed at creation, but goes to the treasury current at release.
    function test_protocolFee_goesToTreasuryAtRelease() public {
        marketplace.setProtocolFee(500);
        uint256 id = _completedJob();
        address newTreasury = makeAddr("newTreasury");
        marketplace.setTreasury(newTreasury);
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(id));
        assertEq(marketplace.claimable(newTreasury, ETH), 0.0025 ether);
        assertEq(marketplace.claimable(treasury, ETH), 0);
    }

    // ---- withdraw ---------------------------------------------------------------------------

    function test_withdraw_reverts() public {
        vm.prank(renter);
        vm.expectRevert(IJobMarketplace.NothingToWithdraw.selector);
        marketplace.withdraw(ETH);

        uint256 id = _createJob();
        vm.prank(renter);
        marketplace.cancelJob(id);
        // credited in ETH, nothing in the token
        vm.prank(renter);
        vm.expectRevert(IJobMarketplace.NothingToWithdraw.selector);
        marketplace.withdraw(address(usd));
        vm.prank(renter);
        marketplace.withdraw(ETH);
        vm.prank(renter);
        vm.expectRevert(IJobMarketplace.NothingToWithdraw.selector);
        marketplace.withdraw(ETH);
        assertEq(renter.balance, 100 ether);
    }

    function test_withdraw_revertsWhenReceiverRejectsEth() public {
        ReentrantActor r = new ReentrantActor();
        vm.deal(address(r), 1 ether);
        vm.prank(address(r));
        uint256 id = marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, _dl());
        vm.prank(address(r));
        marketplace.cancelJob(id);
        r.arm(ReentrantActor.Mode.Reject, address(0), 0, "");
        vm.prank(address(r));
        vm.expectRevert(IJobMarketplace.TransferFailed.selector);
        marketplace.withdraw(ETH);
        // nothing lost: the credit stays
        assertEq(marketplace.claimable(address(r), ETH), PAYMENT);
        assertEq(address(marketplace).balance, PAYMENT);
        r.arm(ReentrantActor.Mode.Off, address(0), 0, "");
        vm.prank(address(r));
        assertEq(marketplace.withdraw(ETH), PAYMENT);
        assertEq(address(r).balance, 1 ether);
    }

    function test_withdraw_tokenStillWithdrawableAfterDisallowed() public {
        uint256 id = _create(INPUT, address(usd), 999, _dl());
        vm.prank(renter);
        marketplace.cancelJob(id);
        marketplace.setTokenAllowed(address(usd), false);
        vm.prank(renter);
        assertEq(marketplace.withdraw(address(usd)), 999);
        assertEq(usd.balanceOf(renter), SUPPLY);
    }

    // ---- pausing ----------------------------------------------------------------------------

    function test_pause_blocksEntryPoints() public {
        uint256 open = _createJob();
        uint256 claimed = _claimedJob();
        uint256 completed = _completedJob();
        uint256 overdue = _createJob();

        vm.expectEmit(address(marketplace));
        emit Pausable.Paused(admin);
        marketplace.pause();
        assertTrue(marketplace.paused());
        vm.warp(block.timestamp + 1 hours + 1);

        bytes memory paused = abi.encodeWithSelector(Pausable.EnforcedPause.selector);
        vm.prank(renter);
        vm.expectRevert(paused);
        marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, _dl());
        vm.prank(renter);
        vm.expectRevert(paused);
        marketplace.createJob(MODEL, INPUT, address(usd), 100, _dl());
        vm.prank(host);
        vm.expectRevert(paused);
        marketplace.claimJob(open, host);
        vm.prank(prover);
        vm.expectRevert(paused);
        marketplace.completeJobs(host, _ids(claimed), _outs(OUTPUT));
        vm.expectRevert(paused);
        marketplace.expireJob(overdue);
        vm.expectRevert(paused);
        marketplace.expireJob(claimed);
        vm.prank(renter);
        vm.expectRevert(paused);
        marketplace.disputeJob{value: BOND}(completed, EVIDENCE);

        assertEq(marketplace.jobCount(), 4);
        assertEq(uint8(_status(claimed)), uint8(IJobMarketplace.Status.Claimed));

        vm.expectEmit(address(marketplace));
        emit Pausable.Unpaused(admin);
        marketplace.unpause();
        assertFalse(marketplace.paused());
        marketplace.expireJob(overdue);
        assertEq(uint8(_status(overdue)), uint8(IJobMarketplace.Status.Expired));
    }

    function test_pause_cancelReleaseWithdrawAndSettleStillWork() public {
        uint256 open = _createJob();
        uint256 completed = _completedJob();
        uint256 disputed = _completedJob();
        _dispute(disputed);
        marketplace.pause();

        vm.prank(renter);
        marketplace.cancelJob(open);
        assertEq(uint8(_status(open)), uint8(IJobMarketplace.Status.Cancelled));

        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(completed));
        assertEq(uint8(_status(completed)), uint8(IJobMarketplace.Status.Paid));

        // the arbiter can still rule (settleDispute is not pausable)
        slashing.resolveDispute(disputed, true);
        assertEq(uint8(_status(disputed)), uint8(IJobMarketplace.Status.Refunded));

        vm.prank(renter);
        assertEq(marketplace.withdraw(ETH), 2 * PAYMENT);
        vm.prank(host);
        assertEq(marketplace.withdraw(ETH), PAYMENT);
        assertEq(renter.balance, 100 ether - PAYMENT - BOND);
        assertEq(address(marketplace).balance, 0);
    }

    function test_pause_onlyPauser() public {
        bytes32 role = marketplace.PAUSER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, role));
        marketplace.pause();
        marketplace.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        marketplace.pause();
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, role));
        marketplace.unpause();
        marketplace.unpause();
        vm.expectRevert(Pausable.ExpectedPause.selector);
        marketplace.unpause();

        // a dedicated pauser may pause but not govern
        address pauser = makeAddr("pauser");
        bytes32 adminRole = marketplace.DEFAULT_ADMIN_ROLE();
        marketplace.grantRole(role, pauser);
        vm.prank(pauser);
        marketplace.pause();
        assertTrue(marketplace.paused());
        vm.prank(pauser);
        vm.expectRevert(_unauthorized(pauser, adminRole));
        marketplace.setProtocolFee(1);
    }

    // ---- governance -------------------------------------------------------------------------

    function test_governance_rejectsNonAdmin() public {
        bytes32 role = marketplace.DEFAULT_ADMIN_ROLE();
        bytes32 proofRole = marketplace.PROOF_SYSTEM_ROLE();
        address[4] memory callers = [stranger, renter, prover, address(slashing)];
        for (uint256 i; i < callers.length; ++i) {
            address c = callers[i];
            vm.startPrank(c);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setSlashing(ISlashing(address(1)));
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setTokenAllowed(address(token), true);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setProtocolFee(1);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setTreasury(c);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setDisputeWindow(2 days);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setMaxJobDuration(2 days);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.grantRole(proofRole, c);
            vm.stopPrank();
        }
        assertEq(address(marketplace.slashing()), address(slashing));
        assertEq(marketplace.protocolFeeBps(), 0);
        assertEq(marketplace.treasury(), treasury);
        assertEq(marketplace.disputeWindow(), 1 days);
        assertEq(marketplace.maxJobDuration(), 30 days);
        assertFalse(marketplace.tokenAllowed(address(token)));
    }

    /// @dev The proof-system role is what lets a job complete: granting, revoking and renouncing
    ///      it (inherited AccessControl) take effect at once.
    function test_proofSystemRole_grantRevokeRenounce() public {
        bytes32 role = marketplace.PROOF_SYSTEM_ROLE();
        address p2 = makeAddr("prover2");
        uint256 a = _claimedJob();
        uint256 b = _claimedJob();

        vm.expectEmit(address(marketplace));
        emit IAccessControl.RoleGranted(role, p2, admin);
        marketplace.grantRole(role, p2);
        assertEq(marketplace.getRoleAdmin(role), marketplace.DEFAULT_ADMIN_ROLE());
        vm.prank(p2);
        marketplace.completeJobs(host, _ids(a), _outs(OUTPUT));
        assertEq(uint8(_status(a)), uint8(IJobMarketplace.Status.Completed));

        vm.expectEmit(address(marketplace));
        emit IAccessControl.RoleRevoked(role, p2, admin);
        marketplace.revokeRole(role, p2);
        vm.prank(p2);
        vm.expectRevert(_unauthorized(p2, role));
        marketplace.completeJobs(host, _ids(b), _outs(OUTPUT));

        vm.prank(prover);
        vm.expectRevert(IAccessControl.AccessControlBadConfirmation.selector);
        marketplace.renounceRole(role, stranger);
        vm.expectEmit(address(marketplace));
        emit IAccessControl.RoleRevoked(role, prover, prover);
        vm.prank(prover);
        marketplace.renounceRole(role, prover);
        vm.prank(prover);
        vm.expectRevert(_unauthorized(prover, role));
        marketplace.completeJobs(host, _ids(b), _outs(OUTPUT));
        assertEq(uint8(_status(b)), uint8(IJobMarketplace.Status.Claimed));
        assertTrue(marketplace.supportsInterface(type(IAccessControl).interfaceId));
    }

    function test_setSlashing_movesRole() public {
        Slashing next = new Slashing(staking, registry, reputation, marketplace, treasury, admin);
        bytes32 role = marketplace.SLASHING_ROLE();
        vm.expectEmit(address(marketplace));
        emit IAccessControl.RoleRevoked(role, address(slashing), admin);
        vm.expectEmit(address(marketplace));
        emit IAccessControl.RoleGranted(role, address(next), admin);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.SlashingSet(address(next));
        marketplace.setSlashing(next);
        assertEq(address(marketplace.slashing()), address(next));
        assertTrue(marketplace.hasRole(role, address(next)));
        assertFalse(marketplace.hasRole(role, address(slashing)));

        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setSlashing(ISlashing(address(0)));
    }

    function test_setTokenAllowed() public {
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.TokenAllowed(address(token), true);
        marketplace.setTokenAllowed(address(token), true);
        assertTrue(marketplace.tokenAllowed(address(token)));
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.TokenAllowed(address(token), false);
        marketplace.setTokenAllowed(address(token), false);
        assertFalse(marketplace.tokenAllowed(address(token)));
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setTokenAllowed(ETH, true);
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setTokenAllowed(ETH, false);
    }

    function test_setProtocolFee() public {
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.ProtocolFeeSet(1000);
        marketplace.setProtocolFee(1000);
        assertEq(marketplace.protocolFeeBps(), 1000);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.ProtocolFeeSet(0);
        marketplace.setProtocolFee(0);
        assertEq(marketplace.protocolFeeBps(), 0);
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setProtocolFee(1001);
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setProtocolFee(type(uint16).max);
        assertEq(marketplace.protocolFeeBps(), 0);
    }

    function test_setTreasury() public {
        address t = makeAddr("treasury2");
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.TreasurySet(t);
        marketplace.setTreasury(t);
        assertEq(marketplace.treasury(), t);
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setTreasury(address(0));
        assertEq(marketplace.treasury(), t);
    }

    function test_setDisputeWindow() public {
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeWindowSet(10 minutes);
        marketplace.setDisputeWindow(10 minutes);
        assertEq(marketplace.disputeWindow(), 10 minutes);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeWindowSet(30 days);
        marketplace.setDisputeWindow(30 days);
        assertEq(marketplace.disputeWindow(), 30 days);
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setDisputeWindow(10 minutes - 1);
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setDisputeWindow(30 days + 1);
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setDisputeWindow(0);
        assertEq(marketplace.disputeWindow(), 30 days);

        // the window in force at release time applies
        marketplace.setDisputeWindow(10 minutes);
        uint256 id = _completedJob();
        vm.warp(block.timestamp + 10 minutes + 1);
        vm.prank(renter);
        vm.expectRevert(
            abi.encodeWithSelector(IJobMarketplace.DisputeWindowClosed.selector, id, block.timestamp - 1)
        );
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        marketplace.releasePayments(_ids(id));
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Paid));
    }

    function test_setMaxJobDuration() public {
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.MaxJobDurationSet(1);
        marketplace.setMaxJobDuration(1);
        assertEq(marketplace.maxJobDuration(), 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.MaxJobDurationSet(365 days);
        marketplace.setMaxJobDuration(365 days);
        assertEq(marketplace.maxJobDuration(), 365 days);
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setMaxJobDuration(0);
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setMaxJobDuration(365 days + 1);
        assertEq(marketplace.maxJobDuration(), 365 days);
        _create(INPUT, ETH, PAYMENT, uint40(block.timestamp + 365 days));
    }

    // ---- views ------------------------------------------------------------------------------

    function test_getJob_unknownIsEmpty() public view {
        IJobMarketplace.Job memory j = marketplace.getJob(123);
        assertEq(j.renter, address(0));
        assertEq(j.host, address(0));
        assertEq(j.token, address(0));
        assertEq(j.payment, 0);
        assertEq(j.feeBps, 0);
        assertEq(uint8(j.status), uint8(IJobMarketplace.Status.None));
        assertEq(j.deadline, 0);
        assertEq(j.completedAt, 0);
        assertEq(j.modelHash, bytes32(0));
        assertEq(j.inputHash, bytes32(0));
        assertEq(j.outputHash, bytes32(0));
    }

    /// @dev The pre-paid output slot marker never leaks: the output is zero until completion.
    function test_getJob_outputHashOnlyOnceCompleted() public {
        uint256 open = _createJob();
        uint256 claimed = _claimedJob();
        uint256 cancelled = _createJob();
        vm.prank(renter);
        marketplace.cancelJob(cancelled);
        uint256 expired = _claimedJob();
        uint256 paid = _completedJob();
        uint256 refunded = _completedJob();
        uint256 disputed = _completedJob();
        _dispute(refunded);
        _dispute(disputed);
        slashing.resolveDispute(refunded, true);
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.expireJob(expired);
        marketplace.releasePayments(_ids(paid));

        assertEq(marketplace.getJob(open).outputHash, bytes32(0));
        assertEq(marketplace.getJob(claimed).outputHash, bytes32(0));
        assertEq(marketplace.getJob(cancelled).outputHash, bytes32(0));
        assertEq(marketplace.getJob(expired).outputHash, bytes32(0));
        assertEq(marketplace.getJob(paid).outputHash, OUTPUT);
        assertEq(marketplace.getJob(refunded).outputHash, OUTPUT);
        assertEq(marketplace.getJob(disputed).outputHash, OUTPUT);
        assertEq(marketplace.jobCount(), 7);
    }

    function test_activeJobsOf_tracksClaims() public {
        uint256 a = _claimedJob();
        uint256 b = _claimedJob();
        uint256 c = _claimedJob();
        uint256 d = _createJob();
        _claimAs(d, host2);
        assertEq(marketplace.activeJobsOf(host), 3);
        assertEq(marketplace.activeJobsOf(host2), 1);
        _complete(a, OUTPUT);
        assertEq(marketplace.activeJobsOf(host), 2);
        vm.warp(block.timestamp + 1 hours + 1);
        marketplace.expireJob(b);
        assertEq(marketplace.activeJobsOf(host), 1);
        marketplace.expireJob(d);
        assertEq(marketplace.activeJobsOf(host2), 0);
        // a host with a job in flight cannot leave
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 1));
        registry.deregister();
        marketplace.expireJob(c);
        assertEq(marketplace.activeJobsOf(host), 0);
        vm.prank(host);
        registry.deregister();
    }

    function test_claimable_perAccountAndToken() public {
        uint256 a = _createJob();
        uint256 b = _create(INPUT, address(usd), 321, _dl());
        vm.startPrank(renter);
        marketplace.cancelJob(a);
        marketplace.cancelJob(b);
        vm.stopPrank();
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
        assertEq(marketplace.claimable(renter, address(usd)), 321);
        assertEq(marketplace.claimable(host, ETH), 0);
        assertEq(marketplace.claimable(renter, address(token)), 0);
    }

    function test_split_examples() public view {
        (uint256 h, uint256 f) = marketplace.split(10_000, 250);
        assertEq(h, 9750);
        assertEq(f, 250);
        (h, f) = marketplace.split(9, 1000); // 0.9 rounds down to 0
        assertEq(h, 9);
        assertEq(f, 0);
        (h, f) = marketplace.split(10, 1000);
        assertEq(h, 9);
        assertEq(f, 1);
        (h, f) = marketplace.split(399, 250); // 9.975 -> 9
        assertEq(h, 390);
        assertEq(f, 9);
        (h, f) = marketplace.split(type(uint96).max, 0);
        assertEq(h, type(uint96).max);
        assertEq(f, 0);
    }

    // ---- state machine ----------------------------------------------------------------------

    function test_stateMachine_happyPath() public {
        uint40 dl = _dl();
        uint256 id = _create(INPUT, ETH, PAYMENT, dl);
        _assertJob(id, _job(address(0), ETH, PAYMENT, 0, IJobMarketplace.Status.Open, dl, 0, bytes32(0)));
        _claimAs(id, host);
        _assertJob(id, _job(host, ETH, PAYMENT, 0, IJobMarketplace.Status.Claimed, dl, 0, bytes32(0)));
        vm.warp(block.timestamp + 5 minutes);
        uint40 at = uint40(block.timestamp);
        _complete(id, OUTPUT);
        _assertJob(id, _job(host, ETH, PAYMENT, 0, IJobMarketplace.Status.Completed, dl, at, OUTPUT));
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(id));
        _assertJob(id, _job(host, ETH, PAYMENT, 0, IJobMarketplace.Status.Paid, dl, at, OUTPUT));
        _assertImmovable(id, IJobMarketplace.Status.Paid);
    }

    function test_terminal_cancelled() public {
        uint256 id = _createJob();
        vm.prank(renter);
        marketplace.cancelJob(id);
        _assertImmovable(id, IJobMarketplace.Status.Cancelled);
    }

    function test_terminal_expiredOpen() public {
        uint256 id = _createJob();
        vm.warp(block.timestamp + 1 hours + 1);
        marketplace.expireJob(id);
        _assertImmovable(id, IJobMarketplace.Status.Expired);
    }

    function test_terminal_expiredClaimed() public {
        uint256 id = _claimedJob();
        vm.warp(block.timestamp + 1 hours + 1);
        marketplace.expireJob(id);
        _assertImmovable(id, IJobMarketplace.Status.Expired);
    }

    function test_terminal_refunded() public {
        uint256 id = _completedJob();
        _dispute(id);
        slashing.resolveDispute(id, true);
        _assertImmovable(id, IJobMarketplace.Status.Refunded);
    }

    /// @dev Every state-changing function refuses a terminal job with WrongStatus (the arbiter
    ///      has no open dispute to rule on), and nothing moves: status, credits, stake.
    function _assertImmovable(uint256 id, IJobMarketplace.Status s) internal {
        uint256 renterCredit = marketplace.claimable(renter, ETH);
        uint256 hostCredit = marketplace.claimable(host, ETH);
        uint256 hostStake = staking.slashableStakeOf(host);
        bytes memory err = _wrongStatus(id, s);

        vm.prank(renter);
        vm.expectRevert(err);
        marketplace.cancelJob(id);
        vm.prank(host);
        vm.expectRevert(err);
        marketplace.claimJob(id, host);
        vm.prank(prover);
        vm.expectRevert(err);
        marketplace.completeJobs(host, _ids(id), _outs(OUTPUT_B));
        vm.expectRevert(err);
        marketplace.proofContext(host, _ids(id));
        vm.expectRevert(err);
        marketplace.expireJob(id);
        vm.prank(renter);
        vm.expectRevert(err);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        vm.expectRevert(err);
        marketplace.releasePayments(_ids(id));
        vm.startPrank(address(slashing));
        vm.expectRevert(err);
        marketplace.settleDispute(id, true);
        vm.expectRevert(err);
        marketplace.settleDispute(id, false);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id));
        slashing.resolveDispute(id, true);
        // also much later
        vm.warp(block.timestamp + 60 days);
        vm.expectRevert(err);
        marketplace.expireJob(id);
        vm.expectRevert(err);
        marketplace.releasePayments(_ids(id));

        assertEq(uint8(_status(id)), uint8(s));
        assertEq(marketplace.claimable(renter, ETH), renterCredit);
        assertEq(marketplace.claimable(host, ETH), hostCredit);
        assertEq(staking.slashableStakeOf(host), hostStake);
    }

    // ---- fuzz: arithmetic -------------------------------------------------------------------

    function testFuzz_split(uint256 payment, uint16 feeBps) public view {
        payment = bound(payment, 0, type(uint96).max);
        feeBps = uint16(bound(feeBps, 0, 1000));
        (uint256 hostAmount, uint256 fee) = marketplace.split(payment, feeBps);
        assertEq(hostAmount + fee, payment, "conservation");
        // fee = floor(payment * feeBps / 10_000), checked by its defining inequalities
        assertLe(fee * 10_000, payment * feeBps, "fee rounds down");
        assertGt((fee + 1) * 10_000, payment * feeBps, "fee is the floor");
        assertLe(fee, payment / 10, "at most 10%");
    }

    function testFuzz_releaseSplitEndToEnd(uint96 payment, uint16 feeBps, bool useToken) public {
        address asset = useToken ? address(usd) : ETH;
        payment = uint96(bound(payment, 1, useToken ? SUPPLY : type(uint96).max));
        feeBps = uint16(bound(feeBps, 0, 1000));
        vm.deal(renter, uint256(type(uint96).max) + 1 ether);
        marketplace.setProtocolFee(feeBps);
        uint256 id = _create(INPUT, asset, payment, _dl());
        _claimAs(id, host);
        _complete(id, OUTPUT);
        marketplace.setProtocolFee(uint16(1000 - feeBps)); // no effect on this job
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(id));

        uint256 fee = uint256(payment) * feeBps / 10_000;
        assertEq(marketplace.claimable(host, asset), payment - fee);
        assertEq(marketplace.claimable(treasury, asset), fee);
        vm.prank(host);
        assertEq(marketplace.withdraw(asset), payment - fee);
        if (fee != 0) {
            vm.prank(treasury);
            assertEq(marketplace.withdraw(asset), fee);
        }
        assertEq(_balance(asset, host), payment - fee);
        assertEq(_balance(asset, treasury), fee);
        assertEq(_balance(asset, address(marketplace)), 0);
    }

    // ---- fuzz: escrow conservation ----------------------------------------------------------

    struct Ledger {
        address asset;
        uint96 payment;
        uint256[3] withdrawnBy; // renter, host, treasury
    }

    /// @dev A random sequence of every operation on one job, each attempted by the party that
    ///      may do it (and failing harmlessly when not allowed at that point). After every
    ///      step the marketplace holds exactly the unreleased escrow plus the credits, and what
    ///      was withdrawn plus what it holds is the payment. At the end the job is driven to a
    ///      terminal state and everyone withdraws: the marketplace is empty and each party got
    ///      exactly its share.
    function testFuzz_escrowConservation(uint96 payment, uint16 feeBps, bool useToken, uint256 seed) public {
        Ledger memory l;
        l.asset = useToken ? address(usd) : ETH;
        l.payment = uint96(bound(payment, 1, 50 ether));
        feeBps = uint16(bound(feeBps, 0, 1000));
        marketplace.setProtocolFee(feeBps);
        uint256 id = _create(INPUT, l.asset, l.payment, _dl());
        _checkEscrow(id, l);

        for (uint256 step; step < 24; ++step) {
            uint256 r = uint256(keccak256(abi.encode(seed, step)));
            _act(id, l, r % 11, r >> 8);
            _checkEscrow(id, l);
        }

        // drive to a terminal state
        IJobMarketplace.Status s = _status(id);
        if (s == IJobMarketplace.Status.Open) {
            vm.prank(renter);
            marketplace.cancelJob(id);
        } else if (s == IJobMarketplace.Status.Claimed) {
            uint256 dl = marketplace.getJob(id).deadline;
            if (block.timestamp <= dl) vm.warp(dl + 1);
            marketplace.expireJob(id);
        } else if (s == IJobMarketplace.Status.Disputed) {
            slashing.resolveDispute(id, seed & 1 == 1);
        }
        if (_status(id) == IJobMarketplace.Status.Completed) {
            vm.warp(block.timestamp + 1 days + 1);
            marketplace.releasePayments(_ids(id));
        }
        _checkEscrow(id, l);
        for (uint256 k; k < 3; ++k) {
            _act(id, l, 7, k); // withdraw for renter, host, treasury
        }
        _checkEscrow(id, l);
        assertEq(_balance(l.asset, address(marketplace)), 0, "marketplace emptied");

        s = _status(id);
        uint256 fee = uint256(l.payment) * feeBps / 10_000;
        if (s == IJobMarketplace.Status.Paid) {
            assertEq(l.withdrawnBy[0], 0);
            assertEq(l.withdrawnBy[1], l.payment - fee);
            assertEq(l.withdrawnBy[2], fee);
        } else {
            assertTrue(
                s == IJobMarketplace.Status.Cancelled || s == IJobMarketplace.Status.Expired
                    || s == IJobMarketplace.Status.Refunded,
                "terminal"
            );
            assertEq(l.withdrawnBy[0], l.payment);
            assertEq(l.withdrawnBy[1], 0);
            assertEq(l.withdrawnBy[2], 0);
        }
    }

    function _act(uint256 id, Ledger memory l, uint256 action, uint256 r) internal {
        if (action == 0) {
            vm.prank(renter);
            try marketplace.cancelJob(id) {} catch {}
        } else if (action == 1) {
            vm.prank(host);
            try marketplace.claimJob(id, host) {} catch {}
        } else if (action == 2) {
            vm.prank(prover);
            try marketplace.completeJobs(host, _ids(id), _outs(OUTPUT)) {} catch {}
        } else if (action == 3) {
            vm.warp(block.timestamp + 20 minutes);
        } else if (action == 4) {
            vm.warp(block.timestamp + 1 days);
        } else if (action == 5) {
            vm.prank(stranger);
            try marketplace.expireJob(id) {} catch {}
        } else if (action == 6) {
            vm.prank(stranger);
            try marketplace.releasePayments(_ids(id)) {} catch {}
        } else if (action == 7) {
            uint256 k = r % 3;
            address who = k == 0 ? renter : (k == 1 ? host : treasury);
            uint256 before = _balance(l.asset, who);
            vm.prank(who);
            try marketplace.withdraw(l.asset) returns (uint256 amount) {
                assertEq(_balance(l.asset, who), before + amount, "withdrawn amount received");
                l.withdrawnBy[k] += amount;
            } catch {}
        } else if (action == 8) {
            vm.prank(renter);
            try marketplace.disputeJob{value: BOND}(id, EVIDENCE) {} catch {}
        } else if (action == 9) {
            try slashing.resolveDispute(id, r & 1 == 1) {} catch {}
        } else {
            vm.warp(block.timestamp + 1);
        }
    }

    function _checkEscrow(uint256 id, Ledger memory l) internal view {
        IJobMarketplace.Status s = _status(id);
        bool held = s == IJobMarketplace.Status.Open || s == IJobMarketplace.Status.Claimed
            || s == IJobMarketplace.Status.Completed || s == IJobMarketplace.Status.Disputed;
        uint256 credits = marketplace.claimable(renter, l.asset) + marketplace.claimable(host, l.asset)
            + marketplace.claimable(treasury, l.asset);
        uint256 bal = _balance(l.asset, address(marketplace));
        assertEq(bal, (held ? l.payment : 0) + credits, "balance = escrow + credits");
        assertEq(bal + l.withdrawnBy[0] + l.withdrawnBy[1] + l.withdrawnBy[2], l.payment, "conservation");
        if (l.asset == ETH) assertEq(usd.balanceOf(address(marketplace)), 0);
        else assertEq(address(marketplace).balance, 0);
    }
}
