// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Fixture} from "../utils/Fixture.sol";
import {ProtocolHandler} from "./handlers/ProtocolHandler.sol";
import {IJobMarketplace} from "../../contracts/interfaces/IJobMarketplace.sol";
import {IStaking} from "../../contracts/interfaces/IStaking.sol";
import {ISlashing} from "../../contracts/interfaces/ISlashing.sol";

/// @notice Stateful invariants of the whole protocol, driven by `ProtocolHandler` (3 hosts with
///         operator keys, 3 renters paying in ETH and in the fixture's ERC20 `usd`, hosts and
///         operators renting too (self-dealt jobs), a reporter, a guardian with lapsing pauses,
///         and an outsider whose signatures must never count). The handler keeps an
///         independent model; see its doc for how calls are chosen and checked.
///
///   FOUNDRY_PROFILE=deep runs the long campaign (256 x 128).
contract ProtocolInvariantTest is Fixture {
    uint256 internal constant N_HOSTS = 3;
    uint256 internal constant N_RENTERS = 3;
    uint256 internal constant HOST_VOUCH = 60_000 ether;
    uint256 internal constant RENTER_ETH = 10_000 ether;
    uint256 internal constant SELF_DEALER_ETH = 1000 ether; // hosts and operators rent too

    ProtocolHandler internal handler;
    address internal constant ETH = address(0);

    function setUp() public override {
        super.setUp();
        ProtocolHandler.Actors memory a;
        a.hosts = new address[](N_HOSTS);
        a.hostKeys = new uint256[](N_HOSTS);
        a.operators = new address[](N_HOSTS);
        a.operatorKeys = new uint256[](N_HOSTS);
        for (uint256 i = 0; i < N_HOSTS; ++i) {
            (a.hosts[i], a.hostKeys[i]) = makeAddrAndKey(string.concat("host", vm.toString(i)));
            (a.operators[i], a.operatorKeys[i]) = makeAddrAndKey(string.concat("operator", vm.toString(i)));
            token.transfer(a.hosts[i], HOST_VOUCH);
        }
        a.renters = new address[](N_RENTERS);
        a.renters[0] = renter; // the fixture's renter holds the whole usd supply
        for (uint256 i = 1; i < N_RENTERS; ++i) {
            a.renters[i] = makeAddr(string.concat("renter", vm.toString(i)));
            vm.prank(renter);
            usd.transfer(a.renters[i], SUPPLY / N_RENTERS);
        }
        a.reporter = makeAddr("reporter");
        (a.outsider, a.outsiderKey) = makeAddrAndKey("outsider");
        a.guardian = makeAddr("guardian");
        marketplace.grantRole(marketplace.GUARDIAN_ROLE(), a.guardian);
        for (uint256 i = 0; i < N_HOSTS; ++i) {
            vm.deal(a.hosts[i], SELF_DEALER_ETH);
            vm.deal(a.operators[i], SELF_DEALER_ETH);
        }

        for (uint256 i = 0; i < N_RENTERS; ++i) {
            vm.deal(a.renters[i], RENTER_ETH);
            vm.prank(a.renters[i]);
            usd.approve(address(marketplace), type(uint256).max);
        }
        for (uint256 i = 0; i < N_HOSTS; ++i) {
            vm.prank(a.hosts[i]);
            token.approve(address(staking), type(uint256).max);
        }
        // A fee from the start, so releases split between host and treasury.
        marketplace.setProtocolFee(250);

        handler = new ProtocolHandler(
            ProtocolHandler.System({
                token: token,
                usd: usd,
                staking: staking,
                registry: registry,
                reputation: reputation,
                marketplace: marketplace,
                slashing: slashing,
                admin: admin,
                prover: prover,
                treasury: treasury
            }),
            a
        );
        handler.seedState();
        targetContract(address(handler));
        targetSelector(FuzzSelector({addr: address(handler), selectors: handler.actionSelectors()}));
    }

    // ---- the model and the contracts agree ---------------------------------------------------

    /// @notice Every call did what the model predicted: no valid call reverted, no invalid one
    ///         (wrong caller, wrong state, duplicate id, bad signature, ...) went through, and
    ///         every return value and transfer matched.
    function invariant_contractsFollowTheModel() public view {
        assertEq(handler.unexpectedReverts(), 0, handler.lastDisagreement());
        assertEq(handler.unexpectedSuccesses(), 0, handler.lastDisagreement());
        assertEq(handler.wrongReturnValues(), 0, handler.lastDisagreement());
        assertEq(handler.wrongRevertReasons(), 0, handler.lastDisagreement());
    }

    // ---- staking -----------------------------------------------------------------------------

    /// @notice token.balanceOf(staking) == totalStaked == sum of every position (active +
    ///         unbonding), and each position is what the model says.
    function invariant_stakingBalanceIsTotalStaked() public view {
        address[] memory hosts = handler.hosts();
        uint256 sum;
        uint256 modelSum;
        for (uint256 i = 0; i < hosts.length; ++i) {
            IStaking.Position memory p = staking.positionOf(hosts[i]);
            assertEq(p.active, handler.gActive(hosts[i]), "active stake");
            assertEq(p.unbonding, handler.gUnbonding(hosts[i]), "unbonding stake");
            assertEq(p.releaseAt, handler.gReleaseAt(hosts[i]), "release time");
            sum += uint256(p.active) + p.unbonding;
            modelSum += handler.gActive(hosts[i]) + handler.gUnbonding(hosts[i]);
        }
        assertEq(token.balanceOf(address(staking)), staking.totalStaked(), "staking balance != totalStaked");
        assertEq(staking.totalStaked(), sum, "totalStaked != sum of positions");
        assertEq(sum, modelSum, "positions != model");
    }

    /// @notice The withdrawal lock never exceeds what a slash could take: lockedStakeOf <=
    ///         slashableStakeOf for every staker, and it is the model's jobs x largest slash
    ///         (computed on the slash base).
    function invariant_lockedStakeWithinSlashable() public view {
        address[] memory hosts = handler.hosts();
        for (uint256 i = 0; i < hosts.length; ++i) {
            uint256 locked = staking.lockedStakeOf(hosts[i]);
            assertLe(locked, staking.slashableStakeOf(hosts[i]), "locked above slashable");
            assertEq(locked, handler.gLocked(hosts[i]), "locked != model");
            if (marketplace.activeJobsOf(hosts[i]) == 0) assertEq(locked, 0, "locked without jobs");
        }
    }

    /// @notice Every host's slash base is the model's: the larger of its slashable stake and the
    ///         base a withdrawal during unfinished jobs fixed (the slashable stake before it),
    ///         kept until a stake, unstake request or withdrawal with no unfinished job clears
    ///         it (the handler also checks each SlashBaseSet event against the model). It never
    ///         falls below the slashable stake, and the lock is sized on it.
    function invariant_slashBaseFollowsTheModel() public view {
        address[] memory hosts = handler.hosts();
        for (uint256 i = 0; i < hosts.length; ++i) {
            uint256 base = staking.slashBaseOf(hosts[i]);
            assertEq(base, handler.gSlashBaseOf(hosts[i]), "slash base != model");
            assertGe(base, staking.slashableStakeOf(hosts[i]), "slash base below slashable");
        }
    }

    // ---- marketplace -------------------------------------------------------------------------

    /// @notice Per asset: balance == escrow of jobs not yet credited (Open, Claimed, Completed,
    ///         Disputed) + every account's claimable credit == deposits - withdrawals.
    function invariant_marketplaceHoldsEscrowPlusCredits() public view {
        _checkMarketplaceAsset(ETH, address(marketplace).balance);
        _checkMarketplaceAsset(address(usd), usd.balanceOf(address(marketplace)));
    }

    function _checkMarketplaceAsset(address asset, uint256 balance) internal view {
        uint256 escrow;
        uint256 n = marketplace.jobCount();
        assertEq(n, handler.jobCount(), "job count");
        for (uint256 id = 1; id <= n; ++id) {
            IJobMarketplace.Job memory j = marketplace.getJob(id);
            if (j.token != asset) continue;
            if (
                j.status == IJobMarketplace.Status.Open || j.status == IJobMarketplace.Status.Claimed
                    || j.status == IJobMarketplace.Status.Completed || j.status == IJobMarketplace.Status.Disputed
            ) escrow += j.payment;
        }
        uint256 credits;
        address[] memory payees = handler.payees();
        for (uint256 i = 0; i < payees.length; ++i) {
            uint256 c = marketplace.claimable(payees[i], asset);
            assertEq(c, handler.gClaimable(payees[i], asset), "claimable != model");
            credits += c;
        }
        assertEq(balance, escrow + credits, "marketplace balance != escrow + credits");
        assertEq(escrow, handler.gEscrow(asset), "escrow != model");
        assertEq(balance, handler.gDeposited(asset) - handler.gWithdrawn(asset), "balance != deposits - withdrawals");
    }

    /// @notice ETH is neither created nor destroyed: the sum over renters, hosts, treasury,
    ///         marketplace and slashing is what the renters were given. The same for `usd`.
    function invariant_assetsAreConserved() public view {
        address[] memory accounts = handler.ethAccounts();
        uint256 eth;
        uint256 usdSum;
        for (uint256 i = 0; i < accounts.length; ++i) {
            eth += accounts[i].balance;
            usdSum += usd.balanceOf(accounts[i]);
        }
        assertEq(eth, handler.gEthTotal(), "ETH created or lost");
        assertEq(usdSum, SUPPLY, "usd created or lost");
    }

    /// @notice activeJobsOf(host) counts exactly the host's unfinished jobs (Claimed, Completed,
    ///         Disputed; deregistration and stake withdrawal rely on it), and registration,
    ///         operators, the pause and every recorded pause window are as the model says.
    function invariant_activeJobsAndRegistration() public view {
        assertEq(marketplace.paused(), handler.gPaused(), "paused");
        assertEq(marketplace.guardianPauseEnds(), handler.gGuardianEnds(), "guardian pause end");
        uint256 pauses = marketplace.pauseCount();
        assertEq(pauses, handler.gPauseCount(), "pause count");
        for (uint256 i = 0; i < pauses; ++i) {
            IJobMarketplace.PauseWindow memory w = marketplace.pauseWindow(i);
            IJobMarketplace.PauseWindow memory g = handler.gPause(i);
            assertEq(w.pausedAt, g.pausedAt, "pausedAt");
            assertEq(w.unpausedAt, g.unpausedAt, "unpausedAt");
            if (i + 1 < pauses || !marketplace.paused()) assertTrue(w.unpausedAt >= w.pausedAt, "pause ended before it began");
        }
        address[] memory hosts = handler.hosts();
        for (uint256 i = 0; i < hosts.length; ++i) {
            assertEq(marketplace.activeJobsOf(hosts[i]), handler.unfinishedJobsOf(hosts[i]), "activeJobsOf");
            assertEq(marketplace.activeJobsOf(hosts[i]), handler.gActiveJobs(hosts[i]), "activeJobsOf != model");
            assertEq(registry.isRegistered(hosts[i]), handler.gRegistered(hosts[i]), "registered");
            assertEq(registry.operatorOf(hosts[i]), handler.gOperator(hosts[i]), "operator");
        }
    }

    // ---- jobs --------------------------------------------------------------------------------

    /// @notice A job never leaves a terminal state (Paid, Expired, Cancelled, Refunded): the
    ///         handler records each terminal state the first time it reads it from the contract.
    ///         Also: every job's status, host and completion time are what the model says, and
    ///         so is the dispute-window end of a Completed or Disputed job.
    function invariant_terminalStatesAreFinal() public view {
        uint256 n = marketplace.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            IJobMarketplace.Job memory j = marketplace.getJob(id);
            IJobMarketplace.Status recorded = handler.observedTerminal(id);
            if (recorded != IJobMarketplace.Status.None) {
                assertEq(uint8(j.status), uint8(recorded), "job left a terminal state");
            }
            ProtocolHandler.GJob memory g = handler.job(id);
            assertEq(uint8(j.status), uint8(g.status), "status != model");
            assertEq(j.host, g.host, "host != model");
            assertEq(j.renter, g.renter, "renter != model");
            assertEq(j.payment, g.payment, "payment != model");
            assertEq(j.fee, g.fee, "fee != model");
            assertEq(j.completedAt, g.completedAt, "completedAt != model");
            assertEq(j.operator, g.operator, "recorded operator != model");
            assertEq(j.minReputation, g.minRep, "minReputation != model");
            assertEq(uint8(j.dispute), uint8(g.dispute), "job dispute state != model");
            ISlashing.Dispute memory d = slashing.getDispute(id);
            assertEq(uint8(d.status), uint8(g.dispute), "slashing dispute state != job's");
            if (d.status != ISlashing.DisputeStatus.None) assertEq(d.ruleBy, g.ruleBy, "ruleBy != model");
            if (j.status == IJobMarketplace.Status.Completed || j.status == IJobMarketplace.Status.Disputed) {
                assertEq(marketplace.disputeWindowEnd(id), handler.gWindowEnd(id), "dispute window end != model");
            }
        }
    }

    // ---- VOUCH -------------------------------------------------------------------------------

    /// @notice The supply never changes and is exactly the sum over every holder the protocol can
    ///         move VOUCH to; each balance is what the model says (slashes split as modelled).
    function invariant_vouchSupplyIsConstantAndAccounted() public view {
        assertEq(token.totalSupply(), SUPPLY, "supply changed");
        address[] memory holders = handler.vouchHolders();
        uint256 sum;
        for (uint256 i = 0; i < holders.length; ++i) {
            uint256 b = token.balanceOf(holders[i]);
            assertEq(b, handler.gVouch(holders[i]), "VOUCH balance != model");
            sum += b;
        }
        assertEq(sum, SUPPLY, "VOUCH outside the tracked holders");
    }

    // ---- reputation --------------------------------------------------------------------------

    /// @notice Every host's score is the model's: reputation moves only at release (weighted by
    ///         fee / creditFee, zero for self-dealt, upheld, lapsed and usd jobs, summed per run
    ///         of one host, fractions carried) and by penalties, decaying toward 500 between.
    function invariant_scoresFollowTheModel() public view {
        address[] memory hosts = handler.hosts();
        for (uint256 i = 0; i < hosts.length; ++i) {
            assertEq(reputation.scoreOf(hosts[i]), handler.gScoreOf(hosts[i]), "score != model");
        }
    }

    /// @notice A host's score never changed in a call in which the model recorded no outcome for
    ///         it: completions, self-dealt releases and other zero-weight releases leave it
    ///         alone (checked around every call, at the call's own time, so decay is excluded).
    function invariant_reputationMovesOnlyWithCause() public view {
        assertEq(handler.unexplainedScoreMoves(), 0, handler.lastDisagreement());
    }

    /// @notice Every score stays in 0..1000 at all times (the handler warps), with and without
    ///         the stake boost, and the boost never exceeds its cap.
    function invariant_scoresStayInRange() public view {
        address[] memory hosts = handler.hosts();
        for (uint256 i = 0; i < hosts.length; ++i) {
            uint16 score = reputation.scoreOf(hosts[i]);
            uint16 effective = reputation.effectiveScoreOf(hosts[i]);
            assertLe(score, 1000, "score above 1000");
            assertLe(effective, 1000, "effective score above 1000");
            assertGe(effective, score, "effective below raw score");
            assertLe(uint256(effective) - score, reputation.maxStakeBoost(), "boost above its cap");
        }
    }

    // ---- slashing ----------------------------------------------------------------------------

    /// @notice Slashing holds exactly the open dispute bonds plus the credited bonds in ETH, and
    ///         never keeps VOUCH after a call (every slash is paid out in the same call).
    function invariant_slashingHoldsOnlyBonds() public view {
        uint256 open;
        uint256 n = marketplace.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            ISlashing.Dispute memory d = slashing.getDispute(id);
            if (d.status == ISlashing.DisputeStatus.Open) open += d.bond;
            assertEq(slashing.equivocationReported(id), handler.gReported(id), "equivocation flag != model");
        }
        uint256 credited;
        address[] memory holders = handler.bondHolders();
        for (uint256 i = 0; i < holders.length; ++i) {
            uint256 b = slashing.bondBalance(holders[i]);
            assertEq(b, handler.gBond(holders[i]), "bond credit != model");
            credited += b;
        }
        assertEq(address(slashing).balance, open + credited, "slashing ETH != open + credited bonds");
        assertEq(open, handler.gOpenBonds(), "open bonds != model");
        assertEq(address(slashing).balance, handler.gBondsPaidIn() - handler.gBondsPaidOut(), "bonds in - out");
        assertEq(token.balanceOf(address(slashing)), 0, "slashing kept VOUCH");
    }

    /// @notice Every dispute ends: ruleBy = openedAt + 14 days (the ruling period) for every open
    ///         one, and an open dispute past its ruleBy can be closed by anyone right now (tried
    ///         on a snapshot, so the run goes on unchanged: the job is then Completed and the
    ///         bond the host's) while the arbiter can no longer rule. So no dispute outlives
    ///         openedAt + 14 days by more than the block that closes it. Before ruleBy the
    ///         handler's own calls check that the arbiter can rule and nobody can close.
    function invariant_everyOpenDisputeCanEnd() public {
        uint256 n = marketplace.jobCount();
        for (uint256 id = 1; id <= n; ++id) {
            ISlashing.Dispute memory d = slashing.getDispute(id);
            if (d.status != ISlashing.DisputeStatus.Open) continue;
            assertEq(uint256(d.ruleBy), uint256(d.openedAt) + 14 days, "ruleBy != openedAt + ruling period");
            // Up to ruleBy the handler's calls check the arbiter's ruling (and that closing is
            // refused); the snapshot is only paid for the rare dispute past its deadline.
            if (block.timestamp <= d.ruleBy) continue;
            uint256 snap = vm.snapshotState();
            uint256 hostBond = slashing.bondBalance(d.host);
            vm.prank(handler.reporter());
            try slashing.closeLapsedDispute(id) {
                assertEq(uint8(marketplace.getJob(id).status), uint8(IJobMarketplace.Status.Completed), "lapsed job not Completed");
                assertEq(slashing.bondBalance(d.host), hostBond + d.bond, "lapsed bond not the host's");
            } catch {
                assertTrue(false, "closeLapsedDispute reverted past ruleBy");
            }
            vm.revertToState(snap);
            try slashing.resolveDispute(id, true) {
                assertTrue(false, "ruled after ruleBy");
            } catch {}
            vm.revertToState(snap);
        }
    }

    // ---- summary -----------------------------------------------------------------------------

    /// @notice Logs what the handler did in this run (ok / rejected as predicted / skipped for
    ///         want of a candidate), so a reviewer sees the actions are not all reverting.
    ///         `forge test -vv --mt invariant_callSummary` prints the last run's table.
    function invariant_callSummary() public view {
        handler.callSummary();
    }
}
