//! `vouch devnet --demo`: protocol life on the devnet. Five hosts join and serve with their own
//! keepers (one shared prover pool), two renters rent in ETH and VOUCH, payments are released
//! after the dispute window (anvil's clock jumps), and the scripted events happen once each.
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

use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;
use vouch_keeper::prover::{Prover, ProverConfig};

use actors::Actors;
use hosts::Host;
use keeper::{BATCH_SIZES, ProverKeeper};
pub use progress::{Snapshot, Stats};
pub use script::{Announce, Outcome};

use crate::{Devnet, DevnetError, Result};

/// The keeper each demo host runs (swap here for the embedded keeper service).
pub type DemoKeeper = ProverKeeper;

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
        let mut keepers = Vec::new();
        let mut hosts = Vec::new();
        let mut orders = Vec::new();
        let mut loops = Vec::new();
        for key in &actors.hosts {
            let (k, task) = ProverKeeper::start(
                prover.clone(),
                reader.clone(),
                key.clone(),
                deployment.clone(),
                stats.clone(),
                stop_rx.clone(),
            )
            .await?;
            keepers.push(task);
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
            for k in keepers {
                let _ = k.await;
            }
            drop(prover);
            result
        });
        Ok(Demo {
            stats,
            outcomes,
            stop_tx,
            task,
        })
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
