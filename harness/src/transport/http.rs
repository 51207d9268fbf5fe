//! HTTP to a node: one reqwest client per node, the orchestrator's JSON-RPC with a session
//! (login once per node and iteration, again only when the orchestrator says unauthorized), typed
//! calls that check a result into the `api` model, plain GETs and app JSON-RPC for probes. Every
//! request passes the route guard first, and with a lab interface the client's sockets are bound
//! to it.

use std::{net::IpAddr, time::Duration};

use serde_json::{Value, json};
use tokio::sync::Mutex;

use super::{RouteGuard, TransportError};
use crate::{
    api::{AppList, AppStatus, CallError, ErrorCode, FromReply, ReplyError},
    fleet::Redactor,
    model::AppId,
};

/// A JSON-RPC answer: a result (raw JSON, or checked into an `api` type), or an application
/// error (a product answer, not a transport one).
#[derive(Debug, Clone, PartialEq)]
pub enum RpcReply<T = Value> {
    /// `result`.
    Ok(T),
    /// `error`.
    Err {
        /// The code (unauthorized, not installed, ...).
        code: ErrorCode,
        /// The message.
        message: String,
    },
}

impl RpcReply {
    /// The result of `method` checked into `T`; an error stays the same error.
    pub fn parse<T: FromReply>(self, method: &str) -> Result<RpcReply<T>, ReplyError> {
        match self {
            RpcReply::Ok(v) => T::from_reply(method, &v).map(RpcReply::Ok),
            RpcReply::Err { code, message } => Ok(RpcReply::Err { code, message }),
        }
    }
}

/// HTTP access to one node.
pub struct HttpClient {
    node: String,
    host: IpAddr,
    port: u16,
    /// Built once; a build failure is reported by every request, never replaced by a client
    /// without the proxy and interface settings.
    client: Result<reqwest::Client, String>,
    password: String,
    token: Mutex<Option<String>>,
    guard: RouteGuard,
    redactor: Redactor,
    timeout: Duration,
}

