//! `vouch devnet --demo`: protocol life on the devnet. Five hosts join and serve, each with its
//! own keeper service (`vouch_keeper::service::Keeper`, the one `vouch keeper run` runs; one
//! prover pool shared by all), two renters rent in ETH and VOUCH, payments are released after
//! the dispute window (anvil's clock jumps), and the scripted events happen once each. One job,
//! the tour job, is claimed by the first host and left for the user to answer through that
//! host's keeper (the devnet's banner prints the command).
//!
//! One module per concern: [`actors`] (accounts, sending, the clock), [`keeper`] (the seam to a
//! host's keeper and its implementation), [`hosts`], [`renters`], [`script`] (rounds and the
//! scripted events), [`progress`] (counters and the live line). [`Demo::start`] runs it on a
//! started [`crate::Devnet`]; [`Demo::stop`] ends it and says what it did.

pub mod actors;
pub mod hosts;
pub mod keeper;
pub mod progress;
pub mod renters;
pub mod script;

use std::sync::{Arc, Mutex};

use alloy::primitives::Address;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use vouch_bindings::contracts::JobMarketplace;
use vouch_keeper::prover::{Prover, ProverConfig};

use actors::Actors;
use hosts::Host;
use keeper::{BATCH_SIZES, ServiceKeeper};
pub use progress::{Snapshot, Stats};
pub use script::{Announce, Outcome};

use crate::{Devnet, DevnetError, Result};

/// The keeper each demo host runs.
pub type DemoKeeper = ServiceKeeper;

/// One demo host's keeper, as the banner shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeeperEndpoint {
    pub host: Address,
    /// The intake API, `http://127.0.0.1:PORT` (`POST /v1/results`, `/healthz`, `/metrics`).
    pub url: String,
}

/// How the demo runs.
#[derive(Debug, Clone, Default)]
pub struct DemoConfig {
    /// Stop scripting after this many rounds (at least [`script::SCRIPTED_ROUNDS`] for every
    /// scripted event); `None`: rounds until stopped.
    pub rounds: Option<u64>,
}

/// What a demo did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoReport {
    pub stats: Snapshot,
    pub outcomes: Vec<Outcome>,
}

/// A running demo.
pub struct Demo {
    keepers: Vec<KeeperEndpoint>,
    tour_job: u64,
    stats: Arc<Stats>,
    outcomes: Arc<Mutex<Vec<Outcome>>>,
    stop_tx: watch::Sender<bool>,
    task: JoinHandle<Result<()>>,
}

impl Demo {
    /// Loads the prover, lets the hosts join, starts their keepers and the script. `announce`
    /// gets one line per milestone (scripted events, the end of the script).
    pub async fn start(devnet: &Devnet, config: DemoConfig, announce: Announce) -> Result<Demo> {
        if config.rounds.is_some_and(|n| n < script::SCRIPTED_ROUNDS) {
            return Err(DevnetError::Demo {
                step: "configuration".into(),
                reason: format!(
                    "at least {} rounds are needed for the scripted events",
                    script::SCRIPTED_ROUNDS
                ),
            });
        }
        let actors = Actors::from_keys(&devnet.keys())?;
        let deployment = devnet.deployment().clone();
        let url = devnet.endpoints().rpc.clone();
        let signing = actors.provider(&url, true)?;
        let reader = devnet.provider().clone();
        let stats = Arc::new(Stats::default());

        stats.set_step("loading the prover");
        let mut prover_config = ProverConfig::from_env()?;
        prover_config.batch_sizes = BATCH_SIZES.to_vec();
        let prover = Arc::new(Prover::load(prover_config).await?);

        stats.set_step("hosts joining");
        let deployer = actors.deployer.address();
        for (i, h) in actors.hosts.iter().enumerate() {
            hosts::join(&signing, &deployment, deployer, h.address(), i).await?;
        }
        // From here on the hosts' keys sign only in their keepers.
        let provider = actors.provider(&url, false)?;

        let (stop_tx, stop_rx) = watch::channel(false);
        let mut handles = Vec::new();
        let mut endpoints = Vec::new();
        let mut hosts = Vec::new();
        let mut orders = Vec::new();
        let mut loops = Vec::new();
        for (i, key) in actors.hosts.iter().enumerate() {
            let queue = devnet
                .endpoints()
                .data_dir
                .join(format!("keeper-{}.sqlite", i + 1));
            let (k, handle) = ServiceKeeper::start(
                prover.clone(),
                reader.clone(),
                key.clone(),
                deployment.clone(),
                &queue,
                stats.clone(),
            )
            .await?;
            endpoints.push(KeeperEndpoint {
                host: key.address(),
                url: k.url().to_string(),
            });
            handles.push(handle);
            let host = Arc::new(Host::<DemoKeeper>::new(
                key.address(),
                k,
                deployment.clone(),
            ));
            let (tx, rx) = mpsc::channel(64);
            loops.push(tokio::spawn(host.clone().run(rx, stats.clone())));
            hosts.push(host);
            orders.push(tx);
        }
        stats.set_step("the tour job");
        let tour_job = tour_job(&provider, &deployment, &actors, &hosts[0], &stats).await?;
        let mut script = script::Script::new(
            provider,
            deployment,
            actors,
            hosts,
            orders,
            stats.clone(),
            announce.clone(),
        );
        let outcomes = script.outcomes.clone();
        let rounds = config.rounds;
        let mut stop = stop_rx;
        let task = tokio::spawn(async move {
            let result = tokio::select! {
                r = script.run(rounds) => r,
                _ = stopped(&mut stop) => Ok(()),
            };
            if let Err(e) = &result {
                announce(&format!("demo: stopped: {e}"));
            }
            // The script is done (or stopped): the chain stays as it is until the devnet stops.
            stopped(&mut stop).await;
            drop(script);
            for l in loops {
                let _ = l.await;
            }
            for k in handles {
                if let Err(e) = k.shutdown().await {
                    tracing::warn!(error = %e, "a demo keeper stopped with an error");
                }
            }
            drop(prover);
            result
        });
        Ok(Demo {
            keepers: endpoints,
            tour_job,
            stats,
            outcomes,
            stop_tx,
            task,
        })
    }

