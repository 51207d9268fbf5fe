//! `NodeCtx`: one node's transports and what checks remember within an iteration.

use std::{collections::HashMap, time::Duration};

use serde_json::{Value, json};
use tokio::sync::{Mutex, OnceCell};

use crate::{
    api::{AppList, AppState, AppStatus, CallError, FromReply, Health, Metrics, ReplyError},
    fleet::{Fleet, Node},
    model::{AppId, Outcome},
    transport::{
        CmdOutput, HttpClient, RouteGuard, RpcReply, SshPool, TransportError, socket_http,
    },
};

tokio::task_local! {
    static CASE_LOG: std::cell::RefCell<(std::time::Instant, String)>;
}

/// Runs `fut` capturing what checks note into its own log (concurrent cases stay apart).
pub async fn capture<T>(fut: impl std::future::Future<Output = T>) -> (T, String) {
    CASE_LOG
        .scope(
            std::cell::RefCell::new((std::time::Instant::now(), String::new())),
            async {
                let r = fut.await;
                (r, CASE_LOG.with(|l| std::mem::take(&mut l.borrow_mut().1)))
            },
        )
        .await
}

/// A check's result so far: `Err` carries the final outcome (fail or error).
pub type CheckResult<T> = Result<T, Outcome>;

impl From<TransportError> for Outcome {
    fn from(e: TransportError) -> Self {
        Outcome::Error(e.to_string())
    }
}

/// A reply that breaks the API's contract is the implementation under test failing.
impl From<ReplyError> for Outcome {
    fn from(e: ReplyError) -> Self {
        Outcome::Fail(e.to_string())
    }
}

impl From<CallError> for Outcome {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Transport(e) => e.into(),
            CallError::Reply(e) => e.into(),
        }
    }
}

/// Everything a check needs on one node.
pub struct NodeCtx {
    /// The fleet.
    pub fleet: Fleet,
    /// The node.
    pub node: Node,
    /// SSH sessions.
    pub ssh: SshPool,
    /// HTTP client and orchestrator session.
    pub http: HttpClient,
    /// The app user's uid, resolved once.
    uid: OnceCell<u32>,
    /// Data probe values last read in this iteration, per app.
    pub data: Mutex<HashMap<AppId, Vec<f64>>>,
    /// Poll interval while waiting for states.
    pub poll: Duration,
    /// The node's browser for L4 journeys, started by the first one (see `close_browser`).
    pub browser: Mutex<Option<crate::browser::Chrome>>,
    /// Held while the app user's `podman.socket` is started: the cases that all find it absent
    /// after a boot start it once between them, not once each.
    socket_start: Mutex<()>,
}

impl NodeCtx {
    /// A context over the given transports.
    pub fn new(fleet: Fleet, node: Node, ssh: SshPool, http: HttpClient) -> Self {
        Self {
            fleet,
            node,
            ssh,
            http,
            uid: OnceCell::new(),
            data: Mutex::new(HashMap::new()),
            poll: Duration::from_millis(250),
            browser: Mutex::new(None),
            socket_start: Mutex::new(()),
        }
    }

    /// The route guard of the fleet's lab interface.
    pub fn guard(&self) -> RouteGuard {
        RouteGuard::new(self.fleet.lab_interface.clone())
    }

    /// Ends the node's browser, if a journey started one.
    pub async fn close_browser(&self) {
        if let Some(chrome) = self.browser.lock().await.take() {
            chrome.quit().await;
        }
    }

    /// A TCP connection to one of the node's ports (TCP probes), through the route guard and,
    /// with a lab interface, bound to it like every other lab socket.
    pub async fn tcp_connect(
        &self,
        port: u16,
        timeout: Duration,
    ) -> Result<tokio::net::TcpStream, TransportError> {
        self.guard()
            .connect_async(
                &self.node.name.0,
                std::net::SocketAddr::new(self.node.address, port),
                timeout,
            )
            .await
    }

    /// Appends a line to the running case's captured output (see `capture`).
    pub fn note(&self, line: &str) {
        let _ = CASE_LOG.try_with(|l| {
            let (began, log) = &mut *l.borrow_mut();
            // When each step happened, counted from the case's start: a slow case says where.
            log.push_str(&format!("[+{:.3}s] ", began.elapsed().as_secs_f64()));
            log.push_str(line);
            log.push('\n');
        });
    }

