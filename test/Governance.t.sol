// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm} from "forge-std/Test.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Votes} from "@openzeppelin/contracts/governance/utils/Votes.sol";
import {VouchToken} from "../contracts/VouchToken.sol";
import {VouchGovernor} from "../contracts/VouchGovernor.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";
import {ISlashing} from "../contracts/interfaces/ISlashing.sol";
import {IPauseControl} from "../contracts/interfaces/IPauseControl.sol";
import {IProofSystem} from "../contracts/interfaces/IProofSystem.sol";
import {Core} from "../script/SystemDeployer.sol";
import {Deploy} from "../script/Deploy.s.sol";

/// @notice Governance end to end, on a system deployed the way `Deploy.s.sol` deploys it: the
///         same token, timelock and governor constructor arguments (the script's defaults), the
///         script's own `_deployCore` wiring and its own `_handOver`. Only the Halo2 verifiers
///         are left out (they come from `vouch proof setup`; proofs are ProofSystem's tests).
///         This test contract plays the deployer (the broadcasting key).
contract GovernanceTest is Test, Deploy {
    // Deploy.s.sol's defaults (its `vm.envOr` fallbacks).
    uint256 internal constant SUPPLY = 1e9 ether;
    uint256 internal constant TIMELOCK_DELAY = 2 days;
    uint48 internal constant VOTING_DELAY = 1 days;
    uint32 internal constant VOTING_PERIOD = 5 days;
    uint256 internal constant THRESHOLD = 10_000 ether;
    uint256 internal constant QUORUM_PERCENT = 4;
    uint256 internal constant QUORUM = SUPPLY * QUORUM_PERCENT / 100; // 40M VOUCH

    // Delegated voting power: 90M of the 1B supply; the deployer keeps the rest undelegated.
    uint256 internal constant ALICE = 30_000_000 ether;
    uint256 internal constant BOB = 25_000_000 ether;
    uint256 internal constant CAROL = 15_000_000 ether;
    uint256 internal constant ERIN = 20_000_000 ether;
    uint256 internal constant DAVE = THRESHOLD - 1 ether; // just under the proposal threshold

    uint8 internal constant AGAINST = 0;
    uint8 internal constant FOR = 1;
    uint8 internal constant ABSTAIN = 2;

    bytes32 internal constant MODEL = keccak256("llama-3-8b-instruct-q4");
    bytes32 internal constant INPUT = keccak256("prompt: hello");
    uint96 internal constant PAYMENT = 0.05 ether;

    Deployed internal dep;
    address internal deployer;
    VouchToken internal token;
    TimelockController internal timelock;
    VouchGovernor internal governor;

    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");
    address internal carol = makeAddr("carol");
    address internal erin = makeAddr("erin");
    address internal dave = makeAddr("dave");
    address internal renter = makeAddr("renter");

    struct Proposal {
        address[] targets;
        uint256[] values;
        bytes[] calldatas;
        string description;
    }

    function setUp() public {
        vm.warp(1_750_000_000);
        deployer = address(this);
        // As Deploy.run(), minus the verifiers.
        dep.token = new VouchToken(deployer, SUPPLY);
        dep.timelock = new TimelockController(TIMELOCK_DELAY, new address[](0), new address[](0), deployer);
        dep.governor = new VouchGovernor(dep.token, dep.timelock, VOTING_DELAY, VOTING_PERIOD, THRESHOLD, QUORUM_PERCENT);
        dep.core = _deployCore(dep.token, deployer, address(dep.timelock));
        _handOver(dep, deployer);

        token = dep.token;
        timelock = dep.timelock;
        governor = dep.governor;

        _giveVotes(alice, ALICE);
        _giveVotes(bob, BOB);
        _giveVotes(carol, CAROL);
        _giveVotes(erin, ERIN);
        _giveVotes(dave, DAVE);
        vm.deal(renter, 10 ether);
        // Votes are read at past timepoints (propose uses clock() - 1).
        vm.warp(block.timestamp + 1);
    }

    // =========================================================================================
    // the hand-over
    // =========================================================================================

    /// @notice After `_handOver` the deployer holds no role of any kind on any contract.
    function test_handOver_deployerHoldsNoRole() public view {
        address[] memory contracts = _allAccessControlled();
        bytes32[] memory roles = _allRoles();
        for (uint256 c = 0; c < contracts.length; ++c) {
            for (uint256 r = 0; r < roles.length; ++r) {
                assertFalse(
                    IAccessControl(contracts[c]).hasRole(roles[r], deployer),
                    string.concat("deployer kept role ", vm.toString(roles[r]), " on ", vm.toString(contracts[c]))
                );
                // Nor does the governor hold any protocol role directly: it acts via the timelock.
                if (contracts[c] != address(timelock)) {
                    assertFalse(IAccessControl(contracts[c]).hasRole(roles[r], address(governor)), "governor holds a role");
                }
            }
        }
    }

    /// @notice The timelock holds every admin and pauser role and the arbiter role; the
    ///         wiring roles sit with the contracts that need them and nowhere else checked.
    function test_handOver_timelockHoldsEveryAdminRole() public view {
        bytes32 admin = bytes32(0);
        bytes32 pauser = keccak256("PAUSER_ROLE");
        address t = address(timelock);

        assertTrue(dep.core.staking.hasRole(admin, t), "staking admin");
        assertTrue(dep.core.registry.hasRole(admin, t), "registry admin");
        assertTrue(dep.core.reputation.hasRole(admin, t), "reputation admin");
        assertTrue(dep.core.marketplace.hasRole(admin, t), "marketplace admin");
        assertTrue(dep.core.slashing.hasRole(admin, t), "slashing admin");
        assertTrue(dep.core.proofSystem.hasRole(admin, t), "proof system admin");

        assertTrue(dep.core.staking.hasRole(pauser, t), "staking pauser");
        assertTrue(dep.core.registry.hasRole(pauser, t), "registry pauser");
        assertTrue(dep.core.marketplace.hasRole(pauser, t), "marketplace pauser");
        assertTrue(dep.core.slashing.hasRole(pauser, t), "slashing pauser");
        // ProofSystem has no pause of its own: submissions pause with the marketplace.
        assertTrue(dep.core.slashing.hasRole(dep.core.slashing.ARBITER_ROLE(), t), "arbiter");

        // Wiring (SystemDeployer): each privileged call path has exactly its caller.
        assertTrue(dep.core.staking.hasRole(dep.core.staking.SLASHER_ROLE(), address(dep.core.slashing)), "slasher");
        assertFalse(dep.core.staking.hasRole(dep.core.staking.SLASHER_ROLE(), t), "timelock is no slasher");
        bytes32 writer = dep.core.reputation.WRITER_ROLE();
        assertTrue(dep.core.reputation.hasRole(writer, address(dep.core.marketplace)), "writer: marketplace");
        assertTrue(dep.core.reputation.hasRole(writer, address(dep.core.slashing)), "writer: slashing");
        assertFalse(dep.core.reputation.hasRole(writer, t), "timelock is no writer");
        bytes32 proofRole = dep.core.marketplace.PROOF_SYSTEM_ROLE();
        assertTrue(dep.core.marketplace.hasRole(proofRole, address(dep.core.proofSystem)), "proof system role");
        assertFalse(dep.core.marketplace.hasRole(proofRole, t), "timelock cannot complete jobs");
        bytes32 slashingRole = dep.core.marketplace.SLASHING_ROLE();
        assertTrue(dep.core.marketplace.hasRole(slashingRole, address(dep.core.slashing)), "slashing role");
        assertTrue(
            dep.core.slashing.hasRole(dep.core.slashing.MARKETPLACE_ROLE(), address(dep.core.marketplace)), "marketplace role"
        );
        assertEq(address(dep.core.marketplace.slashing()), address(dep.core.slashing), "marketplace -> slashing");
        assertEq(address(dep.core.registry.marketplace()), address(dep.core.marketplace), "registry -> marketplace");
        assertEq(address(dep.core.staking.marketplace()), address(dep.core.marketplace), "staking -> marketplace");
        // The treasury is the timelock: fees and slashed shares are governance's to spend.
        assertEq(dep.core.marketplace.treasury(), t, "marketplace treasury");
        assertEq(dep.core.slashing.treasury(), t, "slashing treasury");
    }

    /// @notice The timelock administers itself; the governor proposes and cancels; anyone
    ///         executes a ready operation.
    function test_handOver_timelockRoles() public view {
        address t = address(timelock);
        assertTrue(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), t), "timelock self-admin");
        assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(governor)), "governor is no admin");
        assertTrue(timelock.hasRole(timelock.PROPOSER_ROLE(), address(governor)), "governor proposes");
        assertTrue(timelock.hasRole(timelock.CANCELLER_ROLE(), address(governor)), "governor cancels");
        assertTrue(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(0)), "open execution");
        assertFalse(timelock.hasRole(timelock.EXECUTOR_ROLE(), address(governor)), "no executor grant needed");
        assertEq(timelock.getMinDelay(), TIMELOCK_DELAY);
    }

    /// @notice With the roles gone, every privileged call from the deployer reverts.
    function test_handOver_deployerCannotActAnyMore() public {
        bytes32 admin = bytes32(0);
        bytes32 pauser = keccak256("PAUSER_ROLE");
        bytes32 arbiter = dep.core.slashing.ARBITER_ROLE();
        bytes32 proposer = timelock.PROPOSER_ROLE();
        _expectUnauthorized(deployer, admin);
        dep.core.staking.setMinimumStake(1 ether);
        _expectUnauthorized(deployer, admin);
        dep.core.marketplace.setProtocolFee(100);
        _expectUnauthorized(deployer, pauser);
        dep.core.marketplace.pause();
        _expectUnauthorized(deployer, arbiter);
        dep.core.slashing.resolveDispute(1, true);
        _expectUnauthorized(deployer, admin);
        dep.core.proofSystem.setVerifier(1, address(token), 1);
        _expectUnauthorized(deployer, admin);
        dep.core.proofSystem.setModelVerifier(MODEL, address(token), 1, IProofSystem.InstanceLayout.HashedInputOutput);
        _expectUnauthorized(deployer, admin);
        dep.core.reputation.setHalfLife(1 days);
        _expectUnauthorized(deployer, proposer);
        timelock.schedule(address(dep.core.staking), 0, "", bytes32(0), bytes32(0), TIMELOCK_DELAY);
        _expectUnauthorized(deployer, admin);
        timelock.grantRole(proposer, deployer);
    }

    // =========================================================================================
    // the emergency roles (VOUCH_GUARDIAN, VOUCH_ARBITRATION_COUNCIL)
    // =========================================================================================

    /// @dev As Deploy.run(), minus the verifiers: the same env-read emergency roles.
    function _deployLikeScript() internal returns (Deployed memory d) {
        d.token = new VouchToken(deployer, SUPPLY);
        d.timelock = new TimelockController(TIMELOCK_DELAY, new address[](0), new address[](0), deployer);
        d.governor = new VouchGovernor(d.token, d.timelock, VOTING_DELAY, VOTING_PERIOD, THRESHOLD, QUORUM_PERCENT);
        d.core = _deployCore(d.token, deployer, address(d.timelock));
        _appointEmergencyRoles(
            d.core, vm.envOr("VOUCH_GUARDIAN", address(0)), vm.envOr("VOUCH_ARBITRATION_COUNCIL", address(0))
        );
        _handOver(d, deployer);
    }

    function _pausables(Deployed memory d) internal pure returns (address[4] memory) {
        return [address(d.core.staking), address(d.core.registry), address(d.core.marketplace), address(d.core.slashing)];
    }

    /// @dev One test for both cases: the environment is the process's, shared by parallel tests.
    function test_deploy_emergencyRolesFromEnvironment() public {
        address guardian = makeAddr("guardian");
        address council = makeAddr("council");
        bytes32 guardianRole = keccak256("GUARDIAN_ROLE");
        vm.setEnv("VOUCH_GUARDIAN", vm.toString(guardian));
        vm.setEnv("VOUCH_ARBITRATION_COUNCIL", vm.toString(council));
        Deployed memory d = _deployLikeScript();
        vm.setEnv("VOUCH_GUARDIAN", "");
        vm.setEnv("VOUCH_ARBITRATION_COUNCIL", "");

        address[4] memory p = _pausables(d);
        bytes32 arbiter = d.core.slashing.ARBITER_ROLE();
        for (uint256 i; i < 4; ++i) {
            assertTrue(IAccessControl(p[i]).hasRole(guardianRole, guardian), "guardian role");
            assertFalse(IAccessControl(p[i]).hasRole(guardianRole, council), "council is no guardian");
            assertFalse(IAccessControl(p[i]).hasRole(guardianRole, deployer), "deployer is no guardian");
            assertFalse(IAccessControl(p[i]).hasRole(keccak256("PAUSER_ROLE"), guardian), "guardian is no pauser");
            assertFalse(IAccessControl(p[i]).hasRole(bytes32(0), guardian), "guardian is no admin");
        }
        assertFalse(IAccessControl(address(d.core.reputation)).hasRole(guardianRole, guardian));
        assertFalse(IAccessControl(address(d.core.proofSystem)).hasRole(guardianRole, guardian));
        assertTrue(d.core.slashing.hasRole(arbiter, council), "council arbiter");
        assertTrue(d.core.slashing.hasRole(arbiter, address(d.timelock)), "timelock still arbiter");
        assertFalse(d.core.slashing.hasRole(arbiter, guardian), "guardian is no arbiter");
        assertFalse(d.core.slashing.hasRole(arbiter, deployer), "deployer is no arbiter");
        assertFalse(d.core.slashing.hasRole(bytes32(0), council), "council is no admin");

        // the council rules on a dispute directly, without a proposal
        uint256 jobId = _disputedJobOn(d);
        vm.prank(council);
        d.core.slashing.resolveDispute(jobId, true);
        assertEq(uint8(d.core.slashing.getDispute(jobId).status), uint8(ISlashing.DisputeStatus.Upheld));
        assertEq(uint8(d.core.marketplace.getJob(jobId).status), uint8(IJobMarketplace.Status.Refunded));
        // and the guardian pauses each contract by itself
        for (uint256 i; i < 4; ++i) {
            vm.prank(guardian);
            IPauseControl(p[i]).guardianPause();
            assertTrue(IPauseControl(p[i]).paused());
        }

        // without the variables (empty), nobody extra holds either role
        Deployed memory bare = _deployLikeScript();
        address[4] memory q = _pausables(bare);
        address[5] memory nobody = [guardian, council, deployer, address(bare.timelock), address(bare.governor)];
        for (uint256 i; i < 4; ++i) {
            for (uint256 k; k < nobody.length; ++k) {
                assertFalse(IAccessControl(q[i]).hasRole(guardianRole, nobody[k]), "no guardian");
            }
        }
        assertFalse(bare.core.slashing.hasRole(arbiter, council), "no council");
        assertTrue(bare.core.slashing.hasRole(arbiter, address(bare.timelock)), "timelock arbiter");
        vm.prank(council);
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, council, arbiter));
        bare.core.slashing.resolveDispute(1, true);
        vm.prank(guardian);
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, guardian, guardianRole)
        );
        bare.core.marketplace.guardianPause();
    }

    /// @dev A host staked and registered on `d`, a job claimed, completed (as the proof system)
    ///      and disputed.
    function _disputedJobOn(Deployed memory d) internal returns (uint256 jobId) {
        address host = makeAddr("host");
        d.token.transfer(host, 1000 ether);
        vm.startPrank(host);
        d.token.approve(address(d.core.staking), 1000 ether);
        d.core.staking.stake(1000 ether);
        bytes32[] memory models = new bytes32[](1);
        models[0] = MODEL;
        d.core.registry.register("https://host.vouch.example", bytes16("eu-west-1"), models, 1 gwei);
        vm.stopPrank();
        vm.prank(renter);
        jobId = d.core.marketplace.createJob{value: PAYMENT}(
            MODEL, INPUT, address(0), PAYMENT, uint40(block.timestamp + 1 hours), address(0), 0
        );
        vm.prank(host);
        d.core.marketplace.claimJob(jobId, host);
        uint256[] memory ids = new uint256[](1);
        bytes32[] memory outs = new bytes32[](1);
        ids[0] = jobId;
        outs[0] = keccak256("completion");
        vm.prank(address(d.core.proofSystem));
        d.core.marketplace.completeJobs(host, ids, outs);
        vm.prank(renter);
        d.core.marketplace.disputeJob{value: 0.01 ether}(jobId, keccak256("evidence"));
    }

    // =========================================================================================
    // settings, clock, quorum, threshold
    // =========================================================================================

    function test_settings_matchTheDeployScript() public view {
        assertEq(governor.name(), "VouchGovernor");
        assertEq(governor.votingDelay(), 1 days);
        assertEq(governor.votingPeriod(), 5 days);
        assertEq(governor.proposalThreshold(), 10_000 ether);
        assertEq(governor.quorumNumerator(), 4);
        assertEq(governor.quorumDenominator(), 100);
        assertEq(governor.timelock(), address(timelock));
        assertEq(address(governor.token()), address(token));
        // ERC-6372: the governor counts in the token's timestamps, so delays are seconds.
        assertEq(governor.CLOCK_MODE(), "mode=timestamp");
        assertEq(token.CLOCK_MODE(), "mode=timestamp");
        assertEq(governor.clock(), block.timestamp);
        assertEq(token.clock(), block.timestamp);
        assertEq(token.totalSupply(), SUPPLY);
        assertEq(governor.getVotes(alice, block.timestamp - 1), ALICE);
        // Undelegated tokens carry no vote.
        assertEq(token.balanceOf(deployer), SUPPLY - ALICE - BOB - CAROL - ERIN - DAVE);
        assertEq(token.getVotes(deployer), 0);
    }

    /// @notice Quorum is 4% of the total supply at the (past) timepoint, not of the delegated
    ///         votes; the current timepoint cannot be read.
    function test_quorum_isFourPercentOfPastSupply() public {
        uint256 t = block.timestamp - 1;
        assertEq(governor.quorum(t), 40_000_000 ether);
        assertEq(governor.quorum(t), token.getPastTotalSupply(t) * 4 / 100);
        assertEq(QUORUM, 40_000_000 ether);
        vm.expectRevert(abi.encodeWithSelector(Votes.ERC5805FutureLookup.selector, block.timestamp, uint48(block.timestamp)));
        governor.quorum(block.timestamp);
    }

    /// @notice Governance can raise the quorum; proposals keep the quorum of their snapshot.
    function test_quorum_updateIsCheckpointed() public {
        uint256 before = block.timestamp - 1;
        Proposal memory p = _proposal(address(governor), abi.encodeCall(governor.updateQuorumNumerator, (10)), "quorum 10%");
        _enact(p);
        assertEq(governor.quorumNumerator(), 10);
        vm.warp(block.timestamp + 1);
        assertEq(governor.quorum(block.timestamp - 1), 100_000_000 ether, "new quorum");
        assertEq(governor.quorum(before), 40_000_000 ether, "old timepoints keep 4%");
    }

    function test_propose_belowThresholdReverts() public {
        Proposal memory p = _minimumStakeProposal(2000 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, dave, DAVE, THRESHOLD)
        );
        vm.prank(dave);
        governor.propose(p.targets, p.values, p.calldatas, p.description);

        // One more VOUCH, delegated, is enough, but only from the next second on: the
        // threshold reads the votes at clock() - 1.
        vm.prank(alice);
        token.transfer(dave, 1 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IGovernor.GovernorInsufficientProposerVotes.selector, dave, DAVE, THRESHOLD)
        );
        vm.prank(dave);
        governor.propose(p.targets, p.values, p.calldatas, p.description);

        vm.warp(block.timestamp + 1);
        vm.prank(dave);
        uint256 id = governor.propose(p.targets, p.values, p.calldatas, p.description);
        assertEq(uint8(governor.state(id)), uint8(IGovernor.ProposalState.Pending));
        assertEq(governor.proposalProposer(id), dave);
    }

    // =========================================================================================
    // full lifecycles
    // =========================================================================================

    /// @notice propose -> vote (for, against, abstain) -> queue -> timelock delay -> execute,
    ///         with every state and boundary checked, changing Staking's minimum stake.
    function test_lifecycle_changesMinimumStake() public {
        Proposal memory p = _minimumStakeProposal(2000 ether);
        bytes32 descHash = keccak256(bytes(p.description));
        uint256 proposedAt = block.timestamp;
        vm.prank(alice);
        uint256 id = governor.propose(p.targets, p.values, p.calldatas, p.description);

        assertEq(id, governor.hashProposal(p.targets, p.values, p.calldatas, descHash));
        assertEq(governor.proposalSnapshot(id), proposedAt + VOTING_DELAY);
        assertEq(governor.proposalDeadline(id), proposedAt + VOTING_DELAY + VOTING_PERIOD);
        _assertState(id, IGovernor.ProposalState.Pending);

        // No voting while pending, even at the snapshot second itself.
        vm.warp(proposedAt + VOTING_DELAY);
        _assertState(id, IGovernor.ProposalState.Pending);
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Pending,
                _bitmap(IGovernor.ProposalState.Active)
            )
        );
        vm.prank(bob);
        governor.castVote(id, FOR);

        vm.warp(proposedAt + VOTING_DELAY + 1);
        _assertState(id, IGovernor.ProposalState.Active);
        _vote(alice, id, FOR);
        _vote(bob, id, AGAINST);
        _vote(carol, id, ABSTAIN);
        (uint256 against, uint256 forVotes, uint256 abstain) = governor.proposalVotes(id);
        assertEq(against, BOB);
        assertEq(forVotes, ALICE);
        assertEq(abstain, CAROL);
        assertTrue(governor.hasVoted(id, alice));
        assertFalse(governor.hasVoted(id, erin));
        // For alone (30M) is below the 40M quorum; for + abstain (45M) reaches it.
        assertLt(forVotes, governor.quorum(governor.proposalSnapshot(id)));
        assertGe(forVotes + abstain, governor.quorum(governor.proposalSnapshot(id)));

        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorAlreadyCastVote.selector, alice));
        vm.prank(alice);
        governor.castVote(id, AGAINST);

        // Queueing before the vote ends fails.
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Active,
                _bitmap(IGovernor.ProposalState.Succeeded)
            )
        );
        governor.queue(p.targets, p.values, p.calldatas, descHash);

        vm.warp(governor.proposalDeadline(id));
        _assertState(id, IGovernor.ProposalState.Active);
        vm.warp(governor.proposalDeadline(id) + 1);
        _assertState(id, IGovernor.ProposalState.Succeeded);

        // Executing without queueing fails: the proposal must go through the timelock.
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Succeeded,
                _bitmap(IGovernor.ProposalState.Queued)
            )
        );
        governor.execute(p.targets, p.values, p.calldatas, descHash);

        uint256 queuedAt = block.timestamp;
        governor.queue(p.targets, p.values, p.calldatas, descHash);
        _assertState(id, IGovernor.ProposalState.Queued);
        assertEq(governor.proposalEta(id), queuedAt + TIMELOCK_DELAY);
        bytes32 opId = _operationId(p);
        assertTrue(timelock.isOperationPending(opId));
        assertEq(timelock.getTimestamp(opId), queuedAt + TIMELOCK_DELAY);

        // Before the delay: the timelock refuses (anyone may execute, nobody early).
        bytes memory notReady = abi.encodeWithSelector(
            TimelockController.TimelockUnexpectedOperationState.selector,
            opId,
            bytes32(1 << uint8(TimelockController.OperationState.Ready))
        );
        vm.expectRevert(notReady);
        governor.execute(p.targets, p.values, p.calldatas, descHash);
        vm.warp(queuedAt + TIMELOCK_DELAY - 1);
        vm.expectRevert(notReady);
        governor.execute(p.targets, p.values, p.calldatas, descHash);
        assertEq(dep.core.staking.minimumStake(), 1000 ether, "unchanged before execution");

        vm.warp(queuedAt + TIMELOCK_DELAY);
        vm.prank(renter); // anyone executes
        governor.execute(p.targets, p.values, p.calldatas, descHash);
        _assertState(id, IGovernor.ProposalState.Executed);
        assertTrue(timelock.isOperationDone(opId));
        assertEq(dep.core.staking.minimumStake(), 2000 ether);

        // Executed once only.
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Executed,
                _bitmap(IGovernor.ProposalState.Queued)
            )
        );
        governor.execute(p.targets, p.values, p.calldatas, descHash);
    }

    /// @notice A verifiable model's verifier is installed, and later removed, by proposals
    ///         through the timelock (the path of every verifier after deployment).
    function test_lifecycle_installsAndRemovesAModelVerifier() public {
        bytes32 circuit = keccak256("a verifiable model's circuit");
        address verifier = vm.deployCode("Halo2VerifierB1.sol:Halo2VerifierB1");
        IProofSystem ps = dep.core.proofSystem;
        IProofSystem.InstanceLayout hashed = IProofSystem.InstanceLayout.HashedInputOutput;
        Proposal memory install =
            _proposal(address(ps), abi.encodeCall(ps.setModelVerifier, (circuit, verifier, 2, hashed)), "install model");
        vm.recordLogs();
        _enact(install);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 seen;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (logs[i].emitter != address(ps) || logs[i].topics[0] != IProofSystem.ModelVerifierSet.selector) continue;
            ++seen;
            assertEq(logs[i].topics[1], circuit);
            assertEq(logs[i].topics[2], bytes32(uint256(uint160(verifier))));
            assertEq(logs[i].data, abi.encode(uint32(2), hashed));
        }
        assertEq(seen, 1, "one ModelVerifierSet, emitted when the timelock executed");
        assertEq(ps.modelVerifierFor(circuit).verifier, verifier);
        assertEq(ps.modelVerifierFor(circuit).circuitVersion, 2);
        assertEq(uint8(ps.modelVerifierFor(circuit).layout), uint8(hashed));

        Proposal memory remove = _proposal(
            address(ps),
            abi.encodeCall(ps.setModelVerifier, (circuit, address(0), 0, IProofSystem.InstanceLayout.None)),
            "remove model"
        );
        _enact(remove);
        assertEq(ps.modelVerifierFor(circuit).verifier, address(0));
    }

    /// @notice `VOUCH_MODELS`: the deploy script installs each listed model's verifier from its
    ///         manifest (here two manifests written for the test, naming a real generated
    ///         verifier), before the hand-over.
    function test_deploy_installsListedModelVerifiers() public {
        Core memory c = _deployCore(new VouchToken(deployer, SUPPLY), deployer, deployer);
        string memory dir = "deploy/test-models";
        bytes32 a = keccak256("model a");
        bytes32 b = keccak256("model b");
        _writeModelManifest(dir, "a", a, 1, "HashedInputOutput");
        _writeModelManifest(dir, "b", b, 5, "HashedInputOutput");
        bytes32[] memory hashes = _installModels(c, "a,b", dir);
        assertEq(hashes.length, 2);
        assertEq(hashes[0], a);
        assertEq(hashes[1], b);
        IProofSystem.ModelVerifierInfo memory ia = c.proofSystem.modelVerifierFor(a);
        IProofSystem.ModelVerifierInfo memory ib = c.proofSystem.modelVerifierFor(b);
        assertGt(ia.verifier.code.length, 0, "a verifier was deployed");
        assertEq(ia.circuitVersion, 1);
        assertEq(ib.circuitVersion, 5);
        assertEq(uint8(ib.layout), uint8(IProofSystem.InstanceLayout.HashedInputOutput));
        assertEq(_installModels(c, "", dir).length, 0, "none listed: none installed");

        _writeModelManifest(dir, "c", keccak256("model c"), 1, "Limbs");
        vm.expectRevert(bytes("c: unknown instance layout"));
        this.installModelsExternally(c, "c", dir);
        vm.removeDir(dir, true);
    }

    function installModelsExternally(Core memory c, string memory names, string memory dir) external {
        _installModels(c, names, dir);
    }

    function _writeModelManifest(string memory dir, string memory name, bytes32 modelHash, uint32 version, string memory layout)
        internal
    {
        string memory folder = string.concat(dir, "/", name);
        vm.createDir(folder, true);
        string memory key = name;
        vm.serializeString(key, "contract", "Halo2VerifierB1");
        vm.serializeBytes32(key, "modelHash", modelHash);
        vm.serializeUint(key, "circuitVersion", version);
        string memory json = vm.serializeString(key, "instanceLayout", layout);
        vm.writeJson(json, string.concat(folder, "/model.json"));
    }

    /// @notice A protocol fee set by governance applies to jobs created afterwards.
    function test_lifecycle_setsProtocolFee() public {
        uint256 before = _createJob();
        _enact(_proposal(address(dep.core.marketplace), abi.encodeCall(dep.core.marketplace.setProtocolFee, (250)), "fee 2.5%"));
        assertEq(dep.core.marketplace.protocolFeeBps(), 250);
        uint256 afterId = _createJob();
        // PAYMENT at the default 1% and at 2.5%, both above ETH's minimum fee.
        assertEq(dep.core.marketplace.getJob(before).fee, PAYMENT / 100, "earlier job keeps its fee");
        assertEq(dep.core.marketplace.getJob(afterId).fee, PAYMENT * 250 / 10_000);
    }

    /// @notice Governance pauses the marketplace (createJob then reverts EnforcedPause) and
    ///         later unpauses it.
    function test_lifecycle_pausesAndUnpausesMarketplace() public {
        Proposal memory pause = _proposal(address(dep.core.marketplace), abi.encodeCall(dep.core.marketplace.pause, ()), "pause");
        uint256 id = _enact(pause);
        _assertState(id, IGovernor.ProposalState.Executed);
        assertTrue(dep.core.marketplace.paused());

        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(renter);
        dep.core.marketplace.createJob{value: PAYMENT}(MODEL, INPUT, address(0), PAYMENT, uint40(block.timestamp + 1 hours), address(0), 0);

        Proposal memory unpause =
            _proposal(address(dep.core.marketplace), abi.encodeCall(dep.core.marketplace.unpause, ()), "unpause");
        _enact(unpause);
        assertFalse(dep.core.marketplace.paused());
        uint256 jobId = _createJob();
        assertEq(uint8(dep.core.marketplace.getJob(jobId).status), uint8(IJobMarketplace.Status.Open));
    }

    /// @notice One proposal pauses every pausable contract (the timelock holds every pauser
    ///         role); another unpauses them all.
    function test_lifecycle_pausesEverything() public {
        address[4] memory pausable = [
            address(dep.core.staking),
            address(dep.core.registry),
            address(dep.core.marketplace),
            address(dep.core.slashing)
        ];
        uint256 n = pausable.length;
        Proposal memory p;
        p.targets = new address[](n);
        p.values = new uint256[](n);
        p.calldatas = new bytes[](n);
        p.description = "pause everything";
        for (uint256 i = 0; i < n; ++i) {
            p.targets[i] = pausable[i];
            p.calldatas[i] = abi.encodeWithSignature("pause()");
        }
        _enact(p);
        for (uint256 i = 0; i < n; ++i) {
            assertTrue(Pausable(pausable[i]).paused(), "paused");
        }
        for (uint256 i = 0; i < n; ++i) {
            p.calldatas[i] = abi.encodeWithSignature("unpause()");
        }
        p.description = "unpause everything";
        _enact(p);
        for (uint256 i = 0; i < n; ++i) {
            assertFalse(Pausable(pausable[i]).paused(), "unpaused");
        }
    }

    /// @notice The arbiter role is the timelock's: a dispute is ruled by a proposal. (A first
    ///         proposal lets a test prover complete jobs, since no verifier is installed here.)
    function test_lifecycle_rulesADispute() public {
        address host = makeAddr("host");
        address prover = makeAddr("prover");
        token.transfer(host, 1000 ether);
        vm.startPrank(host);
        token.approve(address(dep.core.staking), 1000 ether);
        dep.core.staking.stake(1000 ether);
        bytes32[] memory models = new bytes32[](1);
        models[0] = MODEL;
        dep.core.registry.register("https://host.vouch.example", bytes16("eu-west-1"), models, 1 gwei);
        vm.stopPrank();

        vm.prank(renter);
        uint256 jobId = dep.core.marketplace.createJob{value: PAYMENT}(
            MODEL, INPUT, address(0), PAYMENT, uint40(block.timestamp + 20 days)
        , address(0), 0);
        vm.prank(host);
        dep.core.marketplace.claimJob(jobId, host);

        bytes32 proofRole = dep.core.marketplace.PROOF_SYSTEM_ROLE();
        _enact(
            _proposal(address(dep.core.marketplace), abi.encodeCall(dep.core.marketplace.grantRole, (proofRole, prover)), "prover")
        );
        uint256[] memory ids = new uint256[](1);
        bytes32[] memory outs = new bytes32[](1);
        ids[0] = jobId;
        outs[0] = keccak256("completion");
        vm.prank(prover);
        dep.core.marketplace.completeJobs(host, ids, outs);
        vm.prank(renter);
        dep.core.marketplace.disputeJob{value: 0.01 ether}(jobId, keccak256("evidence"));
        assertEq(uint8(dep.core.marketplace.getJob(jobId).status), uint8(IJobMarketplace.Status.Disputed));

        _enact(_proposal(address(dep.core.slashing), abi.encodeCall(dep.core.slashing.resolveDispute, (jobId, true)), "uphold"));

        assertEq(uint8(dep.core.marketplace.getJob(jobId).status), uint8(IJobMarketplace.Status.Refunded));
        assertEq(uint8(dep.core.slashing.getDispute(jobId).status), uint8(ISlashing.DisputeStatus.Upheld));
        assertEq(dep.core.marketplace.claimable(renter, address(0)), PAYMENT, "refund");
        assertEq(dep.core.slashing.bondBalance(renter), 0.01 ether, "bond back");
        // 10% of 1000 VOUCH: half to the renter, half to the treasury (the timelock).
        assertEq(dep.core.staking.activeStakeOf(host), 900 ether);
        assertEq(token.balanceOf(renter), 50 ether);
        assertEq(token.balanceOf(address(timelock)), 50 ether);
    }

    function test_defeated_byAgainstMajority() public {
        Proposal memory p = _minimumStakeProposal(2000 ether);
        uint256 id = _propose(p, alice);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _vote(alice, id, FOR); // 30M
        _vote(carol, id, ABSTAIN); // quorum reached: 45M
        _vote(bob, id, AGAINST); // 25M
        _vote(erin, id, AGAINST); // 45M against > 30M for
        vm.warp(governor.proposalDeadline(id) + 1);
        _assertState(id, IGovernor.ProposalState.Defeated);
        _expectQueueRejected(p, id, IGovernor.ProposalState.Defeated);
    }

    function test_defeated_withoutQuorum() public {
        Proposal memory p = _minimumStakeProposal(2000 ether);
        uint256 id = _propose(p, alice);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _vote(alice, id, FOR); // 30M for, nobody against, but below 40M
        vm.warp(governor.proposalDeadline(id) + 1);
        _assertState(id, IGovernor.ProposalState.Defeated);
        _expectQueueRejected(p, id, IGovernor.ProposalState.Defeated);
    }

    function test_defeated_onATie() public {
        // bob (25M) + carol (15M) for, erin (20M) + 20M from alice against: 40M each.
        vm.prank(alice);
        token.transfer(erin, 20_000_000 ether); // erin: 40M
        vm.warp(block.timestamp + 1);
        Proposal memory p = _minimumStakeProposal(2000 ether);
        uint256 id = _propose(p, bob);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _vote(bob, id, FOR);
        _vote(carol, id, FOR);
        _vote(erin, id, AGAINST);
        (uint256 against, uint256 forVotes,) = governor.proposalVotes(id);
        assertEq(against, 40_000_000 ether);
        assertEq(forVotes, 40_000_000 ether);
        vm.warp(governor.proposalDeadline(id) + 1);
        _assertState(id, IGovernor.ProposalState.Defeated);
    }

    /// @notice The quorum is reached at exactly 4% and missed one wei below.
    function test_quorum_boundary() public {
        // bob + carol = exactly 40M for.
        Proposal memory p = _minimumStakeProposal(2000 ether);
        uint256 id = _propose(p, alice);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _vote(bob, id, FOR);
        _vote(carol, id, FOR);
        vm.warp(governor.proposalDeadline(id) + 1);
        _assertState(id, IGovernor.ProposalState.Succeeded);

        // The same votes less one wei, moved away before the snapshot.
        vm.prank(carol);
        token.transfer(deployer, 1);
        vm.warp(block.timestamp + 1);
        Proposal memory q = _minimumStakeProposal(3000 ether);
        uint256 id2 = _propose(q, alice);
        vm.warp(governor.proposalSnapshot(id2) + 1);
        _vote(bob, id2, FOR);
        _vote(carol, id2, FOR);
        (, uint256 forVotes,) = governor.proposalVotes(id2);
        assertEq(forVotes, QUORUM - 1);
        vm.warp(governor.proposalDeadline(id2) + 1);
        _assertState(id2, IGovernor.ProposalState.Defeated);
    }

    /// @notice Votes count at the snapshot: tokens moved during the vote do not vote twice.
    function test_votesAreReadAtTheSnapshot() public {
        Proposal memory p = _minimumStakeProposal(2000 ether);
        uint256 id = _propose(p, alice);
        vm.warp(governor.proposalSnapshot(id) + 1);
        address frank = makeAddr("frank");
        vm.prank(alice);
        token.transfer(frank, ALICE);
        vm.prank(frank);
        token.delegate(frank);
        _vote(alice, id, FOR);
        vm.prank(frank);
        uint256 weight = governor.castVote(id, FOR);
        assertEq(weight, 0, "frank had no votes at the snapshot");
        (, uint256 forVotes,) = governor.proposalVotes(id);
        assertEq(forVotes, ALICE);
        assertEq(token.getVotes(alice), 0);
    }

    /// @notice The proposer can cancel while pending, not once voting started.
    function test_cancel_onlyWhilePending() public {
        Proposal memory p = _minimumStakeProposal(2000 ether);
        bytes32 descHash = keccak256(bytes(p.description));
        uint256 id = _propose(p, alice);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorUnableToCancel.selector, id, bob));
        vm.prank(bob);
        governor.cancel(p.targets, p.values, p.calldatas, descHash);
        vm.prank(alice);
        governor.cancel(p.targets, p.values, p.calldatas, descHash);
        _assertState(id, IGovernor.ProposalState.Canceled);

        Proposal memory q = _minimumStakeProposal(3000 ether);
        uint256 id2 = _propose(q, alice);
        vm.warp(governor.proposalSnapshot(id2) + 1);
        vm.expectRevert(abi.encodeWithSelector(IGovernor.GovernorUnableToCancel.selector, id2, alice));
        vm.prank(alice);
        governor.cancel(q.targets, q.values, q.calldatas, keccak256(bytes(q.description)));
        _assertState(id2, IGovernor.ProposalState.Active);
    }

    /// @notice The timelock's delay is itself governed (the timelock is its own admin).
    function test_lifecycle_changesTimelockDelay() public {
        _enact(_proposal(address(timelock), abi.encodeCall(timelock.updateDelay, (3 days)), "delay 3 days"));
        assertEq(timelock.getMinDelay(), 3 days);
        // The next proposal waits the new delay.
        Proposal memory p = _minimumStakeProposal(2000 ether);
        uint256 id = _propose(p, alice);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _vote(alice, id, FOR);
        _vote(bob, id, FOR);
        vm.warp(governor.proposalDeadline(id) + 1);
        governor.queue(p.targets, p.values, p.calldatas, keccak256(bytes(p.description)));
        assertEq(governor.proposalEta(id), block.timestamp + 3 days);
    }

    // =========================================================================================
    // helpers
    // =========================================================================================

    function _giveVotes(address who, uint256 amount) internal {
        token.transfer(who, amount);
        vm.prank(who);
        token.delegate(who);
    }

    function _proposal(address target, bytes memory data, string memory description)
        internal
        pure
        returns (Proposal memory p)
    {
        p.targets = new address[](1);
        p.values = new uint256[](1);
        p.calldatas = new bytes[](1);
        p.targets[0] = target;
        p.calldatas[0] = data;
        p.description = description;
    }

    function _minimumStakeProposal(uint256 amount) internal view returns (Proposal memory) {
        return _proposal(
            address(dep.core.staking),
            abi.encodeCall(dep.core.staking.setMinimumStake, (amount)),
            string.concat("Set the minimum stake to ", vm.toString(amount / 1 ether), " VOUCH")
        );
    }

    function _propose(Proposal memory p, address proposer) internal returns (uint256 id) {
        vm.prank(proposer);
        id = governor.propose(p.targets, p.values, p.calldatas, p.description);
        _assertState(id, IGovernor.ProposalState.Pending);
    }

    function _vote(address voter, uint256 id, uint8 support) internal {
        uint256 expected = token.getPastVotes(voter, governor.proposalSnapshot(id));
        vm.prank(voter);
        assertEq(governor.castVote(id, support), expected);
    }

    /// @dev propose (alice) -> alice and bob vote for (55M) -> queue -> delay -> execute.
    function _enact(Proposal memory p) internal returns (uint256 id) {
        id = _propose(p, alice);
        vm.warp(governor.proposalSnapshot(id) + 1);
        _assertState(id, IGovernor.ProposalState.Active);
        _vote(alice, id, FOR);
        _vote(bob, id, FOR);
        vm.warp(governor.proposalDeadline(id) + 1);
        _assertState(id, IGovernor.ProposalState.Succeeded);
        bytes32 descHash = keccak256(bytes(p.description));
        governor.queue(p.targets, p.values, p.calldatas, descHash);
        _assertState(id, IGovernor.ProposalState.Queued);
        vm.warp(governor.proposalEta(id));
        governor.execute(p.targets, p.values, p.calldatas, descHash);
        _assertState(id, IGovernor.ProposalState.Executed);
        vm.warp(block.timestamp + 1);
    }

    function _expectQueueRejected(Proposal memory p, uint256 id, IGovernor.ProposalState current) internal {
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector, id, current, _bitmap(IGovernor.ProposalState.Succeeded)
            )
        );
        governor.queue(p.targets, p.values, p.calldatas, keccak256(bytes(p.description)));
    }

    function _operationId(Proposal memory p) internal view returns (bytes32) {
        // GovernorTimelockControl's salt: the governor's address xor the description hash.
        bytes32 salt = bytes20(address(governor)) ^ keccak256(bytes(p.description));
        return timelock.hashOperationBatch(p.targets, p.values, p.calldatas, 0, salt);
    }

    function _assertState(uint256 id, IGovernor.ProposalState expected) internal view {
        assertEq(uint8(governor.state(id)), uint8(expected), "proposal state");
    }

    function _bitmap(IGovernor.ProposalState s) internal pure returns (bytes32) {
        return bytes32(1 << uint8(s));
    }

    function _expectUnauthorized(address account, bytes32 role) internal {
        vm.expectRevert(abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role));
    }

    function _createJob() internal returns (uint256) {
        vm.prank(renter);
        return dep.core.marketplace.createJob{value: PAYMENT}(
            MODEL, INPUT, address(0), PAYMENT, uint40(block.timestamp + 1 hours)
        , address(0), 0);
    }

    function _allAccessControlled() internal view returns (address[] memory a) {
        a = new address[](7);
        a[0] = address(dep.core.staking);
        a[1] = address(dep.core.registry);
        a[2] = address(dep.core.reputation);
        a[3] = address(dep.core.marketplace);
        a[4] = address(dep.core.slashing);
        a[5] = address(dep.core.proofSystem);
        a[6] = address(timelock);
    }

    /// @dev Every role any Vouch contract or the timelock defines.
    function _allRoles() internal view returns (bytes32[] memory r) {
        r = new bytes32[](13);
        r[0] = bytes32(0); // DEFAULT_ADMIN_ROLE
        r[1] = dep.core.staking.PAUSER_ROLE();
        r[2] = dep.core.slashing.ARBITER_ROLE();
        r[3] = dep.core.staking.SLASHER_ROLE();
        r[4] = dep.core.reputation.WRITER_ROLE();
        r[5] = dep.core.marketplace.PROOF_SYSTEM_ROLE();
        r[6] = dep.core.marketplace.SLASHING_ROLE();
        r[7] = dep.core.slashing.MARKETPLACE_ROLE();
        r[8] = timelock.PROPOSER_ROLE();
        r[9] = timelock.EXECUTOR_ROLE();
        r[10] = timelock.CANCELLER_ROLE();
        r[11] = dep.core.registry.PAUSER_ROLE();
        r[12] = dep.core.registry.GUARDIAN_ROLE();
    }
}
