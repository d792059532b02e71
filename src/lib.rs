//! Kontor's local runtime: the whole shop in one process.
//!
//! It mounts every function's router under the same paths as the HTTP API in
//! `infra/`, serves the storefront, runs the embedded adapters (SQLite store,
//! in-process event bus) and relays the outbox to the event consumers, so a
//! laptop runs the same handler code as Lambda does.
//!
//! - [`config`]: address, data folder and storefront folder from the environment.
//! - [`app`]: the router: API, `/openapi.json`, static pages.
//! - [`bus`]: the in-process event bus that drains the outbox.
//! - [`expiry`]: the timer that cancels unpaid prepayment orders.
//! - [`seed`]: the demo catalog a fresh data folder starts with.
//! - [`local_auth`]: the runtime's own sign-in, standing in for Cognito.
//! - [`guard`]: host names it answers, and per-client limits.
//! - [`headers`]: the security headers on every answer.

pub mod app;
pub mod bus;
pub mod config;
pub mod expiry;
pub mod guard;
pub mod headers;
pub mod local_auth;
pub mod seed;

use std::sync::Arc;

use kontor_http::AppState;
use kontor_platform::{Mailer, OrderLinks, ShiftedClock};
use kontor_store_sqlite::{MailOutbox, SqliteStore};

pub use config::{Backend, Config};

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot create the data folder {path}: {source}")]
    DataFolder {
        path: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    TokenKey(#[from] local_auth::KeyError),
    #[error("cannot open the store: {0}")]
    Store(#[from] kontor_platform::StoreError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: String,
        source: std::io::Error,
    },
    #[error("the server failed: {0}")]
    Serve(std::io::Error),
    #[error(transparent)]
    Secret(#[from] kontor_platform::SecretError),
}

/// The parts of a running shop.
pub struct Assembled {
    pub state: AppState,
    pub mailer: Arc<dyn Mailer>,
    /// The local mail outbox, when mail stays on this machine.
    pub outbox: Option<MailOutbox>,
}

/// The handlers' state and the mailer on the backend the configuration
/// names, with the demo catalog seeded into an empty store.
pub async fn assemble(config: &Config) -> Result<Assembled, RuntimeError> {
    kontor_platform::secrets::check_env(&[])?;
    let (state, mailer, outbox): (AppState, Arc<dyn Mailer>, _) = match config.backend {
        Backend::Embedded => {
            let store = open_embedded_store(config)?;
            let outbox = store.mail_outbox(Some(&config.data_dir.join("outbox")));
            (
                AppState::with_store(Arc::new(store)),
                Arc::new(outbox.clone()),
                Some(outbox),
            )
        }
        #[cfg(feature = "aws")]
        Backend::Aws => {
            use kontor_store_dynamodb::DynamoStore;
            let state = AppState::with_store(Arc::new(DynamoStore::from_env().await));
            if config.create_table {
                let store = DynamoStore::from_env().await;
                match kontor_store_dynamodb::table::create_table(store.client(), store.table())
                    .await
                {
                    Ok(()) => tracing::info!(table = store.table(), "created the DynamoDB table"),
                    Err(error) => {
                        tracing::info!(%error, "did not create the DynamoDB table (it may exist)")
                    }
                }
            }
            (
                state,
                Arc::new(kontor_ses::SesMailer::from_env().await),
                None,
            )
        }
    };
    // Guests' order links are signed with a key kept in the data folder
    // unless KONTOR_LINK_KEY names one, so links keep working after restarts.
    let mut state = state;
    if config.clock_offset_days > 0 {
        tracing::warn!(
            days = config.clock_offset_days,
            "KONTOR_CLOCK_OFFSET_DAYS: the shop's clock runs ahead"
        );
        state.clock = Arc::new(ShiftedClock {
            offset: time::Duration::days(i64::from(config.clock_offset_days)),
        });
    }
    if OrderLinks::from_env().is_none() {
        let mut settings = (*state.settings).clone();
        settings.order_links = OrderLinks::new(local_auth::key_file(&config.data_dir, "link.key")?);
        state.settings = Arc::new(settings);
    }
    seed::seed_if_empty(state.store.as_ref(), &state.settings, config.demo_discounts).await?;
    Ok(Assembled {
        state,
        mailer,
        outbox,
    })
}

/// Opens the embedded store under the data folder.
fn open_embedded_store(config: &Config) -> Result<SqliteStore, RuntimeError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|source| RuntimeError::DataFolder {
        path: config.data_dir.display().to_string(),
        source,
    })?;
    Ok(SqliteStore::open(&config.data_dir.join("kontor.db"))?)
}

/// Serves the shop until `shutdown` resolves, relaying events meanwhile.
pub async fn serve(
    config: Config,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), RuntimeError> {
    let Assembled {
        state,
        mailer,
        outbox,
    } = assemble(&config).await?;
    let mut tokens =
        local_auth::LocalTokens::for_data_dir(&config.data_dir, Arc::clone(&state.clock))?;
    let unsafe_sign_in = std::env::var("KONTOR_UNSAFE_LOCAL_SIGN_IN").is_ok_and(|v| v == "1");
    if !local_auth::may_issue(
        config.addr,
        matches!(config.backend, Backend::Embedded),
        unsafe_sign_in,
    ) {
        tracing::warn!(addr = %config.addr, "local sign-in is off: /local/token issues no tokens (KONTOR_UNSAFE_LOCAL_SIGN_IN=1 turns it on)");
        tokens = tokens.without_issuing();
    }
    let bus = bus::LocalBus::new(
        Arc::clone(&state.store),
        bus::consumers(&state, mailer, &config),
    );
    let (stop_relay, relay_stopped) = tokio::sync::watch::channel(false);
    let relay = tokio::spawn(bus.run(relay_stopped.clone()));
    let sweeper = tokio::spawn(expiry::run(state.clone(), relay_stopped));

    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|source| RuntimeError::Listen {
            addr: config.addr.to_string(),
            source,
        })?;
    tracing::info!(
        addr = %config.addr,
        data = %config.data_dir.display(),
        backend = ?config.backend,
        "Kontor is running: shop at http://{}/ , API description at /openapi.json",
        config.addr
    );
    let app = app::app(state, app::Local { tokens, outbox }, &config.storefront_dir).layer(
        axum::middleware::from_fn_with_state(
            guard::Guard::new(
                guard::AllowedHosts::for_listener(config.addr, &config.allowed_hosts),
                config.limits,
            ),
            guard::check,
        ),
    );
    let served = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
    .map_err(RuntimeError::Serve);

    // Let the relay hand over what is pending before the process ends.
    let _ = stop_relay.send(true);
    let _ = relay.await;
    let _ = sweeper.await;
    tracing::info!("Kontor stopped");
    served
}