    /// Runs a command as the SSH user (root in the lab), capturing it.
    pub async fn sh(&self, cmd: &str) -> CheckResult<CmdOutput> {
        let out = self.ssh.exec(cmd).await?;
        self.note_cmd(cmd, &out);
        Ok(out)
    }

    /// [`NodeCtx::sh`] within `budget` (a connect included): for polling a node that may be
    /// gone.
    pub async fn sh_within(&self, cmd: &str, budget: Duration) -> CheckResult<CmdOutput> {
        let out = self.ssh.exec_within(cmd, budget).await?;
        self.note_cmd(cmd, &out);
        Ok(out)
    }

    fn note_cmd(&self, cmd: &str, out: &CmdOutput) {
        self.note(&format!(
            "$ {cmd}\n[exit {}] {}{}",
            out.status,
            out.stdout.trim_end(),
            if out.stderr.trim().is_empty() {
                String::new()
            } else {
                format!("\n[stderr] {}", out.stderr.trim_end())
            }
        ));
    }

    async fn uid(&self) -> CheckResult<u32> {
        let user = &self.fleet.app_user;
        self.uid
            .get_or_try_init(|| async {
                let out = self.sh(&format!("id -u {user}")).await?;
                out.stdout.trim().parse::<u32>().map_err(|_| {
                    Outcome::Error(format!(
                        "failed to resolve the uid of {user}: {}",
                        out.stderr.trim()
                    ))
                })
            })
            .await
            .copied()
    }

    /// Runs `program args` as the app user (`args` already shell-quoted where needed).
    async fn as_app_user(&self, program: &str, args: &str) -> CheckResult<CmdOutput> {
        let quiet = "PODMAN_IGNORE_CGROUPSV1_WARNING=1";
        if self.fleet.ssh_user == self.fleet.app_user {
            return self.sh(&format!("env {quiet} {program} {args}")).await;
        }
        let uid = self.uid().await?;
        // From root's home the app user cannot chdir, and podman then fails.
        self.sh(&format!(
            "cd / && runuser -u {} -- env XDG_RUNTIME_DIR=/run/user/{uid} {quiet} {program} {args}",
            quote(&self.fleet.app_user)
        ))
        .await
    }

    /// Runs podman as the app user (`args` already shell-quoted where needed).
    pub async fn podman(&self, args: &str) -> CheckResult<CmdOutput> {
        self.as_app_user("podman", args).await
    }

    /// Runs `systemctl --user` in the app user's manager.
    pub async fn user_systemctl(&self, args: &str) -> CheckResult<CmdOutput> {
        self.as_app_user("systemctl --user", args).await
    }

    /// The node's boot id (changes with every boot).
    pub async fn boot_id(&self) -> CheckResult<String> {
        let out = self.sh("cat /proc/sys/kernel/random/boot_id").await?;
        let id = out.stdout.trim().to_owned();
        if out.status != 0 || id.is_empty() {
            return Err(Outcome::Error(format!(
                "failed to read the boot id: {}",
                out.stderr.trim()
            )));
        }
        Ok(id)
    }

    /// The node's clock now (Unix seconds with nanoseconds), as podman's `--since` reads it.
    pub async fn node_now(&self) -> CheckResult<String> {
        let out = self.sh("date +%s.%N").await?;
        Ok(out.stdout.trim().to_owned())
    }

