//! The websocket endpoint: async-graphql's websocket protocol handling (both
//! `graphql-transport-ws` and the legacy `graphql-ws`, chosen by `Sec-WebSocket-Protocol`),
//! plus what it lacks: caps on concurrent subscriptions (per server and per connection) and a
//! connection-init timeout (a socket that never sends `connection_init` is closed, 4408).

use std::sync::Arc;
use std::time::Duration;

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{Data, Error, ErrorExtensions, ObjectType, Schema, SubscriptionType};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::WebSocketUpgrade;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use axum::routing::{MethodRouter, get};
use futures::{SinkExt, StreamExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError, oneshot};

/// Caps of one server. Clones share the server-wide count.
#[derive(Clone, Debug)]
pub struct SubscriptionLimits {
    total: Arc<Semaphore>,
    max_total: usize,
    /// Concurrent subscriptions one websocket may hold.
    pub per_connection: usize,
    /// How long a new websocket may take to send `connection_init`.
    pub init_timeout: Duration,
}

impl SubscriptionLimits {
    pub fn new(total: usize, per_connection: usize, init_timeout: Duration) -> Self {
        SubscriptionLimits {
            total: Arc::new(Semaphore::new(total)),
            max_total: total,
            per_connection,
            init_timeout,
        }
    }

    /// Subscriptions open now across the server.
    pub fn active(&self) -> usize {
        self.max_total - self.total.available_permits()
    }
}

impl Default for SubscriptionLimits {
    /// 1,000 per server, 100 per connection, 5 s to send `connection_init`.
    fn default() -> Self {
        SubscriptionLimits::new(1_000, 100, Duration::from_secs(5))
    }
}

/// The slots of one websocket connection (in its connection data; subscriptions take one each).
#[derive(Clone, Debug)]
pub struct ConnectionSlots {
    limits: SubscriptionLimits,
    connection: Arc<Semaphore>,
}

/// Held by a subscription's stream: dropping the stream frees both slots.
#[derive(Debug)]
pub struct Slot {
    _total: OwnedSemaphorePermit,
    _connection: OwnedSemaphorePermit,
}

impl ConnectionSlots {
    pub fn new(limits: SubscriptionLimits) -> Self {
        ConnectionSlots {
            connection: Arc::new(Semaphore::new(limits.per_connection)),
            limits,
        }
    }

    /// A slot, or a GraphQL error (code `SUBSCRIPTION_LIMIT`) that says which cap was hit.
    pub fn acquire(&self) -> async_graphql::Result<Slot> {
        let refuse =
            |msg: String| Error::new(msg).extend_with(|_, e| e.set("code", "SUBSCRIPTION_LIMIT"));
        let connection = match self.connection.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => {
                return Err(refuse(format!(
                    "too many subscriptions on this connection: at most {} at once; complete one first",
                    self.limits.per_connection
                )));
            }
        };
        let total = match self.limits.total.clone().try_acquire_owned() {
            Ok(p) => p,
            Err(_) => {
                return Err(refuse(format!(
                    "the server is at its limit of {} concurrent subscriptions; try again later",
                    self.limits.max_total
                )));
            }
        };
        Ok(Slot {
            _total: total,
            _connection: connection,
        })
    }
}

/// `GET /graphql` as a websocket endpoint for `schema`. Mount it beside the HTTP handler:
///
/// ```ignore
/// let limits = SubscriptionLimits::default();
/// Router::new().route(
///     "/graphql",
///     ws_route(schema.clone(), limits).post_service(async_graphql_axum::GraphQL::new(schema)),
/// )
/// ```
///
/// The schema must carry the process's [`super::LiveFeed`] in its data.
pub fn ws_route<Q, M, S, St>(
    schema: Schema<Q, M, S>,
    limits: SubscriptionLimits,
) -> MethodRouter<St>
where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
    St: Clone + Send + Sync + 'static,
{
    get(
        move |protocol: GraphQLProtocol, upgrade: WebSocketUpgrade| {
            let (schema, limits) = (schema.clone(), limits.clone());
            async move {
                upgrade
                    .protocols(ALL_WEBSOCKET_PROTOCOLS)
                    .on_upgrade(move |socket| serve_socket(socket, schema, protocol, limits))
            }
        },
    )
}

/// Serves one upgraded websocket (for a custom handler): the protocol, the caps, and the
/// connection-init timeout.
pub async fn serve_socket<Q, M, S>(
    socket: WebSocket,
    schema: Schema<Q, M, S>,
    protocol: GraphQLProtocol,
    limits: SubscriptionLimits,
) where
    Q: ObjectType + 'static,
    M: ObjectType + 'static,
    S: SubscriptionType + 'static,
{
    let init_timeout = limits.init_timeout;
    let (sink, stream) = socket.split();
    // The protocol writes into a channel, so that a timeout can still close the socket.
    let (tx, rx) = futures::channel::mpsc::channel::<Message>(64);
    let forward = tokio::spawn(rx.map(Ok).forward(sink));
    let (inited_tx, inited_rx) = oneshot::channel::<()>();
    let mut data = Data::default();
    data.insert(ConnectionSlots::new(limits));
    let serve = GraphQLWebSocket::new_with_pair(tx.clone(), stream, schema, protocol)
        .with_data(data)
        .on_connection_init(move |_payload| async move {
            let _ = inited_tx.send(());
            Ok(Data::default())
        })
        .serve();
    let mut serve = Box::pin(serve);
    let timed_out = tokio::select! {
        _ = &mut serve => false,
        r = tokio::time::timeout(init_timeout, inited_rx) => match r {
            Err(_) => true,
            Ok(_) => {
                (&mut serve).await;
                false
            }
        },
    };
    drop(serve);
    let mut tx = tx;
    if timed_out {
        let _ = tx
            .send(Message::Close(Some(CloseFrame {
                code: 4408,
                reason: "Connection initialisation timeout".into(),
            })))
            .await;
    }
    drop(tx);
    let _ = tokio::time::timeout(Duration::from_secs(5), forward).await;
}
