//! A test rig: the orchestrator over a REAL backend (Quadlet or legacy) whose `systemctl` and
//! `podman` are answered by a small simulated node, with every command line recorded. Shared by
//! the `it` and `regression` test binaries.

// Each binary uses a different part of the rig.
#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use orchestrator::backend::fake::RecordingExecutor;
use orchestrator::backend::{
    Backend, CommandOutput, Commands, LegacyBackend, Program, QuadletBackend,
};
use orchestrator::manifest::{AppId, Catalog, Manifest};
use orchestrator::ops::Orchestrator;
use orchestrator::quadlet::PodmanVersion;

/// Which backend a rig runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// `QuadletBackend`.
    Quadlet,
    /// `LegacyBackend`.
    Legacy,
}

/// What the simulated node knows: active units, legacy containers, and test knobs.
#[derive(Default)]
pub struct Node {
    /// Quadlet units that are active.
    pub active: BTreeSet<String>,
    /// Legacy containers: their create arguments (from `create` on) and whether they run.
    pub containers: BTreeMap<String, (Vec<String>, bool)>,
    /// Apps whose health command (`podman exec`) fails.
    pub unhealthy: BTreeSet<String>,
    /// Quadlet units as systemd loaded them at the last `daemon-reload`, by service name: a unit
    /// written since is not known until the next one (`start` says "not found").
    pub loaded: BTreeMap<String, String>,
    /// The unit text each active unit was (re)started from.
    pub started_from: BTreeMap<String, String>,
    /// How long `podman ps` takes after reading the containers (its answer is from then).
    pub ps_delay: Option<std::time::Duration>,
}

/// The orchestrator, its recorded commands, its simulated node and its folder.
pub struct Rig {
    pub kind: Kind,
    pub core: Arc<Orchestrator>,
    pub exec: Arc<RecordingExecutor>,
    pub node: Arc<Mutex<Node>>,
    pub dir: PathBuf,
    commands: Arc<Commands>,
    /// Whether dropping the rig removes its folder (not for a restarted rig sharing it).
    owns_dir: bool,
}

/// A fresh, empty folder per rig.
pub fn fresh_dir(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "orch-rig-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("run")).unwrap();
    std::fs::create_dir_all(dir.join("override")).unwrap();
    dir
}

pub fn id(s: &str) -> AppId {
    AppId::parse(s).unwrap()
}

pub fn manifest(text: &str) -> Manifest {
    Manifest::from_toml(Path::new("t.toml"), text).unwrap()
}

/// A lab-like stack: chain <- wallet, index; explorer requires chain and index; web stands alone.
/// Every app has a `podman exec <id> check` health check and a 1 s start budget.
pub fn stack_catalog() -> Catalog {
    let app = |id: &str, requires: &str, extra: &str| {
        manifest(&format!(
            "id = \"{id}\"\nimage = \"localhost/lab-app:v1\"\nrequires = [{requires}]\n{extra}[health]\ncommand = [\"check\"]\nstart_budget_secs = 1\n"
        ))
    };
    Catalog::from_manifests([
        app("chain", "", "volumes = [\"chain-data:/data\"]\n"),
        app("wallet", "\"chain\"", ""),
        app("index", "\"chain\"", ""),
        app("explorer", "\"chain\", \"index\"", ""),
        app("web", "", "volumes = [\"web-data:/data\"]\n"),
    ])
}

fn ok(stdout: impl Into<String>) -> CommandOutput {
    CommandOutput {
        success: true,
        stdout: stdout.into(),
        stderr: String::new(),
    }
}

fn fail(stderr: &str) -> CommandOutput {
    CommandOutput {
        success: false,
        stdout: String::new(),
        stderr: stderr.into(),
    }
}

