//! The harness: a lifecycle test runner for the node OS's containers.
//!
//! Suites (`suite`) declare each app's probes; `plan` turns a fleet, suites and a selection into
//! cases; `runner` executes them over `transport` (SSH and HTTP) with `checks`, and emits
//! `reporter` events; reporters (console, JUnit, JSON, summary) consume those events; `matrix`
//! rebuilds TESTING.md from `results.json`; `lab` brings up the two-node lab fleet on this machine;
//! `chaos` declares the L5 scenarios (faults) that `checks` inject and judge; `perf` the L6 KPI
//! cells `checks` measure, and their history; `browser` the real Chromium L4 journeys drive; `api` is the harness's own typed model of the
//! orchestrator API's replies and error codes, which `transport` and `checks` read through.

pub mod api;
pub mod browser;
pub mod chaos;
pub mod checks;
pub mod cli;
pub mod error;
pub mod exit;
pub mod fleet;
pub mod fsutil;
pub mod lab;
pub mod matrix;
pub mod model;
pub mod perf;
pub mod plan;
pub mod reporter;
pub mod runner;
pub mod suite;
pub mod toml_pos;
pub mod transport;
pub mod workspace;
