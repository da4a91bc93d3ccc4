// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {Vm} from "forge-std/Vm.sol";
import {ReentrantActor} from "./utils/Attackers.sol";
import {Slashing} from "../contracts/Slashing.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";
import {ISlashing} from "../contracts/interfaces/ISlashing.sol";
import {IStaking} from "../contracts/interfaces/IStaking.sol";
import {IReputationRegistry} from "../contracts/interfaces/IReputationRegistry.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Slashing: disputes and their bonds, the three slash reasons with real EIP-712
///         equivocation signatures, governance, pausing, access control, and fuzzed slash
///         arithmetic (rate x slashable stake, cap, beneficiary / treasury split).
contract SlashingTest is Fixture {
    bytes32 internal constant EVIDENCE = keccak256("evidence: output does not match input");
    bytes32 internal constant OUTPUT_B = keccak256("completion: something else");
    uint256 internal constant BOND = 0.01 ether;
    /// @dev The protocol fee of a PAYMENT job: 1% of 0.05 ETH (above the 0.0001 ETH minimum).
    uint256 internal constant FEE = 0.0005 ether;
    uint64 internal constant RULING = 14 days; // default ruling period
    address internal constant ETH = address(0);
    /// @dev secp256k1 group order.
    uint256 internal constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    address internal host2;
    uint256 internal host2Key;
    address internal mallory;
    uint256 internal malloryKey;
    address internal reporter = makeAddr("reporter");

    function setUp() public override {
        super.setUp();
        (host2, host2Key) = makeAddrAndKey("host2");
        (mallory, malloryKey) = makeAddrAndKey("mallory");
        _registerHost(host); // operator = `operator`
        _registerHost(host2);
    }

    // ---- helpers ----------------------------------------------------------------------------

    function _disputedJob() internal returns (uint256 id) {
        id = _completedJob();
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
    }

    /// @dev A job of `payment` ETH claimed by `host`, completed and disputed now.
    function _disputedJob(uint96 payment) internal returns (uint256 id) {
        vm.prank(renter);
        id = marketplace.createJob{value: payment}(
            MODEL, INPUT, ETH, payment, uint40(block.timestamp + 1 hours), address(0), 0
        );
        vm.prank(host);
        marketplace.claimJob(id, host);
        _complete(id, OUTPUT);
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
    }

    /// @dev A fresh job claimed for `host` by `by` (the host or its operator). Pranks itself.
    function _createJobClaimedBy(address by) internal returns (uint256 id) {
        id = _createJob();
        vm.prank(by);
        marketplace.claimJob(id, host);
    }

    function _countLogs(Vm.Log[] memory logs, address emitter, bytes32 topic) internal pure returns (uint256 n) {
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter == emitter && logs[i].topics[0] == topic) ++n;
        }
    }

    function _unauthorized(address who, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, who, role);
    }

    /// @dev The EIP-712 digest computed from the standard, independently of the contract.
    function _expectedDigest(uint256 jobId, bytes32 output) internal view returns (bytes32) {
        bytes32 domain = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256(bytes("Vouch Slashing")),
                keccak256(bytes("1")),
                block.chainid,
                address(slashing)
            )
        );
        bytes32 structHash = keccak256(abi.encode(keccak256("Result(uint256 jobId,bytes32 outputHash)"), jobId, output));
        return keccak256(abi.encodePacked(hex"1901", domain, structHash));
    }

    function _report(uint256 id, uint256 keyA, uint256 keyB) internal returns (uint256) {
        bytes memory a = _signResult(keyA, id, OUTPUT);
        bytes memory b = _signResult(keyB, id, OUTPUT_B);
        vm.prank(reporter);
        return slashing.reportEquivocation(host, id, OUTPUT, a, OUTPUT_B, b);
    }

    function _expectReportRevert(uint256 id, bytes memory sigA, bytes memory sigB, bytes memory err) internal {
        vm.prank(reporter);
        vm.expectRevert(err);
        slashing.reportEquivocation(host, id, OUTPUT, sigA, OUTPUT_B, sigB);
    }

    // ---- construction and views -------------------------------------------------------------

    function test_constructor_initialState() public view {
        assertEq(address(slashing.staking()), address(staking));
        assertEq(address(slashing.token()), address(token));
        assertEq(address(slashing.registry()), address(registry));
        assertEq(address(slashing.reputation()), address(reputation));
        assertEq(address(slashing.marketplace()), address(marketplace));
        assertEq(slashing.treasury(), treasury);
        assertEq(slashing.maxSlashPerIncident(), 10_000 ether);
        assertEq(slashing.beneficiaryShareBps(), 5000);
        assertEq(slashing.reporterShareBps(), 1000);
        assertEq(slashing.disputeBond(), 0.01 ether);
        assertEq(slashing.rulingPeriod(), 14 days);
        assertEq(slashing.MIN_RULING_PERIOD(), 1 days);
        assertEq(slashing.MAX_RULING_PERIOD(), 90 days);
        assertEq(slashing.slashRateBps(ISlashing.Reason.MissedDeadline), 500);
        assertEq(slashing.slashRateBps(ISlashing.Reason.DisputeUpheld), 1000);
        assertEq(slashing.slashRateBps(ISlashing.Reason.Equivocation), 2000);
        assertEq(slashing.MAX_RATE_BPS(), 5000);
        assertEq(slashing.RESULT_TYPEHASH(), keccak256("Result(uint256 jobId,bytes32 outputHash)"));
        assertEq(slashing.ARBITER_ROLE(), keccak256("ARBITER_ROLE"));
        assertEq(slashing.MARKETPLACE_ROLE(), keccak256("MARKETPLACE_ROLE"));
        assertEq(slashing.PAUSER_ROLE(), keccak256("PAUSER_ROLE"));
        assertTrue(slashing.hasRole(slashing.DEFAULT_ADMIN_ROLE(), admin));
        assertTrue(slashing.hasRole(slashing.PAUSER_ROLE(), admin));
        assertTrue(slashing.hasRole(slashing.ARBITER_ROLE(), admin));
        assertTrue(slashing.hasRole(slashing.MARKETPLACE_ROLE(), address(marketplace)));
        assertFalse(slashing.hasRole(slashing.MARKETPLACE_ROLE(), admin));
        assertTrue(staking.hasRole(staking.SLASHER_ROLE(), address(slashing)));
        assertTrue(reputation.hasRole(reputation.WRITER_ROLE(), address(slashing)));
        assertFalse(slashing.paused());
    }

    function test_constructor_revertsOnZeroTreasury() public {
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        new Slashing(staking, registry, reputation, marketplace, address(0), admin);
    }

    function test_resultDigest_matchesEip712() public {
        assertEq(slashing.resultDigest(1, OUTPUT), _expectedDigest(1, OUTPUT));
        assertEq(slashing.resultDigest(7, OUTPUT_B), _expectedDigest(7, OUTPUT_B));
        assertEq(slashing.resultDigest(type(uint256).max, bytes32(0)), _expectedDigest(type(uint256).max, bytes32(0)));
        assertTrue(slashing.resultDigest(1, OUTPUT) != slashing.resultDigest(2, OUTPUT));
        assertTrue(slashing.resultDigest(1, OUTPUT) != slashing.resultDigest(1, OUTPUT_B));
        // the chain id is part of the domain (recomputed after a fork)
        bytes32 before = slashing.resultDigest(1, OUTPUT);
        vm.chainId(8453);
        assertEq(slashing.resultDigest(1, OUTPUT), _expectedDigest(1, OUTPUT));
        assertTrue(slashing.resultDigest(1, OUTPUT) != before);

        (
            bytes1 fields,
            string memory name,
            string memory version,
            uint256 chainId,
            address verifyingContract,
            bytes32 salt,
            uint256[] memory extensions
        ) = slashing.eip712Domain();
        assertEq(fields, hex"0f");
        assertEq(name, "Vouch Slashing");
        assertEq(version, "1");
        assertEq(chainId, 8453);
        assertEq(verifyingContract, address(slashing));
        assertEq(salt, bytes32(0));
        assertEq(extensions.length, 0);
    }

    function test_resultDigest_signatureOverIndependentDigestIsAccepted() public {
        uint256 id = _claimedJob();
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(hostKey, _expectedDigest(id, OUTPUT));
        bytes memory a = abi.encodePacked(r, s, v);
        (v, r, s) = vm.sign(operatorKey, _expectedDigest(id, OUTPUT_B));
        bytes memory b = abi.encodePacked(r, s, v);
        vm.prank(reporter);
        assertEq(slashing.reportEquivocation(host, id, OUTPUT, a, OUTPUT_B, b), 200 ether);
    }

    function test_slashAmount_exact() public {
        assertEq(slashing.slashAmount(host, ISlashing.Reason.MissedDeadline), 50 ether);
        assertEq(slashing.slashAmount(host, ISlashing.Reason.DisputeUpheld), 100 ether);
        assertEq(slashing.slashAmount(host, ISlashing.Reason.Equivocation), 200 ether);
        assertEq(slashing.slashAmount(stranger, ISlashing.Reason.Equivocation), 0);

        // unbonding stake counts: 1500 active + 500 unbonding
        _stake(host, 1000 ether);
        vm.prank(host);
        staking.requestUnstake(500 ether);
        assertEq(slashing.slashAmount(host, ISlashing.Reason.MissedDeadline), 100 ether);
        assertEq(slashing.slashAmount(host, ISlashing.Reason.DisputeUpheld), 200 ether);
        assertEq(slashing.slashAmount(host, ISlashing.Reason.Equivocation), 400 ether);

        // the per-incident cap
        slashing.setMaxSlashPerIncident(150 ether);
        assertEq(slashing.slashAmount(host, ISlashing.Reason.MissedDeadline), 100 ether);
        assertEq(slashing.slashAmount(host, ISlashing.Reason.DisputeUpheld), 150 ether);
        assertEq(slashing.slashAmount(host, ISlashing.Reason.Equivocation), 150 ether);

        // rounding down: 1 wei of stake at 50% is nothing
        slashing.setSlashRate(ISlashing.Reason.Equivocation, 5000);
        _stake(stranger, 1);
        assertEq(slashing.slashAmount(stranger, ISlashing.Reason.Equivocation), 0);
        _stake(stranger, 2);
        assertEq(slashing.slashAmount(stranger, ISlashing.Reason.Equivocation), 1);
    }

    function test_getDispute_unknownIsEmpty() public view {
        ISlashing.Dispute memory d = slashing.getDispute(1);
        assertEq(d.renter, address(0));
        assertEq(d.host, address(0));
        assertEq(d.bond, 0);
        assertEq(d.openedAt, 0);
        assertEq(d.ruleBy, 0);
        assertEq(uint8(d.status), uint8(ISlashing.DisputeStatus.None));
        assertEq(d.evidenceHash, bytes32(0));
        assertEq(slashing.bondBalance(renter), 0);
        assertFalse(slashing.equivocationReported(1));
    }

    // ---- openDispute ------------------------------------------------------------------------

    function test_openDispute_onlyMarketplace() public {
        bytes32 role = slashing.MARKETPLACE_ROLE();
        vm.deal(stranger, 1 ether);
        address[3] memory callers = [stranger, admin, renter];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(_unauthorized(callers[i], role));
            slashing.openDispute{value: BOND}(1, renter, host, EVIDENCE);
        }
    }

    function test_openDispute_direct_recordsAndRejectsDuplicates() public {
        address market = makeAddr("market2");
        slashing.grantRole(slashing.MARKETPLACE_ROLE(), market);
        vm.deal(market, 1 ether);
        vm.warp(block.timestamp + 123);

        vm.prank(market);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.WrongBond.selector, BOND - 1, BOND));
        slashing.openDispute{value: BOND - 1}(77, renter, host, EVIDENCE);

        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeOpened(77, renter, host, BOND, EVIDENCE, uint40(block.timestamp + 14 days));
        vm.prank(market);
        slashing.openDispute{value: BOND}(77, renter, host, EVIDENCE);
        ISlashing.Dispute memory d = slashing.getDispute(77);
        assertEq(d.renter, renter);
        assertEq(d.host, host);
        assertEq(d.bond, BOND);
        assertEq(d.openedAt, uint40(block.timestamp));
        assertEq(d.ruleBy, uint40(block.timestamp + 14 days));
        assertEq(uint8(d.status), uint8(ISlashing.DisputeStatus.Open));
        assertEq(d.evidenceHash, EVIDENCE);
        assertEq(address(slashing).balance, BOND);

        vm.prank(market);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.DisputeExists.selector, 77));
        slashing.openDispute{value: BOND}(77, stranger, host2, bytes32(0));
        assertEq(slashing.getDispute(77).renter, renter);
        assertEq(address(slashing).balance, BOND);
    }

    function test_openDispute_viaMarketplace() public {
        uint256 id = _completedJob();
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.JobDisputed(id, renter, EVIDENCE);
        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeOpened(id, renter, host, BOND, EVIDENCE, uint40(block.timestamp + 14 days));
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        assertEq(uint8(slashing.getDispute(id).status), uint8(ISlashing.DisputeStatus.Open));
        assertEq(address(slashing).balance, BOND);
    }

    function test_disputeBond_changeAppliesToNewDisputesOnly() public {
        uint256 first = _disputedJob();
        slashing.setDisputeBond(0.5 ether);
        uint256 second = _completedJob();
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.WrongBond.selector, BOND, 0.5 ether));
        marketplace.disputeJob{value: BOND}(second, EVIDENCE);
        vm.prank(renter);
        marketplace.disputeJob{value: 0.5 ether}(second, EVIDENCE);
        assertEq(slashing.getDispute(first).bond, BOND);
        assertEq(slashing.getDispute(second).bond, 0.5 ether);

        slashing.resolveDispute(first, false);
        slashing.resolveDispute(second, true);
        assertEq(slashing.bondBalance(host), BOND);
        assertEq(slashing.bondBalance(renter), 0.5 ether);
        assertEq(address(slashing).balance, BOND + 0.5 ether);
    }

    // ---- resolveDispute ---------------------------------------------------------------------

    function test_resolveDispute_upheld() public {
        uint256 id = _disputedJob();
        uint40 openedAt = uint40(block.timestamp);
        vm.warp(block.timestamp + 1 hours);
        uint16 scoreBefore = reputation.scoreOf(host); // completion alone records nothing
        assertEq(scoreBefore, 500);

        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeResolved(id, true, admin);
        vm.expectEmit(address(slashing));
        emit ISlashing.BondCredited(renter, BOND);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeSettled(id, ISlashing.DisputeStatus.Upheld);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.Credited(renter, ETH, PAYMENT);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.DisputeUpheld, 10_000, 500, 440);
        vm.expectEmit(address(staking));
        emit IStaking.StakeSlashed(host, 100 ether, 0, address(slashing));
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.DisputeUpheld, id, 100 ether, renter, 50 ether, 50 ether);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(slashing), renter, 50 ether);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(slashing), treasury, 50 ether);
        slashing.resolveDispute(id, true);

        ISlashing.Dispute memory d = slashing.getDispute(id);
        assertEq(uint8(d.status), uint8(ISlashing.DisputeStatus.Upheld));
        assertEq(d.renter, renter);
        assertEq(d.host, host);
        assertEq(d.bond, BOND);
        assertEq(d.openedAt, openedAt);
        assertEq(d.evidenceHash, EVIDENCE);
        assertEq(uint8(marketplace.getJob(id).status), uint8(IJobMarketplace.Status.Refunded));
        assertEq(slashing.bondBalance(renter), BOND);
        assertEq(slashing.bondBalance(host), 0);
        assertEq(marketplace.claimable(renter, ETH), PAYMENT);
        assertEq(staking.activeStakeOf(host), MIN_STAKE - 100 ether);
        assertEq(token.balanceOf(renter), 50 ether);
        assertEq(token.balanceOf(treasury), 50 ether);
        assertEq(token.balanceOf(address(slashing)), 0);
        assertEq(reputation.scoreOf(host), 440);

        // the renter gets everything back by pull
        vm.expectEmit(address(slashing));
        emit ISlashing.BondWithdrawn(renter, BOND);
        vm.prank(renter);
        assertEq(slashing.withdrawBond(), BOND);
        vm.prank(renter);
        assertEq(marketplace.withdraw(ETH), PAYMENT);
        assertEq(renter.balance, 100 ether);
        assertEq(address(slashing).balance, 0);
        assertEq(slashing.bondBalance(renter), 0);
    }

    function test_resolveDispute_rejected() public {
        uint256 id = _disputedJob();
        address arbiter = makeAddr("arbiter");
        slashing.grantRole(slashing.ARBITER_ROLE(), arbiter);

        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeResolved(id, false, arbiter);
        vm.expectEmit(address(slashing));
        emit ISlashing.BondCredited(host, BOND);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeSettled(id, ISlashing.DisputeStatus.Rejected);
        vm.recordLogs();
        vm.prank(arbiter);
        slashing.resolveDispute(id, false);
        assertEq(vm.getRecordedLogs().length, 3); // no slash, no credit, no reputation change

        assertEq(uint8(slashing.getDispute(id).status), uint8(ISlashing.DisputeStatus.Rejected));
        assertEq(uint8(marketplace.getJob(id).status), uint8(IJobMarketplace.Status.Completed));
        assertEq(slashing.bondBalance(host), BOND);
        assertEq(slashing.bondBalance(renter), 0);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(reputation.scoreOf(host), 500);

        // the bond goes to the host's staking key, the payment (less the 1% fee) after the
        // window; a rejected dispute still earns the job's reputation weight (0.05 ETH pays a
        // tenth of the 0.005 ETH credit fee: 1000 bps, half a point, carried)
        vm.prank(host);
        assertEq(slashing.withdrawBond(), BOND);
        assertEq(host.balance, BOND);
        vm.warp(block.timestamp + 1 days + 1);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, PAYMENT - FEE, FEE, 1000);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Completion, 1000, 500, 500);
        marketplace.releasePayments(_ids(id));
        vm.prank(host);
        marketplace.withdraw(ETH);
        assertEq(host.balance, BOND + PAYMENT - FEE);
    }

    function test_resolveDispute_reverts() public {
        bytes32 role = slashing.ARBITER_ROLE();
        uint256 id = _disputedJob();
        address[4] memory callers = [stranger, renter, host, address(marketplace)];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(_unauthorized(callers[i], role));
            slashing.resolveDispute(id, true);
        }
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id + 1));
        slashing.resolveDispute(id + 1, true);

        slashing.resolveDispute(id, false);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id));
        slashing.resolveDispute(id, true);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id));
        slashing.resolveDispute(id, false);

        uint256 id2 = _disputedJob();
        slashing.resolveDispute(id2, true);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id2));
        slashing.resolveDispute(id2, true);
        assertEq(slashing.bondBalance(host), BOND);
        assertEq(slashing.bondBalance(renter), BOND);
    }

    // ---- ruling deadline and lapsed disputes -------------------------------------------------

    function test_resolveDispute_atRuleByWorks() public {
        uint256 id = _disputedJob();
        uint40 ruleBy = uint40(block.timestamp + RULING);
        assertEq(slashing.getDispute(id).ruleBy, ruleBy);
        vm.warp(ruleBy);
        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeResolved(id, true, admin);
        slashing.resolveDispute(id, true);
        assertEq(uint8(slashing.getDispute(id).status), uint8(ISlashing.DisputeStatus.Upheld));

        _stake(host, 100 ether); // back to the minimum to claim again
        uint256 id2 = _disputedJob();
        vm.warp(block.timestamp + RULING);
        slashing.resolveDispute(id2, false);
        assertEq(uint8(slashing.getDispute(id2).status), uint8(ISlashing.DisputeStatus.Rejected));
    }

    function test_resolveDispute_afterRuleByReverts() public {
        uint256 id = _disputedJob();
        uint40 ruleBy = uint40(block.timestamp + RULING);
        vm.warp(uint256(ruleBy) + 1);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.RulingDeadlinePassed.selector, id, ruleBy));
        slashing.resolveDispute(id, true);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.RulingDeadlinePassed.selector, id, ruleBy));
        slashing.resolveDispute(id, false);
        vm.warp(uint256(ruleBy) + 365 days);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.RulingDeadlinePassed.selector, id, ruleBy));
        slashing.resolveDispute(id, true);
        assertEq(uint8(slashing.getDispute(id).status), uint8(ISlashing.DisputeStatus.Open));
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
    }

    function test_closeLapsedDispute_revertsUntilPastRuleBy() public {
        uint256 id = _disputedJob();
        uint40 ruleBy = uint40(block.timestamp + RULING);
        bytes memory err = abi.encodeWithSelector(ISlashing.RulingDeadlineNotPassed.selector, id, ruleBy);
        vm.prank(stranger);
        vm.expectRevert(err);
        slashing.closeLapsedDispute(id);
        vm.warp(ruleBy - 1);
        vm.prank(stranger);
        vm.expectRevert(err);
        slashing.closeLapsedDispute(id);
        vm.warp(ruleBy);
        vm.prank(stranger);
        vm.expectRevert(err);
        slashing.closeLapsedDispute(id);
        assertEq(uint8(slashing.getDispute(id).status), uint8(ISlashing.DisputeStatus.Open));
    }

    function test_closeLapsedDispute_revertsWithoutOpenDispute() public {
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, 42));
        slashing.closeLapsedDispute(42);
        uint256 id = _disputedJob();
        slashing.resolveDispute(id, false);
        vm.warp(block.timestamp + RULING + 1);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id));
        slashing.closeLapsedDispute(id);
    }

    /// @dev Past the deadline anyone closes the dispute: the host gets the bond, the job is
    ///      Completed again and releasable, nobody is slashed and the release earns nothing.
    function test_closeLapsedDispute() public {
        uint96 pay = 0.5 ether; // its fee is the full credit fee: a full completion's weight
        uint256 fee = 0.005 ether;
        uint256 id = _disputedJob(pay);
        uint256 rejected = _disputedJob(pay); // the same job, ruled in time, for contrast
        uint40 ruleBy = uint40(block.timestamp + RULING);
        slashing.resolveDispute(rejected, false);
        vm.warp(uint256(ruleBy) + 1);

        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeLapsed(id, stranger);
        vm.expectEmit(address(slashing));
        emit ISlashing.BondCredited(host, BOND);
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.DisputeSettled(id, ISlashing.DisputeStatus.Lapsed);
        vm.recordLogs();
        vm.prank(stranger);
        slashing.closeLapsedDispute(id);
        assertEq(vm.getRecordedLogs().length, 3); // no slash, no credit, no reputation change

        ISlashing.Dispute memory d = slashing.getDispute(id);
        assertEq(uint8(d.status), uint8(ISlashing.DisputeStatus.Lapsed));
        assertEq(d.ruleBy, ruleBy);
        assertEq(d.bond, BOND);
        IJobMarketplace.Job memory j = marketplace.getJob(id);
        assertEq(uint8(j.status), uint8(IJobMarketplace.Status.Completed));
        assertEq(uint8(j.dispute), uint8(ISlashing.DisputeStatus.Lapsed));
        assertEq(slashing.bondBalance(host), 2 * BOND);
        assertEq(slashing.bondBalance(renter), 0);
        assertEq(slashing.bondBalance(stranger), 0);
        assertEq(marketplace.claimable(renter, ETH), 0);
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
        assertEq(reputation.scoreOf(host), 500);

        // a second close, a late ruling, a new dispute: all refused
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id));
        slashing.closeLapsedDispute(id);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id));
        slashing.resolveDispute(id, true);

        // the release pays the host but earns no reputation; the rejected twin earns a full one
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(id, host, ETH, pay - fee, fee, 0);
        vm.recordLogs();
        marketplace.releasePayments(_ids(id));
        assertEq(_countLogs(vm.getRecordedLogs(), address(reputation), IReputationRegistry.ReputationChanged.selector), 0);
        assertEq(reputation.scoreOf(host), 500);
        assertEq(marketplace.claimable(host, ETH), pay - fee);
        assertEq(uint8(marketplace.getJob(id).status), uint8(IJobMarketplace.Status.Paid));
        vm.expectEmit(address(marketplace));
        emit IJobMarketplace.PaymentReleased(rejected, host, ETH, pay - fee, fee, 10_000);
        marketplace.releasePayments(_ids(rejected));
        assertEq(reputation.scoreOf(host), 505);
        vm.prank(host);
        assertEq(slashing.withdrawBond(), 2 * BOND);
    }

    /// @dev A lapse before the dispute window's end leaves the job Completed but not yet
    ///      releasable.
    function test_closeLapsedDispute_releasableOnlyAfterWindow() public {
        marketplace.setDisputeWindow(3 days);
        slashing.setRulingPeriod(1 days);
        uint256 id = _disputedJob();
        uint256 endsAt = block.timestamp + 3 days;
        vm.warp(block.timestamp + 1 days + 1);
        slashing.closeLapsedDispute(id);
        assertEq(uint8(marketplace.getJob(id).status), uint8(IJobMarketplace.Status.Completed));
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, id, endsAt));
        marketplace.releasePayments(_ids(id));
        // no second dispute on the same job
        vm.prank(renter);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.AlreadyDisputed.selector, id));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        vm.warp(endsAt + 1);
        marketplace.releasePayments(_ids(id));
        assertEq(marketplace.claimable(host, ETH), PAYMENT - FEE);
    }

    /// @dev Like rulings, closing a lapsed dispute is not stopped by a pause.
    function test_closeLapsedDispute_worksWhilePaused() public {
        uint256 id = _disputedJob();
        vm.warp(block.timestamp + RULING + 1);
        slashing.pause();
        marketplace.pause();
        slashing.closeLapsedDispute(id);
        assertEq(uint8(slashing.getDispute(id).status), uint8(ISlashing.DisputeStatus.Lapsed));
    }

    function test_setRulingPeriod() public {
        vm.expectEmit(address(slashing));
        emit ISlashing.RulingPeriodSet(1 days);
        slashing.setRulingPeriod(1 days);
        assertEq(slashing.rulingPeriod(), 1 days);
        vm.expectEmit(address(slashing));
        emit ISlashing.RulingPeriodSet(90 days);
        slashing.setRulingPeriod(90 days);
        assertEq(slashing.rulingPeriod(), 90 days);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setRulingPeriod(1 days - 1);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setRulingPeriod(90 days + 1);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setRulingPeriod(0);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setRulingPeriod(type(uint64).max);
        assertEq(slashing.rulingPeriod(), 90 days);
    }

    function test_setRulingPeriod_onlyAdmin() public {
        bytes32 role = slashing.DEFAULT_ADMIN_ROLE();
        address arbiter = makeAddr("arbiter");
        slashing.grantRole(slashing.ARBITER_ROLE(), arbiter);
        address[4] memory callers = [stranger, arbiter, host, address(marketplace)];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(_unauthorized(callers[i], role));
            slashing.setRulingPeriod(2 days);
        }
        assertEq(slashing.rulingPeriod(), RULING);
    }

    function test_setRulingPeriod_appliesToNewDisputesOnly() public {
        uint256 first = _disputedJob();
        uint40 firstRuleBy = uint40(block.timestamp + RULING);
        vm.warp(block.timestamp + 1 hours);
        slashing.setRulingPeriod(1 days);
        uint256 second = _completedJob();
        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeOpened(second, renter, host, BOND, EVIDENCE, uint40(block.timestamp + 1 days));
        vm.prank(renter);
        marketplace.disputeJob{value: BOND}(second, EVIDENCE);
        uint40 secondRuleBy = uint40(block.timestamp + 1 days);
        assertEq(slashing.getDispute(first).ruleBy, firstRuleBy);
        assertEq(slashing.getDispute(second).ruleBy, secondRuleBy);

        vm.warp(uint256(secondRuleBy) + 1);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.RulingDeadlinePassed.selector, second, secondRuleBy));
        slashing.resolveDispute(second, true);
        slashing.closeLapsedDispute(second);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.RulingDeadlineNotPassed.selector, first, firstRuleBy));
        slashing.closeLapsedDispute(first);
        slashing.resolveDispute(first, true); // still in time under its own deadline
        assertEq(uint8(slashing.getDispute(first).status), uint8(ISlashing.DisputeStatus.Upheld));
    }

    // ---- maxSlashAmount ---------------------------------------------------------------------

    function test_maxSlashAmount_isTheLargestReasonCapped() public {
        assertEq(slashing.maxSlashAmount(host), 200 ether); // equivocation: 20% of 1000
        assertEq(slashing.maxSlashAmount(stranger), 0);
        // unbonding stake counts
        vm.prank(host);
        staking.requestUnstake(400 ether);
        assertEq(slashing.maxSlashAmount(host), 200 ether);
        _stake(host, 500 ether);
        assertEq(slashing.maxSlashAmount(host), 300 ether);
        // the largest over the reasons, whichever it is
        slashing.setSlashRate(ISlashing.Reason.Equivocation, 0);
        assertEq(slashing.maxSlashAmount(host), 150 ether); // dispute: 10% of 1500
        slashing.setSlashRate(ISlashing.Reason.MissedDeadline, 5000);
        assertEq(slashing.maxSlashAmount(host), 750 ether);
        assertEq(slashing.maxSlashAmount(host), slashing.slashAmount(host, ISlashing.Reason.MissedDeadline));
        // capped per incident
        slashing.setMaxSlashPerIncident(100 ether);
        assertEq(slashing.maxSlashAmount(host), 100 ether);
        // every rate zero: nothing
        slashing.setSlashRate(ISlashing.Reason.MissedDeadline, 0);
        slashing.setSlashRate(ISlashing.Reason.DisputeUpheld, 0);
        assertEq(slashing.maxSlashAmount(host), 0);
    }

    function testFuzz_maxSlashAmount(uint256 stake, uint16 r0, uint16 r1, uint16 r2, uint256 cap) public {
        stake = bound(stake, 1, 100_000_000 ether);
        cap = bound(cap, 1, 1e30);
        uint16[3] memory rates = [uint16(bound(r0, 0, 5000)), uint16(bound(r1, 0, 5000)), uint16(bound(r2, 0, 5000))];
        _stake(stranger, stake);
        slashing.setMaxSlashPerIncident(cap);
        uint256 expected = 0;
        for (uint8 r; r < 3; ++r) {
            slashing.setSlashRate(ISlashing.Reason(r), rates[r]);
            uint256 a = stake * rates[r] / 10_000;
            if (a > cap) a = cap;
            if (a > expected) expected = a;
        }
        assertEq(slashing.maxSlashAmount(stranger), expected);
        for (uint8 r; r < 3; ++r) {
            assertLe(slashing.slashAmount(stranger, ISlashing.Reason(r)), expected);
        }
    }

    // ---- withdrawBond -----------------------------------------------------------------------

    function test_withdrawBond_accumulatesAndPaysOnce() public {
        uint256 a = _disputedJob();
        uint256 b = _disputedJob();
        slashing.resolveDispute(a, true);
        slashing.resolveDispute(b, true);
        assertEq(slashing.bondBalance(renter), 2 * BOND);
        uint256 before = renter.balance;
        vm.expectEmit(address(slashing));
        emit ISlashing.BondWithdrawn(renter, 2 * BOND);
        vm.prank(renter);
        assertEq(slashing.withdrawBond(), 2 * BOND);
        assertEq(renter.balance, before + 2 * BOND);
        vm.prank(renter);
        vm.expectRevert(ISlashing.NothingToWithdraw.selector);
        slashing.withdrawBond();
    }

    function test_withdrawBond_nothing() public {
        vm.prank(stranger);
        vm.expectRevert(ISlashing.NothingToWithdraw.selector);
        slashing.withdrawBond();
    }

    function test_withdrawBond_revertsWhenReceiverRejectsEth() public {
        ReentrantActor r = new ReentrantActor();
        vm.deal(address(r), 1 ether);
        vm.prank(address(r));
        uint256 id = marketplace.createJob{value: PAYMENT}(MODEL, INPUT, ETH, PAYMENT, uint40(block.timestamp + 1 hours), address(0), 0);
        vm.prank(host);
        marketplace.claimJob(id, host);
        _complete(id, OUTPUT);
        vm.prank(address(r));
        marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        slashing.resolveDispute(id, true);

        r.arm(ReentrantActor.Mode.Reject, address(0), 0, "");
        vm.prank(address(r));
        vm.expectRevert(ISlashing.TransferFailed.selector);
        slashing.withdrawBond();
        assertEq(slashing.bondBalance(address(r)), BOND);
        assertEq(address(slashing).balance, BOND);

        r.arm(ReentrantActor.Mode.Off, address(0), 0, "");
        vm.prank(address(r));
        assertEq(slashing.withdrawBond(), BOND);
        assertEq(address(r).balance, 1 ether - PAYMENT);
    }

    // ---- slashMissedDeadline ----------------------------------------------------------------

    function test_slashMissedDeadline_onlyMarketplace() public {
        bytes32 role = slashing.MARKETPLACE_ROLE();
        address[3] memory callers = [stranger, admin, renter];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(_unauthorized(callers[i], role));
            slashing.slashMissedDeadline(host, 1, callers[i]);
        }
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
    }

    function test_slashMissedDeadline_direct() public {
        address market = makeAddr("market2");
        slashing.grantRole(slashing.MARKETPLACE_ROLE(), market);
        vm.expectEmit(address(staking));
        emit IStaking.StakeSlashed(host, 50 ether, 0, address(slashing));
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.MissedDeadline, 9, 50 ether, renter, 25 ether, 25 ether);
        vm.prank(market);
        assertEq(slashing.slashMissedDeadline(host, 9, renter), 50 ether);
        assertEq(token.balanceOf(renter), 25 ether);
        assertEq(token.balanceOf(treasury), 25 ether);
        assertEq(staking.activeStakeOf(host), 950 ether);
        assertEq(reputation.scoreOf(host), 500); // reputation is the marketplace's part

        // nothing staked: nothing taken, nothing sent
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(stranger, ISlashing.Reason.MissedDeadline, 10, 0, renter, 0, 0);
        vm.prank(market);
        assertEq(slashing.slashMissedDeadline(stranger, 10, renter), 0);
        assertEq(token.balanceOf(renter), 25 ether);
    }

    function test_slashMissedDeadline_viaExpiry_capped() public {
        _stake(host, 999_000 ether); // 1,000,000 staked: 5% = 50,000 > cap 10,000
        uint256 id = _claimedJob();
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.MissedDeadline, id, 10_000 ether, renter, 5000 ether, 5000 ether);
        marketplace.expireJob(id);
        assertEq(staking.activeStakeOf(host), 990_000 ether);
        assertEq(token.balanceOf(renter), 5000 ether);
        assertEq(token.balanceOf(treasury), 5000 ether);
    }

    // ---- reportEquivocation -----------------------------------------------------------------

    function test_reportEquivocation_hostSignatures() public {
        uint256 id = _claimedJob();
        bytes memory a = _signResult(hostKey, id, OUTPUT);
        bytes memory b = _signResult(hostKey, id, OUTPUT_B);

        vm.expectEmit(address(slashing));
        emit ISlashing.EquivocationProven(id, host, reporter, OUTPUT, OUTPUT_B);
        vm.expectEmit(address(reputation));
        emit IReputationRegistry.ReputationChanged(host, IReputationRegistry.Outcome.Equivocation, 10_000, 500, 300);
        vm.expectEmit(address(staking));
        emit IStaking.StakeSlashed(host, 200 ether, 0, address(slashing));
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.Equivocation, id, 200 ether, reporter, 20 ether, 180 ether);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(slashing), reporter, 20 ether);
        vm.expectEmit(address(token));
        emit IERC20.Transfer(address(slashing), treasury, 180 ether);
        vm.prank(reporter);
        uint256 amount = slashing.reportEquivocation(host, id, OUTPUT, a, OUTPUT_B, b);

        assertEq(amount, 200 ether);
        assertTrue(slashing.equivocationReported(id));
        assertEq(staking.activeStakeOf(host), 800 ether);
        assertEq(staking.totalStaked(), 1800 ether);
        assertEq(token.balanceOf(reporter), 20 ether); // the reporter share, 10%
        assertEq(token.balanceOf(treasury), 180 ether);
        assertEq(token.balanceOf(address(slashing)), 0);
        assertEq(reputation.scoreOf(host), 300);
        // the job itself is untouched
        assertEq(uint8(marketplace.getJob(id).status), uint8(IJobMarketplace.Status.Claimed));
    }

    function test_reportEquivocation_operatorSignatures() public {
        uint256 id = _claimedJob();
        assertEq(_report(id, operatorKey, operatorKey), 200 ether);
        assertEq(token.balanceOf(reporter), 20 ether);
        assertEq(token.balanceOf(treasury), 180 ether);
        assertEq(staking.activeStakeOf(host), 800 ether);
        assertEq(staking.activeStakeOf(operator), 0);
    }

    function test_reportEquivocation_hostAndOperatorMixed_onCompletedJob() public {
        // the host proved OUTPUT on-chain but its operator handed the renter a different result
        uint256 id = _completedJob();
        assertEq(_report(id, hostKey, operatorKey), 200 ether);
        assertEq(reputation.scoreOf(host), 300); // 500 - 200: completion alone earns nothing
        assertEq(uint8(marketplace.getJob(id).status), uint8(IJobMarketplace.Status.Completed));
    }

    function test_reportEquivocation_evenAfterPayment() public {
        uint256 id = _completedJob();
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(id));
        assertEq(_report(id, operatorKey, hostKey), 200 ether);
    }

    function test_reportEquivocation_capped() public {
        _stake(host, 99_000 ether); // 100,000 staked: 20% = 20,000 > cap 10,000
        uint256 id = _claimedJob();
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(
            host, ISlashing.Reason.Equivocation, id, 10_000 ether, reporter, 1000 ether, 9000 ether
        );
        assertEq(_report(id, hostKey, hostKey), 10_000 ether);
        assertEq(staking.activeStakeOf(host), 90_000 ether);
        assertEq(token.balanceOf(reporter), 1000 ether);
        assertEq(token.balanceOf(treasury), 9000 ether);
    }

    /// @dev Anyone may report, the host too (from another address it controls): it gets the
    ///      reporter share back, so at the defaults it still loses exactly 18% of its stake.
    function test_reportEquivocation_selfReport_loses18Percent() public {
        address hostAlt = makeAddr("host-alt"); // a second address of the host's owner
        uint256 id = _claimedJob();
        uint256 before = staking.slashableStakeOf(host) + token.balanceOf(host) + token.balanceOf(hostAlt);
        assertEq(before, MIN_STAKE);
        bytes memory a = _signResult(hostKey, id, OUTPUT);
        bytes memory b = _signResult(operatorKey, id, OUTPUT_B);

        vm.expectEmit(address(slashing));
        emit ISlashing.EquivocationProven(id, host, hostAlt, OUTPUT, OUTPUT_B);
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.Equivocation, id, 200 ether, hostAlt, 20 ether, 180 ether);
        vm.prank(hostAlt);
        assertEq(slashing.reportEquivocation(host, id, OUTPUT, a, OUTPUT_B, b), 200 ether);

        uint256 afterwards = staking.slashableStakeOf(host) + token.balanceOf(host) + token.balanceOf(hostAlt);
        assertEq(afterwards, 820 ether);
        assertEq(before - afterwards, before * 1800 / 10_000); // exactly 18%
        assertEq(token.balanceOf(hostAlt), 20 ether);
        assertEq(token.balanceOf(treasury), 180 ether);
        assertEq(staking.activeStakeOf(host), 800 ether);
        assertEq(reputation.scoreOf(host), 300); // the reputation hit is the same

        // reporting from the staking key itself changes nothing either
        _stake(host, 200 ether);
        uint256 id2 = _claimedJob();
        a = _signResult(hostKey, id2, OUTPUT);
        b = _signResult(hostKey, id2, OUTPUT_B);
        vm.prank(host);
        assertEq(slashing.reportEquivocation(host, id2, OUTPUT, a, OUTPUT_B, b), 200 ether);
        assertEq(staking.activeStakeOf(host), 800 ether);
        assertEq(token.balanceOf(host), 20 ether);
        assertEq(token.balanceOf(treasury), 360 ether);
    }

    function test_reportEquivocation_reachesUnbondingStake() public {
        uint256 id = _claimedJob();
        vm.prank(host);
        staking.requestUnstake(MIN_STAKE); // all of it, after claiming
        slashing.setSlashRate(ISlashing.Reason.Equivocation, 5000);
        vm.expectEmit(address(staking));
        emit IStaking.StakeSlashed(host, 0, 500 ether, address(slashing));
        assertEq(_report(id, hostKey, hostKey), 500 ether);
        IStaking.Position memory p = staking.positionOf(host);
        assertEq(p.active, 0);
        assertEq(p.unbonding, 500 ether);
    }

    function test_reportEquivocation_reverts_sameOutputAndAlreadyReported() public {
        uint256 id = _claimedJob();
        bytes memory a = _signResult(hostKey, id, OUTPUT);
        bytes memory a2 = _signResult(operatorKey, id, OUTPUT);
        vm.prank(reporter);
        vm.expectRevert(ISlashing.SameOutput.selector);
        slashing.reportEquivocation(host, id, OUTPUT, a, OUTPUT, a2);

        _report(id, hostKey, hostKey);
        bytes32 third = keccak256("third");
        bytes memory c = _signResult(hostKey, id, third);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.AlreadyReported.selector, id));
        slashing.reportEquivocation(host, id, OUTPUT, a, third, c);
        assertEq(staking.activeStakeOf(host), 800 ether);
    }

    function test_reportEquivocation_reverts_notJobHost() public {
        uint256 id = _claimedJob();
        uint256 open = _createJob();
        bytes memory a = _signResult(host2Key, id, OUTPUT);
        bytes memory b = _signResult(host2Key, id, OUTPUT_B);
        vm.startPrank(reporter);
        // another registered host, with its own valid signatures
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NotJobHost.selector, id, host2));
        slashing.reportEquivocation(host2, id, OUTPUT, a, OUTPUT_B, b);
        // an unclaimed job has no host, and the zero address is never one
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NotJobHost.selector, open, host));
        slashing.reportEquivocation(host, open, OUTPUT, a, OUTPUT_B, b);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NotJobHost.selector, open, address(0)));
        slashing.reportEquivocation(address(0), open, OUTPUT, a, OUTPUT_B, b);
        vm.expectRevert(abi.encodeWithSelector(ISlashing.NotJobHost.selector, 999, host));
        slashing.reportEquivocation(host, 999, OUTPUT, a, OUTPUT_B, b);
        vm.stopPrank();
        assertEq(staking.activeStakeOf(host2), MIN_STAKE);
    }

    function test_reportEquivocation_reverts_invalidSigner() public {
        uint256 id = _claimedJob();
        bytes memory good = _signResult(hostKey, id, OUTPUT);
        bytes memory goodB = _signResult(hostKey, id, OUTPUT_B);
        bytes memory strangerA = _signResult(malloryKey, id, OUTPUT);
        bytes memory strangerB = _signResult(malloryKey, id, OUTPUT_B);
        bytes memory err = abi.encodeWithSelector(ISlashing.InvalidSigner.selector, mallory, host);
        _expectReportRevert(id, good, strangerB, err);
        _expectReportRevert(id, strangerA, goodB, err);
        _expectReportRevert(id, strangerA, strangerB, err);
        // a registered host that is not this job's host
        _expectReportRevert(
            id,
            good,
            _signResult(host2Key, id, OUTPUT_B),
            abi.encodeWithSelector(ISlashing.InvalidSigner.selector, host2, host)
        );

        // the host's signature over another job recovers to some other address here
        bytes memory otherJob = _signResult(hostKey, id + 1, OUTPUT_B);
        address recovered = ECDSA.recover(slashing.resultDigest(id, OUTPUT_B), otherJob);
        assertTrue(recovered != host);
        _expectReportRevert(id, good, otherJob, abi.encodeWithSelector(ISlashing.InvalidSigner.selector, recovered, host));

        // a signature swapped between the two outputs
        recovered = ECDSA.recover(slashing.resultDigest(id, OUTPUT), goodB);
        _expectReportRevert(id, goodB, good, abi.encodeWithSelector(ISlashing.InvalidSigner.selector, recovered, host));

        assertFalse(slashing.equivocationReported(id));
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
    }

    function test_reportEquivocation_reverts_signatureFromAnotherChain() public {
        uint256 id = _claimedJob();
        uint256 chain = block.chainid;
        vm.chainId(84532);
        bytes memory foreign = _signResult(hostKey, id, OUTPUT_B);
        vm.chainId(chain);
        bytes memory good = _signResult(hostKey, id, OUTPUT);
        address recovered = ECDSA.recover(slashing.resultDigest(id, OUTPUT_B), foreign);
        assertTrue(recovered != host);
        _expectReportRevert(id, good, foreign, abi.encodeWithSelector(ISlashing.InvalidSigner.selector, recovered, host));
    }

    /// @dev Replaces the old rule (signers checked against the operator at report time only):
    ///      the operator recorded at claim keeps counting after the host removes it.
    function test_reportEquivocation_recordedOperatorCountsAfterRemoval() public {
        uint256 id = _claimedJob();
        assertEq(marketplace.getJob(id).operator, operator);
        bytes memory a = _signResult(operatorKey, id, OUTPUT);
        bytes memory b = _signResult(operatorKey, id, OUTPUT_B);
        vm.prank(host);
        registry.setOperator(address(0));
        assertFalse(registry.isAuthorized(host, operator));
        vm.expectEmit(address(slashing));
        emit ISlashing.EquivocationProven(id, host, reporter, OUTPUT, OUTPUT_B);
        vm.prank(reporter);
        assertEq(slashing.reportEquivocation(host, id, OUTPUT, a, OUTPUT_B, b), 200 ether);
        assertEq(staking.activeStakeOf(host), 800 ether);
    }

    /// @dev The host rotates its operator after the claim: the old operator's two signatures
    ///      still slash (it was recorded on the job), whoever claimed.
    function test_reportEquivocation_oldOperatorAfterRotation() public {
        address newOp = makeAddr("newOp");
        uint256 id = _claimedJob(); // claimed by the host: its operator is recorded
        uint256 id2 = _createJobClaimedBy(operator); // claimed by the operator itself
        assertEq(marketplace.getJob(id).operator, operator);
        assertEq(marketplace.getJob(id2).operator, operator);
        vm.prank(host);
        registry.setOperator(newOp);
        assertFalse(registry.isAuthorized(host, operator));

        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.Equivocation, id, 200 ether, reporter, 20 ether, 180 ether);
        assertEq(_report(id, operatorKey, operatorKey), 200 ether);
        // 20% of the 800 left
        assertEq(_report(id2, operatorKey, hostKey), 160 ether);
        assertEq(staking.activeStakeOf(host), 640 ether);
    }

    /// @dev The host's current operator counts too, also when it was set after the claim, and
    ///      mixed with the recorded one.
    function test_reportEquivocation_newOperatorSignaturesCount() public {
        (address newOp, uint256 newKey) = makeAddrAndKey("newOp");
        uint256 id = _claimedJob();
        uint256 id2 = _claimedJob();
        vm.prank(host);
        registry.setOperator(newOp);
        assertEq(marketplace.getJob(id).operator, operator);
        assertEq(_report(id, newKey, newKey), 200 ether);
        assertEq(_report(id2, operatorKey, newKey), 160 ether);

        // host2 claimed with no operator at all (none recorded) and appoints one afterwards
        uint256 e = _createJob();
        vm.prank(host2);
        marketplace.claimJob(e, host2);
        assertEq(marketplace.getJob(e).operator, address(0));
        vm.prank(host2);
        registry.setOperator(newOp);
        bytes memory sa = _signResult(newKey, e, OUTPUT);
        bytes memory sb = _signResult(host2Key, e, OUTPUT_B);
        vm.prank(reporter);
        assertEq(slashing.reportEquivocation(host2, e, OUTPUT, sa, OUTPUT_B, sb), 200 ether);
    }

    /// @dev An operator that is neither recorded on the job nor current does not count: one
    ///      recorded on another job, or one in between.
    function test_reportEquivocation_formerOperatorNeitherRecordedNorCurrent() public {
        (address op2, uint256 op2Key) = makeAddrAndKey("op2");
        address op3 = makeAddr("op3");
        vm.prank(host);
        registry.setOperator(op2);
        uint256 id = _claimedJob(); // op2 recorded
        vm.prank(host);
        registry.setOperator(op3);
        // `operator` was the host's operator before this claim, recorded on no job here
        bytes memory a = _signResult(hostKey, id, OUTPUT);
        _expectReportRevert(
            id, a, _signResult(operatorKey, id, OUTPUT_B), abi.encodeWithSelector(ISlashing.InvalidSigner.selector, operator, host)
        );
        // op2 is recorded on this job: it counts
        assertEq(_report(id, op2Key, op2Key), 200 ether);

        // on a job claimed under op3, op2 no longer counts once op3 is rotated out too
        _stake(host, 200 ether); // back to the minimum to claim again
        uint256 id2 = _claimedJob();
        assertEq(marketplace.getJob(id2).operator, op3);
        vm.prank(host);
        registry.setOperator(operator);
        _expectReportRevert(
            id2, _signResult(op2Key, id2, OUTPUT), _signResult(hostKey, id2, OUTPUT_B),
            abi.encodeWithSelector(ISlashing.InvalidSigner.selector, op2, host)
        );
    }

    /// @dev The host is paid, deregisters and unstakes everything: the report still slashes
    ///      the unbonding stake, with the recorded operator's signatures and with the host's.
    function test_reportEquivocation_afterDeregistration_slashesUnbonding() public {
        uint256 id = _completedJob();
        uint256 id2 = _completedJob();
        vm.warp(block.timestamp + 1 days + 1);
        uint256[] memory ids = new uint256[](2);
        ids[0] = id;
        ids[1] = id2;
        marketplace.releasePayments(ids);
        vm.startPrank(host);
        registry.deregister();
        staking.requestUnstake(MIN_STAKE);
        vm.stopPrank();
        assertEq(registry.operatorOf(host), address(0));
        assertFalse(registry.isAuthorized(host, operator));
        uint64 releaseAt = uint64(block.timestamp) + 7 days;

        vm.expectEmit(address(staking));
        emit IStaking.StakeSlashed(host, 0, 200 ether, address(slashing));
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.Equivocation, id, 200 ether, reporter, 20 ether, 180 ether);
        assertEq(_report(id, operatorKey, operatorKey), 200 ether);
        assertEq(_report(id2, hostKey, operatorKey), 160 ether);
        IStaking.Position memory p = staking.positionOf(host);
        assertEq(p.active, 0);
        assertEq(p.unbonding, 640 ether);
        assertEq(p.releaseAt, releaseAt);
        assertEq(token.balanceOf(reporter), 36 ether);
    }

    /// @dev An Open job holds the offered host, not a claimer; a cancelled one was never
    ///      claimed: neither can be reported, even with the offered host's own signatures.
    function test_reportEquivocation_reverts_neverClaimed() public {
        vm.prank(renter);
        uint256 offered = marketplace.createJob{value: PAYMENT}(
            MODEL, INPUT, ETH, PAYMENT, uint40(block.timestamp + 1 hours), host, 0
        );
        assertEq(marketplace.getJob(offered).host, host);
        bytes memory a = _signResult(hostKey, offered, OUTPUT);
        bytes memory b = _signResult(hostKey, offered, OUTPUT_B);
        _expectReportRevert(offered, a, b, abi.encodeWithSelector(ISlashing.NotJobHost.selector, offered, host));

        vm.prank(renter);
        marketplace.cancelJob(offered);
        _expectReportRevert(offered, a, b, abi.encodeWithSelector(ISlashing.NotJobHost.selector, offered, host));

        // an offered job that expired unclaimed
        vm.prank(renter);
        uint256 lapsed = marketplace.createJob{value: PAYMENT}(
            MODEL, INPUT, ETH, PAYMENT, uint40(block.timestamp + 1 hours), host, 0
        );
        vm.warp(block.timestamp + 1 hours + 1);
        marketplace.expireJob(lapsed);
        _expectReportRevert(
            lapsed,
            _signResult(hostKey, lapsed, OUTPUT),
            _signResult(hostKey, lapsed, OUTPUT_B),
            abi.encodeWithSelector(ISlashing.NotJobHost.selector, lapsed, host)
        );
        assertFalse(slashing.equivocationReported(offered));
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
    }

    function test_reportEquivocation_reverts_malformedSignatures() public {
        uint256 id = _claimedJob();
        bytes memory good = _signResult(hostKey, id, OUTPUT);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(hostKey, slashing.resultDigest(id, OUTPUT_B));

        // compact (EIP-2098) 64-byte, empty and overlong signatures
        _expectReportRevert(
            id,
            good,
            abi.encodePacked(r, s),
            abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64)
        );
        _expectReportRevert(
            id, "", good, abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 0)
        );
        _expectReportRevert(
            id,
            good,
            abi.encodePacked(r, s, v, uint8(0)),
            abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 66)
        );
        // the malleable twin (high s) is refused
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        _expectReportRevert(
            id,
            good,
            abi.encodePacked(r, highS, v == 27 ? uint8(28) : uint8(27)),
            abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS)
        );
        // an invalid v recovers nothing
        _expectReportRevert(
            id, good, abi.encodePacked(r, s, uint8(29)), abi.encodeWithSelector(ECDSA.ECDSAInvalidSignature.selector)
        );
        assertFalse(slashing.equivocationReported(id));
    }

    function test_reportEquivocation_pausedButOtherPathsWork() public {
        uint256 id = _claimedJob();
        uint256 disputed = _disputedJob();
        uint256 overdue = _claimedJob();
        vm.expectEmit(address(slashing));
        emit Pausable.Paused(admin);
        slashing.pause();
        bytes memory a = _signResult(hostKey, id, OUTPUT);
        bytes memory b = _signResult(hostKey, id, OUTPUT_B);
        vm.prank(reporter);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        slashing.reportEquivocation(host, id, OUTPUT, a, OUTPUT_B, b);

        // a pause does not stop rulings, bond withdrawals or expiry slashes
        slashing.resolveDispute(disputed, true);
        vm.prank(renter);
        assertEq(slashing.withdrawBond(), BOND);
        vm.warp(block.timestamp + 1 hours + 1);
        marketplace.expireJob(overdue);
        // 100 for the dispute, then 5% of the 900 left
        assertEq(staking.activeStakeOf(host), 855 ether);

        vm.expectEmit(address(slashing));
        emit Pausable.Unpaused(admin);
        slashing.unpause();
        vm.prank(reporter);
        assertEq(slashing.reportEquivocation(host, id, OUTPUT, a, OUTPUT_B, b), 171 ether);
    }

    // ---- governance -------------------------------------------------------------------------

    function test_governance_rejectsNonAdmin() public {
        bytes32 role = slashing.DEFAULT_ADMIN_ROLE();
        bytes32 pauser = slashing.PAUSER_ROLE();
        bytes32 arbiterRole = slashing.ARBITER_ROLE();
        address[4] memory callers = [stranger, host, renter, address(marketplace)];
        for (uint256 i; i < callers.length; ++i) {
            address c = callers[i];
            vm.startPrank(c);
            vm.expectRevert(_unauthorized(c, role));
            slashing.setSlashRate(ISlashing.Reason.Equivocation, 0);
            vm.expectRevert(_unauthorized(c, role));
            slashing.setMaxSlashPerIncident(1);
            vm.expectRevert(_unauthorized(c, role));
            slashing.setBeneficiaryShare(10_000);
            vm.expectRevert(_unauthorized(c, role));
            slashing.setReporterShare(10_000);
            vm.expectRevert(_unauthorized(c, role));
            slashing.setDisputeBond(1);
            vm.expectRevert(_unauthorized(c, role));
            slashing.setTreasury(c);
            vm.expectRevert(_unauthorized(c, role));
            slashing.grantRole(arbiterRole, c);
            vm.expectRevert(_unauthorized(c, pauser));
            slashing.pause();
            vm.expectRevert(_unauthorized(c, pauser));
            slashing.unpause();
            vm.stopPrank();
        }
        assertEq(slashing.slashRateBps(ISlashing.Reason.Equivocation), 2000);
        assertEq(slashing.maxSlashPerIncident(), 10_000 ether);
        assertEq(slashing.beneficiaryShareBps(), 5000);
        assertEq(slashing.reporterShareBps(), 1000);
        assertEq(slashing.disputeBond(), BOND);
        assertEq(slashing.treasury(), treasury);
    }

    function test_setSlashRate() public {
        for (uint8 r; r < 3; ++r) {
            ISlashing.Reason reason = ISlashing.Reason(r);
            vm.expectEmit(address(slashing));
            emit ISlashing.SlashRateSet(reason, 5000);
            slashing.setSlashRate(reason, 5000);
            assertEq(slashing.slashRateBps(reason), 5000);
            assertEq(slashing.slashAmount(host, reason), 500 ether);
            vm.expectEmit(address(slashing));
            emit ISlashing.SlashRateSet(reason, 0);
            slashing.setSlashRate(reason, 0);
            assertEq(slashing.slashAmount(host, reason), 0);
            vm.expectRevert(ISlashing.InvalidParameter.selector);
            slashing.setSlashRate(reason, 5001);
            assertEq(slashing.slashRateBps(reason), 0);
        }
        // a reason outside the enum does not decode
        (bool ok,) = address(slashing).call(abi.encodeWithSelector(Slashing.setSlashRate.selector, uint8(3), uint16(1)));
        assertFalse(ok);
    }

    function test_setMaxSlashPerIncident() public {
        vm.expectEmit(address(slashing));
        emit ISlashing.MaxSlashPerIncidentSet(1);
        slashing.setMaxSlashPerIncident(1);
        assertEq(slashing.maxSlashPerIncident(), 1);
        assertEq(slashing.slashAmount(host, ISlashing.Reason.Equivocation), 1);
        vm.expectEmit(address(slashing));
        emit ISlashing.MaxSlashPerIncidentSet(type(uint256).max);
        slashing.setMaxSlashPerIncident(type(uint256).max);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setMaxSlashPerIncident(0);
        assertEq(slashing.maxSlashPerIncident(), type(uint256).max);
    }

    /// @dev The beneficiary share is the renter's, for missed deadlines and upheld disputes; it
    ///      does not touch equivocation (the reporter share does).
    function test_setBeneficiaryShare() public {
        vm.expectEmit(address(slashing));
        emit ISlashing.BeneficiaryShareSet(10_000);
        slashing.setBeneficiaryShare(10_000);
        assertEq(slashing.beneficiaryShareBps(), 10_000);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setBeneficiaryShare(10_001);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setBeneficiaryShare(type(uint16).max);
        assertEq(slashing.beneficiaryShareBps(), 10_000);
        assertEq(slashing.reporterShareBps(), 1000);

        // everything to the renter: an upheld dispute (10% of 1000)
        uint256 a = _disputedJob();
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.DisputeUpheld, a, 100 ether, renter, 100 ether, 0);
        slashing.resolveDispute(a, true);
        assertEq(token.balanceOf(renter), 100 ether);
        assertEq(token.balanceOf(treasury), 0);

        // equivocation still splits at the reporter share (20% of host2's 1000, 10% of that)
        uint256 e = _createJob();
        vm.prank(host2);
        marketplace.claimJob(e, host2);
        bytes memory sa = _signResult(host2Key, e, OUTPUT);
        bytes memory sb = _signResult(host2Key, e, OUTPUT_B);
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host2, ISlashing.Reason.Equivocation, e, 200 ether, reporter, 20 ether, 180 ether);
        vm.prank(reporter);
        slashing.reportEquivocation(host2, e, OUTPUT, sa, OUTPUT_B, sb);
        assertEq(token.balanceOf(reporter), 20 ether);
        assertEq(token.balanceOf(treasury), 180 ether);

        // everything to the treasury: a missed deadline (5% of the host's 1000 again)
        vm.expectEmit(address(slashing));
        emit ISlashing.BeneficiaryShareSet(0);
        slashing.setBeneficiaryShare(0);
        _stake(host, 100 ether); // back to the minimum to claim again
        uint256 b = _claimedJob();
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.MissedDeadline, b, 50 ether, renter, 0, 50 ether);
        marketplace.expireJob(b);
        assertEq(token.balanceOf(renter), 100 ether);
        assertEq(token.balanceOf(treasury), 230 ether);
    }

    /// @dev The reporter share applies to equivocation only; bounds 0..10,000 bps.
    function test_setReporterShare() public {
        vm.expectEmit(address(slashing));
        emit ISlashing.ReporterShareSet(10_000);
        slashing.setReporterShare(10_000);
        assertEq(slashing.reporterShareBps(), 10_000);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setReporterShare(10_001);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setReporterShare(type(uint16).max);
        assertEq(slashing.reporterShareBps(), 10_000);
        assertEq(slashing.beneficiaryShareBps(), 5000);

        // everything to the reporter
        uint256 a = _claimedJob();
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.Equivocation, a, 200 ether, reporter, 200 ether, 0);
        _report(a, hostKey, hostKey);
        assertEq(token.balanceOf(reporter), 200 ether);
        assertEq(token.balanceOf(treasury), 0);

        // a missed deadline still splits at the beneficiary share (5% of host2's 1000)
        uint256 m = _createJob();
        vm.prank(host2);
        marketplace.claimJob(m, host2);
        vm.warp(block.timestamp + 1 hours + 1);
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host2, ISlashing.Reason.MissedDeadline, m, 50 ether, renter, 25 ether, 25 ether);
        marketplace.expireJob(m);
        assertEq(token.balanceOf(renter), 25 ether);
        assertEq(token.balanceOf(treasury), 25 ether);

        // nothing to the reporter
        vm.expectEmit(address(slashing));
        emit ISlashing.ReporterShareSet(0);
        slashing.setReporterShare(0);
        assertEq(slashing.reporterShareBps(), 0);
        _stake(host, 200 ether); // back to the minimum to claim again
        uint256 b = _claimedJob();
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, ISlashing.Reason.Equivocation, b, 200 ether, reporter, 0, 200 ether);
        _report(b, hostKey, hostKey);
        assertEq(token.balanceOf(reporter), 200 ether);
        assertEq(token.balanceOf(treasury), 225 ether);
    }

    function test_setReporterShare_onlyAdmin() public {
        bytes32 role = slashing.DEFAULT_ADMIN_ROLE();
        address arbiter = makeAddr("arbiter");
        slashing.grantRole(slashing.ARBITER_ROLE(), arbiter);
        address[4] memory callers = [stranger, reporter, arbiter, address(marketplace)];
        for (uint256 i; i < callers.length; ++i) {
            vm.prank(callers[i]);
            vm.expectRevert(_unauthorized(callers[i], role));
            slashing.setReporterShare(0);
        }
        assertEq(slashing.reporterShareBps(), 1000);
    }

    function test_setDisputeBond() public {
        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeBondSet(1);
        slashing.setDisputeBond(1);
        assertEq(slashing.disputeBond(), 1);
        vm.expectEmit(address(slashing));
        emit ISlashing.DisputeBondSet(type(uint96).max);
        slashing.setDisputeBond(type(uint96).max);
        assertEq(slashing.disputeBond(), type(uint96).max);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setDisputeBond(0);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setDisputeBond(uint256(type(uint96).max) + 1);
        assertEq(slashing.disputeBond(), type(uint96).max);
    }

    function test_setTreasury() public {
        address t = makeAddr("treasury2");
        vm.expectEmit(address(slashing));
        emit ISlashing.TreasurySet(t);
        slashing.setTreasury(t);
        assertEq(slashing.treasury(), t);
        vm.expectRevert(ISlashing.InvalidParameter.selector);
        slashing.setTreasury(address(0));
        assertEq(slashing.treasury(), t);
        // slashes follow the new treasury
        uint256 id = _claimedJob();
        _report(id, hostKey, hostKey);
        assertEq(token.balanceOf(t), 180 ether);
        assertEq(token.balanceOf(treasury), 0);
    }

    function test_pause_doubleAndUnpauseWhenNotPaused() public {
        slashing.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        slashing.pause();
        slashing.unpause();
        vm.expectRevert(Pausable.ExpectedPause.selector);
        slashing.unpause();
        assertFalse(slashing.paused());
    }

    // ---- fuzz: slash arithmetic -------------------------------------------------------------

    struct SlashCase {
        ISlashing.Reason reason;
        uint256 active;
        uint256 unbonding;
        uint256 expected;
        uint256 share;
        address beneficiary;
        uint256 totalStaked;
    }

    /// @dev For each reason, through its real path: the amount is rate x (active + unbonding)
    ///      capped, taken active-first, and split beneficiary / treasury with nothing left over
    ///      (the reporter share for equivocation, the renter's beneficiary share otherwise).
    function testFuzz_slash(
        uint8 reasonSeed,
        uint256 extra,
        uint256 unbonding,
        uint16 rateBps,
        uint256 cap,
        uint16 shareBps,
        uint16 reporterBps
    ) public {
        SlashCase memory c;
        c.reason = ISlashing.Reason(reasonSeed % 3);
        extra = bound(extra, 0, 100_000_000 ether);
        rateBps = uint16(bound(rateBps, 0, 5000));
        cap = bound(cap, 1, 1e30);
        shareBps = uint16(bound(shareBps, 0, 10_000));
        reporterBps = uint16(bound(reporterBps, 0, 10_000));
        slashing.setSlashRate(c.reason, rateBps);
        slashing.setMaxSlashPerIncident(cap);
        slashing.setBeneficiaryShare(shareBps);
        slashing.setReporterShare(reporterBps);

        if (extra != 0) _stake(host, extra);
        uint256 id = _claimedJob();
        c.unbonding = bound(unbonding, 0, MIN_STAKE + extra);
        if (c.unbonding != 0) {
            vm.prank(host);
            staking.requestUnstake(c.unbonding);
        }
        c.active = MIN_STAKE + extra - c.unbonding;
        c.expected = (c.active + c.unbonding) * rateBps / 10_000;
        if (c.expected > cap) c.expected = cap;
        // the reporter share for equivocation, the (renter) beneficiary share otherwise
        c.share = c.expected * (c.reason == ISlashing.Reason.Equivocation ? reporterBps : shareBps) / 10_000;
        c.beneficiary = c.reason == ISlashing.Reason.Equivocation ? reporter : renter;
        c.totalStaked = staking.totalStaked();
        assertEq(slashing.slashAmount(host, c.reason), c.expected, "slashAmount");

        if (c.reason != ISlashing.Reason.MissedDeadline) _complete(id, OUTPUT);
        if (c.reason == ISlashing.Reason.DisputeUpheld) {
            vm.prank(renter);
            marketplace.disputeJob{value: BOND}(id, EVIDENCE);
        }
        vm.expectEmit(address(slashing));
        emit ISlashing.Slashed(host, c.reason, id, c.expected, c.beneficiary, c.share, c.expected - c.share);
        if (c.reason == ISlashing.Reason.MissedDeadline) {
            vm.warp(block.timestamp + 1 hours + 1);
            marketplace.expireJob(id);
        } else if (c.reason == ISlashing.Reason.DisputeUpheld) {
            slashing.resolveDispute(id, true);
        } else {
            assertEq(_report(id, hostKey, operatorKey), c.expected);
        }

        assertEq(token.balanceOf(c.beneficiary), c.share, "beneficiary share");
        assertEq(token.balanceOf(treasury), c.expected - c.share, "treasury share");
        assertEq(token.balanceOf(c.beneficiary) + token.balanceOf(treasury), c.expected, "split sums to taken");
        assertEq(token.balanceOf(address(slashing)), 0, "nothing stuck");
        assertEq(staking.totalStaked(), c.totalStaked - c.expected, "totalStaked");
        assertEq(token.balanceOf(address(staking)), staking.totalStaked(), "staking backed");
        uint256 fromActive = c.expected < c.active ? c.expected : c.active;
        IStaking.Position memory p = staking.positionOf(host);
        assertEq(p.active, c.active - fromActive, "active first");
        assertEq(p.unbonding, c.unbonding - (c.expected - fromActive), "then unbonding");
    }

    function testFuzz_slashAmount_view(uint256 active, uint256 unbonding, uint16 rateBps, uint256 cap) public {
        active = bound(active, 1, 100_000_000 ether);
        unbonding = bound(unbonding, 0, active);
        rateBps = uint16(bound(rateBps, 0, 5000));
        cap = bound(cap, 1, type(uint256).max);
        _stake(stranger, active);
        if (unbonding != 0) {
            vm.prank(stranger);
            staking.requestUnstake(unbonding);
        }
        slashing.setSlashRate(ISlashing.Reason.DisputeUpheld, rateBps);
        slashing.setMaxSlashPerIncident(cap);
        uint256 amount = slashing.slashAmount(stranger, ISlashing.Reason.DisputeUpheld);
        uint256 raw = active * rateBps / 10_000; // active here is the whole stake (active + unbonding)
        assertEq(amount, raw < cap ? raw : cap);
        assertLe(amount, cap);
        assertLe(amount * 2, active); // never more than half the slashable stake
        assertLe(amount * 10_000, active * rateBps);
    }
}
