// This file is also `include!`d by build.rs, so it holds nothing but the macro: no inner
// attributes, no paths into the crate.

/// The one table of Vouch contracts. Everything that lists contracts is generated from it by
/// passing a callback macro: the artifact check in `build.rs`, the `sol!` bindings in
/// [`crate::contracts`], the manifest's [`crate::Contracts`] fields and `all()`, and the
/// [`crate::events`] enums. Adding a contract (or, through its Solidity, an event) is one edit.
///
/// Two kinds of entry:
/// - `contracts`: compiled by forge into `out/`, bound with `sol!` and emitting events. Each row
///   is `(RustName, module_and_manifest_field, EventsEnum, "artifact path", "ManifestKey")`.
///   The artifact path is relative to `bindings/` (as `sol!` resolves it); `EventsEnum` is the
///   `<RustName>Events` enum `sol!` generates, spelled out because `macro_rules!` cannot paste
///   identifiers.
/// - `verifiers`: the generated Halo2 verifiers. They have no artifact at build time (their
///   Solidity comes from `vouch proof setup`), share the fixed `IHalo2Verifier` ABI and emit no
///   events. Each row is `(manifest_field, "ManifestKey")`.
///
/// `script/Deploy.s.sol`'s `_writeManifest` must write exactly these manifest keys, in this
/// order; `bindings/tests/deploy_script.rs` checks the keys against this table.
macro_rules! for_each_contract {
    ($callback:ident) => {
        $callback! {
            contracts: [
                (VouchToken, vouch_token, VouchTokenEvents,
                    "../out/VouchToken.sol/VouchToken.json", "VouchToken"),
                (Staking, staking, StakingEvents,
                    "../out/Staking.sol/Staking.json", "Staking"),
                (NodeRegistry, node_registry, NodeRegistryEvents,
                    "../out/NodeRegistry.sol/NodeRegistry.json", "NodeRegistry"),
                (ReputationRegistry, reputation_registry, ReputationRegistryEvents,
                    "../out/ReputationRegistry.sol/ReputationRegistry.json", "ReputationRegistry"),
                (JobMarketplace, job_marketplace, JobMarketplaceEvents,
                    "../out/JobMarketplace.sol/JobMarketplace.json", "JobMarketplace"),
                (Slashing, slashing, SlashingEvents,
                    "../out/Slashing.sol/Slashing.json", "Slashing"),
                (ProofSystem, proof_system, ProofSystemEvents,
                    "../out/ProofSystem.sol/ProofSystem.json", "ProofSystem"),
                (TimelockController, timelock_controller, TimelockControllerEvents,
                    "../out/TimelockController.sol/TimelockController.json", "TimelockController"),
                (VouchGovernor, vouch_governor, VouchGovernorEvents,
                    "../out/VouchGovernor.sol/VouchGovernor.json", "VouchGovernor"),
            ],
            verifiers: [
                (halo2_verifier_b1, "Halo2VerifierB1"),
                (halo2_verifier_b16, "Halo2VerifierB16"),
                (halo2_verifier_b64, "Halo2VerifierB64"),
            ],
        }
    };
}
