// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";
import {Fixture} from "./utils/Fixture.sol";
import {IProofSystem} from "../contracts/interfaces/IProofSystem.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";

/// @notice The inference tier of ProofSystem (verifiable models) on paths that need no valid
///         proof. The installed model verifier is a real generated verifier (the commitment
///         circuit's B=1 verifier from contracts/generated/): a junk proof reverts inside its
///         real code. A valid inference proof completing a job is tested with real EZKL proofs
///         of the example models on anvil (the keeper's inference tests).
contract ProofSystemInferenceTest is Fixture {
    /// @dev The BN254 scalar field modulus r.
    uint256 internal constant R = 21888242871839275222246405745257275088548364400416034343698204186575808495617;
    bytes32 internal constant CIRCUIT = keccak256("a verifiable model's circuit");
    /// @dev Field elements standing for Poseidon commitments of an input and an output.
    bytes32 internal constant FIELD_INPUT = bytes32(uint256(0x1234567890abcdef));
    bytes32 internal constant FIELD_OUTPUT = bytes32(R - 1);
    bytes internal constant JUNK_PROOF = hex"deadbeef";
    bytes internal constant PUBLISHED = hex"";

    IProofSystem.InstanceLayout internal constant HASHED = IProofSystem.InstanceLayout.HashedInputOutput;
    IProofSystem.InstanceLayout internal constant NONE = IProofSystem.InstanceLayout.None;

    address internal modelVerifier;
    address internal verifier1;

    function setUp() public override {
        super.setUp();
        _stake(host, MIN_STAKE);
        bytes32[] memory served = new bytes32[](2);
        served[0] = MODEL;
        served[1] = CIRCUIT;
        vm.prank(host);
        registry.register(ENDPOINT, REGION, served, PRICE_PER_TOKEN);
        vm.prank(host);
        registry.setOperator(operator);
        modelVerifier = vm.deployCode("Halo2VerifierB1.sol:Halo2VerifierB1");
        verifier1 = vm.deployCode("Halo2VerifierB1.sol:Halo2VerifierB1");
        proofSystem.setVerifier(1, verifier1, 1);
        proofSystem.setModelVerifier(CIRCUIT, modelVerifier, 3, HASHED);
    }

    function _inferenceJob(bytes32 inputHash) internal returns (uint256 jobId) {
        vm.prank(renter);
        jobId = marketplace.createJob{value: PAYMENT}(
            CIRCUIT, inputHash, address(0), PAYMENT, uint40(block.timestamp + 1 hours), address(0), 0
        );
        vm.prank(operator);
        marketplace.claimJob(jobId, host);
    }

    function _outs(bytes32 a) internal pure returns (bytes32[] memory o) {
        o = new bytes32[](1);
        o[0] = a;
    }

    // ---- setModelVerifier / modelVerifierFor --------------------------------------------------

    function test_setModelVerifier_storesAndEmits() public {
        bytes32 other = keccak256("another circuit");
        vm.expectEmit(true, true, false, true, address(proofSystem));
        emit IProofSystem.ModelVerifierSet(other, verifier1, 9, HASHED);
        proofSystem.setModelVerifier(other, verifier1, 9, HASHED);
        IProofSystem.ModelVerifierInfo memory info = proofSystem.modelVerifierFor(other);
        assertEq(info.verifier, verifier1);
        assertEq(info.circuitVersion, 9);
        assertEq(uint8(info.layout), uint8(HASHED));
    }

    function test_setModelVerifier_replaces() public {
        vm.expectEmit(true, true, false, true, address(proofSystem));
        emit IProofSystem.ModelVerifierSet(CIRCUIT, verifier1, 4, HASHED);
        proofSystem.setModelVerifier(CIRCUIT, verifier1, 4, HASHED);
        IProofSystem.ModelVerifierInfo memory info = proofSystem.modelVerifierFor(CIRCUIT);
        assertEq(info.verifier, verifier1);
        assertEq(info.circuitVersion, 4);
    }

    function test_modelVerifierFor_unknownModelIsAllZero() public view {
        IProofSystem.ModelVerifierInfo memory info = proofSystem.modelVerifierFor(MODEL);
        assertEq(info.verifier, address(0));
        assertEq(info.circuitVersion, 0);
        assertEq(uint8(info.layout), uint8(NONE));
    }

    function test_setModelVerifier_zeroRemovesAndEmits() public {
        uint256 id = _inferenceJob(FIELD_INPUT);
        vm.expectEmit(true, true, false, true, address(proofSystem));
        emit IProofSystem.ModelVerifierSet(CIRCUIT, address(0), 0, NONE);
        proofSystem.setModelVerifier(CIRCUIT, address(0), 0, NONE);
        IProofSystem.ModelVerifierInfo memory info = proofSystem.modelVerifierFor(CIRCUIT);
        assertEq(info.verifier, address(0));
        assertEq(info.circuitVersion, 0);
        assertEq(uint8(info.layout), uint8(NONE));
        // Removed, the model is no longer verifiable: the inference tier refuses its job...
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotVerifiableModel.selector, CIRCUIT));
        vm.prank(host);
        proofSystem.submitInference(id, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
        // ...and the commitment tier takes it (and fails only on the junk proof).
        vm.expectRevert(IProofSystem.InvalidProof.selector);
        vm.prank(host);
        proofSystem.submitProof(id, OUTPUT, JUNK_PROOF);
    }

    function test_setModelVerifier_invalidParameters() public {
        vm.expectRevert(IProofSystem.InvalidParameter.selector);
        proofSystem.setModelVerifier(bytes32(0), verifier1, 1, HASHED);
        vm.expectRevert(IProofSystem.InvalidParameter.selector);
        proofSystem.setModelVerifier(CIRCUIT, stranger, 1, HASHED); // an address without code
        vm.expectRevert(IProofSystem.InvalidParameter.selector);
        proofSystem.setModelVerifier(CIRCUIT, verifier1, 1, NONE); // a verifier needs a layout
        vm.expectRevert(IProofSystem.InvalidParameter.selector);
        proofSystem.setModelVerifier(CIRCUIT, address(0), 0, HASHED); // a removal has none
        // Nothing changed.
        assertEq(proofSystem.modelVerifierFor(CIRCUIT).verifier, modelVerifier);
        assertEq(proofSystem.modelVerifierFor(CIRCUIT).circuitVersion, 3);
    }

    function test_setModelVerifier_onlyAdmin() public {
        for (uint256 i = 0; i < 3; ++i) {
            address who = [stranger, host, prover][i];
            vm.expectRevert(
                abi.encodeWithSelector(
                    IAccessControl.AccessControlUnauthorizedAccount.selector, who, proofSystem.DEFAULT_ADMIN_ROLE()
                )
            );
            vm.prank(who);
            proofSystem.setModelVerifier(CIRCUIT, address(0), 0, NONE);
        }
        assertEq(proofSystem.modelVerifierFor(CIRCUIT).verifier, modelVerifier);
    }

    // ---- submitInference: checks, in order ----------------------------------------------------

    function test_submitInference_wrongSenderIsRefusedFirst() public {
        uint256 id = _inferenceJob(FIELD_INPUT);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.NotHostOrOperator.selector, id, stranger));
        vm.prank(stranger);
        proofSystem.submitInference(id, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
    }

    function test_submitInference_unknownOpenAndExpiredJobs() public {
        vm.prank(renter);
        uint256 open = marketplace.createJob{value: PAYMENT}(
            CIRCUIT, FIELD_INPUT, address(0), PAYMENT, uint40(block.timestamp + 1 hours), address(0), 0
        );
        vm.startPrank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.UnknownJob.selector, 99));
        proofSystem.submitInference(99, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
        vm.expectRevert(
            abi.encodeWithSelector(IJobMarketplace.WrongStatus.selector, open, IJobMarketplace.Status.Open)
        );
        proofSystem.submitInference(open, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
        vm.stopPrank();

        uint256 id = _inferenceJob(FIELD_INPUT);
        uint40 deadline = marketplace.getJob(id).deadline;
        vm.warp(uint256(deadline) + 1);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.JobExpiredAt.selector, id, deadline));
        vm.prank(host);
        proofSystem.submitInference(id, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
    }

    function test_submitInference_refusesAJobWithoutModelVerifier() public {
        uint256 id = _claimedJob(); // MODEL: a commitment-tier model
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotVerifiableModel.selector, MODEL));
        vm.prank(host);
        proofSystem.submitInference(id, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
    }

    function test_submitInference_refusesAnInputHashOutsideTheField() public {
        bytes32 big = bytes32(R);
        uint256 id = _inferenceJob(big);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotInField.selector, big));
        vm.prank(host);
        proofSystem.submitInference(id, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotInField.selector, big));
        proofSystem.inferenceInstances(id, FIELD_OUTPUT);
    }

    function test_submitInference_refusesAnOutputHashOutsideTheField() public {
        uint256 id = _inferenceJob(FIELD_INPUT);
        bytes32 max = bytes32(type(uint256).max);
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotInField.selector, bytes32(R)));
        proofSystem.submitInference(id, bytes32(R), JUNK_PROOF, PUBLISHED);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotInField.selector, max));
        proofSystem.submitInference(id, max, JUNK_PROOF, PUBLISHED);
        vm.stopPrank();
    }

    function test_submitInference_inputIsCheckedBeforeOutput() public {
        uint256 id = _inferenceJob(bytes32(R + 1));
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotInField.selector, bytes32(R + 1)));
        vm.prank(host);
        proofSystem.submitInference(id, bytes32(R + 2), JUNK_PROOF, PUBLISHED);
    }

    /// @dev Both hashes at r - 1, the largest field element, pass the range check and reach the
    ///      real verifier, which refuses the junk proof; nothing changes.
    function test_submitInference_invalidProofRevertsAndChangesNothing() public {
        uint256 id = _inferenceJob(FIELD_OUTPUT);
        bytes memory published = abi.encode(new int256[](4));
        vm.expectRevert(IProofSystem.InvalidProof.selector);
        vm.prank(operator);
        proofSystem.submitInference(id, FIELD_OUTPUT, JUNK_PROOF, published);
        vm.expectRevert(IProofSystem.InvalidProof.selector);
        vm.prank(host);
        proofSystem.submitInference(id, FIELD_OUTPUT, new bytes(2048), PUBLISHED);
        IJobMarketplace.Job memory job = marketplace.getJob(id);
        assertEq(uint8(job.status), uint8(IJobMarketplace.Status.Claimed));
        assertEq(job.outputHash, bytes32(0));
        assertEq(marketplace.activeJobsOf(host), 1);
    }

    /// @dev A proof valid for the commitment circuit's verifier is not one for a model: the
    ///      model's verifier is what decides, whatever other verifiers are installed.
    function test_submitInference_usesTheModelsVerifierNotABatchVerifier() public {
        proofSystem.setModelVerifier(CIRCUIT, verifier1, 3, HASHED);
        proofSystem.setVerifier(1, address(0), 0); // no commitment verifier at all
        uint256 id = _inferenceJob(FIELD_INPUT);
        vm.expectRevert(IProofSystem.InvalidProof.selector); // reached the model's verifier
        vm.prank(host);
        proofSystem.submitInference(id, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
    }

    function test_submitInference_pausedWithTheMarketplace() public {
        uint256 id = _inferenceJob(FIELD_INPUT);
        marketplace.pause();
        vm.expectRevert(Pausable.EnforcedPause.selector);
        vm.prank(host);
        proofSystem.submitInference(id, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
        marketplace.unpause();
        vm.expectRevert(IProofSystem.InvalidProof.selector);
        vm.prank(host);
        proofSystem.submitInference(id, FIELD_OUTPUT, JUNK_PROOF, PUBLISHED);
    }

    // ---- the commitment tier refuses verifiable models' jobs ----------------------------------

    function test_submitProof_refusesAVerifiableModelsJob() public {
        uint256 id = _inferenceJob(FIELD_INPUT);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.VerifiableModelJob.selector, id));
        vm.prank(host);
        proofSystem.submitProof(id, OUTPUT, JUNK_PROOF);
    }

    function test_submitBatch_refusesAVerifiableModelsJobAnywhereInTheBatch() public {
        proofSystem.setVerifier(16, vm.deployCode("Halo2VerifierB16.sol:Halo2VerifierB16"), 1);
        uint256[] memory ids = new uint256[](4);
        ids[0] = _claimedJob();
        ids[1] = _claimedJob();
        ids[2] = _inferenceJob(FIELD_INPUT); // after a run of MODEL: the change of model is checked
        ids[3] = _claimedJob();
        bytes32[] memory outs = new bytes32[](4);
        for (uint256 i = 0; i < 4; ++i) {
            outs[i] = OUTPUT;
        }
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.VerifiableModelJob.selector, ids[2]));
        vm.prank(host);
        proofSystem.submitBatch(16, ids, outs, JUNK_PROOF);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.VerifiableModelJob.selector, ids[2]));
        proofSystem.instancesFor(16, ids, outs);

        // The first job of a batch is checked too (nothing cached yet).
        ids[0] = ids[2];
        ids[2] = _claimedJob();
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.VerifiableModelJob.selector, ids[0]));
        vm.prank(host);
        proofSystem.submitBatch(16, ids, outs, JUNK_PROOF);
        assertEq(uint8(_status(ids[0])), uint8(IJobMarketplace.Status.Claimed));
    }

    /// @dev A model becomes verifiable at submission time: a job created before its verifier
    ///      was installed completes only through the inference tier from then on.
    function test_submitProof_refusesAJobWhoseModelBecameVerifiable() public {
        uint256 id = _claimedJob();
        proofSystem.setModelVerifier(MODEL, modelVerifier, 1, HASHED);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.VerifiableModelJob.selector, id));
        vm.prank(host);
        proofSystem.submitProof(id, OUTPUT, JUNK_PROOF);
    }

    // ---- inferenceInstances -------------------------------------------------------------------

    function test_inferenceInstances_layout() public {
        uint256 id = _inferenceJob(FIELD_INPUT);
        uint256[] memory inst = proofSystem.inferenceInstances(id, FIELD_OUTPUT);
        assertEq(inst.length, 2);
        assertEq(inst[0], 0x1234567890abcdef);
        assertEq(inst[1], R - 1);
    }

    function test_inferenceInstances_errors() public {
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.UnknownJob.selector, 77));
        proofSystem.inferenceInstances(77, FIELD_OUTPUT);
        uint256 id = _claimedJob();
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotVerifiableModel.selector, MODEL));
        proofSystem.inferenceInstances(id, FIELD_OUTPUT);
        uint256 inf = _inferenceJob(FIELD_INPUT);
        vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotInField.selector, bytes32(R)));
        proofSystem.inferenceInstances(inf, bytes32(R));
    }

    function test_fieldModulusIsBn254() public view {
        assertEq(proofSystem.FIELD_MODULUS(), R);
        assertEq(R, 0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001);
    }

    /// @dev The range check is exactly `value < r`, on both hashes: below r the value is the
    ///      instance unchanged; from r on, NotInField names the offending hash.
    function testFuzz_fieldRangeCheck(uint256 input, uint256 output) public {
        uint256 id = _inferenceJob(bytes32(input == 0 ? 1 : input)); // createJob refuses zero
        uint256 inp = input == 0 ? 1 : input;
        if (inp >= R) {
            vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotInField.selector, bytes32(inp)));
            proofSystem.inferenceInstances(id, bytes32(output));
        } else if (output >= R) {
            vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotInField.selector, bytes32(output)));
            proofSystem.inferenceInstances(id, bytes32(output));
        } else {
            uint256[] memory inst = proofSystem.inferenceInstances(id, bytes32(output));
            assertEq(inst[0], inp);
            assertEq(inst[1], output);
        }
    }

    /// @dev The same boundary on the submission path, around r.
    function testFuzz_submitInference_rangeBoundary(uint8 delta, bool above) public {
        uint256 v = above ? R + delta : R - 1 - uint256(delta);
        uint256 id = _inferenceJob(FIELD_INPUT);
        if (above) vm.expectRevert(abi.encodeWithSelector(IProofSystem.NotInField.selector, bytes32(v)));
        else vm.expectRevert(IProofSystem.InvalidProof.selector);
        vm.prank(host);
        proofSystem.submitInference(id, bytes32(v), JUNK_PROOF, PUBLISHED);
    }
}
