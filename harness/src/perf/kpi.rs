//! KPI cells as data: one file per cell under `suites/<catalog>/perf/`, checked into a [`Kpi`]
//! with the file, line and key in every refusal.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::{
    model::AppId,
    suite::{DataFile, SuiteError, load_folder},
};

/// The most samples a cell may take.
const MAX_SAMPLES: i64 = 500;

/// What a cell measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// `package.install` until running and healthy, image local (the app uninstalled before
    /// each sample, its data kept).
    ColdInstall,
    /// The orchestrator's own duration of a whole reconcile tick with every app installed
    /// (`server.reconcile`, then `server.metrics`' `reconcile.last_ms`).
    ReconcileTick,
    /// `systemctl` and `podman` invocations of one operation, from the orchestrator's counters
    /// (`server.metrics`' `last_operation`): exact, never noisy.
    Calls,
    /// `systemctl restart` of the daemon unit until the orchestrator answers a login.
    DaemonStart,
    /// `package.restart` until running and healthy again.
    RestartToHealthy,
    /// `systemctl reboot` of the node until every app is running and healthy.
    RebootToHealthy,
}

impl Metric {
    /// Every metric, as error messages list them.
    pub const ALL: [Metric; 6] = [
        Metric::ColdInstall,
        Metric::ReconcileTick,
        Metric::Calls,
        Metric::DaemonStart,
        Metric::RestartToHealthy,
        Metric::RebootToHealthy,
    ];

    /// The name a KPI file spells it with.
    pub fn as_str(self) -> &'static str {
        match self {
            Metric::ColdInstall => "cold-install",
            Metric::ReconcileTick => "reconcile-tick",
            Metric::Calls => "calls",
            Metric::DaemonStart => "daemon-start",
            Metric::RestartToHealthy => "restart-to-healthy",
            Metric::RebootToHealthy => "reboot-to-healthy",
        }
    }

    /// True when the metric acts on one app (`app` required).
    pub fn needs_app(self) -> bool {
        matches!(
            self,
            Metric::ColdInstall | Metric::Calls | Metric::RestartToHealthy
        )
    }
}

/// The statistic a timing cell is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Statistic {
    /// The middle sample (the upper one of an even count).
    Median,
    /// The 95th percentile (nearest rank).
    P95,
    /// The slowest sample.
    Max,
}

impl Statistic {
    /// Every statistic.
    pub const ALL: [Statistic; 3] = [Statistic::Median, Statistic::P95, Statistic::Max];

    /// Its name.
    pub fn as_str(self) -> &'static str {
        match self {
            Statistic::Median => "median",
            Statistic::P95 => "p95",
            Statistic::Max => "max",
        }
    }
}

/// The operation a `calls` cell counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `package.install` (the app uninstalled first).
    Install,
    /// `package.start` (the app stopped first).
    Start,
    /// `package.stop` (started again after).
    Stop,
    /// `package.restart`.
    Restart,
    /// `package.uninstall` (installed again after).
    Uninstall,
}

impl Operation {
    /// Every operation.
    pub const ALL: [Operation; 5] = [
        Operation::Install,
        Operation::Start,
        Operation::Stop,
        Operation::Restart,
        Operation::Uninstall,
    ];

    /// Its name in a KPI file.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Install => "install",
            Operation::Start => "start",
            Operation::Stop => "stop",
            Operation::Restart => "restart",
            Operation::Uninstall => "uninstall",
        }
    }

    /// The orchestrator method.
    pub fn method(self) -> &'static str {
        match self {
            Operation::Install => "package.install",
            Operation::Start => "package.start",
            Operation::Stop => "package.stop",
            Operation::Restart => "package.restart",
            Operation::Uninstall => "package.uninstall",
        }
    }
}

/// What a cell must show to pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    /// A timing: the statistic of the samples (after the warm-up) at most this many ms.
    Millis {
        /// The statistic judged.
        statistic: Statistic,
        /// The budget.
        ms: u64,
    },
    /// A count: exactly these invocations, every sample.
    Calls {
        /// The operation counted.
        operation: Operation,
        /// `systemctl` invocations.
        systemctl: u64,
        /// `podman` invocations.
        podman: u64,
    },
}

