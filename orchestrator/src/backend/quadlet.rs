//! The Quadlet backend: unit files in the user's Quadlet folder, driven by `systemctl --user`.
//!
//! The unit file carries the app's desired state: `[Install] WantedBy=default.target` iff it is
//! meant to run. Start and restart put that section in, stop takes it out (each time with a
//! `daemon-reload`, so Quadlet's generator adds or drops the `default.target` wants link), so
//! after a node reboot the user's systemd starts exactly the apps meant to run, with no
//! orchestrator involved. A write happens only when the text changes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::{Backend, BackendKind, Commands, Observed, Program, RunState, Then};
use crate::error::{Error, Result};
use crate::failpoints::{Regression, step};
use crate::fsutil::{PRIVATE, write_atomic};
use crate::manifest::{AppId, Manifest};
use crate::quadlet::{PodmanVersion, QuadletUnit, check_unit_text, desired_in, with_desired};
use crate::state::Desired;
use crate::time::{rfc3339, rfc3339_secs};

/// Runs apps as Quadlet `.container` units under the user's systemd.
pub struct QuadletBackend {
    unit_dir: PathBuf,
    runtime_dir: PathBuf,
    podman: PodmanVersion,
    cmd: Arc<Commands>,
}

impl QuadletBackend {
    /// A backend writing units to `unit_dir`; `runtime_dir` is `$XDG_RUNTIME_DIR` (Quadlet's `%t`).
    pub fn new(
        unit_dir: PathBuf,
        runtime_dir: PathBuf,
        podman: PodmanVersion,
        cmd: Arc<Commands>,
    ) -> Self {
        QuadletBackend {
            unit_dir,
            runtime_dir,
            podman,
            cmd,
        }
    }

    fn path(&self, id: &AppId) -> PathBuf {
        self.unit_dir.join(format!("{id}.container"))
    }

    fn systemctl(&self, verb: &str, id: &AppId) -> Result<()> {
        let unit = format!("{id}.service");
        let result = self.cmd.run(Program::Systemctl, &["--user", verb, &unit]);
        match result {
            // systemd refuses a start with result 'resources' ("Failed to spawn executor") when
            // it races the removal of the unit's previous cgroup right after a stop; seen in
            // nested containers. The start never ran (a restart's stop did), so one more start
            // is safe and counted. A start, never the verb again: the unit's own `Restart=` may
            // already be bringing it up, and `start` joins that, where a second restart would
            // stop the container systemd had just started (two starts for one operation).
            Err(e) if verb != "stop" && e.to_string().contains("unavailable resources") => {
                crate::log::warn(format!(
                    "{verb} {unit}: systemd had no resources; start once more"
                ));
                std::thread::sleep(std::time::Duration::from_millis(250));
                self.cmd
                    .run(Program::Systemctl, &["--user", "start", &unit])
                    .map(drop)
            }
            // An operator's start is not a crash loop: systemd's start limit (5 in 10 s) counts
            // both, so back-to-back installs would be refused. Clear it and start once more.
            Err(e) if verb != "stop" && e.to_string().contains("attempted too often") => {
                crate::log::warn(format!("{verb} {unit}: start limit hit; reset-failed"));
                self.cmd
                    .run(Program::Systemctl, &["--user", "reset-failed", &unit])?;
                self.cmd
                    .run(Program::Systemctl, &["--user", verb, &unit])
                    .map(drop)
            }
            other => other.map(drop),
        }
    }

    fn reload(&self) -> Result<()> {
        self.cmd
            .run(Program::Systemctl, &["--user", "daemon-reload"])
            .map(drop)
    }

    /// Writes `desired` into the unit's `[Install]` section and reloads, if it is not there yet.
    /// A corrupt unit is refused, never rewritten.
    fn mark(&self, id: &AppId, desired: Desired) -> Result<()> {
        let path = self.path(id);
        let text = std::fs::read_to_string(&path).map_err(Error::io(&path))?;
        check_unit_text(&text).map_err(|_| Error::InvalidUnit(id.to_string()))?;
        let marked = with_desired(&text, desired);
        if marked == text {
            return Ok(());
        }
        write_atomic(&path, marked.as_bytes(), PRIVATE)?;
        step("desired.after-unit-write");
        self.reload()
    }
}

