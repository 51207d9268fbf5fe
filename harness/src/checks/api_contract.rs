//! `api-contract`: the deployed orchestrator's JSON-RPC contract, once per node and iteration.
//! Every method is refused without a session, with a made-up token and with a logged-out one;
//! malformed requests get their exact JSON-RPC error or HTTP status; `GET /metrics` needs a
//! session and has every family; and the app set is exactly as it was afterwards.

use serde_json::{Value, json};

use super::{CheckResult, NodeCtx};
use crate::{api::ErrorCode, model::Outcome};

/// Every method of the API; each must refuse a request without a valid session.
pub const METHODS: [&str; 11] = [
    "auth.logout",
    "container-list",
    "package.install",
    "package.start",
    "package.stop",
    "package.restart",
    "package.status",
    "package.uninstall",
    "package.update",
    "server.metrics",
    "server.reconcile",
];

/// What one malformed request must get: an HTTP status, and a JSON-RPC error code when 200.
#[derive(Debug, Clone, PartialEq)]
pub struct Expect {
    /// What the request is.
    pub what: &'static str,
    /// Its body.
    pub body: Vec<u8>,
    /// Sent with the session.
    pub session: bool,
    /// The HTTP status.
    pub status: u16,
    /// The JSON-RPC error code, when the status is 200.
    pub code: Option<ErrorCode>,
}

fn req(method: &str, params: Value) -> Vec<u8> {
    json!({"jsonrpc": "2.0", "id": 7, "method": method, "params": params})
        .to_string()
        .into_bytes()
}

