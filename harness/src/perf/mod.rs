//! L6 performance: KPI cells as data (`suites/<catalog>/perf/<kpi>.toml`: the metric, samples,
//! warm-up, statistic and budget, or the exact calls of an operation), what a cell measured
//! (`Measured`, carried in the case's message) and the history every run appends to
//! (`reports/perf-history.jsonl`, with the regression flag). `checks::perf` measures.

mod history;
mod kpi;
mod measured;

pub use history::{HISTORY_FILE, Record, append, read};
pub use kpi::{Budget, Kpi, Metric, Operation, Statistic, load_kpis, parse};
pub use measured::Measured;
