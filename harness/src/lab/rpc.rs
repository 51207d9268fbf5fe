//! The lab's orchestrator session for `lab up`, `status` and `backend`: the harness's own
//! `HttpClient` (route guard, redaction, re-login) driven from blocking lab code.

use std::{fs, time::Duration};

use serde_json::Value;

use super::{
    LabError,
    layout::{self, LabNode, password_file},
};
use crate::{
    fleet::Redactor,
    transport::{HttpClient, RpcReply},
};

/// The orchestrator's port in every node.
pub const ORCHESTRATOR_PORT: u16 = 5678;

/// How long one call may take: an uninstall waits for systemd to stop the app, and an app
/// still starting when the call comes makes that stop wait for the start first.
const CALL_BUDGET: Duration = Duration::from_secs(120);

/// A logged-in session with one node's orchestrator.
pub struct Session {
    node: LabNode,
    http: HttpClient,
    runtime: tokio::runtime::Runtime,
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
        let password = fs::read_to_string(password_file()).map_err(|e| LabError::Io {
            path: password_file().display().to_string(),
            detail: e.to_string(),
        })?;
        let address = node.address.parse().map_err(|_| LabError::UnknownNode {
            name: node.name.into(),
        })?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| err(node, "auth.login", e))?;
        let http = HttpClient::new(
            node.name,
            address,
            ORCHESTRATOR_PORT,
            password.trim().to_owned(),
            CALL_BUDGET,
            layout::guard(),
            Redactor::default(),
        );
        runtime
            .block_on(http.login())
            .map_err(|e| err(node, "auth.login", e))?;
        Ok(Self {
            node: *node,
            http,
            runtime,
        })
    }

    /// Calls `method`; returns its `result` or the JSON-RPC error as a `LabError`.
    pub fn call(&self, method: &str, params: Value) -> Result<Value, LabError> {
        match self.runtime.block_on(self.http.call(method, params)) {
            Ok(RpcReply::Ok(v)) => Ok(v),
            Ok(RpcReply::Err { code, message }) => {
                Err(err(&self.node, method, format!("{code} {message}")))
            }
            Err(e) => Err(err(&self.node, method, e)),
        }
    }
}
