//! The login form and the dashboard: the HTML an operator (and the harness UI layer) sees.
//!
//! The dashboard is rendered whole on the server, each app's state as text, so it reads without
//! JavaScript; `dashboard.js` adds the controls and keeps the rows current by polling the
//! JSON-RPC API with the session cookie. Elements carry stable ids and classes (`tr#app-<id>`,
//! `td.state`, `button.stop[data-app]`, `#logout`) for the browser tests.

use hyper::StatusCode;

use super::http::{Reply, html_escape, reply};
use crate::failpoints::Regression;
use crate::manifest::AppId;
use crate::status::{AppState, AppStatus};

const STYLE: &str = "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.3em .6em}.error{color:#b00}";

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

/// The buttons of a row, each calling `package.<op>` (`dashboard.js` decides which are enabled).
const OPS: [&str; 6] = ["install", "start", "stop", "restart", "update", "uninstall"];

/// The dashboard's script, served as `/dashboard.js` from the binary: nothing is loaded from
/// outside the node, and there is no build step.
const SCRIPT: &str = include_str!("dashboard.js");

/// The dashboard listing every app, its state and its controls.
pub fn dashboard(rows: &[Row]) -> Reply {
    let mut body = String::from(
        "<p><button type=\"button\" id=\"logout\">Log out</button> <span id=\"status\"></span></p>\n<table>\n<tr><th>App</th><th>State</th><th>Health</th><th>Started</th><th>Reason</th><th>UI</th><th>Actions</th><th>Error</th></tr>\n",
    );
    for r in rows {
        body.push_str(&row(r));
    }
    body.push_str("</table>\n<script src=\"/dashboard.js\"></script>\n");
    page(StatusCode::OK, "orchestrator", &body)
}

/// One app's `<tr>`: the cells and buttons `dashboard.js` updates and a browser test finds.
fn row(r: &Row) -> String {
    let s = &r.status;
    let id = html_escape(s.id.as_str());
    // The link's target stays on the cell, so the script can show the link once the app runs.
    let (href, ui) = match &r.proxy_prefix {
        Some(prefix) => {
            let href = format!("/app/{}/", html_escape(prefix.as_str()));
            let open = (s.state == AppState::Running)
                .then(|| format!("<a class=\"open\" href=\"{href}\">open</a>"));
            (format!(" data-href=\"{href}\""), open.unwrap_or_default())
        }
        None => (String::new(), String::new()),
    };
    let health = serde_json::to_value(s.health)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let reason = html_escape(s.reason.as_deref().or(s.error.as_deref()).unwrap_or(""));
    let buttons: String = OPS
        .iter()
        .map(|op| {
            format!("<button type=\"button\" class=\"{op}\" data-app=\"{id}\">{op}</button> ")
        })
        .collect();
    format!(
        "<tr id=\"app-{id}\"><td>{id}</td><td class=\"state\">{}</td><td class=\"health\">{health}</td><td class=\"started\">{}</td><td class=\"reason\">{reason}</td><td class=\"ui\"{href}>{ui}</td><td class=\"actions\">{buttons}<label><input type=\"checkbox\" class=\"purge\" data-app=\"{id}\"> also delete its data</label></td><td class=\"error\"></td></tr>\n",
        s.state.as_str(),
        html_escape(s.started_at.as_deref().unwrap_or("")),
    )
}

/// `GET /dashboard.js`; public, as it holds no secret.
pub fn script() -> Reply {
    if Regression::DashboardWrongMethod.active() {
        let wrong = SCRIPT.replace(
            WHICH_OP,
            "const op = button.className.replace('stop', 'restart');",
        );
        return reply(StatusCode::OK, "text/javascript; charset=utf-8", wrong);
    }
    reply(StatusCode::OK, "text/javascript; charset=utf-8", SCRIPT)
}

/// The script's line choosing a button's method, which the dashboard regression rewires.
const WHICH_OP: &str = "const op = button.className;";

