//! `GET /metrics`: what `server.metrics` reports, in the Prometheus/OpenMetrics text format
//! (encoded by `prometheus-client`): reconcile tick and operation duration histograms, commands
//! run by program, apps by state, ticks finished and startup time.
//!
//! The histograms live as long as the process; everything else is read when scraped.

use std::collections::BTreeMap;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::{EncodeLabelSet, text::encode};
use prometheus_client::metrics::{
    counter::Counter,
    family::Family,
    gauge::Gauge,
    histogram::{Histogram, exponential_buckets},
};
use prometheus_client::registry::Registry;

use crate::backend::Calls;
use crate::status::AppState;

/// The content type of [`render`]'s text.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProgramLabel {
    program: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: String,
}

/// Buckets from 1 ms to about 33 s, doubling: a no-op tick and a cold install both land inside.
fn buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The durations observed since the process started.
#[derive(Debug)]
pub struct Histograms {
    tick: Histogram,
    operations: Family<MethodLabel, Histogram, fn() -> Histogram>,
}

/// The operations timed, each present from the start (at zero) so a scrape always shows the
/// family and a dashboard never sees a series appear out of nowhere.
pub const OPERATIONS: [&str; 6] = [
    "package.install",
    "package.update",
    "package.start",
    "package.stop",
    "package.restart",
    "package.uninstall",
];

impl Default for Histograms {
    fn default() -> Self {
        let h = Histograms {
            tick: buckets(),
            operations: Family::new_with_constructor(buckets),
        };
        for method in OPERATIONS {
            drop(h.operations.get_or_create(&MethodLabel {
                method: method.to_owned(),
            }));
        }
        h
    }
}

impl Histograms {
    /// Records one finished reconcile tick.
    pub fn tick(&self, seconds: f64) {
        self.tick.observe(seconds);
    }

    /// Records one finished operation (`package.install`, ...), failed or not.
    pub fn operation(&self, method: &str, seconds: f64) {
        self.operations
            .get_or_create(&MethodLabel {
                method: method.to_owned(),
            })
            .observe(seconds);
    }
}

/// What a scrape reads besides the histograms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Snapshot {
    /// Startup until the API listened.
    pub startup_ms: u64,
    /// Reconcile ticks finished.
    pub ticks: u64,
    /// Commands run since start, by program.
    pub calls: Calls,
    /// Installed apps by state (`running`, `stopped`, ...).
    pub apps: BTreeMap<String, i64>,
}

/// The text a scrape answers with (ends with `# EOF`).
pub fn render(h: &Histograms, s: &Snapshot) -> String {
    let mut r = Registry::with_prefix("orchestrator");
    r.register(
        "reconcile_tick_duration_seconds",
        "How long each reconcile tick took",
        h.tick.clone(),
    );
    r.register(
        "operation_duration_seconds",
        "How long each API operation took, by JSON-RPC method",
        h.operations.clone(),
    );
    let ticks = Counter::<u64>::default();
    ticks.inc_by(s.ticks);
    r.register("reconcile_ticks", "Reconcile ticks finished", ticks);
    let commands = Family::<ProgramLabel, Counter>::default();
    for (program, n) in [("systemctl", s.calls.systemctl), ("podman", s.calls.podman)] {
        commands.get_or_create(&ProgramLabel { program }).inc_by(n);
    }
    r.register("commands", "Commands run, by program", commands);
    let apps = Family::<StateLabel, Gauge>::default();
    // Every state an installed app can be in, at zero unless counted.
    for state in [
        AppState::Running,
        AppState::Starting,
        AppState::Stopped,
        AppState::Failed,
        AppState::Invalid,
    ] {
        drop(apps.get_or_create(&StateLabel {
            state: state.as_str().to_owned(),
        }));
    }
    for (state, n) in &s.apps {
        apps.get_or_create(&StateLabel {
            state: state.clone(),
        })
        .set(*n);
    }
    r.register("apps", "Installed apps, by state", apps);
    let startup = Gauge::<f64, AtomicU64>::default();
    startup.set(s.startup_ms as f64 / 1000.0);
    r.register(
        "startup_seconds",
        "From process start until the API listened",
        startup,
    );
    let mut out = String::new();
    encode(&mut out, &r).expect("writing to a String cannot fail");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_every_family_with_its_values() {
        let h = Histograms::default();
        h.tick(0.0004);
        h.tick(0.3);
        h.operation("package.install", 0.25);
        let s = Snapshot {
            startup_ms: 48,
            ticks: 2,
            calls: Calls {
                systemctl: 7,
                podman: 1,
            },
            apps: [("running".to_owned(), 4), ("stopped".to_owned(), 1)].into(),
        };
        let text = render(&h, &s);
        for line in [
            "# TYPE orchestrator_reconcile_tick_duration_seconds histogram",
            "orchestrator_reconcile_tick_duration_seconds_count 2",
            "orchestrator_reconcile_tick_duration_seconds_bucket{le=\"0.001\"} 1",
            "orchestrator_operation_duration_seconds_count{method=\"package.install\"} 1",
            "orchestrator_reconcile_ticks_total 2",
            "orchestrator_commands_total{program=\"systemctl\"} 7",
            "orchestrator_commands_total{program=\"podman\"} 1",
            "orchestrator_apps{state=\"running\"} 4",
            "orchestrator_apps{state=\"stopped\"} 1",
            "orchestrator_startup_seconds 0.048",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn every_operation_is_there_before_the_first_one_ran() {
        let text = render(&Histograms::default(), &Snapshot::default());
        for method in OPERATIONS {
            let line =
                format!("orchestrator_operation_duration_seconds_count{{method=\"{method}\"}} 0");
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
        assert!(
            text.lines()
                .any(|l| l == "orchestrator_apps{state=\"stopped\"} 0"),
            "{text}"
        );
    }
}