/// One checked KPI cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Kpi {
    /// The file's stem: the case's check name (`L6::<app>::<name>`).
    pub name: String,
    /// The file it came from.
    pub path: PathBuf,
    /// What is measured.
    pub metric: Metric,
    /// The app measured, for per-app metrics.
    pub app: Option<AppId>,
    /// Samples judged.
    pub samples: u32,
    /// Samples taken first and discarded.
    pub warmup: u32,
    /// The budget.
    pub budget: Budget,
    /// How much worse than the last green run's median (percent) a median may be before the
    /// cell is flagged regressed (when the spread does not explain it).
    pub regress_pct: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireKpi {
    metric: Spanned<String>,
    #[serde(default)]
    app: Option<Spanned<String>>,
    samples: Spanned<i64>,
    #[serde(default)]
    warmup: Option<Spanned<i64>>,
    #[serde(default)]
    statistic: Option<Spanned<String>>,
    #[serde(default)]
    budget_ms: Option<Spanned<i64>>,
    #[serde(default)]
    operation: Option<Spanned<String>>,
    #[serde(default)]
    systemctl: Option<Spanned<i64>>,
    #[serde(default)]
    podman: Option<Spanned<i64>>,
    #[serde(default)]
    regress_pct: Option<Spanned<i64>>,
}

/// Loads `suites_dir/<catalog>/perf/*.toml`, sorted by name; no folder means no cell. `apps`
/// are the catalog's apps, which `app` must name.
pub fn load_kpis(suites_dir: &Path, catalog: &str, apps: &[AppId]) -> Result<Vec<Kpi>, SuiteError> {
    load_folder(suites_dir, catalog, "perf", |path, text| {
        parse(path, text, apps)
    })
}

