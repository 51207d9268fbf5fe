//! What one KPI cell measured on one node: its samples, their statistics and the verdict
//! against the budget. It travels as the case's message (`kpi {json}`), so results.json,
//! `harness matrix` and the history file all read the same numbers.

use serde::{Deserialize, Serialize};

use super::{Budget, Kpi, Statistic};

/// The prefix of a KPI case's message.
const PREFIX: &str = "kpi ";

/// One cell's measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measured {
    /// `ms` for timings, `calls` for counts.
    pub unit: String,
    /// The samples judged (warm-up dropped), in order; for a count, systemctl then podman.
    pub samples: Vec<f64>,
    /// The statistic judged (`median`, `p95`, `max`, or `exact`).
    pub statistic: String,
    /// Its value.
    pub value: f64,
    /// The median of the samples.
    pub median: f64,
    /// Their 95th percentile (nearest rank).
    pub p95: f64,
    /// Their fastest and slowest.
    pub min: f64,
    /// The slowest.
    pub max: f64,
    /// The budget (for a count, the expected systemctl calls; `expected` has both).
    pub budget: f64,
    /// For a count: the expected `[systemctl, podman]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expected: Vec<f64>,
    /// The node's CPU pressure (`/proc/pressure/cpu`, some avg10 %) before and after.
    #[serde(default)]
    pub cpu_pressure: Vec<f64>,
    /// Within budget.
    pub pass: bool,
}

/// The sample at nearest rank `pct` of sorted `v` (non-empty).
fn rank(sorted: &[f64], pct: f64) -> f64 {
    let n = sorted.len();
    let i = ((pct / 100.0) * n as f64).ceil() as usize;
    sorted[i.clamp(1, n) - 1]
}

impl Measured {
    /// Judges timing samples (ms) against a cell's budget; `None` without samples.
    pub fn timing(kpi: &Kpi, samples: Vec<f64>, cpu_pressure: Vec<f64>) -> Option<Measured> {
        let Budget::Millis { statistic, ms } = kpi.budget else {
            return None;
        };
        let mut sorted = samples.clone();
        sorted.sort_by(f64::total_cmp);
        let (first, last) = (*sorted.first()?, *sorted.last()?);
        let median = sorted[sorted.len() / 2];
        let p95 = rank(&sorted, 95.0);
        let value = match statistic {
            Statistic::Median => median,
            Statistic::P95 => p95,
            Statistic::Max => last,
        };
        Some(Measured {
            unit: "ms".into(),
            samples,
            statistic: statistic.as_str().into(),
            value,
            median,
            p95,
            min: first,
            max: last,
            budget: ms as f64,
            expected: Vec::new(),
            cpu_pressure,
            pass: value <= ms as f64,
        })
    }

    /// Judges one operation's `[systemctl, podman]` counts: exactly the expected ones.
    pub fn calls(kpi: &Kpi, counts: [u64; 2]) -> Option<Measured> {
        let Budget::Calls {
            systemctl, podman, ..
        } = kpi.budget
        else {
            return None;
        };
        let total = (counts[0] + counts[1]) as f64;
        Some(Measured {
            unit: "calls".into(),
            samples: vec![counts[0] as f64, counts[1] as f64],
            statistic: "exact".into(),
            value: total,
            median: total,
            p95: total,
            min: total,
            max: total,
            budget: (systemctl + podman) as f64,
            expected: vec![systemctl as f64, podman as f64],
            cpu_pressure: Vec::new(),
            pass: counts == [systemctl, podman],
        })
    }

    /// The case's message: `kpi {json}`, then for a failure why, in words.
    pub fn message(&self) -> String {
        let json = serde_json::to_string(self).unwrap_or_default();
        if self.pass {
            format!("{PREFIX}{json}")
        } else {
            format!("{PREFIX}{json} {}", self.why())
        }
    }

    /// The verdict in words.
    pub fn why(&self) -> String {
        if self.unit == "calls" {
            format!(
                "{} systemctl and {} podman calls, expected exactly {} and {}",
                self.samples[0],
                self.samples.get(1).unwrap_or(&0.0),
                self.expected.first().unwrap_or(&0.0),
                self.expected.get(1).unwrap_or(&0.0)
            )
        } else {
            format!(
                "{} {:.0} ms {} the budget of {:.0} ms (samples {:?} ms)",
                self.statistic,
                self.value,
                if self.pass { "within" } else { "over" },
                self.budget,
                self.samples
            )
        }
    }

    /// Reads a measurement back from a case's message; `None` when it holds none.
    pub fn from_message(message: &str) -> Option<Measured> {
        let rest = message.strip_prefix(PREFIX)?;
        serde_json::Deserializer::from_str(rest)
            .into_iter::<Measured>()
            .next()?
            .ok()
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::perf::{Metric, Operation};

    fn kpi(budget: Budget) -> Kpi {
        Kpi {
            name: "k".into(),
            path: PathBuf::from("k.toml"),
            metric: Metric::ReconcileTick,
            app: None,
            samples: 5,
            warmup: 0,
            budget,
            regress_pct: 25,
        }
    }

    #[test]
    fn statistics_are_nearest_rank() {
        let k = kpi(Budget::Millis {
            statistic: Statistic::P95,
            ms: 100,
        });
        let samples: Vec<f64> = (1..=20).map(f64::from).collect();
        let m = Measured::timing(&k, samples, vec![1.5, 2.0]).unwrap();
        assert_eq!(
            (m.median, m.p95, m.min, m.max, m.value),
            (11.0, 19.0, 1.0, 20.0, 19.0)
        );
        assert!(m.pass);
        let m = Measured::timing(&k, vec![150.0, 20.0, 30.0], vec![]).unwrap();
        assert_eq!((m.median, m.p95, m.value), (30.0, 150.0, 150.0));
        assert!(!m.pass);
        assert_eq!(
            m.why(),
            "p95 150 ms over the budget of 100 ms (samples [150.0, 20.0, 30.0] ms)"
        );
        assert_eq!(Measured::timing(&k, vec![], vec![]), None);
    }

    #[test]
    fn calls_must_be_exact_and_read_back_from_the_message() {
        let k = kpi(Budget::Calls {
            operation: Operation::Install,
            systemctl: 2,
            podman: 0,
        });
        let ok = Measured::calls(&k, [2, 0]).unwrap();
        assert!(ok.pass);
        assert_eq!(Measured::from_message(&ok.message()), Some(ok));
        let bad = Measured::calls(&k, [2, 1]).unwrap();
        assert!(!bad.pass);
        assert!(
            bad.message()
                .ends_with("} 2 systemctl and 1 podman calls, expected exactly 2 and 0"),
            "{}",
            bad.message()
        );
        assert_eq!(Measured::from_message(&bad.message()), Some(bad));
        assert_eq!(Measured::from_message("converged in 3 ms"), None);
    }
}
