// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test, Vm} from "forge-std/Test.sol";
import {console} from "forge-std/console.sol";
import {VouchToken} from "../../../contracts/VouchToken.sol";
import {Staking} from "../../../contracts/Staking.sol";
import {NodeRegistry} from "../../../contracts/NodeRegistry.sol";
import {ReputationRegistry} from "../../../contracts/ReputationRegistry.sol";
import {JobMarketplace} from "../../../contracts/JobMarketplace.sol";
import {Slashing} from "../../../contracts/Slashing.sol";
import {IJobMarketplace} from "../../../contracts/interfaces/IJobMarketplace.sol";
import {ISlashing} from "../../../contracts/interfaces/ISlashing.sol";
import {IStaking} from "../../../contracts/interfaces/IStaking.sol";
import {IReputationRegistry} from "../../../contracts/interfaces/IReputationRegistry.sol";

/// @notice Drives the whole protocol (staking, registry, marketplace, slashing, reputation) from
///         several actors and keeps an independent model of it (ghost state).
/// @dev Every action picks its inputs mostly from the model's valid candidates (a job in the
///      right state, a host that can serve, an account with something to withdraw) and now and
///      then deliberately from anything (a wrong caller, a job in another state, a duplicate id,
///      a zero output, a stranger's signature). The model decides beforehand whether the call
///      must succeed; the call is made with try/catch and
///        - succeeds as predicted: the model applies the same effects;
///        - reverts as predicted: counted as a rejection;
///        - anything else is a disagreement (`unexpectedSuccesses` / `unexpectedReverts`), which
///          the invariant suite asserts never happens.
///      So the suite checks not only the conservation laws but the whole state machine.
///      Every cheatcode prank is placed immediately before its call: all model reads and
///      signatures are computed first (a view call in between would consume the prank).
contract ProtocolHandler is Test {
    // ---- system ---------------------------------------------------------------------------

    struct System {
        VouchToken token;
        VouchToken usd;
        Staking staking;
        NodeRegistry registry;
        ReputationRegistry reputation;
        JobMarketplace marketplace;
        Slashing slashing;
        address admin; // arbiter and parameter admin (the test contract, standing in for the timelock)
        address prover; // holds PROOF_SYSTEM_ROLE on the marketplace
        address treasury;
    }

    struct Actors {
        address[] hosts;
        uint256[] hostKeys;
        address[] operators;
        uint256[] operatorKeys;
        address[] renters;
        address reporter;
        address outsider; // signs results without being anyone's host or operator
        uint256 outsiderKey;
        address guardian; // GUARDIAN_ROLE on the marketplace: lapsing pauses
    }

    enum Action {
        Stake,
        RequestUnstake,
        WithdrawStake,
        Register,
        Deregister,
        CreateJob,
        CancelJob,
        ClaimJob,
        CompleteJobs,
        ExpireJob,
        DisputeJob,
        ResolveDispute,
        ReleasePayments,
        WithdrawPayment,
        WithdrawBond,
        ReportEquivocation,
        Warp,
        SetProtocolFee,
        TogglePause,
        CloseLapsedDispute,
        GuardianPause
    }

    uint256 internal constant ACTIONS = 21;
    address internal constant ETH = address(0);
    uint256 internal constant BPS = 10_000;
    // Protocol parameters, read from the contracts at construction (the handler changes none
    // but the protocol fee and the pause): the model follows whatever defaults ship.
    uint256 internal immutable MIN_STAKE;
    uint256 internal immutable MAX_SLASH;
    uint256 internal immutable BENEFICIARY_BPS; // renter's share of a slash
    uint256 internal immutable REPORTER_BPS; // reporter's share of an equivocation slash
    uint256 internal immutable RATE_MISSED;
    uint256 internal immutable RATE_DISPUTE;
    uint256 internal immutable RATE_EQUIVOCATION;
    uint64 internal immutable UNBONDING;
    uint64 internal immutable WINDOW;
    uint256 internal immutable BOND;
    uint256 internal immutable PAUSE_GRACE;
    uint256 internal immutable RULING_PERIOD;
    uint256 internal immutable MAX_GUARDIAN_PAUSE;
    uint64 internal immutable HALF_LIFE;
    // Per-asset fees (the handler sets none): ETH has the constructor's defaults, usd none.
    uint256 internal immutable MIN_FEE_ETH;
    uint256 internal immutable CREDIT_FEE_ETH;
    uint256 internal immutable MIN_FEE_USD;
    uint256 internal immutable CREDIT_FEE_USD;
    // Reputation deltas of one full outcome.
    int256 internal immutable D_COMPLETION;
    int256 internal immutable D_EXPIRY;
    int256 internal immutable D_UPHELD;
    int256 internal immutable D_EQUIVOCATION;
    uint256 internal constant FULL_WEIGHT = 10_000;
    uint256 internal constant MAX_SCORE = 1000;
    uint16 internal constant NEUTRAL = 500;
    uint256 internal constant MAX_BATCH = 8;
    bytes32 internal constant MODEL = keccak256("llama-3-8b-instruct-q4");
    bytes32 internal constant OTHER_MODEL = keccak256("mistral-7b");

    VouchToken public immutable token;
    VouchToken public immutable usd;
    Staking public immutable staking;
    NodeRegistry public immutable registry;
    ReputationRegistry public immutable reputation;
    JobMarketplace public immutable marketplace;
    Slashing public immutable slashing;
    address public immutable admin;
    address public immutable prover;
    address public immutable treasury;

    address[] internal _hosts;
    uint256[] internal _hostKeys;
    address[] internal _operators;
    uint256[] internal _operatorKeys;
    address[] internal _renters;
    address public immutable reporter;
    address internal immutable _outsider;
    uint256 internal immutable _outsiderKey;
    address public immutable guardian;

    // ---- model (ghost state) --------------------------------------------------------------

    struct GJob {
        address renter;
        address host;
        address asset;
        uint96 payment;
        uint96 fee;
        IJobMarketplace.Status status;
        uint40 deadline;
        uint40 completedAt; // as getJob shows it: 0 until completed (the claim time is kept apart)
        uint40 claimedAt; // the pause excuse needs it
        bytes32 model;
        ISlashing.DisputeStatus dispute; // None until disputed; once, ever (AlreadyDisputed)
        uint96 bond; // the open dispute's bond
        address operator; // recorded at claim: the claiming operator, or the host's operator
        uint16 minRep; // 0: none
        uint40 ruleBy; // the dispute's ruling deadline
    }

    /// @dev ReputationRegistry's record: the stored score, when, and the carried fraction.
    struct GRep {
        uint16 score;
        uint40 updatedAt;
        uint16 carry;
    }

    GJob[] internal _jobs; // job id = index + 1

    // staking
    mapping(address => uint256) public gActive;
    mapping(address => uint256) public gUnbonding;
    mapping(address => uint64) public gReleaseAt;
    /// Staking's stored slash base: the slashable stake before a withdrawal made during
    /// unfinished jobs (raised, never lowered, by later ones); cleared by a stake, an unstake
    /// request or a withdrawal with no unfinished job. See `gSlashBaseOf`.
    mapping(address => uint256) public gStoredSlashBase;
    // registry
    mapping(address => bool) public gRegistered;
    mapping(address => address) public gOperator;
    /// Jobs of a host not yet final (Claimed, Completed, Disputed): they lock its
    /// deregistration and its stake withdrawals.
    mapping(address => uint256) public gActiveJobs;
    // marketplace money, per asset
    mapping(address => mapping(address => uint256)) public gClaimable;
    mapping(address => uint256) public gDeposited;
    mapping(address => uint256) public gWithdrawn;
    uint16 public gFeeBps;
    bool public gGovPaused; // governance pause (open-ended)
    uint40 public gGuardianEnds; // the guardian pause in force ends here (0 when none / taken over)
    uint40 public gLastGuardianEnd; // planned end of the latest guardian pause (cool-down)
    /// Every pause in order; unpausedAt 0 while it lasts.
    IJobMarketplace.PauseWindow[] internal _gPauses;
    // slashing
    uint256 public gOpenBonds;
    mapping(address => uint256) public gBond;
    mapping(uint256 => bool) public gReported;
    uint256 public gBondsPaidIn;
    uint256 public gBondsPaidOut;
    // VOUCH balances of every holder the protocol can move tokens to
    mapping(address => uint256) public gVouch;
    address[] internal _vouchHolders;
    // ETH: the total over every account ETH can reach never changes
    uint256 public gEthTotal;
    // reputation
    mapping(address => GRep) internal _gRep;
    mapping(address => bool) internal _scoreMayMove; // the model recorded for this host in this call
    mapping(address => uint16) internal _scoreBefore;
    uint256 internal _scoreSnapAt;
    // clock
    uint256 public gNow;
    bool internal _seeding;
    // terminal states, recorded from the contract the first time they are seen
    mapping(uint256 => IJobMarketplace.Status) public observedTerminal;
    uint256 public terminalCount;

    // ---- bookkeeping ----------------------------------------------------------------------

    uint256[ACTIONS] internal _ok;
    uint256[ACTIONS] internal _rejected;
    uint256[ACTIONS] internal _skipped;
    uint256 public unexpectedSuccesses;
    uint256 public unexpectedReverts;
    uint256 public wrongReturnValues;
    uint256 public wrongRevertReasons;
    string public lastDisagreement;
    uint256 public totalSlashed;
    uint256 public excusedExpiries; // claimed jobs expired without a slash thanks to a pause
    uint256 public excusedByEarlierPause; // ... by a pause other than the latest one
    uint256 public claimedAfterPauseSlashed; // deadline covered, but claimed after the pause ended
    uint256 public movedWindowCalls; // disputes and releases made with a window end a pause moved
    uint16 public minScoreSeen = 500;
    uint16 public maxScoreSeen = 500;
    /// A host's score changed in a call in which the model recorded nothing for it (a
    /// completion, a zero-weight release such as a self-dealt one, ...). Must stay 0.
    uint256 public unexplainedScoreMoves;
    uint256 public selfDealtReleases;
    uint256 public zeroWeightReleases; // self-dealt, upheld/lapsed or usd (no credit fee)
    uint256 public weightedReleases;
    uint256 public partialWithdrawals;
    uint256 public slashBasesFixed; // withdrawals during unfinished jobs that raised the stored base
    uint256 public slashBasesCleared; // stakes and unstake requests that cleared it
    uint256 public slashesCappedByStake; // slashes whose amount (on the base) exceeded the stake
    uint256 public idleBaseProbes; // a host's last job ended with a stored base (see _probeIdleSlashBase)
    uint256 public lapsedDisputes;
    uint256 public guardianPauses;
    uint256 public offersClaimed;
    uint256 public minRepRefused;

    constructor(System memory s, Actors memory a) {
        token = s.token;
        usd = s.usd;
        staking = s.staking;
        registry = s.registry;
        reputation = s.reputation;
        marketplace = s.marketplace;
        slashing = s.slashing;
        admin = s.admin;
        prover = s.prover;
        treasury = s.treasury;
        _hosts = a.hosts;
        _hostKeys = a.hostKeys;
        _operators = a.operators;
        _operatorKeys = a.operatorKeys;
        _renters = a.renters;
        reporter = a.reporter;
        _outsider = a.outsider;
        _outsiderKey = a.outsiderKey;
        guardian = a.guardian;
        gNow = block.timestamp;
        gFeeBps = s.marketplace.protocolFeeBps();
        MIN_STAKE = s.staking.minimumStake();
        MAX_SLASH = s.slashing.maxSlashPerIncident();
        BENEFICIARY_BPS = s.slashing.beneficiaryShareBps();
        REPORTER_BPS = s.slashing.reporterShareBps();
        RATE_MISSED = s.slashing.slashRateBps(ISlashing.Reason.MissedDeadline);
        RATE_DISPUTE = s.slashing.slashRateBps(ISlashing.Reason.DisputeUpheld);
        RATE_EQUIVOCATION = s.slashing.slashRateBps(ISlashing.Reason.Equivocation);
        UNBONDING = s.staking.unbondingPeriod();
        WINDOW = s.marketplace.disputeWindow();
        BOND = s.slashing.disputeBond();
        PAUSE_GRACE = s.marketplace.PAUSE_GRACE();
        RULING_PERIOD = s.slashing.rulingPeriod();
        MAX_GUARDIAN_PAUSE = s.marketplace.maxGuardianPause();
        HALF_LIFE = s.reputation.halfLife();
        MIN_FEE_ETH = s.marketplace.assetFees(ETH).minFee;
        CREDIT_FEE_ETH = s.marketplace.assetFees(ETH).creditFee;
        MIN_FEE_USD = s.marketplace.assetFees(address(s.usd)).minFee;
        CREDIT_FEE_USD = s.marketplace.assetFees(address(s.usd)).creditFee;
        // The brief's defaults: the model must not silently follow a changed default.
        require(MIN_FEE_ETH == 0.0001 ether && CREDIT_FEE_ETH == 0.005 ether, "ETH fees");
        require(MIN_FEE_USD == 0 && CREDIT_FEE_USD == 0, "usd fees");
        require(RULING_PERIOD == 14 days && MAX_GUARDIAN_PAUSE == 3 days, "periods");
        D_COMPLETION = s.reputation.deltaOf(IReputationRegistry.Outcome.Completion);
        D_EXPIRY = s.reputation.deltaOf(IReputationRegistry.Outcome.Expiry);
        D_UPHELD = s.reputation.deltaOf(IReputationRegistry.Outcome.DisputeUpheld);
        D_EQUIVOCATION = s.reputation.deltaOf(IReputationRegistry.Outcome.Equivocation);

        _vouchHolders.push(address(s.staking));
        _vouchHolders.push(address(s.slashing));
        _vouchHolders.push(s.treasury);
        _vouchHolders.push(s.admin);
        _vouchHolders.push(address(this));
        _vouchHolders.push(a.reporter);
        _vouchHolders.push(a.outsider);
        for (uint256 i = 0; i < a.hosts.length; ++i) {
            _vouchHolders.push(a.hosts[i]);
            _vouchHolders.push(a.operators[i]);
        }
        for (uint256 i = 0; i < a.renters.length; ++i) {
            _vouchHolders.push(a.renters[i]);
        }
        for (uint256 i = 0; i < _vouchHolders.length; ++i) {
            gVouch[_vouchHolders[i]] = s.token.balanceOf(_vouchHolders[i]);
        }
        address[] memory ethHolders = ethAccounts();
        for (uint256 i = 0; i < ethHolders.length; ++i) {
            gEthTotal += ethHolders[i].balance;
        }
    }

    /// @notice A starting state with a candidate for every action, built through the actions
    ///         themselves (so the model follows it), so a 64-call run explores from a busy
    ///         market instead of spending itself reaching the first claim:
    ///         hosts 0 and 1 staked and registered with their operators; host 2 staked,
    ///         unregistered, part of its stake unbonding; then, a day and an hour later:
    ///         jobs 1 and 5 completed and releasable (job 5 self-dealt: rented by host 1's
    ///         operator, claimed by host 1 itself, which records that operator), job 2 claimed
    ///         and overdue (expiry slashes),
    ///         job 3 open and overdue, job 4 open, job 6 completed and disputed, job 7 open;
    ///         then job 8 claimed with a deadline an hour later, and a two-hour pause from then:
    ///         job 8 is overdue and excused by that pause, which any later pause makes an old
    ///         one (old pauses excuse forever).
    function seedState() external {
        _seeding = true;
        this.stake(0, 5000 ether); // host 0
        this.stake(4, 5000 ether); // host 1
        this.stake(2, 3000 ether); // host 2
        this.requestUnstake(2, 1000 ether); // host 2: 1000 unbonding
        this.register(0); // host 0, with operator
        this.register(1); // host 1, with operator
        this.createJob(0, false, 0.1 ether, 1 days, false, 0); // 1
        this.createJob(1, true, 100 ether, 1 days, false, 0); // 2
        this.createJob(2, false, 0.2 ether, 2 hours, true, 0); // 3
        this.createJob(0, true, 50 ether, 2 days, false, 0); // 4
        this.createJob(1, false, 0.3 ether, 1 days, false, (4 << 12) | 1); // 5: rented by host 1's operator
        this.claimJob(_anyJob(1), 1 << 4, true); // host 1, by its operator
        this.claimJob(_anyJob(2), 0 << 4, false); // host 0 itself
        this.claimJob(_anyJob(5), 1 << 4, false); // host 1
        this.completeJobs(1, 2, true, 2); // jobs 1 and 5, one batch by host 1's operator
        vm.warp(block.timestamp + 1 days + 1 hours);
        gNow = block.timestamp;
        this.createJob(2, false, 0.05 ether, 1 days, false, 0); // 6
        this.createJob(1, true, 20 ether, 1 days, false, 0); // 7
        this.claimJob(_anyJob(6), 0 << 4, true); // host 0, by its operator
        this.completeJobs(0, 1, false, 2); // job 6
        this.disputeJob(_anyJob(6), 2);
        this.createJob(0, false, 0.15 ether, 1 hours, false, 0); // 8
        this.claimJob(_anyJob(8), 1 << 4, false); // host 1
        this.togglePause(0); // pause
        vm.warp(block.timestamp + 2 hours);
        gNow = block.timestamp;
        this.togglePause(4); // unpause, without the expiry probe
        require(
            gRegistered[_hosts[0]] && gRegistered[_hosts[1]] && !gRegistered[_hosts[2]] && _jobs.length == 8
                && _jobs[0].status == IJobMarketplace.Status.Completed && _jobs[1].status == IJobMarketplace.Status.Claimed
                && _jobs[4].status == IJobMarketplace.Status.Completed && _jobs[4].renter == _jobs[4].operator
                && _jobs[5].status == IJobMarketplace.Status.Disputed
                && _jobs[7].status == IJobMarketplace.Status.Claimed && _gPauses.length == 1 && !gPaused()
                && _gPauses[0].unpausedAt == _gPauses[0].pausedAt + 2 hours
                && gUnbonding[_hosts[2]] == 1000 ether && unexpectedReverts + unexpectedSuccesses + wrongReturnValues == 0,
            "seed"
        );
        for (uint256 i = 0; i < ACTIONS; ++i) {
            _ok[i] = 0;
            _rejected[i] = 0;
            _skipped[i] = 0;
        }
        _seeding = false;
    }

    /// @dev The job seed `_pickJob` reads as "this very job, whatever its state".
    function _anyJob(uint256 id) internal pure returns (uint256) {
        return ((id - 1) << 4) | 8;
    }

    /// @dev Selection seeds are hashed before use: the fuzzer favours special values (0, 1,
    ///      max, dictionary entries), which would otherwise always take the same branch (0 is
    ///      "1 in 8: invalid" everywhere). Amounts stay raw so their edge values still reach
    ///      `bound`. `seedState` passes its seeds raw.
    function _mix(uint256 x) internal view returns (uint256) {
        return _seeding ? x : uint256(keccak256(abi.encode(x)));
    }

    modifier step() {
        // The clock only moves forward through `warp`; keep it there whatever the runner does.
        if (block.timestamp != gNow) vm.warp(gNow);
        _snapScores();
        _;
        gNow = block.timestamp;
        _recordTerminals();
        _trackScores();
        _checkScoreMoves();
    }

    /// @dev Scores before a call, at the call's time (decay moves scores only across a warp, so
    ///      `warp` snaps again after moving the clock).
    function _snapScores() internal {
        for (uint256 i = 0; i < _hosts.length; ++i) {
            _scoreBefore[_hosts[i]] = reputation.scoreOf(_hosts[i]);
            _scoreMayMove[_hosts[i]] = false;
        }
        _scoreSnapAt = block.timestamp;
    }

    /// @dev A score may only change in a call where the model recorded an outcome for that host
    ///      (a release with a non-zero weight, or a penalty): completions, self-dealt releases,
    ///      upheld/lapsed releases and usd releases must leave it alone.
    function _checkScoreMoves() internal {
        if (block.timestamp != _scoreSnapAt) return;
        for (uint256 i = 0; i < _hosts.length; ++i) {
            address h = _hosts[i];
            if (!_scoreMayMove[h] && reputation.scoreOf(h) != _scoreBefore[h]) {
                ++unexplainedScoreMoves;
                lastDisagreement = string.concat("score of host ", vm.toString(i), " moved with no outcome recorded");
            }
            _scoreMayMove[h] = false;
        }
    }

    // =========================================================================================
    // staking
    // =========================================================================================

    function stake(uint256 hostSeed, uint256 amount) external step {
        hostSeed = _mix(hostSeed);
        address h = _hosts[hostSeed % _hosts.length];
        uint256 balance = gVouch[h];
        if (balance == 0) return _skip(Action.Stake);
        // Mostly a round multiple of the minimum, so hosts cross the threshold both ways.
        amount = hostSeed % 2 == 0 ? _bound(amount, 1, balance) : _min(_bound(amount, 1, 3) * MIN_STAKE, balance);
        _stake(h, amount);
    }

    function _stake(address h, uint256 amount) internal {
        _startLogs();
        vm.prank(h);
        try staking.stake(amount) {
            gActive[h] += amount;
            _moveVouch(h, address(staking), amount);
            _succeeded(Action.Stake, _checkSlashBaseEvents(h, _clearSlashBaseIfIdle(h)));
        } catch (bytes memory err) {
            _reverted(Action.Stake, true, err);
        }
    }

    function requestUnstake(uint256 hostSeed, uint256 amount) external step {
        hostSeed = _mix(hostSeed);
        address h = _hosts[hostSeed % _hosts.length];
        uint256 active = gActive[h];
        if (active == 0 && hostSeed % 8 != 0) return _skip(Action.RequestUnstake);
        // 1 in 8: more than is active; otherwise half the time only the excess over the minimum
        // (the host stays eligible), half the time anything.
        if (hostSeed % 8 == 0) amount = active + 1 + amount % MIN_STAKE;
        else if (hostSeed % 2 == 0 && active > MIN_STAKE) amount = _bound(amount, 1, active - MIN_STAKE);
        else amount = _bound(amount, 1, active);
        _requestUnstake(h, amount);
    }

    function _requestUnstake(address h, uint256 amount) internal {
        bool valid = amount <= gActive[h];
        _startLogs();
        vm.prank(h);
        try staking.requestUnstake(amount) {
            if (!valid) return _unexpectedSuccess(Action.RequestUnstake);
            gActive[h] -= amount;
            gUnbonding[h] += amount;
            gReleaseAt[h] = uint64(block.timestamp) + UNBONDING;
            _succeeded(Action.RequestUnstake, _checkSlashBaseEvents(h, _clearSlashBaseIfIdle(h)));
        } catch (bytes memory err) {
            _reverted(Action.RequestUnstake, valid, err);
        }
    }

    function withdrawStake(uint256 hostSeed) external step {
        hostSeed = _mix(hostSeed);
        // 1 in 8: a host whose unbonding stake is not free yet (period running, or jobs unfinished).
        address h = hostSeed % 8 == 0 ? _pickHost(hostSeed >> 3, _stakeNotYetFree) : _pickHost(hostSeed, _canWithdrawStake);
        if (!_canWithdrawStake(h) && hostSeed % 8 != 0) return _skip(Action.WithdrawStake);
        _withdrawStake(h);
    }

    /// @dev Staking's rule: after the unbonding period, min(unbonding, slashable - locked) leaves;
    ///      the rest keeps unbonding with the same release time (reset only when all is out);
    ///      StakeLocked when nothing is free. The lock is computed on the base before the
    ///      withdrawal; then, with unfinished jobs, the stored base rises to the slashable stake
    ///      before the withdrawal (if above it); with none, a stored base is cleared.
    function _withdrawStake(address h) internal {
        bool valid = _canWithdrawStake(h);
        uint256 expected = _withdrawable(h);
        _startLogs();
        vm.prank(h);
        try staking.withdraw() returns (uint256 amount) {
            if (!valid) return _unexpectedSuccess(Action.WithdrawStake);
            int256 baseSet = -1; // the SlashBaseSet the call must emit; -1: none
            uint256 slashable = gActive[h] + gUnbonding[h];
            if (gActiveJobs[h] != 0) {
                if (slashable > gStoredSlashBase[h]) {
                    gStoredSlashBase[h] = slashable;
                    baseSet = int256(slashable);
                    ++slashBasesFixed;
                }
            } else if (gStoredSlashBase[h] != 0) {
                gStoredSlashBase[h] = 0;
                baseSet = 0;
            }
            if (expected == gUnbonding[h]) gReleaseAt[h] = 0;
            else ++partialWithdrawals;
            gUnbonding[h] -= expected;
            _moveVouch(address(staking), h, expected);
            _succeeded(Action.WithdrawStake, amount == expected && _checkSlashBaseEvents(h, baseSet));
        } catch (bytes memory err) {
            _reverted(Action.WithdrawStake, valid, err);
        }
    }

    /// @notice The model's lockedStakeOf: unfinished jobs x the largest single slash (rate x
    ///         slash base, capped per incident, over every reason), at most the slashable stake.
    function gLocked(address h) public view returns (uint256) {
        if (gActiveJobs[h] == 0) return 0;
        uint256 slashable = gActive[h] + gUnbonding[h];
        uint256 base = gSlashBaseOf(h);
        uint256 perJob = _min(base * RATE_MISSED / BPS, MAX_SLASH);
        uint256 a = _min(base * RATE_DISPUTE / BPS, MAX_SLASH);
        if (a > perJob) perJob = a;
        a = _min(base * RATE_EQUIVOCATION / BPS, MAX_SLASH);
        if (a > perJob) perJob = a;
        return _min(gActiveJobs[h] * perJob, slashable);
    }

    /// @notice The model's slashBaseOf: the stored base or the slashable stake, whichever is
    ///         larger (the stored base counts with or without unfinished jobs until cleared).
    function gSlashBaseOf(address h) public view returns (uint256) {
        uint256 slashable = gActive[h] + gUnbonding[h];
        return gStoredSlashBase[h] > slashable ? gStoredSlashBase[h] : slashable;
    }

    /// @dev Called when a job of `h` has just become final. If that was its last unfinished job
    ///      and a withdrawal during jobs left a stored base, 3 in 4 times `h` acts on its stake
    ///      at once (a withdrawal when one is possible, else a stake or an unstake request),
    ///      each of which must clear the base; else the base stays (for a later call, or a
    ///      slash). Without this a busy host almost never reaches that state in a 64-call run.
    function _probeIdleSlashBase(address h) internal {
        if (gActiveJobs[h] != 0 || gStoredSlashBase[h] == 0) return;
        uint256 r = uint256(keccak256(abi.encode(h, block.timestamp, ++idleBaseProbes)));
        uint256 kind = r % 4;
        if (kind == 0) return;
        if (kind != 1 && _canWithdrawStake(h)) return _withdrawStake(h);
        if (kind == 1 && gVouch[h] != 0) return _stake(h, _min(_bound(r >> 2, 1, MIN_STAKE), gVouch[h]));
        if (gActive[h] != 0) return _requestUnstake(h, _bound(r >> 2, 1, gActive[h]));
        if (gVouch[h] != 0) _stake(h, _min(_bound(r >> 2, 1, MIN_STAKE), gVouch[h]));
    }

    /// @dev stake and requestUnstake: a stored base is cleared when the staker has no
    ///      unfinished job. Returns the SlashBaseSet the call must emit (-1: none).
    function _clearSlashBaseIfIdle(address h) internal returns (int256 baseSet) {
        if (gStoredSlashBase[h] == 0 || gActiveJobs[h] != 0) return -1;
        gStoredSlashBase[h] = 0;
        ++slashBasesCleared;
        return 0;
    }

    /// @dev Records the logs of the next call only (drops any left from an earlier one).
    function _startLogs() internal {
        vm.recordLogs();
        vm.getRecordedLogs();
    }

    /// @dev The staking call just made (logs recorded since `vm.recordLogs`) emitted exactly the
    ///      SlashBaseSet the model expects: none when `baseSet` is -1, else one for `h` with
    ///      that base.
    function _checkSlashBaseEvents(address h, int256 baseSet) internal returns (bool) {
        Vm.Log[] memory logs = vm.getRecordedLogs();
        uint256 seen;
        bool matches = true;
        for (uint256 i = 0; i < logs.length; ++i) {
            if (
                logs[i].emitter != address(staking) || logs[i].topics.length != 2
                    || logs[i].topics[0] != IStaking.SlashBaseSet.selector
            ) continue;
            ++seen;
            if (
                baseSet < 0 || logs[i].topics[1] != bytes32(uint256(uint160(h)))
                    || abi.decode(logs[i].data, (uint256)) != uint256(baseSet)
            ) matches = false;
        }
        return matches && seen == (baseSet < 0 ? 0 : 1);
    }

    function _withdrawable(address h) internal view returns (uint256) {
        return _min(gUnbonding[h], gActive[h] + gUnbonding[h] - gLocked(h));
    }

    // =========================================================================================
    // registry
    // =========================================================================================

    function register(uint256 hostSeed) external step {
        hostSeed = _mix(hostSeed);
        address h = _pickHost(hostSeed, _canRegister);
        bool valid = _canRegister(h);
        if (!valid && hostSeed % 8 != 0) return _skip(Action.Register);
        uint256 i = _hostIndex(h);
        // Host 0 also serves OTHER_MODEL; the others only MODEL.
        bytes32[] memory models = new bytes32[](i == 0 ? 2 : 1);
        models[0] = MODEL;
        if (i == 0) models[1] = OTHER_MODEL;
        vm.prank(h);
        try registry.register("https://host.vouch.example:8443", bytes16("eu-west-1"), models, 2 gwei) {
            if (!valid) return _unexpectedSuccess(Action.Register);
            gRegistered[h] = true;
            // Most hosts name their operator (the keeper's hot key) right away.
            if (hostSeed % 4 != 3) {
                vm.prank(h);
                registry.setOperator(_operators[i]);
                gOperator[h] = _operators[i];
            }
            _succeeded(Action.Register, true);
        } catch (bytes memory err) {
            _reverted(Action.Register, valid, err);
        }
    }

    function deregister(uint256 hostSeed) external step {
        hostSeed = _mix(hostSeed);
        // Hosts rarely leave: 3 in 4 calls do nothing (so most runs keep hosts serving).
        if (hostSeed % 4 != 0) return _skip(Action.Deregister);
        hostSeed >>= 2;
        // 1 in 8: a registered host with unfinished jobs.
        address h = hostSeed % 8 == 0 ? _pickHost(hostSeed >> 3, _hasUnfinishedJobs) : _pickHost(hostSeed, _canDeregister);
        bool valid = _canDeregister(h);
        if (!valid && hostSeed % 8 != 0) return _skip(Action.Deregister);
        vm.prank(h);
        try registry.deregister() {
            if (!valid) return _unexpectedSuccess(Action.Deregister);
            gRegistered[h] = false;
            gOperator[h] = address(0);
            _succeeded(Action.Deregister, true);
        } catch (bytes memory err) {
            _reverted(Action.Deregister, valid, err);
        }
    }

    // =========================================================================================
    // marketplace
    // =========================================================================================

    struct NewJob {
        address renter;
        address asset;
        uint256 payment;
        uint40 deadline;
        bytes32 model;
        address offered;
        uint16 minRep;
        uint256 fee;
        bool valid;
    }

    /// @dev `offerSeed` (hashed) adds the newer inputs, each mostly off:
    ///        bits 0-1 == 1: a host or an operator rents (in ETH): a self-dealt job when that
    ///          host, or the operator that claims for it, serves it;
    ///        bits 2-3 == 1: a direct offer to one host;
    ///        bits 4-7: 1..3 a minimum reputation around the scores (400..600), 4 an invalid
    ///          one (above 1000), 5 exactly 1000;
    ///        bits 8-10 == 1 (ETH): a payment at the minimum fee (minFee - 1, minFee, minFee + 1).
    ///      0 (what `seedState` passes) is a plain job from a renter.
    function createJob(uint256 renterSeed, bool inUsd, uint256 payment, uint256 duration, bool otherModel, uint256 offerSeed)
        external
        step
    {
        offerSeed = _mix(offerSeed);
        NewJob memory n;
        n.renter = _renters[renterSeed % _renters.length];
        if (offerSeed % 4 == 1) {
            uint256 k = (offerSeed >> 12) % (2 * _hosts.length);
            n.renter = k < _hosts.length ? _hosts[k] : _operators[k - _hosts.length];
            inUsd = false;
        }
        n.asset = inUsd ? address(usd) : ETH;
        n.payment = _bound(payment, 1, inUsd ? 5000 ether : 1 ether);
        if (!inUsd && (offerSeed >> 8) % 8 == 1) n.payment = MIN_FEE_ETH - 1 + (offerSeed >> 16) % 3;
        n.deadline = uint40(block.timestamp + _bound(duration, 1 minutes, 2 days));
        n.model = otherModel ? OTHER_MODEL : MODEL;
        if ((offerSeed >> 2) % 4 == 1) n.offered = _hosts[(offerSeed >> 20) % _hosts.length];
        uint256 rep = (offerSeed >> 4) % 16;
        if (rep >= 1 && rep <= 3) n.minRep = uint16(400 + (offerSeed >> 24) % 201);
        else if (rep == 4) n.minRep = uint16(MAX_SCORE + 1 + (offerSeed >> 24) % 64);
        else if (rep == 5) n.minRep = uint16(MAX_SCORE);
        // The fee, computed here: ceil(payment x bps / 10_000), at least the asset's minimum.
        n.fee = (n.payment * gFeeBps + BPS - 1) / BPS;
        uint256 minFee = inUsd ? MIN_FEE_USD : MIN_FEE_ETH;
        if (n.fee < minFee) n.fee = minFee;
        n.valid = !gPaused() && n.minRep <= MAX_SCORE && n.fee <= n.payment;
        _createJob(n, keccak256(abi.encode("input", _jobs.length, renterSeed)));
    }

    function _createJob(NewJob memory n, bytes32 input) internal {
        uint256 expectedId = _jobs.length + 1;
        bool inEth = n.asset == ETH;
        vm.prank(n.renter);
        try marketplace.createJob{value: inEth ? n.payment : 0}(
            n.model, input, n.asset, uint96(n.payment), n.deadline, n.offered, n.minRep
        ) returns (uint256 id) {
            if (!n.valid) return _unexpectedSuccess(Action.CreateJob);
            GJob storage j = _jobs.push();
            j.renter = n.renter;
            j.host = n.offered; // while Open: the offered host
            j.asset = n.asset;
            j.payment = uint96(n.payment);
            j.fee = uint96(n.fee);
            j.status = IJobMarketplace.Status.Open;
            j.deadline = n.deadline;
            j.model = n.model;
            j.minRep = n.minRep;
            gDeposited[n.asset] += n.payment;
            _succeeded(Action.CreateJob, id == expectedId);
        } catch (bytes memory err) {
            _reverted(Action.CreateJob, n.valid, err);
            if (!n.valid) _expectError(_createJobError(n), err);
        }
    }

    /// @dev The error the marketplace must give an invalid creation (its check order).
    function _createJobError(NewJob memory n) internal view returns (bytes memory) {
        if (gPaused()) return abi.encodeWithSignature("EnforcedPause()");
        if (n.minRep > MAX_SCORE) return abi.encodeWithSelector(IJobMarketplace.InvalidMinReputation.selector, n.minRep);
        return abi.encodeWithSelector(IJobMarketplace.PaymentBelowFee.selector, n.payment, n.fee);
    }

    function cancelJob(uint256 jobSeed, uint256 callerSeed) external step {
        jobSeed = _mix(jobSeed);
        callerSeed = _mix(callerSeed);
        (uint256 id, bool found) = _pickJob(jobSeed, K_OPEN);
        if (!found) return _skip(Action.CancelJob);
        GJob storage j = _jobs[id - 1];
        // 1 in 8: someone else than the renter.
        address caller = callerSeed % 8 == 0 ? _renters[(callerSeed >> 3) % _renters.length] : j.renter;
        bool valid = caller == j.renter && j.status == IJobMarketplace.Status.Open;
        vm.prank(caller);
        try marketplace.cancelJob(id) {
            if (!valid) return _unexpectedSuccess(Action.CancelJob);
            j.status = IJobMarketplace.Status.Cancelled;
            j.host = address(0); // an offer ends with the job
            _credit(j.renter, j.asset, j.payment);
            _succeeded(Action.CancelJob, true);
        } catch (bytes memory err) {
            _reverted(Action.CancelJob, valid, err);
        }
    }

    function claimJob(uint256 jobSeed, uint256 hostSeed, bool viaOperator) external step {
        jobSeed = _mix(jobSeed);
        hostSeed = _mix(hostSeed);
        (uint256 id, bool found) = _pickJob(jobSeed, K_CLAIMABLE);
        if (!found) return _skip(Action.ClaimJob);
        GJob storage j = _jobs[id - 1];
        // An offered job: mostly the offered host; 1 in 4 whichever host would serve.
        address h = j.status == IJobMarketplace.Status.Open && j.host != address(0) && (hostSeed >> 8) % 4 != 1
            ? j.host
            : _pickServingHost(hostSeed, j.model);
        address caller = viaOperator && gOperator[h] != address(0) ? gOperator[h] : h;
        // 1 in 16: some host's operator key, usually not this host's.
        if (hostSeed % 16 == 15) caller = _operators[(hostSeed >> 4) % _operators.length];
        bytes memory expectedErr = _claimError(id, h, caller);
        bool valid = expectedErr.length == 0;
        vm.prank(caller);
        try marketplace.claimJob(id, h) {
            if (!valid) return _unexpectedSuccess(Action.ClaimJob);
            if (j.host != address(0)) ++offersClaimed;
            j.host = h;
            j.claimedAt = uint40(block.timestamp);
            j.status = IJobMarketplace.Status.Claimed;
            // The operator recorded: the claiming operator, or the host's own when it claims itself.
            j.operator = caller == h ? gOperator[h] : caller;
            ++gActiveJobs[h];
            _succeeded(Action.ClaimJob, true);
        } catch (bytes memory err) {
            _reverted(Action.ClaimJob, valid, err);
            if (!valid) {
                _expectError(expectedErr, err);
                if (bytes4(expectedErr) == IJobMarketplace.ReputationTooLow.selector) ++minRepRefused;
            }
        }
    }

    /// @dev The error the marketplace must give this claim, in its check order; empty: valid.
    function _claimError(uint256 id, address h, address caller) internal view returns (bytes memory) {
        GJob storage j = _jobs[id - 1];
        if (gPaused()) return abi.encodeWithSignature("EnforcedPause()");
        if (j.status != IJobMarketplace.Status.Open) {
            return abi.encodeWithSelector(IJobMarketplace.WrongStatus.selector, id, j.status);
        }
        if (block.timestamp > j.deadline) return abi.encodeWithSelector(IJobMarketplace.JobExpiredAt.selector, id, j.deadline);
        if (!_authorized(h, caller)) return abi.encodeWithSelector(IJobMarketplace.NotHostOrOperator.selector, id, caller);
        if (j.host != address(0) && j.host != h) {
            return abi.encodeWithSelector(IJobMarketplace.NotOfferedHost.selector, id, h, j.host);
        }
        if (!_canServe(h, j.model)) return abi.encodeWithSelector(IJobMarketplace.HostCannotServe.selector, h, j.model);
        uint16 score = gScoreOf(h);
        if (j.minRep != 0 && score < j.minRep) {
            return abi.encodeWithSelector(IJobMarketplace.ReputationTooLow.selector, h, score, j.minRep);
        }
        return "";
    }

    /// @dev Completion as the proof system does it (the prover holds its role): a batch of one
    ///      host's claimed jobs, submitted for the host or by its operator.
    function completeJobs(uint256 hostSeed, uint256 count, bool viaOperator, uint256 noise) external step {
        hostSeed = _mix(hostSeed);
        noise = _mix(noise);
        address h = _pickHost(hostSeed, _hasCompletable);
        uint256[] memory candidates = _completableOf(h);
        bool addNoise = noise % 8 == 0 && _jobs.length != 0;
        if (candidates.length == 0 && !addNoise) return _skip(Action.CompleteJobs);
        uint256 n = candidates.length == 0 ? 0 : _bound(count, 1, _min(candidates.length, MAX_BATCH));
        uint256[] memory ids = new uint256[](n + (addNoise ? 1 : 0));
        uint256 start = candidates.length == 0 ? 0 : (count >> 8) % candidates.length;
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = candidates[(start + i) % candidates.length];
        }
        // Noise: any job (a wrong state, another host's, or a duplicate of the batch).
        if (addNoise) ids[n] = (noise >> 3) % _jobs.length + 1;
        bytes32[] memory outputs = new bytes32[](ids.length);
        for (uint256 i = 0; i < ids.length; ++i) {
            outputs[i] = keccak256(abi.encode("output", ids[i], noise));
        }
        if (noise % 32 == 1 && ids.length != 0) outputs[ids.length - 1] = bytes32(0);
        address submitter = viaOperator && gOperator[h] != address(0) ? gOperator[h] : h;
        bool valid = !gPaused() && _validCompletion(submitter, ids, outputs);
        vm.prank(prover);
        try marketplace.completeJobs(submitter, ids, outputs) returns (address got) {
            if (!valid) return _unexpectedSuccess(Action.CompleteJobs);
            address jobHost = _jobs[ids[0] - 1].host;
            for (uint256 i = 0; i < ids.length; ++i) {
                GJob storage j = _jobs[ids[i] - 1];
                j.status = IJobMarketplace.Status.Completed;
                j.completedAt = uint40(block.timestamp);
            }
            // Completed jobs stay unfinished (a dispute may come) until paid or refunded.
            _succeeded(Action.CompleteJobs, got == jobHost);
        } catch (bytes memory err) {
            _reverted(Action.CompleteJobs, valid, err);
        }
    }

    function expireJob(uint256 jobSeed, uint256 callerSeed) external step {
        jobSeed = _mix(jobSeed);
        callerSeed = _mix(callerSeed);
        (uint256 id, bool found) = _pickJob(jobSeed, K_EXPIRABLE);
        if (!found) return _skip(Action.ExpireJob);
        // Anyone may expire: the reporter or a renter.
        _expire(id, callerSeed % 2 == 0 ? reporter : _renters[(callerSeed >> 1) % _renters.length]);
    }

    function _expire(uint256 id, address caller) internal {
        GJob storage j = _jobs[id - 1];
        IJobMarketplace.Status s = j.status;
        // Not pausable: a refund never waits for a pause to end.
        bool valid = (s == IJobMarketplace.Status.Open || s == IJobMarketplace.Status.Claimed) && block.timestamp > j.deadline;
        vm.prank(caller);
        try marketplace.expireJob(id) {
            if (!valid) return _unexpectedSuccess(Action.ExpireJob);
            j.status = IJobMarketplace.Status.Expired;
            _credit(j.renter, j.asset, j.payment);
            if (s == IJobMarketplace.Status.Open) j.host = address(0); // an unclaimed offer ends
            if (s == IJobMarketplace.Status.Claimed) {
                --gActiveJobs[j.host];
                // No slash (nor reputation loss) for a deadline covered by a pause that ended
                // after the claim, however old that pause is.
                (bool covered, uint256 k) = _gCovering(j.deadline);
                // (A pause still in force excuses any claim: claims stop with it. Expiry is no
                // longer pausable, so this happens.)
                uint40 ends = _gPauses[k].unpausedAt;
                bool excused = covered && (ends == 0 || j.claimedAt < ends);
                if (excused) {
                    ++excusedExpiries;
                    if (k + 1 != _gPauses.length) ++excusedByEarlierPause;
                } else {
                    if (covered) ++claimedAfterPauseSlashed;
                    _gRecord(j.host, D_EXPIRY, FULL_WEIGHT);
                    _slashModel(j.host, RATE_MISSED, BENEFICIARY_BPS, j.renter);
                }
            }
            _succeeded(Action.ExpireJob, true);
            if (s == IJobMarketplace.Status.Claimed) _probeIdleSlashBase(j.host);
        } catch (bytes memory err) {
            _reverted(Action.ExpireJob, valid, err);
        }
    }

    function disputeJob(uint256 jobSeed, uint256 callerSeed) external step {
        jobSeed = _mix(jobSeed);
        callerSeed = _mix(callerSeed);
        (uint256 id, bool found) = _pickJob(jobSeed, K_DISPUTABLE);
        if (!found) return _skip(Action.DisputeJob);
        GJob storage j = _jobs[id - 1];
        // 1 in 8: another renter; 1 in 16: a wrong bond.
        address caller = callerSeed % 8 == 0 ? _renters[(callerSeed >> 3) % _renters.length] : j.renter;
        _dispute(id, caller, callerSeed % 16 == 1 ? BOND / 2 : BOND);
    }

    function _dispute(uint256 id, address caller, uint256 bond) internal {
        GJob storage j = _jobs[id - 1];
        bool valid = !gPaused() && caller == j.renter && j.status == IJobMarketplace.Status.Completed
            && block.timestamp <= _windowEnd(j) && j.dispute == ISlashing.DisputeStatus.None && bond == BOND;
        vm.prank(caller);
        try marketplace.disputeJob{value: bond}(id, keccak256(abi.encode("evidence", id))) {
            if (!valid) return _unexpectedSuccess(Action.DisputeJob);
            if (_windowEnd(j) != uint256(j.completedAt) + WINDOW) ++movedWindowCalls;
            j.status = IJobMarketplace.Status.Disputed;
            j.dispute = ISlashing.DisputeStatus.Open;
            j.ruleBy = uint40(block.timestamp + RULING_PERIOD);
            j.bond = uint96(bond);
            gOpenBonds += bond;
            gBondsPaidIn += bond;
            _succeeded(Action.DisputeJob, true);
        } catch (bytes memory err) {
            _reverted(Action.DisputeJob, valid, err);
        }
    }

    /// @dev The arbiter (the admin, standing in for the timelock) rules, by the ruling deadline.
    function resolveDispute(uint256 jobSeed, bool upheld) external step {
        jobSeed = _mix(jobSeed);
        (uint256 id, bool found) = _pickJob(jobSeed, K_RULABLE);
        if (!found) return _skip(Action.ResolveDispute);
        _resolve(id, upheld);
    }

    function _resolve(uint256 id, bool upheld) internal {
        GJob storage j = _jobs[id - 1];
        bool open = j.status == IJobMarketplace.Status.Disputed;
        bool valid = open && block.timestamp <= j.ruleBy;
        vm.prank(admin);
        try slashing.resolveDispute(id, upheld) {
            if (!valid) return _unexpectedSuccess(Action.ResolveDispute);
            gOpenBonds -= j.bond;
            gBond[upheld ? j.renter : j.host] += j.bond;
            j.bond = 0;
            if (upheld) {
                j.dispute = ISlashing.DisputeStatus.Upheld;
                j.status = IJobMarketplace.Status.Refunded;
                --gActiveJobs[j.host];
                _credit(j.renter, j.asset, j.payment);
                _gRecord(j.host, D_UPHELD, FULL_WEIGHT);
                _slashModel(j.host, RATE_DISPUTE, BENEFICIARY_BPS, j.renter);
            } else {
                j.dispute = ISlashing.DisputeStatus.Rejected;
                j.status = IJobMarketplace.Status.Completed;
            }
            _succeeded(Action.ResolveDispute, true);
            if (upheld) _probeIdleSlashBase(j.host);
        } catch (bytes memory err) {
            _reverted(Action.ResolveDispute, valid, err);
            if (!valid) {
                _expectError(
                    open
                        ? abi.encodeWithSelector(ISlashing.RulingDeadlinePassed.selector, id, j.ruleBy)
                        : abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id),
                    err
                );
            }
        }
    }

    /// @dev Anyone closes a dispute the arbiter let lapse: the bond to the host, the job back to
    ///      Completed (releasable, no reputation), nobody slashed.
    function closeLapsedDispute(uint256 jobSeed, uint256 callerSeed) external step {
        jobSeed = _mix(jobSeed);
        callerSeed = _mix(callerSeed);
        (uint256 id, bool found) = _pickJob(jobSeed, K_LAPSABLE);
        if (!found) return _skip(Action.CloseLapsedDispute);
        _closeLapsed(id, callerSeed % 2 == 0 ? reporter : _renters[(callerSeed >> 1) % _renters.length]);
    }

    function _closeLapsed(uint256 id, address caller) internal {
        GJob storage j = _jobs[id - 1];
        bool open = j.status == IJobMarketplace.Status.Disputed;
        bool valid = open && block.timestamp > j.ruleBy;
        vm.prank(caller);
        try slashing.closeLapsedDispute(id) {
            if (!valid) return _unexpectedSuccess(Action.CloseLapsedDispute);
            gOpenBonds -= j.bond;
            gBond[j.host] += j.bond;
            j.bond = 0;
            j.dispute = ISlashing.DisputeStatus.Lapsed;
            j.status = IJobMarketplace.Status.Completed;
            ++lapsedDisputes;
            _succeeded(Action.CloseLapsedDispute, true);
        } catch (bytes memory err) {
            _reverted(Action.CloseLapsedDispute, valid, err);
            if (!valid) {
                _expectError(
                    open
                        ? abi.encodeWithSelector(ISlashing.RulingDeadlineNotPassed.selector, id, j.ruleBy)
                        : abi.encodeWithSelector(ISlashing.NoOpenDispute.selector, id),
                    err
                );
            }
        }
    }

    function releasePayments(uint256 jobSeed, uint256 count, uint256 noise) external step {
        jobSeed = _mix(jobSeed);
        noise = _mix(noise);
        uint256[] memory candidates = _releasable();
        bool addNoise = noise % 8 == 0 && _jobs.length != 0;
        if (candidates.length == 0 && !addNoise) return _skip(Action.ReleasePayments);
        uint256 n = candidates.length == 0 ? 0 : _bound(count, 1, _min(candidates.length, MAX_BATCH));
        uint256[] memory ids = new uint256[](n + (addNoise ? 1 : 0));
        uint256 start = candidates.length == 0 ? 0 : jobSeed % candidates.length;
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = candidates[(start + i) % candidates.length];
        }
        if (addNoise) (ids[n],) = _pickJob(noise & ~uint256(7), K_RELEASABLE_SOON); // a near miss or any job
        _release(ids);
    }

    function _release(uint256[] memory ids) internal {
        bool valid = _validRelease(ids);
        vm.prank(reporter); // anyone may release
        try marketplace.releasePayments(ids) {
            if (!valid) return _unexpectedSuccess(Action.ReleasePayments);
            _applyRelease(ids);
            _succeeded(Action.ReleasePayments, true);
            for (uint256 i = 0; i < ids.length; ++i) {
                _probeIdleSlashBase(_jobs[ids[i] - 1].host);
            }
        } catch (bytes memory err) {
            _reverted(Action.ReleasePayments, valid, err);
        }
    }

    /// @dev Payment (less the fee fixed at creation) to the host, the fee to the treasury, and
    ///      reputation: each job's weight summed over each run of consecutive jobs of one host,
    ///      one record per run with a non-zero sum.
    function _applyRelease(uint256[] memory ids) internal {
        address runHost;
        uint256 runWeight;
        for (uint256 i = 0; i < ids.length; ++i) {
            GJob storage j = _jobs[ids[i] - 1];
            if (_windowEnd(j) != uint256(j.completedAt) + WINDOW) ++movedWindowCalls;
            j.status = IJobMarketplace.Status.Paid;
            --gActiveJobs[j.host];
            _credit(j.host, j.asset, j.payment - j.fee);
            _credit(treasury, j.asset, j.fee);
            uint256 w = _weight(j);
            if (j.renter == j.host || j.renter == j.operator) ++selfDealtReleases;
            if (w == 0) ++zeroWeightReleases;
            else ++weightedReleases;
            if (j.host != runHost) {
                if (runWeight != 0) _gRecord(runHost, D_COMPLETION, runWeight);
                runHost = j.host;
                runWeight = 0;
            }
            runWeight += w;
        }
        if (runWeight != 0) _gRecord(runHost, D_COMPLETION, runWeight);
    }

    /// @dev A released job's weight in 1/10_000 of a full completion: 0 when self-dealt (the
    ///      renter is the host or the operator recorded at claim), when its dispute was upheld
    ///      or lapsed, or when its asset has no credit fee; else fee / creditFee, at most 1.
    function _weight(GJob storage j) internal view returns (uint256) {
        if (j.dispute != ISlashing.DisputeStatus.None && j.dispute != ISlashing.DisputeStatus.Rejected) return 0;
        if (j.renter == j.host || j.renter == j.operator) return 0;
        uint256 creditFee = j.asset == ETH ? CREDIT_FEE_ETH : CREDIT_FEE_USD;
        if (creditFee == 0) return 0;
        return _min(uint256(j.fee) * FULL_WEIGHT / creditFee, FULL_WEIGHT);
    }

    /// @dev Renters, hosts and the treasury pull what they were credited.
    function withdrawPayment(uint256 accountSeed, bool inUsd) external step {
        accountSeed = _mix(accountSeed);
        address asset = inUsd ? address(usd) : ETH;
        address[] memory accounts = payees();
        address a = accounts[accountSeed % accounts.length];
        if (gClaimable[a][asset] == 0) {
            for (uint256 k = 1; k < accounts.length; ++k) {
                address b = accounts[(accountSeed % accounts.length + k) % accounts.length];
                if (gClaimable[b][asset] != 0) {
                    a = b;
                    break;
                }
            }
        }
        uint256 expected = gClaimable[a][asset];
        if (expected == 0 && accountSeed % 8 != 0) return _skip(Action.WithdrawPayment);
        bool valid = expected != 0;
        uint256 ethBefore = a.balance;
        uint256 usdBefore = usd.balanceOf(a);
        vm.prank(a);
        try marketplace.withdraw(asset) returns (uint256 amount) {
            if (!valid) return _unexpectedSuccess(Action.WithdrawPayment);
            gClaimable[a][asset] = 0;
            gWithdrawn[asset] += expected;
            bool received = inUsd ? usd.balanceOf(a) == usdBefore + expected : a.balance == ethBefore + expected;
            _succeeded(Action.WithdrawPayment, amount == expected && received);
        } catch (bytes memory err) {
            _reverted(Action.WithdrawPayment, valid, err);
        }
    }

    // =========================================================================================
    // slashing
    // =========================================================================================

    function withdrawBond(uint256 accountSeed) external step {
        accountSeed = _mix(accountSeed);
        address[] memory accounts = bondHolders();
        address a = accounts[accountSeed % accounts.length];
        if (gBond[a] == 0) {
            for (uint256 k = 1; k < accounts.length; ++k) {
                address b = accounts[(accountSeed % accounts.length + k) % accounts.length];
                if (gBond[b] != 0) {
                    a = b;
                    break;
                }
            }
        }
        uint256 expected = gBond[a];
        if (expected == 0 && accountSeed % 8 != 0) return _skip(Action.WithdrawBond);
        bool valid = expected != 0;
        uint256 before = a.balance;
        vm.prank(a);
        try slashing.withdrawBond() returns (uint256 amount) {
            if (!valid) return _unexpectedSuccess(Action.WithdrawBond);
            gBond[a] = 0;
            gBondsPaidOut += expected;
            _succeeded(Action.WithdrawBond, amount == expected && a.balance == before + expected);
        } catch (bytes memory err) {
            _reverted(Action.WithdrawBond, valid, err);
        }
    }

    /// @dev Two EIP-712 results for one job, signed with real keys: the host's, its operator's,
    ///      or (invalid) an outsider's; now and then the same output twice or the wrong host.
    function reportEquivocation(uint256 jobSeed, uint256 mode, bytes32 outA, bytes32 outB) external step {
        jobSeed = _mix(jobSeed);
        mode = _mix(mode);
        (uint256 id, bool found) = _pickJob(jobSeed, K_EQUIVOCABLE);
        if (!found) return _skip(Action.ReportEquivocation);
        Report memory r = _buildReport(id, mode, outA, outB);
        vm.prank(reporter);
        try slashing.reportEquivocation(r.host, id, r.outA, r.sigA, r.outB, r.sigB) returns (uint256 amount) {
            if (!r.valid) return _unexpectedSuccess(Action.ReportEquivocation);
            gReported[id] = true;
            _gRecord(r.host, D_EQUIVOCATION, FULL_WEIGHT);
            uint256 expected = _slashModel(r.host, RATE_EQUIVOCATION, REPORTER_BPS, reporter);
            _succeeded(Action.ReportEquivocation, amount == expected);
        } catch (bytes memory err) {
            _reverted(Action.ReportEquivocation, r.valid, err);
        }
    }

    struct Report {
        address host;
        bytes32 outA;
        bytes32 outB;
        bytes sigA;
        bytes sigB;
        bool valid;
    }

    function _buildReport(uint256 id, uint256 mode, bytes32 outA, bytes32 outB) internal view returns (Report memory r) {
        GJob storage j = _jobs[id - 1];
        uint256 hi = j.host != address(0) ? _hostIndex(j.host) : mode % _hosts.length;
        r.host = _hosts[hi];
        if (mode % 16 == 15) r.host = _hosts[(hi + 1) % _hosts.length];
        if (mode % 16 == 14) outB = outA;
        else if (outA == outB) outB = bytes32(uint256(outA) ^ 1);
        r.outA = outA;
        r.outB = outB;
        (address signerA, uint256 keyA, address signerB, uint256 keyB) = _equivocationSigners(hi, mode);
        r.sigA = _sign(keyA, id, outA);
        r.sigB = _sign(keyB, id, outB);
        // Open jobs hold the offered host, not a claimer (cancelled and unclaimed expired ones
        // hold none); a signer counts if it is the host, the job's recorded operator or the
        // host's current operator.
        r.valid = outA != outB && !gReported[id] && j.host != address(0) && j.host == r.host
            && j.status != IJobMarketplace.Status.Open && _mayResult(j, signerA) && _mayResult(j, signerB);
    }

    function _mayResult(GJob storage j, address signer) internal view returns (bool) {
        return _authorized(j.host, signer) || (signer != address(0) && signer == j.operator);
    }

    // =========================================================================================
    // time and parameters
    // =========================================================================================

    /// @dev Mostly minutes to hours; 1 in 4 up to 3 days (deadlines, dispute windows); 1 in 16
    ///      a long jump, up to two years (unbonding periods, reputation decay over many
    ///      half-lives, down to the 16-half-life cut-off).
    ///      1 in 4 lands exactly on a boundary (a deadline, the end of a dispute window, the end
    ///      of an unbonding period) or one second past it, where off-by-one errors live.
    ///      Such a warp then probes the boundary at once: expiry at a deadline, release or
    ///      dispute at the end of a dispute window, withdrawal at the end of unbonding.
    function warp(uint256 seconds_) external step {
        seconds_ = _mix(seconds_);
        if (seconds_ % 4 == 3) {
            (uint256 at, uint8 kind, uint256 subject) = _boundaryAfterNow(seconds_ >> 2);
            if (at != 0) {
                vm.warp(at);
                _snapScores();
                _succeeded(Action.Warp, true);
                if (kind == B_DEADLINE) {
                    _expire(subject, reporter);
                } else if (kind == B_WINDOW) {
                    // Both sides: at the window's last second a dispute is still on time and a
                    // release too early; a second later the reverse. The invalid one goes first.
                    GJob storage j = _jobs[subject - 1];
                    if (at == _windowEnd(j)) {
                        _release(_single(subject));
                        _dispute(subject, j.renter, BOND);
                    } else {
                        _dispute(subject, j.renter, BOND);
                        _release(_single(subject));
                    }
                } else if (kind == B_RULING) {
                    // At ruleBy the arbiter may still rule and nobody may close; a second later
                    // the reverse. The invalid one goes first.
                    if (at == _jobs[subject - 1].ruleBy) {
                        _closeLapsed(subject, reporter);
                        _resolve(subject, seconds_ % 32 < 16);
                    } else {
                        _resolve(subject, seconds_ % 32 < 16);
                        _closeLapsed(subject, reporter);
                    }
                } else if (kind == B_GUARDIAN) {
                    // A guardian pause lapses by itself at its end: a second before it an unpause
                    // still has a pause to end, at the end none.
                    _unpause();
                } else {
                    _withdrawStake(_hosts[subject]);
                }
                return;
            }
        }
        uint256 r = seconds_ >> 4;
        uint256 by;
        if (seconds_ % 16 == 0) by = r % 2 == 0 ? _bound(r >> 1, 7 days, 120 days) : _bound(r >> 1, 120 days, 730 days);
        else if (seconds_ % 4 == 1) by = _bound(r, 1 hours, 3 days);
        else by = _bound(r, 1 minutes, 8 hours);
        vm.warp(block.timestamp + by);
        _snapScores();
        _succeeded(Action.Warp, true);
    }

    uint8 internal constant B_DEADLINE = 1;
    uint8 internal constant B_WINDOW = 2;
    uint8 internal constant B_UNBONDING = 3;
    uint8 internal constant B_RULING = 4;
    uint8 internal constant B_GUARDIAN = 5;

    /// @dev A future boundary (a job's deadline or dispute-window end, a host's unbonding end),
    ///      chosen by `seed`: the boundary second itself or the one on its other side. Returns
    ///      the time, the kind of boundary and its job id or host index; time 0 if none.
    function _boundaryAfterNow(uint256 seed) internal view returns (uint256 at, uint8 kind, uint256 subject) {
        uint256 total = _jobs.length + _hosts.length + 1;
        uint256 plus = seed % 2;
        uint256 start = (seed >> 1) % total;
        for (uint256 k = 0; k < total; ++k) {
            uint256 i = (start + k) % total;
            if (i < _jobs.length) {
                GJob storage j = _jobs[i];
                IJobMarketplace.Status s = j.status;
                // Expiry opens the second after the deadline; release the second after the window.
                if (s == IJobMarketplace.Status.Open || s == IJobMarketplace.Status.Claimed) {
                    (at, kind) = (uint256(j.deadline) + plus, B_DEADLINE);
                } else if (s == IJobMarketplace.Status.Completed) {
                    uint256 end = _windowEnd(j);
                    if (end == type(uint256).max) continue; // no end while the pause lasts
                    (at, kind) = (end + plus, B_WINDOW);
                } else if (s == IJobMarketplace.Status.Disputed) {
                    // The ruling deadline: ruleBy itself is the last second to rule.
                    (at, kind) = (uint256(j.ruleBy) + plus, B_RULING);
                } else {
                    continue;
                }
                subject = i + 1;
            } else if (i == total - 1) {
                // The end of the guardian pause in force: paused() is false from that second.
                if (gGovPaused || gGuardianEnds <= block.timestamp) continue;
                (at, kind, subject) = (uint256(gGuardianEnds) - plus, B_GUARDIAN, 0);
            } else {
                address h = _hosts[i - _jobs.length];
                if (gUnbonding[h] == 0) continue;
                // Withdrawal opens at releaseAt itself: the other side is the second before.
                (at, kind, subject) = (uint256(gReleaseAt[h]) - plus, B_UNBONDING, i - _jobs.length);
            }
            if (at > block.timestamp) return (at, kind, subject);
        }
        return (0, 0, 0);
    }

    function _single(uint256 id) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = id;
    }

    /// @dev Governance pauses the marketplace now and then (1 in 4 calls while running) and
    ///      unpauses it on the next call, so most of a run is unpaused. Right after unpausing,
    ///      1 in 2 calls probe the excuse: a claimed, overdue job whose deadline a pause covers
    ///      is expired, one covered by an earlier pause first (old pauses excuse forever), else
    ///      one covered by the pause just ended. The other calls leave such jobs for later, so
    ///      they live through further pauses.
    function togglePause(uint256 seed_) external step {
        seed_ = _mix(seed_);
        bool paused = gPaused();
        // 1 in 16 the wrong call: unpause while running, pause during governance's own pause.
        if (seed_ % 16 == 5 && (gGovPaused || !paused)) return gGovPaused ? _pause() : _unpause();
        if (!paused) {
            if (seed_ % 4 != 0) return _skip(Action.TogglePause);
            return _pause();
        }
        // During a guardian pause governance now and then takes it over (open-ended) instead.
        if (!gGovPaused && (seed_ >> 2) % 4 == 1) return _pause();
        _unpause();
        if ((seed_ >> 2) % 2 == 0) {
            uint256 probe = _coveredOverdueJob();
            if (probe != 0) _expire(probe, reporter);
        }
    }

    /// @dev Governance's pause: refused only during its own pause; during a guardian pause it
    ///      takes that one over (its window becomes open-ended), else a new window opens.
    function _pause() internal {
        bool valid = !gGovPaused;
        vm.prank(admin);
        try marketplace.pause() {
            if (!valid) return _unexpectedSuccess(Action.TogglePause);
            if (block.timestamp < gGuardianEnds) {
                _gPauses[_gPauses.length - 1].unpausedAt = 0;
            } else {
                _gPauses.push(IJobMarketplace.PauseWindow({pausedAt: uint40(block.timestamp), unpausedAt: 0}));
            }
            gGovPaused = true;
            gGuardianEnds = 0;
            _succeeded(Action.TogglePause, true);
        } catch (bytes memory err) {
            _reverted(Action.TogglePause, valid, err);
            if (!valid) _expectError(abi.encodeWithSignature("EnforcedPause()"), err);
        }
    }

    /// @dev Ends any pause in force, a guardian one early too; refused when none is.
    function _unpause() internal {
        bool valid = gPaused();
        vm.prank(admin);
        try marketplace.unpause() {
            if (!valid) return _unexpectedSuccess(Action.TogglePause);
            gGovPaused = false;
            gGuardianEnds = 0;
            _gPauses[_gPauses.length - 1].unpausedAt = uint40(block.timestamp);
            _succeeded(Action.TogglePause, true);
        } catch (bytes memory err) {
            _reverted(Action.TogglePause, valid, err);
            if (!valid) _expectError(abi.encodeWithSignature("ExpectedPause()"), err);
        }
    }

    /// @dev The guardian pauses for maxGuardianPause (1 in 4 calls: 3 days is long for a run),
    ///      and tries as often when it may not: during a pause, or within maxGuardianPause of the
    ///      previous guardian pause's planned end.
    function guardianPause(uint256 seed_) external step {
        seed_ = _mix(seed_);
        bool tooSoon = gLastGuardianEnd != 0 && block.timestamp < uint256(gLastGuardianEnd) + MAX_GUARDIAN_PAUSE;
        bool valid = !gPaused() && !tooSoon;
        if (seed_ % 4 != 0) return _skip(Action.GuardianPause);
        vm.prank(guardian);
        try marketplace.guardianPause() {
            if (!valid) return _unexpectedSuccess(Action.GuardianPause);
            uint40 ends = uint40(block.timestamp + MAX_GUARDIAN_PAUSE);
            gGuardianEnds = ends;
            gLastGuardianEnd = ends;
            _gPauses.push(IJobMarketplace.PauseWindow({pausedAt: uint40(block.timestamp), unpausedAt: ends}));
            ++guardianPauses;
            _succeeded(Action.GuardianPause, true);
        } catch (bytes memory err) {
            _reverted(Action.GuardianPause, valid, err);
            if (!valid) {
                _expectError(
                    gPaused()
                        ? abi.encodeWithSignature("EnforcedPause()")
                        : abi.encodeWithSignature(
                            "GuardianPauseTooSoon(uint256)", uint256(gLastGuardianEnd) + MAX_GUARDIAN_PAUSE
                        ),
                    err
                );
            }
        }
    }

    /// @notice The model's paused(): governance's pause, or a guardian pause not yet lapsed.
    function gPaused() public view returns (bool) {
        return gGovPaused || block.timestamp < gGuardianEnds;
    }

    /// @dev A claimed job past its deadline that a pause covers (whether or not the claim came
    ///      before that pause ended): one covered by an earlier pause than the latest if any;
    ///      0 if none.
    function _coveredOverdueJob() internal view returns (uint256 id) {
        for (uint256 i = 0; i < _jobs.length; ++i) {
            GJob storage j = _jobs[i];
            if (j.status != IJobMarketplace.Status.Claimed || j.deadline >= block.timestamp) continue;
            (bool covered, uint256 k) = _gCovering(j.deadline);
            if (!covered) continue;
            if (k + 1 != _gPauses.length) return i + 1;
            if (id == 0) id = i + 1;
        }
    }

    function setProtocolFee(uint256 feeBps) external step {
        uint16 fee = uint16(_bound(feeBps, 0, 1000));
        vm.prank(admin);
        try marketplace.setProtocolFee(fee) {
            gFeeBps = fee;
            _succeeded(Action.SetProtocolFee, true);
        } catch (bytes memory err) {
            _reverted(Action.SetProtocolFee, true, err);
        }
    }

    // =========================================================================================
    // views for the invariants
    // =========================================================================================

    function actionSelectors() external pure returns (bytes4[] memory s) {
        s = new bytes4[](ACTIONS);
        s[0] = this.stake.selector;
        s[1] = this.requestUnstake.selector;
        s[2] = this.withdrawStake.selector;
        s[3] = this.register.selector;
        s[4] = this.deregister.selector;
        s[5] = this.createJob.selector;
        s[6] = this.cancelJob.selector;
        s[7] = this.claimJob.selector;
        s[8] = this.completeJobs.selector;
        s[9] = this.expireJob.selector;
        s[10] = this.disputeJob.selector;
        s[11] = this.resolveDispute.selector;
        s[12] = this.releasePayments.selector;
        s[13] = this.withdrawPayment.selector;
        s[14] = this.withdrawBond.selector;
        s[15] = this.reportEquivocation.selector;
        s[16] = this.warp.selector;
        s[17] = this.setProtocolFee.selector;
        s[18] = this.togglePause.selector;
        s[19] = this.closeLapsedDispute.selector;
        s[20] = this.guardianPause.selector;
    }

    function hosts() external view returns (address[] memory) {
        return _hosts;
    }

    function renters() external view returns (address[] memory) {
        return _renters;
    }

    function vouchHolders() external view returns (address[] memory) {
        return _vouchHolders;
    }

    /// @notice Every account the marketplace can credit: renters (refunds), hosts (payments and,
    ///         renting themselves, refunds), operators (refunds: they rent too) and the treasury
    ///         (fees). The reporter is never credited.
    function payees() public view returns (address[] memory a) {
        a = new address[](_renters.length + 2 * _hosts.length + 1);
        uint256 k = 0;
        for (uint256 i = 0; i < _renters.length; ++i) {
            a[k++] = _renters[i];
        }
        for (uint256 i = 0; i < _hosts.length; ++i) {
            a[k++] = _hosts[i];
            a[k++] = _operators[i];
        }
        a[k] = treasury;
    }

    /// @notice Every account a dispute bond can be credited to: renters (upheld; hosts and
    ///         operators rent too) and hosts (rejected, lapsed).
    function bondHolders() public view returns (address[] memory a) {
        a = new address[](_renters.length + 2 * _hosts.length);
        uint256 k = 0;
        for (uint256 i = 0; i < _renters.length; ++i) {
            a[k++] = _renters[i];
        }
        for (uint256 i = 0; i < _hosts.length; ++i) {
            a[k++] = _hosts[i];
            a[k++] = _operators[i];
        }
    }

    /// @notice The model's scoreOf: the stored score decayed toward 500 since it was recorded
    ///         (the decay curve itself is ReputationRegistry's pure `decay`, unit-tested there).
    function gScoreOf(address h) public view returns (uint16) {
        GRep storage r = _gRep[h];
        if (r.updatedAt == 0) return NEUTRAL;
        return reputation.decay(r.score, block.timestamp - r.updatedAt, HALF_LIFE);
    }

    /// @notice Every account that holds or can receive ETH in the system.
    function ethAccounts() public view returns (address[] memory a) {
        address[] memory p = payees();
        a = new address[](p.length + 2);
        for (uint256 i = 0; i < p.length; ++i) {
            a[i] = p[i];
        }
        a[p.length] = address(marketplace);
        a[p.length + 1] = address(slashing);
    }

    function jobCount() external view returns (uint256) {
        return _jobs.length;
    }

    function gPauseCount() external view returns (uint256) {
        return _gPauses.length;
    }

    function gPause(uint256 i) external view returns (IJobMarketplace.PauseWindow memory) {
        return _gPauses[i];
    }

    /// @notice The model's dispute-window end of a Completed or Disputed job.
    function gWindowEnd(uint256 id) external view returns (uint256) {
        return _windowEnd(_jobs[id - 1]);
    }

    function job(uint256 id) external view returns (GJob memory) {
        return _jobs[id - 1];
    }

    /// @notice Escrow the model holds for jobs not yet credited to anyone, per asset.
    function gEscrow(address asset) external view returns (uint256 sum) {
        for (uint256 i = 0; i < _jobs.length; ++i) {
            GJob storage j = _jobs[i];
            if (j.asset == asset && _escrowed(j.status)) sum += j.payment;
        }
    }

    /// @notice A host's jobs that are not final: Claimed, Completed or Disputed.
    function unfinishedJobsOf(address h) external view returns (uint256 n) {
        for (uint256 i = 0; i < _jobs.length; ++i) {
            IJobMarketplace.Status s = _jobs[i].status;
            if (
                _jobs[i].host == h
                    && (s == IJobMarketplace.Status.Claimed || s == IJobMarketplace.Status.Completed
                        || s == IJobMarketplace.Status.Disputed)
            ) ++n;
        }
    }

    function okCalls(Action a) external view returns (uint256) {
        return _ok[uint256(a)];
    }

    function callSummary() external view {
        string[ACTIONS] memory names = [
            "stake",
            "requestUnstake",
            "withdrawStake",
            "register",
            "deregister",
            "createJob",
            "cancelJob",
            "claimJob",
            "completeJobs",
            "expireJob",
            "disputeJob",
            "resolveDispute",
            "releasePayments",
            "withdrawPayment",
            "withdrawBond",
            "reportEquivocation",
            "warp",
            "setProtocolFee",
            "togglePause",
            "closeLapsedDispute",
            "guardianPause"
        ];
        console.log("action                  ok  rejected(expected)  skipped");
        uint256 totalOk;
        uint256 totalRejected;
        uint256 totalSkipped;
        for (uint256 i = 0; i < ACTIONS; ++i) {
            console.log(string.concat(_pad(names[i], 22), _pad(vm.toString(_ok[i]), 6), _pad(vm.toString(_rejected[i]), 20), vm.toString(_skipped[i])));
            totalOk += _ok[i];
            totalRejected += _rejected[i];
            totalSkipped += _skipped[i];
        }
        console.log(string.concat(_pad("total", 22), _pad(vm.toString(totalOk), 6), _pad(vm.toString(totalRejected), 20), vm.toString(totalSkipped)));
        console.log("jobs", _jobs.length, "terminal", terminalCount);
        console.log("pauses", _gPauses.length);
        console.log("expiries excused by a pause", excusedExpiries, "of which by an earlier pause", excusedByEarlierPause);
        console.log("slashed though covered (claimed after the pause)", claimedAfterPauseSlashed);
        console.log("disputes and releases with a window end moved by a pause", movedWindowCalls);
        console.log("VOUCH slashed", totalSlashed / 1 ether, "score range", string.concat(vm.toString(minScoreSeen), "..", vm.toString(maxScoreSeen)));
        console.log("unexpected successes / reverts / wrong returns", unexpectedSuccesses, unexpectedReverts, wrongReturnValues);
        console.log("releases: weighted", weightedReleases, "zero-weight", zeroWeightReleases);
        console.log("self-dealt releases", selfDealtReleases, "unexplained score moves", unexplainedScoreMoves);
        console.log("partial stake withdrawals", partialWithdrawals, "lapsed disputes", lapsedDisputes);
        console.log("slash bases fixed", slashBasesFixed, "cleared by stake/unstake", slashBasesCleared);
        console.log("slashes capped by the stake left", slashesCappedByStake, "idle-base probes", idleBaseProbes);
        console.log("guardian pauses", guardianPauses, "offers claimed", offersClaimed);
        console.log("claims refused for reputation", minRepRefused, "wrong revert reasons", wrongRevertReasons);
    }

    // =========================================================================================
    // model internals
    // =========================================================================================

    uint8 internal constant K_OPEN = 1;
    uint8 internal constant K_CLAIMABLE = 2;
    uint8 internal constant K_EXPIRABLE = 3;
    uint8 internal constant K_DISPUTABLE = 4;
    uint8 internal constant K_RULABLE = 5; // disputed, ruling deadline not passed
    uint8 internal constant K_LAPSABLE = 8; // disputed, ruling deadline passed
    uint8 internal constant K_EQUIVOCABLE = 6;
    uint8 internal constant K_RELEASABLE_SOON = 7; // near misses of releasePayments only

    function _matches(uint256 id, uint8 kind) internal view returns (bool) {
        GJob storage j = _jobs[id - 1];
        IJobMarketplace.Status s = j.status;
        if (kind == K_OPEN) return s == IJobMarketplace.Status.Open;
        if (kind == K_CLAIMABLE) return s == IJobMarketplace.Status.Open && block.timestamp <= j.deadline;
        if (kind == K_EXPIRABLE) {
            return (s == IJobMarketplace.Status.Open || s == IJobMarketplace.Status.Claimed) && block.timestamp > j.deadline;
        }
        if (kind == K_DISPUTABLE) {
            return s == IJobMarketplace.Status.Completed && block.timestamp <= _windowEnd(j)
                && j.dispute == ISlashing.DisputeStatus.None;
        }
        if (kind == K_RULABLE) return s == IJobMarketplace.Status.Disputed && block.timestamp <= j.ruleBy;
        if (kind == K_LAPSABLE) return s == IJobMarketplace.Status.Disputed && block.timestamp > j.ruleBy;
        if (kind == K_EQUIVOCABLE) {
            return j.host != address(0) && s != IJobMarketplace.Status.Open && !gReported[id];
        }
        return true;
    }

    /// @dev A job in the right state for `kind` but on the wrong side of a time boundary (or
    ///      already used): where off-by-one and double-use errors would show.
    function _nearMiss(uint256 id, uint8 kind) internal view returns (bool) {
        GJob storage j = _jobs[id - 1];
        IJobMarketplace.Status s = j.status;
        if (kind == K_CLAIMABLE) return s == IJobMarketplace.Status.Open && block.timestamp > j.deadline;
        if (kind == K_EXPIRABLE) {
            return (s == IJobMarketplace.Status.Open || s == IJobMarketplace.Status.Claimed) && block.timestamp <= j.deadline;
        }
        if (kind == K_DISPUTABLE) {
            return s == IJobMarketplace.Status.Completed
                && (block.timestamp > _windowEnd(j) || j.dispute != ISlashing.DisputeStatus.None);
        }
        if (kind == K_RULABLE) return s == IJobMarketplace.Status.Disputed && block.timestamp > j.ruleBy;
        if (kind == K_LAPSABLE) return s == IJobMarketplace.Status.Disputed && block.timestamp <= j.ruleBy;
        if (kind == K_RELEASABLE_SOON) {
            return s == IJobMarketplace.Status.Completed && block.timestamp <= _windowEnd(j);
        }
        if (kind == K_EQUIVOCABLE) {
            return j.host != address(0) && (gReported[id] || s == IJobMarketplace.Status.Open);
        }
        return false;
    }

    /// @dev 7 in 8: a job the model says fits `kind` (none: not found); 1 in 8 a job it says
    ///      does not: half the time a near miss (see `_nearMiss`), else any job.
    function _pickJob(uint256 seed, uint8 kind) internal view returns (uint256 id, bool found) {
        uint256 n = _jobs.length;
        if (n == 0) return (0, false);
        uint256 start = (seed >> 4) % n;
        if (seed % 8 == 0) {
            if ((seed >> 3) % 2 == 0) {
                for (uint256 k = 0; k < n; ++k) {
                    uint256 candidate = (start + k) % n + 1;
                    if (_nearMiss(candidate, kind)) return (candidate, true);
                }
            }
            return (start + 1, true);
        }
        for (uint256 k = 0; k < n; ++k) {
            uint256 candidate = (start + k) % n + 1;
            if (_matches(candidate, kind)) return (candidate, true);
        }
        return (0, false);
    }

    function _completableOf(address h) internal view returns (uint256[] memory ids) {
        uint256[] memory tmp = new uint256[](_jobs.length);
        uint256 n = 0;
        for (uint256 i = 0; i < _jobs.length; ++i) {
            GJob storage j = _jobs[i];
            if (j.host == h && j.status == IJobMarketplace.Status.Claimed && block.timestamp <= j.deadline) tmp[n++] = i + 1;
        }
        ids = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = tmp[i];
        }
    }

    function _releasable() internal view returns (uint256[] memory ids) {
        uint256[] memory tmp = new uint256[](_jobs.length);
        uint256 n = 0;
        for (uint256 i = 0; i < _jobs.length; ++i) {
            GJob storage j = _jobs[i];
            if (j.status == IJobMarketplace.Status.Completed && block.timestamp > _windowEnd(j)) {
                tmp[n++] = i + 1;
            }
        }
        ids = new uint256[](n);
        for (uint256 i = 0; i < n; ++i) {
            ids[i] = tmp[i];
        }
    }

    /// @dev The marketplace's rule: non-empty; every job Claimed (so no id twice), not past
    ///      its deadline, all of one host; the submitter is that host or its operator; no zero
    ///      output.
    function _validCompletion(address submitter, uint256[] memory ids, bytes32[] memory outputs)
        internal
        view
        returns (bool)
    {
        if (ids.length == 0) return false;
        address h = _jobs[ids[0] - 1].host;
        if (!_authorized(h, submitter)) return false;
        for (uint256 i = 0; i < ids.length; ++i) {
            GJob storage j = _jobs[ids[i] - 1];
            if (j.status != IJobMarketplace.Status.Claimed || block.timestamp > j.deadline || j.host != h) return false;
            if (outputs[i] == bytes32(0)) return false;
            for (uint256 k = 0; k < i; ++k) {
                if (ids[k] == ids[i]) return false;
            }
        }
        return true;
    }

    function _validRelease(uint256[] memory ids) internal view returns (bool) {
        if (ids.length == 0) return false;
        for (uint256 i = 0; i < ids.length; ++i) {
            GJob storage j = _jobs[ids[i] - 1];
            if (j.status != IJobMarketplace.Status.Completed || block.timestamp <= _windowEnd(j)) {
                return false;
            }
            for (uint256 k = 0; k < i; ++k) {
                if (ids[k] == ids[i]) return false;
            }
        }
        return true;
    }

    /// @dev The pause covering `t`: the latest one that began at or before `t` (a linear scan
    ///      back, not the contract's binary search), covering if it lasts or `t` is before its
    ///      end plus the grace. Returns its index.
    function _gCovering(uint256 t) internal view returns (bool covered, uint256 k) {
        for (uint256 i = _gPauses.length; i > 0; --i) {
            IJobMarketplace.PauseWindow storage w = _gPauses[i - 1];
            if (w.pausedAt <= t) return (w.unpausedAt == 0 || t < uint256(w.unpausedAt) + PAUSE_GRACE, i - 1);
        }
        return (false, 0);
    }

    /// @dev The dispute window's end: completedAt + window, moved to the end of the grace of
    ///      the pause covering it (once, not again if that falls in a later pause), and no end
    ///      (type(uint256).max) while that pause lasts.
    function _windowEnd(GJob storage j) internal view returns (uint256 end) {
        end = uint256(j.completedAt) + WINDOW;
        while (true) {
            (bool covered, uint256 k) = _gCovering(end);
            if (!covered) return end;
            uint256 u = _gPauses[k].unpausedAt;
            if (u == 0) return type(uint256).max;
            end = u + PAUSE_GRACE;
        }
    }

    function _authorized(address h, address caller) internal view returns (bool) {
        return caller == h || (caller != address(0) && caller == gOperator[h]);
    }

    function _canServe(address h, bytes32 model) internal view returns (bool) {
        return gRegistered[h] && gActive[h] >= MIN_STAKE && (model == MODEL || _hostIndex(h) == 0);
    }

    function _hasCompletable(address h) internal view returns (bool) {
        return _completableOf(h).length != 0;
    }

    function _stakeNotYetFree(address h) internal view returns (bool) {
        return gUnbonding[h] != 0 && !_canWithdrawStake(h);
    }

    function _canWithdrawStake(address h) internal view returns (bool) {
        return gUnbonding[h] != 0 && block.timestamp >= gReleaseAt[h] && _withdrawable(h) != 0;
    }

    function _canRegister(address h) internal view returns (bool) {
        return !gRegistered[h] && gActive[h] >= MIN_STAKE;
    }

    function _hasUnfinishedJobs(address h) internal view returns (bool) {
        return gRegistered[h] && gActiveJobs[h] != 0;
    }

    function _canDeregister(address h) internal view returns (bool) {
        return gRegistered[h] && gActiveJobs[h] == 0;
    }

    /// @dev The first host from the seed's for which `ok` holds, else the seed's host.
    function _pickHost(uint256 seed, function(address) internal view returns (bool) ok)
        internal
        view
        returns (address)
    {
        uint256 n = _hosts.length;
        for (uint256 k = 0; k < n; ++k) {
            address h = _hosts[(seed % n + k) % n];
            if (ok(h)) return h;
        }
        return _hosts[seed % n];
    }

    function _pickServingHost(uint256 seed, bytes32 model) internal view returns (address) {
        uint256 n = _hosts.length;
        // 1 in 16: whichever host the seed names, able to serve or not.
        if (seed % 16 == 0) return _hosts[(seed >> 4) % n];
        for (uint256 k = 0; k < n; ++k) {
            address h = _hosts[(seed % n + k) % n];
            if (_canServe(h, model)) return h;
        }
        return _hosts[seed % n];
    }

    function _hostIndex(address h) internal view returns (uint256) {
        for (uint256 i = 0; i < _hosts.length; ++i) {
            if (_hosts[i] == h) return i;
        }
        revert("not a host");
    }

    function _equivocationSigners(uint256 hi, uint256 mode)
        internal
        view
        returns (address signerA, uint256 keyA, address signerB, uint256 keyB)
    {
        uint256 m = (mode >> 4) % 4;
        (signerA, keyA) = m == 2 ? (_operators[hi], _operatorKeys[hi]) : (_hosts[hi], _hostKeys[hi]);
        if (m == 0) (signerB, keyB) = (_hosts[hi], _hostKeys[hi]);
        else if (m == 3) (signerB, keyB) = (_outsider, _outsiderKey);
        else (signerB, keyB) = (_operators[hi], _operatorKeys[hi]);
    }

    function _sign(uint256 key, uint256 id, bytes32 output) internal view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, slashing.resultDigest(id, output));
        return abi.encodePacked(r, s, v);
    }

    /// @dev Slashing's rule: rate x the slash base (`gSlashBaseOf`), capped per incident; Staking
    ///      takes at most what is there (active + unbonding), active first; the beneficiary's
    ///      share (the renter's, or the reporter's for equivocation) to the beneficiary, the rest
    ///      to the treasury. A slash leaves the stored base alone.
    function _slashModel(address h, uint256 rateBps, uint256 shareBps, address beneficiary)
        internal
        returns (uint256 taken)
    {
        uint256 slashable = gActive[h] + gUnbonding[h];
        uint256 amount = _min(gSlashBaseOf(h) * rateBps / BPS, MAX_SLASH);
        if (amount > slashable) ++slashesCappedByStake;
        taken = _min(amount, slashable);
        uint256 fromActive = _min(taken, gActive[h]);
        gActive[h] -= fromActive;
        gUnbonding[h] -= taken - fromActive;
        uint256 share = taken * shareBps / BPS;
        gVouch[address(staking)] -= taken;
        gVouch[beneficiary] += share;
        gVouch[treasury] += taken - share;
        totalSlashed += taken;
    }

    /// @dev ReputationRegistry.record: weight in 1/10_000 of an outcome (capped at 1000 full
    ///      ones); a gain adds delta x weight plus the carried fraction, keeping the new fraction;
    ///      a loss takes whole points rounded away from zero and drops the carry; the score is
    ///      clamped to 0..1000 and the carry dropped there.
    function _gRecord(address h, int256 delta, uint256 weight) internal {
        if (weight > MAX_SCORE * FULL_WEIGHT) weight = MAX_SCORE * FULL_WEIGHT;
        GRep storage r = _gRep[h];
        uint256 old = gScoreOf(h);
        int256 next;
        uint256 carry = 0;
        if (delta >= 0) {
            uint256 scaled = uint256(delta) * weight + r.carry;
            next = int256(old + scaled / FULL_WEIGHT);
            carry = scaled % FULL_WEIGHT;
        } else {
            next = int256(old) - int256((uint256(-delta) * weight + FULL_WEIGHT - 1) / FULL_WEIGHT);
        }
        uint256 updated = next < 0 ? 0 : (next > int256(MAX_SCORE) ? MAX_SCORE : uint256(next));
        if (updated == 0 || updated == MAX_SCORE) carry = 0;
        r.score = uint16(updated);
        r.updatedAt = uint40(block.timestamp);
        r.carry = uint16(carry);
        _scoreMayMove[h] = true;
    }

    function _credit(address account, address asset, uint256 amount) internal {
        gClaimable[account][asset] += amount;
    }

    function _moveVouch(address from, address to, uint256 amount) internal {
        gVouch[from] -= amount;
        gVouch[to] += amount;
    }

    function _escrowed(IJobMarketplace.Status s) internal pure returns (bool) {
        return s == IJobMarketplace.Status.Open || s == IJobMarketplace.Status.Claimed
            || s == IJobMarketplace.Status.Completed || s == IJobMarketplace.Status.Disputed;
    }

    function _isTerminal(IJobMarketplace.Status s) internal pure returns (bool) {
        return s == IJobMarketplace.Status.Paid || s == IJobMarketplace.Status.Expired
            || s == IJobMarketplace.Status.Cancelled || s == IJobMarketplace.Status.Refunded;
    }

    /// @dev Reads every job's status from the contract (not the model) and keeps the first
    ///      terminal one seen; the invariant checks it never changes afterwards.
    function _recordTerminals() internal {
        uint256 n = marketplace.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            if (observedTerminal[id] != IJobMarketplace.Status.None) continue;
            IJobMarketplace.Status s = marketplace.getJob(id).status;
            if (_isTerminal(s)) {
                observedTerminal[id] = s;
                ++terminalCount;
            }
        }
    }

    function _trackScores() internal {
        for (uint256 i = 0; i < _hosts.length; ++i) {
            uint16 s = reputation.scoreOf(_hosts[i]);
            if (s < minScoreSeen) minScoreSeen = s;
            if (s > maxScoreSeen) maxScoreSeen = s;
        }
    }

    function _succeeded(Action a, bool returnsAsExpected) internal {
        ++_ok[uint256(a)];
        if (!returnsAsExpected) {
            ++wrongReturnValues;
            lastDisagreement = string.concat("wrong return value or transfer: action ", vm.toString(uint256(a)));
        }
    }

    function _reverted(Action a, bool expectedToSucceed, bytes memory err) internal {
        if (!expectedToSucceed) {
            ++_rejected[uint256(a)];
            return;
        }
        ++unexpectedReverts;
        lastDisagreement = string.concat("unexpected revert: action ", vm.toString(uint256(a)), " ", vm.toString(err));
    }

    function _unexpectedSuccess(Action a) internal {
        ++unexpectedSuccesses;
        lastDisagreement = string.concat("unexpected success: action ", vm.toString(uint256(a)));
    }

    /// @dev A predicted rejection must also carry the predicted error, arguments included.
    function _expectError(bytes memory expected, bytes memory err) internal {
        if (keccak256(expected) == keccak256(err)) return;
        ++wrongRevertReasons;
        lastDisagreement = string.concat("wrong revert reason: expected ", vm.toString(expected), " got ", vm.toString(err));
    }

    function _skip(Action a) internal {
        ++_skipped[uint256(a)];
    }

    function _min(uint256 a, uint256 b) internal pure returns (uint256) {
        return a < b ? a : b;
    }

    function _pad(string memory s, uint256 width) internal pure returns (string memory) {
        bytes memory b = bytes(s);
        if (b.length >= width) return string.concat(s, " ");
        bytes memory spaces = new bytes(width - b.length);
        for (uint256 i = 0; i < spaces.length; ++i) {
            spaces[i] = " ";
        }
        return string.concat(s, string(spaces));
    }
}
