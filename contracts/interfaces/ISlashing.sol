// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISlashing
/// @notice Punishes provable misbehaviour by taking stake: a missed deadline (default 5%), an
///         upheld dispute (10%) and equivocation (20%), each capped per incident. The slashed
///         tokens go partly to whoever was harmed (the renter: 50%) or reported (the reporter of
///         an equivocation: 10%, small so a host reporting itself still loses 18%), the rest to
///         the treasury. Disputes carry a bond and are ruled on by the arbiter role (governance,
///         or an arbitration council it appoints) before a ruling deadline; after it, anyone may
///         close the dispute as lapsed (see `closeLapsedDispute`).
interface ISlashing {
    enum Reason {
        MissedDeadline,
        DisputeUpheld,
        Equivocation
    }

    /// @notice Lapsed: nobody ruled before the deadline (see `closeLapsedDispute`).
    enum DisputeStatus {
        None,
        Open,
        Upheld,
        Rejected,
        Lapsed
    }

    /// @notice `ruleBy`: the ruling deadline, fixed when the dispute opens.
    struct Dispute {
        address renter;
        uint96 bond;
        address host;
        uint40 openedAt;
        uint40 ruleBy;
        DisputeStatus status;
        bytes32 evidenceHash;
    }

    event Slashed(
        address indexed host,
        Reason indexed reason,
        uint256 indexed jobId,
        uint256 amount,
        address beneficiary,
        uint256 beneficiaryShare,
        uint256 treasuryShare
    );
    event DisputeOpened(
        uint256 indexed jobId,
        address indexed renter,
        address indexed host,
        uint256 bond,
        bytes32 evidenceHash,
        uint40 ruleBy
    );
    event DisputeResolved(uint256 indexed jobId, bool upheld, address arbiter);
    /// @notice Nobody ruled by the deadline; `closedBy` closed it (the bond went to the host).
    event DisputeLapsed(uint256 indexed jobId, address indexed closedBy);
    event EquivocationProven(
        uint256 indexed jobId, address indexed host, address indexed reporter, bytes32 outputA, bytes32 outputB
    );
    event BondCredited(address indexed account, uint256 amount);
    event BondWithdrawn(address indexed account, uint256 amount);
    event SlashRateSet(Reason indexed reason, uint16 rateBps);
    event MaxSlashPerIncidentSet(uint256 amount);
    event BeneficiaryShareSet(uint16 shareBps);
    event ReporterShareSet(uint16 shareBps);
    event DisputeBondSet(uint256 bond);
    event RulingPeriodSet(uint64 period);
    event TreasurySet(address indexed treasury);

    error WrongBond(uint256 sent, uint256 required);
    error DisputeExists(uint256 jobId);
    error NoOpenDispute(uint256 jobId);
    error RulingDeadlinePassed(uint256 jobId, uint40 ruleBy);
    error RulingDeadlineNotPassed(uint256 jobId, uint40 ruleBy);
    error SameOutput();
    error InvalidSigner(address signer, address host);
    /// @notice `host` is not the host that claimed `jobId` (or the job was never claimed).
    error NotJobHost(uint256 jobId, address host);
    error AlreadyReported(uint256 jobId);
    error NothingToWithdraw();
    error TransferFailed();
    error InvalidParameter();

    /// @notice Marketplace only: records a dispute, holding its bond (msg.value), with the
    ///         ruling deadline `now + rulingPeriod`.
    /// @dev Emits `DisputeOpened`. Reverts with `WrongBond`, `DisputeExists`.
    function openDispute(uint256 jobId, address renter, address host, bytes32 evidenceHash) external payable;
    /// @notice Arbiter only, before the ruling deadline: upheld refunds the renter (bond back),
    ///         slashes the host and lowers its reputation; rejected returns the job to Completed
    ///         (its payment, when released, credits reputation) and pays the bond to the host.
    /// @dev Emits `DisputeResolved` (and `BondCredited`, `Slashed` when upheld). Reverts with
    ///      `NoOpenDispute`, `RulingDeadlinePassed`.
    function resolveDispute(uint256 jobId, bool upheld) external;
    /// @notice Anyone, after the ruling deadline of an open dispute: closes it as lapsed. The
    ///         default outcome: the job returns to Completed and its payment is released to the
    ///         host as usual (the proof stands and nothing was shown against it), but the job
    ///         earns no reputation; the bond goes to the host, which waited for its money; nobody
    ///         is slashed. A renter cannot make a dispute it cannot win profitable (it costs the
    ///         bond), and a host cannot cause a lapse (the arbiter rules before the deadline).
    /// @dev Emits `DisputeLapsed`, `BondCredited`. Reverts with `NoOpenDispute`,
    ///      `RulingDeadlineNotPassed`.
    function closeLapsedDispute(uint256 jobId) external;
    /// @notice Marketplace only: slashes the host of an expired job; the renter is the beneficiary.
    /// @dev Emits `Slashed`.
    function slashMissedDeadline(address host, uint256 jobId, address renter) external returns (uint256 amount);
    /// @notice Anyone: two EIP-712 `Result(uint256 jobId,bytes32 outputHash)` signatures over
    ///         different outputs for a claimed job, each by its host, by the operator recorded
    ///         on the job at claim, or by the host's current operator. The reporter is rewarded.
    ///         Rotating the operator or deregistering does not void the evidence.
    /// @dev Emits `EquivocationProven`, `Slashed`. Reverts with `SameOutput`, `AlreadyReported`,
    ///      `NotJobHost`, `InvalidSigner`, `EnforcedPause`.
    function reportEquivocation(
        address host,
        uint256 jobId,
        bytes32 outputA,
        bytes calldata signatureA,
        bytes32 outputB,
        bytes calldata signatureB
    ) external returns (uint256 amount);
    /// @dev Emits `BondWithdrawn`. Reverts with `NothingToWithdraw`, `TransferFailed`.
    function withdrawBond() external returns (uint256 amount);

    function resultDigest(uint256 jobId, bytes32 outputHash) external view returns (bytes32);
    function slashAmount(address host, Reason reason) external view returns (uint256);
    /// @notice The largest single slash `host` can suffer now (over every reason, capped): what
    ///         one unfinished job keeps locked in Staking.
    function maxSlashAmount(address host) external view returns (uint256);
    function rulingPeriod() external view returns (uint64);
    function getDispute(uint256 jobId) external view returns (Dispute memory);
    function bondBalance(address account) external view returns (uint256);
    function disputeBond() external view returns (uint256);
}
