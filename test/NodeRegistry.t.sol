// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "./utils/Fixture.sol";
import {Vm} from "forge-std/Vm.sol";
import {NodeRegistry} from "../contracts/NodeRegistry.sol";
import {INodeRegistry} from "../contracts/interfaces/INodeRegistry.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {Pausable} from "@openzeppelin/contracts/utils/Pausable.sol";

contract NodeRegistryTest is Fixture {
    bytes32 internal constant DEFAULT_ADMIN_ROLE = 0x00;
    bytes32 internal PAUSER_ROLE;
    uint96 internal constant NEW_PRICE = 3 gwei;
    bytes16 internal constant NEW_REGION = bytes16("us-east-2");
    string internal constant NEW_ENDPOINT = "https://host-1b.vouch.example";

    function setUp() public override {
        super.setUp();
        PAUSER_ROLE = registry.PAUSER_ROLE();
    }

    // ---- helpers ----------------------------------------------------------------------------

    function _two(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory m) {
        m = new bytes32[](2);
        m[0] = a;
        m[1] = b;
    }

    /// @dev `n` distinct non-zero model hashes, different for each `salt`.
    function _seq(uint256 n, uint256 salt) internal pure returns (bytes32[] memory m) {
        m = new bytes32[](n);
        for (uint256 i = 0; i < n; ++i) {
            m[i] = keccak256(abi.encode("model", salt, i));
        }
    }

    function _str(uint256 len) internal pure returns (string memory) {
        bytes memory b = new bytes(len);
        for (uint256 i = 0; i < len; ++i) {
            b[i] = "a";
        }
        return string(b);
    }

    /// @dev Stakes the minimum and registers `who` serving `models` (no operator).
    function _register(address who, bytes32[] memory models) internal {
        _stake(who, MIN_STAKE);
        vm.prank(who);
        registry.register(ENDPOINT, REGION, models, PRICE_PER_TOKEN);
    }

    function _unauthorized(address account, bytes32 role) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, account, role);
    }

    function _notAuthorized(address caller, address who) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(INodeRegistry.NotAuthorized.selector, caller, who);
    }

    function _notRegistered(address who) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(INodeRegistry.NotRegistered.selector, who);
    }

    function _assertNode(
        address who,
        address op,
        uint256 registeredAt,
        uint256 lastHeartbeat,
        uint256 modelCount,
        uint96 price,
        bytes16 region,
        string memory endpoint
    ) internal view {
        INodeRegistry.Node memory n = registry.getNode(who);
        assertEq(n.operator, op, "operator");
        assertEq(n.registeredAt, registeredAt, "registeredAt");
        assertEq(n.lastHeartbeat, lastHeartbeat, "lastHeartbeat");
        assertEq(n.modelCount, modelCount, "modelCount");
        assertEq(n.pricePerToken, price, "pricePerToken");
        assertEq(n.region, region, "region");
        assertEq(n.endpoint, endpoint, "endpoint");
        assertEq(registry.operatorOf(who), op, "operatorOf");
        assertEq(registry.isRegistered(who), registeredAt != 0, "isRegistered");
    }

    function _assertUnregistered(address who) internal view {
        _assertNode(who, address(0), 0, 0, 0, 0, bytes16(0), "");
    }

    // ---- deployment -------------------------------------------------------------------------

    function test_deployment() public view {
        assertEq(address(registry.staking()), address(staking));
        assertEq(address(registry.marketplace()), address(marketplace));
        assertEq(registry.MAX_MODELS(), 64);
        assertEq(registry.MAX_ENDPOINT_LENGTH(), 256);
        assertEq(PAUSER_ROLE, keccak256("PAUSER_ROLE"));
        assertTrue(registry.hasRole(DEFAULT_ADMIN_ROLE, admin));
        assertTrue(registry.hasRole(PAUSER_ROLE, admin));
        assertFalse(registry.hasRole(DEFAULT_ADMIN_ROLE, stranger));
        assertTrue(registry.supportsInterface(type(IAccessControl).interfaceId));
        assertFalse(registry.paused());
        _assertUnregistered(host);
    }

    // ---- register ---------------------------------------------------------------------------

    function test_register() public {
        _stake(host, MIN_STAKE);
        bytes32[] memory models = _two(MODEL, OTHER_MODEL);
        vm.expectEmit(address(registry));
        emit INodeRegistry.NodeRegistered(host, ENDPOINT, REGION, PRICE_PER_TOKEN, models);
        vm.recordLogs();
        vm.prank(host);
        registry.register(ENDPOINT, REGION, models, PRICE_PER_TOKEN);
        // The models are listed in NodeRegistered only: no ModelAdded per model.
        Vm.Log[] memory logs = vm.getRecordedLogs();
        assertEq(logs.length, 1);
        assertEq(logs[0].topics[0], INodeRegistry.NodeRegistered.selector);

        uint256 t = block.timestamp;
        _assertNode(host, address(0), t, t, 2, PRICE_PER_TOKEN, REGION, ENDPOINT);
        assertTrue(registry.servesModel(host, MODEL));
        assertTrue(registry.servesModel(host, OTHER_MODEL));
        assertFalse(registry.servesModel(host, keccak256("unknown")));
        assertFalse(registry.servesModel(host, bytes32(0)));
        assertTrue(registry.canServe(host, MODEL));
        assertTrue(registry.canServe(host, OTHER_MODEL));
        assertFalse(registry.canServe(host, keccak256("unknown")));
        assertTrue(registry.isAuthorized(host, host));
        assertFalse(registry.isAuthorized(host, stranger));
    }

    function test_register_zeroPriceAndRegion() public {
        _stake(host, MIN_STAKE);
        vm.prank(host);
        registry.register("x", bytes16(0), _models(MODEL), 0);
        _assertNode(host, address(0), block.timestamp, block.timestamp, 1, 0, bytes16(0), "x");
    }

    function test_register_maxModels() public {
        _stake(host, MIN_STAKE);
        bytes32[] memory models = _seq(64, 1);
        vm.prank(host);
        registry.register(ENDPOINT, REGION, models, PRICE_PER_TOKEN);
        assertEq(registry.getNode(host).modelCount, 64);
        for (uint256 i = 0; i < 64; ++i) {
            assertTrue(registry.servesModel(host, models[i]));
        }
    }

    function test_register_revertsTooManyModels() public {
        _stake(host, MIN_STAKE);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.TooManyModels.selector, 65, 64));
        registry.register(ENDPOINT, REGION, _seq(65, 1), PRICE_PER_TOKEN);
        _assertUnregistered(host);
    }

    function test_register_revertsWhenAlreadyRegistered() public {
        _register(host, _models(MODEL));
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.AlreadyRegistered.selector, host));
        registry.register(NEW_ENDPOINT, NEW_REGION, _models(OTHER_MODEL), NEW_PRICE);
        _assertNode(host, address(0), block.timestamp, block.timestamp, 1, PRICE_PER_TOKEN, REGION, ENDPOINT);
        assertFalse(registry.servesModel(host, OTHER_MODEL));
    }

    function test_register_revertsWithoutMinimumStake() public {
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.InsufficientStake.selector, host, 0, MIN_STAKE));
        registry.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);

        _stake(host, MIN_STAKE - 1);
        vm.prank(host);
        vm.expectRevert(
            abi.encodeWithSelector(INodeRegistry.InsufficientStake.selector, host, MIN_STAKE - 1, MIN_STAKE)
        );
        registry.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
        _assertUnregistered(host);
    }

    function test_register_unbondingStakeDoesNotCount() public {
        _stake(host, MIN_STAKE);
        vm.prank(host);
        staking.requestUnstake(1);
        vm.prank(host);
        vm.expectRevert(
            abi.encodeWithSelector(INodeRegistry.InsufficientStake.selector, host, MIN_STAKE - 1, MIN_STAKE)
        );
        registry.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
    }

    function test_register_followsGovernedMinimum() public {
        _stake(host, MIN_STAKE);
        staking.setMinimumStake(MIN_STAKE + 1);
        vm.prank(host);
        vm.expectRevert(
            abi.encodeWithSelector(INodeRegistry.InsufficientStake.selector, host, MIN_STAKE, MIN_STAKE + 1)
        );
        registry.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
        staking.setMinimumStake(MIN_STAKE);
        vm.prank(host);
        registry.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
        assertTrue(registry.isRegistered(host));
    }

    function test_register_revertsOnEndpointLength() public {
        _stake(host, MIN_STAKE);
        vm.prank(host);
        vm.expectRevert(INodeRegistry.InvalidEndpoint.selector);
        registry.register("", REGION, _models(MODEL), PRICE_PER_TOKEN);

        vm.prank(host);
        vm.expectRevert(INodeRegistry.InvalidEndpoint.selector);
        registry.register(_str(257), REGION, _models(MODEL), PRICE_PER_TOKEN);
        _assertUnregistered(host);

        vm.prank(host);
        registry.register(_str(256), REGION, _models(MODEL), PRICE_PER_TOKEN);
        assertEq(registry.getNode(host).endpoint, _str(256));
    }

    function test_register_revertsWithoutModels() public {
        _stake(host, MIN_STAKE);
        vm.prank(host);
        vm.expectRevert(INodeRegistry.NoModels.selector);
        registry.register(ENDPOINT, REGION, new bytes32[](0), PRICE_PER_TOKEN);
        _assertUnregistered(host);
    }

    function test_register_revertsOnZeroModelHash() public {
        _stake(host, MIN_STAKE);
        vm.prank(host);
        vm.expectRevert(INodeRegistry.ZeroModelHash.selector);
        registry.register(ENDPOINT, REGION, _two(MODEL, bytes32(0)), PRICE_PER_TOKEN);
        _assertUnregistered(host);
        assertFalse(registry.servesModel(host, MODEL));
    }

    function test_register_revertsOnDuplicateModel() public {
        _stake(host, MIN_STAKE);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.ModelAlreadySupported.selector, MODEL));
        registry.register(ENDPOINT, REGION, _two(MODEL, MODEL), PRICE_PER_TOKEN);
        _assertUnregistered(host);
    }

    function test_register_revertsWhenPaused() public {
        _stake(host, MIN_STAKE);
        registry.pause();
        vm.prank(host);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        registry.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
        _assertUnregistered(host);
    }

    function testFuzz_register_endpointLength(uint256 len) public {
        len = bound(len, 0, 600);
        _stake(host, MIN_STAKE);
        string memory endpoint = _str(len);
        vm.prank(host);
        if (len == 0 || len > 256) {
            vm.expectRevert(INodeRegistry.InvalidEndpoint.selector);
            registry.register(endpoint, REGION, _models(MODEL), PRICE_PER_TOKEN);
            _assertUnregistered(host);
        } else {
            registry.register(endpoint, REGION, _models(MODEL), PRICE_PER_TOKEN);
            _assertNode(host, address(0), block.timestamp, block.timestamp, 1, PRICE_PER_TOKEN, REGION, endpoint);
        }
    }

    function testFuzz_register_modelCount(uint256 n, uint256 salt) public {
        n = bound(n, 0, 80);
        _stake(host, MIN_STAKE);
        bytes32[] memory models = _seq(n, salt);
        vm.prank(host);
        if (n == 0) {
            vm.expectRevert(INodeRegistry.NoModels.selector);
        } else if (n > 64) {
            vm.expectRevert(abi.encodeWithSelector(INodeRegistry.TooManyModels.selector, n, 64));
        } else {
            vm.expectEmit(address(registry));
            emit INodeRegistry.NodeRegistered(host, ENDPOINT, REGION, PRICE_PER_TOKEN, models);
        }
        registry.register(ENDPOINT, REGION, models, PRICE_PER_TOKEN);
        bool ok = n != 0 && n <= 64;
        assertEq(registry.isRegistered(host), ok);
        assertEq(registry.getNode(host).modelCount, ok ? n : 0);
        if (n != 0) assertEq(registry.servesModel(host, models[n - 1]), ok);
    }

    // ---- updateNode -------------------------------------------------------------------------

    function test_updateNode_byHostAndOperator() public {
        _registerHost(host);
        uint256 t0 = block.timestamp;
        vm.warp(t0 + 1 hours);

        vm.expectEmit(address(registry));
        emit INodeRegistry.NodeUpdated(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);
        vm.prank(host);
        registry.updateNode(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);
        // Registration time, heartbeat and models are untouched.
        _assertNode(host, operator, t0, t0, 1, NEW_PRICE, NEW_REGION, NEW_ENDPOINT);
        assertTrue(registry.servesModel(host, MODEL));

        vm.expectEmit(address(registry));
        emit INodeRegistry.NodeUpdated(host, ENDPOINT, REGION, 0);
        vm.prank(operator);
        registry.updateNode(host, ENDPOINT, REGION, 0);
        _assertNode(host, operator, t0, t0, 1, 0, REGION, ENDPOINT);
    }

    function test_updateNode_revertsForOthers() public {
        _registerHost(host);
        vm.prank(stranger);
        vm.expectRevert(_notAuthorized(stranger, host));
        registry.updateNode(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);

        // Another registered host is no one's operator but its own.
        _register(stranger, _models(MODEL));
        vm.prank(stranger);
        vm.expectRevert(_notAuthorized(stranger, host));
        registry.updateNode(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);

        // The admin has no say over a host's entry either.
        vm.expectRevert(_notAuthorized(admin, host));
        registry.updateNode(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);
        _assertNode(host, operator, block.timestamp, block.timestamp, 1, PRICE_PER_TOKEN, REGION, ENDPOINT);
    }

    function test_updateNode_revertsWhenNotRegistered() public {
        vm.prank(host);
        vm.expectRevert(_notRegistered(host));
        registry.updateNode(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);
        // Not the host: rejected as unauthorized first.
        vm.prank(stranger);
        vm.expectRevert(_notAuthorized(stranger, host));
        registry.updateNode(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);
    }

    function test_updateNode_revertsOnEndpointLength() public {
        _registerHost(host);
        vm.prank(operator);
        vm.expectRevert(INodeRegistry.InvalidEndpoint.selector);
        registry.updateNode(host, "", NEW_REGION, NEW_PRICE);
        vm.prank(host);
        vm.expectRevert(INodeRegistry.InvalidEndpoint.selector);
        registry.updateNode(host, _str(257), NEW_REGION, NEW_PRICE);
        vm.prank(host);
        registry.updateNode(host, _str(256), NEW_REGION, NEW_PRICE);
        assertEq(registry.getNode(host).endpoint, _str(256));
    }

    function test_updateNode_revertsWhenPaused() public {
        _registerHost(host);
        registry.pause();
        vm.prank(host);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        registry.updateNode(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);
        vm.prank(operator);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        registry.updateNode(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);
    }

    // ---- addModels --------------------------------------------------------------------------

    function test_addModels_byHostAndOperator() public {
        _registerHost(host);
        bytes32 m3 = keccak256("phi-3");
        vm.expectEmit(address(registry));
        emit INodeRegistry.ModelAdded(host, OTHER_MODEL);
        vm.expectEmit(address(registry));
        emit INodeRegistry.ModelAdded(host, m3);
        vm.prank(host);
        registry.addModels(host, _two(OTHER_MODEL, m3));
        assertEq(registry.getNode(host).modelCount, 3);
        assertTrue(registry.servesModel(host, OTHER_MODEL));
        assertTrue(registry.canServe(host, m3));

        bytes32 m4 = keccak256("qwen-2");
        vm.expectEmit(address(registry));
        emit INodeRegistry.ModelAdded(host, m4);
        vm.prank(operator);
        registry.addModels(host, _models(m4));
        assertEq(registry.getNode(host).modelCount, 4);
        assertTrue(registry.servesModel(host, m4));
    }

    function test_addModels_upToMax() public {
        _registerHost(host);
        vm.prank(operator);
        registry.addModels(host, _seq(63, 7));
        assertEq(registry.getNode(host).modelCount, 64);

        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.TooManyModels.selector, 65, 64));
        registry.addModels(host, _models(OTHER_MODEL));
        assertFalse(registry.servesModel(host, OTHER_MODEL));
    }

    function test_addModels_revertsTooManyModels() public {
        _registerHost(host);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.TooManyModels.selector, 65, 64));
        registry.addModels(host, _seq(64, 7));
        assertEq(registry.getNode(host).modelCount, 1);
    }

    function test_addModels_revertsWithoutModels() public {
        _registerHost(host);
        vm.prank(host);
        vm.expectRevert(INodeRegistry.NoModels.selector);
        registry.addModels(host, new bytes32[](0));
    }

    function test_addModels_revertsOnZeroHash() public {
        _registerHost(host);
        vm.prank(host);
        vm.expectRevert(INodeRegistry.ZeroModelHash.selector);
        registry.addModels(host, _two(OTHER_MODEL, bytes32(0)));
        assertFalse(registry.servesModel(host, OTHER_MODEL));
        assertEq(registry.getNode(host).modelCount, 1);
    }

    function test_addModels_revertsOnDuplicate() public {
        _registerHost(host);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.ModelAlreadySupported.selector, MODEL));
        registry.addModels(host, _models(MODEL));

        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.ModelAlreadySupported.selector, OTHER_MODEL));
        registry.addModels(host, _two(OTHER_MODEL, OTHER_MODEL));
        assertFalse(registry.servesModel(host, OTHER_MODEL));
        assertEq(registry.getNode(host).modelCount, 1);
    }

    function test_addModels_revertsForOthers() public {
        _registerHost(host);
        vm.prank(stranger);
        vm.expectRevert(_notAuthorized(stranger, host));
        registry.addModels(host, _models(OTHER_MODEL));
        vm.prank(stranger);
        vm.expectRevert(_notAuthorized(stranger, address(0xBEEF)));
        registry.addModels(address(0xBEEF), _models(OTHER_MODEL));
    }

    function test_addModels_revertsWhenNotRegistered() public {
        vm.prank(host);
        vm.expectRevert(_notRegistered(host));
        registry.addModels(host, _models(OTHER_MODEL));
    }

    function test_addModels_revertsWhenPaused() public {
        _registerHost(host);
        registry.pause();
        vm.prank(operator);
        vm.expectRevert(Pausable.EnforcedPause.selector);
        registry.addModels(host, _models(OTHER_MODEL));
    }

    // ---- removeModels -----------------------------------------------------------------------

    function test_removeModels_byHostAndOperator() public {
        _registerHost(host);
        bytes32 m3 = keccak256("phi-3");
        vm.prank(host);
        registry.addModels(host, _two(OTHER_MODEL, m3));

        vm.expectEmit(address(registry));
        emit INodeRegistry.ModelRemoved(host, MODEL);
        vm.expectEmit(address(registry));
        emit INodeRegistry.ModelRemoved(host, m3);
        vm.prank(operator);
        registry.removeModels(host, _two(MODEL, m3));
        assertEq(registry.getNode(host).modelCount, 1);
        assertFalse(registry.servesModel(host, MODEL));
        assertFalse(registry.canServe(host, MODEL));
        assertFalse(registry.servesModel(host, m3));
        assertTrue(registry.servesModel(host, OTHER_MODEL));

        vm.expectEmit(address(registry));
        emit INodeRegistry.ModelRemoved(host, OTHER_MODEL);
        vm.prank(host);
        registry.removeModels(host, _models(OTHER_MODEL));
        // A host may serve nothing for a while and stays registered.
        assertEq(registry.getNode(host).modelCount, 0);
        assertTrue(registry.isRegistered(host));

        // A removed model can be added back.
        vm.prank(host);
        registry.addModels(host, _models(MODEL));
        assertTrue(registry.canServe(host, MODEL));
        assertEq(registry.getNode(host).modelCount, 1);
    }

    function test_removeModels_revertsOnUnsupportedModel() public {
        _registerHost(host);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.ModelNotSupported.selector, OTHER_MODEL));
        registry.removeModels(host, _models(OTHER_MODEL));

        // The same model twice: the second one is no longer supported.
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.ModelNotSupported.selector, MODEL));
        registry.removeModels(host, _two(MODEL, MODEL));

        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.ModelNotSupported.selector, bytes32(0)));
        registry.removeModels(host, _models(bytes32(0)));
        assertTrue(registry.servesModel(host, MODEL));
        assertEq(registry.getNode(host).modelCount, 1);
    }

    function test_removeModels_revertsWithoutModels() public {
        _registerHost(host);
        vm.prank(host);
        vm.expectRevert(INodeRegistry.NoModels.selector);
        registry.removeModels(host, new bytes32[](0));
    }

    function test_removeModels_revertsForOthers() public {
        _registerHost(host);
        vm.prank(stranger);
        vm.expectRevert(_notAuthorized(stranger, host));
        registry.removeModels(host, _models(MODEL));
        assertTrue(registry.servesModel(host, MODEL));
    }

    function test_removeModels_revertsWhenNotRegistered() public {
        vm.prank(host);
        vm.expectRevert(_notRegistered(host));
        registry.removeModels(host, _models(MODEL));
    }

    function test_removeModels_worksWhilePaused() public {
        _registerHost(host);
        registry.pause();
        vm.expectEmit(address(registry));
        emit INodeRegistry.ModelRemoved(host, MODEL);
        vm.prank(operator);
        registry.removeModels(host, _models(MODEL));
        assertFalse(registry.servesModel(host, MODEL));
        assertEq(registry.getNode(host).modelCount, 0);
    }

    function testFuzz_addRemoveModels(uint256 added, uint256 removed, uint256 salt) public {
        added = bound(added, 1, 63);
        removed = bound(removed, 1, added);
        salt = bound(salt, 0, type(uint128).max);
        _registerHost(host);
        bytes32[] memory models = _seq(added, salt);
        vm.prank(operator);
        registry.addModels(host, models);
        assertEq(registry.getNode(host).modelCount, added + 1);

        bytes32[] memory gone = new bytes32[](removed);
        for (uint256 i = 0; i < removed; ++i) {
            gone[i] = models[i];
        }
        vm.prank(host);
        registry.removeModels(host, gone);
        assertEq(registry.getNode(host).modelCount, added + 1 - removed);
        for (uint256 i = 0; i < added; ++i) {
            assertEq(registry.servesModel(host, models[i]), i >= removed);
        }
        assertTrue(registry.servesModel(host, MODEL));

        // Room is freed exactly: filling up to 64 works, one more does not.
        uint256 room = 64 - (added + 1 - removed);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.TooManyModels.selector, 65, 64));
        registry.addModels(host, _seq(room + 1, salt + 1));
        vm.prank(host);
        registry.addModels(host, _seq(room, salt + 1));
        assertEq(registry.getNode(host).modelCount, 64);
    }

    // ---- deregister -------------------------------------------------------------------------

    function test_deregister() public {
        _registerHost(host);
        vm.expectEmit(address(registry));
        emit INodeRegistry.NodeDeregistered(host);
        vm.prank(host);
        registry.deregister();
        _assertUnregistered(host);
        assertFalse(registry.servesModel(host, MODEL));
        assertFalse(registry.canServe(host, MODEL));
        assertFalse(registry.isAuthorized(host, operator));
        // The stake is Staking's business and stays where it is.
        assertEq(staking.activeStakeOf(host), MIN_STAKE);
    }

    function test_deregister_revertsWhenNotRegistered() public {
        vm.prank(host);
        vm.expectRevert(_notRegistered(host));
        registry.deregister();

        _registerHost(host);
        vm.prank(host);
        registry.deregister();
        vm.prank(host);
        vm.expectRevert(_notRegistered(host));
        registry.deregister();
    }

    function test_deregister_notByOperator() public {
        _registerHost(host);
        // The operator has no registration of its own: deregister acts on the caller only.
        vm.prank(operator);
        vm.expectRevert(_notRegistered(operator));
        registry.deregister();
        assertTrue(registry.isRegistered(host));
        assertEq(registry.operatorOf(host), operator);
    }

    function test_deregister_revertsWithClaimedJob() public {
        _registerHost(host);
        uint256 jobId = _claimedJob();
        assertEq(marketplace.activeJobsOf(host), 1);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 1));
        registry.deregister();

        uint256 second = _claimedJob();
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 2));
        registry.deregister();

        // Completed but unpaid, the jobs still hold the host: a dispute may yet come.
        _complete(jobId, OUTPUT);
        _complete(second, OUTPUT);
        assertEq(marketplace.activeJobsOf(host), 2);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 2));
        registry.deregister();
        // Still at the last second of the dispute window (nothing releasable yet).
        vm.warp(block.timestamp + 1 days);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 2));
        registry.deregister();

        // Once both are paid the host may leave.
        vm.warp(block.timestamp + 1);
        marketplace.releasePayments(_ids(jobId));
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 1));
        registry.deregister();
        marketplace.releasePayments(_ids(second));
        assertEq(marketplace.activeJobsOf(host), 0);
        vm.expectEmit(address(registry));
        emit INodeRegistry.NodeDeregistered(host);
        vm.prank(host);
        registry.deregister();
        assertFalse(registry.isRegistered(host));
    }

    function test_deregister_openJobDoesNotBlock() public {
        _registerHost(host);
        _createJob(); // open, not claimed by anyone
        vm.prank(host);
        registry.deregister();
        assertFalse(registry.isRegistered(host));
    }

    function test_deregister_afterExpiredJob() public {
        _registerHost(host);
        uint256 jobId = _claimedJob();
        vm.warp(marketplace.getJob(jobId).deadline + 1);
        marketplace.expireJob(jobId);
        assertEq(uint8(_status(jobId)), uint8(IJobMarketplace.Status.Expired));
        vm.prank(host);
        registry.deregister();
        assertFalse(registry.isRegistered(host));
    }

    /// @dev A disputed job holds the host; an upheld dispute ends it, a rejected one leaves it
    ///      Completed, holding the host until its payment is released.
    function test_deregister_revertsWithDisputedJob() public {
        _registerHost(host);
        uint256 upheld = _completedJob();
        uint256 rejected = _completedJob();
        uint256 windowEnd = block.timestamp + 1 days;
        vm.startPrank(renter);
        marketplace.disputeJob{value: 0.01 ether}(upheld, keccak256("evidence"));
        marketplace.disputeJob{value: 0.01 ether}(rejected, keccak256("evidence"));
        vm.stopPrank();
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 2));
        registry.deregister();

        slashing.resolveDispute(upheld, true);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 1));
        registry.deregister();

        slashing.resolveDispute(rejected, false);
        assertEq(uint8(_status(rejected)), uint8(IJobMarketplace.Status.Completed));
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 1));
        registry.deregister();

        vm.warp(windowEnd + 1);
        marketplace.releasePayments(_ids(rejected));
        vm.prank(host);
        registry.deregister();
        assertFalse(registry.isRegistered(host));
    }

    /// @dev An expired job ends at once, whether its host was slashed or excused by a pause.
    function test_deregister_afterJobExpiredInPause() public {
        _registerHost(host);
        uint256 jobId = _claimedJob();
        marketplace.pause();
        vm.warp(marketplace.getJob(jobId).deadline + 1);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 1));
        registry.deregister();
        marketplace.unpause();
        marketplace.expireJob(jobId);
        assertEq(staking.activeStakeOf(host), MIN_STAKE); // excused: the deadline fell in the pause
        vm.prank(host);
        registry.deregister();
        assertFalse(registry.isRegistered(host));
    }

    /// @dev A registry whose marketplace was never set has no job count to ask: deregistering
    ///      skips the check (the deployment always sets it; the zero address cannot be set).
    function test_deregister_registryWithoutMarketplaceSkipsJobCheck() public {
        NodeRegistry bare = new NodeRegistry(staking, admin);
        assertEq(address(bare.marketplace()), address(0));
        _registerHost(host);
        uint256 jobId = _claimedJob(); // active in the real marketplace
        assertEq(marketplace.activeJobsOf(host), 1);
        vm.prank(host);
        bare.register(ENDPOINT, REGION, _models(MODEL), PRICE_PER_TOKEN);
        vm.expectEmit(address(bare));
        emit INodeRegistry.NodeDeregistered(host);
        vm.prank(host);
        bare.deregister();
        assertFalse(bare.isRegistered(host));
        // the wired registry still refuses
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 1));
        registry.deregister();
        assertEq(uint8(_status(jobId)), uint8(IJobMarketplace.Status.Claimed));
    }

    function test_deregister_worksWhilePaused() public {
        _registerHost(host);
        registry.pause();
        vm.expectEmit(address(registry));
        emit INodeRegistry.NodeDeregistered(host);
        vm.prank(host);
        registry.deregister();
        assertFalse(registry.isRegistered(host));
    }

    // ---- re-registration (epoch-tagged models) ----------------------------------------------

    function test_reregister_forgetsOldModelsAndOperator() public {
        _stake(host, MIN_STAKE);
        vm.prank(host);
        registry.register(ENDPOINT, REGION, _two(MODEL, OTHER_MODEL), PRICE_PER_TOKEN);
        vm.prank(host);
        registry.setOperator(operator);
        vm.prank(host);
        registry.deregister();

        vm.warp(block.timestamp + 1 days);
        bytes32 m3 = keccak256("phi-3");
        vm.expectEmit(address(registry));
        emit INodeRegistry.NodeRegistered(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE, _models(m3));
        vm.prank(host);
        registry.register(NEW_ENDPOINT, NEW_REGION, _models(m3), NEW_PRICE);

        _assertNode(host, address(0), block.timestamp, block.timestamp, 1, NEW_PRICE, NEW_REGION, NEW_ENDPOINT);
        assertFalse(registry.servesModel(host, MODEL));
        assertFalse(registry.servesModel(host, OTHER_MODEL));
        assertFalse(registry.canServe(host, MODEL));
        assertTrue(registry.canServe(host, m3));
        assertFalse(registry.isAuthorized(host, operator));

        // Old models are really gone: not removable, and addable again.
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.ModelNotSupported.selector, MODEL));
        registry.removeModels(host, _models(MODEL));
        vm.expectEmit(address(registry));
        emit INodeRegistry.ModelAdded(host, MODEL);
        vm.prank(host);
        registry.addModels(host, _models(MODEL));
        assertTrue(registry.servesModel(host, MODEL));
        assertEq(registry.getNode(host).modelCount, 2);

        // The former operator lost its rights with the old registration.
        vm.prank(operator);
        vm.expectRevert(_notAuthorized(operator, host));
        registry.heartbeat(host);
    }

    function test_reregister_oldModelNotClaimable() public {
        _registerHost(host);
        vm.prank(host);
        registry.deregister();
        vm.prank(host);
        registry.register(ENDPOINT, REGION, _models(OTHER_MODEL), PRICE_PER_TOKEN);
        uint256 jobId = _createJob();
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.HostCannotServe.selector, host, MODEL));
        marketplace.claimJob(jobId, host);
    }

    function testFuzz_reregister_cycles(uint256 cycles) public {
        cycles = bound(cycles, 1, 6);
        _stake(host, MIN_STAKE);
        for (uint256 c = 0; c < cycles; ++c) {
            bytes32[] memory models = _seq(3, c);
            vm.prank(host);
            registry.register(ENDPOINT, REGION, models, PRICE_PER_TOKEN);
            assertEq(registry.getNode(host).modelCount, 3);
            // Only this cycle's models are served.
            for (uint256 k = 0; k <= c; ++k) {
                bytes32[] memory old = _seq(3, k);
                for (uint256 i = 0; i < 3; ++i) {
                    assertEq(registry.servesModel(host, old[i]), k == c);
                }
            }
            vm.prank(host);
            registry.deregister();
            assertFalse(registry.servesModel(host, models[0]));
        }
    }

    // ---- heartbeat --------------------------------------------------------------------------

    function test_heartbeat_byHostAndOperator() public {
        _registerHost(host);
        uint256 t0 = block.timestamp;
        vm.warp(t0 + 10 minutes);
        vm.expectEmit(address(registry));
        emit INodeRegistry.Heartbeat(host, uint40(t0 + 10 minutes));
        vm.prank(host);
        registry.heartbeat(host);
        _assertNode(host, operator, t0, t0 + 10 minutes, 1, PRICE_PER_TOKEN, REGION, ENDPOINT);

        vm.warp(t0 + 1 days);
        vm.expectEmit(address(registry));
        emit INodeRegistry.Heartbeat(host, uint40(t0 + 1 days));
        vm.prank(operator);
        registry.heartbeat(host);
        assertEq(registry.getNode(host).lastHeartbeat, t0 + 1 days);
        assertEq(registry.getNode(host).registeredAt, t0);
    }

    function test_heartbeat_revertsForOthers() public {
        _registerHost(host);
        vm.prank(stranger);
        vm.expectRevert(_notAuthorized(stranger, host));
        registry.heartbeat(host);
    }

    function test_heartbeat_revertsWhenNotRegistered() public {
        vm.prank(host);
        vm.expectRevert(_notRegistered(host));
        registry.heartbeat(host);
    }

    function test_heartbeat_worksWhilePaused() public {
        _registerHost(host);
        registry.pause();
        vm.warp(block.timestamp + 5);
        vm.expectEmit(address(registry));
        emit INodeRegistry.Heartbeat(host, uint40(block.timestamp));
        vm.prank(operator);
        registry.heartbeat(host);
        assertEq(registry.getNode(host).lastHeartbeat, block.timestamp);
    }

    // ---- setOperator ------------------------------------------------------------------------

    function test_setOperator() public {
        _register(host, _models(MODEL));
        vm.expectEmit(address(registry));
        emit INodeRegistry.OperatorSet(host, operator);
        vm.prank(host);
        registry.setOperator(operator);
        assertEq(registry.operatorOf(host), operator);
        assertEq(registry.getNode(host).operator, operator);
        assertTrue(registry.isAuthorized(host, operator));

        // Replacing it revokes the previous operator.
        address next = makeAddr("next-operator");
        vm.expectEmit(address(registry));
        emit INodeRegistry.OperatorSet(host, next);
        vm.prank(host);
        registry.setOperator(next);
        assertTrue(registry.isAuthorized(host, next));
        assertFalse(registry.isAuthorized(host, operator));
        vm.prank(operator);
        vm.expectRevert(_notAuthorized(operator, host));
        registry.heartbeat(host);
    }

    function test_setOperator_zeroClears() public {
        _registerHost(host);
        vm.expectEmit(address(registry));
        emit INodeRegistry.OperatorSet(host, address(0));
        vm.prank(host);
        registry.setOperator(address(0));
        assertEq(registry.operatorOf(host), address(0));
        assertFalse(registry.isAuthorized(host, operator));
        assertFalse(registry.isAuthorized(host, address(0)));
        vm.prank(operator);
        vm.expectRevert(_notAuthorized(operator, host));
        registry.updateNode(host, NEW_ENDPOINT, NEW_REGION, NEW_PRICE);
        vm.prank(operator);
        vm.expectRevert(_notAuthorized(operator, host));
        registry.addModels(host, _models(OTHER_MODEL));
        vm.prank(operator);
        vm.expectRevert(_notAuthorized(operator, host));
        registry.removeModels(host, _models(MODEL));
        // The host itself keeps its rights.
        vm.prank(host);
        registry.heartbeat(host);
    }

    function test_setOperator_revertsOnSelf() public {
        _registerHost(host);
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.InvalidOperator.selector, host));
        registry.setOperator(host);
        assertEq(registry.operatorOf(host), operator);
    }

    function test_setOperator_revertsWhenNotRegistered() public {
        vm.prank(host);
        vm.expectRevert(_notRegistered(host));
        registry.setOperator(operator);
    }

    function test_setOperator_notByOperator() public {
        _registerHost(host);
        // setOperator acts on the caller's own entry: the operator has none.
        vm.prank(operator);
        vm.expectRevert(_notRegistered(operator));
        registry.setOperator(stranger);
        assertEq(registry.operatorOf(host), operator);
    }

    function test_setOperator_worksWhilePaused() public {
        _register(host, _models(MODEL));
        registry.pause();
        vm.expectEmit(address(registry));
        emit INodeRegistry.OperatorSet(host, operator);
        vm.prank(host);
        registry.setOperator(operator);
        assertEq(registry.operatorOf(host), operator);
    }

    function testFuzz_setOperator(address op) public {
        _register(host, _models(MODEL));
        vm.prank(host);
        if (op == host) {
            vm.expectRevert(abi.encodeWithSelector(INodeRegistry.InvalidOperator.selector, host));
            registry.setOperator(op);
            assertEq(registry.operatorOf(host), address(0));
            return;
        }
        vm.expectEmit(address(registry));
        emit INodeRegistry.OperatorSet(host, op);
        registry.setOperator(op);
        assertEq(registry.operatorOf(host), op);
        assertEq(registry.isAuthorized(host, op), op != address(0));
        assertTrue(registry.isAuthorized(host, host));
        if (op != address(0) && op != stranger) assertFalse(registry.isAuthorized(host, stranger));
    }

    // ---- governance -------------------------------------------------------------------------

    function test_setMarketplace() public {
        address next = makeAddr("marketplace-2");
        vm.expectEmit(address(registry));
        emit INodeRegistry.MarketplaceSet(next);
        registry.setMarketplace(next);
        assertEq(address(registry.marketplace()), next);
    }

    function test_setMarketplace_revertsOnZero() public {
        vm.expectRevert(INodeRegistry.InvalidMarketplace.selector);
        registry.setMarketplace(address(0));
        assertEq(address(registry.marketplace()), address(marketplace));
        // nor on a registry that has none yet
        NodeRegistry bare = new NodeRegistry(staking, admin);
        vm.expectRevert(INodeRegistry.InvalidMarketplace.selector);
        bare.setMarketplace(address(0));
        assertEq(address(bare.marketplace()), address(0));
        // the job check therefore cannot be switched off once wired
        _registerHost(host);
        _claimedJob();
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(INodeRegistry.HasActiveJobs.selector, host, 1));
        registry.deregister();
    }

    function test_setMarketplace_onlyAdmin() public {
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, DEFAULT_ADMIN_ROLE));
        registry.setMarketplace(stranger);
        vm.prank(address(marketplace));
        vm.expectRevert(_unauthorized(address(marketplace), DEFAULT_ADMIN_ROLE));
        registry.setMarketplace(stranger);
        assertEq(address(registry.marketplace()), address(marketplace));
    }

    function test_pause_unpause() public {
        vm.expectEmit(address(registry));
        emit Pausable.Paused(admin);
        registry.pause();
        assertTrue(registry.paused());
        vm.expectRevert(Pausable.EnforcedPause.selector);
        registry.pause();

        vm.expectEmit(address(registry));
        emit Pausable.Unpaused(admin);
        registry.unpause();
        assertFalse(registry.paused());
        vm.expectRevert(Pausable.ExpectedPause.selector);
        registry.unpause();
    }

    function test_pause_onlyPauser() public {
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, PAUSER_ROLE));
        registry.pause();
        registry.pause();
        vm.prank(stranger);
        vm.expectRevert(_unauthorized(stranger, PAUSER_ROLE));
        registry.unpause();
        assertTrue(registry.paused());
    }

    // ---- views ------------------------------------------------------------------------------

    function test_isAuthorized() public {
        // Unregistered: only the host itself.
        assertTrue(registry.isAuthorized(host, host));
        assertFalse(registry.isAuthorized(host, operator));
        assertFalse(registry.isAuthorized(host, address(0)));
        _registerHost(host);
        assertTrue(registry.isAuthorized(host, host));
        assertTrue(registry.isAuthorized(host, operator));
        assertFalse(registry.isAuthorized(host, stranger));
        assertFalse(registry.isAuthorized(host, address(0)));
        // An operator is not authorized the other way round.
        assertFalse(registry.isAuthorized(operator, host));
    }

    function test_canServe_falseWhenStakeDropsBelowMinimum() public {
        _registerHost(host);
        assertTrue(registry.canServe(host, MODEL));
        vm.prank(host);
        staking.requestUnstake(1);
        assertFalse(registry.canServe(host, MODEL));
        // Still registered and still listing the model: only the stake is missing.
        assertTrue(registry.servesModel(host, MODEL));
        assertTrue(registry.isRegistered(host));
        uint256 jobId = _createJob();
        vm.prank(host);
        vm.expectRevert(abi.encodeWithSelector(IJobMarketplace.HostCannotServe.selector, host, MODEL));
        marketplace.claimJob(jobId, host);

        // Topping the stake up restores it.
        _stake(host, 1);
        assertTrue(registry.canServe(host, MODEL));
    }

    function test_canServe_falseAfterSlashOrHigherMinimum() public {
        _registerHost(host);
        vm.prank(address(slashing));
        staking.slash(host, 1, treasury);
        assertFalse(registry.canServe(host, MODEL));
        _stake(host, 1);
        assertTrue(registry.canServe(host, MODEL));
        staking.setMinimumStake(MIN_STAKE + 1);
        assertFalse(registry.canServe(host, MODEL));
    }

    function test_canServe_falseWhenUnregistered() public {
        _stake(host, MIN_STAKE);
        assertFalse(registry.canServe(host, MODEL));
        assertFalse(registry.servesModel(host, MODEL));
    }
}
