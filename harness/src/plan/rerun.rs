//! `Rerun`: `--rerun-failed` read from the results of the run it follows: the cases that did not
//! pass there, on the same fleet and nodes, for the same number of iterations.

use std::collections::BTreeSet;

use super::Selection;
use crate::{
    error::Error,
    model::{CaseName, Layer, NodeName},
    reporter::Results,
};

/// What a rerun runs.
#[derive(Debug, Clone)]
pub struct Rerun {
    /// The run it reruns.
    pub of: String,
    /// That run's fleet.
    pub fleet: String,
    /// That run's nodes.
    pub nodes: Vec<NodeName>,
    /// That run's iterations.
    pub iterations: u32,
    /// That run's required layers.
    pub required_layers: Vec<Layer>,
    /// The selection: that run's apps (the matrix rows), only the cases that did not pass.
    pub selection: Selection,
}

impl Rerun {
    /// The rerun of `previous`; refused when every case passed there.
    pub fn of(previous: &Results) -> Result<Self, Error> {
        let cases: BTreeSet<CaseName> =
            previous.not_passed().map(|c| c.case.name.clone()).collect();
        if cases.is_empty() {
            return Err(Error::Usage(format!(
                "nothing to rerun: every case of run {} passed",
                previous.run_id
            )));
        }
        let layers: BTreeSet<Layer> = cases.iter().map(|c| c.layer).collect();
        Ok(Self {
            of: previous.run_id.clone(),
            fleet: previous.fleet.clone(),
            nodes: previous.nodes.clone(),
            iterations: previous.iterations,
            required_layers: previous.required_layers.clone(),
            selection: Selection {
                apps: previous.apps.clone(),
                layers: layers.into_iter().collect(),
                only: Some(cases),
                ..Selection::default()
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::{
        model::{Check, OutcomeKind},
        plan::{build::tests::suite, plan},
    };

    fn recorded() -> Results {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/matrix/results.json");
        Results::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn selects_exactly_the_cases_that_did_not_pass() {
        let previous = recorded();
        let rerun = Rerun::of(&previous).unwrap();
        assert_eq!(rerun.of, "20261129T093000Z-1a2b");
        assert_eq!(rerun.fleet, "lab");
        assert_eq!(
            rerun.nodes,
            [NodeName("lab-228".into()), NodeName("lab-198".into())]
        );
        assert_eq!(rerun.iterations, 2);
        let suites = [
            suite("lab-chain", &[], &[(Check::Reinstall, "companion")]),
            suite("lab-wallet", &["lab-chain"], &[]),
            suite("lab-chain-ui", &["lab-chain"], &[]),
        ];
        let p = plan(&suites, &rerun.selection).unwrap();
        let planned: BTreeSet<String> = p.cases().iter().map(|c| c.name.to_string()).collect();
        let not_passed: BTreeSet<String> = previous
            .cases
            .iter()
            .filter(|c| c.outcome != OutcomeKind::Pass)
            .map(|c| c.case.name.to_string())
            .collect();
        assert_eq!(planned, not_passed);
        assert_eq!(
            planned.into_iter().collect::<Vec<_>>(),
            [
                "L2::lab-wallet::ui",
                "L3::lab-chain::daemon-restart",
                "L3::lab-wallet::reinstall"
            ]
        );
        assert!(!p.l0, "L0 passed, so it does not run again");
        assert_eq!(p.apps, previous.apps);
        assert!(
            p.not_applicable.is_empty(),
            "a n/a check was not a case there, so it is not one here"
        );
    }

    #[test]
    fn reruns_l0_when_it_did_not_pass_and_refuses_a_green_run() {
        let mut previous = recorded();
        previous.cases[0].outcome = OutcomeKind::Fail;
        let rerun = Rerun::of(&previous).unwrap();
        let suites = [
            suite("lab-chain", &[], &[]),
            suite("lab-wallet", &[], &[]),
            suite("lab-chain-ui", &[], &[]),
        ];
        assert!(plan(&suites, &rerun.selection).unwrap().l0);

        for c in &mut previous.cases {
            c.outcome = OutcomeKind::Pass;
        }
        assert_eq!(
            Rerun::of(&previous).unwrap_err().to_string(),
            "nothing to rerun: every case of run 20261129T093000Z-1a2b passed"
        );
    }
}
