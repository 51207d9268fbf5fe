//! The `[Unit]` section.

use super::text::kv;

/// `[Unit]`: description and ordering against other apps.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Unit {
    /// `Description=`.
    pub description: Option<String>,
    /// `Wants=` (soft, so stopping a dependency does not stop dependents).
    pub wants: Vec<String>,
    /// `After=`.
    pub after: Vec<String>,
}

impl Unit {
    /// Appends the section's text.
    pub fn render(&self, out: &mut String) {
        out.push_str("[Unit]\n");
        if let Some(d) = &self.description {
            kv(out, "Description", d);
        }
        self.wants.iter().for_each(|w| kv(out, "Wants", w));
        self.after.iter().for_each(|a| kv(out, "After", a));
    }
}
