//! L5 chaos: one scenario on one node. Inject its fault (keeping the other apps busy), heal it,
//! then poll the node's invariant until it holds or the deadline passes; the time from the heal
//! to the invariant holding is the scenario's **time to converge**.
//!
//! The invariant, all read in one pass: the orchestrator answers `/healthz` within a second;
//! its app list, podman's containers and the unit folder name the same apps, each once, and the
//! folder holds no half-written unit; every app meant to run runs, is healthy, answers its probes
//! and keeps its data rules; every app that was stopped is still stopped; containers the fault
//! must not touch kept their ids. Once it holds, the orchestrator's journal since the fault must
//! show no panic. The node is then put back (stopped apps started, a removed app installed).

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use serde_json::json;

use super::{
    CheckResult, NodeCtx,
    ctx::quote,
    node_actions::tolerating_spawn_fault,
    probes::{all_rpc, check_data, record_data},
    required::fault as app_fault,
    setup::restore,
    stack::requirements_first,
};
use crate::{
    api::{AppState, AppStatus, ErrorCode, Health},
    chaos::{CrashPoint, Fault, Scenario},
    lab::layout::{FAILPOINTS_DROP_IN, ORCHESTRATOR_CONFIG, STATE_FILE},
    model::{AppId, Outcome},
    suite::Suite,
    transport::RpcReply,
};

/// How fast the orchestrator must answer while and after a fault.
const ANSWER_BUDGET: Duration = Duration::from_secs(1);
/// How long the orchestrator may take to answer again after a restart the scenario caused.
const BACK_BUDGET: Duration = Duration::from_secs(60);

/// The first output line of a passed scenario, which results.json keeps as its message and
/// `harness matrix` reads the time back from.
pub fn converge_line(d: Duration) -> String {
    format!("converged in {} ms", d.as_millis())
}

/// The time to converge in a passed scenario's message (see [`converge_line`]).
pub fn converge_ms(message: &str) -> Option<u64> {
    message
        .strip_prefix("converged in ")?
        .split_once(" ms")?
        .0
        .parse()
        .ok()
}

/// What the node must show once it converged.
#[derive(Debug, Default)]
struct Expect {
    /// Installed and running, healthy, answering.
    running: Vec<AppId>,
    /// Installed and stopped.
    stopped: Vec<AppId>,
    /// Containers that must still be the same (the fault was not theirs to restart).
    same: BTreeMap<AppId, String>,
    /// The app whose container the fault replaced, and the id it must no longer have.
    replaced: Option<(AppId, String)>,
}

fn fail(m: String) -> Outcome {
    Outcome::Fail(m)
}

/// Runs one scenario; `Ok` is its time to converge.
pub async fn chaos(
    ctx: &NodeCtx,
    s: &Scenario,
    suites: &BTreeMap<AppId, Suite>,
) -> CheckResult<Duration> {
    let all: Vec<AppId> = suites.keys().cloned().collect();
    let order = requirements_first(&all, suites);
    let result = run(ctx, s, suites).await;
    // Whatever happened, the node goes back to every app installed, running and healthy.
    let put_back = restore(ctx, &order, suites).await;
    let took = result?;
    put_back.map_err(|why| {
        fail(format!(
            "converged, but the node could not be put back: {why}"
        ))
    })?;
    Ok(took)
}

