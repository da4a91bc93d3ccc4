// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IProofSystem} from "./interfaces/IProofSystem.sol";
import {IJobMarketplace} from "./interfaces/IJobMarketplace.sol";
import {IHalo2Verifier} from "./interfaces/IHalo2Verifier.sol";

/// @title ProofSystem
/// @notice The only way a job completes: an EZKL proof, checked by the Halo2 verifier that
///         governance installed (per batch size for the commitment tier, per model hash for the
///         inference tier), over public instances built here from the jobs' stored hashes.
///         Order of work: the marketplace's checks (status, deadline, host, sender), then the
///         tier and the instances' range, then the proof, then completion, so a wrong sender,
///         an expired job or a job of the other tier is refused before any verification gas is
///         spent.
/// @dev Submissions pause with the marketplace (its `completeJobs` and `proofContext` are
///      pausable): one switch, whose timing the marketplace records so that no host is slashed
///      for a deadline that fell while proofs could not land.
contract ProofSystem is IProofSystem, AccessControl, ReentrancyGuardTransient {
    /// @notice Public instances per job: the (hi, lo) 128-bit limbs of jobId, modelHash,
    ///         inputHash and outputHash.
    uint256 public constant INSTANCES_PER_JOB = 8;
    uint16 public constant MAX_BATCH_SIZE = 256;
    uint256 private constant LO_MASK = type(uint128).max;
    /// @notice The BN254 scalar field modulus r: an instance is a field element, below r.
    uint256 public constant FIELD_MODULUS =
        21888242871839275222246405745257275088548364400416034343698204186575808495617;

    IJobMarketplace public immutable marketplace;

    mapping(uint16 batchSize => VerifierInfo) private _verifiers;
    mapping(bytes32 modelHash => ModelVerifierInfo) private _modelVerifiers;

    constructor(IJobMarketplace marketplace_, address admin) {
        marketplace = marketplace_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
    }

    /// @inheritdoc IProofSystem
    function submitProof(uint256 jobId, bytes32 outputHash, bytes calldata proof) external override {
        uint256[] memory jobIds = new uint256[](1);
        bytes32[] memory outputs = new bytes32[](1);
        jobIds[0] = jobId;
        outputs[0] = outputHash;
        _submit(1, jobIds, outputs, proof);
    }

    /// @inheritdoc IProofSystem
    /// @dev `batchSize` names the circuit: the proof covers `batchSize` slots, of which the first
    ///      `jobIds.length` hold these jobs and the rest are zero.
    function submitBatch(
        uint16 batchSize,
        uint256[] calldata jobIds,
        bytes32[] calldata outputHashes,
        bytes calldata proof
    ) external override {
        _submit(batchSize, jobIds, outputHashes, proof);
    }

    /// @inheritdoc IProofSystem
    /// @dev One job per transaction: a model's circuit proves one inference.
    function submitInference(uint256 jobId, bytes32 outputHash, bytes calldata proof, bytes calldata output)
        external
        override
        nonReentrant
    {
        (address host, bytes32 model, uint32 circuitVersion) = _proveInference(jobId, outputHash, proof);
        emit InferenceProven(jobId, host, model, outputHash, circuitVersion, keccak256(proof), output);
    }

    function _proveInference(uint256 jobId, bytes32 outputHash, bytes calldata proof)
        private
        returns (address host, bytes32 model, uint32 circuitVersion)
    {
        uint256[] memory jobIds = new uint256[](1);
        jobIds[0] = jobId;
        bytes32[] memory models;
        bytes32[] memory inputs;
        (host, models, inputs) = marketplace.proofContext(msg.sender, jobIds);
        model = models[0];
        ModelVerifierInfo memory info = _modelVerifiers[model];
        if (info.verifier == address(0)) revert NotVerifiableModel(model);
        _verify(info.verifier, proof, _inferenceInstances(inputs[0], outputHash));
        bytes32[] memory outputs = new bytes32[](1);
        outputs[0] = outputHash;
        marketplace.completeJobs(msg.sender, jobIds, outputs);
        circuitVersion = info.circuitVersion;
    }

    /// @inheritdoc IProofSystem
    /// @dev The zero address removes the verifier of a batch size.
    function setVerifier(uint16 batchSize, address verifier, uint32 circuitVersion)
        external
        override
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (batchSize == 0 || batchSize > MAX_BATCH_SIZE) revert InvalidParameter();
        if (verifier != address(0) && verifier.code.length == 0) revert InvalidParameter();
        _verifiers[batchSize] = VerifierInfo({verifier: verifier, circuitVersion: circuitVersion});
        emit VerifierSet(batchSize, verifier, circuitVersion);
    }

    /// @inheritdoc IProofSystem
    /// @dev `layout` is stored for the day a second layout exists; today every verifiable model
    ///      uses `HashedInputOutput`.
    function setModelVerifier(bytes32 modelHash, address verifier, uint32 circuitVersion, InstanceLayout layout)
        external
        override
        onlyRole(DEFAULT_ADMIN_ROLE)
    {
        if (modelHash == bytes32(0)) revert InvalidParameter();
        if (verifier == address(0)) {
            if (layout != InstanceLayout.None) revert InvalidParameter();
            delete _modelVerifiers[modelHash];
        } else {
            if (verifier.code.length == 0 || layout == InstanceLayout.None) revert InvalidParameter();
            _modelVerifiers[modelHash] =
                ModelVerifierInfo({verifier: verifier, circuitVersion: circuitVersion, layout: layout});
        }
        emit ModelVerifierSet(modelHash, verifier, circuitVersion, layout);
    }

    /// @inheritdoc IProofSystem
    function verifierFor(uint16 batchSize) external view override returns (VerifierInfo memory) {
        return _verifiers[batchSize];
    }

    /// @inheritdoc IProofSystem
    function modelVerifierFor(bytes32 modelHash) external view override returns (ModelVerifierInfo memory) {
        return _modelVerifiers[modelHash];
    }

    /// @inheritdoc IProofSystem
    function inferenceInstances(uint256 jobId, bytes32 outputHash)
        external
        view
        override
        returns (uint256[] memory)
    {
        IJobMarketplace.Job memory job = marketplace.getJob(jobId);
        if (job.status == IJobMarketplace.Status.None) revert IJobMarketplace.UnknownJob(jobId);
        if (_modelVerifiers[job.modelHash].verifier == address(0)) revert NotVerifiableModel(job.modelHash);
        return _inferenceInstances(job.inputHash, outputHash);
    }

    /// @inheritdoc IProofSystem
    function instancesFor(uint16 batchSize, uint256[] calldata jobIds, bytes32[] calldata outputHashes)
        external
        view
        override
        returns (uint256[] memory)
    {
        _checkShape(batchSize, jobIds.length, outputHashes.length);
        bytes32[] memory models = new bytes32[](jobIds.length);
        bytes32[] memory inputs = new bytes32[](jobIds.length);
        for (uint256 i = 0; i < jobIds.length; ++i) {
            IJobMarketplace.Job memory job = marketplace.getJob(jobIds[i]);
            models[i] = job.modelHash;
            inputs[i] = job.inputHash;
        }
        return _instances(batchSize, jobIds, models, inputs, outputHashes);
    }

    function _submit(uint16 batchSize, uint256[] memory jobIds, bytes32[] memory outputs, bytes calldata proof)
        private
        nonReentrant
    {
        _checkShape(batchSize, jobIds.length, outputs.length);
        VerifierInfo memory info = _verifiers[batchSize];
        if (info.verifier == address(0)) revert NoVerifier(batchSize);

        (address host, bytes32[] memory models, bytes32[] memory inputs) =
            marketplace.proofContext(msg.sender, jobIds);
        uint256[] memory instances = _instances(batchSize, jobIds, models, inputs, outputs);
        _verify(info.verifier, proof, instances);
        marketplace.completeJobs(msg.sender, jobIds, outputs);
        emit BatchProven(host, msg.sender, batchSize, info.circuitVersion, jobIds.length, keccak256(proof));
    }

    /// @dev The generated verifier reverts on a bad proof; a false return is refused the same way.
    function _verify(address verifier, bytes calldata proof, uint256[] memory instances) private {
        try IHalo2Verifier(verifier).verifyProof(proof, instances) returns (bool ok) {
            if (!ok) revert InvalidProof();
        } catch {
            revert InvalidProof();
        }
    }

    /// @dev Layout `HashedInputOutput`: the bytes32 is the field element with that big-endian
    ///      value, which is injective on [0, r); a value >= r would be reduced by a verifier that
    ///      does not check, so it is refused here with its own error.
    function _inferenceInstances(bytes32 inputHash, bytes32 outputHash)
        private
        pure
        returns (uint256[] memory instances)
    {
        if (uint256(inputHash) >= FIELD_MODULUS) revert NotInField(inputHash);
        if (uint256(outputHash) >= FIELD_MODULUS) revert NotInField(outputHash);
        instances = new uint256[](2);
        instances[0] = uint256(inputHash);
        instances[1] = uint256(outputHash);
    }

    function _checkShape(uint16 batchSize, uint256 jobs, uint256 outputs) private pure {
        if (jobs == 0) revert EmptyBatch();
        if (jobs != outputs) revert LengthMismatch();
        if (jobs > batchSize) revert BatchTooLarge(jobs, batchSize);
    }

    /// @dev 8 limbs per slot, big-endian halves of each 32-byte value; unused slots stay zero.
    ///      A commitment proof can be made for any tuple, so it must never complete a job whose
    ///      model has a circuit: a job of a verifiable model is refused here, while the model
    ///      hashes are read anyway. A batch is nearly always of one model, so only a change of
    ///      model hash costs a storage read (the last one checked is remembered) and a run of
    ///      equal hashes costs one comparison per job.
    function _instances(
        uint16 batchSize,
        uint256[] memory jobIds,
        bytes32[] memory models,
        bytes32[] memory inputs,
        bytes32[] memory outputs
    ) private view returns (uint256[] memory instances) {
        instances = new uint256[](uint256(batchSize) * INSTANCES_PER_JOB);
        bytes32 checked; // zero: none yet (a job's model hash is never zero)
        for (uint256 i = 0; i < jobIds.length; ++i) {
            uint256 o = i * INSTANCES_PER_JOB;
            uint256 id = jobIds[i];
            bytes32 model = models[i];
            if (model != checked) {
                if (_modelVerifiers[model].verifier != address(0)) revert VerifiableModelJob(id);
                checked = model;
            }
            uint256 m = uint256(model);
            uint256 inp = uint256(inputs[i]);
            uint256 out = uint256(outputs[i]);
            instances[o] = id >> 128;
            instances[o + 1] = id & LO_MASK;
            instances[o + 2] = m >> 128;
            instances[o + 3] = m & LO_MASK;
            instances[o + 4] = inp >> 128;
            instances[o + 5] = inp & LO_MASK;
            instances[o + 6] = out >> 128;
            instances[o + 7] = out & LO_MASK;
        }
    }
}
