// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {PauseControl} from "./utils/PauseControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ISlashing} from "./interfaces/ISlashing.sol";
import {IStaking} from "./interfaces/IStaking.sol";
import {INodeRegistry} from "./interfaces/INodeRegistry.sol";
import {IReputationRegistry} from "./interfaces/IReputationRegistry.sol";
import {IJobMarketplace} from "./interfaces/IJobMarketplace.sol";

/// @title Slashing
/// @notice Every slash in the protocol goes through here: it takes the stake from `Staking`
///         (it alone holds the slasher role there) and splits it between the harmed party or
///         reporter and the treasury. It also holds dispute bonds until the arbiter rules.
contract Slashing is ISlashing, AccessControl, PauseControl, ReentrancyGuardTransient, EIP712 {
    using SafeERC20 for IERC20;

    bytes32 public constant ARBITER_ROLE = keccak256("ARBITER_ROLE");
    bytes32 public constant MARKETPLACE_ROLE = keccak256("MARKETPLACE_ROLE");
    /// @notice What a host (or its operator) signs for each result it hands to a renter.
    bytes32 public constant RESULT_TYPEHASH = keccak256("Result(uint256 jobId,bytes32 outputHash)");

    uint16 public constant MAX_RATE_BPS = 5000;
    uint64 public constant MIN_RULING_PERIOD = 1 days;
    uint64 public constant MAX_RULING_PERIOD = 90 days;
    uint16 private constant BPS = 10_000;
    /// @dev ReputationRegistry's weight of one full outcome.
    uint256 private constant FULL_WEIGHT = 10_000;

    IStaking public immutable staking;
    IERC20 public immutable token;
    INodeRegistry public immutable registry;
    IReputationRegistry public immutable reputation;
    IJobMarketplace public immutable marketplace;

    address public treasury;
    uint256 public maxSlashPerIncident = 10_000 ether;
    /// @notice Share of a slash for the harmed renter (missed deadline, upheld dispute).
    uint16 public beneficiaryShareBps = 5000;
    /// @notice Share of an equivocation slash for its reporter. Anyone may report, the host
    ///         too, so this share is what a self-reporting host gets back.
    uint16 public reporterShareBps = 1000;
    uint256 public override disputeBond = 0.01 ether;
    /// @notice How long the arbiter has to rule on a dispute; longer than a governance vote
    ///         (8 days at the defaults) so governance itself can rule in time.
    uint64 public override rulingPeriod = 14 days;
    mapping(Reason => uint16) public slashRateBps;

    mapping(uint256 jobId => Dispute) private _disputes;
    mapping(uint256 jobId => bool) public equivocationReported;
    mapping(address account => uint256) private _bonds;

    constructor(
        IStaking staking_,
        INodeRegistry registry_,
        IReputationRegistry reputation_,
        IJobMarketplace marketplace_,
        address treasury_,
        address admin
    ) EIP712("Vouch Slashing", "1") {
        if (treasury_ == address(0)) revert InvalidParameter();
        staking = staking_;
        token = staking_.token();
        registry = registry_;
        reputation = reputation_;
        marketplace = marketplace_;
        treasury = treasury_;
        slashRateBps[Reason.MissedDeadline] = 500;
        slashRateBps[Reason.DisputeUpheld] = 1000;
        slashRateBps[Reason.Equivocation] = 2000;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        _grantRole(ARBITER_ROLE, admin);
        _grantRole(MARKETPLACE_ROLE, address(marketplace_));
    }

    // ---- disputes ---------------------------------------------------------------------------

    /// @inheritdoc ISlashing
    function openDispute(uint256 jobId, address renter, address host, bytes32 evidenceHash)
        external
        payable
        override
        onlyRole(MARKETPLACE_ROLE)
    {
        if (msg.value != disputeBond) revert WrongBond(msg.value, disputeBond);
        if (_disputes[jobId].status != DisputeStatus.None) revert DisputeExists(jobId);
        uint40 ruleBy = uint40(block.timestamp + rulingPeriod);
        _disputes[jobId] = Dispute({
            renter: renter,
            bond: uint96(msg.value),
            host: host,
            openedAt: uint40(block.timestamp),
            ruleBy: ruleBy,
            status: DisputeStatus.Open,
            evidenceHash: evidenceHash
        });
        emit DisputeOpened(jobId, renter, host, msg.value, evidenceHash, ruleBy);
    }

    /// @inheritdoc ISlashing
    function resolveDispute(uint256 jobId, bool upheld) external override onlyRole(ARBITER_ROLE) nonReentrant {
        Dispute storage d = _disputes[jobId];
        if (d.status != DisputeStatus.Open) revert NoOpenDispute(jobId);
        // A late ruling is refused so the outcome never depends on a race with closeLapsedDispute.
        if (block.timestamp > d.ruleBy) revert RulingDeadlinePassed(jobId, d.ruleBy);
        DisputeStatus outcome = upheld ? DisputeStatus.Upheld : DisputeStatus.Rejected;
        d.status = outcome;
        emit DisputeResolved(jobId, upheld, msg.sender);
        // The bond goes back to a renter who was right, and to the host who was wrongly accused.
        _creditBond(upheld ? d.renter : d.host, d.bond);
        marketplace.settleDispute(jobId, outcome);
        if (upheld) {
            reputation.record(d.host, IReputationRegistry.Outcome.DisputeUpheld, FULL_WEIGHT);
            _slash(d.host, Reason.DisputeUpheld, jobId, d.renter);
        }
    }

    /// @inheritdoc ISlashing
    function closeLapsedDispute(uint256 jobId) external override nonReentrant {
        Dispute storage d = _disputes[jobId];
        if (d.status != DisputeStatus.Open) revert NoOpenDispute(jobId);
        if (block.timestamp <= d.ruleBy) revert RulingDeadlineNotPassed(jobId, d.ruleBy);
        d.status = DisputeStatus.Lapsed;
        emit DisputeLapsed(jobId, msg.sender);
        _creditBond(d.host, d.bond);
        marketplace.settleDispute(jobId, DisputeStatus.Lapsed);
    }

    /// @inheritdoc ISlashing
    function withdrawBond() external override nonReentrant returns (uint256 amount) {
        amount = _bonds[msg.sender];
        if (amount == 0) revert NothingToWithdraw();
        _bonds[msg.sender] = 0;
        emit BondWithdrawn(msg.sender, amount);
        (bool ok,) = payable(msg.sender).call{value: amount}("");
        if (!ok) revert TransferFailed();
    }

    // ---- slashes ----------------------------------------------------------------------------

    /// @inheritdoc ISlashing
    function slashMissedDeadline(address host, uint256 jobId, address renter)
        external
        override
        onlyRole(MARKETPLACE_ROLE)
        returns (uint256)
    {
        return _slash(host, Reason.MissedDeadline, jobId, renter);
    }

    /// @inheritdoc ISlashing
    /// @dev One report per job. The job's recorded operator keeps counting after a rotation or a
    ///      deregistration, so neither lets a host escape.
    function reportEquivocation(
        address host,
        uint256 jobId,
        bytes32 outputA,
        bytes calldata signatureA,
        bytes32 outputB,
        bytes calldata signatureB
    ) external override whenNotPaused nonReentrant returns (uint256 amount) {
        if (outputA == outputB) revert SameOutput();
        if (equivocationReported[jobId]) revert AlreadyReported(jobId);
        IJobMarketplace.Job memory job = marketplace.getJob(jobId);
        // Open jobs hold the offered host, not a claimer; cancelled ones were never claimed.
        if (
            host == address(0) || job.host != host || job.status == IJobMarketplace.Status.Open
                || job.status == IJobMarketplace.Status.Cancelled
        ) revert NotJobHost(jobId, host);
        _checkSigner(host, job.operator, ECDSA.recover(resultDigest(jobId, outputA), signatureA));
        _checkSigner(host, job.operator, ECDSA.recover(resultDigest(jobId, outputB), signatureB));
        equivocationReported[jobId] = true;
        emit EquivocationProven(jobId, host, msg.sender, outputA, outputB);
        reputation.record(host, IReputationRegistry.Outcome.Equivocation, FULL_WEIGHT);
        amount = _slash(host, Reason.Equivocation, jobId, msg.sender);
    }

    // ---- governance -------------------------------------------------------------------------

    function setSlashRate(Reason reason, uint16 rateBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (rateBps > MAX_RATE_BPS) revert InvalidParameter();
        slashRateBps[reason] = rateBps;
        emit SlashRateSet(reason, rateBps);
    }

    function setMaxSlashPerIncident(uint256 amount) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (amount == 0) revert InvalidParameter();
        maxSlashPerIncident = amount;
        emit MaxSlashPerIncidentSet(amount);
    }

    function setBeneficiaryShare(uint16 shareBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (shareBps > BPS) revert InvalidParameter();
        beneficiaryShareBps = shareBps;
        emit BeneficiaryShareSet(shareBps);
    }

    function setReporterShare(uint16 shareBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (shareBps > BPS) revert InvalidParameter();
        reporterShareBps = shareBps;
        emit ReporterShareSet(shareBps);
    }

    /// @notice Applies to disputes opened afterwards.
    function setDisputeBond(uint256 bond) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (bond == 0 || bond > type(uint96).max) revert InvalidParameter();
        disputeBond = bond;
        emit DisputeBondSet(bond);
    }

    /// @notice Applies to disputes opened afterwards.
    function setRulingPeriod(uint64 period) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (period < MIN_RULING_PERIOD || period > MAX_RULING_PERIOD) revert InvalidParameter();
        rulingPeriod = period;
        emit RulingPeriodSet(period);
    }

    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (treasury_ == address(0)) revert InvalidParameter();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }


    // ---- views ------------------------------------------------------------------------------

    /// @inheritdoc ISlashing
    function resultDigest(uint256 jobId, bytes32 outputHash) public view override returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(RESULT_TYPEHASH, jobId, outputHash)));
    }

    /// @inheritdoc ISlashing
    /// @dev rate x the slash base (active + unbonding stake, or more while a withdrawal during
    ///      unfinished jobs fixed it: Staking.slashBaseOf), capped per incident; Staking takes
    ///      at most what is there.
    function slashAmount(address host, Reason reason) public view override returns (uint256 amount) {
        amount = staking.slashBaseOf(host) * slashRateBps[reason] / BPS;
        if (amount > maxSlashPerIncident) amount = maxSlashPerIncident;
    }

    /// @inheritdoc ISlashing
    function maxSlashAmount(address host) external view override returns (uint256 amount) {
        for (uint8 r = 0; r <= uint8(type(Reason).max); ++r) {
            uint256 a = slashAmount(host, Reason(r));
            if (a > amount) amount = a;
        }
    }

    function getDispute(uint256 jobId) external view override returns (Dispute memory) {
        return _disputes[jobId];
    }

    function bondBalance(address account) external view override returns (uint256) {
        return _bonds[account];
    }

    // ---- internals --------------------------------------------------------------------------

    function _slash(address host, Reason reason, uint256 jobId, address beneficiary) private returns (uint256 taken) {
        taken = staking.slash(host, slashAmount(host, reason), address(this));
        uint256 share = taken * (reason == Reason.Equivocation ? reporterShareBps : beneficiaryShareBps) / BPS;
        uint256 treasuryShare = taken - share;
        emit Slashed(host, reason, jobId, taken, beneficiary, share, treasuryShare);
        if (share != 0) token.safeTransfer(beneficiary, share);
        if (treasuryShare != 0) token.safeTransfer(treasury, treasuryShare);
    }

    function _checkSigner(address host, address jobOperator, address signer) private view {
        if (signer == host || (signer != address(0) && signer == jobOperator)) return;
        if (!registry.isAuthorized(host, signer)) revert InvalidSigner(signer, host);
    }

    function _creditBond(address account, uint256 amount) private {
        _bonds[account] += amount;
        emit BondCredited(account, amount);
    }
}
