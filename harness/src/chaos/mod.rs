//! L5 chaos scenarios as data: `suites/<catalog>/chaos/<scenario>.toml`, one fault each, with
//! its target, how long it lasts and the deadline to converge by. `checks::chaos` runs them.

mod scenario;

pub use scenario::{CrashPoint, Fault, Scenario, load_scenarios, parse};
