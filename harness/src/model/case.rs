//! `CaseName` and `Iteration`: how a case is named and counted.

use std::{fmt, str::FromStr};

use super::{AppId, Check, Layer};

/// A case's stable, readable name: `L3::lab-chain::restart`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseName {
    /// The layer.
    pub layer: Layer,
    /// The app checked (`workspace` for L0).
    pub app: String,
    /// The check's name (`restart`), or for L0 `cargo-test`, for L5/L6 the scenario or KPI cell.
    pub check: String,
}

impl CaseName {
    /// The case of `check` for `app`, at the check's layer.
    pub fn of(app: &AppId, check: Check) -> Self {
        Self {
            layer: check.layer(),
            app: app.to_string(),
            check: check.as_str().to_owned(),
        }
    }
}

impl fmt::Display for CaseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}::{}::{}", self.layer, self.app, self.check)
    }
}

impl FromStr for CaseName {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split("::");
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(layer), Some(app), Some(check), None) if !app.is_empty() && !check.is_empty() => {
                Ok(Self {
                    layer: layer.parse()?,
                    app: app.to_owned(),
                    check: check.to_owned(),
                })
            }
            _ => Err(format!(
                "invalid case name {s:?}: must be <layer>::<app>::<check>"
            )),
        }
    }
}

/// Written as its text (`L3::lab-chain::restart`) in results.json and the event stream.
impl serde::Serialize for CaseName {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for CaseName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?
            .parse()
            .map_err(serde::de::Error::custom)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_name_reads_back_from_its_text() {
        let n: CaseName = "L3::lab-chain::daemon-restart".parse().unwrap();
        assert_eq!(
            n,
            CaseName {
                layer: Layer::L3,
                app: "lab-chain".into(),
                check: "daemon-restart".into()
            }
        );
        assert_eq!(n.to_string(), "L3::lab-chain::daemon-restart");
        assert!("L3::lab-chain".parse::<CaseName>().is_err());
        assert!("L9::a::b".parse::<CaseName>().is_err());
        assert!("L1::a::b::c".parse::<CaseName>().is_err());
    }
}
