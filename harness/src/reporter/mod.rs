//! Reporters: the run's events rendered for people (console) and machines (JSON, JUnit, summary).

mod console;
mod events;
mod json;
mod junit;
mod summary;
mod verdict;
mod write;

pub use console::Console;
pub use events::{CaseId, EventKind, TestEvent, rfc3339};
pub use json::{CaseRecord, Results, Totals};
pub use junit::render_junit;
pub use summary::{render_summary, render_table};
pub use verdict::{Verdict, verdict};
pub use write::write_reports;
