// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IJobMarketplace
/// @notice Renters post inference jobs and escrow the payment (ETH or an allow-listed ERC20);
///         a registered, staked host serving the model claims a job; the job completes only
///         through the proof system; the host is paid, by pull, after a dispute window.
/// @dev Job lifecycle (terminal states: Paid, Expired, Cancelled, Refunded):
///      Open -> Claimed -> Completed -> Paid
///      Open -> Cancelled (renter)            Open|Claimed -> Expired (anyone, after the deadline)
///      Completed -> Disputed -> Refunded (upheld) | Completed (rejected)
interface IJobMarketplace {
    enum Status {
        None,
        Open,
        Claimed,
        Completed,
        Disputed,
        Paid,
        Expired,
        Cancelled,
        Refunded
    }

    /// @notice A job as stored, unpacked. `token` is address(0) for ETH. `outputHash` is zero
    ///         until the job is completed. Its creation time is the block time of JobCreated.
    /// @notice One pause of the marketplace; `unpausedAt` is zero while it lasts.
    struct PauseWindow {
        uint40 pausedAt;
        uint40 unpausedAt;
    }

    struct Job {
        address renter;
        address host;
        address token;
        uint96 payment;
        uint16 feeBps;
        Status status;
        uint40 deadline;
        uint40 completedAt;
        bytes32 modelHash;
        bytes32 inputHash;
        bytes32 outputHash;
    }

    event JobCreated(
        uint256 indexed jobId,
        address indexed renter,
        bytes32 indexed modelHash,
        bytes32 inputHash,
        address token,
        uint96 payment,
        uint40 deadline,
        uint16 feeBps
    );
    event JobCancelled(uint256 indexed jobId);
    event JobClaimed(uint256 indexed jobId, address indexed host, address by);
    event JobCompleted(uint256 indexed jobId, address indexed host, bytes32 outputHash);
    event JobDisputed(uint256 indexed jobId, address indexed renter, bytes32 evidenceHash);
    event DisputeSettled(uint256 indexed jobId, bool upheld);
    event PaymentReleased(uint256 indexed jobId, address indexed host, address token, uint256 hostAmount, uint256 fee);
    /// @notice `slashed` is false for an unclaimed job and for a job claimed before a pause
    ///         whose deadline fell inside that pause or its grace period: a host is never
    ///         slashed for a pause.
    event JobExpired(uint256 indexed jobId, address indexed host, address by, uint256 refund, bool slashed);
    event Credited(address indexed account, address indexed token, uint256 amount);
    event Withdrawal(address indexed account, address indexed token, uint256 amount);
    event TokenAllowed(address indexed token, bool allowed);
    event ProtocolFeeSet(uint16 feeBps);
    event TreasurySet(address indexed treasury);
    event DisputeWindowSet(uint64 window);
    event MaxJobDurationSet(uint64 duration);
    event SlashingSet(address indexed slashing);

    error TokenNotAllowed(address token);
    error WrongPaymentValue(uint256 sent, uint256 expected);
    error ZeroPayment();
    error UnsupportedToken(address token);
    error ZeroHash();
    error InvalidDeadline(uint256 deadline);
    error UnknownJob(uint256 jobId);
    error WrongStatus(uint256 jobId, Status status);
    error NotRenter(uint256 jobId, address caller);
    error NotHostOrOperator(uint256 jobId, address caller);
    error HostCannotServe(address host, bytes32 modelHash);
    error JobExpiredAt(uint256 jobId, uint40 deadline);
    error DeadlineNotPassed(uint256 jobId, uint40 deadline);
    error DisputeWindowOpen(uint256 jobId, uint256 endsAt);
    error DisputeWindowClosed(uint256 jobId, uint256 endedAt);
    error AlreadyDisputed(uint256 jobId);
    error MixedHosts(uint256 jobId, address host, address expected);
    error EmptyJobList();
    error LengthMismatch();
    error NothingToWithdraw();
    error TransferFailed();
    error InvalidParameter();

    function createJob(bytes32 modelHash, bytes32 inputHash, address token, uint96 payment, uint40 deadline)
        external
        payable
        returns (uint256 jobId);
    function cancelJob(uint256 jobId) external;
    function claimJob(uint256 jobId, address host) external;
    /// @notice Proof-system role only: marks proven jobs completed with their output hashes.
    function completeJobs(address submitter, uint256[] calldata jobIds, bytes32[] calldata outputHashes)
        external
        returns (address host);
    function expireJob(uint256 jobId) external;
    function disputeJob(uint256 jobId, bytes32 evidenceHash) external payable;
    /// @notice Slashing contract only: the arbiter's ruling on a disputed job.
    function settleDispute(uint256 jobId, bool upheld) external;
    function releasePayments(uint256[] calldata jobIds) external;
    function withdraw(address token) external returns (uint256 amount);

    /// @notice Checks that `submitter` may complete `jobIds` now (all Claimed, before their
    ///         deadlines, one host, sent by the host or its operator) and returns what a proof
    ///         must commit to. Reverts with the reason otherwise.
    function proofContext(address submitter, uint256[] calldata jobIds)
        external
        view
        returns (address host, bytes32[] memory modelHashes, bytes32[] memory inputHashes);
    function getJob(uint256 jobId) external view returns (Job memory);
    function jobCount() external view returns (uint256);
    function claimable(address account, address token) external view returns (uint256);
    /// @notice Jobs of `host` not yet final: claimed, completed but unpaid, or disputed. While
    ///         it is non-zero the host cannot deregister or withdraw stake.
    function activeJobsOf(address host) external view returns (uint256);
    function disputeWindow() external view returns (uint64);
    /// @notice When the dispute window of a completed job ends: `completedAt + disputeWindow`,
    ///         moved to the end of a pause's grace period when it falls inside one, so a pause
    ///         never costs a renter the right to dispute.
    function disputeWindowEnd(uint256 jobId) external view returns (uint256);
    function pauseCount() external view returns (uint256);
    function pauseWindow(uint256 index) external view returns (PauseWindow memory);
}
