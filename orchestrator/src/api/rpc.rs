//! JSON-RPC 2.0: request validation, session check, dispatch, and error codes (README "Lifecycle semantics").

use std::net::IpAddr;

use hyper::header::HeaderMap;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::http::session_token;
use super::server::Api;
use crate::error::{Error, Result};
use crate::manifest::AppId;
use crate::ops::Op;
use crate::time::rfc3339;

/// Parse error.
pub const PARSE_ERROR: i64 = -32700;
/// Invalid request.
pub const INVALID_REQUEST: i64 = -32600;
/// Method not found.
pub const METHOD_NOT_FOUND: i64 = -32601;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    password: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Empty {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct App {
    id: AppId,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Stop {
    id: AppId,
    #[serde(default)]
    cascade: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Uninstall {
    id: AppId,
    #[serde(default)]
    purge: bool,
    #[serde(default)]
    cascade: bool,
}

/// An error response body.
pub fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// The error response body for `e`, with its `data` when it has some.
fn error_of(id: Value, e: &Error) -> Value {
    let mut v = error(id, e.rpc_code(), &e.to_string());
    if let Some(data) = e.rpc_data() {
        v["error"]["data"] = data;
    }
    v
}

/// Answers one request body; `None` means a notification (no response body).
pub async fn handle(api: &Api, headers: &HeaderMap, body: &[u8], client: IpAddr) -> Option<Value> {
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return Some(error(Value::Null, PARSE_ERROR, "parse error"));
    };
    let Some(obj) = req.as_object() else {
        return Some(error(
            Value::Null,
            INVALID_REQUEST,
            "invalid request: expected one JSON object",
        ));
    };
    let id = obj.get("id").cloned();
    if !matches!(
        id,
        None | Some(Value::Null | Value::String(_) | Value::Number(_))
    ) {
        return Some(error(
            Value::Null,
            INVALID_REQUEST,
            "invalid request: id must be a string, number or null",
        ));
    }
    let reply_id = id.clone().unwrap_or(Value::Null);
    let (Some("2.0"), Some(method)) = (
        obj.get("jsonrpc").and_then(Value::as_str),
        obj.get("method").and_then(Value::as_str),
    ) else {
        return Some(error(
            reply_id,
            INVALID_REQUEST,
            "invalid request: need jsonrpc \"2.0\" and a method string",
        ));
    };
    let params = obj.get("params").cloned().unwrap_or_else(|| json!({}));
    let token = session_token(headers);
    let result = if !params.is_object() {
        Err(Some(Error::InvalidParams(
            "params must be an object".into(),
        )))
    } else if method != "auth.login" && !token.as_deref().is_some_and(|t| api.sessions.check(t)) {
        Err(Some(Error::Unauthorized))
    } else {
        call(api, method, params, token.as_deref(), client).await
    };
    id.as_ref()?;
    Some(match result {
        Ok(v) => json!({ "jsonrpc": "2.0", "id": reply_id, "result": v }),
        Err(None) => error(
            reply_id,
            METHOD_NOT_FOUND,
            &format!("method not found: {method}"),
        ),
        Err(Some(e)) => error_of(reply_id, &e),
    })
}

fn params<T: DeserializeOwned>(v: Value) -> Result<T> {
    serde_json::from_value(v).map_err(|e| Error::InvalidParams(e.to_string()))
}

/// Runs a method; `Err(None)` is an unknown method.
async fn call(
    api: &Api,
    method: &str,
    p: Value,
    token: Option<&str>,
    client: IpAddr,
) -> Result<Value, Option<Error>> {
    let core = &api.core;
    fn to_json(v: impl serde::Serialize) -> Result<Value> {
        serde_json::to_value(v).map_err(|e| Error::Internal(e.to_string()))
    }
    let r = match method {
        "auth.login" => login(api, params::<Login>(p)?.password, client).await,
        "auth.logout" => params::<Empty>(p).map(|_| {
            token.into_iter().for_each(|t| api.sessions.close(t));
            Value::Bool(true)
        }),
        "container-list" => {
            params::<Empty>(p)?;
            core.list().await.map(|apps| json!({ "apps": apps }))
        }
        "package.install" => core.install(&params::<App>(p)?.id).await.and_then(to_json),
        "package.update" => core.update(&params::<App>(p)?.id).await.and_then(to_json),
        "package.start" => core
            .operate(Op::Start, &params::<App>(p)?.id, false)
            .await
            .and_then(to_json),
        "package.stop" => {
            let s = params::<Stop>(p)?;
            core.operate(Op::Stop, &s.id, s.cascade)
                .await
                .and_then(to_json)
        }
        "package.restart" => core
            .operate(Op::Restart, &params::<App>(p)?.id, false)
            .await
            .and_then(to_json),
        "package.status" => core.status(&params::<App>(p)?.id).await.and_then(to_json),
        "package.uninstall" => {
            let u = params::<Uninstall>(p)?;
            core.uninstall(&u.id, u.purge, u.cascade)
                .await
                .and_then(to_json)
        }
        "server.metrics" => params::<Empty>(p).map(|_| core.metrics()),
        "server.reconcile" => {
            params::<Empty>(p)?;
            core.reconcile_now().await
        }
        _ => return Err(None),
    };
    r.map_err(Some)
}

/// Checks the password through the login gate (limits, its own hashing pool) and opens a session.
async fn login(api: &Api, password: String, client: IpAddr) -> Result<Value> {
    api.login
        .check("auth.login", client, &api.password, password)
        .await?;
    let s = api.sessions.open()?;
    Ok(
        json!({ "token": s.token, "expires_at": rfc3339(s.expires_at), "expires_in_secs": api.sessions.ttl().as_secs() }),
    )
}
