// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IHalo2Verifier
/// @notice The ABI of the EZKL-generated Halo2 (KZG, BN254) verifier. It reverts on an invalid
///         proof (and may also return false); callers treat both as invalid.
interface IHalo2Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool);
}
