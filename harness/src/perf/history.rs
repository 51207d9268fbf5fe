//! The KPI history: `reports/perf-history.jsonl`, one JSON line per cell, node and run, appended
//! after every run with L6 cells. A timing cell whose median is worse than its last green run's
//! by more than the cell's `regress_pct`, by more than the spread of either run explains, is
//! flagged `regressed`, apart from its pass/fail verdict.

use std::{fs, io::Write as _, path::Path};

use serde::{Deserialize, Serialize};

use super::Measured;

/// The history file's name, in the reports folder.
pub const HISTORY_FILE: &str = "perf-history.jsonl";

/// One cell on one node in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The run.
    pub run_id: String,
    /// The commit the run was built from (`unknown` outside a git checkout).
    pub commit: String,
    /// The node.
    pub node: String,
    /// The case (`L6::<app>::<kpi>`).
    pub case: String,
    /// What was measured.
    pub measured: Measured,
    /// `pass` or `fail`.
    pub verdict: String,
    /// The last earlier run where this cell passed on this node, compared against.
    pub baseline_run: Option<String>,
    /// The median's change against that run, in percent.
    pub change_pct: Option<f64>,
    /// Worse than the baseline beyond the threshold and the spread.
    pub regressed: bool,
}

impl Record {
    /// A record for `measured`, compared with the last green record of the same case and node
    /// in `earlier` (oldest first).
    pub fn new(
        run_id: &str,
        commit: &str,
        node: &str,
        case: &str,
        measured: Measured,
        regress_pct: u32,
        earlier: &[Record],
    ) -> Record {
        let baseline = earlier.iter().rev().find(|r| {
            r.case == case && r.node == node && r.verdict == "pass" && r.run_id != run_id
        });
        let (change_pct, regressed) = match baseline {
            Some(b) if measured.unit == "ms" && b.measured.median > 0.0 => {
                let change = (measured.median - b.measured.median) / b.measured.median * 100.0;
                let spread =
                    (measured.p95 - measured.median).max(b.measured.p95 - b.measured.median);
                let worse = measured.median - b.measured.median;
                (
                    Some((change * 10.0).round() / 10.0),
                    change > f64::from(regress_pct) && worse > spread,
                )
            }
            _ => (None, false),
        };
        Record {
            run_id: run_id.into(),
            commit: commit.into(),
            node: node.into(),
            case: case.into(),
            verdict: if measured.pass { "pass" } else { "fail" }.into(),
            measured,
            baseline_run: baseline.map(|b| b.run_id.clone()),
            change_pct,
            regressed,
        }
    }

    /// The trend in words, for TESTING.md and the console.
    pub fn trend(&self) -> String {
        match (&self.baseline_run, self.change_pct) {
            (Some(run), Some(c)) if self.regressed => {
                format!("▲ regressed {c:+.0}% vs `{run}`")
            }
            (Some(run), Some(c)) => format!("{c:+.0}% vs `{run}`"),
            (Some(run), None) => format!("exact; last green `{run}`"),
            (None, _) if self.verdict == "pass" => "first green run".into(),
            (None, _) => "no green run before".into(),
        }
    }
}

/// Every record of the history file; a missing file is an empty history, a line that is not a
/// record is an error naming its line.
pub fn read(path: &Path) -> Result<Vec<Record>, String> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("failed to read {}: {e}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| format!("failed to read {}:{}: {e}", path.display(), i + 1))
        })
        .collect()
}

/// Appends records, one line each, with one write (a line is never half there for readers that
/// split on newlines).
pub fn append(path: &Path, records: &[Record]) -> Result<(), String> {
    let mut text = String::new();
    for r in records {
        text.push_str(&serde_json::to_string(r).map_err(|e| e.to_string())?);
        text.push('\n');
    }
    fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("failed to append to {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timing(samples: &[f64], pass: bool) -> Measured {
        let mut sorted = samples.to_vec();
        sorted.sort_by(f64::total_cmp);
        Measured {
            unit: "ms".into(),
            samples: samples.to_vec(),
            statistic: "median".into(),
            value: sorted[sorted.len() / 2],
            median: sorted[sorted.len() / 2],
            p95: *sorted.last().unwrap(),
            min: sorted[0],
            max: *sorted.last().unwrap(),
            budget: 1000.0,
            expected: vec![],
            cpu_pressure: vec![],
            pass,
        }
    }

    fn rec(run: &str, samples: &[f64], pass: bool, earlier: &[Record]) -> Record {
        Record::new(
            run,
            "abc",
            "lab-228",
            "L6::x::k",
            timing(samples, pass),
            25,
            earlier,
        )
    }

    #[test]
    fn the_first_run_has_no_baseline() {
        let r = rec("r1", &[100.0, 100.0, 100.0], true, &[]);
        assert_eq!(
            (r.baseline_run.clone(), r.change_pct, r.regressed),
            (None, None, false)
        );
        assert_eq!(r.trend(), "first green run");
    }

    #[test]
    fn a_slower_median_beyond_threshold_and_spread_is_regressed() {
        let base = rec("r1", &[100.0, 100.0, 105.0], true, &[]);
        let slow = rec(
            "r2",
            &[150.0, 150.0, 160.0],
            true,
            std::slice::from_ref(&base),
        );
        assert_eq!(slow.baseline_run.as_deref(), Some("r1"));
        assert_eq!(slow.change_pct, Some(50.0));
        assert!(slow.regressed);
        assert_eq!(slow.trend(), "▲ regressed +50% vs `r1`");
        // As slow, but the samples spread so wide that the spread explains it.
        let noisy = rec(
            "r3",
            &[90.0, 150.0, 400.0],
            true,
            std::slice::from_ref(&base),
        );
        assert!(!noisy.regressed);
        // Within the threshold.
        let ok = rec(
            "r4",
            &[110.0, 120.0, 121.0],
            true,
            std::slice::from_ref(&base),
        );
        assert!(!ok.regressed);
        assert_eq!(ok.trend(), "+20% vs `r1`");
    }

    #[test]
    fn the_baseline_is_the_last_green_run_of_the_same_cell_and_node() {
        let green = rec("r1", &[100.0; 3], true, &[]);
        let red = rec("r2", &[5000.0; 3], false, std::slice::from_ref(&green));
        let mut other_node = rec("r2", &[10.0; 3], true, &[]);
        other_node.node = "lab-198".into();
        let r = rec("r3", &[101.0; 3], true, &[green, red, other_node]);
        assert_eq!(r.baseline_run.as_deref(), Some("r1"));
        assert_eq!(r.change_pct, Some(1.0));
    }

    #[test]
    fn appended_records_read_back_and_a_bad_line_is_named() {
        let dir = std::env::temp_dir().join(format!("perf-history-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join(HISTORY_FILE);
        let _ = fs::remove_file(&path);
        assert_eq!(read(&path).unwrap(), vec![]);
        let a = rec("r1", &[100.0; 3], true, &[]);
        let b = rec("r2", &[100.0; 3], true, std::slice::from_ref(&a));
        append(&path, std::slice::from_ref(&a)).unwrap();
        append(&path, std::slice::from_ref(&b)).unwrap();
        assert_eq!(read(&path).unwrap(), vec![a, b]);
        fs::write(&path, "{}\n").unwrap();
        assert!(
            read(&path)
                .unwrap_err()
                .contains(&format!("{}:1:", path.display()))
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}
