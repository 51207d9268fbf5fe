//! Chaos scenarios as data: one file per scenario under `suites/<catalog>/chaos/`, checked into
//! a [`Scenario`] with the file, line and key in every refusal.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;
use toml::Spanned;

use crate::{
    model::AppId,
    suite::{DataFile, SuiteError, load_folder},
};

/// The longest deadline or hold a scenario may declare.
const MAX_SECS: u64 = 600;
/// The most connections a flood may open (bounded: it is a test, not an attack).
const MAX_CONNECTIONS: u32 = 4000;

/// What a scenario does to the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// `kill -9` of the orchestrator's main process; systemd starts it again.
    KillOrchestrator,
    /// `SIGSTOP` of the orchestrator for `hold_secs`, then `SIGCONT`.
    FreezeOrchestrator,
    /// `kill -9` of the target app's process in its container.
    KillApp,
    /// The target app exits cleanly (status 0, which `Restart=on-failure` leaves alone).
    AppExit,
    /// The target app fails its health check for `hold_secs` while still running.
    AppUnhealthy,
    /// The orchestrator's state file deleted, then the orchestrator killed (`kill -9`).
    StateFileLost,
    /// The orchestrator's state file overwritten with garbage, then the orchestrator killed.
    StateFileCorrupt,
    /// A refused key in the orchestrator's config and a restart: it must refuse to start,
    /// naming the file, line and key, while the apps keep running; then the config is restored.
    ConfigCorrupt,
    /// The orchestrator aborts at fail point `step` in the middle of an operation on the target;
    /// the operation is retried once.
    CrashAt,
    /// `connections` connections to port 5678, each sending half a request header, held for
    /// `hold_secs`: the API must keep answering within a second.
    ConnectionFlood,
    /// Everything but loopback dropped at the node for `hold_secs` (healed by a timer on the node
    /// itself, so it heals even though the harness cannot reach it).
    Partition,
}

impl Fault {
    /// Every fault, as error messages list them.
    pub const ALL: [Fault; 11] = [
        Fault::KillOrchestrator,
        Fault::FreezeOrchestrator,
        Fault::KillApp,
        Fault::AppExit,
        Fault::AppUnhealthy,
        Fault::StateFileLost,
        Fault::StateFileCorrupt,
        Fault::ConfigCorrupt,
        Fault::CrashAt,
        Fault::ConnectionFlood,
        Fault::Partition,
    ];

    /// The name a scenario file spells it with.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::KillOrchestrator => "kill-orchestrator",
            Fault::FreezeOrchestrator => "freeze-orchestrator",
            Fault::KillApp => "kill-app",
            Fault::AppExit => "app-exit",
            Fault::AppUnhealthy => "app-unhealthy",
            Fault::StateFileLost => "state-file-lost",
            Fault::StateFileCorrupt => "state-file-corrupt",
            Fault::ConfigCorrupt => "config-corrupt",
            Fault::CrashAt => "crash-at",
            Fault::ConnectionFlood => "connection-flood",
            Fault::Partition => "partition",
        }
    }

    /// True when the fault acts on one app (`target` required).
    pub fn needs_target(self) -> bool {
        matches!(
            self,
            Fault::KillApp | Fault::AppExit | Fault::AppUnhealthy | Fault::CrashAt
        )
    }

    /// True when the fault lasts a while (`hold_secs` required).
    pub fn needs_hold(self) -> bool {
        matches!(
            self,
            Fault::FreezeOrchestrator
                | Fault::AppUnhealthy
                | Fault::ConnectionFlood
                | Fault::Partition
        )
    }
}

/// A fail point of the orchestrator a `crash-at` scenario stops it at, and the operation that
/// crosses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashPoint {
    /// `install.after-unit-write`: the unit is written, not yet loaded or started.
    InstallAfterUnitWrite,
    /// `install.after-start`: started, not yet recorded.
    InstallAfterStart,
    /// `uninstall.after-unit-remove`: the unit is gone, the record is not.
    UninstallAfterUnitRemove,
    /// `desired.after-unit-write` (a stop): the unit says stopped, the app still runs.
    DesiredAfterUnitWrite,
}

