// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ISlashing} from "./ISlashing.sol";

/// @title IJobMarketplace
/// @notice Renters post inference jobs and escrow the payment (ETH or an allow-listed ERC20),
///         on the open market or as a direct offer to one host, optionally with a minimum
///         reputation; a registered, staked host serving the model claims a job; the job
///         completes only through the proof system; the host is paid, by pull, after a dispute
///         window. Reputation moves when a payment is released, weighted by the protocol fee
///         the renter paid, never at completion, and never for a job its host rented itself.
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

    /// @notice One pause of the marketplace; `unpausedAt` is zero while it lasts without a
    ///         planned end (a guardian pause has one from the start).
    struct PauseWindow {
        uint40 pausedAt;
        uint40 unpausedAt;
    }

    /// @notice A job as stored, unpacked. `token` is address(0) for ETH. `host` is, while Open,
    ///         the host the job is offered to (zero: the open market), and from the claim on the
    ///         host that claimed it (zero again for a job cancelled or expired unclaimed).
    ///         `operator` is the host's operator at claim, whose signatures stay evidence for
    ///         this job. `fee` is the protocol fee fixed at creation (non-refundable once the
    ///         payment is released). `outputHash` and `completedAt` are zero until completion.
    ///         `dispute` is the job's dispute state (None if never disputed). Its creation time
    ///         is the block time of JobCreated.
    struct Job {
        address renter;
        address host;
        address operator;
        address token;
        uint96 payment;
        uint96 fee;
        Status status;
        uint40 deadline;
        uint40 completedAt;
        uint16 minReputation;
        ISlashing.DisputeStatus dispute;
        bytes32 modelHash;
        bytes32 inputHash;
        bytes32 outputHash;
    }

    /// @notice Per asset: every job pays at least `minFee` in protocol fee; a job whose fee is
    ///         `creditFee` or more earns a full completion's reputation, less earns pro rata, and
    ///         an asset with `creditFee == 0` earns none.
    struct AssetFees {
        uint96 minFee;
        uint96 creditFee;
    }

    event JobCreated(
        uint256 indexed jobId,
        address indexed renter,
        bytes32 indexed modelHash,
        bytes32 inputHash,
        address token,
        uint96 payment,
        uint40 deadline,
        uint96 fee,
        address offeredHost,
        uint16 minReputation
    );
    event JobCancelled(uint256 indexed jobId);
    /// @notice `by` sent the claim (the host or its operator); `operator` is recorded on the job.
    event JobClaimed(uint256 indexed jobId, address indexed host, address by, address operator);
    event JobCompleted(uint256 indexed jobId, address indexed host, bytes32 outputHash);
    event JobDisputed(uint256 indexed jobId, address indexed renter, bytes32 evidenceHash);
    /// @notice `outcome` is Upheld (refunded), Rejected or Lapsed (both back to Completed).
    event DisputeSettled(uint256 indexed jobId, ISlashing.DisputeStatus outcome);
    /// @notice `reputationWeight` is what this job adds to its host's reputation, in basis
    ///         points of one full completion (0: self-dealt, disputed without a rejection, or an
    ///         asset without a credit fee).
    event PaymentReleased(
        uint256 indexed jobId,
        address indexed host,
        address token,
        uint256 hostAmount,
        uint256 fee,
        uint256 reputationWeight
    );
    /// @notice `slashed` is false for an unclaimed job and for a job claimed before a pause
    ///         whose deadline fell inside that pause or its grace period: a host is never
    ///         slashed for a pause.
    event JobExpired(uint256 indexed jobId, address indexed host, address by, uint256 refund, bool slashed);
    event Credited(address indexed account, address indexed token, uint256 amount);
    event Withdrawal(address indexed account, address indexed token, uint256 amount);
    event TokenAllowed(address indexed token, bool allowed);
    event AssetFeesSet(address indexed token, uint96 minFee, uint96 creditFee);
    event ProtocolFeeSet(uint16 feeBps);
    event TreasurySet(address indexed treasury);
    event DisputeWindowSet(uint64 window);
    event MaxJobDurationSet(uint64 duration);
    event SlashingSet(address indexed slashing);

    error TokenNotAllowed(address token);
    error WrongPaymentValue(uint256 sent, uint256 expected);
    error ZeroPayment();
    /// @notice The payment does not cover the protocol fee it owes.
    error PaymentBelowFee(uint256 payment, uint256 fee);
    error UnsupportedToken(address token);
    error ZeroHash();
    error InvalidDeadline(uint256 deadline);
    error InvalidMinReputation(uint16 minReputation);
    error UnknownJob(uint256 jobId);
    error WrongStatus(uint256 jobId, Status status);
    error NotRenter(uint256 jobId, address caller);
    error NotHostOrOperator(uint256 jobId, address caller);
    error NotOfferedHost(uint256 jobId, address host, address offeredHost);
    error ReputationTooLow(address host, uint16 score, uint16 required);
    error HostCannotServe(address host, bytes32 modelHash);
    error JobExpiredAt(uint256 jobId, uint40 deadline);
    error DeadlineNotPassed(uint256 jobId, uint40 deadline);
    error DisputeWindowOpen(uint256 jobId, uint256 endsAt);
    error DisputeWindowClosed(uint256 jobId, uint256 endedAt);
    error AlreadyDisputed(uint256 jobId);
    error InvalidOutcome();
    error MixedHosts(uint256 jobId, address host, address expected);
    error EmptyJobList();
    error LengthMismatch();
    error NothingToWithdraw();
    error TransferFailed();
    error InvalidParameter();

    /// @notice Escrows `payment` for a job. `offeredHost` non-zero makes it a direct offer only
    ///         that host may claim; `minReputation` non-zero admits only hosts whose score
    ///         (`ReputationRegistry.scoreOf`, without stake boost) reaches it.
    /// @dev Emits `JobCreated`. Reverts with `ZeroHash`, `ZeroPayment`, `InvalidDeadline`,
    ///      `InvalidMinReputation`, `WrongPaymentValue`, `TokenNotAllowed`, `PaymentBelowFee`,
    ///      `UnsupportedToken` (fee-on-transfer), `EnforcedPause`.
    function createJob(
        bytes32 modelHash,
        bytes32 inputHash,
        address token,
        uint96 payment,
        uint40 deadline,
        address offeredHost,
        uint16 minReputation
    ) external payable returns (uint256 jobId);
    /// @notice Renter only, Open jobs: the escrow is credited back in full. Not pausable.
    /// @dev Emits `JobCancelled`, `Credited`. Reverts with `UnknownJob`, `NotRenter`, `WrongStatus`.
    function cancelJob(uint256 jobId) external;
    /// @notice The host (or its operator) takes an Open job before its deadline.
    /// @dev Emits `JobClaimed`. Reverts with `UnknownJob`, `WrongStatus`, `JobExpiredAt`,
    ///      `NotHostOrOperator`, `NotOfferedHost`, `HostCannotServe`, `ReputationTooLow`,
    ///      `EnforcedPause`.
    function claimJob(uint256 jobId, address host) external;
    /// @notice Proof-system role only: marks proven jobs completed with their output hashes.
    /// @dev Emits `JobCompleted` per job. Reverts with `LengthMismatch`, `ZeroHash`, the checks
    ///      of `proofContext`, `EnforcedPause`.
    function completeJobs(address submitter, uint256[] calldata jobIds, bytes32[] calldata outputHashes)
        external
        returns (address host);
    /// @notice Anyone, Open or Claimed jobs past their deadline: refunds the renter; a claimed
    ///         job also slashes its host unless a pause excuses the deadline. Never paused, so a
    ///         pause cannot hold a refund.
    /// @dev Emits `JobExpired`, `Credited` (and `Slashed`, `ReputationChanged`). Reverts with
    ///      `UnknownJob`, `WrongStatus`, `DeadlineNotPassed`.
    function expireJob(uint256 jobId) external;
    /// @notice Renter only, Completed jobs inside the dispute window, once per job, with the bond.
    /// @dev Emits `JobDisputed` (and `DisputeOpened`). Reverts with `UnknownJob`, `NotRenter`,
    ///      `WrongStatus`, `ZeroHash`, `AlreadyDisputed`, `DisputeWindowClosed`, `WrongBond`,
    ///      `EnforcedPause`.
    function disputeJob(uint256 jobId, bytes32 evidenceHash) external payable;
    /// @notice Slashing contract only: how a dispute ended (Upheld, Rejected or Lapsed).
    /// @dev Emits `DisputeSettled` (and `Credited` when upheld). Reverts with `UnknownJob`,
    ///      `WrongStatus`, `InvalidOutcome`.
    function settleDispute(uint256 jobId, ISlashing.DisputeStatus outcome) external;
    /// @notice Anyone: pays Completed jobs whose dispute window is over and credits their
    ///         hosts' reputation by the fees paid.
    /// @dev Emits `PaymentReleased`, `Credited` per job (and `ReputationChanged` per host run).
    ///      Reverts with `EmptyJobList`, `UnknownJob`, `WrongStatus`, `DisputeWindowOpen`.
    function releasePayments(uint256[] calldata jobIds) external;
    /// @dev Emits `Withdrawal`. Reverts with `NothingToWithdraw`, `TransferFailed`.
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
    ///         it is non-zero the host cannot deregister, and Staking keeps the stake these jobs
    ///         could cost slashable.
    function activeJobsOf(address host) external view returns (uint256);
    /// @notice Jobs of every host not yet final (a marketplace with none may leave Staking's list).
    function totalActiveJobs() external view returns (uint256);
    /// @notice The slashing contract in force (it sizes Staking's withdrawal lock).
    function slashing() external view returns (ISlashing);
    function disputeWindow() external view returns (uint64);
    /// @notice When the dispute window of a completed job ends: `completedAt + disputeWindow`,
    ///         moved to the end of a pause's grace period when it falls inside one, so a pause
    ///         never costs a renter the right to dispute.
    function disputeWindowEnd(uint256 jobId) external view returns (uint256);
    function pauseCount() external view returns (uint256);
    function pauseWindow(uint256 index) external view returns (PauseWindow memory);
    function assetFees(address token) external view returns (AssetFees memory);
    /// @notice The protocol fee a job paying `payment` in `token` would owe now:
    ///         max(payment x protocolFeeBps / 10,000 rounded up, the asset's minFee).
    function feeFor(address token, uint256 payment) external view returns (uint256);
}
