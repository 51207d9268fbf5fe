//! Quadlet units: one typed struct per section, built from a manifest and rendered to text.

mod container;
mod install;
mod service;
mod text;
mod unit;
mod unit_file;
mod version;

pub use container::Container;
pub use install::Install;
pub use service::Service;
pub use text::quote;
pub use unit::Unit;
pub use unit_file::{APP_LABEL, QuadletUnit, check_unit_text, desired_in, with_desired};
pub use version::PodmanVersion;
