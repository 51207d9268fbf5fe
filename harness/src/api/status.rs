//! `AppStatus`: one app as `package.status`, `container-list` and the operations report it, with
//! its words `AppState`, `Desired` and `Health` (README "Lifecycle semantics").

use std::fmt;

use serde::Deserialize;
use serde_json::Value;

use super::{
    FromReply, ReplyError,
    wire::{Fields, Word},
};
use crate::model::AppId;

/// An app's state as the API reports it (`degraded` is a health, not a state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AppState {
    /// Up.
    Running,
    /// Being started.
    Starting,
    /// Not running.
    Stopped,
    /// Exited with an error.
    Failed,
    /// Its unit file is corrupt.
    Invalid,
    /// Known to the catalog, not installed.
    NotInstalled,
}

impl AppState {
    /// Every state.
    pub const ALL: [AppState; 6] = [
        AppState::Running,
        AppState::Starting,
        AppState::Stopped,
        AppState::Failed,
        AppState::Invalid,
        AppState::NotInstalled,
    ];

    /// The state as the JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            AppState::Running => "running",
            AppState::Starting => "starting",
            AppState::Stopped => "stopped",
            AppState::Failed => "failed",
            AppState::Invalid => "invalid",
            AppState::NotInstalled => "not-installed",
        }
    }
}

/// Whether the user wants an app running: what the reconciler and a reboot hold it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Desired {
    /// Keep it running.
    Running,
    /// Leave it stopped.
    Stopped,
}

impl Desired {
    /// Every desired state.
    pub const ALL: [Desired; 2] = [Desired::Running, Desired::Stopped];

    /// The desired state as the JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Desired::Running => "running",
            Desired::Stopped => "stopped",
        }
    }
}

/// The outcome of the app's last health check, as reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Health {
    /// The check passed.
    Healthy,
    /// The check failed.
    Unhealthy,
    /// Not checked yet, not running, or no check defined.
    Unknown,
    /// Running, but a requirement is not running or unhealthy (see `reason`).
    Degraded,
}

impl Health {
    /// Every health.
    pub const ALL: [Health; 4] = [
        Health::Healthy,
        Health::Unhealthy,
        Health::Unknown,
        Health::Degraded,
    ];

    /// The health as the JSON spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Unhealthy => "unhealthy",
            Health::Unknown => "unknown",
            Health::Degraded => "degraded",
        }
    }
}

impl Word for AppState {
    fn spellings() -> Vec<&'static str> {
        Self::ALL.map(Self::as_str).to_vec()
    }
}

impl Word for Desired {
    fn spellings() -> Vec<&'static str> {
        Self::ALL.map(Self::as_str).to_vec()
    }
}

impl Word for Health {
    fn spellings() -> Vec<&'static str> {
        Self::ALL.map(Self::as_str).to_vec()
    }
}

