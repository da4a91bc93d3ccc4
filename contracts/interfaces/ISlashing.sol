// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title ISlashing
/// @notice Punishes provable misbehaviour by taking stake: a missed deadline (default 5%), an
///         upheld dispute (10%) and equivocation (20%), each capped per incident. The slashed
///         tokens go partly to whoever was harmed (the renter: 50%) or reported (the reporter of
///         an equivocation: 10%, small so a host reporting itself still loses 18%), the rest to
///         the treasury. Disputes carry a bond and are ruled on by the arbiter role (governance).
interface ISlashing {
    enum Reason {
        MissedDeadline,
        DisputeUpheld,
        Equivocation
    }

    enum DisputeStatus {
        None,
        Open,
        Upheld,
        Rejected
    }

    struct Dispute {
        address renter;
        address host;
        uint96 bond;
        uint40 openedAt;
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
    event DisputeOpened(uint256 indexed jobId, address indexed renter, address indexed host, uint256 bond, bytes32 evidenceHash);
    event DisputeResolved(uint256 indexed jobId, bool upheld, address arbiter);
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
    event TreasurySet(address indexed treasury);

    error WrongBond(uint256 sent, uint256 required);
    error DisputeExists(uint256 jobId);
    error NoOpenDispute(uint256 jobId);
    error SameOutput();
    error InvalidSigner(address signer, address host);
    error NotJobHost(uint256 jobId, address host);
    error AlreadyReported(uint256 jobId);
    error NothingToWithdraw();
    error TransferFailed();
    error InvalidParameter();

    /// @notice Marketplace only: records a dispute, holding its bond (msg.value).
    function openDispute(uint256 jobId, address renter, address host, bytes32 evidenceHash) external payable;
    /// @notice Arbiter only: upheld slashes the host and refunds the renter (bond back);
    ///         rejected returns the job to Completed and pays the bond to the host.
    function resolveDispute(uint256 jobId, bool upheld) external;
    /// @notice Marketplace only: slashes the host of an expired job; the renter is the beneficiary.
    function slashMissedDeadline(address host, uint256 jobId, address renter) external returns (uint256 amount);
    /// @notice Anyone: two EIP-712 `Result(uint256 jobId,bytes32 outputHash)` signatures by the
    ///         job's host (or its operator) over different outputs. The reporter is rewarded.
    function reportEquivocation(
        address host,
        uint256 jobId,
        bytes32 outputA,
        bytes calldata signatureA,
        bytes32 outputB,
        bytes calldata signatureB
    ) external returns (uint256 amount);
    function withdrawBond() external returns (uint256 amount);

    function resultDigest(uint256 jobId, bytes32 outputHash) external view returns (bytes32);
    function slashAmount(address host, Reason reason) external view returns (uint256);
    function getDispute(uint256 jobId) external view returns (Dispute memory);
    function bondBalance(address account) external view returns (uint256);
    function disputeBond() external view returns (uint256);
}
