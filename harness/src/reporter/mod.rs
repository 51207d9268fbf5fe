//! Reporters: the run's events rendered for people (console) and machines (events.jsonl,
//! results.json, JUnit, summary); `Reporter` feeds them all.

mod console;
mod events;
mod imp;
mod junit;
mod results;
mod summary;
mod time;
mod verdict;
mod write;

pub use console::Console;
pub use events::{CaseId, EventKind, TestEvent, planned};
pub use imp::{CANCELLED_NOT_RUN, CANCELLED_RUNNING, Finished, LOST, Output, Reporter};
pub use junit::render_junit;
pub use results::{CaseRecord, Results, Totals};
pub use summary::{render_summary, render_table};
pub use time::{Timestamp, millis};
pub use verdict::{Verdict, verdict};
pub use write::write_reports;
