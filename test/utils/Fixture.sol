// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {VouchToken} from "../../contracts/VouchToken.sol";
import {Staking} from "../../contracts/Staking.sol";
import {NodeRegistry} from "../../contracts/NodeRegistry.sol";
import {ReputationRegistry} from "../../contracts/ReputationRegistry.sol";
import {JobMarketplace} from "../../contracts/JobMarketplace.sol";
import {Slashing} from "../../contracts/Slashing.sol";
import {ProofSystem} from "../../contracts/ProofSystem.sol";
import {IJobMarketplace} from "../../contracts/interfaces/IJobMarketplace.sol";
import {Core, SystemDeployer} from "../../script/SystemDeployer.sol";

/// @notice The whole protocol wired as `Deploy.s.sol` wires it, with this test contract as the
///         admin (standing in for the timelock) and `prover` holding the proof-system role on
///         the marketplace, so marketplace flows can complete jobs without a proof. Proof paths
///         are tested with real EZKL proofs in ProofSystem tests.
abstract contract Fixture is Test, SystemDeployer {
    uint256 internal constant SUPPLY = 1_000_000_000 ether;
    uint256 internal constant MIN_STAKE = 1000 ether;
    bytes32 internal constant MODEL = keccak256("llama-3-8b-instruct-q4");
    bytes32 internal constant OTHER_MODEL = keccak256("mistral-7b");
    bytes32 internal constant INPUT = keccak256("prompt: hello");
    bytes32 internal constant OUTPUT = keccak256("completion: hi");
    string internal constant ENDPOINT = "https://host-1.vouch.example:8443";
    bytes16 internal constant REGION = bytes16("eu-west-1");
    uint96 internal constant PRICE_PER_TOKEN = 2 gwei;
    uint96 internal constant PAYMENT = 0.05 ether;

    VouchToken internal token;
    VouchToken internal usd; // a second, real ERC20 for escrow in tokens
    Staking internal staking;
    NodeRegistry internal registry;
    ReputationRegistry internal reputation;
    JobMarketplace internal marketplace;
    Slashing internal slashing;
    ProofSystem internal proofSystem;

    address internal admin = address(this);
    address internal treasury = makeAddr("treasury");
    address internal prover = makeAddr("prover");
    address internal host;
    uint256 internal hostKey;
    address internal operator;
    uint256 internal operatorKey;
    address internal renter = makeAddr("renter");
    address internal stranger = makeAddr("stranger");

    function setUp() public virtual {
        vm.warp(1_750_000_000);
        (host, hostKey) = makeAddrAndKey("host");
        (operator, operatorKey) = makeAddrAndKey("operator");
        token = new VouchToken(address(this), SUPPLY);
        usd = new VouchToken(renter, SUPPLY);
        Core memory c = _deployCore(token, admin, treasury);
        staking = c.staking;
        registry = c.registry;
        reputation = c.reputation;
        marketplace = c.marketplace;
        slashing = c.slashing;
        proofSystem = c.proofSystem;
        marketplace.grantRole(marketplace.PROOF_SYSTEM_ROLE(), prover);
        marketplace.setTokenAllowed(address(usd), true);
        vm.deal(renter, 100 ether);
        vm.label(address(token), "VOUCH");
        vm.label(address(usd), "USD");
    }

    // ---- helpers ----------------------------------------------------------------------------

    function _stake(address who, uint256 amount) internal {
        token.transfer(who, amount);
        vm.startPrank(who);
        token.approve(address(staking), amount);
        staking.stake(amount);
        vm.stopPrank();
    }

    function _models(bytes32 a) internal pure returns (bytes32[] memory m) {
        m = new bytes32[](1);
        m[0] = a;
    }

    /// @dev Stakes the minimum, registers serving MODEL, sets `operator` as its operator.
    function _registerHost(address who) internal {
        _stake(who, MIN_STAKE);
        vm.prank(who);
        registry.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
        if (who == host) {
            vm.prank(who);
            registry.setOperator(operator);
        }
    }

    function _createJob() internal returns (uint256 jobId) {
        return _createJob(MODEL, uint40(block.timestamp + 1 hours));
    }

    function _createJob(bytes32 model, uint40 deadline) internal returns (uint256 jobId) {
        vm.prank(renter);
        jobId = marketplace.createJob{value: PAYMENT}(model, INPUT, address(0), PAYMENT, deadline, address(0), 0);
    }

    function _claimedJob() internal returns (uint256 jobId) {
        jobId = _createJob();
        vm.prank(host);
        marketplace.claimJob(jobId, host);
    }

    function _complete(uint256 jobId, bytes32 output) internal {
        uint256[] memory ids = new uint256[](1);
        bytes32[] memory outs = new bytes32[](1);
        ids[0] = jobId;
        outs[0] = output;
        vm.prank(prover);
        marketplace.completeJobs(host, ids, outs);
    }

    function _completedJob() internal returns (uint256 jobId) {
        jobId = _claimedJob();
        _complete(jobId, OUTPUT);
    }

    function _ids(uint256 a) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = a;
    }

    function _status(uint256 jobId) internal view returns (IJobMarketplace.Status) {
        return marketplace.getJob(jobId).status;
    }

    /// @dev EIP-712 signature of Result(jobId, outputHash) for the slashing contract's domain.
    function _signResult(uint256 key, uint256 jobId, bytes32 output) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, slashing.resultDigest(jobId, output));
        return abi.encodePacked(r, s, v);
    }
}
