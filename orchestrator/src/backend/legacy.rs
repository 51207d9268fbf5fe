//! The legacy backend: `podman create` + `podman start` from the orchestrator's own process, so
//! containers live in the orchestrator's cgroup and die with it (kept to demonstrate exactly that).
//!
//! It has no unit file, so an app's desired state lives only in the orchestrator's state file:
//! nothing on the node starts or keeps stopped an app without the orchestrator running. Its spec
//! (what an update compares and a rollback puts back) is the `podman create` argument list, read
//! back from the container's `Config.CreateCommand`.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::quadlet::remove_volumes;
use super::{Backend, BackendKind, Commands, Observed, Program, RunState, Then};
use crate::error::{Error, Result};
use crate::manifest::{AppId, Manifest, Network};
use crate::quadlet::APP_LABEL;
use crate::state::Desired;
use crate::time::rfc3339_secs;

/// Runs apps as plain podman containers labelled `orchestrator.app=<id>`.
pub struct LegacyBackend {
    cmd: Arc<Commands>,
}

impl LegacyBackend {
    /// A backend running podman through `cmd`.
    pub fn new(cmd: Arc<Commands>) -> Self {
        LegacyBackend { cmd }
    }

    fn podman(&self, args: &[&str]) -> Result<()> {
        // With the systemd cgroup manager and the user's bus in reach, rootless podman moves
        // conmon into a scope of the user's manager; cgroupfs (and the executor hiding the bus)
        // keeps it in the orchestrator's own service, as the legacy product had it.
        let mut all = vec!["--cgroup-manager=cgroupfs"];
        all.extend_from_slice(args);
        self.cmd.run(Program::Podman, &all).map(drop)
    }
}

/// The `podman create` arguments for `m`.
pub fn create_args(m: &Manifest) -> Vec<String> {
    let id = m.id.as_str();
    let mut a: Vec<String> = [
        "create",
        "--replace",
        "--name",
        id,
        "--label",
        &format!("{APP_LABEL}={id}"),
    ]
    .map(str::to_owned)
    .into();
    a.extend(["--restart".into(), m.restart.as_str().into()]);
    if m.network == Some(Network::Host) {
        a.extend(["--network".into(), "host".into()]);
    }
    if let Some(mib) = m.memory_mib {
        a.extend(["--memory".into(), format!("{mib}m")]);
    }
    m.ports
        .iter()
        .for_each(|p| a.extend(["-p".into(), p.to_string()]));
    m.volumes
        .iter()
        .for_each(|v| a.extend(["-v".into(), v.to_string()]));
    m.environment
        .iter()
        .for_each(|(k, v)| a.extend(["-e".into(), format!("{k}={v}")]));
    a.push(m.image.clone());
    a.extend(m.command.iter().cloned());
    a
}

