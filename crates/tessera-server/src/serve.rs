//! The accept loop. axum's `serve` gives no header-read timeout, no idle timeout and no
//! connection bound, so a client that opens sockets and sends nothing (or trickles its
//! headers, or opens an HTTP/2 connection and goes quiet) could hold descriptors forever.
//! This loop configures hyper itself and watches every connection:
//!
//! * **first byte**: a connection that sends nothing within the header timeout (10 s by
//!   default) is closed before any protocol is sniffed; after that hyper's own header-read
//!   timeout bounds the request head (HTTP/1).
//! * **idle**: a connection with no request in flight for the idle timeout (60 s by
//!   default) is closed, HTTP/1 keep-alive and HTTP/2 alike.
//! * **how many**: at most `max_connections` at once. At the bound, the connection idle the
//!   longest (or still silent) is closed to make room, so a flood of silent sockets cannot
//!   keep a real client out; if every connection is busy, accepting waits for one to end.
//!   When the process runs out of descriptors, the same eviction frees one, accepting backs
//!   off (up to a second), and the log says so at most once every ten seconds.
//! * **HTTP/2 without TLS** (prior knowledge) is off unless asked for: Tessera runs behind
//!   a TLS-terminating proxy, which speaks HTTP/1.1 to it. When on, the same header limits
//!   apply (the byte limit in hyper, the count in [`crate::http::layers`]), plus HTTP/2
//!   keep-alive pings and a stream limit.
//! * **shutdown** lets in-flight requests finish for at most [`SHUTDOWN_GRACE`].

use std::collections::HashMap;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, Semaphore, watch};
use tokio::task::JoinSet;
use tower::ServiceExt as _;

/// Most request headers accepted (more is answered 431).
pub const MAX_HEADERS: usize = 100;
/// Largest request head (request line and headers) accepted; more is answered 431.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;
/// How long shutdown waits for in-flight requests.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);
/// How long an idle or evicted connection may take to close politely before it is dropped.
const IDLE_CLOSE_GRACE: Duration = Duration::from_secs(1);
/// Most concurrent HTTP/2 streams on one connection (when HTTP/2 is on).
const MAX_H2_STREAMS: u32 = 64;
/// How often an HTTP/2 connection is pinged, and how long the answer may take.
const H2_PING_INTERVAL: Duration = Duration::from_secs(20);
const H2_PING_TIMEOUT: Duration = Duration::from_secs(10);
/// At most one log line per this interval for a repeating connection-level condition.
const LOG_EVERY: Duration = Duration::from_secs(10);
/// Longest pause of the accept loop after an accept error.
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// How connections are served (from [`crate::Settings`]).
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// A new connection must send its first byte, and then its request head, within this.
    pub header_timeout: Duration,
    /// A connection with no request in flight for this long is closed.
    pub idle_timeout: Duration,
    /// Most connections open at once.
    pub max_connections: usize,
    /// Serve HTTP/2 with prior knowledge (cleartext) beside HTTP/1.1.
    pub http2: bool,
}

