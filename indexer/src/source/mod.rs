//! The chain side: what the indexer reads from the RPC node (logs of the deployment's
//! addresses, block headers, the head), with retries. Adaptive range sizing lives in
//! [`ranges`], the backoff rule in [`retry`].

mod ranges;
mod retry;

pub use ranges::RangeSizer;
pub use retry::Backoff;

use std::time::Duration;

use alloy::eips::BlockNumberOrTag;
use alloy::primitives::{Address, B256};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use alloy::rpc::types::{Filter, Log};
use tracing::{Instrument, debug_span, warn};

/// A block as the reorg window keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRef {
    pub number: u64,
    pub hash: B256,
    pub parent_hash: B256,
    pub timestamp: u64,
}

/// Source errors that reach the caller (transient ones are retried first).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("RPC URL {url} is not valid: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("RPC {what} failed after {attempts} attempts: {source}")]
    Rpc {
        what: &'static str,
        attempts: u32,
        source: alloy::transports::TransportError,
    },
    #[error("the node has no block {0}")]
    MissingBlock(u64),
}

/// Reads the chain through one alloy provider (HTTP or websocket).
#[derive(Clone, Debug)]
pub struct ChainSource {
    provider: DynProvider,
    addresses: Vec<Address>,
    backoff: Backoff,
    /// Connected by websocket: new heads arrive by `eth_subscribe`.
    websocket: bool,
}

/// New-head notifications of a websocket connection.
pub type Heads = alloy::pubsub::Subscription<alloy::rpc::types::Header>;

impl ChainSource {
    /// Connects to `url` (http(s):// or ws(s)://) for the logs of `addresses`.
    pub async fn connect(
        url: &str,
        addresses: Vec<Address>,
        backoff: Backoff,
    ) -> Result<Self, SourceError> {
        let bad = |reason: String| SourceError::BadUrl {
            url: url.to_owned(),
            reason,
        };
        let provider = if url.starts_with("ws://") || url.starts_with("wss://") {
            ProviderBuilder::new()
                .connect(url)
                .await
                .map_err(|e| bad(e.to_string()))?
                .erased()
        } else if url.starts_with("http://") || url.starts_with("https://") {
            ProviderBuilder::new()
                .connect_http(
                    url.parse()
                        .map_err(|e: url::ParseError| bad(e.to_string()))?,
                )
                .erased()
        } else {
            return Err(bad("use http://, https://, ws:// or wss://".into()));
        };
        let mut source = Self::new(provider, addresses, backoff);
        source.websocket = url.starts_with("ws");
        Ok(source)
    }

    pub fn new(provider: DynProvider, addresses: Vec<Address>, backoff: Backoff) -> Self {
        ChainSource {
            provider,
            addresses,
            backoff,
            websocket: false,
        }
    }

    /// A `newHeads` subscription when connected by websocket (None over HTTP, or when the
    /// node refuses it: the indexer then polls).
    pub async fn subscribe_heads(&self) -> Option<Heads> {
        if !self.websocket {
            return None;
        }
        match self.provider.subscribe_blocks().await {
            Ok(sub) => Some(sub),
            Err(e) => {
                warn!(error = %e, "newHeads subscription refused; polling instead");
                None
            }
        }
    }

    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    pub async fn chain_id(&self) -> Result<u64, SourceError> {
        self.retry("eth_chainId", || self.provider.get_chain_id())
            .await
    }

    pub async fn head(&self) -> Result<u64, SourceError> {
        self.retry("eth_blockNumber", || self.provider.get_block_number())
            .await
    }

    /// One block's header.
    pub async fn block(&self, number: u64) -> Result<BlockRef, SourceError> {
        let block = self
            .retry("eth_getBlockByNumber", || {
                self.provider
                    .get_block_by_number(BlockNumberOrTag::Number(number))
            })
            .await?
            .ok_or(SourceError::MissingBlock(number))?;
        Ok(BlockRef {
            number,
            hash: block.header.hash,
            parent_hash: block.header.parent_hash,
            timestamp: block.header.timestamp,
        })
    }

    /// The logs of every address in `from..=to`, one request (no retry: the caller shrinks
    /// the range on failure).
    pub async fn logs_once(
        &self,
        from: u64,
        to: u64,
    ) -> Result<Vec<Log>, alloy::transports::TransportError> {
        let filter = Filter::new()
            .address(self.addresses.clone())
            .from_block(from)
            .to_block(to);
        self.provider
            .get_logs(&filter)
            .instrument(debug_span!("rpc.eth_getLogs", from, to))
            .await
    }

    /// The logs of one block by its hash: consistent with that header even during a reorg.
    pub async fn logs_at(&self, hash: B256) -> Result<Vec<Log>, SourceError> {
        let filter = Filter::new()
            .address(self.addresses.clone())
            .at_block_hash(hash);
        self.retry("eth_getLogs", || self.provider.get_logs(&filter))
            .await
    }

    /// Runs an RPC call, retrying transport errors with exponential backoff and jitter.
    async fn retry<T, F, Fut>(&self, what: &'static str, mut call: F) -> Result<T, SourceError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::IntoFuture<Output = Result<T, alloy::transports::TransportError>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match call()
                .into_future()
                .instrument(debug_span!("rpc", method = what))
                .await
            {
                Ok(v) => return Ok(v),
                Err(source) if attempt >= self.backoff.max_attempts => {
                    return Err(SourceError::Rpc {
                        what,
                        attempts: attempt,
                        source,
                    });
                }
                Err(e) => {
                    let delay = self.backoff.delay(attempt);
                    crate::metrics::rpc_retry();
                    warn!(method = what, attempt, error = %e, delay_ms = delay.as_millis() as u64, "RPC call failed; retrying");
                    tokio::time::sleep(delay).await;
                }
            }
        }
    }
}

/// How long a poll for new heads waits when the URL is HTTP.
pub const POLL_INTERVAL: Duration = Duration::from_millis(200);
