//! The reverse proxy: `/app/<prefix>/<rest>` to `http://127.0.0.1:<ui.port>/<rest>` (loopback
//! only) of the app proxied under that prefix (its id, unless its manifest names another).
//!
//! An app's pages are served from the orchestrator's own origin, so they must not be able to act
//! as the operator: the app's `Set-Cookie` is dropped (it could plant or overwrite the session
//! cookie), and every proxied response is sandboxed by CSP without `allow-same-origin`, so the
//! app's scripts run in an opaque origin: they cannot read the dashboard, and a call they make
//! to `/rpc` carries `Origin: null`, which the `/rpc` guard refuses (see `csrf`).

use hyper::body::Incoming;
use hyper::header::{self, HeaderName};
use hyper::{Request, StatusCode};

use super::http::{Reply, read_body, reply, text};
use super::server::Api;
use crate::manifest::AppId;

/// Largest request body forwarded to an app.
const MAX_PROXY_BODY: usize = 16 << 20;

/// The CSP every proxied response gets: scripts and forms work, but in an opaque origin.
const APP_CSP: &str = "sandbox allow-scripts allow-forms";

/// Headers that belong to one hop, or carry or set the orchestrator's own session, and are not
/// forwarded.
fn forwarded(name: &HeaderName) -> bool {
    ![
        header::SET_COOKIE,
        header::HOST,
        header::CONNECTION,
        header::CONTENT_LENGTH,
        header::TRANSFER_ENCODING,
        header::AUTHORIZATION,
        header::COOKIE,
        header::UPGRADE,
        header::TE,
        header::TRAILER,
    ]
    .contains(name)
}

/// Proxies `req` (already authorized) to the UI port of the app proxied at `prefix`; `rest`
/// starts after `/app/<prefix>/`.
pub async fn proxy(api: &Api, prefix: &AppId, rest: &str, req: Request<Incoming>) -> Reply {
    let catalog = api.core.catalog();
    let Some((id, port)) = catalog
        .proxied(prefix)
        .and_then(|m| Some((m.id.clone(), m.ui.as_ref()?.port)))
    else {
        return text(
            StatusCode::NOT_FOUND,
            format!("no proxied UI at /app/{prefix}/\n"),
        );
    };
    let query = req
        .uri()
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let url = format!("http://127.0.0.1:{port}/{rest}{query}");
    let (parts, body) = req.into_parts();
    let Ok(body) = read_body(body, MAX_PROXY_BODY).await else {
        return text(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body too large or broken\n",
        );
    };
    let mut out = api.client.request(parts.method, &url).body(body);
    for (name, value) in parts.headers.iter().filter(|(n, _)| forwarded(n)) {
        out = out.header(name, value);
    }
    let resp = match out.send().await {
        Ok(r) => r,
        Err(e) => {
            return text(
                StatusCode::BAD_GATEWAY,
                format!("app {id} did not answer: {e}\n"),
            );
        }
    };
    let status = resp.status();
    let headers = resp.headers().clone();
    let bytes = match resp.bytes().await {
        Ok(b) => b,
        Err(e) => {
            return text(
                StatusCode::BAD_GATEWAY,
                format!("app {id} broke off its answer: {e}\n"),
            );
        }
    };
    let mut r = reply(status, "application/octet-stream", bytes);
    r.headers_mut().remove(header::CONTENT_TYPE);
    for (name, value) in headers.iter().filter(|(n, _)| forwarded(n)) {
        r.headers_mut().append(name, value.clone());
    }
    // Appended: a CSP the app sends itself is enforced too, and cannot lift the sandbox.
    r.headers_mut().append(
        header::CONTENT_SECURITY_POLICY,
        header::HeaderValue::from_static(APP_CSP),
    );
    r
}
