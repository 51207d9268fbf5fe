//! The orchestrator library: manifests rendered into rootless podman Quadlet units, run by a
//! backend behind one trait, kept in shape by a reconciler, served over a JSON-RPC API.

pub mod error;
pub mod failpoints;
pub mod manifest;
pub mod quadlet;

pub use error::{Error, Result};
pub mod api;
pub mod auth;
pub mod backend;
pub mod config;
pub mod fsutil;
pub mod health;
pub mod locks;
pub mod log;
pub mod login;
pub mod ops;
pub mod prometheus;
pub mod reconcile;
pub mod reconcile_loop;
pub mod shutdown;
pub mod stack;
pub mod state;
pub mod status;
pub mod time;
