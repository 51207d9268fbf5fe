//! Fail points (the `fail` crate, cargo feature `failpoints`), set at run time through the
//! `FAILPOINTS` environment variable, e.g. `FAILPOINTS=regression-update-not-applied=return`.
//!
//! Two kinds, both named here so the gate and the code agree on one spelling:
//! - [`Regression`] switches: each brings back one defect issue 8 fixed, so the lab's gate can be
//!   shown to go red for it. Active iff its fail point evaluates to `return`.
//! - [`step`] boundaries (`install.after-unit-write`, ...): places where a test may stop the
//!   process as a crash would, to prove an operation recovers from being cut in half.
//!
//! Without the feature every check here is the constant `false` and every step is empty.

/// A defect the gate must be able to catch, brought back on purpose.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Regression {
    /// `package.stop` keeps `[Install] WantedBy=` (so a reboot starts the app again) and the
    /// reconciler never stops an app whose desired state is stopped.
    StoppedResurrects,
    /// `package.stop` and `package.uninstall` skip the refusal for installed dependents.
    UninstallIgnoresDependents,
    /// An update writes the unit and reloads, then runs `systemctl start` (a no-op on an active
    /// unit) instead of `restart`, and reports success.
    UpdateNotApplied,
    /// The dashboard's stop button is wired to `package.restart`: the page looks right and the
    /// API is sound, only a person clicking "stop" sees the app come back up.
    DashboardWrongMethod,
}

impl Regression {
    /// Every switch.
    pub const ALL: [Regression; 4] = [
        Regression::StoppedResurrects,
        Regression::UninstallIgnoresDependents,
        Regression::UpdateNotApplied,
        Regression::DashboardWrongMethod,
    ];

    /// The fail point's name, as `FAILPOINTS` spells it.
    pub fn name(self) -> &'static str {
        match self {
            Regression::StoppedResurrects => "regression-stopped-resurrects",
            Regression::UninstallIgnoresDependents => "regression-uninstall-ignores-dependents",
            Regression::UpdateNotApplied => "regression-update-not-applied",
            Regression::DashboardWrongMethod => "regression-dashboard-wrong-method",
        }
    }

    /// Whether the defect is switched on (its fail point evaluates to `return`).
    #[inline]
    pub fn active(self) -> bool {
        regression(self.name())
    }
}

/// Whether the fail point `name` evaluates to `return`; always `false` without the feature.
#[inline]
pub fn regression(name: &str) -> bool {
    #[cfg(feature = "failpoints")]
    {
        fail::eval(name, |_| ()).is_some()
    }
    #[cfg(not(feature = "failpoints"))]
    {
        let _ = name;
        false
    }
}

/// Every [`step`] boundary, as `FAILPOINTS` spells it.
pub const STEPS: [&str; 5] = [
    "install.after-unit-write",
    "install.after-start",
    "update.after-unit-write",
    "desired.after-unit-write",
    "uninstall.after-unit-remove",
];

/// A step boundary of an operation (one of [`STEPS`]). Its fail point may `panic`, `sleep` or `pause` as the `fail`
/// crate does; `return` aborts the process on the spot, like `kill -9` between two steps.
#[inline]
pub fn step(name: &str) {
    if regression(name) {
        crate::log::error(format_args!("fail point {name}: aborting the process"));
        std::process::abort();
    }
}

/// Keeps the `FAILPOINTS` configuration alive while it lives (hold it for the process lifetime).
pub struct Scenario {
    #[cfg(feature = "failpoints")]
    _inner: fail::FailScenario<'static>,
}

/// Reads `FAILPOINTS`; `Err` says why it could not be understood. Without the feature it does
/// nothing and always succeeds.
pub fn setup() -> Result<Scenario, String> {
    #[cfg(feature = "failpoints")]
    {
        // `FailScenario::setup` panics on a malformed spec; main turns that into a config error.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = std::panic::catch_unwind(fail::FailScenario::setup);
        std::panic::set_hook(hook);
        let inner = r.map_err(|p| {
            p.downcast_ref::<String>()
                .cloned()
                .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "malformed FAILPOINTS".to_owned())
        })?;
        let set: Vec<String> = fail::list()
            .into_iter()
            .map(|(name, actions)| format!("{name}={actions}"))
            .collect();
        if !set.is_empty() {
            crate::log::warn(format_args!("fail points set: {}", set.join(";")));
        }
        Ok(Scenario { _inner: inner })
    }
    #[cfg(not(feature = "failpoints"))]
    {
        Ok(Scenario {})
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_the_contracts() {
        let names: Vec<_> = Regression::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(
            names,
            [
                "regression-stopped-resurrects",
                "regression-uninstall-ignores-dependents",
                "regression-update-not-applied",
                "regression-dashboard-wrong-method"
            ]
        );
    }

    #[test]
    fn steps_lists_every_step_in_the_code() {
        let mut found: Vec<&str> = [
            include_str!("backend/quadlet.rs"),
            include_str!("backend/legacy.rs"),
            include_str!("ops.rs"),
        ]
        .iter()
        .flat_map(|src| src.split("step(\"").skip(1))
        .filter_map(|rest| rest.split_once('"').map(|(name, _)| name))
        .collect();
        found.sort();
        let mut steps = STEPS.to_vec();
        steps.sort();
        assert_eq!(found, steps);
    }

    #[test]
    fn unset_fail_points_are_off() {
        // No test of this binary configures a fail point (the regression tests run in their
        // own binary), so every switch reads false, with or without the feature.
        assert!(Regression::ALL.iter().all(|r| !r.active()));
    }
}
