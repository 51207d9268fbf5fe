//! The accept loop and the router: which path goes to which handler, and who needs a session.
//!
//! Every connection has a header timeout (which also ends a keep-alive connection left idle that
//! long), a body timeout of the same length, and a lifetime after which it is closed once its
//! request in flight is answered. Open connections are capped (see `connections`); a failing
//! `accept` is retried with a backoff (see `backoff`). JSON-RPC calls run on tasks of their own,
//! so a client that goes away does not cut an operation in half, and shutdown waits for them;
//! none runs unless the request passes the cross-site guard (see `csrf`).

use std::convert::Infallible;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, HeaderValue, RETRY_AFTER, SET_COOKIE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::backoff::AcceptBackoff;
use super::connections::{Admission, Connections, Ticket};
use super::http::{
    APP_COOKIE, BodyError, Reply, SESSION_COOKIE, cookie, form_field, read_body, redirect, reply,
    session_token, text,
};
use super::pages::{self, Row};
use super::tracker::Tracker;
use super::{csrf, proxy, rpc};
use crate::auth::{PasswordHash, Sessions};
use crate::error::Error;
use crate::log;
use crate::login::{LoginGate, LoginLimits};
use crate::ops::Orchestrator;
use crate::status::AppStatus;
use crate::time::seconds;

/// Largest JSON-RPC request body.
pub const MAX_RPC_BODY: usize = 1 << 20;

/// How the HTTP server protects itself from slow, idle and too many clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HttpLimits {
    /// Time a client has to send a request's header (and its body), and the longest a
    /// keep-alive connection may wait idle for its next request.
    pub header_timeout: Duration,
    /// After this long a connection is closed, once the request in flight is answered.
    pub connection_lifetime: Duration,
    /// Open connections at most; at the cap the oldest idle one is closed for a new one.
    pub max_connections: usize,
    /// How long shutdown waits for requests and operations in flight.
    pub shutdown_grace: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(10),
            connection_lifetime: Duration::from_secs(600),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// Everything the handlers share.
pub struct Api {
    /// The operations.
    pub core: Arc<Orchestrator>,
    /// Live sessions.
    pub sessions: Sessions,
    /// The login password's hash.
    pub password: PasswordHash,
    /// The client the proxy forwards with (loopback only, no redirects followed).
    pub client: reqwest::Client,
    /// Login limits and the password hashing pool.
    pub login: LoginGate,
    /// Timeouts and the connection cap.
    pub http: HttpLimits,
    /// JSON-RPC calls in flight.
    operations: Tracker,
}

impl Api {
    /// Builds the shared handler state with the default limits.
    pub fn new(core: Arc<Orchestrator>, password: PasswordHash, sessions: Sessions) -> Api {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Api {
            core,
            sessions,
            password,
            client,
            login: LoginGate::new(LoginLimits::default()),
            http: HttpLimits::default(),
            operations: Tracker::default(),
        }
    }

    /// The same, with these HTTP limits.
    pub fn with_http(mut self, http: HttpLimits) -> Api {
        self.http = http;
        self
    }

    /// The same, with these login limits.
    pub fn with_login(mut self, limits: LoginLimits) -> Api {
        self.login = LoginGate::new(limits);
        self
    }

    fn authorized(&self, req: &Request<Incoming>) -> bool {
        session_token(req.headers()).is_some_and(|t| self.sessions.check(&t))
    }

    /// Whether a request for a proxied app page comes from a logged-in browser (or client).
    fn authorized_app(&self, req: &Request<Incoming>) -> bool {
        self.authorized(req)
            || cookie(req.headers(), APP_COOKIE).is_some_and(|t| self.sessions.check(&t))
    }
}

/// Serves HTTP/1 on `listener` until `shutdown` completes; then stops accepting, lets every
/// connection finish the request it is serving, and waits for those and the JSON-RPC calls in
/// flight at most `shutdown_grace` before it returns.
pub async fn serve(listener: TcpListener, api: Arc<Api>, shutdown: impl Future<Output = ()>) {
    let conns = Connections::new(api.http.max_connections);
    let (closing_tx, closing) = watch::channel(false);
    let mut backoff = AcceptBackoff::default();
    let (mut refusals, mut evictions) = (Throttled::default(), Throttled::default());
    let cap = api.http.max_connections;
    tokio::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(a) => {
                backoff.succeeded();
                a
            }
            Err(e) => {
                let failure = backoff.failed(Instant::now(), &e.to_string());
                if let Some(line) = failure.log {
                    log::warn(line);
                }
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(failure.wait) => continue,
                }
            }
        };
        match conns.admit() {
            Admission::Admitted { ticket, evicted } => {
                if let Some(more) = evicted.then(|| evictions.due()).flatten() {
                    log::warn(format_args!(
                        "{cap} connections open: closed the oldest idle one for {peer} ({more} more since the last report)"
                    ));
                }
                tokio::spawn(connection(
                    api.clone(),
                    stream,
                    peer,
                    ticket,
                    closing.clone(),
                ));
            }
            // Closed at once: every open connection is serving a request.
            Admission::Refused => {
                if let Some(more) = refusals.due() {
                    log::warn(format_args!(
                        "connection from {peer} refused: all {cap} connections are serving requests ({more} more since the last report)"
                    ));
                }
            }
        }
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let grace = api.http.shutdown_grace;
    log::info(format_args!(
        "shutdown: stopped accepting; waiting up to {} for {} connections and {} calls in flight",
        seconds(grace),
        conns.len(),
        api.operations.count()
    ));
    let drained = tokio::time::timeout(grace, async {
        conns.closed().await;
        api.operations.idle().await;
    })
    .await;
    if drained.is_err() {
        log::warn(format_args!(
            "shutdown: {} connections and {} calls still in flight after {}; leaving them",
            conns.len(),
            api.operations.count(),
            seconds(grace)
        ));
    }
}

