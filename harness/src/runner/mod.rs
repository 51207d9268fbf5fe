//! The runner: executes a plan on every node (concurrently) for N iterations, emitting events.

mod cancel;
mod l0;
mod node;
mod run;

pub use cancel::Cancel;
pub use l0::{parse_libtest_counts, run_l0};
pub use run::{Emitter, RunSpec, run};