impl Backend for QuadletBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Quadlet
    }

    fn install(&self, m: &Manifest) -> Result<()> {
        std::fs::create_dir_all(&self.unit_dir).map_err(Error::io(&self.unit_dir))?;
        let path = self.path(&m.id);
        let existed = path.exists();
        let text = self.render(m, Desired::Running);
        write_atomic(&path, text.as_bytes(), PRIVATE)?;
        step("install.after-unit-write");
        let result = self.reload().and_then(|()| self.systemctl("start", &m.id));
        if result.is_err() && !existed {
            // A first install that failed leaves nothing behind; the error says why.
            let _ = std::fs::remove_file(&path);
            let _ = self
                .cmd
                .run_status(Program::Systemctl, &["--user", "daemon-reload"]);
        }
        result
    }

    fn uninstall(&self, id: &AppId, purge_volumes: &[String]) -> Result<()> {
        let unit = format!("{id}.service");
        // A unit that is already gone or stopped must not block its removal.
        let _ = self
            .cmd
            .run_status(Program::Systemctl, &["--user", "stop", &unit])?;
        // Quadlet's stop removes the container; one left behind (a failed stop, a unit edited
        // by hand) would keep its name and ports, so it goes too. `-i`: none is not an error.
        self.cmd
            .run(Program::Podman, &["rm", "-f", "-i", id.as_str()])?;
        match std::fs::remove_file(self.path(id)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(Error::io(self.path(id))(e));
            }
            _ => {}
        }
        step("uninstall.after-unit-remove");
        self.reload()?;
        // A failed unit stays loaded after its file is gone until its failure is forgotten;
        // a unit that is not loaded makes this fail, which is the state wanted anyway.
        let _ = self
            .cmd
            .run_status(Program::Systemctl, &["--user", "reset-failed", &unit])?;
        remove_volumes(&self.cmd, purge_volumes)
    }

    fn start(&self, id: &AppId) -> Result<()> {
        self.mark(id, Desired::Running)?;
        self.systemctl("start", id)
    }

    fn stop(&self, id: &AppId) -> Result<()> {
        // REGRESSION SWITCH (issue 8): the old stop left `WantedBy=default.target` in the unit,
        // so the next boot started the app again.
        if !Regression::StoppedResurrects.active() {
            self.mark(id, Desired::Stopped)?;
        }
        self.systemctl("stop", id)?;
        // systemd 257 in nested containers sometimes cannot spawn a unit's `stop-post` cleanup
        // after the container is already gone, and marks the deliberately stopped unit
        // 'failed' (README, "A known fault of the lab"). A stopped app must read stopped, so
        // the failed flag is cleared; the journal keeps the record.
        self.cmd
            .run_status(
                Program::Systemctl,
                &["--user", "reset-failed", &format!("{id}.service")],
            )
            .map(drop)
    }

    fn restart(&self, id: &AppId) -> Result<()> {
        self.mark(id, Desired::Running)?;
        self.systemctl("restart", id)
    }

    fn record_desired(&self, id: &AppId, desired: Desired) -> Result<()> {
        self.mark(id, desired)
    }

    fn spec(&self, id: &AppId) -> Result<Option<String>> {
        let path = self.path(id);
        match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(path)(e)),
        }
    }

    fn render(&self, m: &Manifest, desired: Desired) -> String {
        QuadletUnit::from_manifest(m, &self.podman, desired).render()
    }

    fn apply(&self, id: &AppId, spec: &str, then: Then) -> Result<()> {
        write_atomic(&self.path(id), spec.as_bytes(), PRIVATE)?;
        step("update.after-unit-write");
        self.reload()?;
        match then {
            Then::Nothing => Ok(()),
            Then::Start => self.systemctl("start", id),
            Then::Restart => self.systemctl("restart", id),
        }
    }

    fn resync(&self) -> Result<()> {
        // At boot the user's manager is still starting the apps meant to run, and a reload in
        // the middle of a Type=notify start loses it: the unit fails with result 'protocol' and
        // its app stays down until the next repair (seen in the lab gate: 90 s). So the reload
        // waits for the manager's start-up to end, in whatever state it ends.
        self.cmd.run_status(
            Program::Systemctl,
            &["--user", "is-system-running", "--wait"],
        )?;
        self.reload()
    }

    fn observe(&self) -> Result<Vec<Observed>> {
        let mut apps = installed_units(&self.unit_dir)?;
        let valid: Vec<String> = apps
            .iter()
            .filter(|a| a.invalid.is_none())
            .map(|a| format!("{}.service", a.id))
            .collect();
        if valid.is_empty() {
            return Ok(apps);
        }
        let mut args = vec![
            "--user",
            "show",
            "--timestamp=unix",
            "-p",
            "Id,ActiveState,SubState,ActiveEnterTimestamp",
        ];
        args.extend(valid.iter().map(String::as_str));
        let out = self.cmd.run(Program::Systemctl, &args)?;
        for block in out.split("\n\n") {
            let prop = |k: &str| {
                block
                    .lines()
                    .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
                    .unwrap_or("")
            };
            let Some(app) = apps
                .iter_mut()
                .find(|a| prop("Id") == format!("{}.service", a.id))
            else {
                continue;
            };
            app.run = run_state(prop("ActiveState"));
            if matches!(app.run, RunState::Running | RunState::Starting) {
                app.started_at = started_at(prop("ActiveEnterTimestamp"));
                app.container_id = self.container_id(&app.id);
            }
        }
        Ok(apps)
    }

    fn unit_path(&self, id: &AppId) -> Option<PathBuf> {
        Some(self.path(id))
    }

    fn container_id(&self, id: &AppId) -> Option<String> {
        // Quadlet runs podman with --cidfile=%t/%N.cid.
        let text = std::fs::read_to_string(self.runtime_dir.join(format!("{id}.cid"))).ok()?;
        Some(text.trim().to_owned()).filter(|s| !s.is_empty())
    }
}

