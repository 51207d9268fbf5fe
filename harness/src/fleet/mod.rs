//! Fleets: `fleet.toml` parsed into the nodes, credentials and units the harness targets.
