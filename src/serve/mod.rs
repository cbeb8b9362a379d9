//! `opskpi serve`: the warehouse's tables and indicators for every BI tool
//! and notebook, over the PostgreSQL protocol.
//!
//! - `served`: what is answered from — a copy of the warehouse made after
//!   each load, opened like `opskpi sql`'s door (read-only, external access
//!   off, configuration locked, time and memory limits); one per scope in
//!   use, holding only the scope's rows (`scopes`);
//! - `wire`: the protocol (pgwire): TLS, SCRAM-SHA-256 logins, the simple
//!   and extended query protocol, cancel requests, errors with their
//!   SQLSTATE;
//! - `session`: what drivers say that is not a question (`SET`, `BEGIN`,
//!   `SHOW transaction_isolation`), answered without DuckDB;
//! - `encode`: Arrow batches to PostgreSQL rows, exact;
//! - `users`: the verifiers of the configuration;
//! - `views`: `kpi_monthly`, the indicators as a relation to browse.
//!
//! The server reloads its users and its configuration on SIGHUP, looks at
//! the warehouse every `refresh_seconds` for a new load, and on SIGTERM (or
//! Ctrl-C) stops taking connections, lets running queries finish within
//! `grace_seconds`, interrupts the rest and exits.

mod catalogue;
mod encode;
mod scopes;
mod served;
mod session;
mod users;
mod views;
mod wire;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::NaiveDate;
use pgwire::api::auth::sasl::scram::ScramAuth;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::DefaultServerParameterProvider;
use pgwire::api::cancel::DefaultCancelHandler;
use pgwire::api::stmt::NoopQueryParser;
use pgwire::api::ConnectionManager;
use tokio::net::TcpListener;
use tokio_rustls::rustls;

use std::collections::BTreeSet;

use crate::config::{Config, ServeConfig};
use crate::error::{Error, Result};
use crate::sql::Functions;
pub use users::verifier;
use wire::{log, Shared};

/// What `opskpi serve` needs from the command line: the project, how to
/// read it again (SIGHUP), the indicator functions of an as-of date, the
/// as-of date (a given one, or each day's own), and where log lines go.
pub struct Options {
    pub config: Config,
    pub reload: Box<dyn Fn() -> Result<Config> + Send + Sync>,
    pub functions: FunctionsOf,
    pub today: Box<dyn Fn() -> NaiveDate + Send + Sync>,
    /// The wall clock, for the certificate's expiry.
    pub now: fn() -> chrono::DateTime<chrono::Utc>,
    pub log: wire::Writer,
}

/// The indicator functions of a configuration and an as-of date.
pub type FunctionsOf = Box<dyn Fn(&Config, NaiveDate) -> Result<Functions> + Send + Sync>;

/// Serves until SIGTERM or Ctrl-C.
pub fn serve(mut options: Options) -> Result<()> {
    let serve = options.config.serve.clone();
    let write = std::mem::replace(&mut options.log, Box::new(|_| {}));
    let _ = wire::LOG.set(write);
    serve.check()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| Error::Internal(format!("no async runtime: {e}")))?;
    runtime.block_on(run(options, serve))
}

/// The saved queries served as views; none, with a log line, when the
/// project's folder cannot be read.
fn saved_views(config: &Config, functions: &Functions) -> Vec<(String, String)> {
    match crate::sql::saved::all(config.queries_folder().as_deref()) {
        Ok(queries) => views::saved(functions, &queries),
        Err(error) => {
            log(&format!("no saved query is served as a view: {error}"));
            Vec::new()
        }
    }
}

fn folder(config: &Config) -> PathBuf {
    match &config.serve.folder {
        Some(folder) => config.resolve(folder),
        None => {
            let mut name = config.warehouse_path().into_os_string();
            name.push(".serve");
            PathBuf::from(name)
        }
    }
}

