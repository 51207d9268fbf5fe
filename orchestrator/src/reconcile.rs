//! Reconciliation planning: desired state (state file + unit files) against what the runtime
//! reports, as a pure function from both to the actions that repair the drift.

use crate::backend::{Observed, RunState};
use crate::manifest::AppId;
use crate::state::{AppRecord, Desired, HealthState, State};

/// What one tick should do.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// Units with no record (e.g. the state file was lost): record them.
    pub adopt: Vec<(AppId, AppRecord)>,
    /// Records whose unit is gone: drop them.
    pub forget: Vec<AppId>,
    /// Apps that should run and do not: start them.
    pub start: Vec<AppId>,
}

/// Plans one tick. Invalid units are left alone; adopted apps keep running if they were not
/// deliberately stopped (a failed one is taken as meant to run).
pub fn plan(state: &State, observed: &[Observed]) -> Plan {
    let mut p = Plan::default();
    for o in observed {
        let desired = match state.apps.get(&o.id) {
            Some(rec) => rec.desired,
            None => {
                let desired = if o.run == RunState::Stopped {
                    Desired::Stopped
                } else {
                    Desired::Running
                };
                let rec = AppRecord {
                    installed_at: o.installed_at.clone(),
                    desired,
                    health: HealthState::Unknown,
                };
                p.adopt.push((o.id.clone(), rec));
                desired
            }
        };
        if o.invalid.is_none()
            && desired == Desired::Running
            && matches!(o.run, RunState::Stopped | RunState::Failed)
        {
            p.start.push(o.id.clone());
        }
    }
    p.forget = state
        .apps
        .keys()
        .filter(|id| !observed.iter().any(|o| &o.id == *id))
        .cloned()
        .collect();
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(id: &str, run: RunState, invalid: bool) -> Observed {
        Observed {
            id: AppId::parse(id).unwrap(),
            invalid: invalid.then(|| "bad".to_owned()),
            run,
            container_id: None,
            started_at: None,
            installed_at: Some("2026-11-29T09:30:00Z".into()),
        }
    }

    fn record(desired: Desired) -> AppRecord {
        AppRecord {
            installed_at: None,
            desired,
            health: HealthState::Unknown,
        }
    }

    fn ids(v: &[AppId]) -> Vec<&str> {
        v.iter().map(AppId::as_str).collect()
    }

    #[test]
    fn starts_what_should_run_and_leaves_stopped_and_invalid_apps() {
        let mut state = State::default();
        for (id, d) in [
            ("up", Desired::Running),
            ("down", Desired::Running),
            ("crashed", Desired::Running),
            ("parked", Desired::Stopped),
            ("broken", Desired::Running),
            ("gone", Desired::Running),
        ] {
            state.apps.insert(AppId::parse(id).unwrap(), record(d));
        }
        let observed = [
            obs("up", RunState::Running, false),
            obs("down", RunState::Stopped, false),
            obs("crashed", RunState::Failed, false),
            obs("parked", RunState::Stopped, false),
            obs("broken", RunState::Stopped, true),
        ];
        let p = plan(&state, &observed);
        assert_eq!(ids(&p.start), ["down", "crashed"]);
        assert_eq!(ids(&p.forget), ["gone"]);
        assert!(p.adopt.is_empty());
    }

    #[test]
    fn rebuilds_records_from_units_when_the_state_is_lost() {
        let observed = [
            obs("a", RunState::Running, false),
            obs("b", RunState::Stopped, false),
            obs("c", RunState::Failed, false),
            obs("d", RunState::Stopped, true),
        ];
        let p = plan(&State::default(), &observed);
        let adopted: Vec<_> = p
            .adopt
            .iter()
            .map(|(id, r)| (id.as_str(), r.desired, r.installed_at.as_deref()))
            .collect();
        let at = Some("2026-11-29T09:30:00Z");
        assert_eq!(
            adopted,
            [
                ("a", Desired::Running, at),
                ("b", Desired::Stopped, at),
                ("c", Desired::Running, at),
                ("d", Desired::Stopped, at)
            ]
        );
        assert_eq!(ids(&p.start), ["c"]);
        assert!(p.forget.is_empty());
    }
}
