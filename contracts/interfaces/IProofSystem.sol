// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IProofSystem
/// @notice Completes jobs on an EZKL (Halo2, KZG) proof, in one of two tiers.
///         Commitment tier (`submitProof`, `submitBatch`, any model, LLMs included): the public
///         instances are built here from each job's stored model and input hashes plus the
///         submitted output hash, as the 128-bit limbs (hi, lo) of (jobId, modelHash, inputHash,
///         outputHash), 8 per job slot, with unused slots of a batch all zero. A proof therefore
///         binds one exact tuple per job and cannot be replayed for another job, model, input or
///         output; it does not show that the output came from the model.
///         Inference tier (`submitInference`, verifiable models only): the model hash names one
///         circuit (graph, weights, settings, verifying key) whose verifier governance installed
///         with `setModelVerifier`; the instances are [inputHash, outputHash] read as BN254 field
///         elements (the Poseidon commitments of the renter's input and the model's output), so
///         a proof shows that the output is the quantized model's output on that input.
/// @dev A job is of the inference tier when its model hash has a model verifier at submission
///      time; the commitment tier refuses such a job (`VerifiableModelJob`) and the inference
///      tier refuses any other (`NotVerifiableModel`). Governance must only register the hash
///      of a circuit, never a hash that commitment-tier jobs use. What a commitment proof does
///      not give: authorship (anyone can prove any tuple), which is why only the job's host or
///      its operator may submit (in both tiers); and correctness of the inference itself,
///      which stake, slashing and disputes back. See docs/circuit.md.
interface IProofSystem {
    struct VerifierInfo {
        address verifier;
        uint32 circuitVersion;
    }

    /// @notice How the public instances of a model's proof are built. `None`: not a verifiable
    ///         model. `HashedInputOutput`: exactly [inputHash, outputHash], each the big-endian
    ///         uint256 value of the bytes32 as a BN254 scalar (EZKL "hashed" visibility, params
    ///         "fixed").
    enum InstanceLayout {
        None,
        HashedInputOutput
    }

    struct ModelVerifierInfo {
        address verifier;
        uint32 circuitVersion;
        InstanceLayout layout;
    }

    event VerifierSet(uint16 indexed batchSize, address indexed verifier, uint32 circuitVersion);
    event BatchProven(
        address indexed host,
        address indexed submitter,
        uint16 batchSize,
        uint32 circuitVersion,
        uint256 jobCount,
        bytes32 proofHash
    );

    error NoVerifier(uint16 batchSize);
    error InvalidProof();
    error BatchTooLarge(uint256 jobs, uint16 batchSize);
    error EmptyBatch();
    error LengthMismatch();
    error InvalidParameter();
    /// @notice `submitProof`/`submitBatch` listed a job whose model is verifiable: it completes
    ///         only through `submitInference`.
    error VerifiableModelJob(uint256 jobId);
    /// @notice `submitInference` (or `inferenceInstances`) on a job whose model has no model
    ///         verifier.
    error NotVerifiableModel(bytes32 modelHash);
    /// @notice An input or output hash whose uint256 value is not below the BN254 scalar field
    ///         modulus: no proof can have it as an instance.
    error NotInField(bytes32 value);

    /// @notice `outputHash` as the result of job `jobId` (model hash `modelHash`, now
    ///         Completed), proven by a verifiable model's circuit of `circuitVersion`. `output`
    ///         is what the host chose to publish (empty, or `abi.encode(int256[])` of the
    ///         quantized output); the contract does not check it: its Poseidon hash is the
    ///         proven `outputHash`, which a reader recomputes off-chain.
    event InferenceProven(
        uint256 indexed jobId,
        address indexed host,
        bytes32 indexed modelHash,
        bytes32 outputHash,
        uint32 circuitVersion,
        bytes32 proofHash,
        bytes output
    );
    /// @notice A model verifier installed, replaced, or (verifier zero) removed.
    event ModelVerifierSet(
        bytes32 indexed modelHash, address indexed verifier, uint32 circuitVersion, InstanceLayout layout
    );

