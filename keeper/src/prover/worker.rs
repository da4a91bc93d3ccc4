//! One supervised Python worker process that drives EZKL (the Python side is `worker.py`,
//! embedded in the binary): spawn, one JSON-lines request at a time, kill on drop.
//!
//! A worker is a separate process so that a blocked or crashed EZKL call can be cut off: the
//! pool kills it on timeout (a call inside this process could not be cancelled) and a crash
//! takes down only that worker.

use std::collections::{BTreeMap, VecDeque};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
use tokio::task::JoinHandle;

use super::artifacts::CircuitPaths;
use super::error::ProverError;
use super::protocol::{Envelope, Op, Ready, Request};

/// The Python side of the worker protocol.
const WORKER_PY: &str = include_str!("worker.py");
/// Lines of a worker's stderr kept for error messages.
const STDERR_TAIL: usize = 20;

/// What every worker of a pool is started with.
#[derive(Debug, Clone)]
pub(crate) struct WorkerSpec {
    pub python: PathBuf,
    pub circuits: BTreeMap<usize, CircuitPaths>,
    /// Verifiable models by name.
    pub models: BTreeMap<String, CircuitPaths>,
    /// `RAYON_NUM_THREADS` for EZKL in the worker; `None` keeps EZKL's default (every core).
    pub threads: Option<usize>,
    pub start_timeout: Duration,
}

/// A running worker process, ready for requests.
pub(crate) struct Worker {
    child: Child,
    stdin: ChildStdin,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr_tail: Arc<Mutex<VecDeque<String>>>,
    stderr_task: Option<JoinHandle<()>>,
    pid: u32,
    next_id: u64,
    /// Time from spawn to the ready line (interpreter start, EZKL import, key reads).
    pub load_time: Duration,
    // Input, witness and proof files of the worker; removed when the worker is dropped.
    _tmp: tempfile::TempDir,
}

