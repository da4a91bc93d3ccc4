// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";
import {IProofSystem} from "../contracts/interfaces/IProofSystem.sol";

/// @notice One main call per test, everything else in setUp, for `forge test --isolate
///         --gas-report` (isolation runs each top-level call as its own transaction, so storage
///         starts cold as on a real chain). Figures go to docs/benchmarks.md.
contract GasTest is Fixture {
    string internal constant SHORT_ENDPOINT = "https://h1.vouch.example:8443"; // 29 bytes: one slot
    uint256 internal openJob;
    uint256 internal claimedJob;
    uint256 internal completedJob;

    function setUp() public override {
        super.setUp();
        _registerHost(host);
        _stake(stranger, MIN_STAKE);
        openJob = _createJob();
        claimedJob = _claimedJob();
        completedJob = _completedJob();
        vm.warp(block.timestamp + 1 days + 1);
        openJob = _createJob(); // a fresh job whose deadline is ahead of the warped clock
    }

    function test_gas_registerNode() public {
        vm.prank(stranger);
        registry.register(SHORT_ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
        assertTrue(registry.isRegistered(stranger));
    }

    function test_gas_createJobEth() public {
        vm.prank(renter);
        uint256 id = marketplace.createJob{value: PAYMENT}(MODEL, INPUT, address(0), PAYMENT, uint40(block.timestamp + 1 hours), address(0), 0);
        assertEq(id, 5);
    }

    function test_gas_claimJob() public {
        vm.prank(operator);
        marketplace.claimJob(openJob, host);
        assertEq(marketplace.getJob(openJob).host, host);
    }

    function test_gas_releasePayment() public {
        marketplace.releasePayments(_ids(completedJob));
        assertEq(marketplace.claimable(host, address(0)), PAYMENT - marketplace.getJob(completedJob).fee);
    }

    function test_gas_completeJobs64() public {
        uint256[] memory ids = new uint256[](64);
        bytes32[] memory outs = new bytes32[](64);
        for (uint256 i = 0; i < 64; ++i) {
            ids[i] = _claimedJob();
            outs[i] = keccak256(abi.encode(i));
        }
        vm.prank(prover);
        uint256 g = gasleft();
        marketplace.completeJobs(host, ids, outs);
        uint256 perJob = (g - gasleft()) / 64;
        emit log_named_uint("completeJobs(64) gas per job", perJob);
        assertLe(perJob, 35_000, "completion per job in a batch of 64"); // measured 14,315 isolated
        assertEq(uint8(marketplace.getJob(ids[63]).status), uint8(IJobMarketplace.Status.Completed));
    }

    /// @dev The proof system's own work on a full commitment batch of 64, up to the verifier:
    ///      the junk proof makes the (real, generated) verifier revert, so the figure is the
    ///      marketplace's checks, the instances and the dispatch, which is where the verifiable-
    ///      model check sits (one model hash read per distinct model in the batch).
    function test_gas_submitBatch64_upToTheVerifier() public {
        proofSystem.setVerifier(64, vm.deployCode("Halo2VerifierB64.sol:Halo2VerifierB64"), 1);
        uint256[] memory ids = new uint256[](64);
        bytes32[] memory outs = new bytes32[](64);
        for (uint256 i = 0; i < 64; ++i) {
            ids[i] = _claimedJob();
            outs[i] = keccak256(abi.encode(i));
        }
        bytes memory junk = new bytes(2048);
        vm.prank(host);
        uint256 g = gasleft();
        try proofSystem.submitBatch(64, ids, outs, junk) {
            revert("a junk proof cannot verify");
        } catch (bytes memory reason) {
            assertEq(bytes4(reason), IProofSystem.InvalidProof.selector);
        }
        emit log_named_uint("submitBatch(64) up to the verifier, gas", g - gasleft());
    }

    function test_gas_heartbeat() public {
        vm.prank(operator);
        registry.heartbeat(host);
        assertEq(registry.getNode(host).lastHeartbeat, block.timestamp);
    }
}
