//! `CaseName` and `Iteration`: how a case is named and counted.

use std::fmt;

use super::{AppId, Layer, State};

/// A case's stable, readable name: `L3::lab-chain::restart`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseName {
    /// The layer.
    pub layer: Layer,
    /// The app checked (`workspace` for L0).
    pub app: String,
    /// The check: a state name, or for L0 `cargo-test`.
    pub check: String,
}

impl CaseName {
    /// The case of `state` for `app`, at the state's layer.
    pub fn of(app: &AppId, state: State) -> Self {
        Self {
            layer: state.layer(),
            app: app.to_string(),
            check: state.as_str().to_owned(),
        }
    }
}

impl fmt::Display for CaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}::{}", self.layer, self.app, self.check)
    }
}

/// One pass over the selected cases, counted from 1.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Iteration(pub u32);

impl fmt::Display for Iteration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