    /// How many times podman started a container named after `app` since `since` (ground truth
    /// for "restarted exactly once"). podman hands its events to journald, which may not have
    /// stored the newest yet when the call returns: while fewer than `expected` are seen, it
    /// reads again for up to 3 s; a count over `expected` is returned as soon as it is seen.
    pub async fn starts_since(
        &self,
        app: &AppId,
        since: &str,
        expected: usize,
    ) -> CheckResult<usize> {
        let began = std::time::Instant::now();
        loop {
            let out = self
                .podman(&format!(
                    "events --stream=false --since {} --filter {} --filter event=start --format '{{{{.ID}}}}'",
                    quote(since),
                    quote(&format!("container={app}"))
                ))
                .await?;
            if out.status != 0 {
                return Err(Outcome::Error(format!(
                    "podman events failed: {}",
                    out.stderr.trim()
                )));
            }
            let n = out.stdout.lines().filter(|l| !l.trim().is_empty()).count();
            if n >= expected || began.elapsed() > Duration::from_secs(3) {
                return Ok(n);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    /// The failure of a start count: what podman and systemd recorded for `app` since `since`
    /// (each start event's time and container, the unit's and the manager's journal lines), so a
    /// rare double start can be told from a crash restart or a reload without rerunning.
    pub async fn wrong_starts(&self, app: &AppId, since: &str, what: String) -> Outcome {
        let events = self
            .podman(&format!(
                "events --stream=false --since {} --filter {} --format '{{{{.Time}}}} {{{{.Status}}}} {{{{.ID}}}}'",
                quote(since),
                quote(&format!("container={app}"))
            ))
            .await;
        let journal = self
            .sh(&format!(
                "journalctl --no-pager -o short-precise --since @{} | grep -E {} | tail -n 30 | cut -c1-220",
                quote(since),
                quote(&format!("{app}|Reloading|protocol"))
            ))
            .await;
        let text = |r: CheckResult<CmdOutput>| match r {
            Ok(o) => o.stdout.trim_end().to_owned(),
            Err(e) => format!("(not read: {e:?})"),
        };
        Outcome::Fail(format!(
            "{what}\npodman events since {since}:\n{}\njournal since then:\n{}",
            text(events),
            text(journal)
        ))
    }

    /// The reconciler's counters from `server.metrics`: ticks begun (when the API reports them)
    /// and ticks finished.
    async fn ticks(&self) -> CheckResult<(Option<u64>, u64)> {
        let m: Metrics = self.rpc_as("server.metrics", json!({})).await?;
        Ok((m.reconcile.started, m.reconcile.ticks))
    }

    /// Has the orchestrator run one whole reconcile tick now (`server.reconcile`: it begins after
    /// the call, the same code as the loop's), so what a check saw is known to hold after a
    /// repair pass, without waiting for the loop's next turn.
    pub async fn reconcile_now(&self) -> CheckResult<()> {
        let r = self.rpc("server.reconcile", json!({})).await?;
        match r.get("tick").and_then(Value::as_u64) {
            Some(_) => Ok(()),
            None => Err(Outcome::Fail(format!(
                "server.reconcile answered {r}, without the tick it ran"
            ))),
        }
    }

    /// Waits until the reconcile loop itself has run one whole tick that began after now (its
    /// own timer, not `server.reconcile`): finished ticks must reach the ticks begun so far plus
    /// one (without a begun count, two more finished ticks).
    pub async fn wait_loop_tick(&self) -> CheckResult<()> {
        let start = std::time::Instant::now();
        let (begun, finished) = self.ticks().await?;
        let target = begun.map_or(finished + 2, |b| b + 1);
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if self.ticks().await?.1 >= target {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(60) {
                return Err(Outcome::Fail(format!(
                    "the reconciler finished no whole tick in 60s (waiting for tick {target})"
                )));
            }
        }
    }

    /// A GET on podman's REST API as the app user (its `podman.socket`, reached through the SSH
    /// connection: no process on the node per query, where the podman CLI costs one each, about
    /// 100-250 ms): the status and JSON body. The socket is started if nothing listens yet (a
    /// fresh boot); it is socket-activated and changes nothing podman holds.
    pub async fn podman_api(&self, path: &str) -> CheckResult<(u16, Value)> {
        let socket = format!("/run/user/{}/podman/podman.sock", self.uid().await?);
        let path = format!("/v4.0.0/libpod{path}");
        let request = socket_http::get(&path);
        let answer = match self.ssh.forward(&socket, &request).await? {
            Ok(a) => a,
            Err(_) => {
                let _one = self.socket_start.lock().await;
                // Another case may have started it while this one waited.
                if let Ok(a) = self.ssh.forward(&socket, &request).await? {
                    return Self::answered(&path, &a);
                }
                self.note(&format!(
                    "podman api: nothing listens on {socket}: starting it"
                ));
                let out = self.user_systemctl("start podman.socket").await?;
                if out.status != 0 {
                    return Err(Outcome::Error(format!(
                        "failed to start podman.socket: {}",
                        out.stderr.trim()
                    )));
                }
                self.ssh.forward(&socket, &request).await?.map_err(|e| {
                    Outcome::Error(format!("podman api: {socket} refused after a start: {e}"))
                })?
            }
        };
        Self::answered(&path, &answer)
    }

    /// An API answer's status and JSON body (`null` when empty).
    fn answered(path: &str, answer: &str) -> CheckResult<(u16, Value)> {
        let (status, body) = socket_http::parse(answer)
            .map_err(|e| Outcome::Error(format!("podman api GET {path}: {e}")))?;
        let json = if body.trim().is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&body).map_err(|e| {
                Outcome::Error(format!(
                    "podman api GET {path} answered {status}, not JSON: {e}"
                ))
            })?
        };
        Ok((status, json))
    }

    /// Whether podman has a container of that name or id (`podman container exists`).
    pub async fn container_exists(&self, id: &str) -> CheckResult<bool> {
        let path = format!("/containers/{}/exists", socket_http::segment(id));
        let (status, body) = self.podman_api(&path).await?;
        self.note(&format!("podman api: container {id} exists -> {status}"));
        match status {
            204 => Ok(true),
            404 => Ok(false),
            s => Err(Outcome::Error(format!(
                "podman api: container {id} exists answered {s}: {body}"
            ))),
        }
    }

    /// The app's container as podman sees it (by name: both backends name it after the app),
    /// or `None` when there is none. Ground truth, whatever the orchestrator says.
    pub async fn container(&self, app: &AppId) -> CheckResult<Option<Inspected>> {
        let path = format!("/containers/{}/json", socket_http::segment(app.as_str()));
        let (status, body) = self.podman_api(&path).await?;
        let seen = match status {
            404 => None,
            200 => Some(Inspected::from_api(&body).ok_or_else(|| {
                Outcome::Error(format!(
                    "podman api: inspect of {app} has no Id/State: {body}"
                ))
            })?),
            s => {
                return Err(Outcome::Error(format!(
                    "podman api: inspect of {app} answered {s}: {body}"
                )));
            }
        };
        self.note(&format!(
            "podman api: inspect {app} -> {}",
            seen.as_ref().map_or("no container".into(), |c| format!(
                "{} running={} started {}",
                c.id, c.running, c.started_at
            ))
        ));
        Ok(seen)
    }

    /// The orchestrator's containers (label `orchestrator.app`), stopped ones included, as
    /// `podman ps -a` lists them: name and state.
    pub async fn labelled_containers(&self) -> CheckResult<Vec<(String, String)>> {
        let filters = socket_http::segment(r#"{"label":["orchestrator.app"]}"#);
        let (status, body) = self
            .podman_api(&format!("/containers/json?all=true&filters={filters}"))
            .await?;
        let listed = (status == 200)
            .then(|| body.as_array())
            .flatten()
            .ok_or_else(|| Outcome::Error(format!("podman api: ps answered {status}: {body}")))?;
        let mut found = Vec::new();
        for c in listed {
            let name = c.pointer("/Names/0").and_then(Value::as_str);
            match (name, c["State"].as_str()) {
                (Some(n), Some(s)) => found.push((n.into(), s.into())),
                _ => {
                    return Err(Outcome::Error(format!(
                        "podman api: ps lists a container without name or state: {c}"
                    )));
                }
            }
        }
        self.note(&format!(
            "podman api: ps -a (orchestrator.app) -> {}",
            found
                .iter()
                .map(|(n, s)| format!("{n} {s}"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        Ok(found)
    }

    /// An orchestrator call; a JSON-RPC error is a product failure.
    pub async fn rpc(&self, method: &str, params: Value) -> CheckResult<Value> {
        let reply = self.http.call(method, params.clone()).await?;
        self.note(&format!(
            "rpc {method} {params} -> {}",
            match &reply {
                RpcReply::Ok(v) => v.to_string(),
                RpcReply::Err { code, message } => format!("error {code} {message}"),
            }
        ));
        match reply {
            RpcReply::Ok(v) => Ok(v),
            RpcReply::Err { code, message } => {
                Err(Outcome::Fail(format!("{method} failed: {code} {message}")))
            }
        }
    }

    /// An orchestrator call whose result is checked into `T`; a reply that breaks the contract
    /// is a product failure too.
    pub async fn rpc_as<T: FromReply>(&self, method: &str, params: Value) -> CheckResult<T> {
        let v = self.rpc(method, params).await?;
        Ok(T::from_reply(method, &v)?)
    }

    /// `package.status` of an app.
    pub async fn status(&self, app: &AppId) -> CheckResult<AppStatus> {
        self.rpc_as("package.status", json!({"id": app.as_str()}))
            .await
    }

    /// `container-list`: every installed app.
    pub async fn list(&self) -> CheckResult<AppList> {
        self.rpc_as("container-list", json!({})).await
    }

    /// Polls `package.status` until running and healthy, or fails after `budget`.
    pub async fn wait_healthy(&self, app: &AppId, budget: Duration) -> CheckResult<AppStatus> {
        let start = std::time::Instant::now();
        loop {
            let st = self.status(app).await?;
            let (state, health) = (st.state, st.health);
            if state == AppState::Running && health == Health::Healthy {
                return Ok(st);
            }
            if start.elapsed() >= budget {
                return Err(Outcome::Fail(format!(
                    "{app} not running and healthy within {}s: state {state}, health {health}",
                    budget.as_secs()
                )));
            }
            tokio::time::sleep(self.poll).await;
            // Health is judged by reconcile ticks: run one rather than wait for the loop's.
            if state == AppState::Running {
                self.reconcile_now().await?;
            }
        }
    }
}

/// `s` as one shell word: every value that reaches a remote shell goes through here, so a
/// value the node controls (a container id the app user can write) can never run a command.
pub fn quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | '@' | '+' | ',')
        })
    {
        return s.to_owned();
    }
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// An app's container, from podman's inspect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inspected {
    /// The container id.
    pub id: String,
    /// Whether its process runs.
    pub running: bool,
    /// When it last started, as podman's API gives it (RFC 3339).
    pub started_at: String,
}

impl Inspected {
    /// From the API's inspect document, `None` when it lacks a field.
    fn from_api(v: &Value) -> Option<Self> {
        Some(Self {
            id: v["Id"].as_str()?.to_owned(),
            running: v.pointer("/State/Running")?.as_bool()?,
            started_at: v.pointer("/State/StartedAt")?.as_str()?.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_that_breaks_the_contract_fails_and_an_unreachable_node_is_an_error() {
        let broken = ReplyError::Missing {
            method: "package.status".into(),
            field: "id".into(),
            expected: "an app id".into(),
        };
        assert_eq!(
            Outcome::from(CallError::Reply(broken)),
            Outcome::Fail("package.status answered no id, expected an app id".into())
        );
        let down = TransportError::Http {
            node: "lab-228".into(),
            reason: "connection refused".into(),
        };
        assert_eq!(
            Outcome::from(CallError::Transport(down)),
            Outcome::Error("failed HTTP request to lab-228: connection refused".into())
        );
    }

    #[test]
    fn an_inspect_document_gives_id_running_and_start() {
        let doc = json!({"Id": "ab12", "Name": "lab-chain",
            "State": {"Status": "running", "Running": true, "StartedAt": "2026-11-30T15:00:01.5Z"}});
        assert_eq!(
            Inspected::from_api(&doc),
            Some(Inspected {
                id: "ab12".into(),
                running: true,
                started_at: "2026-11-30T15:00:01.5Z".into()
            })
        );
        assert_eq!(
            Inspected::from_api(&json!({"Id": "ab12", "State": {}})),
            None
        );
    }

    #[test]
    fn quote_keeps_plain_words_and_wraps_everything_else() {
        assert_eq!(quote("lab-chain"), "lab-chain");
        assert_eq!(quote("container=lab-chain"), "container=lab-chain");
        assert_eq!(quote(""), "''");
        assert_eq!(quote("a b"), "'a b'");
        assert_eq!(quote("x; touch /pwned"), "'x; touch /pwned'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(id)`id`"), "'$(id)`id`'");
    }
}
