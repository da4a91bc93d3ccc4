//! Retries of RPC calls: exponential backoff with jitter, for the errors retrying can fix
//! (the node unreachable, overloaded or rate limiting), never for answers (a revert, a refused
//! transaction). Every attempt runs inside a `tracing` span naming the RPC method.

use std::future::Future;
use std::time::Duration;

use alloy::transports::{RpcError, TransportError, TransportErrorKind};
use tracing::Instrument;

use super::error::{Result, TxError};

/// How long and how often to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first pause; each next one doubles, up to `max`.
    pub base: Duration,
    pub max: Duration,
    /// Attempts in all (the first included).
    pub attempts: u32,
}

impl Default for Backoff {
    /// ~2 minutes of retries in all: an RPC restart or a short outage is ridden out.
    fn default() -> Self {
        Backoff {
            base: Duration::from_millis(200),
            max: Duration::from_secs(10),
            attempts: 20,
        }
    }
}

impl Backoff {
    /// The pause before attempt `attempt + 1` (0-based `attempt`): `base * 2^attempt` capped at
    /// `max`, then a random 50-100% of it, so that many keepers do not retry in lockstep.
    pub fn pause(&self, attempt: u32) -> Duration {
        let full = self
            .base
            .saturating_mul(1u32 << attempt.min(20))
            .min(self.max);
        let fraction = 0.5 + 0.5 * random_unit();
        full.mul_f64(fraction)
    }
}

/// A uniform number in [0, 1) from the standard library's per-process random hasher keys
/// (jitter needs no cryptographic randomness).
fn random_unit() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0),
    );
    (h.finish() >> 11) as f64 / (1u64 << 53) as f64
}

/// Whether retrying may fix `error`: the transport failed (connection refused or reset, a
/// timeout, an HTTP 5xx/429), or the node answered with an error it marks as transient.
pub fn is_retryable(error: &TransportError) -> bool {
    match error {
        RpcError::Transport(kind) => match kind {
            TransportErrorKind::HttpError(e) => e.status == 429 || e.status >= 500,
            _ => true,
        },
        RpcError::ErrorResp(payload) => payload.is_retry_err(),
        RpcError::NullResp => true,
        _ => false,
    }
}

/// Runs `call` (one RPC request named `method`) until it succeeds, fails for good or the
/// attempts run out.
pub async fn rpc<T, F, Fut>(method: &'static str, backoff: &Backoff, mut call: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = std::result::Result<T, TransportError>>,
{
    let mut attempt = 0;
    loop {
        let span = tracing::debug_span!("rpc", method, attempt);
        match call().instrument(span).await {
            Ok(value) => return Ok(value),
            Err(e) if is_retryable(&e) && attempt + 1 < backoff.attempts => {
                let pause = backoff.pause(attempt);
                tracing::warn!(method, attempt, error = %e, ?pause, "RPC call failed; retrying");
                tokio::time::sleep(pause).await;
                attempt += 1;
            }
            Err(source) => {
                return Err(TxError::Rpc {
                    attempts: attempt + 1,
                    source,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_max_with_jitter_between_half_and_all() {
        let b = Backoff {
            base: Duration::from_millis(100),
            max: Duration::from_secs(1),
            attempts: 10,
        };
        for (attempt, full) in [(0, 100), (1, 200), (2, 400), (3, 800), (4, 1000), (9, 1000)] {
            for _ in 0..50 {
                let p = b.pause(attempt).as_secs_f64() * 1000.0;
                assert!(
                    p >= full as f64 * 0.5 - 1e-6 && p <= full as f64 + 1e-6,
                    "attempt {attempt}: {p} ms"
                );
            }
        }
    }

    #[test]
    fn transport_failures_are_retried_answers_are_not() {
        let refused: TransportError = TransportErrorKind::custom_str("connection refused");
        assert!(is_retryable(&refused));
        let http500 = RpcError::Transport(TransportErrorKind::HttpError(
            alloy::transports::HttpError {
                status: 503,
                body: String::new(),
            },
        ));
        assert!(is_retryable(&http500));
        let http400 = RpcError::Transport(TransportErrorKind::HttpError(
            alloy::transports::HttpError {
                status: 400,
                body: String::new(),
            },
        ));
        assert!(!is_retryable(&http400));
        let revert: TransportError = RpcError::ErrorResp(alloy::rpc::json_rpc::ErrorPayload {
            code: 3,
            message: "execution reverted".into(),
            data: None,
        });
        assert!(!is_retryable(&revert));
    }

    #[tokio::test]
    async fn rpc_gives_up_after_the_attempts_and_counts_them() {
        let b = Backoff {
            base: Duration::from_millis(1),
            max: Duration::from_millis(2),
            attempts: 3,
        };
        let mut calls = 0;
        let r: Result<()> = rpc("eth_test", &b, || {
            calls += 1;
            async { Err(TransportErrorKind::custom_str("connection refused")) }
        })
        .await;
        assert_eq!(calls, 3);
        assert!(matches!(r, Err(TxError::Rpc { attempts: 3, .. })), "{r:?}");
    }
}
