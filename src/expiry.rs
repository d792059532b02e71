//! The local stand-in for the `order-expiry` function's schedule: a timer
//! that sweeps unpaid prepayment orders every so often (and once at start,
//! so a shop that was off for days catches up at once).

use std::time::Duration;

use kontor_http::AppState;
use tokio::sync::watch;

/// How often the local runtime looks for expired orders.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Sweeps until `stop` turns true.
pub async fn run(state: AppState, mut stop: watch::Receiver<bool>) {
    loop {
        if let Err(error) = kontor_order_lifecycle::expire_unpaid(&state).await {
            tracing::error!(%error, "the unpaid-order sweep failed; it runs again later");
        }
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_INTERVAL) => {}
            _ = stop.changed() => break,
        }
    }
}