impl Backend for LegacyBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Legacy
    }

    fn install(&self, m: &Manifest) -> Result<()> {
        let args = create_args(m);
        self.podman(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
        self.podman(&["start", m.id.as_str()])
    }

    fn uninstall(&self, id: &AppId, purge_volumes: &[String]) -> Result<()> {
        self.podman(&["rm", "-f", "-i", id.as_str()])?;
        remove_volumes(&self.cmd, purge_volumes)
    }

    fn start(&self, id: &AppId) -> Result<()> {
        self.podman(&["start", id.as_str()])
    }

    fn stop(&self, id: &AppId) -> Result<()> {
        self.podman(&["stop", id.as_str()])
    }

    fn restart(&self, id: &AppId) -> Result<()> {
        self.podman(&["restart", id.as_str()])
    }

    fn record_desired(&self, _: &AppId, _: Desired) -> Result<()> {
        // Nothing on the node reads it: the state file is the only record (module doc).
        Ok(())
    }

    fn spec(&self, id: &AppId) -> Result<Option<String>> {
        let out = self.cmd.run_status(
            Program::Podman,
            &[
                "container",
                "inspect",
                "--format",
                "{{json .Config.CreateCommand}}",
                id.as_str(),
            ],
        )?;
        if !out.success {
            // No such container: the app has no spec to compare or put back.
            return Ok(None);
        }
        let argv: Vec<String> = serde_json::from_str(out.stdout.trim())
            .map_err(|e| Error::Internal(format!("podman inspect printed bad JSON: {e}")))?;
        // argv is `podman [global options] create ...`; the spec starts at `create`.
        let args: Vec<String> = argv.into_iter().skip_while(|a| a != "create").collect();
        Ok(Some(spec_text(&args)))
    }

    fn render(&self, m: &Manifest, _: Desired) -> String {
        spec_text(&create_args(m))
    }

    fn apply(&self, id: &AppId, spec: &str, then: Then) -> Result<()> {
        let args: Vec<String> = serde_json::from_str(spec)
            .map_err(|e| Error::Internal(format!("bad legacy spec for {id}: {e}")))?;
        if args.first().map(String::as_str) != Some("create") {
            return Err(Error::Internal(format!(
                "bad legacy spec for {id}: not a create"
            )));
        }
        // `create --replace` removes the running container, so a start runs the new one.
        self.podman(&args.iter().map(String::as_str).collect::<Vec<_>>())?;
        match then {
            Then::Nothing => Ok(()),
            Then::Start | Then::Restart => self.podman(&["start", id.as_str()]),
        }
    }

    fn resync(&self) -> Result<()> {
        // Its specs live in podman's own containers: there is nothing to load.
        Ok(())
    }

    fn observe(&self) -> Result<Vec<Observed>> {
        let out = self.cmd.run(
            Program::Podman,
            &[
                "ps",
                "-a",
                "--format",
                "json",
                "--filter",
                &format!("label={APP_LABEL}"),
            ],
        )?;
        let list: Vec<Value> = serde_json::from_str(out.trim()).or_else(|e| {
            if out.trim().is_empty() {
                Ok(Vec::new())
            } else {
                Err(Error::Internal(format!("podman ps printed bad JSON: {e}")))
            }
        })?;
        let mut apps: Vec<Observed> = list.iter().filter_map(observed).collect();
        apps.sort_by(|a, b| a.id.cmp(&b.id));
        apps.dedup_by(|a, b| a.id == b.id);
        Ok(apps)
    }

    fn unit_path(&self, _: &AppId) -> Option<PathBuf> {
        None
    }

    fn container_id(&self, _: &AppId) -> Option<String> {
        None
    }
}

/// A create argument list as spec text (a JSON array: exact, and parsed back by `apply`).
fn spec_text(args: &[String]) -> String {
    serde_json::to_string(args).unwrap_or_default()
}

