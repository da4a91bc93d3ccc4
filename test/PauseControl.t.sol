// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IPauseControl} from "../contracts/interfaces/IPauseControl.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";

/// @notice PauseControl on the four pausable contracts (Staking, NodeRegistry, JobMarketplace,
///         Slashing): governance's open-ended pause, the guardian's lapsing one, their
///         interplay, the cool-down and the parameter.
contract PauseControlTest is Fixture {
    address internal guardian = makeAddr("guardian");
    address internal host2 = makeAddr("host2");
    uint64 internal constant MAX = 3 days; // default maxGuardianPause
    bytes32 internal constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");
    bytes32 internal constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 internal constant EVIDENCE = keccak256("evidence");

    IPauseControl[4] internal targets;
    string[4] internal names = ["Staking", "NodeRegistry", "JobMarketplace", "Slashing"];

    // jobs in each state an entry point needs
    uint256 internal openJob;
    uint256 internal claimedJob;
    uint256 internal completedJob;

    function setUp() public override {
        super.setUp();
        targets = [
            IPauseControl(address(staking)),
            IPauseControl(address(registry)),
            IPauseControl(address(marketplace)),
            IPauseControl(address(slashing))
        ];
        for (uint256 i; i < 4; ++i) {
            IAccessControl(address(targets[i])).grantRole(GUARDIAN_ROLE, guardian);
        }
        _registerHost(host);
        openJob = _createJob(MODEL, uint40(block.timestamp + 30 days));
        claimedJob = _createJob(MODEL, uint40(block.timestamp + 30 days));
        vm.prank(host);
        marketplace.claimJob(claimedJob, host);
        completedJob = _completedJob();
        token.transfer(host2, 10 * MIN_STAKE);
        vm.prank(host2);
        token.approve(address(staking), type(uint256).max);
    }

    // ---- helpers ----------------------------------------------------------------------------

    function _unauthorized(address who, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, who, role);
    }

    function _guardianPauseAll() internal returns (uint40 endsAt) {
        endsAt = uint40(block.timestamp + MAX);
        for (uint256 i; i < 4; ++i) {
            vm.expectEmit(address(targets[i]));
            emit IPauseControl.GuardianPaused(guardian, endsAt);
            vm.prank(guardian);
            targets[i].guardianPause();
            assertEq(targets[i].guardianPauseEnds(), endsAt, names[i]);
        }
    }

    function _assertPaused(bool expected) internal view {
        for (uint256 i; i < 4; ++i) {
            assertEq(targets[i].paused(), expected, names[i]);
        }
    }

    /// @dev Every pausable entry point of the four contracts reverts EnforcedPause.
    function _assertEntryPointsPaused() internal {
        bytes memory err = abi.encodeWithSelector(IPauseControl.EnforcedPause.selector);
        // Staking
        vm.prank(host2);
        vm.expectRevert(err);
        staking.stake(MIN_STAKE);
        vm.prank(host);
        vm.expectRevert(err);
        staking.requestUnstake(1 ether);
        // NodeRegistry
        vm.prank(host2);
        vm.expectRevert(err);
        registry.register(ENDPOINT, REGION, _models(OTHER_MODEL), PRICE_PER_TOKEN);
        vm.prank(host);
        vm.expectRevert(err);
        registry.updateNode(host, ENDPOINT, REGION, PRICE_PER_TOKEN + 1);
        vm.prank(host);
        vm.expectRevert(err);
        registry.addModels(host, _models(OTHER_MODEL));
        // JobMarketplace
        vm.prank(renter);
        vm.expectRevert(err);
        marketplace.createJob{value: PAYMENT}(
            MODEL, INPUT, address(0), PAYMENT, uint40(block.timestamp + 1 hours), address(0), 0
        );
        vm.prank(host);
        vm.expectRevert(err);
        marketplace.claimJob(openJob, host);
        vm.prank(renter);
        vm.expectRevert(err);
        marketplace.disputeJob{value: 0.01 ether}(completedJob, EVIDENCE);
        vm.expectRevert(err);
        marketplace.proofContext(host, _ids(claimedJob));
        bytes32[] memory outs = new bytes32[](1);
        outs[0] = OUTPUT;
        vm.prank(prover);
        vm.expectRevert(err);
        marketplace.completeJobs(host, _ids(claimedJob), outs);
        // Slashing
        bytes memory a = _signResult(hostKey, claimedJob, OUTPUT);
        bytes memory b = _signResult(hostKey, claimedJob, keccak256("other"));
        vm.expectRevert(err);
        slashing.reportEquivocation(host, claimedJob, OUTPUT, a, keccak256("other"), b);
    }

    /// @dev The same entry points work (a representative call on each contract).
    function _assertEntryPointsWork() internal {
        vm.prank(host2);
        staking.stake(MIN_STAKE);
        vm.prank(host2);
        registry.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
        vm.prank(host2);
        marketplace.claimJob(openJob, host2);
        assertEq(uint8(_status(openJob)), uint8(IJobMarketplace.Status.Claimed));
        vm.prank(renter);
        marketplace.disputeJob{value: 0.01 ether}(completedJob, EVIDENCE);
        bytes memory a = _signResult(hostKey, claimedJob, OUTPUT);
        bytes memory b = _signResult(hostKey, claimedJob, keccak256("other"));
        assertEq(slashing.reportEquivocation(host, claimedJob, OUTPUT, a, keccak256("other"), b), 200 ether);
    }

    // ---- defaults ---------------------------------------------------------------------------

    function test_defaults() public view {
        for (uint256 i; i < 4; ++i) {
            PauseControlView t = PauseControlView(address(targets[i]));
            assertEq(t.maxGuardianPause(), MAX, names[i]);
            assertEq(t.guardianPauseEnds(), 0, names[i]);
            assertEq(t.MIN_GUARDIAN_PAUSE(), 1 hours, names[i]);
            assertEq(t.MAX_GUARDIAN_PAUSE_LIMIT(), 30 days, names[i]);
            assertEq(t.GUARDIAN_ROLE(), GUARDIAN_ROLE, names[i]);
            assertEq(t.PAUSER_ROLE(), PAUSER_ROLE, names[i]);
            assertFalse(t.paused(), names[i]);
            // the wiring gives nobody the guardian role (the test granted it here)
            assertFalse(IAccessControl(address(t)).hasRole(GUARDIAN_ROLE, admin), names[i]);
            assertEq(IAccessControl(address(t)).getRoleAdmin(GUARDIAN_ROLE), bytes32(0), names[i]);
        }
    }

    // ---- guardianPause ----------------------------------------------------------------------

    function test_guardianPause_lapsesAtEndsAt() public {
        uint40 endsAt = _guardianPauseAll();
        _assertPaused(true);
        vm.warp(endsAt - 1);
        _assertPaused(true);
        _assertEntryPointsPaused();
        vm.warp(endsAt);
        _assertPaused(false);
        // the lapse itself emits nothing; guardianPauseEnds keeps the planned end
        for (uint256 i; i < 4; ++i) {
            assertEq(targets[i].guardianPauseEnds(), endsAt, names[i]);
        }
        _assertEntryPointsWork();
    }

    function test_guardianPause_blocksEntryPoints() public {
        uint40 endsAt = _guardianPauseAll();
        _assertEntryPointsPaused();
        // what a pause never stops: cancels, unbonded withdrawals, releases (whose dispute
        // window a pause extends to its end plus the grace hour)
        vm.prank(renter);
        marketplace.cancelJob(openJob);
        vm.warp(block.timestamp + 1 days + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IJobMarketplace.DisputeWindowOpen.selector, completedJob, uint256(endsAt) + 1 hours)
        );
        marketplace.releasePayments(_ids(completedJob));
        vm.warp(uint256(endsAt) + 1 hours + 1);
        marketplace.releasePayments(_ids(completedJob));
        assertEq(uint8(_status(completedJob)), uint8(IJobMarketplace.Status.Paid));
    }

    function test_guardianPause_onlyGuardian() public {
        for (uint256 i; i < 4; ++i) {
            address[3] memory callers = [stranger, admin, host];
            for (uint256 c; c < 3; ++c) {
                vm.prank(callers[c]);
                vm.expectRevert(_unauthorized(callers[c], GUARDIAN_ROLE));
                targets[i].guardianPause();
            }
        }
        _assertPaused(false);
    }

    function test_guardian_cannotUnpausePauseOrSetMax() public {
        _guardianPauseAll();
        for (uint256 i; i < 4; ++i) {
            vm.startPrank(guardian);
            vm.expectRevert(_unauthorized(guardian, PAUSER_ROLE));
            targets[i].unpause();
            vm.expectRevert(_unauthorized(guardian, PAUSER_ROLE));
            targets[i].pause();
            vm.expectRevert(_unauthorized(guardian, bytes32(0)));
            targets[i].setMaxGuardianPause(30 days);
            vm.stopPrank();
            assertEq(targets[i].maxGuardianPause(), MAX, names[i]);
        }
        // its pause still lapses on time
        vm.warp(block.timestamp + MAX);
        _assertPaused(false);
    }

    function test_guardianPause_revertsWhilePaused() public {
        uint40 endsAt = _guardianPauseAll();
        for (uint256 i; i < 4; ++i) {
            vm.prank(guardian);
            vm.expectRevert(IPauseControl.EnforcedPause.selector);
            targets[i].guardianPause();
            assertEq(targets[i].guardianPauseEnds(), endsAt, names[i]);
        }
    }

    function test_guardianPause_revertsWhileGovernancePaused() public {
        for (uint256 i; i < 4; ++i) {
            targets[i].pause();
            vm.prank(guardian);
            vm.expectRevert(IPauseControl.EnforcedPause.selector);
            targets[i].guardianPause();
            assertEq(targets[i].guardianPauseEnds(), 0, names[i]);
        }
    }

    /// @dev A guardian pause may follow the previous one only maxGuardianPause after that
    ///      one's planned end: a pause of 3 days, then at least 3 days open.
    function test_guardianPause_tooSoon() public {
        uint40 endsAt = _guardianPauseAll();
        uint256 allowedAt = uint256(endsAt) + MAX;
        bytes memory err = abi.encodeWithSelector(IPauseControl.GuardianPauseTooSoon.selector, allowedAt);
        vm.warp(endsAt);
        for (uint256 i; i < 4; ++i) {
            vm.prank(guardian);
            vm.expectRevert(err);
            targets[i].guardianPause();
        }
        vm.warp(allowedAt - 1);
        for (uint256 i; i < 4; ++i) {
            vm.prank(guardian);
            vm.expectRevert(err);
            targets[i].guardianPause();
        }
        vm.warp(allowedAt);
        uint40 next = _guardianPauseAll();
        assertEq(next, allowedAt + MAX);
        _assertPaused(true);
    }

    // ---- governance and the guardian --------------------------------------------------------

    /// @dev pause() during a guardian pause takes it over: open-ended, past the guardian's end.
    function test_pause_takesOverGuardianPause() public {
        uint40 endsAt = _guardianPauseAll();
        vm.warp(block.timestamp + 1 hours);
        for (uint256 i; i < 4; ++i) {
            vm.expectEmit(address(targets[i]));
            emit IPauseControl.Paused(admin);
            targets[i].pause();
            assertEq(targets[i].guardianPauseEnds(), 0, names[i]);
        }
        vm.warp(endsAt);
        _assertPaused(true);
        vm.warp(uint256(endsAt) + 20 days);
        _assertPaused(true);
        _assertEntryPointsPaused();
        for (uint256 i; i < 4; ++i) {
            vm.expectEmit(address(targets[i]));
            emit IPauseControl.Unpaused(admin);
            targets[i].unpause();
        }
        _assertPaused(false);
        _assertEntryPointsWork();
    }

    /// @dev unpause() ends a guardian pause early; the cool-down still counts from its planned end.
    function test_unpause_endsGuardianPauseEarly() public {
        uint40 endsAt = _guardianPauseAll();
        vm.warp(block.timestamp + 1 hours);
        for (uint256 i; i < 4; ++i) {
            vm.expectEmit(address(targets[i]));
            emit IPauseControl.Unpaused(admin);
            targets[i].unpause();
            assertEq(targets[i].guardianPauseEnds(), 0, names[i]);
            vm.prank(guardian);
            vm.expectRevert(abi.encodeWithSelector(IPauseControl.GuardianPauseTooSoon.selector, uint256(endsAt) + MAX));
            targets[i].guardianPause();
        }
        _assertPaused(false);
        _assertEntryPointsWork();
    }

    function test_unpause_revertsWhenNothingPaused() public {
        for (uint256 i; i < 4; ++i) {
            vm.expectRevert(IPauseControl.ExpectedPause.selector);
            targets[i].unpause();
        }
        // nor after a guardian pause lapsed by itself
        _guardianPauseAll();
        vm.warp(block.timestamp + MAX);
        for (uint256 i; i < 4; ++i) {
            vm.expectRevert(IPauseControl.ExpectedPause.selector);
            targets[i].unpause();
        }
    }

    function test_pause_twiceReverts() public {
        for (uint256 i; i < 4; ++i) {
            targets[i].pause();
            vm.expectRevert(IPauseControl.EnforcedPause.selector);
            targets[i].pause();
            targets[i].unpause();
            assertFalse(targets[i].paused(), names[i]);
        }
    }

    // ---- setMaxGuardianPause ----------------------------------------------------------------

    function test_setMaxGuardianPause() public {
        for (uint256 i; i < 4; ++i) {
            vm.expectEmit(address(targets[i]));
            emit IPauseControl.MaxGuardianPauseSet(30 days);
            targets[i].setMaxGuardianPause(30 days);
            assertEq(targets[i].maxGuardianPause(), 30 days, names[i]);
            vm.expectEmit(address(targets[i]));
            emit IPauseControl.MaxGuardianPauseSet(1 hours);
            targets[i].setMaxGuardianPause(1 hours);
            assertEq(targets[i].maxGuardianPause(), 1 hours, names[i]);
            vm.expectRevert(IPauseControl.InvalidPauseParameter.selector);
            targets[i].setMaxGuardianPause(1 hours - 1);
            vm.expectRevert(IPauseControl.InvalidPauseParameter.selector);
            targets[i].setMaxGuardianPause(30 days + 1);
            vm.expectRevert(IPauseControl.InvalidPauseParameter.selector);
            targets[i].setMaxGuardianPause(0);
            assertEq(targets[i].maxGuardianPause(), 1 hours, names[i]);
            // the next guardian pause lasts the new maximum
            vm.expectEmit(address(targets[i]));
            emit IPauseControl.GuardianPaused(guardian, uint40(block.timestamp + 1 hours));
            vm.prank(guardian);
            targets[i].guardianPause();
        }
        vm.warp(block.timestamp + 1 hours);
        _assertPaused(false);
    }

    function test_setMaxGuardianPause_onlyAdmin() public {
        address pauser = makeAddr("pauser");
        for (uint256 i; i < 4; ++i) {
            IAccessControl(address(targets[i])).grantRole(PAUSER_ROLE, pauser);
            address[3] memory callers = [stranger, pauser, guardian];
            for (uint256 c; c < 3; ++c) {
                vm.prank(callers[c]);
                vm.expectRevert(_unauthorized(callers[c], bytes32(0)));
                targets[i].setMaxGuardianPause(1 days);
            }
            assertEq(targets[i].maxGuardianPause(), MAX, names[i]);
        }
    }

    // ---- the marketplace's pause history ----------------------------------------------------

    function test_marketplaceHistory_recordsGuardianAndGovernancePauses() public {
        uint256 t0 = block.timestamp;
        vm.prank(guardian);
        marketplace.guardianPause();
        assertEq(marketplace.pauseCount(), 1);
        IJobMarketplace.PauseWindow memory w = marketplace.pauseWindow(0);
        assertEq(w.pausedAt, t0);
        assertEq(w.unpausedAt, t0 + MAX);

        // governance takes it over: open-ended
        vm.warp(t0 + 1 hours);
        marketplace.pause();
        assertEq(marketplace.pauseCount(), 1);
        assertEq(marketplace.pauseWindow(0).unpausedAt, 0);
        vm.warp(t0 + 5 days);
        marketplace.unpause();
        assertEq(marketplace.pauseWindow(0).pausedAt, t0);
        assertEq(marketplace.pauseWindow(0).unpausedAt, t0 + 5 days);

        // a guardian pause ended early by governance
        vm.warp(t0 + 6 days);
        vm.prank(guardian);
        marketplace.guardianPause();
        vm.warp(t0 + 6 days + 2 hours);
        marketplace.unpause();
        assertEq(marketplace.pauseCount(), 2);
        assertEq(marketplace.pauseWindow(1).pausedAt, t0 + 6 days);
        assertEq(marketplace.pauseWindow(1).unpausedAt, t0 + 6 days + 2 hours);
    }
}

/// @dev The views PauseControl adds, for the defaults test.
interface PauseControlView is IPauseControl {
    function MIN_GUARDIAN_PAUSE() external view returns (uint64);
    function MAX_GUARDIAN_PAUSE_LIMIT() external view returns (uint64);
    function GUARDIAN_ROLE() external view returns (bytes32);
    function PAUSER_ROLE() external view returns (bytes32);
}
