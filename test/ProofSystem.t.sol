// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Fixture} from "./utils/Fixture.sol";
import {IProofSystem} from "../contracts/interfaces/IProofSystem.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";

/// @notice ProofSystem paths that need no valid proof, against the real generated verifiers
///         (contracts/generated/, made by `vouch proof setup`). Valid proofs completing jobs,
///         batches, tampering and replays are tested with real EZKL proofs on anvil in
///         keeper/tests/proof_system_onchain.rs.
contract ProofSystemTest is Fixture {
    address internal verifier1;
    address internal verifier16;
    bytes internal constant JUNK_PROOF = hex"deadbeef";

    function setUp() public override {
        super.setUp();
        _registerHost(host);
        verifier1 = vm.deployCode("Halo2VerifierB1.sol:Halo2VerifierB1");
        verifier16 = vm.deployCode("Halo2VerifierB16.sol:Halo2VerifierB16");
        proofSystem.setVerifier(1, verifier1, 1);
        proofSystem.setVerifier(16, verifier16, 1);
    }

    function _outs(bytes32 a) internal pure returns (bytes32[] memory o) {
        o = new bytes32[](1);
        o[0] = a;
    }

    // ---- setVerifier --------------------------------------------------------------------------

    function test_setVerifier_storesAndEmits() public {
        vm.expectEmit(true, true, false, true, address(proofSystem));
        emit IProofSystem.VerifierSet(64, verifier16, 7);
        proofSystem.setVerifier(64, verifier16, 7);
        IProofSystem.VerifierInfo memory info = proofSystem.verifierFor(64);
        assertEq(info.verifier, verifier16);
        assertEq(info.circuitVersion, 7);
    }

    function test_setVerifier_zeroRemoves() public {
        proofSystem.setVerifier(1, address(0), 0);
        assertEq(proofSystem.verifierFor(1).verifier, address(0));
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NoVerifier.selector, uint16(1)));
        proofSystem.submitProof(1, OUTPUT, JUNK_PROOF);
    }

    function test_setVerifier_revertsOnBadBatchSizeOrCodelessVerifier() public {
        vm.expectRevert(IProofSystem.InvalidParameter.selector);
        proofSystem.setVerifier(0, verifier1, 1);
        uint16 tooBig = proofSystem.MAX_BATCH_SIZE() + 1;
        vm.expectRevert(IProofSystem.InvalidParameter.selector);
        proofSystem.setVerifier(tooBig, verifier1, 1);
        vm.expectRevert(IProofSystem.InvalidParameter.selector);
        proofSystem.setVerifier(1, stranger, 1); // an address without code
    }

    function test_setVerifier_onlyAdmin() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, stranger, proofSystem.DEFAULT_ADMIN_ROLE()
            )
        );
        vm.prank(stranger);
        proofSystem.setVerifier(1, verifier16, 2);
    }

    // ---- submission checks, in order ----------------------------------------------------------

    function test_submitBatch_shapeErrors() public {
        uint256[] memory none = new uint256[](0);
        vm.startPrank(host);
        vm.expectRevert(IProofSystem.EmptyBatch.selector);
        proofSystem.submitBatch(16, none, new bytes32[](0), JUNK_PROOF);
        vm.expectRevert(IProofSystem.LengthMismatch.selector);
        proofSystem.submitBatch(16, _ids(1), new bytes32[](2), JUNK_PROOF);
        uint256[] memory two = new uint256[](2);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.BatchTooLarge.selector, 2, uint16(1)));
        proofSystem.submitBatch(1, two, new bytes32[](2), JUNK_PROOF);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NoVerifier.selector, uint16(64)));
        proofSystem.submitBatch(64, _ids(1), _outs(OUTPUT), JUNK_PROOF);
        vm.stopPrank();
    }

    function test_submitProof_wrongSenderIsRefusedBeforeVerification() public {
        uint256 id = _claimedJob();
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotHostOrOperator.selector, id, stranger));
        vm.prank(stranger);
        proofSystem.submitProof(id, OUTPUT, JUNK_PROOF);
    }

    function test_submitProof_unknownOpenAndExpiredJobs() public {
        uint256 open = _createJob();
        vm.startPrank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.UnknownJob.selector, 99));
        proofSystem.submitProof(99, OUTPUT, JUNK_PROOF);
        vm.expectRevert(
            abi.encodeWithSelector(IJobMarketplace.WrongStatus.selector, open, IJobMarketplace.Status.Open)
        );
        proofSystem.submitProof(open, OUTPUT, JUNK_PROOF);
        vm.stopPrank();

        uint256 id = _claimedJob();
        uint40 deadline = marketplace.getJob(id).deadline;
        vm.warp(uint256(deadline) + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.JobExpiredAt.selector, id, deadline));
        vm.prank(host);
        proofSystem.submitProof(id, OUTPUT, JUNK_PROOF);
    }

    function test_submitProof_invalidProofRevertsAndChangesNothing() public {
        uint256 id = _claimedJob();
        vm.expectRevert(IProofSystem.InvalidProof.selector);
        vm.prank(operator);
        proofSystem.submitProof(id, OUTPUT, JUNK_PROOF);
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Claimed));
        assertEq(marketplace.activeJobsOf(host), 1);
    }

    function test_submitBatch_invalidProofOfRightLengthReverts() public {
        uint256 id = _claimedJob();
        bytes memory proof = new bytes(2048); // a proof's size, all zero: not on the curve
        vm.expectRevert(IProofSystem.InvalidProof.selector);
        vm.prank(host);
        proofSystem.submitBatch(16, _ids(id), _outs(OUTPUT), proof);
    }

    function test_marketplacePause_refusesSubmissionsBeforeVerification() public {
        uint256 id = _claimedJob();
        marketplace.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(host);
        proofSystem.submitProof(id, OUTPUT, JUNK_PROOF);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(host);
        proofSystem.submitBatch(1, _ids(id), _outs(OUTPUT), JUNK_PROOF);
        marketplace.unpause();
        // Unpaused, the same call reaches the verifier (and fails there on the junk proof).
        vm.expectRevert(IProofSystem.InvalidProof.selector);
        vm.prank(host);
        proofSystem.submitProof(id, OUTPUT, JUNK_PROOF);
    }

    // ---- instances ----------------------------------------------------------------------------

    function test_instancesFor_layoutAndPadding() public {
        uint256 id = _claimedJob();
        bytes32 output = bytes32(uint256(0xAABB) << 128 | 0xCCDD);
        uint256[] memory inst = proofSystem.instancesFor(16, _ids(id), _outs(output));
        assertEq(inst.length, 128);
        assertEq(inst[0], id >> 128);
        assertEq(inst[1], id & type(uint128).max);
        assertEq(inst[2], uint256(MODEL) >> 128);
        assertEq(inst[3], uint256(MODEL) & type(uint128).max);
        assertEq(inst[4], uint256(INPUT) >> 128);
        assertEq(inst[5], uint256(INPUT) & type(uint128).max);
        assertEq(inst[6], 0xAABB);
        assertEq(inst[7], 0xCCDD);
        for (uint256 i = 8; i < inst.length; ++i) {
            assertEq(inst[i], 0, "padding is zero");
        }
    }

    function testFuzz_instancesFor_limbsRecombine(bytes32 output) public {
        uint256 id = _claimedJob();
        uint256[] memory inst = proofSystem.instancesFor(1, _ids(id), _outs(output));
        assertEq(inst.length, 8);
        assertEq(bytes32(inst[6] << 128 | inst[7]), output);
        for (uint256 i = 0; i < 8; ++i) {
            assertLt(inst[i], 1 << 128, "each limb fits 128 bits, far below the BN254 field");
        }
    }

    function test_instancesFor_shapeErrors() public {
        vm.expectRevert(IProofSystem.EmptyBatch.selector);
        proofSystem.instancesFor(1, new uint256[](0), new bytes32[](0));
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.BatchTooLarge.selector, 2, uint16(1)));
        proofSystem.instancesFor(1, new uint256[](2), new bytes32[](2));
    }
}
