//! The demo's script: rounds of protocol life and the scripted events placed in them.
//!
//! A round: payments of the last round released (their dispute window is over), missed jobs
//! expired, renters create jobs in ETH and VOUCH for the hosts, the hosts claim
//! and answer, their keepers prove in batches and land, then anvil's clock jumps past the
//! dispute window (and, in the governance rounds, past the vote or the timelock delay).
//! Scripted once each, in rounds 1 to 4 ([`SCRIPTED_ROUNDS`]): a dispute upheld by the
//! arbitration council, a claimed job left to miss its deadline (expired and slashed), an
//! equivocation reported from two signed results, a cancelled job, and a governance proposal
//! (protocol fee to 2%) proposed, voted, queued and executed.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::providers::DynProvider;
use alloy::sol_types::SolCall;
use tokio::sync::{mpsc, oneshot};
use vouch_bindings::Deployment;
use vouch_bindings::contracts::{JobMarketplace, TimelockController, VouchGovernor, VouchToken};

use super::actors::{self, Actors, mined};
use super::hosts::{Fate, Host, MODELS, Order, Served, model_hash};
use super::keeper::HostKeeper;
use super::progress::Stats;
use super::renters::{Asset, JobSpec, Market, chain_read};
use crate::{DevnetError, Result};

/// Regular jobs per round (spread over the hosts, alternating ETH and VOUCH).
pub const JOBS_PER_ROUND: usize = 30;
/// The scripted events are done after this many rounds.
pub const SCRIPTED_ROUNDS: u64 = 4;
/// How long regular jobs have: longer than any of the script's clock jumps.
const JOB_DURATION: u64 = 20 * 86_400;
/// The scripted missed deadline: short, so the round's clock jump passes it.
const SHORT_DEADLINE: u64 = 2 * 3_600;
/// The shortest a round takes, so someone watching (or the explorer) can follow.
const PACE: Duration = Duration::from_secs(2);
/// Longest wait for the keepers to land a round's results.
const LAND_TIMEOUT: Duration = Duration::from_secs(60);
/// The parameter change the governance proposal makes.
pub const PROPOSED_FEE_BPS: u16 = 200;
const PROPOSAL: &str = "Demo: raise the protocol fee to 2%";

/// Host numbers (0-based) given the scripted faults.
const DISPUTED_HOST: usize = 1;
const DROPPING_HOST: usize = 2;
const EQUIVOCATING_HOST: usize = 3;

/// One scripted event's end: what it was meant to end as and what the chain says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The job, or none for the proposal.
    pub job_id: Option<u64>,
    pub what: &'static str,
    pub expected: &'static str,
    pub actual: String,
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.job_id {
            Some(id) => write!(
                f,
                "job {id}, {}, ended {} (scripted: {})",
                self.what, self.actual, self.expected
            ),
            None => write!(
                f,
                "proposal, {}, ended {} (scripted: {})",
                self.what, self.actual, self.expected
            ),
        }
    }
}

/// Where the script tells what happened (one line each) and keeps the scripted outcomes.
pub type Announce = Arc<dyn Fn(&str) + Send + Sync>;

/// The script's state between rounds.
pub struct Script<K: HostKeeper + Clone> {
    provider: DynProvider,
    deployment: Deployment,
    actors: Actors,
    market: Market,
    hosts: Vec<Arc<Host<K>>>,
    orders: Vec<mpsc::Sender<Order>>,
    stats: Arc<Stats>,
    announce: Announce,
    pub outcomes: Arc<Mutex<Vec<Outcome>>>,
    round: u64,
    to_release: Vec<U256>,
    to_expire: Vec<U256>,
    /// Scripted jobs, checked once their end is final.
    watch: Vec<(U256, &'static str, &'static str)>,
    proposal: Option<U256>,
}