    /// Each host's keeper, in host order.
    pub fn keepers(&self) -> &[KeeperEndpoint] {
        &self.keepers
    }

    /// The job claimed by the first host and left for the user to answer through its keeper.
    pub fn tour_job(&self) -> u64 {
        self.tour_job
    }

    /// The counters now.
    pub fn snapshot(&self) -> Snapshot {
        self.stats.snapshot()
    }

    /// Stops the script, the hosts and their keepers (the prover's workers with them).
    pub async fn stop(self) -> Result<DemoReport> {
        let _ = self.stop_tx.send(true);
        let result = self.task.await.map_err(|e| DevnetError::Demo {
            step: "stopping".into(),
            reason: e.to_string(),
        })?;
        result?;
        Ok(DemoReport {
            stats: self.stats.snapshot(),
            outcomes: self
                .outcomes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        })
    }
}

async fn stopped(stop: &mut watch::Receiver<bool>) {
    while !*stop.borrow() {
        if stop.changed().await.is_err() {
            return;
        }
    }
}

/// Creates an ETH job that the first host claims and nobody answers: the user's, to post a
/// result for to that host's keeper and watch it land. Its deadline is as late as the
/// marketplace allows (`maxJobDuration`), since the rounds move the clock a day or more each.
async fn tour_job(
    provider: &alloy::providers::DynProvider,
    deployment: &vouch_bindings::Deployment,
    actors: &Actors,
    host: &Host<DemoKeeper>,
    stats: &Stats,
) -> Result<u64> {
    let market = renters::Market::new(provider.clone(), deployment.clone());
    let longest = JobMarketplace::new(deployment.contracts.job_marketplace, provider)
        .maxJobDuration()
        .call()
        .await
        .map_err(|e| renters::chain_read("maxJobDuration", e))?;
    let now = actors::now(provider).await?;
    let spec = renters::JobSpec {
        renter: actors.renters[0].address(),
        asset: renters::Asset::Eth,
        model: hosts::model_hash(hosts::MODELS[0]),
        label: TOUR_PROMPT.into(),
        deadline: now + longest,
        offered: host.address,
    };
    let (id, gas) = market.create(&spec).await?;
    let claim_gas = host.claim(id).await?;
    Stats::add(&stats.jobs_created, 1);
    Stats::add(&stats.job_gas, gas + claim_gas);
    Ok(id.to::<u64>())
}

/// The tour job's prompt (its input hash is keccak256 of it).
pub const TOUR_PROMPT: &str = "Say hello to the Vouch devnet.";
