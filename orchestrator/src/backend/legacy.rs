//! The legacy backend: `podman create` + `podman start` from the orchestrator's own process, so
//! containers live in the orchestrator's cgroup and die with it (kept to demonstrate exactly that).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;

use super::quadlet::remove_volumes;
use super::{Backend, BackendKind, Commands, Observed, Program, RunState};
use crate::error::{Error, Result};
use crate::manifest::{AppId, Manifest, Network};
use crate::quadlet::APP_LABEL;
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
        // conmon into a scope of the user's manager; cgroupfs (and the runner hiding the bus)
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
    })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::backend::CommandOutput;
    use crate::backend::fake::RecordingRunner;

    #[test]
    fn install_creates_and_starts_from_our_own_process() {
        let runner = Arc::new(RecordingRunner::ok());
        let b = LegacyBackend::new(Arc::new(Commands::new(runner.clone())));
        let text = "id = \"web\"\nimage = \"img\"\ncommand = [\"serve\"]\nports = [\"80:8080\"]\nvolumes = [\"d:/data\"]\nmemory = \"64m\"\nnetwork = \"host\"\n[environment]\nK = \"v\"\n";
        b.install(&Manifest::from_toml(Path::new("t"), text).unwrap())
            .unwrap();
        assert_eq!(
            runner.calls(),
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
        let runner = Arc::new(RecordingRunner::answering(move |_, _| CommandOutput {
            success: true,
            stdout: ps.into(),
            stderr: String::new(),
        }));
        let b = LegacyBackend::new(Arc::new(Commands::new(runner.clone())));
        let seen = b.observe().unwrap();
        assert_eq!(
            runner.calls(),
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
}
