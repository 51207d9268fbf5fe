//! The HTTP API against a real server on 127.0.0.1:0, with the backend faked at its trait.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use orchestrator::api::{Api, serve};
use orchestrator::auth::{PasswordHash, Sessions};
use orchestrator::backend::fake::RecordingExecutor;
use orchestrator::backend::{Commands, RunState};
use orchestrator::manifest::{Catalog, Manifest};
use orchestrator::ops::Orchestrator;
use orchestrator::quadlet::PodmanVersion;
use serde_json::{Value, json};

use crate::fake::FakeBackend;

pub const PASSWORD: &str = "test-password";

/// A fresh data folder per test.
pub fn data_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "orch-it-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn manifest(text: &str) -> Manifest {
    Manifest::from_toml(Path::new("t.toml"), text).unwrap()
}

/// The test catalog: `web` (UI on `ui_port`), `db`, `wallet` (requires db).
pub fn catalog(ui_port: u16) -> Catalog {
    Catalog::from_manifests([
        manifest(&format!(
            "id = \"web\"\nimage = \"i\"\n[ui]\nport = {ui_port}\n"
        )),
        manifest("id = \"db\"\nimage = \"i\"\nvolumes = [\"db-data:/data\"]\n"),
        manifest("id = \"wallet\"\nimage = \"i\"\nrequires = [\"db\"]\n"),
        manifest("id = \"boom\"\nimage = \"i\"\n"),
    ])
}

pub fn core(fake: Arc<FakeBackend>, catalog: Catalog, dir: PathBuf) -> Arc<Orchestrator> {
    let commands = Arc::new(Commands::new(Arc::new(RecordingExecutor::ok())));
    Arc::new(Orchestrator::new(
        fake,
        commands,
        catalog,
        dir,
        PodmanVersion::new(5, 4, 2),
    ))
}

struct Server {
    base: String,
    client: reqwest::Client,
    /// The data folder; manifests in `<dir>/override` replace the catalog's.
    dir: PathBuf,
}

async fn start(fake: Arc<FakeBackend>, ui_port: u16) -> Server {
    start_with(fake, catalog(ui_port)).await
}