async fn run(options: Options, serve: ServeConfig) -> Result<()> {
    let config = options.config.clone();
    let warehouse = config.warehouse_path();
    let folder = folder(&config);
    // Copies a crashed server left behind.
    if let Ok(entries) = std::fs::read_dir(&folder) {
        for entry in entries.flatten() {
            if entry.file_name().to_string_lossy().starts_with("served-") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
    let as_of = (options.today)();
    let scopes = scopes_in_use(&serve)?;
    let functions = (options.functions)(&config, as_of)?;
    let saved = saved_views(&config, &functions);
    let making = served::Making {
        warehouse: &warehouse,
        folder: &folder,
        wait: wait(&config),
        functions: &functions,
        as_of,
        limits: &config.sql,
        months: serve.months,
        saved: &saved,
    };
    let first =
        served::copy_all(&making, None, &scopes)?.unwrap_or_else(|| served::Copies::none(as_of));
    let stamp = served::stamp(&warehouse);
    let shared = Arc::new(Shared {
        served: RwLock::new(Arc::new(first)),
        users: RwLock::new(Arc::new(serve.users.clone())),
        decoy: users::decoy_secret()?,
        viewer_row_limit: serve.viewer_row_limit,
        running_slots: Arc::new(tokio::sync::Semaphore::new(
            serve.max_running.max(1) as usize
        )),
        running: std::sync::Mutex::new(Default::default()),
        next_query: AtomicU64::new(0),
    });
    let tls = tls_acceptor(&config, &serve, (options.now)())?;
    let handlers = handlers(&shared, &serve, tls.is_some());
    let listener = TcpListener::bind(&serve.listen)
        .await
        .map_err(|e| Error::config_hint(format!("cannot listen on `{}`: {e}", serve.listen), "another program uses the port, or the address is not this machine's: change `serve.listen`"))?;
    log(&format!(
        "listening on {} (tls {}), {} users, serving {}",
        serve.listen,
        if tls.is_some() { "on" } else { "off" },
        serve.users.len(),
        shared
            .served
            .read()
            .map(|s| s.version.clone())
            .unwrap_or_default()
    ));
    let refresher = tokio::spawn(refresh(shared.clone(), options, stamp));
    let stopped = accept(listener, tls, handlers).await;
    refresher.abort();
    shutdown(&shared, Duration::from_secs(serve.grace_seconds)).await;
    stopped
}

/// The scopes the users need a copy for (`None`: the whole company).
fn scopes_in_use(serve: &ServeConfig) -> Result<BTreeSet<served::Audience>> {
    serve.users.values().map(served::Audience::of).collect()
}

fn wait(config: &Config) -> Duration {
    Duration::from_secs(config.warehouse.wait_seconds)
}

fn handlers(shared: &Arc<Shared>, serve: &ServeConfig, tls: bool) -> Arc<wire::Handlers> {
    let manager = Arc::new(ConnectionManager::new());
    let mut parameters = DefaultServerParameterProvider::default();
    parameters.server_version = "16.0".into();
    parameters.is_superuser = false;
    parameters.default_transaction_read_only = true;
    parameters.search_path = "main".into();
    parameters.time_zone = "UTC".into();
    let mut scram = ScramAuth::new(Arc::new(wire::Auth(shared.clone())));
    scram.set_iterations(users::ITERATIONS);
    let inner = SASLAuthStartupHandler::new(Arc::new(parameters))
        .with_scram(scram)
        .with_connection_manager(manager.clone());
    Arc::new(wire::Handlers {
        startup: Arc::new(wire::Startup {
            inner,
            require_tls: tls || !serve.plaintext_on_loopback,
        }),
        queries: Arc::new(wire::Queries {
            shared: shared.clone(),
            parser: Arc::new(NoopQueryParser::new()),
        }),
        cancel: Arc::new(DefaultCancelHandler::new(manager)),
    })
}

/// The certificate and key of the configuration, for rustls with ring.
fn tls_acceptor(
    config: &Config,
    serve: &ServeConfig,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<tokio_rustls::TlsAcceptor>> {
    let (Some(cert), Some(key)) = (&serve.tls_cert, &serve.tls_key) else {
        return Ok(None);
    };
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let (cert, key) = (config.resolve(cert), config.resolve(key));
    let unreadable = |path: &Path, what: &str, e: String| {
        Error::config_hint(
            format!("`{}` ({what}): {e}", path.display()),
            "give PEM files: the certificate chain (serve.tls_cert) and its private key (serve.tls_key)",
        )
    };
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
        .and_then(|certs| certs.collect::<std::result::Result<_, _>>())
        .map_err(|e| unreadable(&cert, "serve.tls_cert", e.to_string()))?;
    if chain.is_empty() {
        return Err(unreadable(
            &cert,
            "serve.tls_cert",
            "no certificate in it".into(),
        ));
    }
    if let Some(warning) = certificate_warning(chain[0].as_ref(), now) {
        log(&warning);
    }
    let private = PrivateKeyDer::from_pem_file(&key)
        .map_err(|e| unreadable(&key, "serve.tls_key", e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut server = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Internal(format!("TLS versions: {e}")))?
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| unreadable(&cert, "serve.tls_cert with serve.tls_key", e.to_string()))?;
    server.alpn_protocols = vec![b"postgresql".to_vec()];
    Ok(Some(tokio_rustls::TlsAcceptor::from(Arc::new(server))))
}

/// A line for the log when the server's certificate has expired or will
/// within two weeks: clients that verify it refuse to connect.
fn certificate_warning(der: &[u8], now: chrono::DateTime<chrono::Utc>) -> Option<String> {
    let not_after = x509_certificate::X509Certificate::from_der(der)
        .ok()?
        .validity_not_after();
    let when = not_after.format("%Y-%m-%d %H:%M UTC");
    if not_after <= now {
        Some(format!(
            "warning: the TLS certificate (serve.tls_cert) expired on {when}: clients that verify it (sslmode=verify-full, JDBC, Power BI) refuse to connect; renew it and restart the server"
        ))
    } else if not_after - now < chrono::Duration::days(14) {
        Some(format!(
            "warning: the TLS certificate (serve.tls_cert) expires on {when}: renew it and restart the server before then"
        ))
    } else {
        None
    }
}

/// Takes connections until SIGTERM or Ctrl-C.
async fn accept(
    listener: TcpListener,
    tls: Option<tokio_rustls::TlsAcceptor>,
    handlers: Arc<wire::Handlers>,
) -> Result<()> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((socket, _)) = accepted else { continue };
                let tls = tls.clone();
                let handlers = handlers.clone();
                tokio::spawn(async move {
                    let _ = pgwire::tokio::process_socket(socket, tls, handlers).await;
                });
            }
            _ = term.recv() => break,
            _ = interrupt.recv() => break,
        }
    }
    log("stopping: no new connections");
    Ok(())
}

