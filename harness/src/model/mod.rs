//! Domain words shared by every part of the harness: apps, nodes, layers, states, cases, outcomes.

mod app;
mod case;
mod layer;
mod node;
mod outcome;
mod state;

pub use app::{AppId, InvalidAppId};
pub use case::{CaseName, Iteration};
pub use layer::Layer;
pub use node::NodeName;
pub use outcome::{Outcome, OutcomeKind};
pub use state::State;
