//! The results of the operations the checks read: `package.start`/`stop`/`restart`
//! (`Operated`), `package.uninstall` (`Uninstalled`) and `package.update` (`Updated`).

use serde_json::Value;

use super::{AppStatus, FromReply, ReplyError, wire::Fields};
use crate::model::AppId;

/// `package.start`, `package.stop` and `package.restart`: the app's status right after, and for
/// a stop the dependents a cascade stopped first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operated {
    /// The app's status right after the operation.
    pub status: AppStatus,
    /// For a stop, the dependents stopped before it, in that order; `None` when not reported.
    pub cascaded: Option<Vec<AppId>>,
}

impl FromReply for Operated {
    fn from_reply(method: &str, result: &Value) -> Result<Self, ReplyError> {
        let f = Fields::result(method, result)?;
        Ok(Self {
            status: AppStatus::from_fields(&f)?,
            cascaded: f.opt_ids("cascaded")?,
        })
    }
}

/// `package.uninstall`: what a cascade uninstalled first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uninstalled {
    /// The dependents uninstalled before the app, in that order; `None` when not reported.
    pub cascaded: Option<Vec<AppId>>,
}

impl FromReply for Uninstalled {
    fn from_reply(method: &str, result: &Value) -> Result<Self, ReplyError> {
        Ok(Self {
            cascaded: Fields::result(method, result)?.opt_ids("cascaded")?,
        })
    }
}

/// `package.update`: whether the spec changed, whether the app was restarted onto it, and the
/// image it names now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Updated {
    /// The spec (unit text) changed.
    pub changed: bool,
    /// The app was restarted onto the new spec.
    pub restarted: bool,
    /// The image the spec names now.
    pub image: String,
}

impl FromReply for Updated {
    fn from_reply(method: &str, result: &Value) -> Result<Self, ReplyError> {
        let f = Fields::result(method, result)?;
        Ok(Self {
            changed: f.flag("changed")?,
            restarted: f.flag("restarted")?,
            image: f.string("image")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::api::{AppState, Desired, Health};

    fn id(s: &str) -> AppId {
        AppId::new(s).unwrap()
    }

    #[test]
    fn a_cascading_stop_reply_parses() {
        let v = json!({
            "id": "lab-chain", "state": "stopped", "desired": "stopped", "container_id": null,
            "started_at": null, "health": "unknown", "unit_path": "/u/lab-chain.container",
            "installed_at": null, "error": null, "reason": null,
            "cascaded": ["lab-wallet", "lab-index"]
        });
        assert_eq!(
            Operated::from_reply("package.stop", &v),
            Ok(Operated {
                status: AppStatus {
                    id: id("lab-chain"),
                    state: AppState::Stopped,
                    desired: Some(Desired::Stopped),
                    health: Health::Unknown,
                    container_id: None,
                    started_at: None,
                    error: None,
                    reason: None,
                },
                cascaded: Some(vec![id("lab-wallet"), id("lab-index")]),
            })
        );
    }

    #[test]
    fn uninstall_and_update_replies_parse_and_refuse_what_does_not_fit() {
        let v = json!({"id": "lab-chain", "uninstalled": true, "purged": false, "cascaded": []});
        assert_eq!(
            Uninstalled::from_reply("package.uninstall", &v),
            Ok(Uninstalled {
                cascaded: Some(vec![])
            })
        );
        assert_eq!(
            Uninstalled::from_reply("package.uninstall", &json!({"cascaded": ["Bad"]}))
                .unwrap_err()
                .to_string(),
            "package.uninstall answered cascaded = [\"Bad\"], expected a list of app ids or null"
        );
        let v = json!({"id": "lab-chain", "changed": true, "restarted": true, "image": "localhost/lab-chain:v2"});
        assert_eq!(
            Updated::from_reply("package.update", &v),
            Ok(Updated {
                changed: true,
                restarted: true,
                image: "localhost/lab-chain:v2".into(),
            })
        );
        assert_eq!(
            Updated::from_reply("package.update", &json!({"changed": "yes"}))
                .unwrap_err()
                .to_string(),
            "package.update answered changed = \"yes\", expected true or false"
        );
    }
}
