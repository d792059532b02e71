//! The state every handler receives: the ports, built once per process
//! (per Lambda container, or once for the local runtime).

use std::sync::Arc;

use kontor_platform::{Clock, IdSource, ShopSettings, Store};

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub ids: Arc<dyn IdSource>,
    pub settings: Arc<ShopSettings>,
}
