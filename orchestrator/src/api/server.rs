//! The accept loop and the router: which path goes to which handler, and who needs a session.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{CONTENT_LENGTH, HeaderValue, SET_COOKIE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use super::http::{
    BodyError, Reply, SESSION_COOKIE, form_field, read_body, redirect, reply, session_token, text,
};
use super::pages::{self, Row};
use super::{proxy, rpc};
use crate::auth::{PasswordHash, Sessions};
use crate::log;
use crate::ops::Orchestrator;
use crate::status::AppStatus;

/// Largest JSON-RPC request body.
pub const MAX_RPC_BODY: usize = 1 << 20;

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
}

impl Api {
    /// Builds the shared handler state.
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
        }
    }

    fn authorized(&self, req: &Request<Incoming>) -> bool {
        session_token(req.headers()).is_some_and(|t| self.sessions.check(&t))
    }
}

/// Serves HTTP/1 on `listener` until `shutdown` completes.
pub async fn serve(listener: TcpListener, api: Arc<Api>, shutdown: impl Future<Output = ()>) {
    tokio::pin!(shutdown);
    loop {
        let (stream, _) = tokio::select! {
            _ = &mut shutdown => return,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    log::warn(format_args!("accept failed: {e}"));
                    continue;
                }
            },
        };
        let api = api.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req| {
                let api = api.clone();
                async move { Ok::<_, Infallible>(route(&api, req).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn route(api: &Api, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_owned();
    match (req.method(), path.as_str()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "ok"),
        (&Method::POST, "/rpc") => rpc_endpoint(api, req).await,
        (_, "/rpc") => text(
            StatusCode::METHOD_NOT_ALLOWED,
            "POST a JSON-RPC 2.0 request\n",
        ),
        (&Method::GET, "/login") => pages::login(StatusCode::OK, None),
        (&Method::POST, "/login") => login_form(api, req).await,
        (&Method::GET, "/") if api.authorized(&req) => dashboard(api).await,
        (&Method::GET, "/") => redirect(StatusCode::SEE_OTHER, "/login"),
        (_, p) if p.starts_with("/app/") => app(api, req, &path["/app/".len()..]).await,
        _ => text(StatusCode::NOT_FOUND, "not found\n"),
    }
}

async fn rpc_endpoint(api: &Api, req: Request<Incoming>) -> Reply {
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
    if declared.is_some_and(|n| n > MAX_RPC_BODY as u64) {
        return too_large();
    }
    let (parts, body) = req.into_parts();
    let body = match read_body(body, MAX_RPC_BODY).await {
        Ok(b) => b,
        Err(BodyError::TooLarge) => return too_large(),
        Err(BodyError::Broken) => return text(StatusCode::BAD_REQUEST, "broken request body\n"),
    };
    match rpc::handle(api, &parts.headers, &body).await {
        Some(v) => reply(StatusCode::OK, "application/json", v.to_string()),
        None => text(StatusCode::NO_CONTENT, ""),
    }
}

async fn login_form(api: &Api, req: Request<Incoming>) -> Reply {
    let Ok(body) = read_body(req.into_body(), 64 << 10).await else {
        return pages::login(StatusCode::PAYLOAD_TOO_LARGE, Some("request too large"));
    };
    let password = form_field(&body, "password").unwrap_or_default();
    let hash = api.password.clone();
    let ok = tokio::task::spawn_blocking(move || hash.verify(&password))
        .await
        .unwrap_or(false);
    if !ok {
        log::warn("login form: wrong password");
        return pages::login(StatusCode::UNAUTHORIZED, Some("wrong password"));
    }
    let Ok(session) = api.sessions.open() else {
        return pages::login(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("could not open a session"),
        );
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        session.token,
        api.sessions.ttl().as_secs()
    );
    let mut r = redirect(StatusCode::SEE_OTHER, "/");
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(SET_COOKIE, v);
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
            proxied: catalog
                .get(&s.id)
                .and_then(|m| m.ui)
                .is_some_and(|u| u.proxied),
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
            proxied: false,
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
    if !api.authorized(&req) {
        return redirect(StatusCode::SEE_OTHER, "/login");
    }
    match rest {
        // Relative links in the app's pages only resolve under a trailing slash.
        None => redirect(StatusCode::PERMANENT_REDIRECT, &format!("/app/{id}/")),
        Some(rest) => proxy::proxy(api, &id, &rest, req).await,
    }
}