impl<K: HostKeeper + Clone> Script<K> {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        provider: DynProvider,
        deployment: Deployment,
        actors: Actors,
        hosts: Vec<Arc<Host<K>>>,
        orders: Vec<mpsc::Sender<Order>>,
        stats: Arc<Stats>,
        announce: Announce,
    ) -> Self {
        Script {
            market: Market::new(provider.clone(), deployment.clone()),
            provider,
            deployment,
            actors,
            hosts,
            orders,
            stats,
            announce,
            outcomes: Arc::new(Mutex::new(Vec::new())),
            round: 0,
            to_release: Vec::new(),
            to_expire: Vec::new(),
            watch: Vec::new(),
            proposal: None,
        }
    }

    fn step(&self, step: &str) {
        self.stats.set_step(step);
    }

    /// The renters' VOUCH and the deployer's votes (delegated to itself, before the proposal's
    /// snapshot).
    pub async fn prepare(&self) -> Result<()> {
        self.step("funding renters");
        let renters = actors::addresses(&self.actors.renters);
        self.market
            .fund(self.actors.deployer.address(), &renters)
            .await?;
        let token = VouchToken::new(self.deployment.contracts.vouch_token, &self.provider);
        let deployer = self.actors.deployer.address();
        mined(
            &self.provider,
            "delegate votes",
            token.delegate(deployer).from(deployer),
        )
        .await?;
        Ok(())
    }

    /// Runs rounds, `rounds` of them or until dropped; then releases and expires what is left,
    /// withdraws everyone's credits and checks every scripted end.
    pub async fn run(&mut self, rounds: Option<u64>) -> Result<()> {
        self.prepare().await?;
        while rounds.is_none_or(|n| self.round < n) {
            self.play_round().await?;
        }
        self.step("closing");
        self.settle().await?;
        for h in &self.hosts {
            h.withdraw(super::renters::ETH).await?;
            h.withdraw(self.deployment.contracts.vouch_token).await?;
        }
        for r in &self.actors.renters {
            self.market.withdraw_all(r.address()).await?;
        }
        self.check_outcomes(true).await?;
        self.step("done");
        (self.announce)(&format!(
            "demo: all {} rounds done; the chain is quiet",
            self.round
        ));
        Ok(())
    }

    /// Releases the payments due and expires the missed jobs.
    async fn settle(&mut self) -> Result<()> {
        self.step("releasing payments");
        let crank = self.actors.crank.address();
        let ids = std::mem::take(&mut self.to_release);
        let gas = self.market.release(crank, ids).await?;
        Stats::add(&self.stats.job_gas, gas);
        for id in std::mem::take(&mut self.to_expire) {
            self.market.expire(crank, id).await?;
        }
        Ok(())
    }

    async fn play_round(&mut self) -> Result<()> {
        let started = Instant::now();
        let r = self.round + 1;
        self.settle().await?;
        self.check_outcomes(false).await?;

        self.step("renting");
        let now = actors::now(&self.provider).await?;
        let mut waiting: Vec<(U256, usize, oneshot::Receiver<Result<Served>>)> = Vec::new();
        for i in 0..JOBS_PER_ROUND {
            let host = (r as usize * JOBS_PER_ROUND + i) % self.hosts.len();
            let spec = JobSpec {
                renter: self.actors.renters[i % 2].address(),
                asset: if (i / 2) % 2 == 0 {
                    Asset::Eth
                } else {
                    Asset::Vouch
                },
                model: model_hash(MODELS[0]),
                label: format!("round {r} prompt {i}"),
                deadline: now + JOB_DURATION,
                // Every third job a direct offer, the rest on the open market.
                offered: if i % 3 == 0 {
                    self.hosts[host].address
                } else {
                    Address::ZERO
                },
            };
            waiting.push(self.order(&spec, host, Fate::Serve).await?);
        }
        let mut scripted: Vec<(U256, usize, oneshot::Receiver<Result<Served>>)> = Vec::new();
        if r == 1 {
            self.step("scripting a dispute, a missed deadline, an equivocation");
            let renter = self.actors.renters[0].address();
            let spec = |label: &str, deadline: u64, asset: Asset| JobSpec {
                renter,
                asset,
                model: model_hash(MODELS[0]),
                label: label.into(),
                deadline,
                offered: Address::ZERO,
            };
            scripted.push(
                self.order(
                    &spec("a bad answer", now + JOB_DURATION, Asset::Eth),
                    DISPUTED_HOST,
                    Fate::Serve,
                )
                .await?,
            );
            scripted.push(
                self.order(
                    &spec("a host that goes silent", now + SHORT_DEADLINE, Asset::Eth),
                    DROPPING_HOST,
                    Fate::Drop,
                )
                .await?,
            );
            scripted.push(
                self.order(
                    &spec("two answers", now + JOB_DURATION, Asset::Vouch),
                    EQUIVOCATING_HOST,
                    Fate::Equivocate,
                )
                .await?,
            );
            let (cancelled, gas) = self
                .market
                .create(&spec("never mind", now + JOB_DURATION, Asset::Vouch))
                .await?;
            Stats::add(&self.stats.job_gas, gas);
            Stats::add(&self.stats.jobs_created, 1);
            self.market.cancel(renter, cancelled).await?;
            self.watch
                .push((cancelled, "cancelled by its renter", "Cancelled"));
        }

        self.step("claiming and answering");
        let mut completed = Vec::new();
        for (id, host, done) in waiting {
            self.served(id, host, done).await?;
            completed.push(id);
        }
        let mut signed = Vec::new();
        for (id, host, done) in scripted {
            signed.push((id, host, self.served(id, host, done).await?));
        }

        self.step("proving and landing");
        let mut expected: Vec<U256> = completed.clone();
        expected.extend(
            signed
                .iter()
                .filter(|(_, h, _)| *h != DROPPING_HOST)
                .map(|(id, _, _)| *id),
        );
        self.wait_completed(&expected).await?;
        self.to_release.extend(completed);

        for (id, host, served) in signed {
            match host {
                DISPUTED_HOST => {
                    self.step("a dispute, upheld by the arbitration council");
                    let renter = self.actors.renters[0].address();
                    self.market
                        .dispute(renter, id, "the answer is wrong")
                        .await?;
                    self.market
                        .rule(self.actors.council.address(), id, true)
                        .await?;
                    self.watch.push((
                        id,
                        "a dispute upheld by the arbitration council",
                        "Refunded",
                    ));
                }
                DROPPING_HOST => {
                    self.to_expire.push(id);
                    self.watch
                        .push((id, "a missed deadline, expired and slashed", "Expired"));
                }
                EQUIVOCATING_HOST => {
                    self.step("an equivocation reported");
                    let [a, b] = two(&served)?;
                    self.market
                        .report_equivocation(
                            self.actors.renters[0].address(),
                            self.hosts[host].address,
                            id,
                            &a,
                            &b,
                        )
                        .await?;
                    self.to_release.push(id);
                    self.watch.push((
                        id,
                        "an equivocation reported from two signed results, then paid",
                        "Paid",
                    ));
                }
                _ => {}
            }
        }

        let jump = self.governance(r).await?;
        tokio::time::sleep(PACE.saturating_sub(started.elapsed())).await;
        self.step("time travel");
        actors::advance(&self.provider, jump).await?;
        self.round = r;
        Stats::add(&self.stats.rounds, 1);
        Ok(())
    }

    /// Creates `spec` and orders it from host `host`.
    async fn order(
        &self,
        spec: &JobSpec,
        host: usize,
        fate: Fate,
    ) -> Result<(U256, usize, oneshot::Receiver<Result<Served>>)> {
        let (id, gas) = self.market.create(spec).await?;
        Stats::add(&self.stats.job_gas, gas);
        Stats::add(&self.stats.jobs_created, 1);
        let (done, rx) = oneshot::channel();
        let order = Order {
            job_id: id,
            model: spec.model,
            input: keccak256(&spec.label),
            fate,
            done,
        };
        self.orders[host]
            .send(order)
            .await
            .map_err(|_| DevnetError::Demo {
                step: "ordering a job".into(),
                reason: format!("host {} stopped", host + 1),
            })?;
        Ok((id, host, rx))
    }

    async fn served(
        &self,
        id: U256,
        host: usize,
        done: oneshot::Receiver<Result<Served>>,
    ) -> Result<Served> {
        done.await.map_err(|_| DevnetError::Demo {
            step: format!("job {id}"),
            reason: format!("host {} stopped", host + 1),
        })?
    }

    /// Waits until the keepers landed everything and `ids` are completed on chain.
    async fn wait_completed(&self, ids: &[U256]) -> Result<()> {
        let deadline = Instant::now() + LAND_TIMEOUT;
        loop {
            let mut idle = true;
            for h in &self.hosts {
                idle &= h.keeper.pending().await? == 0;
            }
            if idle {
                let mut all = true;
                for id in ids {
                    if self.market.status(*id).await? != "Completed" {
                        all = false;
                        break;
                    }
                }
                if all {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(DevnetError::Demo {
                    step: "proving and landing".into(),
                    reason: format!(
                        "the keepers did not complete {} jobs within {:?}",
                        ids.len(),
                        LAND_TIMEOUT
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// This round's governance step; returns how far the clock then jumps (always past the
    /// dispute window, and past the step's wait).
    async fn governance(&mut self, r: u64) -> Result<u64> {
        let c = &self.deployment.contracts;
        let gov = VouchGovernor::new(c.vouch_governor, &self.provider);
        let window = self.market.dispute_window().await?;
        let deployer = self.actors.deployer.address();
        let crank = self.actors.crank.address();
        let (targets, values, calldatas) = proposal_calls(&self.deployment);
        let wait = match r {
            1 => {
                self.step("governance: a proposal to raise the protocol fee");
                let receipt = mined(
                    &self.provider,
                    "propose",
                    gov.propose(targets, values, calldatas, PROPOSAL.into())
                        .from(deployer),
                )
                .await?;
                let created = receipt
                    .decoded_log::<VouchGovernor::ProposalCreated>()
                    .ok_or_else(|| DevnetError::Demo {
                        step: "propose".into(),
                        reason: "no ProposalCreated event".into(),
                    })?;
                self.proposal = Some(created.proposalId);
                (self.announce)("demo: governance: proposed to raise the protocol fee to 2%");
                gov.votingDelay()
                    .call()
                    .await
                    .map_err(|e| chain_read("votingDelay", e))?
                    .to::<u64>()
            }
            2 => {
                self.step("governance: voting");
                let id = self.proposal_id()?;
                mined(
                    &self.provider,
                    "castVote",
                    gov.castVote(id, 1).from(deployer),
                )
                .await?;
                gov.votingPeriod()
                    .call()
                    .await
                    .map_err(|e| chain_read("votingPeriod", e))?
                    .to::<u64>()
            }
            3 => {
                self.step("governance: queueing in the timelock");
                mined(
                    &self.provider,
                    "queue",
                    gov.queue(targets, values, calldatas, keccak256(PROPOSAL))
                        .from(crank),
                )
                .await?;
                let timelock = TimelockController::new(c.timelock_controller, &self.provider);
                timelock
                    .getMinDelay()
                    .call()
                    .await
                    .map_err(|e| chain_read("getMinDelay", e))?
                    .to::<u64>()
            }
            4 => {
                self.step("governance: executing");
                mined(
                    &self.provider,
                    "execute",
                    gov.execute(targets, values, calldatas, keccak256(PROPOSAL))
                        .from(crank),
                )
                .await?;
                let state = gov
                    .state(self.proposal_id()?)
                    .call()
                    .await
                    .map_err(|e| chain_read("state", e))?;
                let fee = JobMarketplace::new(c.job_marketplace, &self.provider)
                    .protocolFeeBps()
                    .call()
                    .await
                    .map_err(|e| chain_read("protocolFeeBps", e))?;
                let actual = if state == 7 && fee == PROPOSED_FEE_BPS {
                    "Executed".to_string()
                } else {
                    format!("state {state}, protocol fee {fee} bps")
                };
                self.record(Outcome {
                    job_id: None,
                    what: "raise the protocol fee to 2% (protocolFeeBps 200)",
                    expected: "Executed",
                    actual,
                });
                0
            }
            _ => 0,
        };
        Ok(window.max(wait) + 1)
    }

    fn proposal_id(&self) -> Result<U256> {
        self.proposal.ok_or_else(|| DevnetError::Demo {
            step: "governance".into(),
            reason: "no proposal".into(),
        })
    }

    /// Records the end of every watched job whose state is final (all of them when `all`).
    async fn check_outcomes(&mut self, all: bool) -> Result<()> {
        let mut left = Vec::new();
        for (id, what, expected) in std::mem::take(&mut self.watch) {
            let actual = self.market.status(id).await?;
            if all || matches!(actual, "Paid" | "Expired" | "Cancelled" | "Refunded") {
                self.record(Outcome {
                    job_id: Some(id.to::<u64>()),
                    what,
                    expected,
                    actual: actual.to_string(),
                });
            } else {
                left.push((id, what, expected));
            }
        }
        self.watch = left;
        Ok(())
    }

    fn record(&self, outcome: Outcome) {
        if outcome.actual != outcome.expected {
            Stats::add(&self.stats.failures, 1);
        }
        (self.announce)(&format!("demo: scripted: {outcome}"));
        self.outcomes
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(outcome);
    }
}

/// The proposal's one call: `JobMarketplace.setProtocolFee(200)`.
fn proposal_calls(d: &Deployment) -> (Vec<Address>, Vec<U256>, Vec<Bytes>) {
    (
        vec![d.contracts.job_marketplace],
        vec![U256::ZERO],
        vec![
            JobMarketplace::setProtocolFeeCall {
                feeBps: PROPOSED_FEE_BPS,
            }
            .abi_encode()
            .into(),
        ],
    )
}

fn two(served: &Served) -> Result<[(B256, Bytes); 2]> {
    match served.signed.as_slice() {
        [a, b] => Ok([a.clone(), b.clone()]),
        other => Err(DevnetError::Demo {
            step: "equivocation".into(),
            reason: format!("{} signed results, not two", other.len()),
        }),
    }
}
