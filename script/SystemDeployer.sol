// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {VouchToken} from "../contracts/VouchToken.sol";
import {Staking} from "../contracts/Staking.sol";
import {NodeRegistry} from "../contracts/NodeRegistry.sol";
import {ReputationRegistry} from "../contracts/ReputationRegistry.sol";
import {JobMarketplace} from "../contracts/JobMarketplace.sol";
import {Slashing} from "../contracts/Slashing.sol";
import {ProofSystem} from "../contracts/ProofSystem.sol";

/// @notice The protocol contracts of one deployment.
struct Core {
    Staking staking;
    NodeRegistry registry;
    ReputationRegistry reputation;
    JobMarketplace marketplace;
    Slashing slashing;
    ProofSystem proofSystem;
}

/// @title SystemDeployer
/// @notice Deploys and wires the protocol contracts. Shared by `Deploy.s.sol` and the tests'
///         fixture, so the tests run against exactly the wiring that ships.
/// @dev The caller must be `admin` (it performs the wiring calls). Wiring:
///      Staking.SLASHER_ROLE -> Slashing; ReputationRegistry.WRITER_ROLE -> JobMarketplace and
///      Slashing; JobMarketplace.PROOF_SYSTEM_ROLE -> ProofSystem; JobMarketplace.slashing and
///      NodeRegistry.marketplace and Staking.marketplace (withdrawal lock) set; VOUCH allowed as
///      a payment asset, priced for reputation (see `_deployCore`).
abstract contract SystemDeployer {
    function _deployCore(VouchToken token, address admin, address treasury) internal returns (Core memory c) {
        c.staking = new Staking(token, admin);
        c.registry = new NodeRegistry(c.staking, admin);
        c.reputation = new ReputationRegistry(c.staking, admin);
        c.marketplace = new JobMarketplace(c.registry, c.reputation, treasury, admin);
        c.slashing = new Slashing(c.staking, c.registry, c.reputation, c.marketplace, treasury, admin);
        c.proofSystem = new ProofSystem(c.marketplace, admin);

        c.registry.setMarketplace(address(c.marketplace));
        c.staking.setMarketplace(c.marketplace);
        c.marketplace.setSlashing(c.slashing);
        c.staking.grantRole(c.staking.SLASHER_ROLE(), address(c.slashing));
        c.reputation.grantRole(c.reputation.WRITER_ROLE(), address(c.marketplace));
        c.reputation.grantRole(c.reputation.WRITER_ROLE(), address(c.slashing));
        c.marketplace.grantRole(c.marketplace.PROOF_SYSTEM_ROLE(), address(c.proofSystem));
        // VOUCH itself is a payment asset whose credit fee makes buying reputation cost its
        // worth exactly: 500 -> 900 takes 80 full credits (+5 each), so 80 x creditFee = the
        // minimum stake (docs/contracts.md).
        c.marketplace.setTokenAllowed(address(token), true);
        c.marketplace.setAssetFees(address(token), 1 ether, uint96(c.staking.minimumStake() / 80));
    }

    /// @dev The optional guardian (may pause every pausable contract, for a limited time) and
    ///      arbitration council (arbiter beside governance). The zero address skips either.
    function _appointEmergencyRoles(Core memory c, address guardian, address council) internal {
        if (guardian != address(0)) {
            c.staking.grantRole(c.staking.GUARDIAN_ROLE(), guardian);
            c.registry.grantRole(c.registry.GUARDIAN_ROLE(), guardian);
            c.marketplace.grantRole(c.marketplace.GUARDIAN_ROLE(), guardian);
            c.slashing.grantRole(c.slashing.GUARDIAN_ROLE(), guardian);
        }
        if (council != address(0)) c.slashing.grantRole(c.slashing.ARBITER_ROLE(), council);
    }
}
