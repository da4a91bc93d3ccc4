// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {IJobMarketplace} from "./interfaces/IJobMarketplace.sol";
import {INodeRegistry} from "./interfaces/INodeRegistry.sol";
import {IReputationRegistry} from "./interfaces/IReputationRegistry.sol";
import {ISlashing} from "./interfaces/ISlashing.sol";
import {PauseControl} from "./utils/PauseControl.sol";

/// @title JobMarketplace
/// @notice Jobs, their escrow and their payment. Money only ever leaves through `withdraw`
///         (pull payments): releases, refunds and fees are credited to `claimable` first, so the
///         contract's balance of each asset is always the unreleased escrow plus the credits.
/// @dev Storage layout of a job (7 slots), chosen for the proof transaction, which is the hot
///      path: it reads slots 0, 3, 4 and rewrites slots 0 and 5 only. Slot 6 (operator, minimum
///      reputation, dispute state) is written only when one of them is set. The creation time is not
///      stored: it is the block time of the job's JobCreated event. Slot 5 (the output hash)
///      is set to a non-zero marker at creation, so completion updates an existing slot (5k gas)
///      instead of filling an empty one (22k); the renter pays that once, in `createJob`.
contract JobMarketplace is IJobMarketplace, AccessControl, PauseControl, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    bytes32 public constant PROOF_SYSTEM_ROLE = keccak256("PROOF_SYSTEM_ROLE");
    bytes32 public constant SLASHING_ROLE = keccak256("SLASHING_ROLE");

    address public constant ETH = address(0);
    uint16 public constant MAX_FEE_BPS = 1000;
    uint16 private constant BPS = 10_000;
    /// @dev ReputationRegistry's weight of one full outcome.
    uint256 private constant FULL_WEIGHT = 10_000;
    uint16 private constant MAX_SCORE = 1000;
    uint64 public constant MIN_DISPUTE_WINDOW = 10 minutes;
    uint64 public constant MAX_DISPUTE_WINDOW = 30 days;
    uint64 public constant MAX_JOB_DURATION_LIMIT = 365 days;
    /// @notice A deadline (or dispute-window end) this long after a pause ends still counts as
    ///         fallen in the pause: hosts and renters get time to act once it is over.
    uint64 public constant PAUSE_GRACE = 1 hours;
    /// @dev The pre-paid content of an output slot before completion (see the contract doc).
    bytes32 private constant OUTPUT_UNSET = bytes32(uint256(1));

    struct Stored {
        // slot 0: everything the claim and proof paths check and change
        address host; // while Open: the offered host (zero: open market)
        uint40 deadline;
        uint40 completedAt; // while Claimed: the claim time (the pause excuse needs it)
        Status status;
        // slot 1
        address renter;
        uint96 payment;
        // slot 2 (the token stays zero for ETH)
        address token;
        uint96 fee;
        // slots 3, 4, 5
        bytes32 modelHash;
        bytes32 inputHash;
        bytes32 outputHash;
        // slot 6
        address operator;
        uint16 minReputation;
        ISlashing.DisputeStatus dispute;
    }

    INodeRegistry public immutable registry;
    IReputationRegistry public immutable reputation;
    ISlashing public override slashing;

    address public treasury;
    uint16 public protocolFeeBps = 100;
    uint64 public override disputeWindow = 1 days;
    uint64 public maxJobDuration = 30 days;

    /// @dev Every pause ever, in time order; looked up by binary search, so old pauses keep
    ///      excusing the deadlines that fell in them however late a job is expired.
    PauseWindow[] private _pauses;
    uint256 private _jobCount;
    uint256 private _totalActive;
    mapping(uint256 jobId => Stored) private _jobs;
    mapping(address token => bool) public tokenAllowed;
    mapping(address account => mapping(address token => uint256)) private _claimable;
    mapping(address host => uint256) private _activeJobs;
    mapping(address token => AssetFees) private _assetFees;

    constructor(INodeRegistry registry_, IReputationRegistry reputation_, address treasury_, address admin) {
        if (treasury_ == address(0)) revert InvalidParameter();
        registry = registry_;
        reputation = reputation_;
        treasury = treasury_;
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(PAUSER_ROLE, admin);
        // ETH's defaults; see docs/contracts.md for what they make reputation cost.
        _setAssetFees(ETH, 0.0001 ether, 0.005 ether);
    }

    // ---- renters ----------------------------------------------------------------------------

    /// @inheritdoc IJobMarketplace
    function createJob(
        bytes32 modelHash,
        bytes32 inputHash,
        address token,
        uint96 payment,
        uint40 deadline,
        address offeredHost,
        uint16 minReputation
    ) external payable override whenNotPaused nonReentrant returns (uint256 jobId) {
        if (modelHash == bytes32(0) || inputHash == bytes32(0)) revert ZeroHash();
        if (payment == 0) revert ZeroPayment();
        if (deadline <= block.timestamp || deadline > block.timestamp + maxJobDuration) {
            revert InvalidDeadline(deadline);
        }
        if (minReputation > MAX_SCORE) revert InvalidMinReputation(minReputation);
        if (token == ETH) {
            if (msg.value != payment) revert WrongPaymentValue(msg.value, payment);
        } else {
            if (!tokenAllowed[token]) revert TokenNotAllowed(token);
            if (msg.value != 0) revert WrongPaymentValue(msg.value, 0);
        }

        uint256 fee = feeFor(token, payment);
        if (fee > payment) revert PaymentBelowFee(payment, fee);

        jobId = ++_jobCount;
        Stored storage j = _jobs[jobId];
        j.host = offeredHost;
        j.deadline = deadline;
        j.status = Status.Open;
        j.renter = msg.sender;
        j.payment = payment;
        j.token = token;
        j.fee = uint96(fee);
        j.modelHash = modelHash;
        j.inputHash = inputHash;
        j.outputHash = OUTPUT_UNSET;
        if (minReputation != 0) j.minReputation = minReputation;
        emit JobCreated(
            jobId, msg.sender, modelHash, inputHash, token, payment, deadline, uint96(fee), offeredHost, minReputation
        );

        if (token != ETH) {
            // Balance delta, not the argument: a fee-on-transfer token would leave the escrow short.
            uint256 before = IERC20(token).balanceOf(address(this));
            IERC20(token).safeTransferFrom(msg.sender, address(this), payment);
            if (IERC20(token).balanceOf(address(this)) - before != payment) revert UnsupportedToken(token);
        }
    }

    /// @inheritdoc IJobMarketplace
    /// @dev Not pausable: a renter can always take back an unclaimed job's escrow.
    function cancelJob(uint256 jobId) external override {
        Stored storage j = _existing(jobId);
        if (msg.sender != j.renter) revert NotRenter(jobId, msg.sender);
        if (j.status != Status.Open) revert WrongStatus(jobId, j.status);
        j.status = Status.Cancelled;
        j.host = address(0); // an offer ends with the job
        emit JobCancelled(jobId);
        _credit(j.renter, j.token, j.payment);
    }

    /// @inheritdoc IJobMarketplace
    function disputeJob(uint256 jobId, bytes32 evidenceHash) external payable override whenNotPaused nonReentrant {
        Stored storage j = _existing(jobId);
        if (msg.sender != j.renter) revert NotRenter(jobId, msg.sender);
        if (j.status != Status.Completed) revert WrongStatus(jobId, j.status);
        if (evidenceHash == bytes32(0)) revert ZeroHash();
        if (j.dispute != ISlashing.DisputeStatus.None) revert AlreadyDisputed(jobId);
        uint256 endsAt = _windowEnd(j.completedAt, disputeWindow);
        if (block.timestamp > endsAt) revert DisputeWindowClosed(jobId, endsAt);
        j.dispute = ISlashing.DisputeStatus.Open;
        j.status = Status.Disputed;
        emit JobDisputed(jobId, msg.sender, evidenceHash);
        slashing.openDispute{value: msg.value}(jobId, msg.sender, j.host, evidenceHash);
    }

    // ---- hosts ------------------------------------------------------------------------------

    /// @inheritdoc IJobMarketplace
    function claimJob(uint256 jobId, address host) external override whenNotPaused {
        Stored storage j = _existing(jobId);
        if (j.status != Status.Open) revert WrongStatus(jobId, j.status);
        if (block.timestamp > j.deadline) revert JobExpiredAt(jobId, j.deadline);
        // The sender is the host or, when authorized, its operator: that is the operator to record.
        address operator_;
        if (msg.sender == host) operator_ = registry.operatorOf(host);
        else if (registry.isAuthorized(host, msg.sender)) operator_ = msg.sender;
        else revert NotHostOrOperator(jobId, msg.sender);
        address offered = j.host;
        if (offered != address(0) && offered != host) revert NotOfferedHost(jobId, host, offered);
        if (!registry.canServe(host, j.modelHash)) revert HostCannotServe(host, j.modelHash);
        uint16 minReputation = j.minReputation;
        if (minReputation != 0) {
            uint16 score = reputation.scoreOf(host);
            if (score < minReputation) revert ReputationTooLow(host, score, minReputation);
        }
        j.host = host;
        j.completedAt = uint40(block.timestamp);
        j.status = Status.Claimed;
        if (operator_ != address(0)) j.operator = operator_;
        ++_activeJobs[host];
        ++_totalActive;
        emit JobClaimed(jobId, host, msg.sender, operator_);
    }

    /// @inheritdoc IJobMarketplace
    /// @dev Refuses while paused, so a proof is not verified (and paid for) in vain.
    function proofContext(address submitter, uint256[] calldata jobIds)
        external
        view
        override
        whenNotPaused
        returns (address host, bytes32[] memory modelHashes, bytes32[] memory inputHashes)
    {
        host = _checkCompletable(submitter, jobIds);
        modelHashes = new bytes32[](jobIds.length);
        inputHashes = new bytes32[](jobIds.length);
        for (uint256 i = 0; i < jobIds.length; ++i) {
            Stored storage j = _jobs[jobIds[i]];
            modelHashes[i] = j.modelHash;
            inputHashes[i] = j.inputHash;
        }
    }

    /// @inheritdoc IJobMarketplace
    /// @dev The proof system verified the proof over these outputs before calling. Checks repeat
    ///      here (warm slots, cheap) so no caller can complete what `proofContext` would refuse.
    function completeJobs(address submitter, uint256[] calldata jobIds, bytes32[] calldata outputHashes)
        external
        override
        onlyRole(PROOF_SYSTEM_ROLE)
        whenNotPaused
        returns (address host)
    {
        if (jobIds.length != outputHashes.length) revert LengthMismatch();
        host = _checkCompletable(submitter, jobIds);
        uint40 now_ = uint40(block.timestamp);
        for (uint256 i = 0; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            bytes32 output = outputHashes[i];
            if (output == bytes32(0)) revert ZeroHash();
            Stored storage j = _jobs[jobId];
            // A job id listed twice is Completed by now.
            if (j.status != Status.Claimed) revert WrongStatus(jobId, j.status);
            j.status = Status.Completed;
            j.completedAt = now_;
            j.outputHash = output;
            emit JobCompleted(jobId, host, output);
        }
        // The jobs stay active (stake locked) until paid or refunded: a dispute may still come.
        // Reputation waits for the release too: a completion alone proves no quality.
    }

    /// @inheritdoc IJobMarketplace
    /// @dev Anyone may release; the money is credited to the host (its staking key, never the
    ///      operator) and the protocol fee fixed at creation to the treasury. Reputation is
    ///      recorded once per run of consecutive jobs of one host.
    function releasePayments(uint256[] calldata jobIds) external override nonReentrant {
        if (jobIds.length == 0) revert EmptyJobList();
        address treasury_ = treasury;
        uint64 window = disputeWindow;
        address runHost;
        uint256 runWeight;
        for (uint256 i = 0; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            Stored storage j = _existing(jobId);
            if (j.status != Status.Completed) revert WrongStatus(jobId, j.status);
            uint256 endsAt = _windowEnd(j.completedAt, window);
            if (block.timestamp <= endsAt) revert DisputeWindowOpen(jobId, endsAt);
            j.status = Status.Paid;
            uint256 fee = j.fee;
            uint256 hostAmount = j.payment - fee;
            address host = j.host;
            address token = j.token;
            uint256 weight = _reputationWeight(j, host, token, fee);
            --_activeJobs[host];
            --_totalActive;
            emit PaymentReleased(jobId, host, token, hostAmount, fee, weight);
            _credit(host, token, hostAmount);
            if (fee != 0) _credit(treasury_, token, fee);
            if (host != runHost) {
                if (runWeight != 0) reputation.record(runHost, IReputationRegistry.Outcome.Completion, runWeight);
                runHost = host;
                runWeight = 0;
            }
            runWeight += weight;
        }
        if (runWeight != 0) reputation.record(runHost, IReputationRegistry.Outcome.Completion, runWeight);
    }

    // ---- anyone -----------------------------------------------------------------------------

    /// @inheritdoc IJobMarketplace
    /// @dev An unclaimed job just refunds. A claimed one also slashes its host for the missed
    ///      deadline (the renter gets the beneficiary share) and lowers its reputation, unless it
    ///      was claimed before a pause and the deadline fell inside that pause or its grace
    ///      period: the proof could not land. A job claimed after the pause gets no excuse.
    ///      Not pausable: a renter's refund never waits for a pause to end.
    function expireJob(uint256 jobId) external override nonReentrant {
        Stored storage j = _existing(jobId);
        Status status = j.status;
        uint40 deadline = j.deadline;
        if (status != Status.Open && status != Status.Claimed) revert WrongStatus(jobId, status);
        if (block.timestamp <= deadline) revert DeadlineNotPassed(jobId, deadline);
        j.status = Status.Expired;
        address host = j.host;
        address renter = j.renter;
        bool claimed = status == Status.Claimed;
        if (!claimed && host != address(0)) {
            j.host = address(0); // an unclaimed offer ends with the job
            host = address(0);
        }
        bool slash = claimed && !_excusedByPause(j.completedAt, deadline);
        emit JobExpired(jobId, host, msg.sender, j.payment, slash);
        _credit(renter, j.token, j.payment);
        if (claimed) {
            --_activeJobs[host];
            --_totalActive;
        }
        if (slash) {
            reputation.record(host, IReputationRegistry.Outcome.Expiry, FULL_WEIGHT);
            slashing.slashMissedDeadline(host, jobId, renter);
        }
    }

    /// @inheritdoc IJobMarketplace
    function withdraw(address token) external override nonReentrant returns (uint256 amount) {
        amount = _claimable[msg.sender][token];
        if (amount == 0) revert NothingToWithdraw();
        _claimable[msg.sender][token] = 0;
        emit Withdrawal(msg.sender, token, amount);
        if (token == ETH) {
            (bool ok,) = payable(msg.sender).call{value: amount}("");
            if (!ok) revert TransferFailed();
        } else {
            IERC20(token).safeTransfer(msg.sender, amount);
        }
    }

    // ---- slashing ---------------------------------------------------------------------------

    /// @inheritdoc IJobMarketplace
    function settleDispute(uint256 jobId, ISlashing.DisputeStatus outcome) external override onlyRole(SLASHING_ROLE) {
        Stored storage j = _existing(jobId);
        if (j.status != Status.Disputed) revert WrongStatus(jobId, j.status);
        if (
            outcome != ISlashing.DisputeStatus.Upheld && outcome != ISlashing.DisputeStatus.Rejected
                && outcome != ISlashing.DisputeStatus.Lapsed
        ) revert InvalidOutcome();
        j.dispute = outcome;
        emit DisputeSettled(jobId, outcome);
        if (outcome == ISlashing.DisputeStatus.Upheld) {
            j.status = Status.Refunded;
            --_activeJobs[j.host];
            --_totalActive;
            _credit(j.renter, j.token, j.payment);
        } else {
            // Back to Completed: releasable at once if the window has passed meanwhile. Only a
            // rejected dispute lets the release credit reputation.
            j.status = Status.Completed;
        }
    }

    // ---- governance -------------------------------------------------------------------------

    /// @notice Points at a (new) slashing contract and lets it settle disputes. A previous one
    ///         keeps its role so the disputes open there can still be settled; governance
    ///         revokes it (`revokeRole(SLASHING_ROLE, old)`) once they are.
    function setSlashing(ISlashing slashing_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (address(slashing_) == address(0)) revert InvalidParameter();
        slashing = slashing_;
        _grantRole(SLASHING_ROLE, address(slashing_));
        emit SlashingSet(address(slashing_));
    }

    function setTokenAllowed(address token, bool allowed) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (token == ETH) revert InvalidParameter();
        tokenAllowed[token] = allowed;
        emit TokenAllowed(token, allowed);
    }

    /// @notice The minimum protocol fee per job and the fee that earns a full completion's
    ///         reputation, for one asset (ETH: address(0)). Applies to jobs created afterwards
    ///         (minimum) and to releases afterwards (credit). A zero credit fee means jobs in
    ///         this asset earn no reputation.
    function setAssetFees(address token, uint96 minFee, uint96 creditFee) external onlyRole(DEFAULT_ADMIN_ROLE) {
        _setAssetFees(token, minFee, creditFee);
    }

    /// @notice Applies to jobs created afterwards; each job keeps the fee it was created with.
    function setProtocolFee(uint16 feeBps) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (feeBps > MAX_FEE_BPS) revert InvalidParameter();
        protocolFeeBps = feeBps;
        emit ProtocolFeeSet(feeBps);
    }

    function setTreasury(address treasury_) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (treasury_ == address(0)) revert InvalidParameter();
        treasury = treasury_;
        emit TreasurySet(treasury_);
    }

    function setDisputeWindow(uint64 window) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (window < MIN_DISPUTE_WINDOW || window > MAX_DISPUTE_WINDOW) revert InvalidParameter();
        disputeWindow = window;
        emit DisputeWindowSet(window);
    }

    function setMaxJobDuration(uint64 duration) external onlyRole(DEFAULT_ADMIN_ROLE) {
        if (duration == 0 || duration > MAX_JOB_DURATION_LIMIT) revert InvalidParameter();
        maxJobDuration = duration;
        emit MaxJobDurationSet(duration);
    }

    /// @dev A pause (PauseControl: governance or guardian) stops creation, claims, proofs
    ///      (ProofSystem completes through here) and disputes. Cancels, expiry (refunds),
    ///      releases and withdrawals go on. Each pause is recorded with its planned end.
    function _pauseStarted(uint40 ends) internal override {
        _pauses.push(PauseWindow({pausedAt: uint40(block.timestamp), unpausedAt: ends}));
    }

    function _pauseEnds(uint40 ends) internal override {
        _pauses[_pauses.length - 1].unpausedAt = ends;
    }

    // ---- views ------------------------------------------------------------------------------

    function getJob(uint256 jobId) external view override returns (Job memory job) {
        Stored storage j = _jobs[jobId];
        Status s = j.status;
        bool hasOutput = s == Status.Completed || s == Status.Disputed || s == Status.Paid || s == Status.Refunded;
        // completedAt holds the claim time while Claimed; it is only a completion time with an output.
        job = Job({
            renter: j.renter,
            host: j.host,
            operator: j.operator,
            token: j.token,
            payment: j.payment,
            fee: j.fee,
            status: s,
            deadline: j.deadline,
            completedAt: hasOutput ? j.completedAt : 0,
            minReputation: j.minReputation,
            dispute: j.dispute,
            modelHash: j.modelHash,
            inputHash: j.inputHash,
            outputHash: hasOutput ? j.outputHash : bytes32(0)
        });
    }

    function jobCount() external view override returns (uint256) {
        return _jobCount;
    }

    function claimable(address account, address token) external view override returns (uint256) {
        return _claimable[account][token];
    }

    function activeJobsOf(address host) external view override returns (uint256) {
        return _activeJobs[host];
    }

    function totalActiveJobs() external view override returns (uint256) {
        return _totalActive;
    }

    function disputeWindowEnd(uint256 jobId) external view override returns (uint256) {
        Stored storage j = _existing(jobId);
        Status s = j.status;
        if (s != Status.Completed && s != Status.Disputed) revert WrongStatus(jobId, s);
        return _windowEnd(j.completedAt, disputeWindow);
    }

    function pauseCount() external view override returns (uint256) {
        return _pauses.length;
    }

    function pauseWindow(uint256 index) external view override returns (PauseWindow memory) {
        return _pauses[index];
    }

    function assetFees(address token) external view override returns (AssetFees memory) {
        return _assetFees[token];
    }

    /// @inheritdoc IJobMarketplace
    /// @dev Rounds up, so no payment is too small to owe a fee.
    function feeFor(address token, uint256 payment) public view override returns (uint256 fee) {
        fee = (payment * protocolFeeBps + BPS - 1) / BPS;
        uint256 minFee = _assetFees[token].minFee;
        if (fee < minFee) fee = minFee;
    }

    // ---- internals --------------------------------------------------------------------------

    function _existing(uint256 jobId) private view returns (Stored storage j) {
        j = _jobs[jobId];
        if (j.status == Status.None) revert UnknownJob(jobId);
    }

    /// @dev Every job Claimed, not past its deadline, all of one host, and `submitter` is that
    ///      host or its operator. Returns the host.
    function _checkCompletable(address submitter, uint256[] calldata jobIds) private view returns (address host) {
        if (jobIds.length == 0) revert EmptyJobList();
        for (uint256 i = 0; i < jobIds.length; ++i) {
            uint256 jobId = jobIds[i];
            Stored storage j = _jobs[jobId];
            if (j.status != Status.Claimed) {
                if (j.status == Status.None) revert UnknownJob(jobId);
                revert WrongStatus(jobId, j.status);
            }
            if (block.timestamp > j.deadline) revert JobExpiredAt(jobId, j.deadline);
            if (i == 0) {
                host = j.host;
                if (submitter != host && !registry.isAuthorized(host, submitter)) {
                    revert NotHostOrOperator(jobId, submitter);
                }
            } else if (j.host != host) {
                revert MixedHosts(jobId, j.host, host);
            }
        }
    }

    /// @dev The pause in force at `t` or whose grace period covers `t`: found = false when
    ///      none. Pauses are disjoint and in time order, so only the last one that started at or
    ///      before `t` can cover it. `unpausedAt` is 0 while the pause lasts.
    function _pauseCovering(uint256 t) private view returns (bool found, PauseWindow memory w) {
        uint256 lo = 0;
        uint256 hi = _pauses.length;
        while (lo < hi) {
            uint256 mid = (lo + hi) / 2;
            if (_pauses[mid].pausedAt <= t) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) return (false, w);
        w = _pauses[lo - 1];
        found = w.unpausedAt == 0 || t < uint256(w.unpausedAt) + PAUSE_GRACE;
    }

    function _excusedByPause(uint40 claimedAt, uint40 deadline) private view returns (bool) {
        (bool found, PauseWindow memory w) = _pauseCovering(deadline);
        // Claims are paused, so a job claimed before a pause that is still on is excused; claims
        // made after a pause ended (during its grace) knew the deadline and get no excuse.
        return found && (w.unpausedAt == 0 || claimedAt < w.unpausedAt);
    }

    /// @dev A window ending inside a pause (or its grace) is extended to the end of the grace,
    ///      again while that lands in a later pause; during a pause it does not end. Each step
    ///      moves past one pause, so the loop ends.
    function _windowEnd(uint40 completedAt, uint64 window) private view returns (uint256 end) {
        end = uint256(completedAt) + window;
        while (true) {
            (bool found, PauseWindow memory w) = _pauseCovering(end);
            if (!found) return end;
            if (w.unpausedAt == 0) return type(uint256).max;
            end = uint256(w.unpausedAt) + PAUSE_GRACE;
        }
    }

    /// @dev What a released job adds to its host's reputation, in basis points of a full
    ///      completion: nothing for a job its host rented itself (from its staking key or the
    ///      operator that claimed it), for a dispute that was upheld or lapsed, or for an asset
    ///      without a credit fee; otherwise fee / creditFee, at most one full completion.
    function _reputationWeight(Stored storage j, address host, address token, uint256 fee)
        private
        view
        returns (uint256)
    {
        ISlashing.DisputeStatus d = j.dispute;
        if (d != ISlashing.DisputeStatus.None && d != ISlashing.DisputeStatus.Rejected) return 0;
        address renter = j.renter;
        if (renter == host || renter == j.operator) return 0;
        uint256 creditFee = _assetFees[token].creditFee;
        if (creditFee == 0) return 0;
        uint256 weight = fee * FULL_WEIGHT / creditFee;
        return weight > FULL_WEIGHT ? FULL_WEIGHT : weight;
    }

    function _setAssetFees(address token, uint96 minFee, uint96 creditFee) private {
        _assetFees[token] = AssetFees({minFee: minFee, creditFee: creditFee});
        emit AssetFeesSet(token, minFee, creditFee);
    }

    function _credit(address account, address token, uint256 amount) private {
        _claimable[account][token] += amount;
        emit Credited(account, token, amount);
    }
}
