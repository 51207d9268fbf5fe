//! Backends: the one trait that runs apps, its Quadlet and legacy implementations, and the
//! command executor at the edge that counts every `systemctl` and `podman` invocation.

mod exec;
pub mod fake;
mod legacy;
mod model;
mod quadlet;

pub use exec::{
    Calls, CommandOutput, Commands, DEFAULT_TIMEOUT, Executor, Program, SystemExecutor,
    reset_thread_calls, thread_calls,
};
pub use legacy::LegacyBackend;
pub use model::{Backend, BackendKind, Observed, RunState, Then};
pub use quadlet::QuadletBackend;