/// One `podman ps --format json` entry as an observed app.
fn observed(c: &Value) -> Option<Observed> {
    let id = AppId::parse(c["Labels"][APP_LABEL].as_str()?).ok()?;
    let run = match (
        c["State"].as_str().unwrap_or(""),
        c["ExitCode"].as_i64().unwrap_or(0),
    ) {
        ("running", _) => RunState::Running,
        ("created" | "initialized", _) => RunState::Starting,
        ("exited" | "stopped", 0) => RunState::Stopped,
        ("exited" | "stopped", _) => RunState::Failed,
        _ => RunState::Stopped,
    };
    let secs = |k: &str| c[k].as_u64().filter(|&s| s > 0).map(rfc3339_secs);
    let up = run == RunState::Running;
    Some(Observed {
        id,
        invalid: None,
        run,
        container_id: up.then(|| c["Id"].as_str().map(str::to_owned)).flatten(),
        started_at: up.then(|| secs("StartedAt")).flatten(),
        installed_at: secs("Created"),
        desired: None,
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::backend::CommandOutput;
    use crate::backend::fake::RecordingExecutor;

    #[test]
    fn install_creates_and_starts_from_our_own_process() {
        let exec = Arc::new(RecordingExecutor::ok());
        let b = LegacyBackend::new(Arc::new(Commands::new(exec.clone())));
        let text = "id = \"web\"\nimage = \"img\"\ncommand = [\"serve\"]\nports = [\"80:8080\"]\nvolumes = [\"d:/data\"]\nmemory = \"64m\"\nnetwork = \"host\"\n[environment]\nK = \"v\"\n";
        b.install(&Manifest::from_toml(Path::new("t"), text).unwrap())
            .unwrap();
        assert_eq!(
            exec.calls(),
            [
                "podman --cgroup-manager=cgroupfs create --replace --name web --label orchestrator.app=web --restart on-failure --network host --memory 64m -p 80:8080 -v d:/data -e K=v img serve",
                "podman --cgroup-manager=cgroupfs start web"
            ]
        );
    }

    #[test]
    fn observe_maps_podman_ps_in_one_call() {
        let ps = r#"[{"Id":"c1","State":"running","ExitCode":0,"StartedAt":1795944600,"Created":1795944500,"Labels":{"orchestrator.app":"web"}},
                     {"Id":"c2","State":"exited","ExitCode":1,"StartedAt":1795944600,"Created":1795944500,"Labels":{"orchestrator.app":"db"}},
                     {"Id":"c3","State":"running","Labels":{"other":"x"}}]"#;
        let exec = Arc::new(RecordingExecutor::answering(move |_, _| CommandOutput {
            success: true,
            stdout: ps.into(),
            stderr: String::new(),
        }));
        let b = LegacyBackend::new(Arc::new(Commands::new(exec.clone())));
        let seen = b.observe().unwrap();
        assert_eq!(
            exec.calls(),
            ["podman ps -a --format json --filter label=orchestrator.app"]
        );
        let summary: Vec<_> = seen
            .iter()
            .map(|o| {
                (
                    o.id.as_str(),
                    o.run,
                    o.container_id.as_deref(),
                    o.started_at.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("db", RunState::Failed, None, None),
                (
                    "web",
                    RunState::Running,
                    Some("c1"),
                    Some("2026-11-29T09:30:00Z")
                )
            ]
        );
    }

    fn id(s: &str) -> AppId {
        AppId::parse(s).unwrap()
    }

    #[test]
    fn start_stop_restart_uninstall_are_one_podman_call_each_and_desired_is_not_on_the_node() {
        let exec = Arc::new(RecordingExecutor::ok());
        let b = LegacyBackend::new(Arc::new(Commands::new(exec.clone())));
        let web = id("web");
        b.stop(&web).unwrap();
        b.start(&web).unwrap();
        b.restart(&web).unwrap();
        b.record_desired(&web, Desired::Stopped).unwrap();
        b.uninstall(&web, &[]).unwrap();
        b.uninstall(&web, &["web-data".into()]).unwrap();
        assert_eq!(
            exec.calls(),
            [
                "podman --cgroup-manager=cgroupfs stop web",
                "podman --cgroup-manager=cgroupfs start web",
                "podman --cgroup-manager=cgroupfs restart web",
                "podman --cgroup-manager=cgroupfs rm -f -i web",
                "podman --cgroup-manager=cgroupfs rm -f -i web",
                "podman volume rm web-data"
            ]
        );
        assert_eq!(b.unit_path(&web), None);
    }

    #[test]
    fn spec_is_the_create_command_and_apply_recreates_then_starts() {
        let inspect = r#"["podman","--cgroup-manager=cgroupfs","create","--replace","--name","web","img:v1"]"#;
        let exec = Arc::new(RecordingExecutor::answering(move |_, args| CommandOutput {
            success: args.last().map(String::as_str) != Some("gone"),
            stdout: inspect.into(),
            stderr: "no such container".into(),
        }));
        let b = LegacyBackend::new(Arc::new(Commands::new(exec.clone())));
        let v1 = r#"["create","--replace","--name","web","img:v1"]"#;
        assert_eq!(b.spec(&id("web")).unwrap().as_deref(), Some(v1));
        assert_eq!(b.spec(&id("gone")).unwrap(), None);
        let m = Manifest::from_toml(Path::new("t"), "id = \"web\"\nimage = \"img:v2\"\n").unwrap();
        let v2 = b.render(&m, Desired::Stopped);
        assert_eq!(
            v2,
            r#"["create","--replace","--name","web","--label","orchestrator.app=web","--restart","on-failure","img:v2"]"#
        );
        assert_eq!(
            b.render(&m, Desired::Running),
            v2,
            "desired is not in the spec"
        );
        exec.clear();
        b.apply(&id("web"), &v2, Then::Restart).unwrap();
        b.apply(&id("web"), v1, Then::Nothing).unwrap();
        assert_eq!(
            exec.calls(),
            [
                "podman --cgroup-manager=cgroupfs create --replace --name web --label orchestrator.app=web --restart on-failure img:v2",
                "podman --cgroup-manager=cgroupfs start web",
                "podman --cgroup-manager=cgroupfs create --replace --name web img:v1"
            ]
        );
        assert!(
            b.apply(&id("web"), r#"["rm","-f","web"]"#, Then::Nothing)
                .is_err()
        );
    }
}
