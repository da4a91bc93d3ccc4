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
import {VouchToken} from "../contracts/VouchToken.sol";
import {PauseControl} from "../contracts/utils/PauseControl.sol";
import {IPauseControl} from "../contracts/interfaces/IPauseControl.sol";
import {stdError} from "forge-std/StdError.sol";

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
    /// @dev The default protocol fee of a PAYMENT job: 1% (above ETH's 0.0001 minimum).
    uint96 internal constant FEE = 0.0005 ether;
    uint256 internal constant HOST_AMOUNT = PAYMENT - FEE;
    /// @dev ETH's default credit fee: a FEE job earns a tenth of a full completion.
    uint256 internal constant ETH_CREDIT_FEE = 0.005 ether;
    uint256 internal constant FEE_WEIGHT = 1000;

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
        id = marketplace.createJob{value: asset == ETH ? amount : 0}(MODEL, input, asset, amount, deadline, address(0), 0);
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
        uint96 fee,
        IJobMarketplace.Status status,
        uint40 deadline,
        uint40 completedAt,
        bytes32 output
    ) internal view returns (IJobMarketplace.Job memory) {
        return IJobMarketplace.Job({
            renter: renter,
            host: host_,
            // `host` claims itself and `operator` is its operator: the one recorded at claim
            operator: host_ == host ? operator : address(0),
            token: asset,
            payment: payment,
            fee: fee,
            status: status,
            deadline: deadline,
            completedAt: completedAt,
            minReputation: 0,
            dispute: ISlashing.DisputeStatus.None,
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
        assertEq(j.operator, e.operator, "operator");
        assertEq(j.fee, e.fee, "fee");
        assertEq(j.minReputation, e.minReputation, "minReputation");
        assertEq(uint8(j.dispute), uint8(e.dispute), "dispute");
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
        assertEq(marketplace.protocolFeeBps(), 100);
        assertEq(marketplace.disputeWindow(), 1 days);
        assertEq(marketplace.maxJobDuration(), 30 days);
        assertEq(marketplace.jobCount(), 0);
        assertEq(marketplace.totalActiveJobs(), 0);
        // ETH's defaults from the constructor, VOUCH's from SystemDeployer (minimumStake / 80)
        IJobMarketplace.AssetFees memory f = marketplace.assetFees(ETH);
        assertEq(f.minFee, 0.0001 ether);
        assertEq(f.creditFee, 0.005 ether);
        f = marketplace.assetFees(address(token));
        assertEq(f.minFee, 1 ether);
        assertEq(f.creditFee, 12.5 ether);
        assertEq(uint256(f.creditFee) * 80, staking.minimumStake());
        f = marketplace.assetFees(address(usd));
        assertEq(f.minFee, 0);
        assertEq(f.creditFee, 0);
        assertEq(marketplace.GUARDIAN_ROLE(), keccak256("GUARDIAN_ROLE"));
        assertEq(marketplace.maxGuardianPause(), 3 days);
        assertEq(marketplace.guardianPauseEnds(), 0);
        assertEq(marketplace.ETH(), address(0));
        assertEq(marketplace.MAX_FEE_BPS(), 1000);
        assertEq(marketplace.MIN_DISPUTE_WINDOW(), 10 minutes);
        assertEq(marketplace.MAX_DISPUTE_WINDOW(), 30 days);
        assertEq(marketplace.MAX_JOB_DURATION_LIMIT(), 365 days);
        assertEq(marketplace.PAUSE_GRACE(), 1 hours);
        assertEq(marketplace.pauseCount(), 0);
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
        assertTrue(marketplace.tokenAllowed(address(token))); // VOUCH, allowed by SystemDeployer
        assertFalse(marketplace.paused());
    }

    /// @dev A freshly constructed marketplace has ETH's fees set, with their event.
    function test_constructor_setsEthAssetFees() public {
        vm.expectEmit();
        emit IJobMarketplace.AssetFeesSet(ETH, 0.0001 ether, 0.005 ether);
        JobMarketplace m = new JobMarketplace(registry, reputation, treasury, admin);
        assertEq(m.assetFees(ETH).minFee, 0.0001 ether);
        assertEq(m.assetFees(ETH).creditFee, 0.005 ether);
        assertEq(m.protocolFeeBps(), 100);
        assertFalse(m.tokenAllowed(address(token)));
    }

    function test_constructor_revertsOnZeroTreasury() public {
        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        new JobMarketplace(registry, reputation, address(0), admin);
    }

    // ---- createJob --------------------------------------------------------------------------

    function test_createJob_eth() public {
        uint40 dl = _dl();
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCreated(1, renter, MODEL, INPUT, ETH, PAYMENT, dl, FEE, address(0), 0);
        vm.prank(renter);
        uint256 id = marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, dl, address(0), 0);

        assertEq(id, 1);
        assertEq(marketplace.jobCount(), 1);
        _assertJob(id, _job(address(0), ETH, PAYMENT, FEE, IJobMarketplace.Status.Open, dl, 0, bytes32(0)));
        assertEq(address(marketplace).balance, PAYMENT);
        assertEq(renter.balance, 100 ether - PAYMENT);
        assertEq(marketplace.claimable(renter, ETH), 0);
    }

    function test_createJob_erc20_withFee() public {
        marketplace.setProtocolFee(250);
        uint40 dl = _dl();
        uint96 amount = 1234e6;
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCreated(1, renter, MODEL, INPUT_B, address(usd), amount, dl, 30.85e6, address(0), 0);
        vm.expectEmit(address(usd));
        emit IERC20.Transfer(renter, address(marketplace), amount);
        vm.prank(renter);
        uint256 id = marketplace.createJob(MODEL, INPUT_B, address(usd), amount, dl, address(0), 0);

        assertEq(id, 1);
        IJobMarketplace.Job memory e =
            _job(address(0), address(usd), amount, 30.85e6, IJobMarketplace.Status.Open, dl, 0, bytes32(0));
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
        marketplace.createJob{value: PAYMENT}(bytes32(0), INPUT, ETH, PAYMENT, _dl(), address(0), 0);
        vm.expectRevert(IJobMarketplace.ZeroHash.selector);
        marketplace.createJob{value: PAYMENT}(MODEL, bytes32(0), ETH, PAYMENT, _dl(), address(0), 0);
        vm.stopPrank();
        assertEq(marketplace.jobCount(), 0);
    }

    function test_createJob_revertsOnZeroPayment() public {
        vm.startPrank(renter);
        vm.expectRevert(IJobMarketplace.ZeroPayment.selector);
        marketplace.createJob(MODEL, INPUT, ETH, 0, _dl(), address(0), 0);
        vm.expectRevert(IJobMarketplace.ZeroPayment.selector);
        marketplace.createJob(MODEL, INPUT, address(usd), 0, _dl(), address(0), 0);
        vm.stopPrank();
    }

    function test_createJob_revertsOnInvalidDeadline() public {
        uint40[3] memory bad =
            [uint40(block.timestamp), uint40(block.timestamp - 1), uint40(block.timestamp + 30 days + 1)];
        for (uint256 i; i < bad.length; ++i) {
            vm.prank(renter);
            vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.InvalidDeadline.selector, bad[i]));
            marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, bad[i], address(0), 0);
        }
        // the bound follows governance
        marketplace.setMaxJobDuration(2 hours);
        uint40 dl = uint40(block.timestamp + 2 hours + 1);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.InvalidDeadline.selector, dl));
        marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, dl, address(0), 0);
        assertEq(_create(INPUT, ETH, PAYMENT, dl - 1), 1);
    }

    function test_createJob_revertsOnWrongEthValue() public {
        vm.startPrank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, PAYMENT - 1, PAYMENT));
        marketplace.createJob{value: PAYMENT - 1}(MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, PAYMENT + 1, PAYMENT));
        marketplace.createJob{value: PAYMENT + 1}(MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), 0);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, 0, PAYMENT));
        marketplace.createJob(MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), 0);
        // ETH sent along with a token job
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, 1, 0));
        marketplace.createJob{value: 1}(MODEL, INPUT, address(usd), 100, _dl(), address(0), 0);
        vm.stopPrank();
        assertEq(address(marketplace).balance, 0);
        assertEq(marketplace.jobCount(), 0);
    }

    function test_createJob_revertsOnTokenNotAllowed() public {
        // VOUCH is allowed by SystemDeployer: a token nobody allowed is refused
        VouchToken other = new VouchToken(renter, 1000);
        vm.startPrank(renter);
        other.approve(address(marketplace), 1000);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.TokenNotAllowed.selector, address(other)));
        marketplace.createJob(MODEL, INPUT, address(other), 1000, _dl(), address(0), 0);
        vm.stopPrank();
        marketplace.setTokenAllowed(address(token), false);
        token.transfer(renter, 1000 ether);
        vm.startPrank(renter);
        token.approve(address(marketplace), 1000 ether);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.TokenNotAllowed.selector, address(token)));
        marketplace.createJob(MODEL, INPUT, address(token), 1000 ether, _dl(), address(0), 0);
        vm.stopPrank();

        // an allow-listed token that governance removes
        marketplace.setTokenAllowed(address(usd), false);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.TokenNotAllowed.selector, address(usd)));
        marketplace.createJob(MODEL, INPUT, address(usd), 1000, _dl(), address(0), 0);
    }

    function test_createJob_revertsOnFeeOnTransferToken() public {
        FeeOnTransferToken fot = new FeeOnTransferToken(renter, 1_000_000 ether, 100); // 1% burnt per transfer
        marketplace.setTokenAllowed(address(fot), true);
        vm.startPrank(renter);
        fot.approve(address(marketplace), type(uint256).max);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.UnsupportedToken.selector, address(fot)));
        marketplace.createJob(MODEL, INPUT, address(fot), 1000 ether, _dl(), address(0), 0);
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
            marketplace.createJob(MODEL, INPUT, address(fot), amount, _dl(), address(0), 0);
            assertEq(fot.balanceOf(address(marketplace)), 0);
        } else {
            uint256 id = marketplace.createJob(MODEL, INPUT, address(fot), amount, _dl(), address(0), 0);
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
        marketplace.createJob(MODEL, INPUT, address(usd), 500, _dl(), address(0), 0);
    }

    function testFuzz_createJob_wrongEthValue(uint96 payment, uint256 sent) public {
        payment = uint96(bound(payment, 1, 100 ether));
        sent = bound(sent, 0, 100 ether);
        vm.assume(sent != payment);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.WrongPaymentValue.selector, sent, payment));
        marketplace.createJob{value: sent}(MODEL, INPUT, ETH, payment, _dl(), address(0), 0);
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

        _assertJob(id, _job(address(0), ETH, PAYMENT, FEE, IJobMarketplace.Status.Cancelled, dl, 0, bytes32(0)));
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
        emit IJobMarketplace.JobClaimed(id, host, host, operator);
        vm.prank(host);
        marketplace.claimJob(id, host);
        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Claimed, dl, 0, bytes32(0)));
        assertEq(marketplace.activeJobsOf(host), 1);
        assertEq(marketplace.activeJobsOf(operator), 0);
    }

    function test_claimJob_byOperator_atDeadline() public {
        uint256 id = _createJob();
        uint40 dl = marketplace.getJob(id).deadline;
        vm.warp(dl); // the deadline itself is still in time
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobClaimed(id, host, operator, operator);
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
        vm.recordLogs();
        address h = _completeBy(host, _ids(id), _outs(OUTPUT));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1); // JobCompleted only: reputation waits for the release
        assertEq(logs[0].emitter, address(marketplace));
        assertEq(h, host);
        _assertJob(
            id,
            _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Completed, dl, uint40(block.timestamp), OUTPUT)
        );
        assertEq(marketplace.activeJobsOf(host), 1); // still active: unpaid, a dispute may come
        assertEq(marketplace.totalActiveJobs(), 1);
        assertEq(reputation.scoreOf(host), 500);
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
        vm.recordLogs();
        assertEq(_completeBy(operator, _ids2(a, b), _outs2(OUTPUT, OUTPUT_B)), host);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2); // the two JobCompleted, no ReputationChanged
        assertEq(logs[0].topics[0], IJobMarketplace.JobCompleted.selector);
        assertEq(logs[1].topics[0], IJobMarketplace.JobCompleted.selector);
        assertEq(marketplace.getJob(a).outputHash, OUTPUT);
        assertEq(marketplace.getJob(b).outputHash, OUTPUT_B);
        assertEq(uint8(_status(a)), uint8(IJobMarketplace.Status.Completed));
        assertEq(uint8(_status(b)), uint8(IJobMarketplace.Status.Completed));
        assertEq(marketplace.activeJobsOf(host), 2); // completion does not end them
        assertEq(reputation.scoreOf(host), 500);
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
        uint256 b = marketplace.createJob{value: PAYMENT}(OTHER_MODEL, INPUT_B, ETH, PAYMENT, _dl(), address(0), 0);
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

    /// @dev Proofs pause with the marketplace: the proof system asks here first, so no proof is
    ///      verified (and paid for) while completion would be refused anyway.
    function test_proofContext_revertsWhilePaused() public {
        uint256 a = _claimedJob();
        marketplace.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        marketplace.proofContext(host, _ids(a));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        marketplace.proofContext(operator, _ids(a));
        // the pause is checked before anything else
        vm.expectRevert(Pausable.EnforcedPause.selector);
        marketplace.proofContext(host, new uint256[](0));
        vm.expectRevert(Pausable.EnforcedPause.selector);
        marketplace.proofContext(stranger, _ids(99));

        marketplace.unpause();
        (address h, bytes32[] memory models, bytes32[] memory inputs) = marketplace.proofContext(host, _ids(a));
        assertEq(h, host);
        assertEq(models.length, 1);
        assertEq(models[0], MODEL);
        assertEq(inputs[0], INPUT);
    }

    // ---- expireJob --------------------------------------------------------------------------

    function test_expireJob_open_refundsWithoutSlash() public {
        uint256 id = _createJob();
        uint40 dl = marketplace.getJob(id).deadline;
        vm.warp(dl + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, address(0), stranger, PAYMENT, false);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.recordLogs();
        vm.prank(stranger);
        marketplace.expireJob(id);
        assertEq(vm.getRecordedLogs().length, 2); // no slash, no reputation change

        _assertJob(id, _job(address(0), ETH, PAYMENT, FEE, IJobMarketplace.Status.Expired, dl, 0, bytes32(0)));
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
        emit IJobMarketplace.JobExpired(id, host, stranger, PAYMENT, true);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Expiry, 10_000, 500, 470);
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

        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Expired, dl, 0, bytes32(0)));
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
        emit ISlashing.DisputeOpened(id, renter, host, BOND, EVIDENCE, uint40(block.timestamp + 14 days));
        _dispute(id);

        IJobMarketplace.Job memory e = _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Disputed, dl, completedAt, OUTPUT);
        e.dispute = ISlashing.DisputeStatus.Open;
        _assertJob(id, e);
        ISlashing.Dispute memory d = slashing.getDispute(id);
        assertEq(d.ruleBy, uint40(block.timestamp + 14 days));
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

    /// @dev One dispute per job, ever: once rejected (back to Completed) it cannot be disputed
    ///      again. The marketplace refuses (AlreadyDisputed) after the evidence check and before
    ///      the window check, so also once the window has closed; caller and pause come first.
    function test_disputeJob_onlyOncePerJob() public {
        uint256 id = _completedJob();
        uint256 endsAt = block.timestamp + 1 days;
        _dispute(id);
        vm.prank(renter);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Disputed));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        // rejected while the window is still open: the job is Completed again
        slashing.resolveDispute(id, false);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));
        bytes memory again = abi.encodeWithSelector(IJobMarketplace.AlreadyDisputed.selector, id);
        vm.prank(renter);
        vm.expectRevert(again);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        vm.prank(renter);
        vm.expectRevert(again);
        marketplace.disputeJob{value: BOND}(id, keccak256("other evidence"));
        // checked before: the caller, then the evidence
        vm.deal(stranger, 1 ether);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotRenter.selector, id, stranger));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        vm.prank(renter);
        vm.expectRevert(IJobMarketplace.ZeroHash.selector);
        marketplace.disputeJob{value: BOND}(id, bytes32(0));
        // checked before the window: still AlreadyDisputed once the window has closed
        vm.warp(endsAt + 1);
        vm.prank(renter);
        vm.expectRevert(again);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        // and the pause before everything
        marketplace.pause();
        vm.prank(renter);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);

        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));
        assertEq(uint8(slashing.getDispute(id).status), uint8(ISlashing.DisputeStatus.Rejected));
        assertEq(slashing.bondBalance(host), BOND); // the one bond, credited to the host
        assertEq(address(slashing).balance, BOND);
        assertEq(renter.balance, 100 ether - PAYMENT - BOND);
    }

    /// @dev The one-dispute rule is the marketplace's, so it holds after the slashing contract is
    ///      replaced: the new contract, which has no record of the job, is never asked.
    function test_disputeJob_alreadyDisputedAfterSetSlashing() public {
        uint256 id = _completedJob();
        uint256 endsAt = block.timestamp + 1 days;
        _dispute(id);
        slashing.resolveDispute(id, false);

        Slashing next = new Slashing(staking, registry, reputation, marketplace, treasury, address(this));
        staking.grantRole(staking.SLASHER_ROLE(), address(next));
        reputation.grantRole(reputation.WRITER_ROLE(), address(next));
        marketplace.setSlashing(next);
        assertEq(address(marketplace.slashing()), address(next));

        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.AlreadyDisputed.selector, id));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        assertEq(uint8(next.getDispute(id).status), uint8(ISlashing.DisputeStatus.None));
        assertEq(address(next).balance, 0);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));

        // the new contract takes fresh disputes and its rulings work (upheld: refund and slash)
        uint256 fresh = _completedJob();
        vm.expectEmit(address(next));
        emit ISlashing.DisputeOpened(fresh, renter, host, BOND, EVIDENCE, uint40(block.timestamp + 14 days));
        _dispute(fresh);
        assertEq(address(next).balance, BOND);
        next.resolveDispute(fresh, true);
        assertEq(uint8(_status(fresh)), uint8(IJobMarketplace.Status.Refunded));
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 100 ether);
        assertEq(next.bondBalance(renter), BOND);
        // a refunded job is not Completed: WrongStatus comes before AlreadyDisputed
        vm.prank(renter);
        vm.expectRevert(_wrongStatus(fresh, IJobMarketplace.Status.Refunded));
        marketplace.disputeJob{value: BOND}(fresh, EVIDENCE);

        // the rejected job is paid once its window is over
        vm.warp(endsAt + 1);
        marketplace.releasePayments(_ids(id));
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Paid));
        assertEq(marketplace.claimable(host, ETH), HOST_AMOUNT);
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
    }

    function test_disputeJob_revertsOnZeroEvidence() public {
        uint256 id = _completedJob();
        vm.prank(renter);
        vm.expectRevert(IJobMarketplace.ZeroHash.selector);
        marketplace.disputeJob{value: BOND}(id, bytes32(0));
        // also at the last second of the window
        vm.warp(block.timestamp + 1 days);
        vm.prank(renter);
        vm.expectRevert(IJobMarketplace.ZeroHash.selector);
        marketplace.disputeJob{value: BOND}(id, bytes32(0));

        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));
        assertEq(uint8(slashing.getDispute(id).status), uint8(ISlashing.DisputeStatus.None));
        assertEq(address(slashing).balance, 0);
        assertEq(renter.balance, 100 ether - PAYMENT);
        // any non-zero evidence is accepted
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(id, bytes32(uint256(1)));
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Disputed));
        assertEq(slashing.getDispute(id).evidenceHash, bytes32(uint256(1)));
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
            marketplace.settleDispute(id, ISlashing.DisputeStatus.Upheld);
        }
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Disputed));
    }

    function test_settleDispute_upheld() public {
        uint256 id = _completedJob();
        _dispute(id);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeSettled(id, ISlashing.DisputeStatus.Upheld);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.prank(address(slashing));
        marketplace.settleDispute(id, ISlashing.DisputeStatus.Upheld);
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
        emit IJobMarketplace.DisputeSettled(id, ISlashing.DisputeStatus.Rejected);
        vm.recordLogs();
        vm.prank(address(slashing));
        marketplace.settleDispute(id, ISlashing.DisputeStatus.Rejected);
        assertEq(vm.getRecordedLogs().length, 1); // nothing credited
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));
        assertEq(marketplace.getJob(id).completedAt, completedAt); // the window is not restarted
        assertEq(marketplace.claimable(renter, ETH), 0);
    }

    function test_settleDispute_reverts() public {
        vm.startPrank(address(slashing));
        vm.expectRevert(_unknown(1));
        marketplace.settleDispute(1, ISlashing.DisputeStatus.Upheld);
        vm.stopPrank();
        uint256 id = _completedJob();
        vm.startPrank(address(slashing));
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Completed));
        marketplace.settleDispute(id, ISlashing.DisputeStatus.Upheld);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Completed));
        marketplace.settleDispute(id, ISlashing.DisputeStatus.Rejected);
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

        // 0.00125 of ETH's 0.005 credit fee: a quarter of a completion, +1.25 points (1 + carry)
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, hostAmount, fee, 2500);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(host, ETH, hostAmount);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(treasury, ETH, fee);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Completion, 2500, 500, 501);
        vm.prank(stranger); // anyone may release
        marketplace.releasePayments(_ids(id));
        assertEq(reputation.scoreOf(host), 501);

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

    /// @dev Governance set no fee at all (rate 0, no minimum): the host gets the whole payment,
    ///      the treasury nothing, and the job (fee 0) earns no reputation: no record call.
    function test_releasePayments_withoutFeeCreditsHostOnly() public {
        marketplace.setProtocolFee(0);
        marketplace.setAssetFees(ETH, 0, 0.005 ether);
        uint256 id = _completedJob();
        assertEq(marketplace.getJob(id).fee, 0);
        vm.warp(block.timestamp + 1 days + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, PAYMENT, 0, 0);
        vm.recordLogs();
        marketplace.releasePayments(_ids(id));
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2); // PaymentReleased + one Credited, no ReputationChanged
        assertEq(logs[1].topics[0], IJobMarketplace.Credited.selector);
        assertEq(logs[1].topics[1], bytes32(uint256(uint160(host))));
        assertEq(marketplace.claimable(host, ETH), PAYMENT);
        assertEq(marketplace.claimable(treasury, ETH), 0);
        assertEq(reputation.scoreOf(host), 500);
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
        emit IJobMarketplace.PaymentReleased(a, host, address(usd), 900, 101, 0); // 100.1 rounds up
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(b, host2, address(usd), 45e6, 5e6, 0);
        marketplace.releasePayments(_ids2(a, b));

        assertEq(marketplace.claimable(host, address(usd)), 900);
        assertEq(marketplace.claimable(host2, address(usd)), 45e6);
        assertEq(marketplace.claimable(treasury, address(usd)), 101 + 5e6);
        assertEq(reputation.scoreOf(host), 500); // USD has no credit fee: no reputation
        assertEq(reputation.scoreOf(host2), 500);
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
        assertEq(usd.balanceOf(host), 900);
        assertEq(usd.balanceOf(host2), 45e6);
        assertEq(usd.balanceOf(treasury), 5e6 + 101);
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
        assertEq(marketplace.claimable(host, ETH), HOST_AMOUNT);
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
        assertEq(marketplace.claimable(host, ETH), HOST_AMOUNT);
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
        assertEq(marketplace.claimable(host, ETH), HOST_AMOUNT);
    }

    function test_protocolFee_fixedAtCreation() public {
        marketplace.setProtocolFee(100); // 1%
        uint256 early = _claimedJob();
        marketplace.setProtocolFee(1000); // 10% for later jobs
        uint256 late = _claimedJob();
        assertEq(marketplace.getJob(early).fee, 0.0005 ether); // the amount, fixed now
        assertEq(marketplace.getJob(late).fee, 0.005 ether);
        _completeBy(host, _ids2(early, late), _outs2(OUTPUT, OUTPUT));
        // neither the rate nor the minimum at release changes a job's fee
        marketplace.setProtocolFee(0);
        marketplace.setAssetFees(ETH, 0.04 ether, 0.005 ether);
        vm.warp(block.timestamp + 1 days + 1);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(early, host, ETH, 0.0495 ether, 0.0005 ether, 1000);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(late, host, ETH, 0.045 ether, 0.005 ether, 10_000);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Completion, 11_000, 500, 505);
        marketplace.releasePayments(_ids2(early, late));
        assertEq(marketplace.claimable(host, ETH), 0.0945 ether);
        assertEq(marketplace.claimable(treasury, ETH), 0.0055 ether);
        assertEq(reputation.scoreOf(host), 505); // 5.5 points: the half is carried
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
        uint256 id = marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), 0);
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
        uint256 claimed2 = _claimedJob(); // expired below, while the pause lasts

        vm.expectEmit(address(marketplace));
        emit Pausable.Paused(admin);
        marketplace.pause();
        assertTrue(marketplace.paused());
        vm.warp(block.timestamp + 1 hours + 1);

        bytes memory paused = abi.encodeWithSelector(Pausable.EnforcedPause.selector);
        vm.prank(renter);
        vm.expectRevert(paused);
        marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), 0);
        vm.prank(renter);
        vm.expectRevert(paused);
        marketplace.createJob(MODEL, INPUT, address(usd), 100, _dl(), address(0), 0);
        vm.prank(host);
        vm.expectRevert(paused);
        marketplace.claimJob(open, host);
        vm.prank(prover);
        vm.expectRevert(paused);
        marketplace.completeJobs(host, _ids(claimed), _outs(OUTPUT));
        vm.expectRevert(paused);
        marketplace.proofContext(host, _ids(claimed));
        vm.prank(renter);
        vm.expectRevert(paused);
        marketplace.disputeJob{value: BOND}(completed, EVIDENCE);

        assertEq(marketplace.jobCount(), 5);
        assertEq(uint8(_status(claimed)), uint8(IJobMarketplace.Status.Claimed));

        // expiry is not pausable: refunds go on, and a deadline the pause covers is not slashed
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(overdue, address(0), address(this), PAYMENT, false);
        marketplace.expireJob(overdue);
        assertEq(uint8(_status(overdue)), uint8(IJobMarketplace.Status.Expired));
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(claimed2, host, address(this), PAYMENT, false);
        marketplace.expireJob(claimed2);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(reputation.scoreOf(host), 500);
        assertEq(marketplace.claimable(renter, ETH), 2 * PAYMENT);

        vm.expectEmit(address(marketplace));
        emit Pausable.Unpaused(admin);
        marketplace.unpause();
        assertFalse(marketplace.paused());
        marketplace.expireJob(claimed); // its deadline fell in the pause too
        assertEq(uint8(_status(claimed)), uint8(IJobMarketplace.Status.Expired));
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
    }

    /// @dev expireJob is not pausable (it used to be): while a governance pause lasts, a claimed
    ///      job whose deadline had passed before the pause began is expired with the slash; one
    ///      whose deadline falls in the pause is expired without it.
    function test_expireJob_worksWhilePaused_slashOnlyBeforePause() public {
        uint256 late = _claimedAt(uint40(T0 + 1 hours));
        uint256 covered = _claimedAt(uint40(T0 + 3 hours));
        _pauseAt(T0 + 2 hours); // `late`'s deadline predates the pause
        vm.warp(T0 + 4 hours);
        assertTrue(marketplace.paused());
        assertEq(marketplace.totalActiveJobs(), 2);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(covered, host, stranger, PAYMENT, false);
        vm.prank(stranger);
        marketplace.expireJob(covered);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(reputation.scoreOf(host), 500);

        uint256 slash = 50 ether;
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(late, host, stranger, PAYMENT, true);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Expiry, 10_000, 500, 470);
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.MissedDeadline, late, slash, renter, slash / 2, slash / 2);
        vm.prank(stranger);
        marketplace.expireJob(late);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - slash);
        assertEq(reputation.scoreOf(host), 470);
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.totalActiveJobs(), 0);
        assertEq(marketplace.claimable(renter, ETH), 2 * PAYMENT);
        assertTrue(marketplace.paused());
    }

    function test_pause_cancelReleaseWithdrawAndSettleStillWork() public {
        uint256 open = _createJob();
        uint256 completed = _completedJob();
        uint256 disputed = _completedJob();
        _dispute(disputed);
        // the window of `completed` ends before the pause; that of `late` inside it
        vm.warp(block.timestamp + 1 days + 1);
        uint256 late = _completedJob();
        marketplace.pause();

        vm.prank(renter);
        marketplace.cancelJob(open);
        assertEq(uint8(_status(open)), uint8(IJobMarketplace.Status.Cancelled));

        marketplace.releasePayments(_ids(completed));
        assertEq(uint8(_status(completed)), uint8(IJobMarketplace.Status.Paid));
        // a window ending in the pause does not end while it lasts (the renter cannot dispute)
        vm.warp(block.timestamp + 2 days);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, late, type(uint256).max));
        marketplace.releasePayments(_ids(late));
        assertEq(uint8(_status(late)), uint8(IJobMarketplace.Status.Completed));

        // the arbiter can still rule (settleDispute is not pausable)
        slashing.resolveDispute(disputed, true);
        assertEq(uint8(_status(disputed)), uint8(IJobMarketplace.Status.Refunded));

        vm.prank(renter);
        assertEq(marketplace.withdraw(ETH), 2 * PAYMENT);
        vm.prank(host);
        assertEq(marketplace.withdraw(ETH), HOST_AMOUNT);
        assertEq(renter.balance, 100 ether - 2 * PAYMENT - BOND);
        assertEq(address(marketplace).balance, PAYMENT + FEE); // `late`'s escrow, the treasury's fee
        assertEq(marketplace.claimable(treasury, ETH), FEE);
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

    // ---- pause excuse: no slash for a deadline that fell in a pause or its grace -----------

    /// @dev A claimed job with `deadline`, created and claimed at T0.
    function _claimedAt(uint40 deadline) internal returns (uint256 id) {
        id = _create(INPUT, ETH, PAYMENT, deadline);
        _claimAs(id, host);
    }

    function _pauseAt(uint256 t) internal {
        vm.warp(t);
        marketplace.pause();
    }

    function _unpauseAt(uint256 t) internal {
        vm.warp(t);
        marketplace.unpause();
    }

    function _assertPauseWindow(uint256 i, uint256 pausedAt, uint256 unpausedAt) internal view {
        IJobMarketplace.PauseWindow memory w = marketplace.pauseWindow(i);
        assertEq(w.pausedAt, pausedAt, "pausedAt");
        assertEq(w.unpausedAt, unpausedAt, "unpausedAt");
    }

    /// @dev Every pause is kept, in order: pause() appends (t, 0), unpause() closes the last one;
    ///      failed calls record nothing; an index past the end reverts (array bounds).
    function test_pause_recordsEveryPauseWindow() public {
        assertEq(marketplace.pauseCount(), 0);
        vm.expectRevert(stdError.indexOOBError);
        marketplace.pauseWindow(0);

        _pauseAt(T0 + 100);
        assertEq(marketplace.pauseCount(), 1);
        _assertPauseWindow(0, T0 + 100, 0);
        _unpauseAt(T0 + 5000);
        assertEq(marketplace.pauseCount(), 1);
        _assertPauseWindow(0, T0 + 100, T0 + 5000);
        // a second pause is appended; the first stays as it was
        _pauseAt(T0 + 9000);
        assertEq(marketplace.pauseCount(), 2);
        _assertPauseWindow(0, T0 + 100, T0 + 5000);
        _assertPauseWindow(1, T0 + 9000, 0);
        // failed calls record nothing
        vm.warp(T0 + 9500);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        marketplace.pause();
        bytes32 pauserRole = marketplace.PAUSER_ROLE();
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, pauserRole));
        marketplace.unpause();
        assertEq(marketplace.pauseCount(), 2);
        _assertPauseWindow(1, T0 + 9000, 0);
        // a dedicated pauser's calls are recorded the same way
        address pauser = makeAddr("pauser");
        marketplace.grantRole(pauserRole, pauser);
        vm.warp(T0 + 12_000);
        vm.prank(pauser);
        marketplace.unpause();
        _assertPauseWindow(1, T0 + 9000, T0 + 12_000);
        vm.expectRevert(Pausable.ExpectedPause.selector);
        marketplace.unpause();
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, pauserRole));
        marketplace.pause();
        assertEq(marketplace.pauseCount(), 2);
        _assertPauseWindow(1, T0 + 9000, T0 + 12_000);
        // a pause and unpause in one second, and a pause in the very second of an unpause
        _pauseAt(T0 + 20_000);
        _unpauseAt(T0 + 20_000);
        _pauseAt(T0 + 20_000);
        assertEq(marketplace.pauseCount(), 4);
        _assertPauseWindow(0, T0 + 100, T0 + 5000);
        _assertPauseWindow(1, T0 + 9000, T0 + 12_000);
        _assertPauseWindow(2, T0 + 20_000, T0 + 20_000);
        _assertPauseWindow(3, T0 + 20_000, 0);
        vm.expectRevert(stdError.indexOOBError);
        marketplace.pauseWindow(4);
    }

    /// @dev Deadline inside the pause: the renter is refunded and the job leaves the host's count,
    ///      but nothing is slashed and reputation is untouched (exactly two events).
    function test_expireJob_deadlineInsidePause_refundsWithoutSlash() public {
        uint40 dl = uint40(T0 + 1 hours);
        uint256 id = _claimedAt(dl);
        uint256 open = _create(INPUT, ETH, PAYMENT, dl); // never claimed
        _pauseAt(T0 + 30 minutes);
        _unpauseAt(T0 + 3 hours);
        assertEq(marketplace.activeJobsOf(host), 1);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, host, stranger, PAYMENT, false);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.recordLogs();
        vm.prank(stranger);
        marketplace.expireJob(id);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 2); // no StakeSlashed, Slashed or ReputationChanged
        for (uint256 i; i < logs.length; ++i) {
            assertEq(logs[i].emitter, address(marketplace));
        }

        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Expired, dl, 0, bytes32(0)));
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
        assertEq(marketplace.claimable(host, ETH), 0);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(staking.slashableStakeOf(host), MIN_STAKE);
        assertEq(staking.totalStaked(), 2 * MIN_STAKE);
        assertEq(token.balanceOf(renter), 0);
        assertEq(token.balanceOf(treasury), 0);
        assertEq(token.balanceOf(address(slashing)), 0);
        assertEq(reputation.scoreOf(host), 500);

        // an unclaimed job inside the pause just refunds, as always
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(open, address(0), stranger, PAYMENT, false);
        vm.prank(stranger);
        marketplace.expireJob(open);
        assertEq(marketplace.claimable(renter, ETH), 2 * PAYMENT);

        // nothing holds the host any more
        vm.prank(host);
        registry.deregister();
        vm.prank(renter);
        assertEq(marketplace.withdraw(ETH), 2 * PAYMENT);
        assertEq(renter.balance, 100 ether);
    }

    /// @dev Deadline in the grace hour after the pause: the host had too little time left to
    ///      prove; still excused at the last second of the grace.
    function test_expireJob_deadlineInGraceAfterUnpause_notSlashed() public {
        uint256 unpausedAt = T0 + 2 hours;
        uint40 dl = uint40(unpausedAt + 1 hours - 1);
        uint256 id = _claimedAt(dl);
        _pauseAt(T0 + 10 minutes);
        _unpauseAt(unpausedAt);
        vm.warp(dl + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, host, stranger, PAYMENT, false);
        vm.recordLogs();
        vm.prank(stranger);
        marketplace.expireJob(id);
        assertEq(vm.getRecordedLogs().length, 2);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(reputation.scoreOf(host), 500);
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
    }

    /// @dev Deadline exactly at the end of the grace: slashed like any missed deadline.
    function test_expireJob_deadlineAfterGrace_slashed() public {
        uint256 unpausedAt = T0 + 2 hours;
        uint40 dl = uint40(unpausedAt + 1 hours);
        uint256 id = _claimedAt(dl);
        _pauseAt(T0 + 10 minutes);
        _unpauseAt(unpausedAt);
        vm.warp(dl + 1);
        uint256 slash = 50 ether;
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, host, stranger, PAYMENT, true);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Expiry, 10_000, 500, 470);
        vm.expectEmit(address(staking));
        emit IStaking.StakeSlashed(host, slash, 0, address(slashing));
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.MissedDeadline, id, slash, renter, slash / 2, slash / 2);
        vm.prank(stranger);
        marketplace.expireJob(id);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - slash);
        assertEq(token.balanceOf(renter), slash / 2);
        assertEq(token.balanceOf(treasury), slash / 2);
        assertEq(reputation.scoreOf(host), 470);
        assertEq(marketplace.activeJobsOf(host), 0);
    }

    /// @dev A deadline missed before the pause began is not excused, however late it is expired.
    function test_expireJob_deadlineBeforePause_slashed() public {
        uint40 dl = uint40(T0 + 1 hours);
        uint256 id = _claimedAt(dl);
        _pauseAt(dl + 1); // the deadline had already passed
        _unpauseAt(dl + 2 hours);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, host, stranger, PAYMENT, true);
        vm.prank(stranger);
        marketplace.expireJob(id);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 50 ether);
        assertEq(token.balanceOf(renter), 25 ether);
        assertEq(token.balanceOf(treasury), 25 ether);
        assertEq(reputation.scoreOf(host), 470);
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
    }

    /// @dev The four edges of the excused range [pausedAt, unpausedAt + 1 hour), in one run:
    ///      only the two outside it are slashed (5% of 1000, then 5% of the 950 left).
    function test_expireJob_pauseExcuseBoundaries() public {
        uint256 pausedAt = T0 + 1 hours;
        uint256 unpausedAt = T0 + 2 hours;
        uint256 beforePause = _claimedAt(uint40(pausedAt - 1));
        uint256 atPause = _claimedAt(uint40(pausedAt));
        uint256 graceEnd = _claimedAt(uint40(unpausedAt + 1 hours - 1));
        uint256 afterGrace = _claimedAt(uint40(unpausedAt + 1 hours));
        _pauseAt(pausedAt);
        _unpauseAt(unpausedAt);
        vm.warp(unpausedAt + 1 hours + 1);
        assertEq(marketplace.activeJobsOf(host), 4);

        _expectExpired(beforePause, true);
        _expectExpired(atPause, false);
        _expectExpired(graceEnd, false);
        _expectExpired(afterGrace, true);

        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 50 ether - 47.5 ether);
        assertEq(token.balanceOf(renter), 25 ether + 23.75 ether);
        assertEq(token.balanceOf(treasury), 25 ether + 23.75 ether);
        assertEq(marketplace.claimable(renter, ETH), 4 * PAYMENT);
        assertEq(reputation.scoreOf(host), 440);
    }

    function _expectExpired(uint256 id, bool slashed) internal {
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, host, stranger, PAYMENT, slashed);
        vm.prank(stranger);
        marketplace.expireJob(id);
    }

    /// @dev Old pauses excuse forever: a deadline that fell in the first pause is excused when
    ///      expired after it and just as much after a second pause; a deadline in the second
    ///      pause too, and one between the two is not.
    function test_expireJob_oldPauseStillExcusesAfterLaterPause() public {
        uint40 dl = uint40(T0 + 1 hours);
        uint256 early = _claimedAt(dl);
        uint256 late = _claimedAt(dl);
        uint256 between = _claimedAt(uint40(T0 + 4 hours));
        uint256 inSecond = _claimedAt(uint40(T0 + 5 hours + 30 minutes));
        _pauseAt(T0 + 30 minutes);
        _unpauseAt(T0 + 2 hours);
        vm.prank(host);
        marketplace.expireJob(early); // the host may expire it itself, as anyone
        assertEq(staking.activeStakeOf(host), MIN_STAKE);

        _pauseAt(T0 + 5 hours);
        _unpauseAt(T0 + 6 hours);
        assertEq(marketplace.pauseCount(), 2);
        _assertPauseWindow(0, T0 + 30 minutes, T0 + 2 hours);
        _assertPauseWindow(1, T0 + 5 hours, T0 + 6 hours);
        vm.warp(T0 + 30 days);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(late, host, stranger, PAYMENT, false);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.recordLogs();
        vm.prank(stranger);
        marketplace.expireJob(late);
        assertEq(vm.getRecordedLogs().length, 2); // no slash, no reputation change
        _expectExpired(inSecond, false);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(reputation.scoreOf(host), 500);

        _expectExpiredAsLastJobSlashedOnce(between, 4 * PAYMENT);
    }

    /// @dev Expires `id` with a slash, the host's first and its last active job: 5% of the
    ///      minimum stake and 30 reputation points gone; the renter is owed `refunds` in all.
    function _expectExpiredAsLastJobSlashedOnce(uint256 id, uint256 refunds) internal {
        _expectExpired(id, true);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 50 ether);
        assertEq(reputation.scoreOf(host), 470);
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.claimable(renter, ETH), refunds);
    }

    /// @dev The excuse needs the claim before the pause ended. A job claimed in the very second
    ///      of the unpause, or in the grace hour after it, knew its deadline: slashed, although
    ///      the deadline is inside the grace. One claimed in the very second the pause began
    ///      (before it) and one claimed long before are excused.
    function test_expireJob_claimedAfterUnpause_deadlineInGrace_slashed() public {
        uint256 pausedAt = T0 + 10 minutes;
        uint256 unpausedAt = T0 + 2 hours;
        uint40 dl = uint40(unpausedAt + 30 minutes);
        uint256 before = _claimedAt(dl); // claimed at T0
        uint256 atPause = _create(INPUT, ETH, PAYMENT, dl);
        uint256 atUnpause = _create(INPUT, ETH, PAYMENT, dl);
        uint256 inGrace = _create(INPUT, ETH, PAYMENT, dl);
        vm.warp(pausedAt);
        _claimAs(atPause, host);
        marketplace.pause();
        vm.prank(host);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        marketplace.claimJob(atUnpause, host);
        _unpauseAt(unpausedAt);
        _claimAs(atUnpause, host); // claimedAt == unpausedAt: not before the end of the pause
        vm.warp(unpausedAt + 1);
        _claimAs(inGrace, host);
        // the claim time is not shown: completedAt stays 0 until completion
        _assertJob(inGrace, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Claimed, dl, 0, bytes32(0)));
        vm.warp(dl + 1);
        assertEq(marketplace.activeJobsOf(host), 4);

        _expectExpired(before, false);
        _expectExpired(atPause, false);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(reputation.scoreOf(host), 500);

        uint256 slash = 50 ether;
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(atUnpause, host, stranger, PAYMENT, true);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Expiry, 10_000, 500, 470);
        vm.expectEmit(address(staking));
        emit IStaking.StakeSlashed(host, slash, 0, address(slashing));
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.MissedDeadline, atUnpause, slash, renter, slash / 2, slash / 2);
        vm.prank(stranger);
        marketplace.expireJob(atUnpause);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 50 ether);

        _expectExpired(inGrace, true); // 5% of the 950 left
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 50 ether - 47.5 ether);
        assertEq(token.balanceOf(renter), 25 ether + 23.75 ether);
        assertEq(token.balanceOf(treasury), 25 ether + 23.75 ether);
        assertEq(reputation.scoreOf(host), 440);
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.claimable(renter, ETH), 4 * PAYMENT);
    }

    /// @dev Claimed before a pause whose span holds the deadline, expired weeks later after four
    ///      more pauses: still excused. A job whose deadline fell between two of those pauses is
    ///      slashed at the same time.
    function test_expireJob_claimedBeforePause_excusedAfterSeveralLaterPauses() public {
        uint40 dl = uint40(T0 + 1 hours);
        uint256 id = _claimedAt(dl);
        uint256 between = _claimedAt(uint40(T0 + 12 hours));
        _pauseAt(T0 + 30 minutes);
        _unpauseAt(T0 + 3 hours);
        for (uint256 i = 1; i <= 4; ++i) {
            _pauseAt(T0 + i * 1 days);
            _unpauseAt(T0 + i * 1 days + 2 hours);
        }
        assertEq(marketplace.pauseCount(), 5);
        _assertPauseWindow(0, T0 + 30 minutes, T0 + 3 hours);
        _assertPauseWindow(4, T0 + 4 days, T0 + 4 days + 2 hours);
        vm.warp(T0 + 20 days);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, host, stranger, PAYMENT, false);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.recordLogs();
        vm.prank(stranger);
        marketplace.expireJob(id);
        assertEq(vm.getRecordedLogs().length, 2);
        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Expired, dl, 0, bytes32(0)));
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(reputation.scoreOf(host), 500);
        assertEq(marketplace.activeJobsOf(host), 1);

        _expectExpiredAsLastJobSlashedOnce(between, 2 * PAYMENT);
    }

    /// @dev The covering pause is found by binary search over five pauses: deadlines at each
    ///      pause's edges (pausedAt - 1, pausedAt, inside, unpausedAt, the last second of the
    ///      grace, the end of the grace) and between pauses. Pause 3 is a zero-length pause and
    ///      pause 4 starts inside its grace, so from pause 4's start on only pause 4 counts.
    ///      Every job is claimed at T0, before all pauses, and expired after all of them.
    function test_expireJob_pauseExcuseAcrossManyPauses() public {
        uint256[5] memory p = [T0 + 1 days, T0 + 2 days, T0 + 3 days, T0 + 4 days, T0 + 4 days + 30 minutes];
        uint256[5] memory u = [T0 + 1 days + 2 hours, T0 + 2 days + 30 minutes, T0 + 3 days + 6 hours, T0 + 4 days, T0 + 4 days + 2 hours];
        uint256 g = 1 hours;
        // (deadline, excused), hand-written rather than derived from the pause list
        uint256[2][] memory cases = new uint256[2][](30);
        uint256 n;
        cases[n++] = [T0 + 1 hours, 0]; // before any pause
        cases[n++] = [p[0] - 1, 0];
        cases[n++] = [p[0], 1];
        cases[n++] = [p[0] + 1 hours, 1];
        cases[n++] = [u[0], 1];
        cases[n++] = [u[0] + g - 1, 1];
        cases[n++] = [u[0] + g, 0];
        cases[n++] = [T0 + 1 days + 12 hours, 0]; // between pauses 0 and 1
        cases[n++] = [p[1] - 1, 0];
        cases[n++] = [p[1], 1];
        cases[n++] = [u[1], 1];
        cases[n++] = [u[1] + g - 1, 1];
        cases[n++] = [u[1] + g, 0];
        cases[n++] = [T0 + 2 days + 12 hours, 0]; // between pauses 1 and 2
        cases[n++] = [p[2] - 1, 0];
        cases[n++] = [p[2], 1];
        cases[n++] = [p[2] + 3 hours, 1];
        cases[n++] = [u[2] + g - 1, 1];
        cases[n++] = [u[2] + g, 0];
        cases[n++] = [p[3] - 1, 0];
        cases[n++] = [p[3], 1]; // the zero-length pause (also its unpausedAt)
        cases[n++] = [p[4] - 1, 1]; // in pause 3's grace
        cases[n++] = [p[4], 1];
        cases[n++] = [u[3] + g - 1, 1]; // pause 3's grace, but inside pause 4
        cases[n++] = [u[3] + g, 1]; // past pause 3's grace, inside pause 4
        cases[n++] = [u[4], 1];
        cases[n++] = [u[4] + g - 1, 1];
        cases[n++] = [u[4] + g, 0];
        cases[n++] = [T0 + 6 days, 0]; // after every pause
        cases[n++] = [T0 + 29 days, 0];
        assertEq(n, cases.length);

        uint256[] memory ids = new uint256[](n);
        for (uint256 i; i < n; ++i) {
            ids[i] = _claimedAt(uint40(cases[i][0]));
        }
        for (uint256 i; i < 5; ++i) {
            _pauseAt(p[i]);
            _unpauseAt(u[i]);
        }
        assertEq(marketplace.pauseCount(), 5);
        for (uint256 i; i < 5; ++i) {
            _assertPauseWindow(i, p[i], u[i]);
        }
        vm.warp(T0 + 30 days);

        uint256 slashes;
        for (uint256 i; i < n; ++i) {
            bool excused = cases[i][1] == 1;
            uint256 stakeBefore = staking.activeStakeOf(host);
            uint16 scoreBefore = reputation.scoreOf(host);
            _expectExpired(ids[i], !excused);
            if (excused) {
                assertEq(staking.activeStakeOf(host), stakeBefore, vm.toString(cases[i][0] - T0));
                assertEq(reputation.scoreOf(host), scoreBefore);
            } else {
                ++slashes;
                assertEq(staking.activeStakeOf(host), stakeBefore - stakeBefore * 500 / 10_000, vm.toString(cases[i][0] - T0));
                assertLt(reputation.scoreOf(host), scoreBefore);
            }
        }
        assertEq(slashes, 13);
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.claimable(renter, ETH), n * PAYMENT);
    }

    /// @dev Before any pause the recorded window is empty (0, 0): nothing is excused.
    function test_expireJob_noPauseEver_slashes() public {
        uint256 id = _claimedAt(uint40(T0 + 1));
        vm.warp(T0 + 2);
        _expectExpired(id, true);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 50 ether);
    }

    // ---- fuzz: the pause excuse and the dispute window against an independent model ---------

    /// @dev 1..5 pauses from a seed: gaps of up to 2 days (1 in 3 under an hour, so pauses start
    ///      in the previous grace; 0 is a pause in the very second of the unpause) and lengths
    ///      of up to a day (1 in 4 zero).
    function _pausePlan(uint256 count, uint256 seed) internal pure returns (uint256[] memory p, uint256[] memory u) {
        uint256 n = count % 5 + 1;
        p = new uint256[](n);
        u = new uint256[](n);
        uint256 t = T0;
        for (uint256 i; i < n; ++i) {
            uint256 r = uint256(keccak256(abi.encode(seed, i)));
            p[i] = t + (r % 3 == 0 ? (r >> 2) % 1 hours : (r >> 2) % 2 days);
            u[i] = p[i] + ((r >> 64) % 4 == 0 ? 0 : (r >> 66) % 1 days);
            t = u[i];
        }
    }

    /// @dev A time near pause `(s >> 3) % n`'s edges or uniform in [lo, hi], from a seed.
    function _pickTime(uint256 s, uint256[] memory p, uint256[] memory u, uint256 lo, uint256 hi)
        internal
        pure
        returns (uint256 t)
    {
        uint256 k = (s >> 3) % p.length;
        uint256 m = s % 8;
        if (m == 0) t = p[k] - 1;
        else if (m == 1) t = p[k];
        else if (m == 2) t = u[k];
        else if (m == 3) t = u[k] + 1 hours - 1;
        else if (m == 4) t = u[k] + 1 hours;
        else if (m == 5) t = u[k] - 1;
        else t = lo + (s >> 16) % (hi - lo + 1);
        if (t < lo) t = lo;
        if (t > hi) t = hi;
    }

    /// @dev The model: the last pause that began at or before `t` (scanning back), and whether
    ///      `t` is before its unpause plus the grace (an ongoing one, unpausedAt 0, covers all).
    function _modelCovering(uint256[] memory p, uint256[] memory u, uint256 t)
        internal
        pure
        returns (bool covered, uint256 k)
    {
        for (uint256 i = p.length; i > 0; --i) {
            if (p[i - 1] <= t) {
                k = i - 1;
                return (u[k] == 0 || t < u[k] + 1 hours, k);
            }
        }
        return (false, 0);
    }

    /// @dev slashed == claimed && !(deadline covered by pause k && claimedAt < unpausedAt_k),
    ///      with the claim attempted at any time (moved to the unpause when it falls inside a
    ///      pause; never made when that is past the deadline), for 1..5 pauses. Checked on the
    ///      event, the stake, the reputation, the refund and the recorded pause windows.
    function testFuzz_expireJob_pauseExcuseMatchesModel(uint256 count, uint256 planSeed, uint256 dlSeed, uint256 claimSeed)
        public
    {
        (uint256[] memory p, uint256[] memory u) = _pausePlan(count, planSeed);
        uint256 n = p.length;
        uint256 dl = _pickTime(dlSeed, p, u, T0 + 1, u[n - 1] + 2 days);
        uint256 c = _pickTime(claimSeed, p, u, T0, dl);
        uint256 id = _create(INPUT, ETH, PAYMENT, uint40(dl));

        bool claimed;
        bool willClaim = true;
        for (uint256 i; i < n; ++i) {
            if (willClaim && !claimed && c <= p[i]) {
                vm.warp(c);
                _claimAs(id, host);
                claimed = true;
            }
            _pauseAt(p[i]);
            if (!claimed && c > p[i] && c < u[i]) {
                c = u[i]; // a claim is refused in a pause: made at the unpause instead, if still in time
                if (c > dl) willClaim = false;
            }
            _unpauseAt(u[i]);
        }
        if (willClaim && !claimed) {
            vm.warp(c);
            _claimAs(id, host);
            claimed = true;
        }
        if (block.timestamp <= dl) vm.warp(dl + 1);

        bool slashed;
        if (claimed) {
            (bool covered, uint256 k) = _modelCovering(p, u, dl);
            slashed = !(covered && c < u[k]);
        }
        assertEq(marketplace.pauseCount(), n);
        for (uint256 i; i < n; ++i) {
            _assertPauseWindow(i, p[i], u[i]);
        }
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, claimed ? host : address(0), stranger, PAYMENT, slashed);
        vm.prank(stranger);
        marketplace.expireJob(id);
        assertEq(staking.activeStakeOf(host), slashed ? MIN_STAKE - 50 ether : MIN_STAKE);
        assertEq(token.balanceOf(renter), slashed ? 25 ether : 0);
        assertEq(reputation.scoreOf(host), slashed ? 470 : 500);
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Expired));
    }

    /// @dev disputeWindowEnd == completedAt + window, or unpausedAt_k + grace when pause k covers
    ///      that, or type(uint256).max while k lasts; after 1..5 pauses and now and then during a
    ///      last, ongoing one. The end is then probed: release refused at it and done a second
    ///      later, or a dispute accepted at its last second.
    function testFuzz_disputeWindowEnd_matchesModel(
        uint256 count,
        uint256 planSeed,
        uint256 doneSeed,
        uint64 window,
        uint256 lastPause,
        bool probeDispute
    ) public {
        window = uint64(bound(window, 10 minutes, 3 days));
        marketplace.setDisputeWindow(window);
        (uint256[] memory p, uint256[] memory u) = _pausePlan(count, planSeed);
        uint256 n = p.length;
        uint256 id = _create(INPUT, ETH, PAYMENT, uint40(T0 + 30 days));
        _claimAs(id, host);
        uint256 c = _pickTime(doneSeed, p, u, T0, u[n - 1] + 1 days);
        bool done;
        for (uint256 i; i < n; ++i) {
            if (!done && c <= p[i]) {
                vm.warp(c);
                _complete(id, OUTPUT);
                done = true;
            }
            _pauseAt(p[i]);
            if (!done && c > p[i] && c < u[i]) c = u[i]; // completions wait for the unpause
            _unpauseAt(u[i]);
        }
        if (!done) {
            vm.warp(c);
            _complete(id, OUTPUT);
        }
        assertEq(marketplace.getJob(id).completedAt, c);

        // 1 in 3: one more pause, still going, starting up to a day and a half after now
        uint256[] memory pp = p;
        uint256[] memory uu = u;
        if (lastPause % 3 == 0) {
            pp = new uint256[](n + 1);
            uu = new uint256[](n + 1);
            for (uint256 i; i < n; ++i) {
                (pp[i], uu[i]) = (p[i], u[i]);
            }
            pp[n] = block.timestamp + (lastPause >> 2) % 36 hours;
            _pauseAt(pp[n]); // uu[n] stays 0: ongoing
        }
        uint256 end = c + window;
        while (true) {
            (bool covered, uint256 k) = _modelCovering(pp, uu, end);
            if (!covered) break;
            if (uu[k] == 0) {
                end = type(uint256).max;
                break;
            }
            end = uu[k] + 1 hours;
        }
        assertEq(marketplace.disputeWindowEnd(id), end);

        if (end == type(uint256).max) {
            vm.warp(block.timestamp + 60 days);
            vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, id, end));
            marketplace.releasePayments(_ids(id));
            return;
        }
        if (probeDispute && !marketplace.paused() && end >= block.timestamp) {
            vm.warp(end);
            _dispute(id);
            assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Disputed));
            assertEq(marketplace.disputeWindowEnd(id), end);
            return;
        }
        if (end >= block.timestamp) {
            vm.warp(end);
            vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, id, end));
            marketplace.releasePayments(_ids(id));
            vm.warp(end + 1);
        }
        marketplace.releasePayments(_ids(id)); // not pausable
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Paid));
        assertEq(marketplace.claimable(host, ETH), HOST_AMOUNT);
    }

    // ---- dispute window end -----------------------------------------------------------------

    /// @dev Without a pause the end is completedAt + the window in force; only a Completed or
    ///      Disputed job has one.
    function test_disputeWindowEnd_withoutPause() public {
        vm.expectRevert(_unknown(1));
        marketplace.disputeWindowEnd(1);
        uint256 open = _createJob();
        uint256 claimed = _claimedJob();
        uint256 cancelled = _createJob();
        vm.prank(renter);
        marketplace.cancelJob(cancelled);
        vm.expectRevert(_wrongStatus(open, IJobMarketplace.Status.Open));
        marketplace.disputeWindowEnd(open);
        vm.expectRevert(_wrongStatus(claimed, IJobMarketplace.Status.Claimed));
        marketplace.disputeWindowEnd(claimed);
        vm.expectRevert(_wrongStatus(cancelled, IJobMarketplace.Status.Cancelled));
        marketplace.disputeWindowEnd(cancelled);

        vm.warp(T0 + 100);
        uint256 done = _completedJob();
        uint256 disputed = _completedJob();
        uint256 refunded = _completedJob();
        assertEq(marketplace.disputeWindowEnd(done), T0 + 100 + 1 days);
        _dispute(disputed);
        _dispute(refunded);
        assertEq(marketplace.disputeWindowEnd(disputed), T0 + 100 + 1 days);
        slashing.resolveDispute(refunded, true);
        vm.expectRevert(_wrongStatus(refunded, IJobMarketplace.Status.Refunded));
        marketplace.disputeWindowEnd(refunded);
        // the window in force applies
        marketplace.setDisputeWindow(2 days);
        assertEq(marketplace.disputeWindowEnd(done), T0 + 100 + 2 days);
        assertEq(marketplace.disputeWindowEnd(disputed), T0 + 100 + 2 days);
        // a pause that begins after the end moves nothing, even while it lasts
        _pauseAt(T0 + 100 + 2 days + 1);
        assertEq(marketplace.disputeWindowEnd(done), T0 + 100 + 2 days);
        assertEq(marketplace.disputeWindowEnd(disputed), T0 + 100 + 2 days);
        marketplace.releasePayments(_ids(done)); // not pausable, and this end is not covered
        assertEq(uint8(_status(done)), uint8(IJobMarketplace.Status.Paid));
        marketplace.unpause();
        slashing.resolveDispute(disputed, false); // back to Completed, its window over
        assertEq(marketplace.disputeWindowEnd(disputed), T0 + 100 + 2 days);
        marketplace.releasePayments(_ids(disputed));
        vm.expectRevert(_wrongStatus(disputed, IJobMarketplace.Status.Paid));
        marketplace.disputeWindowEnd(disputed);
        vm.expectRevert(_wrongStatus(done, IJobMarketplace.Status.Paid));
        marketplace.disputeWindowEnd(done);
        vm.warp(block.timestamp + 1 days);
        marketplace.expireJob(claimed);
        vm.expectRevert(_wrongStatus(claimed, IJobMarketplace.Status.Expired));
        marketplace.disputeWindowEnd(claimed);
    }

    /// @dev A pause covering the nominal end: type(uint256).max while it lasts, then the end of
    ///      its grace. Edges: an end one second before the pause (not moved), at its first second
    ///      (moved), at the last second of the grace (moved to the grace end) and at the grace
    ///      end itself (not covered: the same value, unmoved), and one after (unmoved).
    function test_disputeWindowEnd_coveredByPause() public {
        uint256 pausedAt = T0 + 1 days + 1;
        uint256 unpausedAt = T0 + 1 days + 19 hours;
        uint256 graceEnd = unpausedAt + 1 hours;
        uint256 a = _completedJob(); // nominal end T0 + 1 day: the second before the pause
        vm.warp(T0 + 1);
        uint256 b = _completedJob(); // nominal end == pausedAt
        vm.warp(graceEnd - 1 days - 1);
        uint256 c = _completedJob(); // nominal end == graceEnd - 1
        vm.warp(graceEnd - 1 days);
        uint256 d = _completedJob(); // nominal end == graceEnd
        vm.warp(graceEnd - 1 days + 1);
        uint256 e = _completedJob(); // nominal end == graceEnd + 1
        assertEq(marketplace.disputeWindowEnd(a), T0 + 1 days);
        assertEq(marketplace.disputeWindowEnd(b), pausedAt);
        assertEq(marketplace.disputeWindowEnd(c), graceEnd - 1);

        _pauseAt(pausedAt);
        assertEq(marketplace.disputeWindowEnd(a), T0 + 1 days);
        assertEq(marketplace.disputeWindowEnd(b), type(uint256).max);
        assertEq(marketplace.disputeWindowEnd(c), type(uint256).max);
        assertEq(marketplace.disputeWindowEnd(d), type(uint256).max);
        assertEq(marketplace.disputeWindowEnd(e), type(uint256).max);
        _unpauseAt(unpausedAt);
        assertEq(marketplace.disputeWindowEnd(a), T0 + 1 days);
        assertEq(marketplace.disputeWindowEnd(b), graceEnd);
        assertEq(marketplace.disputeWindowEnd(c), graceEnd);
        assertEq(marketplace.disputeWindowEnd(d), graceEnd);
        assertEq(marketplace.disputeWindowEnd(e), graceEnd + 1);
        // a later pause does not change ends an earlier one moved
        _pauseAt(T0 + 10 days);
        _unpauseAt(T0 + 11 days);
        assertEq(marketplace.disputeWindowEnd(b), graceEnd);
        assertEq(marketplace.disputeWindowEnd(e), graceEnd + 1);
    }

    /// @dev The end is moved once, by the pause covering the nominal end. If that pause's grace
    ///      ends inside a next pause, it is not moved again (the specified rule): during the
    ///      second pause, past the first grace, the payment can be released although no dispute
    ///      can be opened. Pinned so a change of the rule shows here.
    /// @dev The first pause's grace ends inside a second pause: the end moves on to the second
    ///      pause's grace, so the host is never paid while the renter cannot dispute.
    function test_disputeWindowEnd_graceEndingInNextPauseMovesAgain() public {
        uint256 id = _completedJob(); // nominal end T0 + 1 day
        _pauseAt(T0 + 20 hours);
        _unpauseAt(T0 + 1 days + 2 hours);
        _pauseAt(T0 + 1 days + 2 hours + 30 minutes); // inside the first grace
        assertEq(marketplace.disputeWindowEnd(id), type(uint256).max, "open while the second pause lasts");
        vm.warp(T0 + 1 days + 3 hours + 1); // past the first grace end
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, id, type(uint256).max));
        marketplace.releasePayments(_ids(id));

        _unpauseAt(T0 + 1 days + 5 hours);
        uint256 end = T0 + 1 days + 6 hours;
        assertEq(marketplace.disputeWindowEnd(id), end);
        vm.warp(end);
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Disputed));
    }

    /// @dev A nominal end inside a pause: releasePayments is refused with the moved end while the
    ///      pause lasts (type(uint256).max) and until the end of the grace, and works a second later.
    function test_releasePayments_refusedWhileWindowEndCovered() public {
        uint256 id = _completedJob(); // nominal end T0 + 1 day
        _pauseAt(T0 + 23 hours);
        vm.warp(T0 + 1 days + 1); // the nominal window is over
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, id, type(uint256).max));
        marketplace.releasePayments(_ids(id));
        vm.warp(T0 + 1 days + 23 hours);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, id, type(uint256).max));
        marketplace.releasePayments(_ids(id));

        _unpauseAt(T0 + 2 days);
        uint256 end = T0 + 2 days + 1 hours;
        bytes memory open = abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, id, end);
        vm.expectRevert(open);
        marketplace.releasePayments(_ids(id));
        vm.warp(end);
        vm.expectRevert(open);
        marketplace.releasePayments(_ids(id));
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));

        vm.warp(end + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, HOST_AMOUNT, FEE, FEE_WEIGHT);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(host, ETH, HOST_AMOUNT);
        marketplace.releasePayments(_ids(id));
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Paid));
        assertEq(marketplace.claimable(host, ETH), HOST_AMOUNT);
        assertEq(marketplace.activeJobsOf(host), 0);
    }

    /// @dev The renter who could not dispute during the pause may still do so after the nominal
    ///      window, up to the last second of the grace; a second later it is closed.
    function test_disputeJob_afterNominalWindowWhenEndFellInPause() public {
        uint256 a = _completedJob();
        uint256 b = _completedJob(); // both: nominal end T0 + 1 day
        _pauseAt(T0 + 20 hours);
        vm.warp(T0 + 1 days + 1);
        vm.prank(renter);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        marketplace.disputeJob{value: BOND}(a, EVIDENCE);
        _unpauseAt(T0 + 1 days + 5 hours);
        uint256 end = T0 + 1 days + 6 hours;
        assertEq(marketplace.disputeWindowEnd(a), end);

        vm.warp(end);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobDisputed(a, renter, EVIDENCE);
        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeOpened(a, renter, host, BOND, EVIDENCE, uint40(block.timestamp + 14 days));
        _dispute(a);
        assertEq(uint8(_status(a)), uint8(IJobMarketplace.Status.Disputed));
        assertEq(marketplace.disputeWindowEnd(a), end);
        assertEq(address(slashing).balance, BOND);

        vm.warp(end + 1);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowClosed.selector, b, end));
        marketplace.disputeJob{value: BOND}(b, EVIDENCE);
        marketplace.releasePayments(_ids(b));
        assertEq(uint8(_status(b)), uint8(IJobMarketplace.Status.Paid));
        // the rejected dispute of `a` makes it releasable at once, the moved window being over
        slashing.resolveDispute(a, false);
        marketplace.releasePayments(_ids(a));
        assertEq(marketplace.claimable(host, ETH), 2 * HOST_AMOUNT);
    }

    /// @dev getJob shows completedAt only with an output: 0 while Open and Claimed (the slot
    ///      holds the claim time then), the completion time once Completed, 0 again once Expired.
    function test_getJob_completedAtZeroWhileClaimed() public {
        vm.warp(T0 + 7);
        uint40 dl = uint40(T0 + 1 hours);
        uint256 id = _create(INPUT, ETH, PAYMENT, dl);
        uint256 lapsed = _create(INPUT, ETH, PAYMENT, dl);
        _assertJob(id, _job(address(0), ETH, PAYMENT, FEE, IJobMarketplace.Status.Open, dl, 0, bytes32(0)));
        vm.warp(T0 + 10);
        _claimAs(id, host);
        _claimAs(lapsed, host);
        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Claimed, dl, 0, bytes32(0)));
        vm.warp(T0 + 20);
        _complete(id, OUTPUT);
        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Completed, dl, uint40(T0 + 20), OUTPUT));
        assertEq(marketplace.disputeWindowEnd(id), T0 + 20 + 1 days);
        vm.warp(dl + 1);
        marketplace.expireJob(lapsed);
        _assertJob(lapsed, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Expired, dl, 0, bytes32(0)));
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
            marketplace.setTokenAllowed(address(1), true);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setProtocolFee(1);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setTreasury(c);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setDisputeWindow(2 days);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setMaxJobDuration(2 days);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setAssetFees(ETH, 0, 0);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.setMaxGuardianPause(1 days);
            vm.expectRevert(_unauthorized(c, role));
            marketplace.grantRole(proofRole, c);
            vm.stopPrank();
        }
        assertEq(address(marketplace.slashing()), address(slashing));
        assertEq(marketplace.protocolFeeBps(), 100);
        assertEq(marketplace.treasury(), treasury);
        assertEq(marketplace.disputeWindow(), 1 days);
        assertEq(marketplace.maxJobDuration(), 30 days);
        assertEq(marketplace.assetFees(ETH).minFee, 0.0001 ether);
        assertEq(marketplace.assetFees(ETH).creditFee, 0.005 ether);
        assertEq(marketplace.maxGuardianPause(), 3 days);
        // VOUCH stays allowed (SystemDeployer); a fresh token stays refused
        assertTrue(marketplace.tokenAllowed(address(token)));
        assertFalse(marketplace.tokenAllowed(address(1)));
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

    /// @dev The new slashing contract gets the role; the previous one keeps it (no RoleRevoked)
    ///      so the disputes open there can still be settled, until governance revokes it.
    function test_setSlashing_grantsRoleAndKeepsPrevious() public {
        uint256 old = _completedJob();
        _dispute(old); // opened in the current slashing contract
        Slashing next = new Slashing(staking, registry, reputation, marketplace, treasury, admin);
        bytes32 role = marketplace.SLASHING_ROLE();

        vm.expectEmit(address(marketplace));
        emit IAccessControl.RoleGranted(role, address(next), admin);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.SlashingSet(address(next));
        vm.recordLogs();
        marketplace.setSlashing(next);
        assertEq(vm.getRecordedLogs().length, 2); // granted and set, nothing revoked
        assertEq(address(marketplace.slashing()), address(next));
        assertTrue(marketplace.hasRole(role, address(next)));
        assertTrue(marketplace.hasRole(role, address(slashing)));

        // new disputes go to the new contract
        uint256 fresh = _completedJob();
        uint256 late = _completedJob(); // disputed below, after the revocation
        _dispute(fresh);
        assertEq(uint8(next.getDispute(fresh).status), uint8(ISlashing.DisputeStatus.Open));
        assertEq(uint8(slashing.getDispute(fresh).status), uint8(ISlashing.DisputeStatus.None));
        assertEq(address(next).balance, BOND);

        // the previous contract still settles its own open dispute (upheld: refund and slash)
        slashing.resolveDispute(old, true);
        assertEq(uint8(_status(old)), uint8(IJobMarketplace.Status.Refunded));
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 100 ether);
        // and the new one its own (rejected)
        next.resolveDispute(fresh, false);
        assertEq(uint8(_status(fresh)), uint8(IJobMarketplace.Status.Completed));
        assertEq(next.bondBalance(host), BOND);

        // once its disputes are settled governance revokes the previous contract
        vm.expectEmit(address(marketplace));
        emit IAccessControl.RoleRevoked(role, address(slashing), admin);
        marketplace.revokeRole(role, address(slashing));
        assertFalse(marketplace.hasRole(role, address(slashing)));
        _dispute(late);
        assertEq(uint8(next.getDispute(late).status), uint8(ISlashing.DisputeStatus.Open));
        vm.prank(address(slashing));
        vm.expectRevert(_unauthorized(address(slashing), role));
        marketplace.settleDispute(late, ISlashing.DisputeStatus.Upheld);
        assertEq(uint8(_status(late)), uint8(IJobMarketplace.Status.Disputed));

        vm.expectRevert(IJobMarketplace.InvalidParameter.selector);
        marketplace.setSlashing(ISlashing(address(0)));
        assertEq(address(marketplace.slashing()), address(next));
    }

    /// @dev Setting the same contract again is harmless: it keeps its role, no second grant event.
    function test_setSlashing_sameContractAgain() public {
        bytes32 role = marketplace.SLASHING_ROLE();
        vm.recordLogs();
        marketplace.setSlashing(slashing);
        assertEq(vm.getRecordedLogs().length, 1); // SlashingSet only: the role was already held
        assertTrue(marketplace.hasRole(role, address(slashing)));
        assertEq(address(marketplace.slashing()), address(slashing));
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
        assertEq(j.fee, 0);
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

    /// @dev A job counts from its claim until it is final: completion does not end it (a dispute
    ///      may still come), payment and expiry do.
    function test_activeJobsOf_tracksClaimsUntilFinal() public {
        uint256 a = _claimedJob();
        uint256 b = _claimedJob();
        uint256 c = _claimedJob();
        uint256 d = _createJob();
        assertEq(marketplace.activeJobsOf(host), 3);
        assertEq(marketplace.activeJobsOf(host2), 0); // an open job counts for nobody
        _claimAs(d, host2);
        assertEq(marketplace.activeJobsOf(host), 3);
        assertEq(marketplace.activeJobsOf(host2), 1);
        _complete(a, OUTPUT);
        assertEq(marketplace.activeJobsOf(host), 3); // completed but unpaid
        vm.warp(block.timestamp + 1 hours + 1);
        marketplace.expireJob(b);
        assertEq(marketplace.activeJobsOf(host), 2);
        marketplace.expireJob(d);
        assertEq(marketplace.activeJobsOf(host2), 0);
        // a host with a job in flight or unpaid cannot leave
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 2));
        registry.deregister();
        marketplace.expireJob(c);
        assertEq(marketplace.activeJobsOf(host), 1);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 1));
        registry.deregister();
        // the completed job ends with its payment
        vm.warp(block.timestamp + 1 days);
        marketplace.releasePayments(_ids(a));
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.activeJobsOf(host2), 0);
        vm.prank(host);
        registry.deregister();
        assertFalse(registry.isRegistered(host));
    }

    /// @dev A disputed job stays active; an upheld dispute (Refunded) ends it, a rejected one
    ///      returns it to Completed, still active until its payment is released.
    function test_activeJobsOf_disputes() public {
        uint256 upheld = _completedJob();
        uint256 rejected = _completedJob();
        uint256 endsAt = block.timestamp + 1 days;
        _dispute(upheld);
        _dispute(rejected);
        assertEq(marketplace.activeJobsOf(host), 2);
        slashing.resolveDispute(upheld, true);
        assertEq(uint8(_status(upheld)), uint8(IJobMarketplace.Status.Refunded));
        assertEq(marketplace.activeJobsOf(host), 1);
        slashing.resolveDispute(rejected, false);
        assertEq(uint8(_status(rejected)), uint8(IJobMarketplace.Status.Completed));
        assertEq(marketplace.activeJobsOf(host), 1);
        vm.warp(endsAt + 1);
        marketplace.releasePayments(_ids(rejected));
        assertEq(marketplace.activeJobsOf(host), 0);
        // a terminal job never moves the count again
        vm.expectRevert(_wrongStatus(rejected, IJobMarketplace.Status.Paid));
        marketplace.releasePayments(_ids(rejected));
        assertEq(marketplace.activeJobsOf(host), 0);
    }

    /// @dev settleDispute itself (upheld) ends the job: the count drops there, not in Slashing.
    function test_settleDispute_upheldEndsActiveJob_rejectedDoesNot() public {
        uint256 a = _completedJob();
        uint256 b = _completedJob();
        _dispute(a);
        _dispute(b);
        vm.startPrank(address(slashing));
        marketplace.settleDispute(b, ISlashing.DisputeStatus.Rejected);
        assertEq(marketplace.activeJobsOf(host), 2);
        marketplace.settleDispute(a, ISlashing.DisputeStatus.Upheld);
        assertEq(marketplace.activeJobsOf(host), 1);
        vm.stopPrank();
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

    function test_feeFor_examples() public {
        marketplace.setAssetFees(ETH, 0, 0);
        marketplace.setProtocolFee(250);
        assertEq(marketplace.feeFor(ETH, 10_000), 250);
        assertEq(marketplace.feeFor(ETH, 399), 10, "9.975 rounds up to 10");
        marketplace.setProtocolFee(1000);
        assertEq(marketplace.feeFor(ETH, 9), 1, "0.9 rounds up to 1");
        assertEq(marketplace.feeFor(ETH, 10), 1);
        assertEq(marketplace.feeFor(ETH, 1), 1, "no payment is too small to owe a fee");
        marketplace.setProtocolFee(0);
        assertEq(marketplace.feeFor(ETH, type(uint96).max), 0);
        marketplace.setAssetFees(ETH, 7, 0);
        assertEq(marketplace.feeFor(ETH, 100), 7, "the asset's minimum applies");
        marketplace.setProtocolFee(100);
        assertEq(marketplace.feeFor(ETH, 100_000), 1000, "above the minimum, the rate applies");
        assertEq(marketplace.feeFor(address(usd), 100), 1, "another asset has its own minimum (none)");
    }

    // ---- state machine ----------------------------------------------------------------------

    function test_stateMachine_happyPath() public {
        uint40 dl = _dl();
        uint256 id = _create(INPUT, ETH, PAYMENT, dl);
        _assertJob(id, _job(address(0), ETH, PAYMENT, FEE, IJobMarketplace.Status.Open, dl, 0, bytes32(0)));
        _claimAs(id, host);
        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Claimed, dl, 0, bytes32(0)));
        vm.warp(block.timestamp + 5 minutes);
        uint40 at = uint40(block.timestamp);
        _complete(id, OUTPUT);
        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Completed, dl, at, OUTPUT));
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(id));
        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Paid, dl, at, OUTPUT));
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
        marketplace.settleDispute(id, ISlashing.DisputeStatus.Upheld);
        vm.expectRevert(err);
        marketplace.settleDispute(id, ISlashing.DisputeStatus.Rejected);
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

    function testFuzz_feeFor(uint256 payment, uint16 feeBps, uint96 minFee) public {
        payment = bound(payment, 0, type(uint96).max);
        feeBps = uint16(bound(feeBps, 0, 1000));
        marketplace.setProtocolFee(feeBps);
        marketplace.setAssetFees(ETH, minFee, 0);
        uint256 fee = marketplace.feeFor(ETH, payment);
        uint256 rate = payment * feeBps;
        assertGe(fee, minFee, "at least the minimum");
        // above the minimum: fee = ceil(payment * feeBps / 10_000), by its defining inequalities
        if (fee > minFee) {
            assertGe(fee * 10_000, rate, "fee rounds up");
            assertLt((fee - 1) * 10_000, rate, "fee is the ceiling");
        } else {
            assertLe(rate, uint256(minFee) * 10_000, "the rate fee is not above the minimum");
        }
    }

    /// @dev An independent model of the fee: the rate rounded up, at least the asset's minimum
    ///      (ETH: 0.0001 ether, USD: none).
    function _modelFee(address asset, uint256 payment, uint16 feeBps) internal pure returns (uint256 fee) {
        fee = payment * feeBps / 10_000;
        if (fee * 10_000 < payment * feeBps) ++fee;
        uint256 minFee = asset == ETH ? 0.0001 ether : 0;
        if (fee < minFee) fee = minFee;
    }

    function testFuzz_releaseSplitEndToEnd(uint96 payment, uint16 feeBps, bool useToken) public {
        address asset = useToken ? address(usd) : ETH;
        payment = uint96(bound(payment, 1, useToken ? SUPPLY : type(uint96).max));
        feeBps = uint16(bound(feeBps, 0, 1000));
        vm.deal(renter, uint256(type(uint96).max) + 1 ether);
        marketplace.setProtocolFee(feeBps);
        uint256 fee = _modelFee(asset, payment, feeBps);
        assertEq(marketplace.feeFor(asset, payment), fee);
        if (fee > payment) {
            // only ETH payments under the 0.0001 ether minimum
            assertLt(payment, 0.0001 ether);
            vm.prank(renter);
            vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.PaymentBelowFee.selector, payment, fee));
            marketplace.createJob{value: payment}(MODEL, INPUT, asset, payment, _dl(), address(0), 0);
            return;
        }
        uint256 id = _create(INPUT, asset, payment, _dl());
        assertEq(marketplace.getJob(id).fee, fee);
        _claimAs(id, host);
        _complete(id, OUTPUT);
        marketplace.setProtocolFee(uint16(1000 - feeBps)); // no effect on this job
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(id));

        assertEq(marketplace.claimable(host, asset), payment - fee);
        assertEq(marketplace.claimable(treasury, asset), fee);
        if (payment != fee) {
            vm.prank(host);
            assertEq(marketplace.withdraw(asset), payment - fee);
        }
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
        // an ETH payment must cover the 0.0001 ether minimum fee
        l.payment = uint96(bound(payment, useToken ? 1 : 0.0001 ether, 50 ether));
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
        uint256 fee = _modelFee(l.asset, l.payment, feeBps);
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

    // ======================================================================================
    // ---- hardening: direct offers, minimum reputation, fees, reputation at release,
    //      active job count, guardian pause
    // ======================================================================================

    address internal guardian = makeAddr("guardian");

    function _offer(uint96 payment, address offered, uint16 minRep) internal returns (uint256 id) {
        vm.prank(renter);
        id = marketplace.createJob{value: payment}(MODEL, INPUT, ETH, payment, _dl(), offered, minRep);
    }

    function _repLogs(Vm.Log[] memory logs) internal view returns (uint256 n) {
        for (uint256 i; i < logs.length; ++i) {
            if (logs[i].emitter == address(reputation)) ++n;
        }
    }

    /// @dev A completed job of `renter_` in ETH paying `payment`, claimed by `host`.
    function _completedFrom(address renter_, uint96 payment) internal returns (uint256 id) {
        vm.deal(renter_, renter_.balance + payment);
        vm.prank(renter_);
        id = marketplace.createJob{value: payment}(MODEL, INPUT, ETH, payment, _dl(), address(0), 0);
        _claimAs(id, host);
        _complete(id, OUTPUT);
    }

    function _guardian() internal {
        marketplace.grantRole(marketplace.GUARDIAN_ROLE(), guardian);
    }

    // ---- direct offers ---------------------------------------------------------------------

    function test_directOffer_onlyOfferedHostClaims() public {
        uint40 dl = _dl();
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCreated(1, renter, MODEL, INPUT, ETH, PAYMENT, dl, FEE, host, 0);
        uint256 id = _offer(PAYMENT, host, 0);
        // while Open, host shows the offer; no operator yet
        IJobMarketplace.Job memory e = _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Open, dl, 0, bytes32(0));
        e.operator = address(0);
        _assertJob(id, e);
        assertEq(marketplace.activeJobsOf(host), 0);
        assertEq(marketplace.totalActiveJobs(), 0);

        vm.prank(host2);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotOfferedHost.selector, id, host2, host));
        marketplace.claimJob(id, host2);
        // the caller check comes first
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotHostOrOperator.selector, id, stranger));
        marketplace.claimJob(id, host2);

        // the offered host's operator may claim for it
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobClaimed(id, host, operator, operator);
        vm.prank(operator);
        marketplace.claimJob(id, host);
        _assertJob(id, _job(host, ETH, PAYMENT, FEE, IJobMarketplace.Status.Claimed, dl, 0, bytes32(0)));
        assertEq(marketplace.activeJobsOf(host), 1);
    }

    function test_directOffer_toHostWithoutOperator() public {
        uint256 id = _offer(PAYMENT, host2, 0);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotOfferedHost.selector, id, host, host2));
        marketplace.claimJob(id, host);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobClaimed(id, host2, host2, address(0));
        _claimAs(id, host2);
        assertEq(marketplace.getJob(id).host, host2);
        assertEq(marketplace.getJob(id).operator, address(0));
    }

    function test_directOffer_clearedOnCancel() public {
        uint256 id = _offer(PAYMENT, host, 0);
        assertEq(marketplace.getJob(id).host, host);
        vm.prank(renter);
        marketplace.cancelJob(id);
        assertEq(marketplace.getJob(id).host, address(0));
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Cancelled));
    }

    function test_directOffer_clearedOnExpire() public {
        uint256 id = _offer(PAYMENT, host, 0);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobExpired(id, address(0), stranger, PAYMENT, false);
        vm.recordLogs();
        vm.prank(stranger);
        marketplace.expireJob(id);
        assertEq(_repLogs(vm.getRecordedLogs()), 0);
        assertEq(marketplace.getJob(id).host, address(0));
        assertEq(staking.activeStakeOf(host), MIN_STAKE); // the offered host is never slashed
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
    }

    // ---- recorded operator -------------------------------------------------------------------

    /// @dev The operator is recorded at claim and stays when the host rotates it.
    function test_claimJob_recordsOperator_keptAfterRotation() public {
        uint256 id = _claimedJob();
        assertEq(marketplace.getJob(id).operator, operator);
        address next = makeAddr("operator2");
        vm.prank(host);
        registry.setOperator(next);
        assertEq(marketplace.getJob(id).operator, operator);
        uint256 id2 = _createJob();
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobClaimed(id2, host, next, next);
        vm.prank(next);
        marketplace.claimJob(id2, host);
        assertEq(marketplace.getJob(id2).operator, next);
    }

    // ---- minimum reputation ------------------------------------------------------------------

    function test_createJob_revertsOnInvalidMinReputation() public {
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.InvalidMinReputation.selector, uint16(1001)));
        marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), 1001);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.InvalidMinReputation.selector, type(uint16).max));
        marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), type(uint16).max);
        assertEq(marketplace.jobCount(), 0);
        uint40 dl = _dl();
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobCreated(1, renter, MODEL, INPUT, ETH, PAYMENT, dl, FEE, address(0), 1000);
        uint256 id = _offer(PAYMENT, address(0), 1000);
        assertEq(marketplace.getJob(id).minReputation, 1000);
    }

    /// @dev Checked against scoreOf (no stake boost): a fresh host (500, effective 505 with its
    ///      1000 VOUCH) is refused a 501 job with its exact score and admitted at exactly 500.
    function test_claimJob_minReputation() public {
        assertEq(reputation.effectiveScoreOf(host), 505);
        uint256 high = _offer(PAYMENT, address(0), 501);
        uint256 boosted = _offer(PAYMENT, address(0), 505);
        uint256 equal = _offer(PAYMENT, address(0), 500);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.ReputationTooLow.selector, host, uint16(500), uint16(501)));
        marketplace.claimJob(high, host);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.ReputationTooLow.selector, host, uint16(500), uint16(505)));
        marketplace.claimJob(boosted, host);
        _claimAs(equal, host);
        assertEq(uint8(_status(equal)), uint8(IJobMarketplace.Status.Claimed));

        // with a higher score the host gets in; exactly equal passes, one more does not
        reputation.grantRole(reputation.WRITER_ROLE(), address(this));
        reputation.record(host, IReputationRegistry.Outcome.Completion, 20_000); // +10
        assertEq(reputation.scoreOf(host), 510);
        uint256 at510 = _offer(PAYMENT, address(0), 510);
        uint256 at511 = _offer(PAYMENT, address(0), 511);
        _claimAs(high, host);
        _claimAs(at510, host);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.ReputationTooLow.selector, host, uint16(510), uint16(511)));
        marketplace.claimJob(at511, host);
        assertEq(marketplace.activeJobsOf(host), 3);
    }

    // ---- fees --------------------------------------------------------------------------------

    function test_feeFor_defaultsRoundUpAndMinimum() public view {
        assertEq(marketplace.feeFor(ETH, PAYMENT), FEE);
        assertEq(marketplace.feeFor(ETH, 0.01 ether), 0.0001 ether); // 1% is the minimum exactly
        assertEq(marketplace.feeFor(ETH, 0.01 ether + 1), 0.0001 ether + 1); // rounds up
        assertEq(marketplace.feeFor(ETH, 0.01 ether - 1), 0.0001 ether); // the minimum
        assertEq(marketplace.feeFor(ETH, 1), 0.0001 ether);
        assertEq(marketplace.feeFor(ETH, 0.5 ether), 0.005 ether); // a full credit
        assertEq(marketplace.feeFor(address(token), 10 ether), 1 ether); // VOUCH's minimum
        assertEq(marketplace.feeFor(address(token), 1250 ether), 12.5 ether); // a full credit
        assertEq(marketplace.feeFor(address(usd), 1), 1); // no minimum, 0.01 rounds up to 1
        assertEq(marketplace.feeFor(address(usd), 100), 1);
        assertEq(marketplace.feeFor(address(usd), 101), 2);
    }

    function test_createJob_revertsOnPaymentBelowFee() public {
        uint96 below = 0.0001 ether - 1;
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.PaymentBelowFee.selector, below, 0.0001 ether));
        marketplace.createJob{value: below}(MODEL, INPUT, ETH, below, _dl(), address(0), 0);
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.PaymentBelowFee.selector, 1, 0.0001 ether));
        marketplace.createJob{value: 1}(MODEL, INPUT, ETH, 1, _dl(), address(0), 0);
        token.transfer(renter, 10 ether);
        vm.startPrank(renter);
        token.approve(address(marketplace), 10 ether);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.PaymentBelowFee.selector, 0.5 ether, 1 ether));
        marketplace.createJob(MODEL, INPUT, address(token), 0.5 ether, _dl(), address(0), 0);
        vm.stopPrank();
        assertEq(marketplace.jobCount(), 0);

        // a payment equal to the fee is accepted; the host is then owed nothing
        uint256 id = _offer(0.0001 ether, address(0), 0);
        assertEq(marketplace.getJob(id).fee, 0.0001 ether);
        _claimAs(id, host);
        _complete(id, OUTPUT);
        vm.warp(block.timestamp + 1 days + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, 0, 0.0001 ether, 200); // 0.0001 / 0.005
        marketplace.releasePayments(_ids(id));
        assertEq(marketplace.claimable(host, ETH), 0);
        assertEq(marketplace.claimable(treasury, ETH), 0.0001 ether);
    }

    function test_setAssetFees() public {
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.AssetFeesSet(address(usd), 3, 1e6);
        marketplace.setAssetFees(address(usd), 3, 1e6);
        assertEq(marketplace.assetFees(address(usd)).minFee, 3);
        assertEq(marketplace.assetFees(address(usd)).creditFee, 1e6);
        assertEq(marketplace.feeFor(address(usd), 100), 3);
        // zero both is allowed (no minimum, no reputation)
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.AssetFeesSet(ETH, 0, 0);
        marketplace.setAssetFees(ETH, 0, 0);
        assertEq(marketplace.feeFor(ETH, 1), 1);

        address[4] memory callers = [stranger, renter, host, guardian];
        bytes32 role = marketplace.DEFAULT_ADMIN_ROLE();
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(_unauthorized(callers[i], role));
            marketplace.setAssetFees(address(usd), 0, 0);
        }
        assertEq(marketplace.assetFees(address(usd)).minFee, 3);
    }

    /// @dev The fee (with its minimum) is fixed at creation: raising the minimum later changes
    ///      neither the job's fee nor what the host gets; the credit fee at release sets the weight.
    function test_fee_fixedAtCreation_minFee() public {
        uint256 id = _offer(0.005 ether, address(0), 0); // 1% = 0.00005 < min: fee 0.0001
        assertEq(marketplace.getJob(id).fee, 0.0001 ether);
        marketplace.setAssetFees(ETH, 0.004 ether, 0.001 ether);
        _claimAs(id, host);
        _complete(id, OUTPUT);
        vm.warp(block.timestamp + 1 days + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, 0.0049 ether, 0.0001 ether, 1000);
        marketplace.releasePayments(_ids(id));
        assertEq(marketplace.getJob(id).fee, 0.0001 ether);
    }

    // ---- reputation at release ---------------------------------------------------------------

    /// @dev One ReputationChanged per run of consecutive jobs of one host, with the summed weight,
    ///      emitted when the run ends (full-credit jobs: 0.5 ether pays 0.005 ether).
    function test_releasePayments_reputationPerHostRun() public {
        uint96 full = 0.5 ether;
        uint256 a = _completedFrom(renter, full);
        uint256 b = _completedFrom(renter, full);
        vm.prank(renter);
        uint256 c = marketplace.createJob{value: full}(MODEL, INPUT, ETH, full, _dl(), address(0), 0);
        _claimAs(c, host2);
        _completeBy(host2, _ids(c), _outs(OUTPUT));
        uint256 d = _completedFrom(renter, 1 ether); // fee 0.01: capped at one completion
        vm.warp(block.timestamp + 1 days + 1);
        uint256[] memory ids = new uint256[](4);
        (ids[0], ids[1], ids[2], ids[3]) = (a, b, c, d);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(a, host, ETH, 0.495 ether, 0.005 ether, 10_000);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(b, host, ETH, 0.495 ether, 0.005 ether, 10_000);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(c, host2, ETH, 0.495 ether, 0.005 ether, 10_000);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Completion, 20_000, 500, 510);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(d, host, ETH, 0.99 ether, 0.01 ether, 10_000);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host2, IReputationRegistry.Outcome.Completion, 10_000, 500, 505);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Completion, 10_000, 510, 515);
        vm.recordLogs();
        marketplace.releasePayments(ids);
        assertEq(_repLogs(vm.getRecordedLogs()), 3);
        assertEq(reputation.scoreOf(host), 515);
        assertEq(reputation.scoreOf(host2), 505);
    }

    /// @dev A job in an asset without a credit fee weighs 0 and the registry is not called.
    function test_releasePayments_assetWithoutCreditFee_noRecord() public {
        uint256 id = _create(INPUT, address(usd), 1e9, _dl());
        _claimAs(id, host);
        _complete(id, OUTPUT);
        vm.warp(block.timestamp + 1 days + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, address(usd), 1e9 - 1e7, 1e7, 0);
        vm.recordLogs();
        marketplace.releasePayments(_ids(id));
        assertEq(_repLogs(vm.getRecordedLogs()), 0);
        assertEq(reputation.scoreOf(host), 500);
    }

    /// @dev Self-dealt jobs weigh 0: rented by the host itself, or by the operator recorded at
    ///      claim (also after the host rotated it away); the same payment from a renter earns.
    function test_releasePayments_selfDealt_weighZero() public {
        uint96 full = 0.5 ether;
        uint256 byHost = _completedFrom(host, full);
        uint256 byOperator = _completedFrom(operator, full);
        uint256 byOldOperator = _completedFrom(operator, full);
        vm.prank(host);
        registry.setOperator(makeAddr("operator2"));
        assertEq(marketplace.getJob(byOldOperator).operator, operator);
        vm.warp(block.timestamp + 1 days + 1);
        uint256[] memory ids = new uint256[](3);
        (ids[0], ids[1], ids[2]) = (byHost, byOperator, byOldOperator);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(byHost, host, ETH, 0.495 ether, 0.005 ether, 0);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(byOperator, host, ETH, 0.495 ether, 0.005 ether, 0);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(byOldOperator, host, ETH, 0.495 ether, 0.005 ether, 0);
        vm.recordLogs();
        marketplace.releasePayments(ids);
        assertEq(_repLogs(vm.getRecordedLogs()), 0);
        assertEq(reputation.scoreOf(host), 500);
        assertEq(marketplace.claimable(host, ETH), 3 * 0.495 ether);

        uint256 honest = _completedFrom(renter, full);
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(honest));
        assertEq(reputation.scoreOf(host), 505);
    }

    function test_releasePayments_afterRejectedDispute_earns() public {
        uint256 id = _completedJob();
        _dispute(id);
        slashing.resolveDispute(id, false);
        assertEq(uint8(marketplace.getJob(id).dispute), uint8(ISlashing.DisputeStatus.Rejected));
        vm.warp(block.timestamp + 1 days + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, HOST_AMOUNT, FEE, FEE_WEIGHT);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Completion, FEE_WEIGHT, 500, 500);
        marketplace.releasePayments(_ids(id));
        assertEq(reputation.scoreOf(host), 500); // half a point, carried
    }

    function test_upheldDispute_refundEarnsNothing() public {
        uint256 id = _completedFrom(renter, 0.5 ether);
        _dispute(id);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeSettled(id, ISlashing.DisputeStatus.Upheld);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.DisputeUpheld, 10_000, 500, 440);
        slashing.resolveDispute(id, true);
        assertEq(uint8(marketplace.getJob(id).dispute), uint8(ISlashing.DisputeStatus.Upheld));
        assertEq(reputation.scoreOf(host), 440);
        vm.warp(block.timestamp + 1 days + 1);
        vm.expectRevert(_wrongStatus(id, IJobMarketplace.Status.Refunded));
        marketplace.releasePayments(_ids(id));
        assertEq(reputation.scoreOf(host), 442); // a day of decay toward 500, nothing earned
        assertEq(marketplace.claimable(renter, ETH), 0.5 ether); // the full payment, fee included
        assertEq(marketplace.claimable(treasury, ETH), 0);
    }

    /// @dev Nobody ruled: after ruleBy anyone closes the dispute as Lapsed; the job is paid but
    ///      earns no reputation, the bond goes to the host, nobody is slashed.
    function test_lapsedDispute_releaseEarnsNothing() public {
        uint256 id = _completedFrom(renter, 0.5 ether);
        _dispute(id);
        uint40 ruleBy = slashing.getDispute(id).ruleBy;
        assertEq(ruleBy, uint40(block.timestamp + 14 days));
        vm.warp(ruleBy);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.RulingDeadlineNotPassed.selector, id, ruleBy));
        slashing.closeLapsedDispute(id);
        vm.warp(uint256(ruleBy) + 1);
        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeLapsed(id, stranger);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeSettled(id, ISlashing.DisputeStatus.Lapsed);
        vm.prank(stranger);
        slashing.closeLapsedDispute(id);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Completed));
        assertEq(uint8(marketplace.getJob(id).dispute), uint8(ISlashing.DisputeStatus.Lapsed));
        assertEq(slashing.bondBalance(host), BOND);

        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, 0.495 ether, 0.005 ether, 0);
        vm.recordLogs();
        marketplace.releasePayments(_ids(id));
        assertEq(_repLogs(vm.getRecordedLogs()), 0);
        assertEq(reputation.scoreOf(host), 500);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(marketplace.claimable(host, ETH), 0.495 ether);
    }

    // ---- totalActiveJobs -------------------------------------------------------------------

    function test_totalActiveJobs_acrossHostsAndOutcomes() public {
        assertEq(marketplace.totalActiveJobs(), 0);
        uint256 open = _createJob();
        assertEq(marketplace.totalActiveJobs(), 0); // open jobs count for nobody
        uint256 paid = _completedJob();
        uint256 upheld = _completedJob();
        uint256 expired = _claimedJob();
        uint256 other = _createJob();
        _claimAs(other, host2);
        assertEq(marketplace.totalActiveJobs(), 4);
        assertEq(marketplace.activeJobsOf(host), 3);
        _dispute(upheld);
        assertEq(marketplace.totalActiveJobs(), 4);
        slashing.resolveDispute(upheld, true);
        assertEq(marketplace.totalActiveJobs(), 3);
        vm.warp(block.timestamp + 1 hours + 1);
        marketplace.expireJob(expired);
        marketplace.expireJob(open);
        assertEq(marketplace.totalActiveJobs(), 2);
        marketplace.expireJob(other);
        assertEq(marketplace.totalActiveJobs(), 1);
        vm.warp(block.timestamp + 1 days);
        marketplace.releasePayments(_ids(paid));
        assertEq(marketplace.totalActiveJobs(), 0);
        assertEq(marketplace.activeJobsOf(host), 0);
    }

    // ---- guardian pause --------------------------------------------------------------------

    function test_guardianPause_blocksEntryPointsUntilItLapses() public {
        _guardian();
        uint256 open = _createJob();
        uint256 claimed = _claimedJob();
        uint256 completed = _completedJob();
        uint256 ends = block.timestamp + 3 days;
        vm.expectEmit(address(marketplace));
        emit IPauseControl.GuardianPaused(guardian, uint40(ends));
        vm.prank(guardian);
        marketplace.guardianPause();
        assertTrue(marketplace.paused());
        assertEq(marketplace.guardianPauseEnds(), ends);
        assertEq(marketplace.pauseCount(), 1);
        _assertPauseWindow(0, block.timestamp, ends);

        bytes memory paused = abi.encodeWithSelector(Pausable.EnforcedPause.selector);
        vm.prank(renter);
        vm.expectRevert(paused);
        marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, _dl(), address(0), 0);
        vm.prank(host);
        vm.expectRevert(paused);
        marketplace.claimJob(open, host);
        vm.expectRevert(paused);
        marketplace.proofContext(host, _ids(claimed));
        vm.prank(prover);
        vm.expectRevert(paused);
        marketplace.completeJobs(host, _ids(claimed), _outs(OUTPUT));
        vm.prank(renter);
        vm.expectRevert(paused);
        marketplace.disputeJob{value: BOND}(completed, EVIDENCE);
        vm.prank(guardian);
        vm.expectRevert(paused);
        marketplace.guardianPause();

        // the last second of the pause, then it lapses by itself (no event)
        vm.warp(ends - 1);
        assertTrue(marketplace.paused());
        vm.warp(ends);
        assertFalse(marketplace.paused());
        _assertPauseWindow(0, ends - 3 days, ends);
        uint256 fresh = _createJob();
        _claimAs(fresh, host);
        assertEq(uint8(_status(fresh)), uint8(IJobMarketplace.Status.Claimed));
    }

    function test_guardianPause_governanceTakesOverAndUnpauses() public {
        _guardian();
        uint256 t = block.timestamp;
        vm.prank(guardian);
        marketplace.guardianPause();
        vm.warp(t + 1 days);
        vm.expectEmit(address(marketplace));
        emit Pausable.Paused(admin);
        marketplace.pause(); // takes the guardian's pause over: open-ended
        assertEq(marketplace.pauseCount(), 1);
        _assertPauseWindow(0, t, 0);
        assertEq(marketplace.guardianPauseEnds(), 0);
        vm.warp(t + 10 days);
        assertTrue(marketplace.paused());
        vm.expectEmit(address(marketplace));
        emit Pausable.Unpaused(admin);
        marketplace.unpause();
        _assertPauseWindow(0, t, t + 10 days);
        assertFalse(marketplace.paused());
    }

    function test_guardianPause_unpausedEarlyByGovernance() public {
        _guardian();
        uint256 t = block.timestamp;
        vm.prank(guardian);
        marketplace.guardianPause();
        vm.warp(t + 2 hours);
        vm.expectEmit(address(marketplace));
        emit Pausable.Unpaused(admin);
        marketplace.unpause();
        assertFalse(marketplace.paused());
        assertEq(marketplace.guardianPauseEnds(), 0);
        _assertPauseWindow(0, t, t + 2 hours);
        // the cool-down still counts from the planned end
        vm.prank(guardian);
        vm.expectRevert(abi.encodeWithSelector(IPauseControl.GuardianPauseTooSoon.selector, t + 6 days));
        marketplace.guardianPause();
    }

    function test_guardianPause_accessControl() public {
        _guardian();
        bytes32 pauser = marketplace.PAUSER_ROLE();
        bytes32 guardianRole = marketplace.GUARDIAN_ROLE();
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, guardianRole));
        marketplace.guardianPause();
        // the admin holds PAUSER_ROLE, not GUARDIAN_ROLE
        vm.expectRevert(_unauthorized(admin, guardianRole));
        marketplace.guardianPause();
        vm.prank(guardian);
        vm.expectRevert(_unauthorized(guardian, pauser));
        marketplace.pause();
        vm.prank(guardian);
        marketplace.guardianPause();
        vm.prank(guardian);
        vm.expectRevert(_unauthorized(guardian, pauser));
        marketplace.unpause();
        bytes32 adminRole = marketplace.DEFAULT_ADMIN_ROLE();
        vm.prank(guardian);
        vm.expectRevert(_unauthorized(guardian, adminRole));
        marketplace.setMaxGuardianPause(1 hours);
        assertEq(marketplace.maxGuardianPause(), 3 days);
        assertTrue(marketplace.paused());
    }

    function test_guardianPause_tooSoon() public {
        _guardian();
        uint256 t = block.timestamp;
        vm.prank(guardian);
        marketplace.guardianPause();
        uint256 ends = t + 3 days;
        uint256 allowedAt = ends + 3 days;
        vm.warp(ends); // lapsed
        assertFalse(marketplace.paused());
        bytes memory tooSoon = abi.encodeWithSelector(IPauseControl.GuardianPauseTooSoon.selector, allowedAt);
        vm.prank(guardian);
        vm.expectRevert(tooSoon);
        marketplace.guardianPause();
        vm.warp(allowedAt - 1);
        vm.prank(guardian);
        vm.expectRevert(tooSoon);
        marketplace.guardianPause();
        vm.warp(allowedAt);
        vm.expectEmit(address(marketplace));
        emit IPauseControl.GuardianPaused(guardian, uint40(allowedAt + 3 days));
        vm.prank(guardian);
        marketplace.guardianPause();
        assertEq(marketplace.pauseCount(), 2);
        _assertPauseWindow(0, t, ends);
        _assertPauseWindow(1, allowedAt, allowedAt + 3 days);
    }

    function test_setMaxGuardianPause() public {
        vm.expectEmit(address(marketplace));
        emit IPauseControl.MaxGuardianPauseSet(1 hours);
        marketplace.setMaxGuardianPause(1 hours);
        assertEq(marketplace.maxGuardianPause(), 1 hours);
        marketplace.setMaxGuardianPause(30 days);
        assertEq(marketplace.maxGuardianPause(), 30 days);
        vm.expectRevert(IPauseControl.InvalidPauseParameter.selector);
        marketplace.setMaxGuardianPause(1 hours - 1);
        vm.expectRevert(IPauseControl.InvalidPauseParameter.selector);
        marketplace.setMaxGuardianPause(30 days + 1);
        assertEq(marketplace.maxGuardianPause(), 30 days);
        _guardian();
        vm.expectEmit(address(marketplace));
        emit IPauseControl.GuardianPaused(guardian, uint40(block.timestamp + 30 days));
        vm.prank(guardian);
        marketplace.guardianPause();
    }

    /// @dev A claimed job whose deadline falls in a guardian pause expires without a slash, while
    ///      the pause is still on and after it lapsed (its grace hour too); a deadline past the
    ///      grace, or before the pause, is slashed.
    function test_guardianPause_expiryExcused() public {
        _guardian();
        uint256 inPause = _claimedAt(uint40(T0 + 1 hours));
        uint256 inGrace = _claimedAt(uint40(T0 + 30 minutes + 3 days + 1 hours - 1));
        uint256 afterGrace = _claimedAt(uint40(T0 + 30 minutes + 3 days + 1 hours));
        uint256 beforePause = _claimedAt(uint40(T0 + 10 minutes));
        vm.warp(T0 + 30 minutes);
        vm.prank(guardian);
        marketplace.guardianPause();

        vm.warp(T0 + 2 hours);
        assertTrue(marketplace.paused());
        _expectExpired(inPause, false);
        _expectExpired(beforePause, true);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 50 ether);

        vm.warp(T0 + 30 minutes + 3 days + 1 hours + 1);
        assertFalse(marketplace.paused());
        _expectExpired(inGrace, false);
        _expectExpired(afterGrace, true);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 50 ether - 47.5 ether);
        assertEq(marketplace.totalActiveJobs(), 0);
        assertEq(marketplace.claimable(renter, ETH), 4 * PAYMENT);
    }
}
