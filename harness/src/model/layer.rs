//! `Layer`: the suite layers L0 (unit) to L6 (performance).

use std::{fmt, str::FromStr};

/// A suite layer.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum Layer {
    /// Unit tests of the workspace (`cargo test --workspace`), run once on the harness machine.
    L0,
    /// JSON-RPC: the app is present, in a valid state, and its RPC answers.
    L1,
    /// UI URLs answer 200 with a body.
    L2,
    /// Lifecycle survival: stop, start, restart, reinstall, reboot, daemon restart.
    L3,
    /// Browser journeys.
    L4,
    /// Chaos.
    L5,
    /// Performance.
    L6,
}

impl Layer {
    /// Every layer, in order.
    pub const ALL: [Layer; 7] = [
        Layer::L0,
        Layer::L1,
        Layer::L2,
        Layer::L3,
        Layer::L4,
        Layer::L5,
        Layer::L6,
    ];

    /// What the layer covers, for tables.
    pub fn title(self) -> &'static str {
        match self {
            Layer::L0 => "unit",
            Layer::L1 => "JSON-RPC",
            Layer::L2 => "UI URLs",
            Layer::L3 => "lifecycle survival",
            Layer::L4 => "browser journeys",
            Layer::L5 => "chaos",
            Layer::L6 => "performance",
        }
    }
}

impl fmt::Display for Layer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self:?}")
    }
}

impl FromStr for Layer {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Layer::ALL
            .into_iter()
            .find(|l| l.to_string().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown layer {s:?} (known: L0, L1, L2, L3, L4, L5, L6)"))
    }
}
