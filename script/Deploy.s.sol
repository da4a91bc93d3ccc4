// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Script} from "forge-std/Script.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {VouchToken} from "../contracts/VouchToken.sol";
import {VouchGovernor} from "../contracts/VouchGovernor.sol";
import {IProofSystem} from "../contracts/interfaces/IProofSystem.sol";
import {Core, SystemDeployer} from "./SystemDeployer.sol";

/// @title Deploy
/// @notice Deploys all of Vouch, wires it, installs the generated Halo2 verifiers, hands every
///         admin role to the timelock (the deployer keeps none) and writes the deployment
///         manifest (docs/contracts.md, "Deploying") to `VOUCH_DEPLOYMENT_OUT` (default `deploy/<chainId>.json`).
///
///   forge script script/Deploy.s.sol --rpc-url URL --private-key HEX --broadcast
///
/// Settings from the environment (defaults in brackets): VOUCH_TOKEN_SUPPLY [1e9 VOUCH],
/// VOUCH_TOKEN_HOLDER [the deployer], VOUCH_TIMELOCK_DELAY [2 days], VOUCH_VOTING_DELAY [1 day],
/// VOUCH_VOTING_PERIOD [5 days], VOUCH_PROPOSAL_THRESHOLD [10,000 VOUCH], VOUCH_QUORUM_PERCENT [4],
/// VOUCH_GUARDIAN [none: the address that may pause Staking, NodeRegistry, JobMarketplace and
/// Slashing for at most `maxGuardianPause`], VOUCH_ARBITRATION_COUNCIL [none: an address given
/// the arbiter role beside the timelock, to rule on disputes before their deadline].
/// VOUCH_DEPLOYER_KEY [none: the sender forge was given] signs every transaction when set.
/// VOUCH_MODELS [none: no verifiable model] is a comma-separated list of verifiable models
/// (circuits/models/) whose verifiers are deployed and installed with `setModelVerifier`, read
/// from VOUCH_MODELS_DIR [circuits/build/models]/<name>/model.json (contract, modelHash,
/// circuitVersion, instanceLayout); later models go through governance, as any verifier.
/// The verifiers come from `vouch proof setup` (contracts/generated/), which must have run.
contract Deploy is Script, SystemDeployer {
    /// @dev The batch sizes `vouch proof setup` builds circuits for, and the circuit version.
    uint16[3] internal BATCH_SIZES = [uint16(1), 16, 64];
    uint32 internal constant CIRCUIT_VERSION = 1;

    struct Deployed {
        VouchToken token;
        Core core;
        TimelockController timelock;
        VouchGovernor governor;
        address[3] verifiers;
    }

    function run() external returns (Deployed memory d) {
        uint256 startBlock = block.number;
        // `vouch deploy` passes the key here rather than on forge's command line, where every
        // process on the machine could read it.
        uint256 deployerKey = vm.envOr("VOUCH_DEPLOYER_KEY", uint256(0));
        if (deployerKey != 0) vm.startBroadcast(deployerKey);
        else vm.startBroadcast();
        (, address deployer,) = vm.readCallers();

        d.token = new VouchToken(vm.envOr("VOUCH_TOKEN_HOLDER", deployer), vm.envOr("VOUCH_TOKEN_SUPPLY", uint256(1e9 ether)));
        d.timelock = new TimelockController(vm.envOr("VOUCH_TIMELOCK_DELAY", uint256(2 days)), new address[](0), new address[](0), deployer);
        d.governor = new VouchGovernor(
            d.token,
            d.timelock,
            uint48(vm.envOr("VOUCH_VOTING_DELAY", uint256(1 days))),
            uint32(vm.envOr("VOUCH_VOTING_PERIOD", uint256(5 days))),
            vm.envOr("VOUCH_PROPOSAL_THRESHOLD", uint256(10_000 ether)),
            vm.envOr("VOUCH_QUORUM_PERCENT", uint256(4))
        );
        // The treasury is the timelock: fees and slashed shares are spent by governance.
        d.core = _deployCore(d.token, deployer, address(d.timelock));
        _appointEmergencyRoles(d.core, vm.envOr("VOUCH_GUARDIAN", address(0)), vm.envOr("VOUCH_ARBITRATION_COUNCIL", address(0)));
        for (uint256 i = 0; i < BATCH_SIZES.length; ++i) {
            string memory name = string.concat("Halo2VerifierB", vm.toString(BATCH_SIZES[i]));
            d.verifiers[i] = vm.deployCode(string.concat(name, ".sol:", name));
            d.core.proofSystem.setVerifier(BATCH_SIZES[i], d.verifiers[i], CIRCUIT_VERSION);
        }
        _installModels(d.core, vm.envOr("VOUCH_MODELS", string("")), vm.envOr("VOUCH_MODELS_DIR", string("circuits/build/models")));
        _handOver(d, deployer);
        vm.stopBroadcast();

        _writeManifest(d, startBlock);
    }

    /// @dev Deploys and installs the verifier of each named model from its manifest (written by
    ///      `vouch proof setup`). The caller must still hold ProofSystem's admin role.
    function _installModels(Core memory c, string memory names, string memory dir)
        internal
        returns (bytes32[] memory hashes)
    {
        if (bytes(names).length == 0) return new bytes32[](0);
        string[] memory list = vm.split(names, ",");
        hashes = new bytes32[](list.length);
        for (uint256 i = 0; i < list.length; ++i) {
            string memory json = vm.readFile(string.concat(dir, "/", list[i], "/model.json"));
            require(
                keccak256(bytes(vm.parseJsonString(json, ".instanceLayout"))) == keccak256("HashedInputOutput"),
                string.concat(list[i], ": unknown instance layout")
            );
            string memory name = vm.parseJsonString(json, ".contract");
            address verifier = vm.deployCode(string.concat(name, ".sol:", name));
            hashes[i] = vm.parseJsonBytes32(json, ".modelHash");
            c.proofSystem.setModelVerifier(
                hashes[i],
                verifier,
                uint32(vm.parseJsonUint(json, ".circuitVersion")),
                IProofSystem.InstanceLayout.HashedInputOutput
            );
        }
    }

    /// @dev Governor proposes and cancels; anyone executes a queued, delayed operation. Every
    ///      admin and pauser role, and the arbiter role, moves to the timelock.
    function _handOver(Deployed memory d, address deployer) internal {
        TimelockController t = d.timelock;
        t.grantRole(t.PROPOSER_ROLE(), address(d.governor));
        t.grantRole(t.CANCELLER_ROLE(), address(d.governor));
        t.grantRole(t.EXECUTOR_ROLE(), address(0));

        Core memory c = d.core;
        _moveRole(IAccessControl(address(c.staking)), c.staking.PAUSER_ROLE(), t, deployer);
        _moveRole(IAccessControl(address(c.registry)), c.registry.PAUSER_ROLE(), t, deployer);
        _moveRole(IAccessControl(address(c.marketplace)), c.marketplace.PAUSER_ROLE(), t, deployer);
        _moveRole(IAccessControl(address(c.slashing)), c.slashing.PAUSER_ROLE(), t, deployer);
        _moveRole(IAccessControl(address(c.slashing)), c.slashing.ARBITER_ROLE(), t, deployer);
        address[6] memory admins = [
            address(c.staking),
            address(c.registry),
            address(c.reputation),
            address(c.marketplace),
            address(c.slashing),
            address(c.proofSystem)
        ];
        for (uint256 i = 0; i < admins.length; ++i) {
            _moveRole(IAccessControl(admins[i]), bytes32(0), t, deployer);
        }
        t.renounceRole(t.DEFAULT_ADMIN_ROLE(), deployer);
    }

    function _moveRole(IAccessControl target, bytes32 role, TimelockController t, address deployer) internal {
        target.grantRole(role, address(t));
        target.renounceRole(role, deployer);
    }

    function _writeManifest(Deployed memory d, uint256 startBlock) internal {
        string memory c = "contracts";
        vm.serializeAddress(c, "VouchToken", address(d.token));
        vm.serializeAddress(c, "Staking", address(d.core.staking));
        vm.serializeAddress(c, "NodeRegistry", address(d.core.registry));
        vm.serializeAddress(c, "ReputationRegistry", address(d.core.reputation));
        vm.serializeAddress(c, "JobMarketplace", address(d.core.marketplace));
        vm.serializeAddress(c, "Slashing", address(d.core.slashing));
        vm.serializeAddress(c, "ProofSystem", address(d.core.proofSystem));
        vm.serializeAddress(c, "TimelockController", address(d.timelock));
        vm.serializeAddress(c, "VouchGovernor", address(d.governor));
        vm.serializeAddress(c, "Halo2VerifierB1", d.verifiers[0]);
        vm.serializeAddress(c, "Halo2VerifierB16", d.verifiers[1]);
        string memory contracts = vm.serializeAddress(c, "Halo2VerifierB64", d.verifiers[2]);

        string memory m = "manifest";
        vm.serializeUint(m, "chainId", block.chainid);
        vm.serializeUint(m, "startBlock", startBlock);
        string memory json = vm.serializeString(m, "contracts", contracts);
        string memory out =
            vm.envOr("VOUCH_DEPLOYMENT_OUT", string.concat("deploy/", vm.toString(block.chainid), ".json"));
        vm.writeJson(json, out);
    }
}
