//! The HTTP side: `GET /` (the explorer), `GET /graphql` (GraphiQL), `POST /graphql` (JSON),
//! `GET /healthz`, `GET /metrics`; CORS, gzip, the body limit, the request timeout and the
//! header and body read timeouts (the connection loop is hyper's, for its header read
//! timeout). Stateless: every request opens its own read-only transaction, so any number of
//! replicas can serve one database.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::{Response as GqlResponse, ServerError};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tower_http::compression::CompressionLayer;
use tower_http::cors::{AllowOrigin, Any, CorsLayer};

use crate::cache::{self, CacheConfig, ResponseCache};
use crate::context::RequestCtx;
use crate::limits::{MAX_BODY_BYTES, READ_TIMEOUT, REQUEST_TIMEOUT};
use crate::metrics::{self, ErrorKind};
use crate::subscriptions::serve_socket;
use crate::{Error, LiveFeed, Result, SubscriptionLimits, VouchSchema, build_schema_with, loaders};
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql_axum::GraphQLProtocol;
use axum::extract::FromRequestParts;
use axum::extract::ws::WebSocketUpgrade;

/// How the server runs.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    pub listen: SocketAddr,
    /// Origins allowed by CORS (`*` for any); none: no CORS headers.
    pub cors_origins: Vec<String>,
    /// `/healthz` answers 503 when the indexer is more blocks than this behind its head.
    pub max_lag: i64,
    /// The chain to serve; `None`: the one in the checkpoints.
    pub chain_id: Option<i64>,
    pub timeout: Duration,
    /// How long a client may take to send the headers of a request, and then its body.
    pub read_timeout: Duration,
    /// Caps of the websocket subscriptions.
    pub subscriptions: SubscriptionLimits,
    /// The response cache (docs/graphql.md, "Response cache"); `CacheConfig::off()` disables it.
    pub response_cache: CacheConfig,
}

impl Default for ServeConfig {
    fn default() -> Self {
        ServeConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8000)),
            cors_origins: vec![],
            max_lag: 64,
            chain_id: None,
            timeout: REQUEST_TIMEOUT,
            read_timeout: READ_TIMEOUT,
            subscriptions: SubscriptionLimits::default(),
            response_cache: CacheConfig::default(),
        }
    }
}

struct App {
    schema: VouchSchema,
    cache: ResponseCache,
    db: DatabaseConnection,
    cfg: ServeConfig,
    /// Whether subscriptions are served (a live feed is in the schema's data).
    live: bool,
}

/// The routes over `db`; websocket subscriptions at /graphql when `feed` is given.
pub fn router(db: DatabaseConnection, cfg: ServeConfig, feed: Option<LiveFeed>) -> Result<Router> {
    let cors = cors(&cfg.cors_origins)?;
    let live = feed.is_some();
    let app = Arc::new(App {
        schema: build_schema_with(feed),
        cache: ResponseCache::new(cfg.response_cache),
        db,
        cfg,
        live,
    });
    let mut router = Router::new()
        .route("/", get(crate::explorer::index))
        .route(
            &format!("{}/{{name}}", crate::explorer::ASSET_PREFIX),
            get(crate::explorer::asset),
        )
        .route("/graphql", get(graphql_get).post(graphql))
        .route(
            &format!("{}/{{name}}", crate::graphiql::ASSET_PREFIX),
            get(crate::graphiql::asset),
        )
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics_text))
        .fallback(not_found)
        .with_state(app)
        .layer(CompressionLayer::new().gzip(true))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked));
    if let Some(cors) = cors {
        router = router.layer(cors);
    }
    Ok(router)
}

fn cors(origins: &[String]) -> Result<Option<CorsLayer>> {
    if origins.is_empty() {
        return Ok(None);
    }
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([header::CONTENT_TYPE])
        .max_age(Duration::from_secs(3600));
    if origins.iter().any(|o| o == "*") {
        return Ok(Some(layer.allow_origin(Any)));
    }
    let list = origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o).map_err(|_| {
                Error::BadInput(format!(
                    "CORS origin {o:?} is not a valid origin such as https://app.example"
                ))
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(layer.allow_origin(AllowOrigin::list(list))))
}