    /// @notice Commitment tier, one job (the B=1 circuit); the job's host or its operator only.
    /// @dev Emits `JobCompleted` (marketplace) and `BatchProven`. Reverts with `NoVerifier`,
    ///      the checks of `IJobMarketplace.proofContext` (`UnknownJob`, `WrongStatus`,
    ///      `JobExpiredAt`, `NotHostOrOperator`, `EnforcedPause`), `VerifiableModelJob`,
    ///      `InvalidProof`, `ZeroHash`.
    function submitProof(uint256 jobId, bytes32 outputHash, bytes calldata proof) external;
    /// @notice Commitment tier, up to `batchSize` jobs of one host in one proof.
    /// @dev Emits `JobCompleted` per job (marketplace) and `BatchProven`. Reverts with
    ///      `EmptyBatch`, `LengthMismatch`, `BatchTooLarge`, `NoVerifier`, the checks of
    ///      `IJobMarketplace.proofContext` (`MixedHosts` among them), `VerifiableModelJob`,
    ///      `InvalidProof`, `ZeroHash`, `WrongStatus` (a job listed twice).
    function submitBatch(
        uint16 batchSize,
        uint256[] calldata jobIds,
        bytes32[] calldata outputHashes,
        bytes calldata proof
    ) external;
    /// @notice Inference tier: completes one job of a verifiable model with `outputHash` (the
    ///         Poseidon commitment of the model's output) on a proof of the model's circuit over
    ///         [job.inputHash, outputHash]; the job's host or its operator only, with the same
    ///         marketplace checks as `submitProof`. `output` is published in the event, unchecked.
    /// @dev Emits `JobCompleted` (marketplace) and `InferenceProven`. Reverts with the checks of
    ///      `IJobMarketplace.proofContext` (`UnknownJob`, `WrongStatus`, `JobExpiredAt`,
    ///      `NotHostOrOperator`, `EnforcedPause`), `NotVerifiableModel`, `NotInField` (input
    ///      hash first, then output hash), `InvalidProof`, `ZeroHash`.
    function submitInference(uint256 jobId, bytes32 outputHash, bytes calldata proof, bytes calldata output)
        external;
    /// @notice Admin (the timelock) only: installs the commitment verifier of a batch size; the
    ///         zero address removes it.
    /// @dev Emits `VerifierSet`. Reverts with `InvalidParameter` (batch size 0 or above
    ///      `MAX_BATCH_SIZE`, a non-zero verifier without code), `AccessControlUnauthorizedAccount`.
    function setVerifier(uint16 batchSize, address verifier, uint32 circuitVersion) external;
    /// @notice Admin (the timelock) only: installs the verifier and instance layout of a
    ///         verifiable model's circuit; the zero address (with layout `None`) removes it.
    ///         From then on the model's jobs complete only through `submitInference`.
    /// @dev Emits `ModelVerifierSet`. Reverts with `InvalidParameter` (zero model hash; a
    ///      verifier without code or with layout `None`; a removal with a layout other than
    ///      `None`), `AccessControlUnauthorizedAccount`.
    function setModelVerifier(bytes32 modelHash, address verifier, uint32 circuitVersion, InstanceLayout layout)
        external;

    function verifierFor(uint16 batchSize) external view returns (VerifierInfo memory);
    /// @notice The model verifier of `modelHash` (all zero, layout `None`, when it has none).
    function modelVerifierFor(bytes32 modelHash) external view returns (ModelVerifierInfo memory);
    /// @notice The public instances a proof for these jobs must have (for provers to check).
    /// @dev Reverts with `EmptyBatch`, `LengthMismatch`, `BatchTooLarge`.
    function instancesFor(uint16 batchSize, uint256[] calldata jobIds, bytes32[] calldata outputHashes)
        external
        view
        returns (uint256[] memory);
    /// @notice The public instances an inference proof for `jobId` with `outputHash` must have:
    ///         [uint256(inputHash), uint256(outputHash)] (for provers to check).
    /// @dev Reverts with `UnknownJob`, `NotVerifiableModel`, `NotInField`.
    function inferenceInstances(uint256 jobId, bytes32 outputHash) external view returns (uint256[] memory);
}