impl Worker {
    /// Starts a worker and waits for its ready line.
    #[tracing::instrument(name = "worker_spawn", skip_all, fields(pid))]
    pub async fn spawn(spec: &WorkerSpec) -> Result<Self, ProverError> {
        let started = Instant::now();
        let tmp = tempfile::Builder::new()
            .prefix("vouch-prover-")
            .tempdir()
            .map_err(|e| ProverError::io(std::env::temp_dir(), e))?;
        let config = json!({
            "tmp": tmp.path(),
            "circuits": spec.circuits.iter().map(|(b, p)| (b.to_string(), p)).collect::<BTreeMap<_, _>>(),
            "models": &spec.models,
        });
        let mut command = Command::new(&spec.python);
        if let Some(threads) = spec.threads {
            command.env("RAYON_NUM_THREADS", threads.to_string());
        }
        let mut child = command
            .arg("-u")
            .arg("-c")
            .arg(WORKER_PY)
            .arg(config.to_string())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| ProverError::Python {
                path: spec.python.clone(),
                reason: e.to_string(),
            })?;
        let pid = child.id().unwrap_or_default();
        tracing::Span::current().record("pid", pid);
        let stdin = child.stdin.take().expect("stdin is piped");
        let stdout = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let stderr = child.stderr.take().expect("stderr is piped");
        let stderr_tail = Arc::new(Mutex::new(VecDeque::with_capacity(STDERR_TAIL)));
        let tail = stderr_tail.clone();
        let stderr_task = tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::debug!(target: "vouch_keeper::prover::worker", pid, "{line}");
                let mut tail = tail.lock().expect("stderr tail lock");
                if tail.len() == STDERR_TAIL {
                    tail.pop_front();
                }
                tail.push_back(line);
            }
        });
        let mut worker = Self {
            child,
            stdin,
            stdout,
            stderr_tail,
            stderr_task: Some(stderr_task),
            pid,
            next_id: 1,
            load_time: Duration::ZERO,
            _tmp: tmp,
        };
        let ready = match tokio::time::timeout(spec.start_timeout, worker.stdout.next_line()).await
        {
            Err(_) => {
                return Err(ProverError::WorkerStart(format!(
                    "no ready line within {} s",
                    spec.start_timeout.as_secs()
                )));
            }
            Ok(Err(e)) => return Err(ProverError::WorkerStart(format!("reading its output: {e}"))),
            Ok(Ok(None)) => return Err(ProverError::WorkerStart(worker.death_detail().await)),
            Ok(Ok(Some(line))) => line,
        };
        let ready: Ready = serde_json::from_str(&ready)
            .map_err(|_| ProverError::WorkerStart(format!("unexpected first line {ready:?}")))?;
        if !ready.ready {
            return Err(ProverError::WorkerStart(format!(
                "unexpected first line {ready:?}"
            )));
        }
        worker.load_time = started.elapsed();
        tracing::debug!(pid, ezkl = %ready.ezkl, load_ms = worker.load_time.as_millis() as u64, "prover worker ready");
        Ok(worker)
    }

    /// The worker's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// False once the process has exited.
    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends one request and waits for its reply; returns the reply's operation fields.
    /// `Err(Ezkl)` means the worker answered with an error and is still usable; any other
    /// error leaves it in an unknown state.
    pub async fn call(
        &mut self,
        op: &Op,
    ) -> Result<serde_json::Map<String, serde_json::Value>, ProverError> {
        let id = self.next_id;
        self.next_id += 1;
        let mut line = serde_json::to_string(&Request { id, op }).expect("a request serializes");
        line.push('\n');
        if self.stdin.write_all(line.as_bytes()).await.is_err() || self.stdin.flush().await.is_err()
        {
            return Err(self.crashed().await);
        }
        let reply = match self.stdout.next_line().await {
            Ok(Some(reply)) => reply,
            Ok(None) | Err(_) => return Err(self.crashed().await),
        };
        let reply: Envelope = serde_json::from_str(&reply).map_err(|e| {
            ProverError::Protocol(format!("not a reply ({e}): {}", truncate(&reply, 200)))
        })?;
        if reply.id != Some(id) {
            return Err(ProverError::Protocol(format!(
                "reply to request {:?} while {id} was due",
                reply.id
            )));
        }
        if !reply.ok {
            let error = reply.error.as_deref().unwrap_or("no error message");
            return Err(ProverError::Ezkl(truncate(error, 400)));
        }
        Ok(reply.body)
    }

    async fn crashed(&mut self) -> ProverError {
        ProverError::WorkerCrashed {
            pid: self.pid,
            detail: self.death_detail().await,
        }
    }

    /// Exit status and the end of stderr of a worker whose output ended.
    async fn death_detail(&mut self) -> String {
        let status = match tokio::time::timeout(Duration::from_secs(2), self.child.wait()).await {
            Ok(Ok(status)) => status.to_string(),
            _ => "still running".to_string(),
        };
        if let Some(task) = self.stderr_task.take() {
            let _ = tokio::time::timeout(Duration::from_millis(500), task).await;
        }
        let tail = self.stderr_tail.lock().expect("stderr tail lock");
        let last: Vec<&str> = tail
            .iter()
            .rev()
            .filter(|l| !l.trim().is_empty())
            .take(2)
            .map(String::as_str)
            .collect();
        if last.is_empty() {
            status
        } else {
            let lines: Vec<&str> = last.into_iter().rev().collect();
            format!("{status}; stderr: {}", truncate(&lines.join(" | "), 400))
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // kill_on_drop kills the process; tokio reaps it in the background.
        let _ = self.child.start_kill();
        if let Some(task) = self.stderr_task.take() {
            task.abort();
        }
    }
}

fn truncate(s: &str, max: usize) -> String {
    let s = s.replace(['\n', '\r'], " ");
    if s.chars().count() <= max {
        s
    } else {
        let cut: String = s.chars().take(max).collect();
        format!("{cut}...")
    }
}
