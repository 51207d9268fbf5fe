//! Planning: a fleet's suites and a selection turned into ordered stages of cases (pure).

mod build;
mod rerun;
mod select;

pub use build::{Case, NODE_APP, NotApplicable, Plan, Stage, l0_name, plan, with_chaos_and_perf};
pub use rerun::Rerun;
pub use select::Selection;

#[cfg(test)]
pub(crate) use build::tests::suite as test_suite;