/// Answers one command line as the simulated node would.
fn answer(node: &Mutex<Node>, units: &Path, program: Program, args: &[String]) -> CommandOutput {
    let mut n = node.lock().unwrap();
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    match (program, a.as_slice()) {
        (Program::Systemctl, ["--user", "show", _, _, _, units @ ..]) => ok(units
            .iter()
            .map(|u| {
                let state = if n.active.contains(*u) {
                    "active"
                } else {
                    "inactive"
                };
                format!(
                    "Id={u}\nActiveState={state}\nSubState=x\nActiveEnterTimestamp=@1795944600\n"
                )
            })
            .collect::<Vec<_>>()
            .join("\n")),
        (Program::Systemctl, ["--user", verb @ ("start" | "restart"), unit]) => {
            let Some(text) = n.loaded.get(*unit).cloned() else {
                return fail(&format!("Failed to {verb} {unit}: Unit {unit} not found."));
            };
            if *verb == "restart" || !n.active.contains(*unit) {
                n.started_from.insert((*unit).to_owned(), text);
            }
            n.active.insert((*unit).to_owned());
            ok("")
        }
        (Program::Systemctl, ["--user", "daemon-reload"]) => {
            n.loaded = std::fs::read_dir(units)
                .into_iter()
                .flatten()
                .filter_map(|e| {
                    let path = e.ok()?.path();
                    let app = path.file_name()?.to_str()?.strip_suffix(".container")?;
                    let text = std::fs::read_to_string(&path).ok()?;
                    Some((format!("{app}.service"), text))
                })
                .collect();
            ok("")
        }
        (Program::Systemctl, ["--user", "stop", unit]) => {
            n.active.remove(*unit);
            ok("")
        }
        (Program::Systemctl, ["--user", "reset-failed", ..]) => ok(""),
        (Program::Podman, ["exec", app, ..]) if n.unhealthy.contains(*app) => fail("unhealthy"),
        (Program::Podman, ["exec", ..] | ["volume", "rm", ..] | ["rm", "-f", "-i", _]) => ok(""),
        (Program::Podman, ["container", "inspect", _, _, name]) => match n.containers.get(*name) {
            Some((create, _)) => {
                let mut argv = vec!["podman".to_owned(), "--cgroup-manager=cgroupfs".to_owned()];
                argv.extend(create.iter().cloned());
                ok(serde_json::to_string(&argv).unwrap())
            }
            None => fail("no such container"),
        },
        (Program::Podman, ["--cgroup-manager=cgroupfs", rest @ ..]) => match rest {
            ["create", "--replace", "--name", name, ..] => {
                let create = rest.iter().map(|s| (*s).to_owned()).collect();
                n.containers.insert((*name).to_owned(), (create, false));
                ok("")
            }
            ["start" | "restart", name] | ["stop", name] => {
                let up = rest[0] != "stop";
                match n.containers.get_mut(*name) {
                    Some(c) => {
                        c.1 = up;
                        ok("")
                    }
                    None => fail("no such container"),
                }
            }
            ["rm", "-f", "-i", name] => {
                n.containers.remove(*name);
                ok("")
            }
            _ => fail("the simulated node does not know this podman command"),
        },
        (Program::Podman, ["ps", ..]) => {
            let delay = n.ps_delay;
            let list: Vec<serde_json::Value> = n
                .containers
                .iter()
                .map(|(name, (_, up))| {
                    serde_json::json!({
                        "Id": format!("id-{name}"),
                        "State": if *up { "running" } else { "exited" },
                        "ExitCode": 0,
                        "StartedAt": 1795944600u64,
                        "Created": 1795944500u64,
                        "Labels": { "orchestrator.app": name },
                    })
                })
                .collect();
            drop(n);
            if let Some(d) = delay {
                std::thread::sleep(d);
            }
            ok(serde_json::to_string(&list).unwrap())
        }
        _ => fail("the simulated node does not know this command"),
    }
}

