//! The server's connections, bounded: at most a configured number open at once (the one idle
//! longest is closed to make room for a new one), each closed once nothing has passed over it
//! for [`IDLE_CONNECTION`], and a request head that has not arrived within [`HEAD_TIMEOUT`]
//! closes its connection (a client trickling its request cannot hold one for ever).
//!
//! "Idle" is measured on the socket: the last byte read or written. A page watching a training
//! receives an event or a keep-alive comment every few seconds, so it is never idle.

use std::collections::HashMap;
use std::io;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;
use tower::ServiceExt;

/// A connection over which nothing has passed for this long is closed.
pub const IDLE_CONNECTION: Duration = Duration::from_secs(20);
/// A request head (the request line and headers) must arrive within this long.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// How often connections look at their idle time.
const LOOK_EVERY: Duration = Duration::from_secs(1);

/// The default cap on open connections: half the process's file-descriptor limit
/// (`ulimit -n`), between 16 and 512, so that connections alone never exhaust it.
pub fn default_max_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes the struct it is given and nothing else.
    let known = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &raw mut limit) } == 0;
    let descriptors = if known {
        usize::try_from(limit.rlim_cur).unwrap_or(usize::MAX)
    } else {
        256
    };
    (descriptors / 2).clamp(16, 512)
}

/// Milliseconds since the server started: what a connection's last activity is stored as.
#[derive(Clone, Copy)]
struct Clock(Instant);

impl Clock {
    fn now(self) -> u64 {
        u64::try_from(self.0.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// A socket that records when a byte last passed over it.
struct Tracked {
    socket: TcpStream,
    clock: Clock,
    last: Arc<AtomicU64>,
}

impl Tracked {
    fn touch(&self) {
        self.last.store(self.clock.now(), Ordering::Relaxed);
    }
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.socket).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.socket).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let polled = Pin::new(&mut self.socket).poll_write_vectored(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.touch();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.socket.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.socket).poll_shutdown(cx)
    }
}

/// An open connection, as the registry sees it.
struct Open {
    last: Arc<AtomicU64>,
    close: Arc<Notify>,
}

/// The open connections by number.
struct Registry {
    open: Mutex<HashMap<u64, Open>>,
    max: usize,
}

impl Registry {
    fn open(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Open>> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers connection `id`; when `max` are open, the one idle longest is told to close.
    fn admit(&self, id: u64, last: Arc<AtomicU64>, close: Arc<Notify>) {
        let mut open = self.open();
        while open.len() >= self.max {
            let oldest = open
                .iter()
                .min_by_key(|(_, c)| c.last.load(Ordering::Relaxed))
                .map(|(&id, _)| id);
            let Some(evicted) = oldest.and_then(|id| open.remove(&id)) else {
                break;
            };
            evicted.close.notify_one();
        }
        open.insert(id, Open { last, close });
    }

    fn forget(&self, id: u64) {
        self.open().remove(&id);
    }
}

/// Serves `router` on `listener` for ever, with at most `max_connections` open at once.
pub async fn serve(listener: TcpListener, router: Router, max_connections: usize) {
    let clock = Clock(Instant::now());
    let registry = Arc::new(Registry {
        open: Mutex::new(HashMap::new()),
        max: max_connections.max(1),
    });
    for id in 0_u64.. {
        let socket = match listener.accept().await {
            Ok((socket, _)) => socket,
            Err(_) => {
                // Out of descriptors or a connection reset before it was accepted: the
                // listener stays, and tries again shortly.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = socket.set_nodelay(true);
        let last = Arc::new(AtomicU64::new(clock.now()));
        let close = Arc::new(Notify::new());
        registry.admit(id, Arc::clone(&last), Arc::clone(&close));
        let socket = Tracked {
            socket,
            clock,
            last: Arc::clone(&last),
        };
        let registry = Arc::clone(&registry);
        let router = router.clone();
        tokio::spawn(async move {
            serve_connection(socket, router, &last, &close, clock).await;
            registry.forget(id);
        });
    }
}

/// Serves one connection until the client closes it, it has been idle for
/// [`IDLE_CONNECTION`] (closed after its request in flight, if any; at once after twice as
/// long), or the registry closes it to make room.
async fn serve_connection(
    socket: Tracked,
    router: Router,
    last: &AtomicU64,
    close: &Notify,
    clock: Clock,
) {
    let service = TowerToHyperService::new(
        router.map_request(|request: axum::http::Request<Incoming>| request.map(Body::new)),
    );
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEAD_TIMEOUT);
    let mut connection = pin!(builder.serve_connection(TokioIo::new(socket), service));
    let idle = u64::try_from(IDLE_CONNECTION.as_millis()).unwrap_or(u64::MAX);
    let mut closing = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            () = close.notified() => return,
            () = tokio::time::sleep(LOOK_EVERY) => {
                let quiet = clock.now().saturating_sub(last.load(Ordering::Relaxed));
                if quiet > 2 * idle {
                    return;
                }
                if quiet > idle && !closing {
                    closing = true;
                    connection.as_mut().graceful_shutdown();
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_idle_longest_makes_room() {
        let registry = Registry {
            open: Mutex::new(HashMap::new()),
            max: 2,
        };
        let notes: Vec<Arc<Notify>> = (0..3).map(|_| Arc::new(Notify::new())).collect();
        let lasts = [5, 1, 9];
        for (id, (&last, close)) in lasts.iter().zip(&notes).enumerate() {
            registry.admit(id as u64, Arc::new(AtomicU64::new(last)), Arc::clone(close));
        }
        let mut open: Vec<u64> = registry.open().keys().copied().collect();
        open.sort_unstable();
        assert_eq!(open, [0, 2], "connection 1 was idle longest");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            let told = tokio::time::timeout(Duration::from_millis(100), notes[1].notified());
            assert!(
                told.await.is_ok(),
                "the evicted connection is told to close"
            );
        });
    }

    #[test]
    fn the_default_cap_leaves_descriptors_free() {
        let max = default_max_connections();
        assert!((16..=512).contains(&max), "{max}");
    }
}