/// Parses one KPI file.
pub fn parse(path: &Path, text: &str, apps: &[AppId]) -> Result<Kpi, SuiteError> {
    let file = DataFile { path, text };
    let w: WireKpi = file.wire()?;
    let bad = |key: &str, at: usize, message: String| file.bad(key, at, message);
    let name = file.name("metric", "KPI")?;
    let metric = file.one_of("metric", "metric", &w.metric, &Metric::ALL, Metric::as_str)?;
    let app = w
        .app
        .as_ref()
        .map(|s| file.app("app", s, apps))
        .transpose()?;
    if metric.needs_app() != app.is_some() {
        let (at, message) = match &w.app {
            Some(a) => (
                a.span().start,
                format!("metric {} measures no app", metric.as_str()),
            ),
            None => (
                w.metric.span().start,
                format!("metric {} needs an app", metric.as_str()),
            ),
        };
        return Err(bad("app", at, message));
    }
    let count = |key: &str, v: &Spanned<i64>, min: i64, max: i64| {
        let n = *v.get_ref();
        if (min..=max).contains(&n) {
            Ok(n as u64)
        } else {
            Err(bad(
                key,
                v.span().start,
                format!("{n} is not between {min} and {max}"),
            ))
        }
    };
    let samples = count("samples", &w.samples, 1, MAX_SAMPLES)? as u32;
    let warmup = match &w.warmup {
        Some(v) => count("warmup", v, 0, 10)? as u32,
        None => 0,
    };
    let regress_pct = match &w.regress_pct {
        Some(v) => count("regress_pct", v, 1, 1000)? as u32,
        None => 25,
    };
    let timing_keys = [
        ("statistic", w.statistic.is_some()),
        ("budget_ms", w.budget_ms.is_some()),
    ];
    let calls_keys = [
        ("operation", w.operation.as_ref().map(|s| s.span().start)),
        ("systemctl", w.systemctl.as_ref().map(|s| s.span().start)),
        ("podman", w.podman.as_ref().map(|s| s.span().start)),
    ];
    let budget = if metric == Metric::Calls {
        if let Some((key, _)) = timing_keys.iter().find(|(_, set)| *set) {
            return Err(bad(
                key,
                w.metric.span().start,
                "a calls cell is exact: it takes operation, systemctl and podman".into(),
            ));
        }
        let (Some(op), Some(sc), Some(pm)) = (&w.operation, &w.systemctl, &w.podman) else {
            let missing = calls_keys
                .iter()
                .find(|(_, at)| at.is_none())
                .map_or("", |k| k.0);
            return Err(bad(
                missing,
                w.metric.span().start,
                "a calls cell needs operation, systemctl and podman".into(),
            ));
        };
        let operation = file.one_of(
            "operation",
            "operation",
            op,
            &Operation::ALL,
            Operation::as_str,
        )?;
        Budget::Calls {
            operation,
            systemctl: count("systemctl", sc, 0, 100)?,
            podman: count("podman", pm, 0, 100)?,
        }
    } else {
        if let Some((key, Some(at))) = calls_keys.iter().find(|(_, at)| at.is_some()) {
            return Err(bad(
                key,
                *at,
                format!("metric {} is a timing, not a count", metric.as_str()),
            ));
        }
        let (Some(st), Some(ms)) = (&w.statistic, &w.budget_ms) else {
            let missing = if w.statistic.is_none() {
                "statistic"
            } else {
                "budget_ms"
            };
            return Err(bad(
                missing,
                w.metric.span().start,
                format!("metric {} needs statistic and budget_ms", metric.as_str()),
            ));
        };
        let statistic = file.one_of(
            "statistic",
            "statistic",
            st,
            &Statistic::ALL,
            Statistic::as_str,
        )?;
        Budget::Millis {
            statistic,
            ms: count("budget_ms", ms, 1, 3_600_000)?,
        }
    };
    Ok(Kpi {
        name,
        path: path.to_owned(),
        metric,
        app,
        samples,
        warmup,
        budget,
        regress_pct,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn apps() -> Vec<AppId> {
        vec![AppId::new("lab-chain").unwrap()]
    }

    fn load(text: &str) -> Result<Kpi, String> {
        parse(Path::new("suites/lab/perf/k.toml"), text, &apps()).map_err(|e| e.to_string())
    }

    #[test]
    fn timing_and_count_cells_are_read_exactly() {
        let k = load(
            "metric = \"cold-install\"\napp = \"lab-chain\"\nsamples = 5\nwarmup = 1\n\
             statistic = \"median\"\nbudget_ms = 30000\n",
        )
        .unwrap();
        assert_eq!(
            k,
            Kpi {
                name: "k".into(),
                path: "suites/lab/perf/k.toml".into(),
                metric: Metric::ColdInstall,
                app: Some(AppId::new("lab-chain").unwrap()),
                samples: 5,
                warmup: 1,
                budget: Budget::Millis {
                    statistic: Statistic::Median,
                    ms: 30000
                },
                regress_pct: 25,
            }
        );
        let k = load(
            "metric = \"calls\"\napp = \"lab-chain\"\nsamples = 1\noperation = \"install\"\n\
             systemctl = 2\npodman = 0\n",
        )
        .unwrap();
        assert_eq!(
            k.budget,
            Budget::Calls {
                operation: Operation::Install,
                systemctl: 2,
                podman: 0
            }
        );
    }

    #[test]
    fn refusals_name_file_line_and_key() {
        let cases = [
            (
                "metric = \"speed\"\nsamples = 1\n",
                "suites/lab/perf/k.toml:1: key `metric`: unknown metric \"speed\" (known: cold-install,",
            ),
            (
                "metric = \"cold-install\"\nsamples = 1\nstatistic = \"median\"\nbudget_ms = 5\n",
                "suites/lab/perf/k.toml:1: key `app`: metric cold-install needs an app",
            ),
            (
                "metric = \"reconcile-tick\"\nsamples = 0\nstatistic = \"p95\"\nbudget_ms = 5\n",
                "suites/lab/perf/k.toml:2: key `samples`: 0 is not between 1 and 500",
            ),
            (
                "metric = \"reconcile-tick\"\nsamples = 5\nstatistic = \"p99\"\nbudget_ms = 5\n",
                "suites/lab/perf/k.toml:3: key `statistic`: unknown statistic \"p99\"",
            ),
            (
                "metric = \"reconcile-tick\"\nsamples = 5\nstatistic = \"p95\"\n",
                "suites/lab/perf/k.toml:1: key `budget_ms`: metric reconcile-tick needs statistic and budget_ms",
            ),
            (
                "metric = \"reconcile-tick\"\nsamples = 5\nstatistic = \"p95\"\nbudget_ms = 5\npodman = 1\n",
                "suites/lab/perf/k.toml:5: key `podman`: metric reconcile-tick is a timing, not a count",
            ),
            (
                "metric = \"calls\"\napp = \"lab-chain\"\nsamples = 1\noperation = \"install\"\nsystemctl = 2\n",
                "suites/lab/perf/k.toml:1: key `podman`: a calls cell needs operation, systemctl and podman",
            ),
            (
                "metric = \"calls\"\napp = \"lab-chain\"\nsamples = 1\noperation = \"fly\"\nsystemctl = 2\npodman = 0\n",
                "suites/lab/perf/k.toml:4: key `operation`: unknown operation \"fly\"",
            ),
        ];
        for (text, want) in cases {
            let got = load(text).unwrap_err();
            assert!(got.contains(want), "{text:?}:\n got {got}\nwant {want}");
        }
    }

    #[test]
    fn the_labs_cells_load_and_cover_every_metric() {
        let root =
            crate::workspace::find_root(Path::new(env!("CARGO_MANIFEST_DIR")), true).unwrap();
        let apps: Vec<AppId> = crate::suite::load_catalog(&root.join("suites"), "lab")
            .unwrap()
            .into_iter()
            .map(|s| s.app)
            .collect();
        let all = load_kpis(&root.join("suites"), "lab", &apps).unwrap();
        for m in Metric::ALL {
            assert!(
                all.iter().any(|k| k.metric == m),
                "no lab cell measures {}",
                m.as_str()
            );
        }
        for o in Operation::ALL {
            assert!(
                all.iter()
                    .any(|k| matches!(k.budget, Budget::Calls { operation, .. } if operation == o)),
                "no lab cell counts the calls of {}",
                o.as_str()
            );
        }
    }
}
