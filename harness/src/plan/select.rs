//! `Selection`: which apps, layers and case names a command asks for (libtest's filter model).

use std::collections::BTreeSet;

use libtest_mimic::{Arguments, Trial};

use crate::model::{AppId, CaseName, Layer};

/// What the user selected; empty `apps` means every app of the catalog.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Apps named on the command line.
    pub apps: Vec<AppId>,
    /// Layers to run; empty means L0 to L3.
    pub layers: Vec<Layer>,
    /// libtest's filter, `--exact` and `--skip`, matched on case names like `L3::lab-chain::stop`.
    pub filter: Arguments,
    /// When set, only these cases (`--rerun-failed`).
    pub only: Option<BTreeSet<CaseName>>,
}

impl Selection {
    /// The layers selected (L0 to L3 when none was named).
    pub fn layers(&self) -> Vec<Layer> {
        if self.layers.is_empty() {
            vec![Layer::L0, Layer::L1, Layer::L2, Layer::L3]
        } else {
            self.layers.clone()
        }
    }

    /// True when a case of this name passes the filter and skip patterns, exactly as libtest does.
    pub fn matches(&self, case_name: &str) -> bool {
        let listed = match &self.only {
            None => true,
            Some(only) => case_name
                .parse::<CaseName>()
                .is_ok_and(|n| only.contains(&n)),
        };
        listed
            && !self
                .filter
                .is_filtered_out(&Trial::test(case_name, || Ok(())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sel(filter: Option<&str>, exact: bool, skip: &[&str]) -> Selection {
        Selection {
            filter: Arguments {
                filter: filter.map(str::to_owned),
                exact,
                skip: skip.iter().map(|s| s.to_string()).collect(),
                ..Arguments::default()
            },
            ..Selection::default()
        }
    }

    #[test]
    fn filter_is_a_substring_unless_exact() {
        assert!(sel(Some("lab-chain"), false, &[]).matches("L3::lab-chain::stop"));
        assert!(!sel(Some("lab-wallet"), false, &[]).matches("L3::lab-chain::stop"));
        assert!(!sel(Some("L3::lab-chain"), true, &[]).matches("L3::lab-chain::stop"));
        assert!(sel(Some("L3::lab-chain::stop"), true, &[]).matches("L3::lab-chain::stop"));
        assert!(sel(None, false, &[]).matches("anything"));
    }

    #[test]
    fn skip_is_a_substring_unless_exact() {
        assert!(!sel(None, false, &["reboot"]).matches("L3::lab-chain::reboot"));
        assert!(sel(None, true, &["reboot"]).matches("L3::lab-chain::reboot"));
        assert!(!sel(None, true, &["L3::lab-chain::reboot"]).matches("L3::lab-chain::reboot"));
    }
}