/// Every `<id>.container` in `dir` (the folder is the orchestrator's), checked but not yet observed.
fn installed_units(dir: &Path) -> Result<Vec<Observed>> {
    let entries = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        r => r.map_err(Error::io(dir))?,
    };
    let mut apps = Vec::new();
    for entry in entries {
        let path = entry.map_err(Error::io(dir))?.path();
        let Some(id) = path
            .file_name()
            .and_then(|n| n.to_str()?.strip_suffix(".container"))
            .and_then(|s| AppId::parse(s).ok())
        else {
            continue;
        };
        let read = std::fs::read(&path).map_err(|e| e.to_string());
        let text = read
            .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8 text".to_owned()))
            .and_then(|t| check_unit_text(&t).map(|()| t));
        let (invalid, desired) = match text {
            Ok(t) => (None, Some(desired_in(&t))),
            Err(why) => (Some(why), None),
        };
        let installed_at = std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .ok()
            .map(rfc3339);
        apps.push(Observed {
            id,
            invalid,
            run: RunState::Stopped,
            container_id: None,
            started_at: None,
            installed_at,
            desired,
        });
    }
    apps.sort_by(|a, b| a.id.cmp(&b.id));
    Ok(apps)
}

fn run_state(active: &str) -> RunState {
    match active {
        "active" | "reloading" | "refreshing" => RunState::Running,
        "activating" => RunState::Starting,
        "failed" => RunState::Failed,
        _ => RunState::Stopped,
    }
}

/// `@<unix seconds>` (from `--timestamp=unix`) as RFC 3339; any other non-empty text as is.
fn started_at(value: &str) -> Option<String> {
    match value.strip_prefix('@').map(str::parse::<u64>) {
        Some(Ok(secs)) => Some(rfc3339_secs(secs)),
        _ => Some(value.to_owned()).filter(|v| !v.is_empty() && v != "n/a"),
    }
}