/// Lets running queries finish within `grace`, then interrupts the rest.
async fn shutdown(shared: &Arc<Shared>, grace: Duration) {
    let started = std::time::Instant::now();
    loop {
        let running = shared.running.lock().map(|r| r.len()).unwrap_or(0);
        if running == 0 {
            break;
        }
        if started.elapsed() >= grace {
            if let Ok(running) = shared.running.lock() {
                for handle in running.values() {
                    handle.interrupt();
                }
            }
            log(&format!(
                "stopped {running} running queries at the end of the grace period"
            ));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    log("stopped");
}

/// Every `refresh_seconds`: a new copy after a load, a new as-of date
/// after midnight; on SIGHUP, the configuration again (users, limits).
async fn refresh(shared: Arc<Shared>, options: Options, mut stamp: served::Stamp) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut hangup) = signal(SignalKind::hangup()) else {
        return;
    };
    let options = Arc::new(options);
    let mut config = options.config.clone();
    loop {
        let every = Duration::from_secs(config.serve.refresh_seconds.max(1));
        let reload = tokio::select! {
            _ = tokio::time::sleep(every) => false,
            _ = hangup.recv() => true,
        };
        if reload {
            match (options.reload)().and_then(|new| new.serve.check().map(|()| new)) {
                Ok(new) => {
                    if let Ok(mut users) = shared.users.write() {
                        *users = Arc::new(new.serve.users.clone());
                    }
                    log(&format!(
                        "reloaded the configuration: {} users",
                        new.serve.users.len()
                    ));
                    config = new;
                    stamp = None;
                }
                Err(error) => log(&format!("the configuration was not reloaded: {error}")),
            }
        }
        let warehouse = config.warehouse_path();
        let now = served::stamp(&warehouse);
        let as_of = (options.today)();
        let Ok(scopes) = scopes_in_use(&config.serve) else {
            continue;
        };
        let current = shared
            .served
            .read()
            .map(|s| (s.version.clone(), s.as_of, s.scopes.clone()))
            .ok();
        let Some((version, served_as_of, served_scopes)) = current else {
            continue;
        };
        if now == stamp && as_of == served_as_of && scopes == served_scopes {
            continue;
        }
        // The same load, day and scopes: no new copy (but a reloaded
        // configuration may change the catalogue or the saved queries).
        let same =
            !reload && as_of == served_as_of && scopes == served_scopes && !version.is_empty();
        let (shared2, options2, config2) = (shared.clone(), options.clone(), config.clone());
        let made = tokio::task::spawn_blocking(move || {
            let functions = (options2.functions)(&config2, as_of)?;
            let saved = saved_views(&config2, &functions);
            let (warehouse, folder) = (config2.warehouse_path(), folder(&config2));
            let making = served::Making {
                warehouse: &warehouse,
                folder: &folder,
                wait: wait(&config2),
                functions: &functions,
                as_of,
                limits: &config2.sql,
                months: config2.serve.months,
                saved: &saved,
            };
            let copies = served::copy_all(&making, same.then_some(version.as_str()), &scopes)?;
            if let Some(copies) = copies {
                let version = copies.version.clone();
                let count = copies.scopes.len();
                if let Ok(mut served) = shared2.served.write() {
                    *served = Arc::new(copies);
                }
                log(&format!(
                    "serving new copies ({count}): {version}, as of {as_of}"
                ));
            }
            Ok::<_, Error>(())
        })
        .await;
        match made {
            Ok(Ok(())) => stamp = now,
            Ok(Err(error)) => log(&format!(
                "the warehouse was not copied (still serving the last copy): {error}"
            )),
            Err(error) => log(&format!("the copy stopped: {error}")),
        }
    }
}