/// Serves `app` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    options: &ServeOptions,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let builder = connection_builder(options);
    let registry = Arc::new(Registry::new());
    let slots = Arc::new(Semaphore::new(options.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    let mut accept_errors = Throttle::default();
    let mut at_capacity = Throttle::default();
    let mut backoff = Duration::ZERO;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(pair) => {
                    backoff = Duration::ZERO;
                    pair
                }
                Err(e) => {
                    // Out of descriptors (or another transient error): give one back by
                    // closing the longest-idle connection, and pause instead of spinning.
                    registry.evict_oldest_idle();
                    if let Some(suppressed) = accept_errors.due() {
                        tracing::warn!(error = %e, suppressed, "accept failed; closing idle connections and backing off");
                    }
                    backoff = (backoff * 2).clamp(Duration::from_millis(10), MAX_ACCEPT_BACKOFF);
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(backoff) => continue,
                    }
                }
            },
        };
        // reap finished connection tasks so the set does not grow without bound
        while connections.try_join_next().is_some() {}
        let permit = if let Ok(permit) = slots.clone().try_acquire_owned() {
            permit
        } else {
            if let Some(suppressed) = at_capacity.due() {
                tracing::warn!(
                    max_connections = options.max_connections,
                    suppressed,
                    "connection limit reached; closing the longest-idle connection"
                );
            }
            registry.evict_oldest_idle();
            tokio::select! {
                () = &mut shutdown => break,
                permit = slots.clone().acquire_owned() => match permit {
                    Ok(permit) => permit,
                    Err(_) => break,
                },
            }
        };
        let conn = registry.register();
        let app = app.clone();
        let builder = builder.clone();
        let stop = stop_rx.clone();
        let registry = registry.clone();
        let options = options.clone();
        connections.spawn(async move {
            serve_connection(stream, peer, app, &builder, &options, &conn, stop).await;
            registry.remove(conn.id);
            drop(permit);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            remaining = connections.len(),
            "shutdown grace over: dropping connections"
        );
        connections.abort_all();
    }
    Ok(())
}

fn connection_builder(options: &ServeOptions) -> Builder<TokioExecutor> {
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout)
        .max_headers(MAX_HEADERS)
        .max_buf_size(MAX_HEADER_BYTES);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(u32::try_from(MAX_HEADER_BYTES).unwrap_or(u32::MAX))
        .max_concurrent_streams(MAX_H2_STREAMS)
        .keep_alive_interval(H2_PING_INTERVAL)
        .keep_alive_timeout(H2_PING_TIMEOUT);
    if options.http2 {
        builder
    } else {
        builder.http1_only()
    }
}

/// One connection, from its first byte to its close.
async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    builder: &Builder<TokioExecutor>,
    options: &ServeOptions,
    conn: &Arc<Conn>,
    mut stop: watch::Receiver<bool>,
) {
    // Nothing is read (or sniffed) until the client has sent something, within the header
    // timeout; a silent socket is closed here.
    let mut probe = [0u8; 1];
    tokio::select! {
        first = tokio::time::timeout(options.header_timeout, stream.peek(&mut probe)) => {
            if !matches!(first, Ok(Ok(n)) if n > 0) {
                return;
            }
        }
        () = conn.close.notified() => return,
        _ = stop.changed() => return,
    }
    let tracked = conn.clone();
    let service = app
        .map_request(move |mut req: http::Request<Incoming>| {
            req.extensions_mut().insert(ConnectInfo::<SocketAddr>(peer));
            req.map(axum::body::Body::new)
        })
        .map_future(move |response| {
            let busy = Busy::start(&tracked);
            async move {
                let response = response.await;
                drop(busy);
                response
            }
        });
    // not `serve_connection_with_upgrades`: nothing here upgrades, and that one ignores
    // `http1_only`
    let connection =
        builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
    tokio::pin!(connection);
    let grace = loop {
        let deadline = conn.idle_deadline(options.idle_timeout);
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                return;
            }
            _ = stop.changed() => break SHUTDOWN_GRACE,
            () = conn.close.notified() => break IDLE_CLOSE_GRACE,
            () = tokio::time::sleep_until(deadline.into()) => {
                if conn.idle_for() >= options.idle_timeout {
                    break IDLE_CLOSE_GRACE;
                }
            }
        }
    };
    // HTTP/1 closes an idle connection at once; HTTP/2 sends GOAWAY and waits for the
    // peer's acknowledgement, which a silent peer never sends
    connection.as_mut().graceful_shutdown();
    let _ = tokio::time::timeout(grace, connection).await;
}

/// What the accept loop knows of one open connection.
#[derive(Debug)]
struct Conn {
    id: u64,
    /// Requests being answered right now.
    in_flight: AtomicUsize,
    /// When the last request finished (or the connection opened), in ms since the
    /// registry's epoch.
    idle_since: AtomicU64,
    epoch: Instant,
    /// Set once the accept loop asked this connection to close.
    evicted: AtomicBool,
    close: Notify,
}

