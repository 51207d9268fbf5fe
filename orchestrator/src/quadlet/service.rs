//! The `[Service]` section.

use super::text::kv;
use crate::manifest::RestartPolicy;

/// `[Service]`: how systemd supervises the container.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Service {
    /// `Restart=`.
    pub restart: Option<RestartPolicy>,
    /// `TimeoutStartSec=` (room for an image pull).
    pub timeout_start_sec: Option<u32>,
}

impl Service {
    /// Appends the section's text.
    pub fn render(&self, out: &mut String) {
        out.push_str("[Service]\n");
        if let Some(r) = self.restart {
            kv(out, "Restart", r.as_str());
        }
        if let Some(t) = self.timeout_start_sec {
            kv(out, "TimeoutStartSec", &t.to_string());
        }
    }
}