async fn run(
    ctx: &NodeCtx,
    s: &Scenario,
    suites: &BTreeMap<AppId, Suite>,
) -> CheckResult<Duration> {
    let since = ctx.sh("date +%s").await?.stdout.trim().to_owned();
    for app in &s.stopped {
        ctx.rpc("package.stop", json!({"id": app.as_str()})).await?;
    }
    let mut expect = Expect::default();
    for app in suites.keys() {
        if s.stopped.contains(app) {
            expect.stopped.push(app.clone());
            continue;
        }
        expect.running.push(app.clone());
        let c = ctx
            .container(app)
            .await?
            .filter(|c| c.running)
            .ok_or_else(|| fail(format!("{app} does not run before the fault")))?;
        expect.same.insert(app.clone(), c.id);
        record_data(ctx, &suites[app])
            .await
            .map_err(|e| fail(format!("data not readable before the fault: {e}")))?;
    }
    ctx.note(&format!("chaos {}: injecting {}", s.name, s.fault.as_str()));
    inject_and_heal(ctx, s, suites, &mut expect).await?;
    let healed = Instant::now();
    ctx.note(&format!(
        "chaos {}: healed; waiting for the invariant",
        s.name
    ));
    loop {
        let Err(last) = invariant(ctx, suites, &expect).await else {
            break;
        };
        if healed.elapsed() >= s.deadline {
            return Err(fail(format!(
                "not converged {}s after the heal: {last}",
                s.deadline.as_secs()
            )));
        }
        tokio::time::sleep(ctx.poll).await;
    }
    let took = healed.elapsed();
    no_panic_since(ctx, &since).await?;
    Ok(took)
}

/// The fault, held as long as the scenario says, then healed; `expect` is adjusted to what the
/// fault may change.
async fn inject_and_heal(
    ctx: &NodeCtx,
    s: &Scenario,
    suites: &BTreeMap<AppId, Suite>,
    expect: &mut Expect,
) -> CheckResult<()> {
    let unit = quote(&ctx.fleet.daemon_unit);
    match s.fault {
        Fault::KillOrchestrator => {
            let pid = main_pid(ctx).await?;
            ctx.sh(&format!("kill -9 {pid}")).await?;
            wait_new_pid(ctx, pid).await
        }
        Fault::FreezeOrchestrator => {
            let pid = main_pid(ctx).await?;
            ctx.sh(&format!("kill -STOP {pid}")).await?;
            let busy = keep_busy(ctx, suites, expect, s.hold).await;
            ctx.sh(&format!("kill -CONT {pid}")).await?;
            busy?;
            if main_pid(ctx).await? != pid {
                return Err(fail(
                    "the frozen orchestrator was restarted, not thawed".into(),
                ));
            }
            Ok(())
        }
        Fault::KillApp => {
            let app = target(s);
            let pid = ctx
                .podman(&format!(
                    "inspect -f '{{{{.State.Pid}}}}' {}",
                    quote(app.as_str())
                ))
                .await?;
            let pid = pid.stdout.trim().to_owned();
            if pid.parse::<u32>().is_err() || pid == "0" {
                return Err(Outcome::Error(format!(
                    "{app} has no process to kill: {pid:?}"
                )));
            }
            ctx.sh(&format!("kill -9 {pid}")).await?;
            replaced(expect, app);
            Ok(())
        }
        Fault::AppExit => {
            let app = target(s);
            app_fault(ctx, fault_control(suites, app)?, "exit").await?;
            replaced(expect, app);
            Ok(())
        }
        Fault::AppUnhealthy => {
            let app = target(s);
            let control = fault_control(suites, app)?;
            app_fault(ctx, control, "unhealthy").await?;
            let seen = wait_health(ctx, app, Health::Unhealthy, s.deadline).await;
            let busy = keep_busy(ctx, suites, expect, s.hold).await;
            app_fault(ctx, control, "healthy").await?;
            let seen = seen?;
            busy?;
            ctx.note(&format!(
                "{app} reported unhealthy {} ms after the fault",
                seen.as_millis()
            ));
            Ok(())
        }
        Fault::StateFileLost | Fault::StateFileCorrupt => {
            let pid = main_pid(ctx).await?;
            let damage = if s.fault == Fault::StateFileLost {
                format!("rm -f {STATE_FILE}")
            } else {
                format!("printf '{{\"apps\": {{\"lab' > {STATE_FILE}")
            };
            // Killed, not stopped: a clean shutdown would write the state file again.
            ctx.sh(&format!("{damage} && kill -9 {pid}")).await?;
            wait_new_pid(ctx, pid).await
        }
        Fault::ConfigCorrupt => config_corrupt(ctx, suites, expect, &unit).await,
        Fault::CrashAt => crash_at(ctx, s, expect, &unit).await,
        Fault::ConnectionFlood => flood(ctx, s).await,
        Fault::Partition => partition(ctx, s).await,
    }
}