impl Conn {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn idle_for(&self) -> Duration {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return Duration::ZERO;
        }
        Duration::from_millis(
            self.now_ms()
                .saturating_sub(self.idle_since.load(Ordering::Acquire)),
        )
    }

    /// When this connection will have been idle for `timeout`, if nothing happens.
    fn idle_deadline(&self, timeout: Duration) -> Instant {
        let now = Instant::now();
        now + timeout.saturating_sub(self.idle_for())
    }
}

/// Marks a connection busy while a request is being answered.
struct Busy(Arc<Conn>);

impl Busy {
    fn start(conn: &Arc<Conn>) -> Self {
        conn.in_flight.fetch_add(1, Ordering::AcqRel);
        Self(conn.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.idle_since.store(self.0.now_ms(), Ordering::Release);
        self.0.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Every open connection, so the accept loop can close the longest-idle one.
#[derive(Debug)]
struct Registry {
    epoch: Instant,
    next_id: AtomicU64,
    live: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn new() -> Self {
        Self {
            epoch: Instant::now(),
            next_id: AtomicU64::new(0),
            live: Mutex::default(),
        }
    }

    fn register(&self) -> Arc<Conn> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let conn = Arc::new(Conn {
            id,
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(0),
            epoch: self.epoch,
            evicted: AtomicBool::new(false),
            close: Notify::new(),
        });
        conn.idle_since.store(conn.now_ms(), Ordering::Release);
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, conn.clone());
        conn
    }

    fn remove(&self, id: u64) {
        self.live
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&id);
    }

    /// Asks the connection idle the longest (silent ones included) to close; `false` if
    /// every connection is busy.
    fn evict_oldest_idle(&self) -> bool {
        let live = self.live.lock().unwrap_or_else(PoisonError::into_inner);
        let victim = live
            .values()
            .filter(|c| c.in_flight.load(Ordering::Acquire) == 0)
            .filter(|c| !c.evicted.load(Ordering::Acquire))
            .min_by_key(|c| c.idle_since.load(Ordering::Acquire));
        match victim {
            Some(conn) => {
                conn.evicted.store(true, Ordering::Release);
                // notify_one keeps the wake-up if the task is not waiting yet
                conn.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Lets a repeating condition be logged at most once per [`LOG_EVERY`], counting the rest.
#[derive(Debug, Default)]
struct Throttle {
    last: Option<Instant>,
    suppressed: u64,
}

impl Throttle {
    /// `Some(times suppressed since the last line)` when a line is due.
    fn due(&mut self) -> Option<u64> {
        let now = Instant::now();
        match self.last {
            Some(at) if now.duration_since(at) < LOG_EVERY => {
                self.suppressed += 1;
                None
            }
            _ => {
                self.last = Some(now);
                Some(std::mem::take(&mut self.suppressed))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_idle_connection_is_evicted_first_and_busy_ones_never() {
        let registry = Registry::new();
        let old = registry.register();
        let busy = registry.register();
        let new = registry.register();
        old.idle_since.store(1, Ordering::Release);
        busy.idle_since.store(0, Ordering::Release);
        new.idle_since.store(5, Ordering::Release);
        let _working = Busy::start(&busy);
        assert!(registry.evict_oldest_idle());
        assert!(old.evicted.load(Ordering::Acquire));
        assert!(registry.evict_oldest_idle());
        assert!(new.evicted.load(Ordering::Acquire));
        assert!(!busy.evicted.load(Ordering::Acquire));
        assert!(!registry.evict_oldest_idle(), "only a busy one is left");
    }

    #[test]
    fn a_repeating_condition_is_logged_once_per_interval() {
        let mut t = Throttle::default();
        assert_eq!(t.due(), Some(0));
        assert_eq!(t.due(), None);
        assert_eq!(t.due(), None);
        t.last = Some(Instant::now() - LOG_EVERY);
        assert_eq!(t.due(), Some(2));
    }
}