impl CrashPoint {
    /// Every crash point, as the orchestrator's `failpoints::STEPS` (less the update's) spells them.
    pub const ALL: [CrashPoint; 4] = [
        CrashPoint::InstallAfterUnitWrite,
        CrashPoint::InstallAfterStart,
        CrashPoint::UninstallAfterUnitRemove,
        CrashPoint::DesiredAfterUnitWrite,
    ];

    /// The fail point's name.
    pub fn as_str(self) -> &'static str {
        match self {
            CrashPoint::InstallAfterUnitWrite => "install.after-unit-write",
            CrashPoint::InstallAfterStart => "install.after-start",
            CrashPoint::UninstallAfterUnitRemove => "uninstall.after-unit-remove",
            CrashPoint::DesiredAfterUnitWrite => "desired.after-unit-write",
        }
    }

    /// The orchestrator method that crosses the fail point.
    pub fn method(self) -> &'static str {
        match self {
            CrashPoint::InstallAfterUnitWrite | CrashPoint::InstallAfterStart => "package.install",
            CrashPoint::UninstallAfterUnitRemove => "package.uninstall",
            CrashPoint::DesiredAfterUnitWrite => "package.stop",
        }
    }
}

/// One checked scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The file's stem: the case's check name (`L5::<app>::<name>`).
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    /// The fault.
    pub fault: Fault,
    /// The app acted on, for app faults and `crash-at`.
    pub target: Option<AppId>,
    /// From the heal to the invariant holding again, at most.
    pub deadline: Duration,
    /// How long the fault lasts.
    pub hold: Duration,
    /// Apps stopped before the fault, which must still be stopped once the node converged.
    pub stopped: Vec<AppId>,
    /// The fail point of a `crash-at`.
    pub fail_point: Option<CrashPoint>,
    /// Connections of a `connection-flood`.
    pub connections: u32,
}

/// The file as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireScenario {
    fault: Spanned<String>,
    #[serde(default)]
    target: Option<Spanned<String>>,
    deadline_secs: Spanned<i64>,
    #[serde(default)]
    hold_secs: Option<Spanned<i64>>,
    #[serde(default)]
    stopped: Vec<Spanned<String>>,
    #[serde(default, alias = "step")]
    fail_point: Option<Spanned<String>>,
    #[serde(default)]
    connections: Option<Spanned<i64>>,
}

/// Loads `suites_dir/<catalog>/chaos/*.toml`, sorted by name; no folder means no scenario.
/// `apps` are the catalog's apps, which `target` and `stopped` must name.
pub fn load_scenarios(
    suites_dir: &Path,
    catalog: &str,
    apps: &[AppId],
) -> Result<Vec<Scenario>, SuiteError> {
    load_folder(suites_dir, catalog, "chaos", |path, text| {
        parse(path, text, apps)
    })
}