/// Binds and serves until `shutdown` resolves.
pub async fn serve(
    db: DatabaseConnection,
    cfg: ServeConfig,
    feed: Option<LiveFeed>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let addr = cfg.listen;
    let read_timeout = cfg.read_timeout;
    let router = router(db, cfg, feed)?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| Error::Listen { addr, source })?;
    tracing::info!(address = %listener.local_addr()?, "serving GraphQL at /graphql");
    serve_on(listener, router, read_timeout, shutdown).await
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets open requests finish
/// (for at most 10 s). HTTP/1.1 with websocket upgrades; a connection that has not sent a
/// request's headers within `read_timeout` of its first byte is closed (axum's own `serve`
/// sets no header timeout).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    router: Router,
    read_timeout: Duration,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
    use hyper_util::server::conn::auto;
    let service = hyper_util::service::TowerToHyperService::new(router);
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(read_timeout);
    let builder = builder.http1_only();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), service.clone());
        let conn = graceful.watch(conn.into_owned());
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("connections still open 10 s after the stop signal: closing them");
    }
    Ok(())
}

fn json(status: StatusCode, body: impl Into<Body>) -> Response {
    let body: Body = body.into();
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn error_body(message: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({ "errors": [{ "message": message }] }))
        .unwrap_or_default()
}

fn panicked(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    metrics::error(ErrorKind::Query);
    json(
        StatusCode::INTERNAL_SERVER_ERROR,
        error_body("internal error"),
    )
}

async fn not_found() -> Response {
    metrics::request("other", 404);
    json(
        StatusCode::NOT_FOUND,
        error_body("not found: the API is at /graphql"),
    )
}

/// GET /graphql: a websocket upgrade (graphql-transport-ws or graphql-ws) when asked for,
/// GraphiQL otherwise.
async fn graphql_get(State(app): State<Arc<App>>, request: axum::extract::Request) -> Response {
    let upgrade = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if !upgrade {
        return graphiql().await.into_response();
    }
    if !app.live {
        metrics::request("websocket", 400);
        return json(
            StatusCode::BAD_REQUEST,
            error_body("subscriptions are not enabled on this server"),
        );
    }
    let (mut parts, _) = request.into_parts();
    let protocol = match GraphQLProtocol::from_request_parts(&mut parts, &()).await {
        Ok(p) => p,
        Err(e) => return e.into_response(),
    };
    let socket = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    metrics::request("websocket", 101);
    let (schema, limits) = (app.schema.clone(), app.cfg.subscriptions.clone());
    socket
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |s| serve_socket(s, schema, protocol, limits))
}

async fn graphiql() -> Html<String> {
    metrics::request("graphiql", 200);
    crate::graphiql::page("/graphql")
}

async fn graphql(State(app): State<Arc<App>>, body: Body) -> Response {
    let started = Instant::now();
    let response = answer(&app, body).await;
    metrics::latency(started.elapsed());
    metrics::request("graphql", response.status().as_u16());
    response
}