/// Removes named volumes; one that is already gone is not an error.
pub(super) fn remove_volumes(cmd: &Commands, volumes: &[String]) -> Result<()> {
    if volumes.is_empty() {
        return Ok(());
    }
    let mut args = vec!["volume", "rm"];
    args.extend(volumes.iter().map(String::as_str));
    let out = cmd.run_status(Program::Podman, &args)?;
    let gone = out
        .stderr
        .lines()
        .all(|l| l.to_lowercase().contains("no such volume"));
    if out.success || gone {
        Ok(())
    } else {
        cmd.run(Program::Podman, &args).map(drop)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;
    use crate::backend::fake::RecordingExecutor;
    use crate::backend::{CommandOutput, Program};

    fn setup(
        name: &str,
        exec: RecordingExecutor,
    ) -> (QuadletBackend, Arc<RecordingExecutor>, PathBuf) {
        let dir = std::env::temp_dir().join(format!("orch-qb-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("run")).unwrap();
        let exec = Arc::new(exec);
        let cmd = Arc::new(Commands::new(exec.clone()));
        let b = QuadletBackend::new(
            dir.join("units"),
            dir.join("run"),
            PodmanVersion::new(5, 4, 2),
            cmd,
        );
        (b, exec, dir)
    }

    fn manifest(id: &str) -> Manifest {
        Manifest::from_toml(
            Path::new("t.toml"),
            &format!("id = \"{id}\"\nimage = \"img\"\n"),
        )
        .unwrap()
    }

    fn id(s: &str) -> AppId {
        AppId::parse(s).unwrap()
    }

    /// The unit of `manifest("web")` with `[Install]` iff `running`.
    fn web_unit(running: bool) -> String {
        let install = if running {
            "\n[Install]\nWantedBy=default.target\n"
        } else {
            ""
        };
        format!(
            "[Unit]\nDescription=orchestrator app web\n\n[Container]\nContainerName=web\nImage=img\nLabel=orchestrator.app=web\n\n[Service]\nRestart=on-failure\nTimeoutStartSec=900\n{install}"
        )
    }

    /// The unit file's text and permission bits.
    fn unit_file(dir: &Path) -> (String, u32) {
        let path = dir.join("units/web.container");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        (std::fs::read_to_string(path).unwrap(), mode)
    }

    #[test]
    fn install_writes_the_unit_0600_and_costs_two_systemctl_calls() {
        let (b, exec, dir) = setup("install", RecordingExecutor::ok());
        b.install(&manifest("web")).unwrap();
        assert_eq!(
            exec.calls(),
            [
                "systemctl --user daemon-reload",
                "systemctl --user start web.service"
            ]
        );
        assert_eq!(unit_file(&dir), (web_unit(true), 0o600));
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_first_install_leaves_no_unit() {
        let failing_start = RecordingExecutor::answering(|_, args| CommandOutput {
            success: args.get(1).map(String::as_str) != Some("start"),
            stdout: String::new(),
            stderr: "Job failed".into(),
        });
        let (b, exec, dir) = setup("failed", failing_start);
        let err = b.install(&manifest("web")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "failed to run `systemctl --user start web.service`: Job failed"
        );
        assert!(!dir.join("units/web.container").exists());
        assert_eq!(
            exec.calls(),
            [
                "systemctl --user daemon-reload",
                "systemctl --user start web.service",
                "systemctl --user daemon-reload"
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_start_limit_is_cleared_once_for_an_operator_start() {
        let first = std::sync::atomic::AtomicBool::new(true);
        let limited = RecordingExecutor::answering(move |_, args| {
            let start = args.get(1).map(String::as_str) == Some("start");
            let refuse = start && first.swap(false, std::sync::atomic::Ordering::SeqCst);
            CommandOutput {
                success: !refuse,
                stdout: String::new(),
                stderr: if refuse {
                    "Job for web.service failed because start of the service was attempted too often.".into()
                } else {
                    String::new()
                },
            }
        });
        let (b, exec, dir) = setup("limit", limited);
        std::fs::create_dir_all(dir.join("units")).unwrap();
        std::fs::write(dir.join("units/web.container"), web_unit(true)).unwrap();
        b.start(&id("web")).unwrap();
        assert_eq!(
            exec.calls(),
            [
                "systemctl --user start web.service",
                "systemctl --user reset-failed web.service",
                "systemctl --user start web.service"
            ]
        );
        std::fs::remove_dir_all(dir).ok();
    }

    #[test]
    fn a_restart_systemd_could_not_spawn_is_finished_with_a_start_not_a_second_restart() {
        let first = std::sync::atomic::AtomicBool::new(true);
        let no_resources = RecordingExecutor::answering(move |_, args| {
            let restart = args.get(1).map(String::as_str) == Some("restart");
            let refuse = restart && first.swap(false, std::sync::atomic::Ordering::SeqCst);
            CommandOutput {
                success: !refuse,
                stdout: String::new(),
                stderr: if refuse {
                    "Job for web.service failed because of unavailable resources or another system error.".into()
                } else {
                    String::new()
                },
            }
        });
        let (b, exec, dir) = setup("resources", no_resources);
        std::fs::create_dir_all(dir.join("units")).unwrap();
        std::fs::write(dir.join("units/web.container"), web_unit(true)).unwrap();
        b.restart(&id("web")).unwrap();
        assert_eq!(
            exec.calls(),
            [
                "systemctl --user restart web.service",
                "systemctl --user start web.service"
            ]
        );
        std::fs::remove_dir_all(dir).ok();
    }

    /// What a step does, the command lines it must run, and whether the unit then has [Install].
    type Step = (
        &'static str,
        fn(&QuadletBackend) -> Result<()>,
        &'static [&'static str],
        bool,
    );

    #[test]
    fn stop_start_and_restart_write_the_desired_state_into_install_only_when_it_changes() {
        let (b, exec, dir) = setup("desired", RecordingExecutor::ok());
        b.install(&manifest("web")).unwrap();
        let steps: [Step; 6] = [
            (
                "stop",
                |b| b.stop(&id("web")),
                &[
                    "systemctl --user daemon-reload",
                    "systemctl --user stop web.service",
                    "systemctl --user reset-failed web.service",
                ],
                false,
            ),
            (
                "stop again",
                |b| b.stop(&id("web")),
                &[
                    "systemctl --user stop web.service",
                    "systemctl --user reset-failed web.service",
                ],
                false,
            ),
            (
                "start",
                |b| b.start(&id("web")),
                &[
                    "systemctl --user daemon-reload",
                    "systemctl --user start web.service",
                ],
                true,
            ),
            (
                "restart of a running app",
                |b| b.restart(&id("web")),
                &["systemctl --user restart web.service"],
                true,
            ),
            (
                "record stopped",
                |b| b.record_desired(&id("web"), Desired::Stopped),
                &["systemctl --user daemon-reload"],
                false,
            ),
            (
                "restart of a stopped app",
                |b| b.restart(&id("web")),
                &[
                    "systemctl --user daemon-reload",
                    "systemctl --user restart web.service",
                ],
                true,
            ),
        ];
        for (what, op, calls, running) in steps {
            exec.clear();
            op(&b).unwrap();
            assert_eq!(exec.calls(), calls, "{what}");
            assert_eq!(unit_file(&dir), (web_unit(running), 0o600), "{what}");
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_corrupt_unit_is_refused_and_left_as_it_is() {
        let (b, exec, dir) = setup("corrupt", RecordingExecutor::ok());
        std::fs::create_dir_all(dir.join("units")).unwrap();
        std::fs::write(dir.join("units/web.container"), "\u{1}garbage").unwrap();
        for r in [
            b.stop(&id("web")),
            b.start(&id("web")),
            b.record_desired(&id("web"), Desired::Running),
        ] {
            assert_eq!(
                r.unwrap_err().to_string(),
                "failed to operate on `web`: its unit file is invalid"
            );
        }
        assert!(exec.calls().is_empty(), "{:?}", exec.calls());
        assert_eq!(
            std::fs::read_to_string(dir.join("units/web.container")).unwrap(),
            "\u{1}garbage"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn uninstall_leaves_no_container_no_unit_no_failed_unit_and_purges_only_when_asked() {
        let (b, exec, dir) = setup("uninstall", RecordingExecutor::ok());
        b.install(&manifest("web")).unwrap();
        exec.clear();
        b.uninstall(&id("web"), &[]).unwrap();
        assert_eq!(
            exec.calls(),
            [
                "systemctl --user stop web.service",
                "podman rm -f -i web",
                "systemctl --user daemon-reload",
                "systemctl --user reset-failed web.service"
            ]
        );
        assert!(!dir.join("units/web.container").exists());
        exec.clear();
        b.uninstall(&id("web"), &["web-data".into()]).unwrap();
        assert_eq!(
            exec.calls(),
            [
                "systemctl --user stop web.service",
                "podman rm -f -i web",
                "systemctl --user daemon-reload",
                "systemctl --user reset-failed web.service",
                "podman volume rm web-data"
            ]
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn uninstall_survives_a_unit_that_is_not_loaded() {
        let not_loaded = RecordingExecutor::answering(|_, args| CommandOutput {
            success: !args.iter().any(|a| a == "reset-failed" || a == "stop"),
            stdout: String::new(),
            stderr: "Unit web.service not loaded.".into(),
        });
        let (b, exec, dir) = setup("unloaded", not_loaded);
        b.uninstall(&id("web"), &[]).unwrap();
        assert_eq!(exec.calls().len(), 4, "{:?}", exec.calls());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn spec_is_the_unit_text_and_apply_writes_reloads_then_acts() {
        let (b, exec, dir) = setup("apply", RecordingExecutor::ok());
        assert_eq!(b.spec(&id("web")).unwrap(), None);
        b.install(&manifest("web")).unwrap();
        assert_eq!(b.spec(&id("web")).unwrap(), Some(web_unit(true)));
        assert_eq!(
            b.render(&manifest("web"), Desired::Stopped),
            web_unit(false)
        );
        let v2 = web_unit(true).replace("Image=img", "Image=img:v2");
        for (then, calls) in [
            (Then::Nothing, &["systemctl --user daemon-reload"][..]),
            (
                Then::Start,
                &[
                    "systemctl --user daemon-reload",
                    "systemctl --user start web.service",
                ][..],
            ),
            (
                Then::Restart,
                &[
                    "systemctl --user daemon-reload",
                    "systemctl --user restart web.service",
                ][..],
            ),
        ] {
            exec.clear();
            b.apply(&id("web"), &v2, then).unwrap();
            assert_eq!(exec.calls(), calls, "{then:?}");
            assert_eq!(unit_file(&dir), (v2.clone(), 0o600));
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn observe_reads_all_units_in_one_call_and_reports_corrupt_ones() {
        let show = "Id=a.service\nActiveState=active\nSubState=running\nActiveEnterTimestamp=@1795944600\n\n\
                    Id=b.service\nActiveState=failed\nSubState=failed\nActiveEnterTimestamp=\n";
        let (b, exec, dir) = setup(
            "observe",
            RecordingExecutor::answering(move |p, _| CommandOutput {
                success: true,
                stdout: if p == Program::Systemctl {
                    show.to_owned()
                } else {
                    String::new()
                },
                stderr: String::new(),
            }),
        );
        b.install(&manifest("a")).unwrap();
        b.install(&manifest("b")).unwrap();
        b.record_desired(&id("b"), Desired::Stopped).unwrap();
        std::fs::write(dir.join("units/c.container"), "\u{1}\u{2}garbage").unwrap();
        std::fs::write(dir.join("units/NOT-OURS.container"), "x").unwrap();
        std::fs::write(dir.join("run/a.cid"), "abc123\n").unwrap();
        exec.clear();
        let seen = b.observe().unwrap();
        assert_eq!(
            exec.calls(),
            [
                "systemctl --user show --timestamp=unix -p Id,ActiveState,SubState,ActiveEnterTimestamp a.service b.service"
            ]
        );
        let summary: Vec<_> = seen
            .iter()
            .map(|o| {
                (
                    o.id.as_str(),
                    o.run,
                    o.container_id.as_deref(),
                    o.started_at.as_deref(),
                    o.invalid.as_deref(),
                    o.desired,
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "a",
                    RunState::Running,
                    Some("abc123"),
                    Some("2026-11-29T09:30:00Z"),
                    None,
                    Some(Desired::Running)
                ),
                (
                    "b",
                    RunState::Failed,
                    None,
                    None,
                    None,
                    Some(Desired::Stopped)
                ),
                (
                    "c",
                    RunState::Stopped,
                    None,
                    None,
                    Some("line 1: not a [Section] or Key=value line"),
                    None
                ),
            ]
        );
        assert!(seen.iter().all(|o| o.installed_at.is_some()));
        std::fs::remove_dir_all(dir).unwrap();
    }
}
