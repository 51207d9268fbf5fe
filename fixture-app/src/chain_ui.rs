//! `chain-ui` mode (mirrors the bitcoin UI companion): a page on its own direct port showing
//! lab-chain's height.

use std::sync::Arc;

use serde_json::json;
use tokio::net::TcpListener;

use crate::client::{self, ChainUrl};
use crate::html;
use crate::http::{self, Request, Response};
use crate::rpc::Call;

/// Serves the UI on `listener`, asking `chain` for its height on each request.
pub async fn serve(listener: TcpListener, chain: ChainUrl) {
    let chain = Arc::new(chain);
    http::serve(listener, move |request| route(request, chain.clone())).await;
}

async fn route(request: Request, chain: Arc<ChainUrl>) -> Response {
    match (request.method.as_str(), request.path.as_str()) {
        ("GET", "/healthz") => Response::ok(),
        ("GET", "/") => Response::html(page(client::chain_height(&chain).await.ok())),
        ("POST", "/") => Response::json(&match Call::parse(&request.body) {
            Ok(call) if call.method == "getinfo" => {
                let height = client::chain_height(&chain).await.ok();
                call.reply(json!({"height": height}))
            }
            Ok(call) => call.unknown(),
            Err(refusal) => refusal,
        }),
        _ => Response::not_found(),
    }
}

fn page(height: Option<u64>) -> String {
    let height = height.map_or_else(|| "unavailable".to_string(), |h| h.to_string());
    html::page("lab-chain-ui", &format!("<p>Height: {height}</p>"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{bind, get, rpc, scratch_dir, spawn_chain, unreachable_url, url};

    #[tokio::test]
    async fn shows_unavailable_without_chain() {
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, unreachable_url().await));
        assert_eq!(get(addr, "/healthz").await, (200, "ok".into()));
        assert!(
            get(addr, "/")
                .await
                .1
                .contains("<p>Height: unavailable</p>")
        );
        assert_eq!(
            rpc(addr, "getinfo").await["result"],
            json!({"height": null})
        );
        task.abort();
    }

    #[tokio::test]
    async fn shows_chain_height() {
        let dir = scratch_dir("chain-ui");
        std::fs::write(dir.join("height"), "5").unwrap();
        let (chain_addr, chain) = spawn_chain(&dir).await;
        let (listener, addr) = bind().await;
        let task = tokio::spawn(serve(listener, url(chain_addr)));
        let height = rpc(addr, "getinfo").await["result"]["height"]
            .as_u64()
            .unwrap();
        assert!((5..=6).contains(&height), "{height}");
        let (_, page) = get(addr, "/").await;
        assert!(
            page.contains("<p>Height: 5</p>") || page.contains("<p>Height: 6</p>"),
            "{page}"
        );
        task.abort();
        chain.abort();
        std::fs::remove_dir_all(dir).unwrap();
    }
}
