//! `explorer` mode (mirrors mempool): an HTML page and an API path, served behind
//! `/app/lab-explorer/`, so every link is relative.

use std::sync::Arc;

use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::client::{self, ChainUrl};
use crate::fault::Faults;
use crate::html;
use crate::http::{self, Request, Response};
use crate::rpc::Call;

/// Serves the explorer on `listener`, asking `chain` for the backend height, until the `exit`
/// fault.
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
        ("GET", "/") => Response::html(html::page(
            "lab-explorer",
            "<p>Backend: lab-chain</p>\n<p><a href=\"api/v1/backend-info\">api/v1/backend-info</a></p>",
        )),
        ("GET", "/api/v1/backend-info") => Response::json(&backend_info(&chain).await),
        ("POST", "/") => Response::json(&match Call::parse(&request.body) {
            Ok(call) if call.method == "getinfo" => {
                call.reply(json!({"name": "lab-explorer", "version": version}))
            }
            Ok(call) => call.unknown(),
            Err(refusal) => refusal,
        }),
        _ => Response::not_found(),
    }
}

async fn backend_info(chain: &ChainUrl) -> Value {
    let height = client::chain_height(chain).await.ok();
    json!({"backend": "lab-chain", "height": height})
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{
        bind, check_http_faults, get, rpc, scratch_dir, spawn_chain, unreachable_url, url,
    };

    #[tokio::test]
    async fn serves_page_api_and_getinfo() {
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, unreachable_url().await, "1", Faults::new()));
        assert_eq!(get(addr, "/healthz").await, (200, "ok".into()));
        let (status, page) = get(addr, "/").await;
        assert_eq!(status, 200);
        assert!(
            page.contains("href=\"api/v1/backend-info\"") && !page.contains("href=\"/"),
            "{page}"
        );
        let info = get(addr, "/api/v1/backend-info").await;
        assert_eq!(
            info,
            (200, r#"{"backend":"lab-chain","height":null}"#.into())
        );
        assert_eq!(
            rpc(addr, "getinfo").await["result"],
            json!({"name": "lab-explorer", "version": "1"})
        );
        task.abort();
    }

    #[tokio::test]
    async fn backend_info_has_chain_height() {
        let dir = scratch_dir("explorer");
        let (chain_addr, chain) = spawn_chain(&dir).await;
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, url(chain_addr), "1", Faults::new()));
        let (_, body) = get(addr, "/api/v1/backend-info?x=1").await;
        let info: Value = serde_json::from_str(&body).unwrap();
        assert!(info["height"].is_u64(), "{info}");
        task.abort();
        chain.abort();
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[tokio::test]
    async fn reports_its_version_and_obeys_faults() {
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, unreachable_url().await, "2", Faults::new()));
        assert_eq!(
            rpc(addr, "getinfo").await["result"],
            json!({"name": "lab-explorer", "version": "2"})
        );
        check_http_faults(addr, "/api/v1/backend-info", task).await;
    }
}
