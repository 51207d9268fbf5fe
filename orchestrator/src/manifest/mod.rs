//! App manifests: the TOML wire format, the checked `Manifest`, and the catalog folder.

mod app_id;
mod catalog;
pub(crate) mod check;
mod model;
mod wire;

pub use app_id::AppId;
pub use catalog::Catalog;
pub use model::{
    DEFAULT_START_BUDGET_SECS, Health, MAX_START_BUDGET_SECS, Manifest, Network, Port, Protocol,
    RestartPolicy, Ui, Volume,
};