/// Parses one scenario file.
pub fn parse(path: &Path, text: &str, apps: &[AppId]) -> Result<Scenario, SuiteError> {
    let file = DataFile { path, text };
    let w: WireScenario = file.wire()?;
    let bad = |key: &str, at: usize, message: String| file.bad(key, at, message);
    let name = file.name("fault", "scenario")?;
    let fault = file.one_of("fault", "fault", &w.fault, &Fault::ALL, Fault::as_str)?;
    let app = |key: &str, s: &Spanned<String>| file.app(key, s, apps);
    let target = w.target.as_ref().map(|t| app("target", t)).transpose()?;
    if fault.needs_target() != target.is_some() {
        let (at, message) = match &w.target {
            Some(t) => (
                t.span().start,
                format!("fault {} acts on no app", fault.as_str()),
            ),
            None => (
                w.fault.span().start,
                format!("fault {} needs a target app", fault.as_str()),
            ),
        };
        return Err(bad("target", at, message));
    }
    let secs = |key: &str, v: &Spanned<i64>| {
        u64::try_from(*v.get_ref())
            .ok()
            .filter(|s| (1..=MAX_SECS).contains(s))
            .map(Duration::from_secs)
            .ok_or_else(|| {
                bad(
                    key,
                    v.span().start,
                    format!("{} is not between 1 and {MAX_SECS}", v.get_ref()),
                )
            })
    };
    let deadline = secs("deadline_secs", &w.deadline_secs)?;
    let hold = w
        .hold_secs
        .as_ref()
        .map(|h| secs("hold_secs", h))
        .transpose()?;
    if fault.needs_hold() != hold.is_some() {
        let (at, message) = match &w.hold_secs {
            Some(h) => (
                h.span().start,
                format!("fault {} does not last", fault.as_str()),
            ),
            None => (
                w.fault.span().start,
                format!("fault {} needs hold_secs", fault.as_str()),
            ),
        };
        return Err(bad("hold_secs", at, message));
    }
    let stopped = w
        .stopped
        .iter()
        .map(|s| app("stopped", s))
        .collect::<Result<Vec<_>, _>>()?;
    let kept_target = target.as_ref().and_then(|t| {
        w.stopped
            .iter()
            .find(|s| s.get_ref() == t.as_str())
            .map(|s| (t, s))
    });
    if let Some((t, s)) = kept_target {
        return Err(bad(
            "stopped",
            s.span().start,
            format!("{t} is the target; it cannot also be kept stopped"),
        ));
    }
    let fail_point = w
        .fail_point
        .as_ref()
        .map(|s| {
            file.one_of(
                "fail_point",
                "fail_point",
                s,
                &CrashPoint::ALL,
                CrashPoint::as_str,
            )
        })
        .transpose()?;
    if (fault == Fault::CrashAt) != fail_point.is_some() {
        let at = w
            .fail_point
            .as_ref()
            .map_or(w.fault.span().start, |s| s.span().start);
        return Err(bad(
            "fail_point",
            at,
            "crash-at, and only crash-at, names a fail_point".into(),
        ));
    }
    let connections = match &w.connections {
        None if fault == Fault::ConnectionFlood => {
            return Err(bad(
                "connections",
                w.fault.span().start,
                "connection-flood needs connections".into(),
            ));
        }
        None => 0,
        Some(c) if fault != Fault::ConnectionFlood => {
            return Err(bad(
                "connections",
                c.span().start,
                format!("fault {} opens no connections", fault.as_str()),
            ));
        }
        Some(c) => u32::try_from(*c.get_ref())
            .ok()
            .filter(|n| (1..=MAX_CONNECTIONS).contains(n))
            .ok_or_else(|| {
                bad(
                    "connections",
                    c.span().start,
                    format!("{} is not between 1 and {MAX_CONNECTIONS}", c.get_ref()),
                )
            })?,
    };
    Ok(Scenario {
        name,
        path: path.to_owned(),
        fault,
        target,
        deadline,
        hold: hold.unwrap_or_default(),
        stopped,
        fail_point,
        connections,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps() -> Vec<AppId> {
        ["lab-chain", "lab-wallet"]
            .iter()
            .map(|a| AppId::new(a).unwrap())
            .collect()
    }

    fn load(text: &str) -> Result<Scenario, String> {
        parse(Path::new("suites/lab/chaos/s.toml"), text, &apps()).map_err(|e| e.to_string())
    }

    #[test]
    fn a_full_scenario_is_read_exactly() {
        let s = load(
            "fault = \"crash-at\"\ntarget = \"lab-wallet\"\nfail_point = \"install.after-unit-write\"\n\
             deadline_secs = 30\nstopped = [\"lab-chain\"]\n",
        )
        .unwrap();
        assert_eq!(
            s,
            Scenario {
                name: "s".into(),
                path: "suites/lab/chaos/s.toml".into(),
                fault: Fault::CrashAt,
                target: Some(AppId::new("lab-wallet").unwrap()),
                deadline: Duration::from_secs(30),
                hold: Duration::ZERO,
                stopped: vec![AppId::new("lab-chain").unwrap()],
                fail_point: Some(CrashPoint::InstallAfterUnitWrite),
                connections: 0,
            }
        );
        // `step`, the key's old name (deprecated), is still read.
        let old = load(
            "fault = \"crash-at\"\ntarget = \"lab-wallet\"\nstep = \"install.after-unit-write\"\n\
             deadline_secs = 30\nstopped = [\"lab-chain\"]\n",
        );
        assert_eq!(old, Ok(s));
    }

    #[test]
    fn refusals_name_file_line_and_key() {
        let cases = [
            (
                "fault = \"melt\"\ndeadline_secs = 5\n",
                "suites/lab/chaos/s.toml:1: key `fault`: unknown fault \"melt\" (known: kill-orchestrator,",
            ),
            (
                "fault = \"kill-app\"\ndeadline_secs = 5\n",
                "suites/lab/chaos/s.toml:1: key `target`: fault kill-app needs a target app",
            ),
            (
                "fault = \"kill-orchestrator\"\ntarget = \"lab-chain\"\ndeadline_secs = 5\n",
                "suites/lab/chaos/s.toml:2: key `target`: fault kill-orchestrator acts on no app",
            ),
            (
                "fault = \"kill-app\"\ntarget = \"nope\"\ndeadline_secs = 5\n",
                "suites/lab/chaos/s.toml:2: key `target`: app \"nope\" has no suite in this catalog",
            ),
            (
                "fault = \"kill-orchestrator\"\ndeadline_secs = 0\n",
                "suites/lab/chaos/s.toml:2: key `deadline_secs`: 0 is not between 1 and 600",
            ),
            (
                "fault = \"partition\"\ndeadline_secs = 5\n",
                "suites/lab/chaos/s.toml:1: key `hold_secs`: fault partition needs hold_secs",
            ),
            (
                "fault = \"kill-orchestrator\"\ndeadline_secs = 5\nhold_secs = 3\n",
                "suites/lab/chaos/s.toml:3: key `hold_secs`: fault kill-orchestrator does not last",
            ),
            (
                "fault = \"crash-at\"\ntarget = \"lab-chain\"\ndeadline_secs = 5\nfail_point = \"x.y\"\n",
                "suites/lab/chaos/s.toml:4: key `fail_point`: unknown fail_point \"x.y\"",
            ),
            (
                "fault = \"kill-app\"\ntarget = \"lab-chain\"\ndeadline_secs = 5\nstopped = [\"lab-chain\"]\n",
                "suites/lab/chaos/s.toml:4: key `stopped`: lab-chain is the target",
            ),
            (
                "fault = \"connection-flood\"\ndeadline_secs = 5\nhold_secs = 2\nconnections = 9999\n",
                "suites/lab/chaos/s.toml:4: key `connections`: 9999 is not between 1 and 4000",
            ),
            (
                "fault = \"kill-orchestrator\"\ndeadline_secs = 5\ncolour = 1\n",
                "suites/lab/chaos/s.toml:3: unknown field `colour`",
            ),
        ];
        for (text, want) in cases {
            let got = load(text).unwrap_err();
            assert!(got.contains(want), "{text:?}:\n got {got}\nwant {want}");
        }
    }

    #[test]
    fn crash_steps_are_the_orchestrators_fail_points() {
        let src = include_str!("../../../orchestrator/src/failpoints.rs");
        let steps = src
            .split_once("pub const STEPS")
            .and_then(|(_, rest)| rest.split_once("];"))
            .map(|(list, _)| list)
            .unwrap();
        for s in CrashPoint::ALL {
            assert!(
                steps.contains(&format!("\"{}\"", s.as_str())),
                "{}",
                s.as_str()
            );
        }
    }

    #[test]
    fn the_labs_scenarios_load() {
        let root =
            crate::workspace::find_root(Path::new(env!("CARGO_MANIFEST_DIR")), true).unwrap();
        let apps: Vec<AppId> = crate::suite::load_catalog(&root.join("suites"), "lab")
            .unwrap()
            .into_iter()
            .map(|s| s.app)
            .collect();
        let all = load_scenarios(&root.join("suites"), "lab", &apps).unwrap();
        let faults: Vec<_> = all.iter().map(|s| s.fault).collect();
        for f in Fault::ALL {
            assert!(
                faults.contains(&f),
                "no lab scenario injects {}",
                f.as_str()
            );
        }
    }
}