async fn answer(app: &App, body: Body) -> Response {
    let read = tokio::time::timeout(
        app.cfg.read_timeout,
        axum::body::to_bytes(body, MAX_BODY_BYTES),
    );
    let bytes: Bytes = match read.await {
        Ok(Ok(b)) => b,
        Err(_) => {
            metrics::error(ErrorKind::Timeout);
            let mut r = json(
                StatusCode::REQUEST_TIMEOUT,
                error_body(&format!(
                    "the request body did not arrive within {} s: send it at once",
                    app.cfg.read_timeout.as_secs_f64()
                )),
            );
            // The rest of the body is not awaited: the connection ends with this answer.
            r.headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return r;
        }
        Ok(Err(_)) => {
            metrics::error(ErrorKind::TooLarge);
            return json(
                StatusCode::PAYLOAD_TOO_LARGE,
                error_body(&format!(
                    "request body is larger than {} KiB",
                    MAX_BODY_BYTES / 1024
                )),
            );
        }
    };
    let request: async_graphql::Request = match serde_json::from_slice(&bytes) {
        Ok(r) => r,
        Err(e) => {
            metrics::error(ErrorKind::BadRequest);
            return json(
                StatusCode::BAD_REQUEST,
                error_body(&format!(
                    "the body is not a GraphQL request ({{\"query\": \"...\", \"variables\": {{...}}}}): {e}"
                )),
            );
        }
    };
    let timeout = app.cfg.timeout;
    let key = app.cache.enabled().then(|| cache::key(&request)).flatten();
    let run = async {
        if let Some(k) = &key {
            // One statement: the checkpoints now. A hit was computed at exactly these.
            let current = crate::context::checkpoints(&app.db).await?;
            if !current.is_empty()
                && let Some(hit) = app.cache.get(&current, k)
            {
                return Ok::<_, Error>(Err(hit));
            }
        }
        let ctx = RequestCtx::open(&app.db, app.cfg.chain_id).await?;
        let version = ctx.version.clone();
        let loaders = loaders::for_request(&ctx);
        let response = app.schema.execute(request.data(ctx).data(loaders)).await;
        Ok(Ok((response, version)))
    };
    let (response, version) = match tokio::time::timeout(timeout, run).await {
        Ok(Ok(Err(cached))) => {
            metrics::cache(true);
            return json(StatusCode::OK, cached);
        }
        Ok(Ok(Ok(r))) => r,
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "cannot open a read transaction");
            metrics::error(ErrorKind::Database);
            (
                GqlResponse::from_errors(vec![ServerError::new(
                    format!("the database is unavailable: {e}"),
                    None,
                )]),
                vec![],
            )
        }
        Err(_) => {
            metrics::error(ErrorKind::Timeout);
            (
                GqlResponse::from_errors(vec![ServerError::new(
                    format!("the request timed out after {} s", timeout.as_secs_f64()),
                    None,
                )]),
                vec![],
            )
        }
    };
    for e in &response.errors {
        metrics::error(ErrorKind::of_message(&e.message));
    }
    match serde_json::to_vec(&response) {
        Ok(body) => {
            let body = Bytes::from(body);
            if let Some(k) = key
                && response.errors.is_empty()
                && !version.is_empty()
            {
                metrics::cache(false);
                app.cache.put(&version, k, body.clone());
            }
            json(StatusCode::OK, body)
        }
        Err(e) => json(
            StatusCode::OK,
            error_body(&format!("cannot encode the response: {e}")),
        ),
    }
}

async fn healthz(State(app): State<Arc<App>>) -> Response {
    let probe = tokio::time::timeout(
        Duration::from_secs(2),
        RequestCtx::open(&app.db, app.cfg.chain_id),
    )
    .await;
    let (status, body) = match probe {
        Ok(Ok(ctx)) => match &ctx.checkpoint {
            Some(c) => {
                let lag = (c.head - c.block_number).max(0);
                let ok = lag <= app.cfg.max_lag;
                (
                    if ok {
                        StatusCode::OK
                    } else {
                        StatusCode::SERVICE_UNAVAILABLE
                    },
                    serde_json::json!({
                        "status": if ok { "ok" } else { "lagging" },
                        "database": "ok",
                        "chainId": c.chain_id,
                        "indexedBlock": c.block_number,
                        "head": c.head,
                        "lag": lag,
                        "maxLag": app.cfg.max_lag,
                    }),
                )
            }
            None => (
                StatusCode::SERVICE_UNAVAILABLE,
                serde_json::json!({"status": "not indexed", "database": "ok", "error": "no checkpoint yet: the indexer has not committed a block"}),
            ),
        },
        Ok(Err(e)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "down", "database": "unreachable", "error": e.to_string()}),
        ),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            serde_json::json!({"status": "down", "database": "timeout", "error": "the database did not answer within 2 s"}),
        ),
    };
    metrics::request("healthz", status.as_u16());
    json(status, serde_json::to_vec(&body).unwrap_or_default())
}

async fn metrics_text() -> Response {
    metrics::request("metrics", 200);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics::render(),
    )
        .into_response()
}
