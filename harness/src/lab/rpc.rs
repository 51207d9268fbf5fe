//! A minimal orchestrator client for `lab up`, `status` and `backend`: login and calls.
//!
//! Only ever used for addresses on the lab bridge, after the bridge is known to exist.

use std::{fs, time::Duration};

use serde_json::{Value, json};

use super::{
    LabError,
    layout::{LAB_INTERFACE, LabNode, password_file},
};

/// The orchestrator's port in every node.
pub const ORCHESTRATOR_PORT: u16 = 5678;

/// A logged-in session with one node's orchestrator.
pub struct Session {
    node: LabNode,
    client: reqwest::Client,
    runtime: tokio::runtime::Runtime,
    token: String,
}

fn err(node: &LabNode, method: &str, detail: impl ToString) -> LabError {
    LabError::Orchestrator {
        node: node.name.into(),
        method: method.into(),
        detail: detail.to_string(),
    }
}

impl Session {
    /// Logs in to the node's orchestrator with the lab password.
    pub fn login(node: &LabNode) -> Result<Self, LabError> {
        if !std::path::Path::new("/sys/class/net")
            .join(LAB_INTERFACE)
            .exists()
        {
            return Err(LabError::NodeDown {
                node: node.name.into(),
            });
        }
        let password = fs::read_to_string(password_file()).map_err(|e| LabError::Io {
            path: password_file().display().to_string(),
            detail: e.to_string(),
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| err(node, "auth.login", e))?;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .no_proxy()
            .build()
            .map_err(|e| err(node, "auth.login", e))?;
        let mut session = Self {
            node: *node,
            client,
            runtime,
            token: String::new(),
        };
        let reply = session.call("auth.login", json!({ "password": password.trim() }))?;
        session.token = reply["token"]
            .as_str()
            .ok_or_else(|| err(node, "auth.login", "no token in reply"))?
            .to_owned();
        Ok(session)
    }

    /// Calls `method`; returns its `result` or the JSON-RPC error as a `LabError`.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, LabError> {
        let url = format!("http://{}:{ORCHESTRATOR_PORT}/rpc", self.node.address);
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let mut request = self.client.post(url).json(&body);
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        let reply: Value = self
            .runtime
            .block_on(async { request.send().await?.json().await })
            .map_err(|e| err(&self.node, method, e))?;
        match reply.get("error") {
            Some(e) => Err(err(
                &self.node,
                method,
                e["message"].as_str().unwrap_or("?"),
            )),
            None => Ok(reply["result"].clone()),
        }
    }
}
