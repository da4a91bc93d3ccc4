// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title INodeRegistry
/// @notice Hosts announce where they serve which models at what price. Registration needs the
///         minimum stake. An optional operator (the keeper's hot key) may act for the host so the
///         staking key can stay cold. Heartbeats show liveness; being offline is never slashed.
interface INodeRegistry {
    /// @notice A host's entry. `registeredAt` is zero when the host is not registered.
    ///         `pricePerToken` is the host's advertised price (wei per output token), for renters
    ///         choosing a host; a job pays what its renter escrowed.
    struct Node {
        address operator;
        uint40 registeredAt;
        uint40 lastHeartbeat;
        uint16 modelCount;
        uint96 pricePerToken;
        bytes16 region;
        string endpoint;
    }

    event NodeRegistered(
        address indexed host, string endpoint, bytes16 region, uint96 pricePerToken, bytes32[] models
    );
    event NodeUpdated(address indexed host, string endpoint, bytes16 region, uint96 pricePerToken);
    event ModelAdded(address indexed host, bytes32 indexed modelHash);
    event ModelRemoved(address indexed host, bytes32 indexed modelHash);
    event NodeDeregistered(address indexed host);
    event Heartbeat(address indexed host, uint40 at);
    event OperatorSet(address indexed host, address indexed operator);
    event MarketplaceSet(address indexed marketplace);

    error AlreadyRegistered(address host);
    error NotRegistered(address host);
    error NotAuthorized(address caller, address host);
    error InsufficientStake(address host, uint256 stake, uint256 required);
    error HasActiveJobs(address host, uint256 activeJobs);
    error InvalidEndpoint();
    error NoModels();
    error TooManyModels(uint256 count, uint256 max);
    error ZeroModelHash();
    error ModelAlreadySupported(bytes32 modelHash);
    error ModelNotSupported(bytes32 modelHash);
    error InvalidOperator(address operator);
    error InvalidMarketplace();

    function register(string calldata endpoint, bytes16 region, bytes32[] calldata models, uint96 pricePerToken)
        external;
    function updateNode(address host, string calldata endpoint, bytes16 region, uint96 pricePerToken) external;
    function addModels(address host, bytes32[] calldata models) external;
    function removeModels(address host, bytes32[] calldata models) external;
    function deregister() external;
    function heartbeat(address host) external;
    function setOperator(address operator) external;
    function setMarketplace(address marketplace) external;

    function getNode(address host) external view returns (Node memory);
    function isRegistered(address host) external view returns (bool);
    function servesModel(address host, bytes32 modelHash) external view returns (bool);
    function operatorOf(address host) external view returns (address);
    /// @notice True when `caller` is `host` or the host's operator.
    function isAuthorized(address host, address caller) external view returns (bool);
    /// @notice Registered, serves `modelHash` and holds the minimum stake: may take such a job.
    function canServe(address host, bytes32 modelHash) external view returns (bool);
}
