//! Reconciliation planning: desired state (state file + unit files) against what the runtime
//! reports, as a pure function from both to the actions that repair the drift.
//!
//! Desired state is the state file's record; when the record is lost, the unit's `[Install]`
//! section says it (see `quadlet::unit_file`). Both directions are repaired: an app meant to run
//! that does not is started, an app meant to be stopped that runs is stopped, and a unit whose
//! `[Install]` disagrees with the record is rewritten, so the next boot does what the record says.

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
    /// Apps meant to run whose update was cut before its restart: restart them onto the spec.
    pub restart: Vec<AppId>,
    /// Apps that should be stopped and run (or are starting): stop them.
    pub stop: Vec<AppId>,
    /// Apps in the right run state whose unit records another desired state: rewrite the unit.
    pub mark: Vec<(AppId, Desired)>,
}

/// Plans one tick. Invalid units are left alone. An adopted app takes the desired state its
/// unit records; without one (legacy backend) it keeps running unless it was stopped (a failed
/// one is taken as meant to run).
pub fn plan(state: &State, observed: &[Observed]) -> Plan {
    let mut p = Plan::default();
    for o in observed {
        let record = state.apps.get(&o.id);
        let desired = match record {
            Some(rec) => rec.desired,
            None => {
                let desired = o.desired.unwrap_or(if o.run == RunState::Stopped {
                    Desired::Stopped
                } else {
                    Desired::Running
                });
                let rec = AppRecord {
                    installed_at: o.installed_at.clone(),
                    desired,
                    health: HealthState::Unknown,
                    restart_pending: false,
                };
                p.adopt.push((o.id.clone(), rec));
                desired
            }
        };
        if o.invalid.is_some() {
            continue;
        }
        let pending = record.is_some_and(|r| r.restart_pending);
        match (desired, o.run) {
            (Desired::Running, _) if pending => p.restart.push(o.id.clone()),
            (Desired::Running, RunState::Stopped | RunState::Failed) => p.start.push(o.id.clone()),
            (Desired::Stopped, RunState::Running | RunState::Starting) => p.stop.push(o.id.clone()),
            _ if o.desired.is_some_and(|d| d != desired) => p.mark.push((o.id.clone(), desired)),
            _ => {}
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
            desired: None,
        }
    }

    /// An observed app whose unit records `desired`.
    fn unit(id: &str, run: RunState, desired: Desired) -> Observed {
        Observed {
            desired: Some(desired),
            ..obs(id, run, false)
        }
    }

    fn record(desired: Desired) -> AppRecord {
        AppRecord {
            installed_at: None,
            desired,
            health: HealthState::Unknown,
            restart_pending: false,
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
        assert!(p.adopt.is_empty() && p.stop.is_empty() && p.mark.is_empty());
        assert!(p.restart.is_empty());
    }

    #[test]
    fn an_update_cut_before_its_restart_is_restarted_if_meant_to_run() {
        let mut state = State::default();
        for (id, d) in [
            ("up", Desired::Running),
            ("down", Desired::Running),
            ("parked", Desired::Stopped),
        ] {
            let rec = AppRecord {
                restart_pending: true,
                ..record(d)
            };
            state.apps.insert(AppId::parse(id).unwrap(), rec);
        }
        let observed = [
            obs("up", RunState::Running, false),
            obs("down", RunState::Stopped, false),
            obs("parked", RunState::Stopped, false),
        ];
        let p = plan(&state, &observed);
        assert_eq!(ids(&p.restart), ["up", "down"]);
        assert!(p.start.is_empty() && p.stop.is_empty() && p.mark.is_empty());
    }

    #[test]
    fn stops_what_should_be_stopped_and_rewrites_units_that_disagree() {
        let mut state = State::default();
        for (id, d) in [
            ("parked-but-up", Desired::Stopped),
            ("parked-starting", Desired::Stopped),
            ("parked-broken", Desired::Stopped),
            ("parked-wanted", Desired::Stopped),
            ("up-unwanted", Desired::Running),
            ("up-right", Desired::Running),
        ] {
            state.apps.insert(AppId::parse(id).unwrap(), record(d));
        }
        let observed = [
            unit("parked-but-up", RunState::Running, Desired::Running),
            unit("parked-starting", RunState::Starting, Desired::Stopped),
            obs("parked-broken", RunState::Running, true),
            unit("parked-wanted", RunState::Stopped, Desired::Running),
            unit("up-unwanted", RunState::Running, Desired::Stopped),
            unit("up-right", RunState::Running, Desired::Running),
        ];
        let p = plan(&state, &observed);
        assert_eq!(ids(&p.stop), ["parked-but-up", "parked-starting"]);
        assert!(p.start.is_empty() && p.adopt.is_empty() && p.forget.is_empty());
        let mark: Vec<_> = p.mark.iter().map(|(id, d)| (id.as_str(), *d)).collect();
        assert_eq!(
            mark,
            [
                ("parked-wanted", Desired::Stopped),
                ("up-unwanted", Desired::Running)
            ]
        );
    }

    #[test]
    fn adopts_the_desired_state_the_unit_records() {
        let observed = [
            unit("kept-off", RunState::Stopped, Desired::Stopped),
            unit("off-but-up", RunState::Running, Desired::Stopped),
            unit("on-but-down", RunState::Stopped, Desired::Running),
            unit("on", RunState::Running, Desired::Running),
        ];
        let p = plan(&State::default(), &observed);
        let adopted: Vec<_> = p
            .adopt
            .iter()
            .map(|(id, r)| (id.as_str(), r.desired))
            .collect();
        assert_eq!(
            adopted,
            [
                ("kept-off", Desired::Stopped),
                ("off-but-up", Desired::Stopped),
                ("on-but-down", Desired::Running),
                ("on", Desired::Running)
            ]
        );
        assert_eq!(ids(&p.stop), ["off-but-up"]);
        assert_eq!(ids(&p.start), ["on-but-down"]);
        assert!(p.mark.is_empty());
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
