// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {PauseControl} from "./utils/PauseControl.sol";
import {INodeRegistry} from "./interfaces/INodeRegistry.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {IJobMarketplace} from "./interfaces/IJobMarketplace.sol";

/// @title NodeRegistry
/// @notice Where hosts announce their endpoint, region, models and price.
/// @dev Storage is packed for a cheap `register` (three slots plus one per model). A host's
///      models live in a mapping tagged with the registration epoch, so deregistering forgets
///      them all without iterating: only tags equal to the current epoch count.
contract NodeRegistry is INodeRegistry, AccessControl, PauseControl {

    uint256 public constant MAX_MODELS = 64;
    uint256 public constant MAX_ENDPOINT_LENGTH = 256;

    struct Record {
        // slot 0
        address operator;
        uint40 registeredAt;
        uint40 lastHeartbeat;
        uint16 modelCount;
        // slot 1
        uint96 pricePerToken;
        bytes16 region;
        uint32 epoch;
        // slot 2..
        string endpoint;
    }

    IStaking public immutable staking;
    IJobMarketplace public marketplace;

    mapping(address host => Record) private _records;
    mapping(address host => mapping(bytes32 modelHash => uint32 epoch)) private _modelEpoch;

    constructor(IStaking staking_, address admin) {
        staking = staking_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
    }

    modifier onlyHostOrOperator(address host) {
        if (msg.sender != host && msg.sender != _records[host].operator) revert NotAuthorized(msg.sender, host);
        if (_records[host].registeredAt == 0) revert NotRegistered(host);
        _;
    }

    /// @inheritdoc INodeRegistry
    function register(string calldata endpoint, bytes16 region, bytes32[] calldata models, uint96 pricePerToken)
        external
        override
        whenNotPaused
    {
        Record storage r = _records[msg.sender];
        if (r.registeredAt != 0) revert AlreadyRegistered(msg.sender);
        uint256 stake = staking.activeStakeOf(msg.sender);
        uint256 required = staking.minimumStake();
        if (stake < required) revert InsufficientStake(msg.sender, stake, required);
        _checkEndpoint(endpoint);
        if (models.length == 0) revert NoModels();

        uint32 epoch = r.epoch + 1;
        r.registeredAt = uint40(block.timestamp);
        r.lastHeartbeat = uint40(block.timestamp);
        r.pricePerToken = pricePerToken;
        r.region = region;
        r.epoch = epoch;
        r.endpoint = endpoint;
        r.modelCount = _addModels(msg.sender, epoch, 0, models, false);
        emit NodeRegistered(msg.sender, endpoint, region, pricePerToken, models);
    }

    /// @inheritdoc INodeRegistry
    function updateNode(address host, string calldata endpoint, bytes16 region, uint96 pricePerToken)
        external
        override
        whenNotPaused
        onlyHostOrOperator(host)
    {
        _checkEndpoint(endpoint);
        Record storage r = _records[host];
        r.pricePerToken = pricePerToken;
        r.region = region;
        r.endpoint = endpoint;
        emit NodeUpdated(host, endpoint, region, pricePerToken);
    }

    /// @inheritdoc INodeRegistry
    function addModels(address host, bytes32[] calldata models)
        external
        override
        whenNotPaused
        onlyHostOrOperator(host)
    {
        if (models.length == 0) revert NoModels();
        Record storage r = _records[host];
        r.modelCount = _addModels(host, r.epoch, r.modelCount, models, true);
    }

    /// @inheritdoc INodeRegistry
    function removeModels(address host, bytes32[] calldata models) external override onlyHostOrOperator(host) {
        if (models.length == 0) revert NoModels();
        Record storage r = _records[host];
        uint32 epoch = r.epoch;
        for (uint256 i = 0; i < models.length; ++i) {
            bytes32 m = models[i];
            if (_modelEpoch[host][m] != epoch) revert ModelNotSupported(m);
            delete _modelEpoch[host][m];
            emit ModelRemoved(host, m);
        }
        r.modelCount -= uint16(models.length);
    }

    /// @inheritdoc INodeRegistry
    /// @dev Only the host's own (staking) key may leave, and only with no job in flight.
    function deregister() external override {
        Record storage r = _records[msg.sender];
        if (r.registeredAt == 0) revert NotRegistered(msg.sender);
        if (address(marketplace) != address(0)) {
            uint256 active = marketplace.activeJobsOf(msg.sender);
            if (active != 0) revert HasActiveJobs(msg.sender, active);
        }
        uint32 epoch = r.epoch; // kept, so models of this registration stay forgotten
        delete _records[msg.sender];
        r.epoch = epoch;
        emit NodeDeregistered(msg.sender);
    }

    /// @inheritdoc INodeRegistry
    function heartbeat(address host) external override onlyHostOrOperator(host) {
        uint40 at = uint40(block.timestamp);
        _records[host].lastHeartbeat = at;
        emit Heartbeat(host, at);
    }

    /// @inheritdoc INodeRegistry
    /// @dev The zero address removes the operator.
    function setOperator(address operator) external override {
        Record storage r = _records[msg.sender];
        if (r.registeredAt == 0) revert NotRegistered(msg.sender);
        if (operator == msg.sender) revert InvalidOperator(operator);
        r.operator = operator;
        emit OperatorSet(msg.sender, operator);
    }

    // ---- governance -------------------------------------------------------------------------

    function setMarketplace(address marketplace_) external override onlyRole(DEFAULT_ADMIN_ROLE) {
        if (marketplace_ == address(0)) revert InvalidMarketplace();
        marketplace = IJobMarketplace(marketplace_);
        emit MarketplaceSet(marketplace_);
    }


    // ---- views ------------------------------------------------------------------------------

    function getNode(address host) external view override returns (Node memory node) {
        Record storage r = _records[host];
        node = Node({
            operator: r.operator,
            registeredAt: r.registeredAt,
            lastHeartbeat: r.lastHeartbeat,
            modelCount: r.modelCount,
            pricePerToken: r.pricePerToken,
            region: r.region,
            endpoint: r.endpoint
        });
    }

    function isRegistered(address host) public view override returns (bool) {
        return _records[host].registeredAt != 0;
    }

    function servesModel(address host, bytes32 modelHash) public view override returns (bool) {
        Record storage r = _records[host];
        return r.registeredAt != 0 && _modelEpoch[host][modelHash] == r.epoch;
    }

    function operatorOf(address host) external view override returns (address) {
        return _records[host].operator;
    }

    function isAuthorized(address host, address caller) external view override returns (bool) {
        return caller == host || (caller != address(0) && caller == _records[host].operator);
    }

    function canServe(address host, bytes32 modelHash) external view override returns (bool) {
        return servesModel(host, modelHash) && staking.hasMinimumStake(host);
    }

    // ---- internals --------------------------------------------------------------------------

    /// @dev `announce` emits ModelAdded per model; registration lists them in NodeRegistered.
    function _addModels(address host, uint32 epoch, uint256 count, bytes32[] calldata models, bool announce)
        private
        returns (uint16)
    {
        count += models.length;
        if (count > MAX_MODELS) revert TooManyModels(count, MAX_MODELS);
        for (uint256 i = 0; i < models.length; ++i) {
            bytes32 m = models[i];
            if (m == bytes32(0)) revert ZeroModelHash();
            if (_modelEpoch[host][m] == epoch) revert ModelAlreadySupported(m);
            _modelEpoch[host][m] = epoch;
            if (announce) emit ModelAdded(host, m);
        }
        return uint16(count);
    }

    function _checkEndpoint(string calldata endpoint) private pure {
        uint256 n = bytes(endpoint).length;
        if (n == 0 || n > MAX_ENDPOINT_LENGTH) revert InvalidEndpoint();
    }
}