async fn start_with(fake: Arc<FakeBackend>, catalog: Catalog) -> Server {
    let dir = data_dir();
    std::fs::create_dir_all(dir.join("override")).unwrap();
    let catalog = catalog.with_override_dir(dir.join("override"));
    let core = core(fake, catalog, dir.clone());
    let api = Arc::new(Api::new(
        core,
        PasswordHash::create(PASSWORD, 1000).unwrap(),
        Sessions::new(Duration::from_secs(60)),
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(serve(listener, api, std::future::pending()));
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Server { base, client, dir }
}

impl Server {
    async fn raw(&self, body: impl Into<reqwest::Body>, token: Option<&str>) -> (u16, String) {
        let mut req = self
            .client
            .post(format!("{}/rpc", self.base))
            .header("content-type", "application/json")
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn call(&self, method: &str, params: Value, token: Option<&str>) -> Value {
        let body =
            json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": params }).to_string();
        let (status, text) = self.raw(body, token).await;
        assert_eq!(status, 200, "{text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn login(&self) -> String {
        let r = self
            .call("auth.login", json!({ "password": PASSWORD }), None)
            .await;
        r["result"]["token"].as_str().unwrap().to_owned()
    }

    /// A call as a browser sends it: with the session cookie, an `Origin` if given, and
    /// `content_type`; the HTTP status and the body.
    async fn browser_call(
        &self,
        method: &str,
        cookie: &str,
        origin: Option<&str>,
        content_type: &str,
    ) -> (u16, String) {
        let body = json!({ "jsonrpc": "2.0", "id": 7, "method": method, "params": { "id": "db" } });
        let mut req = self
            .client
            .post(format!("{}/rpc", self.base))
            .header("cookie", format!("orchestrator_session={cookie}"))
            .header("content-type", content_type)
            .body(body.to_string());
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let resp = req.send().await.unwrap();
        (resp.status().as_u16(), resp.text().await.unwrap())
    }

    async fn get(&self, path: &str, cookie: Option<&str>) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        if let Some(c) = cookie {
            req = req.header("cookie", format!("orchestrator_session={c}"));
        }
        req.send().await.unwrap()
    }
}

fn code(v: &Value) -> i64 {
    v["error"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("not an error: {v}"))
}

#[tokio::test]
async fn healthz_needs_no_session() {
    let s = start(Arc::default(), 1).await;
    let r = s.get("/healthz", None).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "ok");
}

#[tokio::test]
async fn every_protocol_error_gets_its_code() {
    let s = start(Arc::default(), 1).await;
    let parse = |t: &str| serde_json::from_str::<Value>(t).unwrap();
    let (status, text) = s.raw("{not json", None).await;
    assert_eq!((status, code(&parse(&text))), (200, -32700));
    for bad in [
        "[]",
        "42",
        r#"{"id":1,"method":"server.metrics"}"#,
        r#"{"jsonrpc":"2.0","id":1}"#,
        r#"{"jsonrpc":"2.0","id":{},"method":"x"}"#,
    ] {
        let (_, text) = s.raw(bad, None).await;
        assert_eq!(code(&parse(&text)), -32600, "{bad}: {text}");
    }
    let (status, text) = s.raw(vec![b' '; (1 << 20) + 1], None).await;
    assert_eq!((status, code(&parse(&text))), (413, -32600));
    // A client still sending a bigger body reads the 413 too, never a reset connection.
    for _ in 0..5 {
        let (status, text) = s.raw(vec![b' '; 2 << 20], None).await;
        assert_eq!((status, code(&parse(&text))), (413, -32600));
    }

    assert_eq!(
        code(&s.call("server.metrics", json!({}), None).await),
        -32001
    );
    assert_eq!(
        code(&s.call("server.metrics", json!({}), Some("forged")).await),
        -32001
    );
    assert_eq!(
        code(
            &s.call("auth.login", json!({ "password": "wrong" }), None)
                .await
        ),
        -32001
    );
    assert_eq!(code(&s.call("auth.login", json!({}), None).await), -32602);
    let t = s.login().await;
    let t = Some(t.as_str());
    assert_eq!(code(&s.call("no.such.method", json!({}), t).await), -32601);
    assert_eq!(code(&s.call("package.install", json!({}), t).await), -32602);
    assert_eq!(
        code(&s.call("package.install", json!({ "id": 5 }), t).await),
        -32602
    );
    assert_eq!(
        code(&s.call("package.install", json!({ "id": "../x" }), t).await),
        -32602
    );
    assert_eq!(
        code(&s.call("package.install", json!(["web"]), t).await),
        -32602
    );
    assert_eq!(
        code(
            &s.call(
                "package.uninstall",
                json!({ "id": "web", "purge": "yes" }),
                t
            )
            .await
        ),
        -32602
    );
    assert_eq!(
        code(&s.call("package.install", json!({ "id": "nope" }), t).await),
        -32002
    );
    assert_eq!(
        code(
            &s.call("package.install", json!({ "id": "wallet" }), t)
                .await
        ),
        -32003
    );
    assert_eq!(
        code(&s.call("package.stop", json!({ "id": "db" }), t).await),
        -32004
    );
    assert_eq!(
        code(&s.call("package.status", json!({ "id": "nope" }), t).await),
        -32002
    );
    // A notification (no id) is done but not answered.
    let (status, text) = s
        .raw(r#"{"jsonrpc":"2.0","method":"server.metrics"}"#, t)
        .await;
    assert_eq!((status, text.as_str()), (204, ""));
}

#[tokio::test]
async fn rpc_runs_no_call_sent_cross_site_or_not_as_json() {
    let fake = Arc::new(FakeBackend::default());
    let s = start(fake.clone(), 1).await;
    let t = s.login().await;
    s.call("package.install", json!({ "id": "db" }), Some(&t))
        .await;
    fake.calls.lock().unwrap().clear();
    let refused = |message: &str| {
        json!({ "jsonrpc": "2.0", "id": null, "error": { "code": -32600, "message": message } })
            .to_string()
    };
    let cross = refused("invalid request: cross-origin calls are refused");
    let not_json = refused("invalid request: Content-Type must be application/json");
    let json = "application/json";
    for (origin, content_type, want) in [
        (Some("http://evil.example"), json, (403, &cross)),
        // An app page, sandboxed into an opaque origin by the proxy.
        (Some("null"), json, (403, &cross)),
        (Some(s.base.as_str()), "text/plain", (415, &not_json)),
        (None, "text/plain;charset=UTF-8", (415, &not_json)),
        (None, "application/x-www-form-urlencoded", (415, &not_json)),
    ] {
        let (status, body) = s
            .browser_call("package.stop", &t, origin, content_type)
            .await;
        assert_eq!(
            (status, &body),
            want,
            "Origin {origin:?}, Content-Type {content_type}"
        );
    }
    assert!(fake.calls.lock().unwrap().is_empty(), "no refused call ran");
    assert_eq!(fake.run_state("db"), Some(RunState::Running));
    let (status, body) = s
        .browser_call(
            "package.stop",
            &t,
            Some(&s.base),
            "application/json; charset=utf-8",
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = s.browser_call("package.start", &t, None, json).await;
    assert_eq!(status, 200, "{body}");
    let ran: Vec<_> = fake.calls.lock().unwrap().iter().map(|c| c.what).collect();
    assert_eq!(
        ran,
        ["stop", "start"],
        "same-origin and Origin-less calls run"
    );
}

#[tokio::test]
async fn a_failing_backend_is_reported_with_the_command() {
    let fake = Arc::new(FakeBackend {
        fail_on: Some("boom".into()),
        ..FakeBackend::default()
    });
    let s = start(fake, 1).await;
    let t = s.login().await;
    let r = s
        .call("package.install", json!({ "id": "boom" }), Some(&t))
        .await;
    assert_eq!(code(&r), -32010);
    assert_eq!(
        r["error"]["message"],
        "failed to run `systemctl --user install boom.service`: Job failed"
    );
    let list = s.call("container-list", json!({}), Some(&t)).await;
    assert_eq!(
        list["result"]["apps"],
        json!([]),
        "a failed install leaves nothing half-done"
    );
}

#[tokio::test]
async fn lifecycle_through_the_api() {
    let fake = Arc::new(FakeBackend::default());
    let s = start(fake.clone(), 1).await;
    let t = s.login().await;
    let t = Some(t.as_str());
    let r = s.call("package.install", json!({ "id": "db" }), t).await;
    let st = &r["result"];
    assert_eq!(
        (
            st["id"].as_str(),
            st["state"].as_str(),
            st["container_id"].as_str()
        ),
        (Some("db"), Some("running"), Some("c0ffee"))
    );
    assert_eq!(st["unit_path"], "/units/db.container");
    assert_eq!(st["health"], "unknown");
    assert_eq!(st["desired"], "running");
    assert!(st["installed_at"].as_str().unwrap().ends_with('Z'));
    let r = s
        .call("package.install", json!({ "id": "wallet" }), t)
        .await;
    assert_eq!(r["result"]["state"], "running", "{r}");
    let r = s.call("package.stop", json!({ "id": "db" }), t).await;
    assert_eq!(
        r["error"],
        json!({
            "code": -32005,
            "message": "failed to stop `db`: required by wallet (stop them first or pass cascade: true)",
            "data": { "dependents": ["wallet"] }
        })
    );
    assert_eq!(fake.run_state("db"), Some(RunState::Running));
    let r = s
        .call("package.stop", json!({ "id": "db", "cascade": true }), t)
        .await;
    assert_eq!(
        (
            r["result"]["state"].as_str(),
            r["result"]["container_id"].as_str(),
            &r["result"]["cascaded"]
        ),
        (Some("stopped"), None, &json!(["wallet"]))
    );
    assert_eq!(r["result"]["desired"], "stopped");
    assert_eq!(fake.run_state("db"), Some(RunState::Stopped));
    assert_eq!(fake.run_state("wallet"), Some(RunState::Stopped));
    let r = s.call("package.start", json!({ "id": "wallet" }), t).await;
    assert_eq!(r["result"].get("cascaded"), None, "{r}");
    let r = s.call("package.status", json!({ "id": "db" }), t).await;
    assert_eq!(
        (&r["result"]["state"], &r["result"]["desired"]),
        (&json!("stopped"), &json!("stopped"))
    );
    let r = s.call("package.status", json!({ "id": "wallet" }), t).await;
    assert_eq!(r["result"]["desired"], "running");
    let r = s.call("package.status", json!({ "id": "web" }), t).await;
    assert_eq!(
        (&r["result"]["state"], &r["result"]["desired"]),
        (&json!("not-installed"), &Value::Null)
    );
    let r = s.call("container-list", json!({}), t).await;
    let states: Vec<(&str, &str)> = r["result"]["apps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| (a["id"].as_str().unwrap(), a["state"].as_str().unwrap()))
        .collect();
    assert_eq!(states, [("db", "stopped"), ("wallet", "running")]);
    let r = s.call("package.status", json!({ "id": "wallet" }), t).await;
    assert_eq!(
        (&r["result"]["health"], &r["result"]["reason"]),
        (
            &json!("degraded"),
            &json!("requires db, which is not running")
        )
    );
    let r = s
        .call("package.uninstall", json!({ "id": "db", "purge": true }), t)
        .await;
    assert_eq!(r["error"]["code"], -32005, "{r}");
    assert_eq!(
        r["error"]["message"],
        "failed to uninstall `db`: required by wallet (uninstall them first or pass cascade: true)"
    );
    let r = s
        .call(
            "package.uninstall",
            json!({ "id": "db", "purge": true, "cascade": true }),
            t,
        )
        .await;
    assert_eq!(
        r["result"],
        json!({ "id": "db", "uninstalled": true, "purged": true, "cascaded": ["wallet"] })
    );
    let m = s.call("server.metrics", json!({}), t).await["result"].clone();
    assert_eq!(m["backend"], "quadlet");
    assert_eq!(m["podman_version"], "5.4.2");
    assert_eq!(m["last_operation"]["method"], "package.uninstall");
    assert_eq!(m["last_operation"]["app"], "db");
    assert_eq!(m["calls"], json!({ "systemctl": 0, "podman": 0 }));
    assert_eq!(s.call("auth.logout", json!({}), t).await["result"], true);
    assert_eq!(code(&s.call("container-list", json!({}), t).await), -32001);
}

#[tokio::test]
async fn operations_on_one_app_serialize_and_different_apps_overlap() {
    let fake = Arc::new(FakeBackend {
        delay: Duration::from_millis(150),
        ..FakeBackend::default()
    });
    let s = Arc::new(start(fake.clone(), 1).await);
    let t = s.login().await;
    let call = |id: &'static str| {
        let (s, t) = (s.clone(), t.clone());
        tokio::spawn(async move {
            s.call("package.restart", json!({ "id": id }), Some(&t))
                .await
        })
    };
    for id in ["web", "db"] {
        assert_eq!(
            s.call("package.install", json!({ "id": id }), Some(&t))
                .await["result"]["state"],
            "running"
        );
    }
    fake.calls.lock().unwrap().clear();
    let (a, b, c) = (call("web"), call("web"), call("db"));
    for h in [a, b, c] {
        assert_eq!(h.await.unwrap()["result"]["state"], "running");
    }
    let calls = fake.calls.lock().unwrap().clone();
    let web: Vec<_> = calls.iter().filter(|c| c.app == "web").collect();
    let db = calls.iter().find(|c| c.app == "db").unwrap();
    assert_eq!(
        web.iter().map(|c| c.what).collect::<Vec<_>>(),
        ["restart", "restart"]
    );
    let overlap =
        |x: &crate::fake::Call, y: &crate::fake::Call| x.began < y.ended && y.began < x.ended;
    assert!(
        !overlap(web[0], web[1]),
        "two operations on web ran at once: {web:?}"
    );
    assert!(
        web.iter().any(|w| overlap(w, db)),
        "web and db did not run concurrently: {calls:?}"
    );
}

#[tokio::test]
async fn dashboard_and_login_form() {
    let s = start(Arc::default(), 1).await;
    let r = s.get("/", None).await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/login")
    );
    let r = s.get("/login", None).await;
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<input type=\"password\" name=\"password\"")
    );
    let form = |pw: &str| {
        s.client
            .post(format!("{}/login", s.base))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("password={pw}"))
            .send()
    };
    let r = form("wrong").await.unwrap();
    assert_eq!(
        (r.status().as_u16(), r.headers().get("set-cookie")),
        (401, None),
        "a wrong password opens no session"
    );
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("<p class=\"error\">wrong password</p>")
    );
    let r = form("test%2Dpassword").await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/")
    );
    let cookies: Vec<&str> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .collect();
    let token = cookies[0]
        .strip_prefix("orchestrator_session=")
        .unwrap()
        .split(';')
        .next()
        .unwrap();
    assert_eq!(
        cookies,
        [
            format!("orchestrator_session={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=60"),
            // Only for proxied app pages, which a link inside a sandboxed app page reaches by a
            // cross-site navigation.
            format!("orchestrator_app={token}; Path=/app/; HttpOnly; SameSite=Lax; Max-Age=60"),
        ]
    );
    let html = s.get("/", Some(token)).await.text().await.unwrap();
    for id in ["web", "db", "wallet"] {
        assert!(
            html.contains(&format!(
                "<tr id=\"app-{id}\"><td>{id}</td><td class=\"state\">not-installed</td>"
            )),
            "{html}"
        );
    }
    for hook in [
        "<button type=\"button\" id=\"logout\">Log out</button> <span id=\"status\"></span>",
        "<td class=\"ui\" data-href=\"/app/web/\"></td>",
        "</table>\n<script src=\"/dashboard.js\"></script>\n</body>",
    ] {
        assert!(html.contains(hook), "{hook} in {html}");
    }
    assert!(!html.contains("class=\"open\""), "nothing runs yet: {html}");
    s.call("package.install", json!({ "id": "web" }), Some(token))
        .await;
    let html = s.get("/", Some(token)).await.text().await.unwrap();
    assert!(
        html.contains("<td class=\"ui\" data-href=\"/app/web/\"><a class=\"open\" href=\"/app/web/\">open</a></td>"),
        "{html}"
    );
}

