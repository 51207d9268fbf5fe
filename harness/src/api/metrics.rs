//! `server.metrics`: the reconciler's tick counters and the last operation's call counts, the
//! parts of the result the checks read.

use serde_json::Value;

use super::{FromReply, ReplyError, wire::Fields};
use crate::model::AppId;

/// `server.metrics`' result.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// The reconcile loop's counters.
    pub reconcile: Reconcile,
    /// The last app operation, when there was one since the orchestrator started.
    pub last_operation: Option<LastOperation>,
}

/// The reconcile loop's counters (`reconcile`).
#[derive(Debug, Clone, PartialEq)]
pub struct Reconcile {
    /// Ticks begun; `None` from an API that does not report it.
    pub started: Option<u64>,
    /// Ticks finished.
    pub ticks: u64,
    /// How long the last tick took, in ms.
    pub last_ms: f64,
}

/// The last app operation and the commands it ran (`last_operation`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LastOperation {
    /// The method (`package.start`, ...).
    pub method: String,
    /// The app it acted on.
    pub app: AppId,
    /// How many `systemctl` calls it made.
    pub systemctl: u64,
    /// How many `podman` calls it made.
    pub podman: u64,
}

impl FromReply for Metrics {
    fn from_reply(method: &str, result: &Value) -> Result<Self, ReplyError> {
        let f = Fields::result(method, result)?;
        let r = f.object("reconcile")?;
        let last_operation = match f.opt_object("last_operation")? {
            Some(o) => Some(LastOperation {
                method: o.string("method")?,
                app: o.app_id("app")?,
                systemctl: o.count("systemctl")?,
                podman: o.count("podman")?,
            }),
            None => None,
        };
        Ok(Self {
            reconcile: Reconcile {
                started: r.opt_count("started")?,
                ticks: r.count("ticks")?,
                last_ms: r.number("last_ms")?,
            },
            last_operation,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `server.metrics` as orchestrator/src/ops.rs builds it.
    fn metrics(last_operation: Value) -> Value {
        json!({
            "started_at": "2026-11-30T03:00:00Z",
            "startup_ms": 412,
            "backend": "quadlet",
            "podman_version": "5.4.2",
            "reconcile": {"started": 18, "ticks": 17, "last_ms": 35, "max_ms": 120},
            "calls": {"systemctl": 40, "podman": 22},
            "last_operation": last_operation,
        })
    }

    #[test]
    fn a_real_metrics_reply_parses() {
        let last = json!({"method": "package.start", "app": "lab-chain", "systemctl": 3, "podman": 1, "duration_ms": 812});
        assert_eq!(
            Metrics::from_reply("server.metrics", &metrics(last)),
            Ok(Metrics {
                reconcile: Reconcile {
                    started: Some(18),
                    ticks: 17,
                    last_ms: 35.0,
                },
                last_operation: Some(LastOperation {
                    method: "package.start".into(),
                    app: AppId::new("lab-chain").unwrap(),
                    systemctl: 3,
                    podman: 1,
                }),
            })
        );
        let none = Metrics::from_reply("server.metrics", &metrics(Value::Null)).unwrap();
        assert_eq!(none.last_operation, None);
    }

    #[test]
    fn a_last_operation_without_its_counts_is_refused() {
        let last = json!({"method": "package.start", "app": "lab-chain"});
        assert_eq!(
            Metrics::from_reply("server.metrics", &metrics(last))
                .unwrap_err()
                .to_string(),
            "server.metrics answered no last_operation.systemctl, expected a count"
        );
    }
}
