//! Backends: the one trait that runs apps, its Quadlet and legacy implementations, and the
//! command runner at the edge that counts every `systemctl` and `podman` invocation.

pub mod fake;
mod legacy;
mod model;
mod quadlet;
mod runner;

pub use legacy::LegacyBackend;
pub use model::{Backend, BackendKind, Observed, RunState, Then};
pub use quadlet::QuadletBackend;
pub use runner::{
    Calls, CommandOutput, CommandRunner, Commands, DEFAULT_TIMEOUT, Program, SystemRunner,
    reset_thread_calls, thread_calls,
};
