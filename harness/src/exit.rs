//! The process exit codes: what a release engineer's script and CI branch on.

/// Every required case passed.
pub const PASSED: i32 = 0;
/// A required case failed (the product misbehaved), whatever else happened.
pub const FAILED: i32 = 1;
/// Bad usage or configuration (unknown app, malformed fleet.toml, ...).
pub const USAGE: i32 = 2;
/// Only infrastructure errors: the fleet could not be reached.
pub const INFRASTRUCTURE: i32 = 3;
/// The run was cancelled (Ctrl-C): 128 + SIGINT, as a shell reports it.
pub const CANCELLED: i32 = 130;
