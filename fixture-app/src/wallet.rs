//! `wallet` mode (mirrors lnd): reports `ok` with lab-chain's height, or an error state
//! while lab-chain is unreachable, over JSON-RPC `getinfo` and an HTML page.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::client::{self, ChainUrl};
use crate::fault::Faults;
use crate::html;
use crate::http::{self, Request, Response};
use crate::rpc::Call;

/// Serves the wallet on `listener`, asking `chain` for its height on each request, until the
/// `exit` fault.
pub async fn serve(listener: TcpListener, chain: ChainUrl, version: &'static str, faults: Faults) {
    let chain = Arc::new(chain);
    http::serve(listener, faults, move |request| {
        route(request, chain.clone(), version)
    })
    .await;
}

async fn route(request: Request, chain: Arc<ChainUrl>, version: &str) -> Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/healthz") => Response::ok(),
        ("GET", "/") => Response::html(page(&state(&chain).await)),
        ("POST", "/") => Response::json(&match Call::parse(&request.body) {
            Ok(call) if call.method == "getinfo" => {
                let mut info = state(&chain).await;
                info["version"] = json!(version);
                call.reply(info)
            }
            Ok(call) => call.unknown(),
            Err(refusal) => refusal,
        }),
        _ => Response::not_found(),
    }
}

/// The wallet's state as `getinfo` reports it.
async fn state(chain: &ChainUrl) -> Value {
    match client::chain_height(chain).await {
        Ok(height) => json!({"state": "ok", "chain_height": height}),
        Err(e) => json!({"state": "error", "error": format!("lab-chain unreachable: {e}")}),
    }
}

fn page(state: &Value) -> String {
    let body = match (&state["chain_height"], state["error"].as_str()) {
        (Value::Number(height), _) => format!("<p>State: ok</p>\n<p>Chain height: {height}</p>"),
        (_, error) => format!(
            "<p>State: error</p>\n<p>{}</p>",
            html::escape(error.unwrap_or_default())
        ),
    };
    html::page("lab-wallet", &body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{
        bind, check_http_faults, get, rpc, scratch_dir, spawn_chain, unreachable_url, url,
    };

    #[test]
    fn page_shows_state() {
        assert!(
            page(&json!({"state": "ok", "chain_height": 7}))
                .contains("<p>State: ok</p>\n<p>Chain height: 7</p>")
        );
        let error = page(&json!({"state": "error", "error": "lab-chain unreachable: <x>"}));
        assert!(
            error.contains("<p>State: error</p>\n<p>lab-chain unreachable: &lt;x&gt;</p>"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn reports_error_while_chain_is_down_and_ok_when_up() {
        let (listener, addr) = bind().await;
        let down = tokio::spawn(serve(listener, unreachable_url().await, "1", Faults::new()));
        assert_eq!(get(addr, "/healthz").await, (200, "ok".into()));
        let info = rpc(addr, "getinfo").await["result"].clone();
        assert_eq!(info["state"], "error");
        assert_eq!(info["version"], "1");
        let error = info["error"].as_str().unwrap();
        assert!(
            error.starts_with("lab-chain unreachable: failed to connect to 127.0.0.1:"),
            "{error}"
        );
        assert!(get(addr, "/").await.1.contains("<p>State: error</p>"));
        down.abort();

        let dir = scratch_dir("wallet");
        let (chain_addr, chain) = spawn_chain(&dir).await;
        let (listener, addr) = bind().await;
        let up = tokio::spawn(serve(listener, url(chain_addr), "1", Faults::new()));
        let info = rpc(addr, "getinfo").await["result"].clone();
        assert_eq!(info["state"], "ok");
        assert!(info["chain_height"].is_u64(), "{info}");
        assert_eq!(info["version"], "1");
        assert!(get(addr, "/").await.1.contains("<p>State: ok</p>"));
        up.abort();
        chain.abort();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn reports_its_version_and_obeys_faults() {
        let dir = scratch_dir("wallet-faults");
        std::fs::write(dir.join("height"), "3").unwrap();
        let (chain_addr, chain) = spawn_chain(&dir).await;
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, url(chain_addr), "2", Faults::new()));
        let info = rpc(addr, "getinfo").await["result"].clone();
        assert!(
            info == json!({"state": "ok", "chain_height": 3, "version": "2"})
                || info == json!({"state": "ok", "chain_height": 4, "version": "2"}),
            "{info}"
        );
        check_http_faults(addr, "/", task).await;
        chain.abort();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