impl HttpClient {
    /// A client for the orchestrator at `host:port`; the password is registered for redaction.
    pub fn new(
        node: &str,
        host: IpAddr,
        port: u16,
        password: String,
        timeout: Duration,
        guard: RouteGuard,
        redactor: Redactor,
    ) -> Self {
        redactor.register(&password);
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(5)))
            .redirect(reqwest::redirect::Policy::none())
            // The orchestrator closes a keep-alive connection idle for 10 s; dropping ours well
            // before that means a request never goes out on a connection the server is closing.
            .pool_idle_timeout(Duration::from_secs(4))
            // A proxy from the environment would carry lab traffic off the lab's own link.
            .no_proxy();
        if let Some(iface) = &guard.lab_interface {
            // SO_BINDTODEVICE: the guard checked the route; this keeps every socket on the link.
            builder = builder.interface(iface);
        }
        let client = builder.build().map_err(|e| e.to_string());
        Self {
            node: node.to_owned(),
            host,
            port,
            client,
            password,
            token: Mutex::new(None),
            guard,
            redactor,
            timeout,
        }
    }

    fn client(&self) -> Result<&reqwest::Client, TransportError> {
        self.client.as_ref().map_err(|e| TransportError::Http {
            node: self.node.clone(),
            reason: format!("failed to build the HTTP client: {e}"),
        })
    }

    fn url(&self, port: u16, path: &str) -> String {
        let host = match self.host {
            IpAddr::V6(v6) => format!("[{v6}]"),
            IpAddr::V4(v4) => v4.to_string(),
        };
        format!("http://{host}:{port}{path}")
    }

    fn http_err(&self, e: reqwest::Error) -> TransportError {
        let reason = self.redactor.redact(&format!(
            "{e}{}",
            std::error::Error::source(&e)
                .map(|s| format!(": {s}"))
                .unwrap_or_default()
        ));
        if e.is_timeout() {
            TransportError::Timeout {
                node: self.node.clone(),
                secs: self.timeout.as_secs(),
                what: reason,
            }
        } else {
            TransportError::Http {
                node: self.node.clone(),
                reason,
            }
        }
    }

    async fn post_rpc(
        &self,
        port: u16,
        path: &str,
        method: &str,
        params: Value,
        token: Option<&str>,
    ) -> Result<RpcReply, TransportError> {
        self.guard.check(self.host)?;
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut req = self.client()?.post(self.url(port, path)).json(&body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| self.http_err(e))?;
        let status = resp.status();
        let text = resp.text().await.map_err(|e| self.http_err(e))?;
        let v: Value = serde_json::from_str(&text).map_err(|_| TransportError::Http {
            node: self.node.clone(),
            reason: self.redactor.redact(&format!(
                "{method}: HTTP {status} without a JSON-RPC body: {}",
                text.chars().take(200).collect::<String>()
            )),
        })?;
        if let Some(err) = v.get("error") {
            return Ok(RpcReply::Err {
                code: ErrorCode::from_code(err.get("code").and_then(Value::as_i64).unwrap_or(0)),
                message: self
                    .redactor
                    .redact(err.get("message").and_then(Value::as_str).unwrap_or("")),
            });
        }
        Ok(RpcReply::Ok(
            v.get("result").cloned().unwrap_or(Value::Null),
        ))
    }

    /// Logs in (`auth.login`) as the shared session; a refusal is a `Login` transport error (the
    /// case cannot run).
    pub async fn login(&self) -> Result<(), TransportError> {
        let token = self.fresh_token().await?;
        *self.token.lock().await = Some(token);
        Ok(())
    }

    /// A login of its own, apart from the shared session (to log out or expire without
    /// disturbing other checks); the token is registered for redaction.
    pub async fn fresh_token(&self) -> Result<String, TransportError> {
        let reply = self
            .post_rpc(
                self.port,
                "/rpc",
                "auth.login",
                json!({"password": self.password}),
                None,
            )
            .await?;
        let login_err = |reason: String| TransportError::Login {
            node: self.node.clone(),
            reason,
        };
        match reply {
            RpcReply::Ok(v) => {
                let token = v
                    .get("token")
                    .and_then(Value::as_str)
                    .ok_or_else(|| login_err("no token in the reply".into()))?;
                self.redactor.register(token);
                Ok(token.to_owned())
            }
            RpcReply::Err { code, message } => Err(login_err(format!("{code} {message}"))),
        }
    }

    /// A raw `POST /rpc` with exactly `body` and `content_type`, with `token` as bearer when set:
    /// the HTTP status and the body as JSON (`None` when it is not JSON). For the API contract.
    pub async fn raw_rpc(
        &self,
        body: Vec<u8>,
        content_type: &str,
        token: Option<&str>,
    ) -> Result<(u16, Option<Value>), TransportError> {
        self.guard.check(self.host)?;
        let mut req = self
            .client()?
            .post(self.url(self.port, "/rpc"))
            .header("Content-Type", content_type)
            .body(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.map_err(|e| self.http_err(e))?;
        let status = resp.status().as_u16();
        let text = resp.text().await.map_err(|e| self.http_err(e))?;
        Ok((status, serde_json::from_str(&text).ok()))
    }

    /// Forgets the session so the next call logs in again (a new iteration).
    pub async fn reset_session(&self) {
        *self.token.lock().await = None;
    }

    /// The shared session's token, logging in first when there is none.
    pub async fn session_token(&self) -> Result<String, TransportError> {
        self.token().await
    }

    async fn token(&self) -> Result<String, TransportError> {
        if self.token.lock().await.is_none() {
            self.login().await?;
        }
        Ok(self.token.lock().await.clone().unwrap_or_default())
    }

    /// Calls an orchestrator method with the session; logs in again once when unauthorized.
    pub async fn call(&self, method: &str, params: Value) -> Result<RpcReply, TransportError> {
        let token = self.token().await?;
        match self
            .post_rpc(self.port, "/rpc", method, params.clone(), Some(&token))
            .await?
        {
            RpcReply::Err {
                code: ErrorCode::Unauthorized,
                ..
            } => {
                self.login().await?;
                let token = self.token().await?;
                self.post_rpc(self.port, "/rpc", method, params, Some(&token))
                    .await
            }
            other => Ok(other),
        }
    }

    /// Calls an orchestrator method and checks its result into `T`: a reply that breaks the
    /// contract is a `CallError::Reply`, kept apart from a node that could not be reached.
    pub async fn call_as<T: FromReply>(
        &self,
        method: &str,
        params: Value,
    ) -> Result<RpcReply<T>, CallError> {
        Ok(self.call(method, params).await?.parse(method)?)
    }

    /// `package.status` of `app`.
    pub async fn status(&self, app: &AppId) -> Result<RpcReply<AppStatus>, CallError> {
        self.call_as("package.status", json!({"id": app.as_str()}))
            .await
    }

    /// `container-list`: every installed app.
    pub async fn list(&self) -> Result<RpcReply<AppList>, CallError> {
        self.call_as("container-list", json!({})).await
    }

    /// A JSON-RPC call straight to an app's port (no session).
    pub async fn app_rpc(
        &self,
        port: u16,
        path: &str,
        method: &str,
    ) -> Result<RpcReply, TransportError> {
        self.post_rpc(port, path, method, json!({}), None).await
    }

    /// `GET` on the orchestrator (with the session when `session`) or, with `port`, on an app.
    pub async fn get(
        &self,
        port: Option<u16>,
        path: &str,
        session: bool,
    ) -> Result<(u16, String), TransportError> {
        self.guard.check(self.host)?;
        let mut req = self
            .client()?
            .get(self.url(port.unwrap_or(self.port), path));
        if session {
            let token = self.token().await?;
            req = req
                .bearer_auth(&token)
                .header("Cookie", format!("orchestrator_session={token}"));
        }
        let resp = req.send().await.map_err(|e| self.http_err(e))?;
        let status = resp.status().as_u16();
        let body = resp.text().await.map_err(|e| self.http_err(e))?;
        Ok((status, body))
    }
}
