//! Fleets: `fleet.toml` parsed into the nodes, credentials and units the harness targets.

mod load;
mod redact;
mod secret;

pub use load::{Fleet, FleetFile, Node, find_fleet_file};
pub use redact::Redactor;
pub use secret::Secret;
