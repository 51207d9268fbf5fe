//! The `[Install]` section.

use super::text::kv;

/// `[Install]`: which target pulls the app in at boot.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Install {
    /// `WantedBy=` lines.
    pub wanted_by: Vec<String>,
}

impl Install {
    /// Appends the section's text.
    pub fn render(&self, out: &mut String) {
        out.push_str("[Install]\n");
        self.wanted_by.iter().for_each(|w| kv(out, "WantedBy", w));
    }
}
