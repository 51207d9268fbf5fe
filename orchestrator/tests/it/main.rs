//! Integration tests of the orchestrator, one module per area.

mod api;
mod crash;
mod fake;
mod hardening;
mod manifest;
mod ops;
mod quadlet_dryrun;
mod reconcile;
mod rig;
