//! `Redactor`: every report and log line passes through it so secrets never leave the process.

use std::sync::{Arc, RwLock};

/// Replaces every registered secret with `[REDACTED]`. Cheap to clone; clones share the list.
#[derive(Debug, Clone, Default)]
pub struct Redactor {
    secrets: Arc<RwLock<Vec<String>>>,
}

/// What a secret is replaced with.
pub const MASK: &str = "[REDACTED]";

impl Redactor {
    /// Registers a value that must never be shown (passwords, session tokens).
    pub fn register(&self, secret: &str) {
        // Very short values would blank out ordinary words; a real secret is never this short.
        if secret.len() >= 4 {
            let mut list = self.secrets.write().unwrap_or_else(|e| e.into_inner());
            if !list.iter().any(|s| s == secret) {
                list.push(secret.to_owned());
                list.sort_by_key(|s| std::cmp::Reverse(s.len()));
            }
        }
    }

    /// The text with every registered secret masked.
    pub fn redact(&self, text: &str) -> String {
        let list = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_owned();
        for s in list.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_registered_secret_longest_first() {
        let r = Redactor::default();
        r.register("hunter2-pass");
        r.register("hunter2");
        r.register("tok");
        assert_eq!(
            r.redact("login hunter2-pass then hunter2 tok"),
            "login [REDACTED] then [REDACTED] tok"
        );
    }

    #[test]
    fn clones_share_registrations() {
        let r = Redactor::default();
        let c = r.clone();
        c.register("s3cr3t-token");
        assert_eq!(r.redact("Bearer s3cr3t-token"), "Bearer [REDACTED]");
    }
}
