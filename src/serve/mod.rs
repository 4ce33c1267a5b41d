//! `nabla serve`: a local web application over the library — the playground (2-D training
//! runs drawn live), the derivations of `nabla explain` as mathematics, and the `--metrics`
//! files of training runs as live curves. A thin shell: every handler parses, calls one
//! library function ([`Playground`](crate::workflow::Playground), [`crate::explain`],
//! [`list_runs`](crate::workflow::list_runs)) and answers JSON.
//!
//! | file | holds |
//! |---|---|
//! | `guard.rs` | the safety rules: the Host check (DNS rebinding), the cross-site check (Origin, Sec-Fetch-Site, JSON bodies), the body limit, error replies |
//! | `sessions.rs` | the playground's trainings: at most [`MAX_TRAININGS`] at once and [`MAX_KEPT`] kept, idle ones stopped |
//! | `connections.rs` | the connections: a cap on open ones, idle ones closed, a time limit on request heads |
//! | `api.rs` | the `/api/` routes (documented in docs/SERVE.md) |
//! | `assets.rs` | the pages, scripts and the vendored KaTeX, compiled into the binary |

mod api;
mod assets;
mod connections;
mod guard;
mod sessions;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;

use crate::error::{Error, Result};

pub use connections::{HEAD_TIMEOUT, IDLE_CONNECTION, default_max_connections};
pub use guard::{MAX_BODY_BYTES, cross_site, host_is_allowed};
pub use sessions::{IDLE_AFTER, MAX_KEPT, MAX_TRAININGS};

/// The longest a request may take, body and answer included (a streamed answer, such as a
/// training's events, counts until its first byte): 408 after it.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where and what to serve.
#[derive(Clone, Debug)]
pub struct ServeConfig {
    /// The address to bind (127.0.0.1 unless told otherwise).
    pub host: IpAddr,
    /// The port (0: any free one).
    pub port: u16,
    /// The folder whose `--metrics` files the runs page shows.
    pub runs: PathBuf,
    /// The most connections open at once (the one idle longest makes room for a new one).
    pub max_connections: usize,
}

impl ServeConfig {
    /// 127.0.0.1, port 8080, runs in `runs`, [`default_max_connections`].
    pub fn new(runs: impl Into<PathBuf>) -> Self {
        ServeConfig {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 8080,
            runs: runs.into(),
            max_connections: default_max_connections(),
        }
    }

    /// A warning to print when the address is reachable from other machines.
    pub fn exposure_warning(&self) -> Option<String> {
        (!self.host.is_loopback()).then(|| {
            format!(
                "warning: serving on {}, reachable from other machines: anyone who can reach \
                 it can start trainings and read the runs under {}",
                self.host,
                self.runs.display()
            )
        })
    }
}

/// What the handlers share.
struct App {
    runs: PathBuf,
    sessions: sessions::Sessions,
    /// Permits to read the runs folder ([`api::READERS`] at once).
    readers: tokio::sync::Semaphore,
}

fn router(config: &ServeConfig, port: u16) -> Router {
    let app = Arc::new(App {
        runs: config.runs.clone(),
        sessions: sessions::Sessions::default(),
        readers: tokio::sync::Semaphore::new(api::READERS),
    });
    sessions::reap_idle(Arc::clone(&app));
    api::routes(app)
        .merge(assets::routes())
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .layer(axum::middleware::from_fn(guard::check_site))
        .layer(axum::middleware::from_fn(move |request, next| {
            guard::check_host(port, request, next)
        }))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            MAX_BODY_BYTES,
        ))
        .layer(axum::middleware::from_fn(guard::json_errors))
}

/// A server running on a thread of its own (for tests and programs that embed it).
pub struct Server {
    /// The bound address.
    pub address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Its URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Stops it: connections closed, trainings stopped.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::invalid("serve", format!("no async runtime: {e}")))
}

fn check_runs(config: &ServeConfig) -> Result<()> {
    if !config.runs.is_dir() {
        return Err(Error::invalid(
            "runs",
            format!(
                "{} is not a folder (the runs page shows the --metrics files under it)",
                config.runs.display()
            ),
        ));
    }
    Ok(())
}

/// Binds and serves on a new thread until [`Server::stop`].
///
/// # Errors
/// `--runs` is not a folder, or the address cannot be bound.
pub fn start(config: &ServeConfig) -> Result<Server> {
    check_runs(config)?;
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let config = config.clone();
    let thread = std::thread::Builder::new()
        .name("nabla-serve".into())
        .spawn(move || {
            let bound = ready_tx.clone();
            let stopped = async {
                let _ = stop_rx.await;
            };
            if let Err(e) = serve_until(&config, |address| drop(bound.send(Ok(address))), stopped) {
                let _ = ready_tx.send(Err(e));
            }
        })
        .map_err(|e| Error::invalid("serve", format!("no thread to serve on: {e}")))?;
    let address = ready_rx
        .recv()
        .map_err(|_| Error::invalid("serve", "the server thread ended before binding"))??;
    Ok(Server {
        address,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}

/// Binds, tells `ready` the address, and serves until Ctrl-C (SIGINT or SIGTERM), which stops
/// every training and returns within a second.
///
/// # Errors
/// `--runs` is not a folder, or the address cannot be bound.
pub fn serve_until_interrupted(config: &ServeConfig, ready: impl FnOnce(SocketAddr)) -> Result<()> {
    check_runs(config)?;
    serve_until(config, ready, interrupted())
}

/// Binds, tells `ready` the address, and serves until `until` completes; then the connections
/// close and the trainings stop (the runtime is given half a second).
fn serve_until(
    config: &ServeConfig,
    ready: impl FnOnce(SocketAddr),
    until: impl std::future::Future<Output = ()>,
) -> Result<()> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let listener = bind(config).await?;
        let address = listener
            .local_addr()
            .map_err(|e| Error::invalid("serve", e.to_string()))?;
        ready(address);
        let app = router(config, address.port());
        tokio::select! {
            () = connections::serve(listener, app, config.max_connections) => {}
            _ = until => {}
        }
        Ok::<(), Error>(())
    })?;
    runtime.shutdown_timeout(Duration::from_millis(500));
    Ok(())
}

async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn bind(config: &ServeConfig) -> Result<tokio::net::TcpListener> {
    let address = SocketAddr::new(config.host, config.port);
    tokio::net::TcpListener::bind(address)
        .await
        .map_err(|e| Error::invalid("port", format!("cannot listen on {address}: {e}")))
}