impl Rig {
    /// A rig over `kind` serving `catalog` (read again from `<dir>/override` first).
    pub fn new(kind: Kind, catalog: Catalog) -> Rig {
        let dir = fresh_dir(match kind {
            Kind::Quadlet => "quadlet",
            Kind::Legacy => "legacy",
        });
        let mut rig = Rig::at(kind, catalog, dir, Arc::default());
        rig.owns_dir = true;
        rig
    }

    /// A rig in an existing folder with an existing node (an orchestrator restart).
    pub fn at(kind: Kind, catalog: Catalog, dir: PathBuf, node: Arc<Mutex<Node>>) -> Rig {
        let answering = node.clone();
        let units = dir.join("units");
        let exec = Arc::new(RecordingExecutor::answering(move |p, args| {
            answer(&answering, &units, p, args)
        }));
        let commands = Arc::new(Commands::new(exec.clone()));
        let backend: Arc<dyn Backend> = match kind {
            Kind::Quadlet => Arc::new(QuadletBackend::new(
                dir.join("units"),
                dir.join("run"),
                PodmanVersion::new(5, 4, 2),
                commands.clone(),
            )),
            Kind::Legacy => Arc::new(LegacyBackend::new(commands.clone())),
        };
        let core = Arc::new(Orchestrator::new(
            backend,
            commands.clone(),
            catalog.with_override_dir(dir.join("override")),
            dir.clone(),
            PodmanVersion::new(5, 4, 2),
        ));
        Rig {
            kind,
            core,
            exec,
            node,
            dir,
            commands,
            owns_dir: false,
        }
    }

    /// The same folder and node under a new orchestrator (its state file as it was left).
    pub fn restarted(&self, catalog: Catalog) -> Rig {
        Rig::at(self.kind, catalog, self.dir.clone(), self.node.clone())
    }

    /// The command lines run since the last `take`, without the read-only ones (`show`, `ps`)
    /// that every status and tick asks.
    pub fn take(&self) -> Vec<String> {
        let calls = self.exec.calls();
        self.exec.clear();
        calls
            .into_iter()
            .filter(|c| !c.starts_with("systemctl --user show") && !c.starts_with("podman ps"))
            .collect()
    }

    /// The app's unit file text and permission bits, if it has one.
    pub fn unit(&self, app: &str) -> Option<(String, u32)> {
        let path = self.dir.join(format!("units/{app}.container"));
        let text = std::fs::read_to_string(&path).ok()?;
        let mode = std::fs::metadata(&path).ok()?.permissions().mode() & 0o777;
        Some((text, mode))
    }

    /// Every unit file's text, by app (empty for the legacy backend).
    pub fn units(&self) -> BTreeMap<String, String> {
        let Ok(entries) = std::fs::read_dir(self.dir.join("units")) else {
            return BTreeMap::new();
        };
        entries
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "container"))
            .map(|p| {
                let name = p.file_stem().unwrap().to_string_lossy().into_owned();
                (name, std::fs::read_to_string(p).unwrap())
            })
            .collect()
    }

    /// Whether the node runs the app (an active unit or a running container).
    pub fn running(&self, app: &str) -> bool {
        let n = self.node.lock().unwrap();
        match self.kind {
            Kind::Quadlet => n.active.contains(&format!("{app}.service")),
            Kind::Legacy => n.containers.get(app).is_some_and(|c| c.1),
        }
    }

    /// Writes an override manifest for the app (a new version).
    pub fn override_manifest(&self, app: &str, text: &str) {
        std::fs::write(self.dir.join(format!("override/{app}.toml")), text).unwrap();
    }

    /// The state file's text.
    pub fn state_file(&self) -> String {
        std::fs::read_to_string(self.dir.join("state.json")).unwrap_or_default()
    }

    /// Calls made through the rig's commands so far, by program.
    pub fn totals(&self) -> (u64, u64) {
        let t = self.commands.totals();
        (t.systemctl, t.podman)
    }
}

impl Drop for Rig {
    fn drop(&mut self) {
        if self.owns_dir && !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
