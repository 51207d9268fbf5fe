//! The login form and the dashboard: the HTML an operator (and the harness UI layer) sees.

use hyper::StatusCode;

use super::http::{Reply, html_escape, reply};
use crate::manifest::AppId;
use crate::status::{AppState, AppStatus};

const STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}";

fn page(status: StatusCode, title: &str, body: &str) -> Reply {
    let html = format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title><style>{STYLE}</style></head>\n<body>\n<h1>{title}</h1>\n{body}</body></html>\n"
    );
    reply(status, "text/html; charset=utf-8", html)
}

/// The login form, with an optional message (e.g. a wrong password).
pub fn login(status: StatusCode, message: Option<&str>) -> Reply {
    let note = message
        .map(|m| format!("<p class=\"error\">{}</p>\n", html_escape(m)))
        .unwrap_or_default();
    let form = "<form method=\"post\" action=\"/login\">\n<label>Password <input type=\"password\" name=\"password\" autofocus></label>\n<button type=\"submit\">Log in</button>\n</form>\n";
    page(status, "orchestrator login", &format!("{note}{form}"))
}

/// One dashboard row: the app, its status, and the link to its proxied UI if it has one.
pub struct Row {
    /// The app's status (`not-installed` for catalog apps not installed).
    pub status: AppStatus,
    /// The prefix `/app/<prefix>/` serves its UI at, if it is proxied.
    pub proxy_prefix: Option<AppId>,
}

/// The dashboard listing every app and its state.
pub fn dashboard(rows: &[Row]) -> Reply {
    let mut body = String::from(
        "<table>\n<tr><th>App</th><th>State</th><th>Health</th><th>Started</th><th>UI</th></tr>\n",
    );
    for r in rows {
        let s = &r.status;
        let id = html_escape(s.id.as_str());
        let ui = match &r.proxy_prefix {
            Some(prefix) if s.state == AppState::Running => {
                format!(
                    "<a href=\"/app/{}/\">open</a>",
                    html_escape(prefix.as_str())
                )
            }
            _ => String::new(),
        };
        let health = serde_json::to_value(s.health)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let err = s
            .error
            .as_deref()
            .map(|e| format!(" ({})", html_escape(e)))
            .unwrap_or_default();
        body.push_str(&format!(
            "<tr id=\"app-{id}\"><td>{id}</td><td class=\"state\">{}{err}</td><td>{health}</td><td>{}</td><td>{ui}</td></tr>\n",
            s.state.as_str(),
            html_escape(s.started_at.as_deref().unwrap_or("")),
        ));
    }
    body.push_str("</table>\n");
    page(StatusCode::OK, "orchestrator", &body)
}

/// Whether a path segment is a usable app id.
pub fn app_id(segment: &str) -> Option<AppId> {
    AppId::parse(segment).ok()
}
