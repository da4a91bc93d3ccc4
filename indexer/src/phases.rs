//! Where the indexer's time goes, per phase: cumulative wall time spent waiting for fetched
//! logs, decoding them, folding them into rows, waiting for the writer to take a commit, and
//! writing commits (the writer task). The backfill bench prints these; they cost two clock
//! reads per log.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The counters, shared by the indexing loop and its writer task.
#[derive(Debug, Default)]
pub(crate) struct Phases {
    waiting_for_logs: AtomicU64,
    decoding: AtomicU64,
    folding: AtomicU64,
    waiting_for_writer: AtomicU64,
    writing: AtomicU64,
}

/// One phase.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Phase {
    WaitingForLogs,
    Decoding,
    Folding,
    WaitingForWriter,
    Writing,
}

impl Phases {
    fn counter(&self, phase: Phase) -> &AtomicU64 {
        match phase {
            Phase::WaitingForLogs => &self.waiting_for_logs,
            Phase::Decoding => &self.decoding,
            Phase::Folding => &self.folding,
            Phase::WaitingForWriter => &self.waiting_for_writer,
            Phase::Writing => &self.writing,
        }
    }

    /// Adds the time since `since` to `phase`; returns now, to start the next phase.
    pub(crate) fn add(&self, phase: Phase, since: Instant) -> Instant {
        let now = Instant::now();
        let nanos = u64::try_from((now - since).as_nanos()).unwrap_or(u64::MAX);
        self.counter(phase).fetch_add(nanos, Ordering::Relaxed);
        now
    }

    pub(crate) fn snapshot(&self) -> PhaseTimes {
        let get = |p| Duration::from_nanos(self.counter(p).load(Ordering::Relaxed));
        PhaseTimes {
            waiting_for_logs: get(Phase::WaitingForLogs),
            decoding: get(Phase::Decoding),
            folding: get(Phase::Folding),
            waiting_for_writer: get(Phase::WaitingForWriter),
            writing: get(Phase::Writing),
        }
    }
}

/// Cumulative wall time per phase since the indexer opened. The loop's phases (waiting for
/// logs, decoding, folding, waiting for the writer) follow one another; writing runs in its
/// own task, overlapping them during a backfill.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PhaseTimes {
    pub waiting_for_logs: Duration,
    pub decoding: Duration,
    pub folding: Duration,
    pub waiting_for_writer: Duration,
    pub writing: Duration,
}
