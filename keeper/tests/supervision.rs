//! The worker pool's supervision: timeouts kill and replace a worker, crashes are reported and
//! repaired, and a worker that died while idle is replaced without failing a request.

mod common;

use std::time::Duration;

use common::{job, jobs, prover};
use vouch_keeper::prover::ProverError;

fn kill(pid: u32) {
    let status = std::process::Command::new("kill")
        .arg("-9")
        .arg(pid.to_string())
        .status()
        .unwrap();
    assert!(status.success(), "kill -9 {pid}");
}

fn pids(prover: &vouch_keeper::prover::Prover) -> Vec<u32> {
    let mut pids: Vec<u32> = prover
        .idle_workers()
        .into_iter()
        .map(|(pid, _)| pid)
        .collect();
    pids.sort_unstable();
    pids
}

#[tokio::test]
async fn timeout_kills_the_worker_and_the_next_request_gets_a_new_one() {
    let prover = prover().await;
    let before = pids(&prover);
    assert_eq!(before.len(), 2);
    let err = prover
        .prove_timed(&jobs(0, 64), Duration::from_millis(1))
        .await
        .unwrap_err();
    assert!(
        matches!(err, ProverError::Timeout { op: "prove", .. }),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        "prove timed out after 1 ms; the worker was killed and will be restarted"
    );
    // One slot is empty now; the next requests fill it with a new worker.
    assert_eq!(prover.idle_workers().len(), 1);
    let a = prover.prove(&[job(1)]).await.unwrap();
    let b = prover.prove(&[job(2)]).await.unwrap();
    assert!(prover.verify(&a).await.unwrap() && prover.verify(&b).await.unwrap());
    let after = pids(&prover);
    assert_eq!(after.len(), 2);
    assert_eq!(
        after.iter().filter(|p| before.contains(p)).count(),
        1,
        "exactly one worker was replaced"
    );
}

#[tokio::test]
async fn a_worker_killed_mid_request_is_a_typed_error_then_replaced() {
    let prover = std::sync::Arc::new(prover().await);
    let before = pids(&prover);
    let task = {
        let prover = prover.clone();
        tokio::spawn(async move { prover.prove(&jobs(0, 64)).await })
    };
    // Wait until the request holds a worker, then kill both: the busy one is mid-proof (a B=64
    // proof takes well over 100 ms).
    while prover.idle_workers().len() == 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    tokio::time::sleep(Duration::from_millis(20)).await;
    for pid in &before {
        kill(*pid);
    }
    let err = task.await.unwrap().unwrap_err();
    assert!(matches!(err, ProverError::WorkerCrashed { .. }), "{err}");
    assert!(err.to_string().contains("signal: 9"), "{err}");
    // The idle worker died too: no live worker is left (SIGKILL is delivered asynchronously,
    // so its death may take a moment to show); two requests at once then get new ones.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while !pids(&prover).is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(pids(&prover), Vec::<u32>::new());
    let (x, y) = ([job(3)], [job(4)]);
    let (a, b) = tokio::join!(prover.prove(&x), prover.prove(&y));
    assert!(prover.verify(&a.unwrap()).await.unwrap());
    assert!(prover.verify(&b.unwrap()).await.unwrap());
    let after = pids(&prover);
    assert_eq!(after.len(), 2);
    assert!(
        after.iter().all(|p| !before.contains(p)),
        "{before:?} -> {after:?}"
    );
}

#[tokio::test]
async fn a_worker_that_died_while_idle_is_replaced_transparently() {
    let prover = prover().await;
    let before = pids(&prover);
    for pid in &before {
        kill(*pid);
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    let proof = prover.prove(&[job(4)]).await.unwrap();
    assert!(prover.verify(&proof).await.unwrap());
}

#[tokio::test]
async fn both_workers_prove_at_once() {
    let prover = std::sync::Arc::new(prover().await);
    let mut tasks = Vec::new();
    for i in 0..4 {
        let prover = prover.clone();
        tasks.push(tokio::spawn(async move {
            prover.prove(&jobs(1000 + 16 * i, 16)).await
        }));
    }
    for task in tasks {
        let proof = task.await.unwrap().unwrap();
        assert!(prover.verify(&proof).await.unwrap());
    }
    assert_eq!(prover.workers(), 2);
    assert_eq!(prover.idle_workers().len(), 2);
}

#[tokio::test]
async fn missing_artifacts_and_python_are_typed_errors() {
    let mut config = vouch_keeper::prover::ProverConfig::from_env().unwrap();
    config.artifacts.build_dir = std::env::temp_dir().join("vouch-no-such-build-dir");
    let err = vouch_keeper::prover::Prover::load(config)
        .await
        .err()
        .unwrap();
    assert!(
        matches!(err, ProverError::ArtifactsMissing { batch_size: 1, .. }),
        "{err}"
    );
    assert!(
        err.to_string().ends_with("run `vouch proof setup`"),
        "{err}"
    );

    let mut config = vouch_keeper::prover::ProverConfig::from_env().unwrap();
    config.python = "/nonexistent/python".into();
    let err = vouch_keeper::prover::Prover::load(config)
        .await
        .err()
        .unwrap();
    assert!(matches!(err, ProverError::Python { .. }), "{err}");
}

#[tokio::test]
async fn threads_per_worker_limits_ezkl_threads() {
    let prover = common::prover_with(|c| {
        c.workers = 1;
        c.threads_per_worker = Some(1);
    })
    .await;
    let pid = pids(&prover)[0];
    let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap();
    assert!(
        environ
            .split(|b| *b == 0)
            .any(|kv| kv == b"RAYON_NUM_THREADS=1")
    );
    let proof = prover.prove(&jobs(0, 16)).await.unwrap();
    assert!(prover.verify(&proof).await.unwrap());
}