fn target(s: &Scenario) -> &AppId {
    s.target
        .as_ref()
        .expect("checked at load: this fault has a target")
}

/// The app's container must be a new one once converged, the others untouched.
fn replaced(expect: &mut Expect, app: &AppId) {
    if let Some(id) = expect.same.remove(app) {
        expect.replaced = Some((app.clone(), id));
    }
}

fn fault_control(
    suites: &BTreeMap<AppId, Suite>,
    app: &AppId,
) -> CheckResult<crate::suite::FaultControl> {
    suites.get(app).and_then(|s| s.fault).ok_or_else(|| {
        Outcome::Error(format!(
            "{app}'s suite has no [fault] control for this scenario"
        ))
    })
}

/// The daemon unit's main pid (never 0: the orchestrator must be running).
async fn main_pid(ctx: &NodeCtx) -> CheckResult<u32> {
    let out = ctx
        .sh(&format!(
            "systemctl show -p MainPID --value {}",
            quote(&ctx.fleet.daemon_unit)
        ))
        .await?;
    match out.stdout.trim().parse::<u32>() {
        Ok(pid) if pid > 0 => Ok(pid),
        _ => Err(fail(format!(
            "{} has no main process ({:?})",
            ctx.fleet.daemon_unit,
            out.stdout.trim()
        ))),
    }
}

/// Waits until systemd runs the daemon again under another pid than `old`, answering logins.
async fn wait_new_pid(ctx: &NodeCtx, old: u32) -> CheckResult<()> {
    let start = Instant::now();
    loop {
        if main_pid(ctx).await.is_ok_and(|p| p != old) {
            return wait_back(ctx).await;
        }
        if start.elapsed() >= BACK_BUDGET {
            return Err(fail(format!(
                "systemd did not start {} again within {}s of the kill",
                ctx.fleet.daemon_unit,
                BACK_BUDGET.as_secs()
            )));
        }
        tokio::time::sleep(ctx.poll).await;
    }
}

/// Waits until the orchestrator answers a login (its sessions died with it).
async fn wait_back(ctx: &NodeCtx) -> CheckResult<()> {
    let start = Instant::now();
    loop {
        ctx.http.reset_session().await;
        match ctx.http.login().await {
            Ok(()) => return Ok(()),
            Err(e) if start.elapsed() >= BACK_BUDGET => {
                return Err(fail(format!(
                    "the orchestrator does not answer {}s later: {e}",
                    BACK_BUDGET.as_secs()
                )));
            }
            Err(_) => tokio::time::sleep(ctx.poll).await,
        }
    }
}