impl fmt::Display for AppState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Desired {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Health {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One app as the API reports it. Only what the harness reads; other fields are ignored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppStatus {
    /// The app.
    pub id: AppId,
    /// Its observed state.
    pub state: AppState,
    /// Whether it is meant to run; `None` when not installed (null) or not reported.
    pub desired: Option<Desired>,
    /// Its last health check's outcome.
    pub health: Health,
    /// The running container's id, when there is one.
    pub container_id: Option<String>,
    /// When it last became active.
    pub started_at: Option<String>,
    /// Why it is invalid or failed, if known.
    pub error: Option<String>,
    /// Why it is `degraded`; `None` otherwise.
    pub reason: Option<String>,
}

impl AppStatus {
    /// Checks one app object of a reply.
    pub(crate) fn from_fields(f: &Fields<'_>) -> Result<Self, ReplyError> {
        Ok(Self {
            id: f.app_id("id")?,
            state: f.word("state")?,
            desired: f.opt_word("desired")?,
            health: f.word("health")?,
            container_id: f.opt_string("container_id")?,
            started_at: f.opt_string("started_at")?,
            error: f.opt_string("error")?,
            reason: f.opt_string("reason")?,
        })
    }
}

/// `package.status`'s result.
impl FromReply for AppStatus {
    fn from_reply(method: &str, result: &Value) -> Result<Self, ReplyError> {
        Self::from_fields(&Fields::result(method, result)?)
    }
}

/// `container-list`'s result: every installed app, in the API's order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppList {
    /// The installed apps.
    pub apps: Vec<AppStatus>,
}

impl AppList {
    /// The entry of `app`, when it is listed.
    pub fn get(&self, app: &AppId) -> Option<&AppStatus> {
        self.apps.iter().find(|a| a.id == *app)
    }
}

impl FromReply for AppList {
    fn from_reply(method: &str, result: &Value) -> Result<Self, ReplyError> {
        let apps = Fields::result(method, result)?
            .objects("apps")?
            .iter()
            .map(AppStatus::from_fields)
            .collect::<Result<_, _>>()?;
        Ok(Self { apps })
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn id(s: &str) -> AppId {
        AppId::new(s).unwrap()
    }

    /// A running app as orchestrator/src/status.rs serializes it (every field, nulls included).
    fn running() -> Value {
        json!({
            "id": "lab-chain",
            "state": "running",
            "desired": "running",
            "container_id": "3f9a7c1e5b2d4f608a1c3e5b7d9f1a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f",
            "started_at": "2026-11-30T03:07:24Z",
            "health": "healthy",
            "unit_path": "/home/archy/.config/containers/systemd/lab-chain.container",
            "installed_at": "2026-11-29T09:30:00Z",
            "error": null,
            "reason": null
        })
    }

    #[test]
    fn a_real_status_reply_parses() {
        assert_eq!(
            AppStatus::from_reply("package.status", &running()),
            Ok(AppStatus {
                id: id("lab-chain"),
                state: AppState::Running,
                desired: Some(Desired::Running),
                health: Health::Healthy,
                container_id: Some(
                    "3f9a7c1e5b2d4f608a1c3e5b7d9f1a2c4e6b8d0f2a4c6e8b0d2f4a6c8e0b2d4f".into()
                ),
                started_at: Some("2026-11-30T03:07:24Z".into()),
                error: None,
                reason: None,
            })
        );
    }

    #[test]
    fn a_not_installed_and_a_degraded_app_parse() {
        let not_installed = json!({
            "id": "lab-wallet", "state": "not-installed", "desired": null, "container_id": null,
            "started_at": null, "health": "unknown", "unit_path": "", "installed_at": null,
            "error": null, "reason": null
        });
        assert_eq!(
            AppStatus::from_reply("package.status", &not_installed),
            Ok(AppStatus {
                id: id("lab-wallet"),
                state: AppState::NotInstalled,
                desired: None,
                health: Health::Unknown,
                container_id: None,
                started_at: None,
                error: None,
                reason: None,
            })
        );
        let mut degraded = running();
        degraded["health"] = json!("degraded");
        degraded["reason"] = json!("requires lab-chain, which is not running");
        let st = AppStatus::from_reply("package.status", &degraded).unwrap();
        assert_eq!(
            (st.health, st.reason.as_deref()),
            (
                Health::Degraded,
                Some("requires lab-chain, which is not running")
            )
        );
    }

    #[test]
    fn an_unknown_state_is_refused_naming_method_field_and_value() {
        let mut v = running();
        v["state"] = json!("paused");
        assert_eq!(
            AppStatus::from_reply("package.status", &v)
                .unwrap_err()
                .to_string(),
            "package.status answered state = \"paused\", expected one of running, starting, \
             stopped, failed, invalid, not-installed"
        );
        v["state"] = json!("running");
        v["desired"] = json!("later");
        assert_eq!(
            AppStatus::from_reply("package.status", &v)
                .unwrap_err()
                .to_string(),
            "package.status answered desired = \"later\", expected one of running, stopped, or null"
        );
    }

    #[test]
    fn a_missing_id_or_an_id_that_is_no_app_id_is_refused() {
        let mut v = running();
        v.as_object_mut().unwrap().remove("id");
        assert_eq!(
            AppStatus::from_reply("package.status", &v),
            Err(ReplyError::Missing {
                method: "package.status".into(),
                field: "id".into(),
                expected: "an app id".into(),
            })
        );
        v["id"] = json!("../etc");
        assert_eq!(
            AppStatus::from_reply("package.status", &v)
                .unwrap_err()
                .to_string(),
            "package.status answered id = \"../etc\", expected an app id"
        );
    }

    #[test]
    fn a_list_names_the_entry_that_does_not_fit() {
        let mut bad = running();
        bad["health"] = json!("fine");
        let v = json!({"apps": [running(), bad]});
        assert_eq!(
            AppList::from_reply("container-list", &v)
                .unwrap_err()
                .to_string(),
            "container-list answered apps[1].health = \"fine\", expected one of healthy, \
             unhealthy, unknown, degraded"
        );
        let list = AppList::from_reply("container-list", &json!({"apps": [running()]})).unwrap();
        assert_eq!(
            list.get(&id("lab-chain")).map(|a| a.state),
            Some(AppState::Running)
        );
        assert_eq!(list.get(&id("lab-wallet")), None);
    }

    #[test]
    fn every_word_is_spelled_as_serde_reads_it() {
        for s in AppState::ALL {
            assert_eq!(
                serde_json::from_value::<AppState>(json!(s.as_str())).unwrap(),
                s
            );
            assert_eq!(s.to_string(), s.as_str());
        }
        for d in Desired::ALL {
            assert_eq!(
                serde_json::from_value::<Desired>(json!(d.as_str())).unwrap(),
                d
            );
        }
        for h in Health::ALL {
            assert_eq!(
                serde_json::from_value::<Health>(json!(h.as_str())).unwrap(),
                h
            );
        }
    }
}