/// An event logged at most once a second, with how many were not logged since.
#[derive(Default)]
struct Throttled {
    logged_at: Option<Instant>,
    unlogged: u64,
}

impl Throttled {
    /// `Some(unlogged)` if this one is to be logged.
    fn due(&mut self) -> Option<u64> {
        let now = Instant::now();
        if self
            .logged_at
            .is_some_and(|t| now.duration_since(t) < Duration::from_secs(1))
        {
            self.unlogged += 1;
            return None;
        }
        self.logged_at = Some(now);
        Some(std::mem::take(&mut self.unlogged))
    }
}

/// Serves one connection until the client closes it, a timeout ends it, a newer connection
/// needs its place (only while it is idle), or shutdown.
async fn connection(
    api: Arc<Api>,
    stream: TcpStream,
    peer: SocketAddr,
    ticket: Ticket,
    mut closing: watch::Receiver<bool>,
) {
    let ticket = Arc::new(ticket);
    let limits = api.http;
    let service = {
        let ticket = ticket.clone();
        service_fn(move |req| {
            let busy = ticket.busy();
            let api = api.clone();
            async move {
                let reply = route(&api, req, peer.ip()).await;
                drop(busy);
                Ok::<_, Infallible>(reply)
            }
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    let lifetime = tokio::time::sleep(limits.connection_lifetime);
    tokio::pin!(lifetime);
    tokio::select! {
        _ = conn.as_mut() => return,
        // Dropping the connection closes its socket now; it had no request in flight.
        _ = ticket.evicted() => return,
        _ = closing.wait_for(|c| *c) => {}
        _ = &mut lifetime => {}
    }
    conn.as_mut().graceful_shutdown();
    let _ = conn.await;
}

async fn route(api: &Arc<Api>, req: Request<Incoming>, client: IpAddr) -> Reply {
    let path = req.uri().path().to_owned();
    match (req.method(), path.as_str()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok"),
        (&Method::POST, "/rpc") => rpc_endpoint(api, req, client).await,
        (_, "/rpc") => text(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST a JSON-RPC 2.0 request\n",
        ),
        (&Method::GET, "/metrics") if api.authorized(&req) => match api.core.prometheus().await {
            Ok(body) => reply(StatusCode::OK, crate::prometheus::CONTENT_TYPE, body),
            Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
        },
        (&Method::GET, "/metrics") => text(
            StatusCode::UNAUTHORIZED,
            "log in first: Authorization: Bearer <token from auth.login>\n",
        ),
        (&Method::GET, "/dashboard.js") => pages::script(),
        (&Method::GET, "/login") => pages::login(StatusCode::OK, None),
        (&Method::POST, "/login") => login_form(api, req, client).await,
        (&Method::GET, "/") if api.authorized(&req) => dashboard(api).await,
        (&Method::GET, "/") => redirect(StatusCode::SEE_OTHER, "/login"),
        (_, p) if p.starts_with("/app/") => app(api, req, &path["/app/".len()..]).await,
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

/// Reads a body of at most `limit` bytes within the header timeout.
async fn body_within(api: &Api, body: Incoming, limit: usize) -> Result<hyper::body::Bytes, Reply> {
    match tokio::time::timeout(api.http.header_timeout, read_body(body, limit)).await {
        Ok(Ok(b)) => Ok(b),
        Ok(Err(BodyError::TooLarge)) => {
            Err(text(StatusCode::PAYLOAD_TOO_LARGE, "body too large\n"))
        }
        Ok(Err(BodyError::Broken)) => Err(text(StatusCode::BAD_REQUEST, "broken request body\n")),
        Err(_) => Err(text(StatusCode::REQUEST_TIMEOUT, "request body too slow\n")),
    }
}

/// A body over the limit but at most this big is read and dropped before the 413: a client
/// still sending would otherwise see its connection reset instead of the answer.
const DRAIN_LIMIT: u64 = 8 << 20;

/// Reads and drops a body, frame by frame (nothing is kept), within the header timeout.
async fn drain(api: &Api, mut body: Incoming) {
    use http_body_util::BodyExt;
    let _ = tokio::time::timeout(api.http.header_timeout, async {
        while let Some(Ok(_)) = body.frame().await {}
    })
    .await;
}

async fn rpc_endpoint(api: &Arc<Api>, req: Request<Incoming>, client: IpAddr) -> Reply {
    let too_large = || {
        let body = rpc::error(
            serde_json::Value::Null,
            rpc::INVALID_REQUEST,
            "invalid request: body over 1 MiB",
        );
        reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            "application/json",
            body.to_string(),
        )
    };
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(n) = declared.filter(|n| *n > MAX_RPC_BODY as u64) {
        if n <= DRAIN_LIMIT {
            drain(api, req.into_body()).await;
        }
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let body = match body_within(api, body, MAX_RPC_BODY).await {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(),
        Err(r) => return r,
    };
    if let Err(refused) = csrf::check(&parts.headers) {
        let body = rpc::error(
            serde_json::Value::Null,
            rpc::INVALID_REQUEST,
            refused.message(),
        );
        return reply(refused.status(), "application/json", body.to_string());
    }
    // Its own task: the call runs to its end even if the client goes away, and shutdown waits.
    let call = {
        let (api, tracked) = (api.clone(), api.operations.track());
        tokio::spawn(async move {
            let _tracked = tracked;
            rpc::handle(&api, &parts.headers, &body, client).await
        })
    };
    match call.await {
        Ok(Some(v)) => reply(StatusCode::OK, "application/json", v.to_string()),
        Ok(None) => text(StatusCode::NO_CONTENT, ""),
        Err(e) => text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("failed internally: {e}\n"),
        ),
    }
}

async fn login_form(api: &Api, req: Request<Incoming>, client: IpAddr) -> Reply {
    let body = match body_within(api, req.into_body(), 64 << 10).await {
        Ok(b) => b,
        Err(r) if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return pages::login(StatusCode::PAYLOAD_TOO_LARGE, Some("request too large"));
        }
        Err(r) => return r,
    };
    let password = form_field(&body, "password").unwrap_or_default();
    match api
        .login
        .check("login form", client, &api.password, password)
        .await
    {
        Ok(()) => {}
        Err(Error::TooManyLogins { retry_after_secs }) => {
            let mut r = pages::login(
                StatusCode::TOO_MANY_REQUESTS,
                Some("too many login attempts; try again later"),
            );
            r.headers_mut()
                .insert(RETRY_AFTER, HeaderValue::from(retry_after_secs));
            return r;
        }
        Err(_) => return pages::login(StatusCode::UNAUTHORIZED, Some("wrong password")),
    }
    let Ok(session) = api.sessions.open() else {
        return pages::login(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("could not open a session"),
        );
    };
    let ttl = api.sessions.ttl().as_secs();
    let cookies = [
        format!(
            "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={ttl}",
            session.token
        ),
        format!(
            "{APP_COOKIE}={}; Path=/app/; HttpOnly; SameSite=Lax; Max-Age={ttl}",
            session.token
        ),
    ];
    let mut r = redirect(StatusCode::SEE_OTHER, "/");
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c) {
            r.headers_mut().append(SET_COOKIE, v);
        }
    }
    r
}

async fn dashboard(api: &Api) -> Reply {
    let installed = match api.core.list().await {
        Ok(l) => l,
        Err(e) => return text(StatusCode::INTERNAL_SERVER_ERROR, format!("{e}\n")),
    };
    let catalog = api.core.catalog();
    let mut rows: Vec<Row> = installed
        .into_iter()
        .map(|s| Row {
            proxy_prefix: catalog.get(&s.id).and_then(|m| m.proxy_prefix()).cloned(),
            status: s,
        })
        .collect();
    let missing: Vec<_> = catalog
        .iter()
        .filter(|m| !rows.iter().any(|r| r.status.id == m.id))
        .collect();
    for m in missing {
        rows.push(Row {
            status: AppStatus::not_installed(m.id.clone(), String::new()),
            proxy_prefix: m.proxy_prefix().cloned(),
        });
    }
    rows.sort_by(|a, b| a.status.id.cmp(&b.status.id));
    pages::dashboard(&rows)
}

async fn app(api: &Api, req: Request<Incoming>, tail: &str) -> Reply {
    let (segment, rest) = match tail.split_once('/') {
        Some((s, r)) => (s, Some(r.to_owned())),
        None => (tail, None),
    };
    let Some(id) = pages::app_id(segment) else {
        return text(StatusCode::NOT_FOUND, "unknown app\n");
    };
    if !api.authorized_app(&req) {
        return redirect(StatusCode::SEE_OTHER, "/login");
    }
    match rest {
        // Relative links in the app's pages only resolve under a trailing slash.
        None => redirect(StatusCode::PERMANENT_REDIRECT, &format!("/app/{id}/")),
        Some(rest) => proxy::proxy(api, &id, &rest, req).await,
    }
}