/// The malformed requests and what each must get (all sent with a valid session unless said).
pub fn malformed() -> Vec<Expect> {
    let e = |what, body: Vec<u8>, code| Expect {
        what,
        body,
        session: true,
        status: 200,
        code: Some(code),
    };
    let mut out = vec![
        e(
            "malformed JSON",
            br#"{"jsonrpc": "2.0", "method": "#.to_vec(),
            ErrorCode::ParseError,
        ),
        e(
            "jsonrpc 1.0",
            br#"{"jsonrpc": "1.0", "id": 1, "method": "container-list"}"#.to_vec(),
            ErrorCode::InvalidRequest,
        ),
        e(
            "an array, not an object",
            br#"[1, 2]"#.to_vec(),
            ErrorCode::InvalidRequest,
        ),
        e(
            "unknown method",
            req("package.explode", json!({})),
            ErrorCode::MethodNotFound,
        ),
        e(
            "params not an object",
            req("package.status", json!(["lab-chain"])),
            ErrorCode::InvalidParams,
        ),
        e(
            "missing id param",
            req("package.status", json!({})),
            ErrorCode::InvalidParams,
        ),
        e(
            "id of the wrong type",
            req("package.status", json!({"id": 5})),
            ErrorCode::InvalidParams,
        ),
        e(
            "unknown param",
            req("package.status", json!({"id": "lab-chain", "force": true})),
            ErrorCode::InvalidParams,
        ),
    ];
    let long = "a".repeat(64);
    for method in [
        "package.install",
        "package.status",
        "package.uninstall",
        "package.stop",
    ] {
        for id in ["../x", "A", long.as_str(), ""] {
            out.push(e(
                "an id that is not an app id",
                req(method, json!({"id": id})),
                ErrorCode::InvalidParams,
            ));
        }
    }
    let mut big =
        br#"{"jsonrpc": "2.0", "id": 1, "method": "container-list", "params": {"pad": ""#.to_vec();
    big.extend(std::iter::repeat_n(b'x', 2 << 20));
    big.extend(br#""}}"#);
    out.push(Expect {
        what: "a 2 MiB body",
        body: big,
        session: true,
        status: 413,
        code: None,
    });
    out
}

/// Sends one request; `Err` names what it got instead.
async fn expect(ctx: &NodeCtx, e: &Expect, token: Option<&str>) -> CheckResult<()> {
    let (status, body) = ctx
        .http
        .raw_rpc(e.body.clone(), "application/json", token)
        .await?;
    let code = body
        .as_ref()
        .and_then(|b| b.pointer("/error/code"))
        .and_then(Value::as_i64)
        .map(ErrorCode::from_code);
    let ok = status == e.status && (e.code.is_none() || code == e.code);
    // Shown as the number that came, which is what a reader compares with the API's docs.
    let got = code.map(ErrorCode::code);
    ctx.note(&format!(
        "{}: HTTP {status}, code {got:?} ({})",
        e.what,
        if ok { "as expected" } else { "WRONG" }
    ));
    if ok {
        Ok(())
    } else {
        Err(Outcome::Fail(format!(
            "{}: expected HTTP {}{}, got HTTP {status}, code {got:?}",
            e.what,
            e.status,
            e.code.map(|c| format!(" code {c}")).unwrap_or_default()
        )))
    }
}

/// The installed apps with their states and containers, to prove nothing changed.
async fn app_set(ctx: &NodeCtx) -> CheckResult<Vec<String>> {
    Ok(ctx
        .list()
        .await?
        .apps
        .iter()
        .map(|a| {
            format!(
                "{} {} {}",
                a.id,
                a.state,
                a.container_id.as_deref().unwrap_or("")
            )
        })
        .collect())
}

/// The whole contract.
pub async fn api_contract(ctx: &NodeCtx) -> CheckResult<()> {
    let before = app_set(ctx).await?;
    let logged_out = ctx.http.fresh_token().await?;
    let params_of = |m: &str| {
        if m.starts_with("package.") {
            json!({"id": "lab-contract-probe"})
        } else {
            json!({})
        }
    };
    // A fresh session works until it is logged out, then never again.
    let (_, reply) = ctx
        .http
        .raw_rpc(
            req("container-list", json!({})),
            "application/json",
            Some(&logged_out),
        )
        .await?;
    if reply.as_ref().and_then(|r| r.get("result")).is_none() {
        return Err(Outcome::Fail(format!(
            "a fresh session cannot call container-list: {reply:?}"
        )));
    }
    ctx.http
        .raw_rpc(
            req("auth.logout", json!({})),
            "application/json",
            Some(&logged_out),
        )
        .await?;
    for method in METHODS {
        for (token, how) in [
            (None, "without a session"),
            (Some("not-a-session-token"), "with a made-up token"),
            (Some(logged_out.as_str()), "with a logged-out token"),
        ] {
            let e = Expect {
                what: "",
                body: req(method, params_of(method)),
                session: false,
                status: 200,
                code: Some(ErrorCode::Unauthorized),
            };
            expect(ctx, &e, token)
                .await
                .map_err(|o| Outcome::Fail(format!("{method} {how}: {}", o.message())))?;
        }
    }
    let session = ctx.http.session_token().await?;
    for e in malformed() {
        expect(ctx, &e, e.session.then_some(session.as_str())).await?;
    }
    metrics_scrape(ctx).await?;
    let after = app_set(ctx).await?;
    if after != before {
        return Err(Outcome::Fail(format!(
            "the app set changed: before {before:?}, after {after:?}"
        )));
    }
    Ok(())
}

/// The families `GET /metrics` must have.
pub const METRIC_FAMILIES: [&str; 6] = [
    "orchestrator_reconcile_tick_duration_seconds",
    "orchestrator_operation_duration_seconds",
    "orchestrator_reconcile_ticks",
    "orchestrator_commands",
    "orchestrator_apps",
    "orchestrator_startup_seconds",
];

/// `GET /metrics`: refused (401) without a session; with one, OpenMetrics text declaring every
/// family of [`METRIC_FAMILIES`] and ending with `# EOF`.
async fn metrics_scrape(ctx: &NodeCtx) -> CheckResult<()> {
    let (status, body) = ctx.http.get(None, "/metrics", false).await?;
    if status != 401 || body.contains("orchestrator_") {
        return Err(Outcome::Fail(format!(
            "GET /metrics without a session answered {status}, not 401"
        )));
    }
    let (status, body) = ctx.http.get(None, "/metrics", true).await?;
    ctx.note(&format!("GET /metrics -> {status}, {} bytes", body.len()));
    let missing: Vec<&str> = METRIC_FAMILIES
        .into_iter()
        .filter(|f| !body.lines().any(|l| l.starts_with(&format!("# TYPE {f} "))))
        .collect();
    if status != 200 || !missing.is_empty() || !body.ends_with("# EOF\n") {
        return Err(Outcome::Fail(format!(
            "GET /metrics answered {status}; families missing: {missing:?}; ends with # EOF: {}",
            body.ends_with("# EOF\n")
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_malformed_request_is_distinct_and_has_an_expectation() {
        let all = malformed();
        assert_eq!(all.len(), 8 + 16 + 1);
        assert!(all.iter().all(|e| (e.status == 200) == e.code.is_some()));
        let big = all.last().unwrap();
        assert_eq!((big.status, big.body.len() > 2 << 20), (413, true));
        assert!(METHODS.contains(&"package.update"));
    }
}
