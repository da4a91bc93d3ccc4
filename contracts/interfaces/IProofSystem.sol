// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IProofSystem
/// @notice Completes jobs on an EZKL (Halo2, KZG) proof. The public instances are built here
///         from each job's stored model and input hashes plus the submitted output hash, as the
///         128-bit limbs (hi, lo) of (jobId, modelHash, inputHash, outputHash), 8 per job slot,
///         with unused slots of a batch all zero. A proof therefore binds one exact tuple per job
///         and cannot be replayed for another job, model, input or output.
/// @dev What a proof does not give: authorship (anyone can prove any tuple), which is why only
///      the job's host or its operator may submit; and correctness of the inference itself,
///      which stake, slashing and disputes back. See docs/circuit.md.
interface IProofSystem {
    struct VerifierInfo {
        address verifier;
        uint32 circuitVersion;
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

    function submitProof(uint256 jobId, bytes32 outputHash, bytes calldata proof) external;
    function submitBatch(
        uint16 batchSize,
        uint256[] calldata jobIds,
        bytes32[] calldata outputHashes,
        bytes calldata proof
    ) external;
    function setVerifier(uint16 batchSize, address verifier, uint32 circuitVersion) external;

    function verifierFor(uint16 batchSize) external view returns (VerifierInfo memory);
    /// @notice The public instances a proof for these jobs must have (for provers to check).
    function instancesFor(uint16 batchSize, uint256[] calldata jobIds, bytes32[] calldata outputHashes)
        external
        view
        returns (uint256[] memory);
}
