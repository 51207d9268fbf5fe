//! JSON-RPC 2.0 envelopes: parsing a call and building its reply or error.

use serde_json::{Value, json};

/// A well-formed call: its id and method name (params are not used by any mode).
#[derive(Debug, PartialEq)]
pub struct Call {
    /// The request id, echoed in the reply.
    pub id: Value,
    /// The method name.
    pub method: String,
}

impl Call {
    /// Parses a request body; `Err` is the error reply to send instead.
    pub fn parse(body: &[u8]) -> Result<Self, Value> {
        let request: Value =
            serde_json::from_slice(body).map_err(|_| error(Value::Null, -32700, "parse error"))?;
        let id = request.get("id").cloned().unwrap_or(Value::Null);
        match (
            request.get("jsonrpc"),
            request.get("method").and_then(Value::as_str),
        ) {
            (Some(version), Some(method)) if version == "2.0" => Ok(Self {
                id,
                method: method.to_string(),
            }),
            _ => Err(error(id, -32600, "invalid request")),
        }
    }

    /// The success reply carrying `result`.
    pub fn reply(self, result: Value) -> Value {
        json!({"jsonrpc": "2.0", "id": self.id, "result": result})
    }

    /// The "method not found" reply.
    pub fn unknown(self) -> Value {
        let message = format!("method not found: {}", self.method);
        error(self.id, -32601, &message)
    }
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The reply as JSON: objects compare whatever order serde_json keeps their keys in (a
    /// workspace build may turn on its `preserve_order`).
    fn json(text: &str) -> serde_json::Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn parses_a_call_and_replies() {
        let call = Call::parse(br#"{"jsonrpc":"2.0","id":7,"method":"getinfo"}"#).unwrap();
        assert_eq!(
            call,
            Call {
                id: json!(7),
                method: "getinfo".into()
            }
        );
        assert_eq!(
            call.reply(json!(1)),
            json(r#"{"id":7,"jsonrpc":"2.0","result":1}"#)
        );
    }

    #[test]
    fn refuses_bad_envelopes() {
        assert_eq!(
            Call::parse(b"{").unwrap_err(),
            json(r#"{"error":{"code":-32700,"message":"parse error"},"id":null,"jsonrpc":"2.0"}"#)
        );
        assert_eq!(
            Call::parse(br#"{"jsonrpc":"1.0","id":"a","method":"getinfo"}"#).unwrap_err(),
            json(
                r#"{"error":{"code":-32600,"message":"invalid request"},"id":"a","jsonrpc":"2.0"}"#
            )
        );
        let call = Call::parse(br#"{"jsonrpc":"2.0","id":1,"method":"nope"}"#).unwrap();
        assert_eq!(
            call.unknown(),
            json(
                r#"{"error":{"code":-32601,"message":"method not found: nope"},"id":1,"jsonrpc":"2.0"}"#
            )
        );
    }
}