#[tokio::test]
async fn the_dashboard_script_is_served_from_the_binary_without_a_session() {
    let s = start(Arc::default(), 1).await;
    let r = s.get("/dashboard.js", None).await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["content-type"].to_str().unwrap().to_owned()
        ),
        (200, "text/javascript; charset=utf-8".to_owned())
    );
    assert_eq!(
        r.text().await.unwrap(),
        include_str!("../../src/api/dashboard.js")
    );
}

/// An app UI on a loopback port (returned) answering each request with `body(request)`, and
/// trying to plant a session cookie of its own on the orchestrator's origin.
async fn serve_ui(body: fn(&hyper::Request<hyper::body::Incoming>) -> String) -> u16 {
    let ui = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = ui.local_addr().unwrap().port();
    tokio::spawn(async move {
        loop {
            let (stream, _) = ui.accept().await.unwrap();
            let svc = hyper::service::service_fn(
                move |req: hyper::Request<hyper::body::Incoming>| async move {
                    let mut r = hyper::Response::new(http_body_util::Full::new(
                        hyper::body::Bytes::from(body(&req)),
                    ));
                    let h = r.headers_mut();
                    h.insert(
                        "set-cookie",
                        "orchestrator_session=planted; Path=/".parse().unwrap(),
                    );
                    h.insert("x-app", "kept".parse().unwrap());
                    Ok::<_, std::convert::Infallible>(r)
                },
            );
            tokio::spawn(
                hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), svc),
            );
        }
    });
    port
}