/// Whether a path segment is a usable app id.
pub fn app_id(segment: &str) -> Option<AppId> {
    AppId::parse(segment).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::HealthState;

    fn status(id: &str, state: AppState) -> AppStatus {
        AppStatus {
            state,
            ..AppStatus::not_installed(AppId::parse(id).unwrap(), String::new())
        }
    }

    const BUTTONS: &str = "<button type=\"button\" class=\"install\" data-app=\"ID\">install</button> <button type=\"button\" class=\"start\" data-app=\"ID\">start</button> <button type=\"button\" class=\"stop\" data-app=\"ID\">stop</button> <button type=\"button\" class=\"restart\" data-app=\"ID\">restart</button> <button type=\"button\" class=\"update\" data-app=\"ID\">update</button> <button type=\"button\" class=\"uninstall\" data-app=\"ID\">uninstall</button> <label><input type=\"checkbox\" class=\"purge\" data-app=\"ID\"> also delete its data</label>";

    #[test]
    fn the_script_chooses_the_method_on_one_line_the_regression_rewires() {
        assert_eq!(SCRIPT.matches(WHICH_OP).count(), 1);
        assert!(SCRIPT.contains("await rpc(`package.${op}`, params);"));
    }

    #[cfg(feature = "failpoints")]
    #[test]
    fn the_dashboard_regression_wires_stop_to_restart_and_nothing_else() {
        use http_body_util::BodyExt;
        let body = |r: Reply| {
            let bytes = futures_lite(r.into_body().collect()).unwrap().to_bytes();
            String::from_utf8(bytes.to_vec()).unwrap()
        };
        let _alone = fail::FailScenario::setup();
        assert_eq!(body(script()), SCRIPT);
        fail::cfg(Regression::DashboardWrongMethod.name(), "return").unwrap();
        assert_eq!(
            body(script()),
            SCRIPT.replace(
                "const op = button.className;",
                "const op = button.className.replace('stop', 'restart');"
            )
        );
    }

    /// Polls a future that is ready at once (a full body in memory).
    #[cfg(feature = "failpoints")]
    fn futures_lite<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let waker = std::task::Waker::noop();
        match f.as_mut().poll(&mut std::task::Context::from_waker(waker)) {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => panic!("a full body is ready at once"),
        }
    }

    #[test]
    fn the_script_knows_every_button_cell_and_element_the_page_has() {
        for op in OPS {
            assert!(SCRIPT.contains(&format!("\n  {op}: (s) =>")), "CAN.{op}");
            assert!(SCRIPT.contains(&format!("\n  {op}: '")), "DOING.{op}");
        }
        for class in ["state", "health", "started", "reason", "ui", "error"] {
            assert!(
                SCRIPT.contains(&format!("cell(row, '{class}')")),
                "td.{class}"
            );
        }
        for id in ["status", "logout"] {
            assert!(SCRIPT.contains(&format!("getElementById('{id}')")), "#{id}");
        }
    }

    #[test]
    fn a_row_has_the_state_as_text_and_the_hooks_the_script_uses() {
        let running = AppStatus {
            health: HealthState::Degraded,
            started_at: Some("2026-11-30T10:00:00Z".into()),
            reason: Some("requires db, which is not running".into()),
            ..status("web", AppState::Running)
        };
        let web = AppId::parse("web").ok();
        assert_eq!(
            row(&Row {
                status: running,
                proxy_prefix: web.clone()
            }),
            format!(
                "<tr id=\"app-web\"><td>web</td><td class=\"state\">running</td><td class=\"health\">degraded</td><td class=\"started\">2026-11-30T10:00:00Z</td><td class=\"reason\">requires db, which is not running</td><td class=\"ui\" data-href=\"/app/web/\"><a class=\"open\" href=\"/app/web/\">open</a></td><td class=\"actions\">{}</td><td class=\"error\"></td></tr>\n",
                BUTTONS.replace("ID", "web")
            )
        );
        // Not running: no link yet, but its target is on the cell for when it runs.
        assert_eq!(
            row(&Row {
                status: status("web", AppState::Stopped),
                proxy_prefix: web
            }),
            format!(
                "<tr id=\"app-web\"><td>web</td><td class=\"state\">stopped</td><td class=\"health\">unknown</td><td class=\"started\"></td><td class=\"reason\"></td><td class=\"ui\" data-href=\"/app/web/\"></td><td class=\"actions\">{}</td><td class=\"error\"></td></tr>\n",
                BUTTONS.replace("ID", "web")
            )
        );
        let invalid = AppStatus {
            error: Some("bad <unit>".into()),
            ..status("db", AppState::Invalid)
        };
        assert_eq!(
            row(&Row {
                status: invalid,
                proxy_prefix: None
            }),
            format!(
                "<tr id=\"app-db\"><td>db</td><td class=\"state\">invalid</td><td class=\"health\">unknown</td><td class=\"started\"></td><td class=\"reason\">bad &lt;unit&gt;</td><td class=\"ui\"></td><td class=\"actions\">{}</td><td class=\"error\"></td></tr>\n",
                BUTTONS.replace("ID", "db")
            )
        );
    }
}