/// For `hold`: the apps meant to run keep answering their probes (the rest of the node busy
/// while the fault lasts). The target of an app fault is not asked.
async fn keep_busy(
    ctx: &NodeCtx,
    suites: &BTreeMap<AppId, Suite>,
    expect: &Expect,
    hold: Duration,
) -> CheckResult<()> {
    let start = Instant::now();
    let mut rounds = 0;
    while start.elapsed() < hold || rounds == 0 {
        for app in expect.same.keys() {
            all_rpc(ctx, &suites[app]).await?.map_err(|e| {
                fail(format!(
                    "while the fault lasted, {app} stopped answering: {e}"
                ))
            })?;
        }
        rounds += 1;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    ctx.note(&format!(
        "{rounds} rounds of probes answered while the fault lasted"
    ));
    Ok(())
}

/// Polls `package.status` until the app's health is `want`; returns how long that took.
async fn wait_health(
    ctx: &NodeCtx,
    app: &AppId,
    want: Health,
    budget: Duration,
) -> CheckResult<Duration> {
    let start = Instant::now();
    loop {
        let st = ctx.status(app).await?;
        if st.health == want {
            return Ok(start.elapsed());
        }
        if start.elapsed() >= budget {
            return Err(fail(format!(
                "{app} not reported {want} within {}s: health {}",
                budget.as_secs(),
                st.health
            )));
        }
        tokio::time::sleep(ctx.poll).await;
    }
}

/// A refused value appended to the config, and a restart: the orchestrator must refuse to start
/// naming the file, line and key, while the apps keep running; the saved config is put back.
async fn config_corrupt(
    ctx: &NodeCtx,
    suites: &BTreeMap<AppId, Suite>,
    expect: &Expect,
    unit: &str,
) -> CheckResult<()> {
    let saved = format!("{ORCHESTRATOR_CONFIG}.chaos");
    let lines = ctx
        .sh(&format!(
            "cp -p {ORCHESTRATOR_CONFIG} {saved} && wc -l < {ORCHESTRATOR_CONFIG}"
        ))
        .await?;
    let line: usize = lines.stdout.trim().parse::<usize>().map_err(|_| {
        Outcome::Error(format!(
            "failed to save {ORCHESTRATOR_CONFIG}: {}",
            lines.stderr.trim()
        ))
    })? + 1;
    let since = ctx.sh("date +%s").await?.stdout.trim().to_owned();
    let broken = async {
        let cmd = format!(
            "echo 'http_max_connections = 0' >> {ORCHESTRATOR_CONFIG} && systemctl restart {unit}"
        );
        tolerating_spawn_fault(ctx, &cmd).await?;
        let want = format!("{ORCHESTRATOR_CONFIG}:{line}: http_max_connections:");
        let start = Instant::now();
        loop {
            let log = ctx
                .sh(&format!(
                    "journalctl -u {unit} --since @{since} -o cat --no-pager | grep -F {} | head -n 1",
                    quote(&want)
                ))
                .await?;
            if !log.stdout.trim().is_empty() {
                break;
            }
            if start.elapsed() >= Duration::from_secs(20) {
                return Err(fail(format!(
                    "the orchestrator's journal does not say {want:?} within 20s of the restart"
                )));
            }
            tokio::time::sleep(ctx.poll).await;
        }
        let active = ctx.sh(&format!("systemctl is-active {unit}")).await?;
        if active.stdout.trim() == "active" && main_pid(ctx).await.is_ok() {
            // Type=exec: "active" only between exec and the refusal; it must not answer.
            if ctx.http.login().await.is_ok() {
                return Err(fail("the orchestrator answered with a refused config".into()));
            }
        }
        keep_busy(ctx, suites, expect, Duration::from_secs(2)).await
    }
    .await;
    let cmd = format!(
        "mv -f {saved} {ORCHESTRATOR_CONFIG} && systemctl reset-failed {unit}; systemctl restart {unit}"
    );
    tolerating_spawn_fault(ctx, &cmd).await?;
    broken?;
    wait_back(ctx).await
}

/// The orchestrator aborts at the step's fail point in the middle of the operation; with the
/// fail point cleared, the operation is retried once and must end as it would have.
async fn crash_at(ctx: &NodeCtx, s: &Scenario, expect: &mut Expect, unit: &str) -> CheckResult<()> {
    let app = target(s);
    let step = s.fail_point.expect("checked at load: crash-at has a step");
    let params = json!({"id": app.as_str()});
    match step {
        CrashPoint::InstallAfterUnitWrite | CrashPoint::InstallAfterStart => {
            ctx.rpc("package.uninstall", params.clone()).await?;
        }
        CrashPoint::UninstallAfterUnitRemove | CrashPoint::DesiredAfterUnitWrite => {}
    }
    let drop_in = FAILPOINTS_DROP_IN;
    let dir = drop_in.rsplit_once('/').map_or("/", |(d, _)| d);
    let cmd = format!(
        "mkdir -p {dir} && printf '[Service]\\nEnvironment=FAILPOINTS={}=return\\n' > {drop_in}.tmp \
         && mv {drop_in}.tmp {drop_in} && systemctl daemon-reload && systemctl restart {unit}",
        step.as_str()
    );
    tolerating_spawn_fault(ctx, &cmd).await?;
    let cut = async {
        wait_back(ctx).await?;
        match ctx.http.call(step.method(), params.clone()).await {
            Ok(RpcReply::Ok(v)) => Err(fail(format!(
                "{} answered {v} through fail point {}: the crash never happened",
                step.method(),
                step.as_str()
            ))),
            Ok(RpcReply::Err { code, message }) => Err(fail(format!(
                "{} refused ({code} {message}) instead of reaching fail point {}",
                step.method(),
                step.as_str()
            ))),
            Err(e) => {
                ctx.note(&format!("{} cut at {}: {e}", step.method(), step.as_str()));
                Ok(())
            }
        }
    }
    .await;
    let cmd = format!(
        "rm -f {drop_in} && systemctl daemon-reload && systemctl reset-failed {unit}; systemctl restart {unit}"
    );
    tolerating_spawn_fault(ctx, &cmd).await?;
    cut?;
    wait_back(ctx).await?;
    // Retried once, it must end as the operation would have.
    let retry = ctx.http.call(step.method(), params).await?;
    ctx.note(&format!("retry {} -> {retry:?}", step.method()));
    expect.same.remove(app);
    match (step, retry) {
        (
            CrashPoint::UninstallAfterUnitRemove,
            RpcReply::Err {
                code: ErrorCode::NotInstalled,
                ..
            },
        )
        | (_, RpcReply::Ok(_)) => {}
        (_, RpcReply::Err { code, message }) => {
            return Err(fail(format!(
                "the retried {} failed: {code} {message}",
                step.method()
            )));
        }
    }
    match step {
        CrashPoint::InstallAfterUnitWrite | CrashPoint::InstallAfterStart => {}
        CrashPoint::UninstallAfterUnitRemove => expect.running.retain(|a| a != app),
        CrashPoint::DesiredAfterUnitWrite => {
            expect.running.retain(|a| a != app);
            expect.stopped.push(app.clone());
        }
    }
    Ok(())
}

/// `s.connections` connections, each with half a request header, held for `s.hold`: meanwhile
/// `/healthz` and an authenticated `container-list` must each answer within a second.
async fn flood(ctx: &NodeCtx, s: &Scenario) -> CheckResult<()> {
    raise_fd_limit(u64::from(s.connections) + 512);
    let port = ctx.fleet.orchestrator_port;
    let mut held = Vec::with_capacity(s.connections as usize);
    let mut refused = 0u32;
    for _ in 0..s.connections {
        match ctx.tcp_connect(port, Duration::from_secs(2)).await {
            Ok(mut c) => {
                use tokio::io::AsyncWriteExt;
                let _ = c
                    .write_all(b"POST /rpc HTTP/1.1\r\nHost: lab\r\nContent-Le")
                    .await;
                held.push(c);
            }
            Err(_) => refused += 1,
        }
    }
    ctx.note(&format!(
        "flood: {} connections open, {refused} refused or timed out",
        held.len()
    ));
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    let mut rounds = 0;
    let r = async {
        while start.elapsed() < s.hold || rounds == 0 {
            let ((status, _), h) =
                answered("/healthz", || ctx.http.get(None, "/healthz", false)).await?;
            let (reply, l) =
                answered("container-list", || ctx.http.call("container-list", json!({}))).await?;
            if let RpcReply::Err { code, message } = reply {
                return Err(fail(format!("under the flood, container-list failed: {code} {message}")));
            }
            worst = worst.max(h).max(l);
            if status != 200 || h > ANSWER_BUDGET || l > ANSWER_BUDGET {
                return Err(fail(format!(
                    "under a flood of {} connections: /healthz {status} in {} ms, container-list in {} ms (budget {} ms)",
                    held.len(),
                    h.as_millis(),
                    l.as_millis(),
                    ANSWER_BUDGET.as_millis()
                )));
            }
            rounds += 1;
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(())
    }
    .await;
    drop(held);
    ctx.note(&format!(
        "flood: {rounds} rounds, slowest answer {} ms",
        worst.as_millis()
    ));
    r
}

/// One call under the flood, and how long it took. The orchestrator closes its oldest idle
/// connection to admit a new one at its cap, which may be this client's keep-alive connection: a
/// client then sends again on a fresh one. So one retry after a transport error, timed with the
/// first try; a second transport error is a failure (the API did not answer).
async fn answered<T, Fut>(what: &str, call: impl Fn() -> Fut) -> CheckResult<(T, Duration)>
where
    Fut: std::future::Future<Output = Result<T, crate::transport::TransportError>>,
{
    let t = Instant::now();
    let r = match call().await {
        Ok(v) => Ok(v),
        Err(_) => call().await,
    };
    r.map(|v| (v, t.elapsed()))
        .map_err(|e| fail(format!("under the flood, {what} did not answer: {e}")))
}

/// Raises this process's soft open-file limit to `want` (at most the hard limit): the flood
/// holds thousands of sockets.
fn raise_fd_limit(want: u64) {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < want {
            lim.rlim_cur = want.min(lim.rlim_max);
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

/// Drops everything but loopback at the node for `s.hold`. Cut and heal are one transient
/// service on the node, so the heal happens even though the harness cannot reach it; the cut is
/// proven by a connection that fails while it lasts.
async fn partition(ctx: &NodeCtx, s: &Scenario) -> CheckResult<()> {
    let hold = s.hold.as_secs();
    let t = "inet archy_lab_chaos";
    let script = format!(
        "sleep 1; nft add table {t}; \
         nft add chain {t} input '{{ type filter hook input priority -10; }}'; \
         nft add rule {t} input iifname != lo drop; \
         nft add chain {t} output '{{ type filter hook output priority -10; }}'; \
         nft add rule {t} output oifname != lo drop; \
         sleep {hold}; nft delete table {t}"
    );
    ctx.sh(&format!(
        "systemd-run --quiet --collect --unit=archy-lab-chaos-partition sh -c {}",
        quote_any(&script)
    ))
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cut = ctx
        .tcp_connect(ctx.fleet.orchestrator_port, Duration::from_secs(1))
        .await;
    tokio::time::sleep(s.hold.saturating_sub(Duration::from_secs(1))).await;
    if cut.is_ok() {
        return Err(fail("the node still answered during the partition".into()));
    }
    ctx.note("partition: the node did not answer while it lasted");
    Ok(())
}

/// `s` as one single-quoted shell word (for a script of our own making, not node data).
fn quote_any(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// One pass over the invariant; `Err` says what does not hold yet.
async fn invariant(
    ctx: &NodeCtx,
    suites: &BTreeMap<AppId, Suite>,
    e: &Expect,
) -> Result<(), String> {
    let t = Instant::now();
    let healthz = ctx.http.get(None, "/healthz", false).await;
    let took = t.elapsed();
    match healthz {
        Ok((200, _)) if took <= ANSWER_BUDGET => {}
        Ok((status, _)) => return Err(format!("/healthz {status} in {} ms", took.as_millis())),
        Err(err) => return Err(format!("/healthz: {err}")),
    }
    let listed = match ctx.http.list().await {
        Ok(RpcReply::Ok(list)) => list.apps,
        Ok(RpcReply::Err { code, message }) => {
            return Err(format!("container-list: {code} {message}"));
        }
        Err(err) => return Err(format!("container-list: {err}")),
    };
    let ps = ctx
        .podman("ps -a --no-trunc --format '{{.Names}} {{.State}} {{.ID}}' --filter label=orchestrator.app")
        .await
        .map_err(|o| o.message().to_owned())?;
    let units = ctx
        .sh(&format!("ls -A {}", quote(&ctx.fleet.unit_dir)))
        .await
        .map_err(|o| o.message().to_owned())?;
    judge(e, &listed, &ps.stdout, &units.stdout)?;
    for app in &e.running {
        all_rpc(ctx, &suites[app])
            .await
            .map_err(|o| o.message().to_owned())??;
        check_data(ctx, &suites[app]).await?;
    }
    Ok(())
}

/// The pure part of the invariant: the orchestrator's list, podman's `ps` lines
/// (`name state id`) and the unit folder's entries against what is expected.
fn judge(e: &Expect, listed: &[AppStatus], ps: &str, units: &str) -> Result<(), String> {
    let mut want: Vec<&str> = e
        .running
        .iter()
        .chain(&e.stopped)
        .map(AppId::as_str)
        .collect();
    want.sort();
    let mut ids: Vec<&str> = listed.iter().map(|l| l.id.as_str()).collect();
    ids.sort();
    if ids != want {
        return Err(format!("the orchestrator lists {ids:?}, expected {want:?}"));
    }
    let containers: Vec<(&str, &str, &str)> = ps
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            Some((w.next()?, w.next()?, w.next()?))
        })
        .collect();
    // A stopped Quadlet app has no container (`--rm`); a running one has exactly one, and
    // podman has none the orchestrator does not list.
    let mut names: Vec<&str> = containers.iter().map(|c| c.0).collect();
    names.sort();
    if let Some(stray) = names.iter().find(|n| !want.contains(n)) {
        return Err(format!(
            "podman has container {stray}, which the orchestrator does not list"
        ));
    }
    if let Some(dup) = names.windows(2).find(|w| w[0] == w[1]) {
        return Err(format!("podman has two containers named {}", dup[0]));
    }
    if let Some(missing) = e.running.iter().find(|a| !names.contains(&a.as_str())) {
        return Err(format!(
            "podman has no container for {missing}, which should run"
        ));
    }
    let entries: Vec<&str> = units
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    if let Some(half) = entries.iter().find(|u| u.ends_with(".tmp")) {
        return Err(format!("the unit folder holds a half-written unit {half}"));
    }
    let mut stems: Vec<&str> = entries
        .iter()
        .filter_map(|u| u.strip_suffix(".container"))
        .collect();
    stems.sort();
    if stems != want {
        return Err(format!(
            "the unit folder has units for {stems:?}, expected {want:?}"
        ));
    }
    for a in listed {
        let (id, state, health) = (&a.id, a.state, a.health);
        let podman = containers
            .iter()
            .find(|c| c.0 == id.as_str())
            .map_or("", |c| c.1);
        let run = e.running.contains(id);
        if run && (state != AppState::Running || health != Health::Healthy || podman != "running") {
            return Err(format!(
                "{id} is {state}/{health} (podman: {podman}), expected running and healthy"
            ));
        }
        if !run && (state != AppState::Stopped || podman == "running") {
            return Err(format!(
                "{id} is {state} (podman: {podman}), expected stopped"
            ));
        }
    }
    let id_of = |app: &AppId| containers.iter().find(|c| c.0 == app.as_str()).map(|c| c.2);
    for (app, was) in &e.same {
        if id_of(app) != Some(was.as_str()) {
            return Err(format!(
                "{app}'s container was replaced ({was:.12} -> {:.12}); the fault was not its",
                id_of(app).unwrap_or("none")
            ));
        }
    }
    if let Some((app, was)) = &e.replaced
        && id_of(app) == Some(was.as_str())
    {
        return Err(format!("{app} still runs its old container {was:.12}"));
    }
    Ok(())
}

/// The daemon's journal since `since` (Unix seconds) holds no panic.
async fn no_panic_since(ctx: &NodeCtx, since: &str) -> CheckResult<()> {
    let out = ctx
        .sh(&format!(
            "journalctl -u {} --since @{since} -o cat --no-pager | grep -F -m 3 panicked",
            quote(&ctx.fleet.daemon_unit)
        ))
        .await?;
    if out.stdout.trim().is_empty() {
        Ok(())
    } else {
        Err(fail(format!(
            "the orchestrator panicked: {}",
            out.stdout.trim()
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use AppState::{Running, Stopped};

    fn app(a: &str) -> AppId {
        AppId::new(a).unwrap()
    }

    fn expect() -> Expect {
        Expect {
            running: vec![app("a")],
            stopped: vec![app("b")],
            same: BTreeMap::from([(app("a"), "aaa".to_owned())]),
            replaced: None,
        }
    }

    fn status(id: &str, state: AppState, health: Health) -> AppStatus {
        AppStatus {
            id: app(id),
            state,
            desired: None,
            health,
            container_id: None,
            started_at: None,
            error: None,
            reason: None,
        }
    }

    fn listed(a: AppState, b: AppState) -> Vec<AppStatus> {
        vec![
            status("a", a, Health::Healthy),
            status("b", b, Health::Unknown),
        ]
    }

    const PS: &str = "a running aaa\nb exited bbb\n";
    const UNITS: &str = "a.container\nb.container\ncontainer.d\n";

    #[test]
    fn the_converged_node_passes() {
        assert_eq!(
            judge(&expect(), &listed(Running, Stopped), PS, UNITS),
            Ok(())
        );
        // A stopped Quadlet app has no container at all.
        let ps = "a running aaa\n";
        assert_eq!(
            judge(&expect(), &listed(Running, Stopped), ps, UNITS),
            Ok(())
        );
    }

    #[test]
    fn each_disagreement_is_named() {
        let e = expect();
        let cases = [
            (
                listed(Running, Running),
                PS,
                UNITS,
                "b is running (podman: exited), expected stopped",
            ),
            (
                listed(Stopped, Stopped),
                PS,
                UNITS,
                "a is stopped/healthy (podman: running), expected running and healthy",
            ),
            (
                listed(Running, Stopped),
                "b exited bbb\n",
                UNITS,
                "podman has no container for a, which should run",
            ),
            (
                listed(Running, Stopped),
                "a running aaa\nc running ccc\n",
                UNITS,
                "podman has container c, which the orchestrator does not list",
            ),
            (
                listed(Running, Stopped),
                "a running aaa\na running aab\n",
                UNITS,
                "podman has two containers named a",
            ),
            (
                listed(Running, Stopped),
                "a running zzz\nb exited bbb\n",
                UNITS,
                "a's container was replaced (aaa -> zzz)",
            ),
            (
                listed(Running, Stopped),
                PS,
                "a.container\n",
                "the unit folder has units for [\"a\"]",
            ),
            (
                listed(Running, Stopped),
                PS,
                "a.container\nb.container\n.b.container.tmp\n",
                "half-written unit .b.container.tmp",
            ),
            (
                vec![status("a", Running, Health::Healthy)],
                PS,
                UNITS,
                "the orchestrator lists [\"a\"], expected [\"a\", \"b\"]",
            ),
        ];
        for (l, ps, units, want) in cases {
            let got = judge(&e, &l, ps, units).unwrap_err();
            assert!(got.contains(want), "got {got}\nwant {want}");
        }
    }

    #[test]
    fn a_replaced_container_must_be_new() {
        let mut e = expect();
        replaced(&mut e, &app("a"));
        assert!(e.same.is_empty());
        let got = judge(&e, &listed(Running, Stopped), PS, UNITS).unwrap_err();
        assert_eq!(got, "a still runs its old container aaa");
        let ps = "a running ccc\nb exited bbb\n";
        assert_eq!(judge(&e, &listed(Running, Stopped), ps, UNITS), Ok(()));
    }

    #[test]
    fn the_converge_time_reads_back() {
        let line = converge_line(Duration::from_millis(1234));
        assert_eq!(line, "converged in 1234 ms");
        assert_eq!(converge_ms(&line), Some(1234));
        assert_eq!(converge_ms("converged in soon"), None);
    }
}