#[tokio::test]
async fn proxies_app_uis_on_loopback() {
    // The app UI: answers with what it was asked, and checks the session cookie is not leaked.
    let ui_port = serve_ui(|req| {
        let leaked =
            req.headers().contains_key("cookie") || req.headers().contains_key("authorization");
        format!("{} {} leaked={leaked}", req.method(), req.uri())
    })
    .await;
    let s = start(Arc::default(), ui_port).await;
    let t = s.login().await;
    let r = s.get("/app/web/api/v1/info?x=1", None).await;
    assert_eq!(r.status(), 303, "no session, no proxy");
    let r = s.get("/app/web/api/v1/info?x=1", Some(&t)).await;
    assert_eq!(r.status(), 200);
    let headers = |name: &str| -> Vec<String> {
        r.headers()
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(
        (
            headers("set-cookie"),
            headers("content-security-policy"),
            headers("x-app")
        ),
        (
            vec![],
            vec!["sandbox allow-scripts allow-forms".to_owned()],
            vec!["kept".to_owned()]
        ),
        "the app's cookie is dropped, its page sandboxed, its other headers kept"
    );
    assert_eq!(r.text().await.unwrap(), "GET /api/v1/info?x=1 leaked=false");

    // The app cookie (what a link inside a sandboxed app page carries) opens app pages and
    // nothing else, and does not reach the app either.
    let with_app_cookie = |path: &str| {
        s.client
            .get(format!("{}{path}", s.base))
            .header("cookie", format!("orchestrator_app={t}"))
            .send()
    };
    let r = with_app_cookie("/app/web/api/v1/info").await.unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "GET /api/v1/info leaked=false");
    let r = with_app_cookie("/").await.unwrap();
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (303, "/login"),
        "the dashboard takes the session cookie only"
    );
    let r = s
        .client
        .post(format!("{}/rpc", s.base))
        .header("cookie", format!("orchestrator_app={t}"))
        .header("content-type", "application/json")
        .body(r#"{"jsonrpc":"2.0","id":1,"method":"container-list","params":{}}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(
        code(&r.json().await.unwrap()),
        -32001,
        "the API takes the session only"
    );
    let r = s
        .client
        .get(format!("{}/app/web/", s.base))
        .header("cookie", "orchestrator_app=not-a-session")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "an unknown token opens nothing");
    let r = s.get("/app/web", Some(&t)).await;
    assert_eq!(
        (
            r.status().as_u16(),
            r.headers()["location"].to_str().unwrap()
        ),
        (308, "/app/web/")
    );
    for missing in ["/app/db/", "/app/nope/", "/app/..%2Fx/"] {
        let r = s.get(missing, Some(&t)).await;
        assert_eq!(r.status(), 404, "{missing}");
    }
}

