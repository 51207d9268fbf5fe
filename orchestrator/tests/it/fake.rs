//! A fake `Backend` answered from memory, recording when each call ran (for the lock test).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use orchestrator::backend::{Backend, BackendKind, Observed, RunState, Then};
use orchestrator::manifest::{AppId, Manifest};
use orchestrator::state::Desired;
use orchestrator::{Error, Result};

/// One recorded call: what, which app, when it began and ended.
#[derive(Clone, Debug)]
pub struct Call {
    pub what: &'static str,
    pub app: String,
    pub began: Instant,
    pub ended: Instant,
}

/// In-memory apps; `fail_on` makes calls for that app fail like a command would.
#[derive(Default)]
pub struct FakeBackend {
    pub apps: Mutex<BTreeMap<AppId, Observed>>,
    pub calls: Mutex<Vec<Call>>,
    pub delay: Duration,
    pub fail_on: Option<String>,
    /// Each app's spec: `image=<image> desired=<desired>`.
    pub specs: Mutex<BTreeMap<AppId, String>>,
}

impl FakeBackend {
    fn act(
        &self,
        what: &'static str,
        id: &AppId,
        f: impl FnOnce(&mut BTreeMap<AppId, Observed>),
    ) -> Result<()> {
        let began = Instant::now();
        std::thread::sleep(self.delay);
        if self.fail_on.as_deref() == Some(id.as_str()) {
            return Err(Error::Command {
                command: format!("systemctl --user {what} {id}.service"),
                stderr: "Job failed".into(),
            });
        }
        f(&mut self.apps.lock().unwrap());
        self.calls.lock().unwrap().push(Call {
            what,
            app: id.to_string(),
            began,
            ended: Instant::now(),
        });
        Ok(())
    }

    fn set(&self, what: &'static str, id: &AppId, run: RunState) -> Result<()> {
        self.act(what, id, |apps| {
            if let Some(o) = apps.get_mut(id) {
                o.run = run;
            }
        })
    }

    /// Puts an app straight into the runtime (as if installed before).
    pub fn seed(&self, id: &str, run: RunState, invalid: Option<&str>) {
        let id = AppId::parse(id).unwrap();
        let o = Observed {
            id: id.clone(),
            invalid: invalid.map(str::to_owned),
            run,
            container_id: None,
            started_at: None,
            installed_at: Some("2026-11-29T09:00:00Z".into()),
            desired: None,
        };
        self.apps.lock().unwrap().insert(id, o);
    }

    pub fn run_state(&self, id: &str) -> Option<RunState> {
        self.apps
            .lock()
            .unwrap()
            .get(&AppId::parse(id).unwrap())
            .map(|o| o.run)
    }
}

impl Backend for FakeBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Quadlet
    }
    fn install(&self, m: &Manifest) -> Result<()> {
        let id = m.id.clone();
        self.act("install", &m.id, |apps| {
            let o = Observed {
                id: id.clone(),
                invalid: None,
                run: RunState::Running,
                container_id: Some("c0ffee".into()),
                started_at: None,
                installed_at: None,
                desired: None,
            };
            apps.insert(id, o);
        })?;
        let spec = self.render(m, Desired::Running);
        self.specs.lock().unwrap().insert(m.id.clone(), spec);
        Ok(())
    }
    fn uninstall(&self, id: &AppId, _: &[String]) -> Result<()> {
        self.act("uninstall", id, |apps| {
            apps.remove(id);
        })
    }
    fn start(&self, id: &AppId) -> Result<()> {
        self.set("start", id, RunState::Running)
    }
    fn stop(&self, id: &AppId) -> Result<()> {
        self.set("stop", id, RunState::Stopped)
    }
    fn restart(&self, id: &AppId) -> Result<()> {
        self.set("restart", id, RunState::Running)
    }
    fn record_desired(&self, id: &AppId, _: Desired) -> Result<()> {
        self.act("record_desired", id, |_| {})
    }
    fn spec(&self, id: &AppId) -> Result<Option<String>> {
        Ok(self.specs.lock().unwrap().get(id).cloned())
    }
    fn render(&self, m: &Manifest, desired: Desired) -> String {
        format!("image={} desired={desired:?}", m.image)
    }
    fn apply(&self, id: &AppId, spec: &str, then: Then) -> Result<()> {
        let what = match then {
            Then::Nothing => "apply",
            Then::Start => "apply+start",
            Then::Restart => "apply+restart",
        };
        self.act(what, id, |apps| {
            if let (Some(o), true) = (apps.get_mut(id), then != Then::Nothing) {
                o.run = RunState::Running;
            }
        })?;
        self.specs
            .lock()
            .unwrap()
            .insert(id.clone(), spec.to_owned());
        Ok(())
    }
    fn resync(&self) -> Result<()> {
        Ok(())
    }
    fn observe(&self) -> Result<Vec<Observed>> {
        Ok(self.apps.lock().unwrap().values().cloned().collect())
    }
    fn unit_path(&self, id: &AppId) -> Option<PathBuf> {
        Some(PathBuf::from(format!("/units/{id}.container")))
    }
    fn container_id(&self, _: &AppId) -> Option<String> {
        Some("c0ffee".into())
    }
}
