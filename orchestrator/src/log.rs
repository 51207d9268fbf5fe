//! Logging to stderr, one line per event, with a syslog priority prefix journald understands.

use std::fmt::Display;

/// A syslog priority.
#[derive(Clone, Copy, Debug)]
pub enum Priority {
    /// `<3>` error.
    Error = 3,
    /// `<4>` warning.
    Warning = 4,
    /// `<6>` informational.
    Info = 6,
}

/// Writes one event; newlines are flattened so one event stays one journal line.
pub fn log(priority: Priority, message: impl Display) {
    let text = message.to_string().replace('\n', " ");
    eprintln!("<{}>{text}", priority as u8);
}

/// Logs an informational event.
pub fn info(message: impl Display) {
    log(Priority::Info, message);
}

/// Logs a warning.
pub fn warn(message: impl Display) {
    log(Priority::Warning, message);
}

/// Logs an error.
pub fn error(message: impl Display) {
    log(Priority::Error, message);
}