#[tokio::test]
async fn proxies_a_ui_under_the_prefix_its_manifest_names() {
    // A companion serving another app's UI at that app's path (archy-lnd-ui at /app/lnd/).
    let ui_port = serve_ui(|req| format!("companion {}", req.uri())).await;
    let catalog = Catalog::from_manifests([
        manifest("id = \"lnd\"\nimage = \"i\"\n"),
        manifest(&format!(
            "id = \"lnd-ui\"\nimage = \"i\"\nrequires = [\"lnd\"]\n[ui]\nport = {ui_port}\nprefix = \"lnd\"\n"
        )),
    ]);
    let s = start_with(Arc::default(), catalog).await;
    let t = s.login().await;
    let r = s.get("/app/lnd/x?y=1", Some(&t)).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "companion /x?y=1");
    let r = s.get("/app/lnd-ui/", Some(&t)).await;
    assert_eq!(r.status(), 404, "served under its prefix only");
    assert_eq!(r.text().await.unwrap(), "no proxied UI at /app/lnd-ui/\n");
}

/// Every method but `auth.login`, with params that would otherwise be accepted.
const GUARDED: [(&str, &str); 10] = [
    ("auth.logout", "{}"),
    ("container-list", "{}"),
    ("package.install", r#"{"id":"db"}"#),
    ("package.update", r#"{"id":"db"}"#),
    ("package.start", r#"{"id":"db"}"#),
    ("package.stop", r#"{"id":"db","cascade":true}"#),
    ("package.restart", r#"{"id":"db"}"#),
    ("package.status", r#"{"id":"db"}"#),
    (
        "package.uninstall",
        r#"{"id":"db","purge":true,"cascade":true}"#,
    ),
    ("server.metrics", "{}"),
];

#[tokio::test]
async fn every_method_refuses_no_session_a_forged_token_and_a_logged_out_one() {
    let fake = Arc::new(FakeBackend::default());
    let s = start(fake.clone(), 1).await;
    let t = s.login().await;
    assert_eq!(
        s.call("package.install", json!({ "id": "db" }), Some(&t))
            .await["result"]["state"],
        "running"
    );
    let old = s.login().await;
    assert_eq!(
        s.call("auth.logout", json!({}), Some(&old)).await["result"],
        true
    );
    fake.calls.lock().unwrap().clear();
    for (method, params) in GUARDED {
        let params: Value = serde_json::from_str(params).unwrap();
        for token in [None, Some("forged"), Some(old.as_str())] {
            let r = s.call(method, params.clone(), token).await;
            assert_eq!(
                r["error"],
                json!({
                    "code": -32001,
                    "message": "failed to authorize: no valid session or wrong password"
                }),
                "{method} with {token:?}"
            );
        }
    }
    assert!(
        fake.calls.lock().unwrap().is_empty(),
        "no refused call reached the backend"
    );
    let list = s.call("container-list", json!({}), Some(&t)).await;
    assert_eq!(list["result"]["apps"][0]["state"], "running", "{list}");
}

#[tokio::test]
async fn new_params_are_checked_and_update_has_its_result_shape() {
    let fake = Arc::new(FakeBackend::default());
    let s = start(fake.clone(), 1).await;
    let t = s.login().await;
    let t = Some(t.as_str());
    for (method, params) in [
        ("package.stop", json!({ "id": "db", "cascade": "yes" })),
        ("package.uninstall", json!({ "id": "db", "cascade": 1 })),
        ("package.start", json!({ "id": "db", "cascade": true })),
        ("package.restart", json!({ "id": "db", "cascade": true })),
        ("package.update", json!({})),
        ("package.update", json!({ "id": "db", "image": "x" })),
        ("package.update", json!({ "id": "../x" })),
    ] {
        assert_eq!(
            code(&s.call(method, params.clone(), t).await),
            -32602,
            "{method} {params}"
        );
    }
    assert_eq!(
        code(&s.call("package.update", json!({ "id": "nope" }), t).await),
        -32002
    );
    assert_eq!(
        code(&s.call("package.update", json!({ "id": "db" }), t).await),
        -32004
    );
    s.call("package.install", json!({ "id": "db" }), t).await;
    let unchanged = json!({ "id": "db", "changed": false, "restarted": false, "image": "i" });
    let r = s.call("package.update", json!({ "id": "db" }), t).await;
    assert_eq!(r["result"], unchanged);
    let r = s.call("package.install", json!({ "id": "db" }), t).await;
    assert_eq!(
        r["result"], unchanged,
        "install of an installed app is an update"
    );
    std::fs::write(
        s.dir.join("override/db.toml"),
        "id = \"db\"\nimage = \"i:v2\"\nvolumes = [\"db-data:/data\"]\n",
    )
    .unwrap();
    let r = s.call("package.update", json!({ "id": "db" }), t).await;
    assert_eq!(
        r["result"],
        json!({ "id": "db", "changed": true, "restarted": true, "image": "i:v2" })
    );
    let applied: Vec<_> = fake.calls.lock().unwrap().iter().map(|c| c.what).collect();
    assert_eq!(applied, ["install", "apply+restart"]);
}

#[tokio::test]
async fn an_update_that_does_not_get_healthy_answers_32006() {
    let fake = Arc::new(FakeBackend::default());
    let s = start(fake.clone(), 1).await;
    let t = s.login().await;
    let t = Some(t.as_str());
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let flaky = |image: &str| {
        format!(
            "id = \"web\"\nimage = \"{image}\"\n[health]\ntcp = {{ port = {closed} }}\nstart_budget_secs = 1\n"
        )
    };
    std::fs::write(s.dir.join("override/web.toml"), flaky("i")).unwrap();
    s.call("package.install", json!({ "id": "web" }), t).await;
    std::fs::write(s.dir.join("override/web.toml"), flaky("i:v2")).unwrap();
    let r = s.call("package.update", json!({ "id": "web" }), t).await;
    assert_eq!(
        r["error"],
        json!({
            "code": -32006,
            "message": "failed to update `web`: not healthy within 1s; rolled back to the previous unit"
        })
    );
    let applied: Vec<_> = fake.calls.lock().unwrap().iter().map(|c| c.what).collect();
    assert_eq!(applied, ["install", "apply+restart", "apply+restart"]);
    assert_eq!(
        fake.specs.lock().unwrap()[&orchestrator::manifest::AppId::parse("web").unwrap()],
        "image=i desired=Running",
        "the previous spec is back"
    );
}

#[tokio::test]
async fn server_reconcile_runs_one_whole_tick_now_one_per_call() {
    let fake = Arc::new(FakeBackend::default());
    let s = Arc::new(start(fake.clone(), 1).await);
    assert_eq!(
        code(&s.call("server.reconcile", json!({}), None).await),
        -32001
    );
    let t = s.login().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    std::fs::write(
        s.dir.join("override/web.toml"),
        format!("id = \"web\"\nimage = \"i\"\n[health]\ntcp = {{ port = {closed} }}\n"),
    )
    .unwrap();
    let r = s
        .call("package.install", json!({ "id": "web" }), Some(&t))
        .await;
    assert_eq!(r["result"]["health"], "unknown", "{r}");
    let r = s.call("server.reconcile", json!({}), Some(&t)).await;
    assert_eq!(r["result"]["tick"], 1, "{r}");
    assert!(r["result"]["duration_ms"].is_u64(), "{r}");
    // The tick checked health (nothing listens on the port): the next status has it.
    let r = s
        .call("package.status", json!({ "id": "web" }), Some(&t))
        .await;
    assert_eq!(r["result"]["health"], "unhealthy", "{r}");
    let calls = (0..3).map(|_| {
        let (s, t) = (s.clone(), t.clone());
        tokio::spawn(async move { s.call("server.reconcile", json!({}), Some(&t)).await })
    });
    let mut ticks = Vec::new();
    for c in calls {
        ticks.push(c.await.unwrap()["result"]["tick"].as_u64().unwrap());
    }
    ticks.sort();
    assert_eq!(ticks, [2, 3, 4]);
    let m = s.call("server.metrics", json!({}), Some(&t)).await;
    assert_eq!(m["result"]["reconcile"]["ticks"], 4, "{m}");
    assert_eq!(
        code(
            &s.call("server.reconcile", json!({ "now": true }), Some(&t))
                .await
        ),
        -32602
    );
}

/// Checks `text` against the OpenMetrics text format's rules that a scraper relies on: each
/// family declared once by `# TYPE` before its samples, samples named after a declared family
/// with a number for value, histogram buckets cumulative and ending at `+Inf` equal to
/// `_count`, and `# EOF` last. Returns the samples by name with labels.
fn parse_openmetrics(text: &str) -> std::collections::BTreeMap<String, f64> {
    let mut types: std::collections::BTreeMap<String, String> = Default::default();
    let mut samples = std::collections::BTreeMap::new();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.last(), Some(&"# EOF"), "{text}");
    for line in &lines[..lines.len() - 1] {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').unwrap();
            assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
            assert!(
                types.insert(name.to_owned(), kind.to_owned()).is_none(),
                "family {name} declared twice"
            );
        } else if line.starts_with("# HELP ") || line.starts_with("# UNIT ") {
        } else {
            let (series, value) = line.rsplit_once(' ').unwrap();
            let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
            let name = series.split('{').next().unwrap();
            let family = types
                .keys()
                .find(|f| {
                    name == f.as_str()
                        || ["_total", "_count", "_sum", "_bucket", "_created"]
                            .iter()
                            .any(|s| name.strip_suffix(s) == Some(f.as_str()))
                })
                .unwrap_or_else(|| panic!("{line}: no # TYPE before it"));
            assert!(!family.is_empty());
            samples.insert(series.to_owned(), value);
        }
    }
    for (family, kind) in &types {
        if kind != "histogram" {
            continue;
        }
        let mut by_labels: std::collections::BTreeMap<String, Vec<(f64, f64)>> = Default::default();
        for (series, v) in &samples {
            let Some(labels) = series.strip_prefix(&format!("{family}_bucket{{")) else {
                continue;
            };
            let (le, others): (Vec<&str>, Vec<&str>) = labels
                .trim_end_matches('}')
                .split(',')
                .partition(|l| l.starts_with("le="));
            let le = le[0].trim_start_matches("le=").trim_matches('"');
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().unwrap()
            };
            by_labels
                .entry(others.join(","))
                .or_default()
                .push((le, *v));
        }
        assert!(!by_labels.is_empty(), "histogram {family} has no buckets");
        for (labels, mut buckets) in by_labels {
            buckets.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap());
            assert!(
                buckets.windows(2).all(|w| w[0].1 <= w[1].1),
                "{family} {labels}"
            );
            let (le, inf) = *buckets.last().unwrap();
            assert!(le.is_infinite(), "{family} {labels}: no +Inf bucket");
            let count = if labels.is_empty() {
                format!("{family}_count")
            } else {
                format!("{family}_count{{{labels}}}")
            };
            assert_eq!(samples.get(&count), Some(&inf), "{count}");
        }
    }
    samples
}

#[tokio::test]
async fn metrics_are_scraped_in_the_openmetrics_format_behind_a_session() {
    let fake = Arc::new(FakeBackend::default());
    let s = start(fake.clone(), 1).await;
    let url = format!("{}/metrics", s.base);
    let r = s.client.get(&url).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert!(!r.text().await.unwrap().contains("orchestrator_"));
    let t = s.login().await;
    s.call("package.install", json!({ "id": "db" }), Some(&t))
        .await;
    s.call("package.install", json!({ "id": "wallet" }), Some(&t))
        .await;
    s.call("package.stop", json!({ "id": "wallet" }), Some(&t))
        .await;
    s.call("server.reconcile", json!({}), Some(&t)).await;
    let r = s.client.get(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"],
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
    let samples = parse_openmetrics(&r.text().await.unwrap());
    let get = |k: &str| samples.get(k).copied();
    assert_eq!(
        (
            get("orchestrator_apps{state=\"running\"}"),
            get("orchestrator_apps{state=\"stopped\"}"),
            get("orchestrator_reconcile_ticks_total"),
            get("orchestrator_reconcile_tick_duration_seconds_count"),
            get("orchestrator_operation_duration_seconds_count{method=\"package.install\"}"),
            get("orchestrator_operation_duration_seconds_count{method=\"package.stop\"}"),
        ),
        (
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(1.0),
            Some(2.0),
            Some(1.0)
        )
    );
    assert!(get("orchestrator_commands_total{program=\"systemctl\"}").is_some());
    assert!(get("orchestrator_startup_seconds").is_some());
}
