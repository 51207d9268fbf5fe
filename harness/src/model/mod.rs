//! Domain words shared by every part of the harness: apps, nodes, layers, checks, cases, outcomes.

mod app;
mod case;
mod check;
mod layer;
mod node;
mod outcome;

pub use app::{AppId, InvalidAppId};
pub use case::{CaseName, Iteration};
pub use check::Check;
pub use layer::Layer;
pub use node::NodeName;
pub use outcome::{Outcome, OutcomeKind};
