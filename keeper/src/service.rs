//! The keeper as a service: the intake API together with the operations endpoints on one
//! listener, served until a shutdown signal, after which intake refuses new results and the
//! server drains the requests in flight.
//!
//! - `GET /healthz`: 200 `{"status":"ok", ...}` when the queue database and the chain answer,
//!   503 with the failing part otherwise.
//! - `GET /metrics`: Prometheus text ([`crate::metrics`]).

use std::future::Future;
use std::net::SocketAddr;

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use crate::intake::{self, Intake};

/// Why the service stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The listen address is taken or not ours.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The HTTP server failed.
    #[error("the HTTP server failed: {0}")]
    Serve(std::io::Error),
}

/// The service's `Result` alias.
pub type Result<T, E = ServiceError> = std::result::Result<T, E>;

/// Every route of the keeper: intake, `/healthz`, `/metrics`.
pub fn router(intake: Intake) -> Router {
    let ops = Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(intake.clone());
    intake::router(intake).merge(ops)
}

/// Binds `listen` (fails at once when it cannot).
pub async fn bind(listen: SocketAddr) -> Result<tokio::net::TcpListener> {
    tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|source| ServiceError::Listen {
            addr: listen,
            source,
        })
}

/// Serves [`router`] on `listener` until `shutdown` resolves; then intake is closed to new
/// results and the requests in flight are finished.
pub async fn serve(
    listener: tokio::net::TcpListener,
    intake: Intake,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let closing = intake.clone();
    axum::serve(listener, router(intake))
        .with_graceful_shutdown(async move {
            shutdown.await;
            closing.close();
        })
        .await
        .map_err(ServiceError::Serve)
}

async fn healthz(State(intake): State<Intake>) -> Response {
    let queue = intake.queue().depth().await;
    let chain = intake.chain().now().await;
    match (queue, chain) {
        (Ok(depth), Ok(now)) => Json(json!({
            "status": "ok",
            "chainTime": now,
            "queue": depth.iter().map(|(s, n)| (s.as_str(), *n)).collect::<std::collections::BTreeMap<_, _>>(),
        }))
        .into_response(),
        (queue, chain) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "unavailable",
                "queue": queue.err().map(|e| e.to_string()),
                "chain": chain.err().map(|e| e.to_string()),
            })),
        )
            .into_response(),
    }
}

async fn metrics(State(intake): State<Intake>) -> Response {
    match intake.queue().depth().await {
        Ok(depth) => (
            [("content-type", "text/plain; version=0.0.4")],
            intake.metrics().render(&depth),
        )
            .into_response(),
        Err(e) => (StatusCode::SERVICE_UNAVAILABLE, e.to_string()).into_response(),
    }
}
