//! Integration tests of the orchestrator, one module per area.

mod manifest;
mod quadlet_dryrun;
